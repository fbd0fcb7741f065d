"""Replacing a file so that a reader (or a crash) sees either the old bytes or the new, never a mix.

The new content goes to a temporary file in the same directory (same filesystem, so the final rename is
atomic), is flushed to disk, gets the original's permission bits, and only then replaces the original.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path


class ConcurrentChangeError(OSError):
    """The file changed on disk after it was read; writing would lose someone else's edit."""


def atomic_write(path: Path, data: bytes, *, expected: bytes | None = None) -> None:
    """Write ``data`` to ``path`` atomically, keeping its mode (and owner when permitted).

    With ``expected``, refuse to replace a file whose current bytes differ from it.
    """
    info = os.stat(path)
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tekton-migrate")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp_name, stat.S_IMODE(info.st_mode))
        if hasattr(os, "chown"):
            with contextlib.suppress(OSError):  # only root may give a file away; keep what we can
                os.chown(temp_name, info.st_uid, info.st_gid)
        if expected is not None and path.read_bytes() != expected:
            raise ConcurrentChangeError(f"{path} changed while it was being migrated")
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise
