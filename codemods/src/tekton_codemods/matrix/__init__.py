"""The component matrix: a component tested before and after ``tekton-migrate``, with parity per test id.

``nox -s components`` runs ``python -m tekton_codemods.matrix run`` once per component and Python, inside the
session's virtualenv. The pieces are usable on their own: requirement files read with their origins
(``read_requirements``), the install plan that keeps heavy stacks out (``build_plan``), JUnit results
(``read_junit``) and the comparison (``compare``).
"""

from ._config import DEFAULT_EXCLUDED, ComponentSettings, MatrixConfigError, load_settings
from ._plan import Dropped, InstallPlan, PlanError, Provided, build_plan, find_local_packages, parse_provide
from ._requirements import Requirement, RequirementFileError, RequirementSet, normalize, read_requirements
from ._results import Parity, ResultsError, TestResult, compare, missing_modules, read_junit
from ._run import CellOptions, CellResult, MatrixError, copy_tree, locked_names, run_cell

__all__ = [
    "DEFAULT_EXCLUDED",
    "CellOptions",
    "CellResult",
    "ComponentSettings",
    "Dropped",
    "InstallPlan",
    "MatrixConfigError",
    "MatrixError",
    "Parity",
    "PlanError",
    "Provided",
    "Requirement",
    "RequirementFileError",
    "RequirementSet",
    "ResultsError",
    "TestResult",
    "build_plan",
    "compare",
    "copy_tree",
    "find_local_packages",
    "load_settings",
    "locked_names",
    "missing_modules",
    "normalize",
    "parse_provide",
    "read_junit",
    "read_requirements",
    "run_cell",
]
