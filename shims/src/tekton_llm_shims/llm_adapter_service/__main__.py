"""``python -m tekton_llm_shims.llm_adapter_service --host 127.0.0.1 --port 8300 [--ws-port 8301]``."""

from .server import main

raise SystemExit(main())
