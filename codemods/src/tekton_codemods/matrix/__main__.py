"""``python -m tekton_codemods.matrix``: see ``tekton_codemods.matrix._cli``."""

import sys

from ._cli import main

sys.exit(main())
