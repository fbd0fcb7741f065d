"""Star imports: a legacy module's star import stays (reported), since it binds whatever the module defines —
its own imports, constants, logger — and a shim exports other names; a star import of a module inside a mapped
package (which moves whole) moves."""

from __future__ import annotations

import pytest

STAYS = {
    "absolute": ("from hermes.core.llm_adapter import *\n", "app.sub", "hermes"),
    "relative-re-export": ("from .llm_adapter import *  # re-export\n", "telos.core", "telos"),
    "nested-in-a-conditional": ("if True:\n    from engram.core.llm_adapter import *\n", "app.sub", "engram"),
}


@pytest.mark.parametrize(("source", "package", "component"), list(STAYS.values()), ids=list(STAYS))
def test_star_import_of_a_legacy_module_stays_and_is_reported(
    migrate, source: str, package: str, component: str
) -> None:
    result = migrate(source, package)
    assert result.text == source
    assert result.run.code == 0
    assert (
        f"left on {component}.core.llm_adapter: * (a star import binds whatever the module defines; "
        f"import from tekton_llm_shims.{component} by name)" in result.run.err
    )


def test_star_import_inside_a_package_that_moves_whole_moves(migrate) -> None:
    result = migrate("from oldpkg.sub import *\n", "app.sub", "mod.py", "--map", "oldpkg=newpkg")
    assert result.text == "from newpkg.sub import *\n"
    assert result.run.code == 0


def test_star_from_a_non_legacy_module_is_untouched(migrate) -> None:
    source = "from .llm_adapter_helpers import *\nfrom . import llm_adapter_tools\n"
    assert migrate(source, "terma.core").text == source
