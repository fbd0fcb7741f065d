"""``python -m tekton_codemods`` runs the ``tekton-migrate`` command line."""

import sys

from .cli import main

sys.exit(main())
