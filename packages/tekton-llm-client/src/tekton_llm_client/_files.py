"""Files the client writes: replaced atomically, and a bad file kept aside instead of overwritten.

One home for both, because a conversation file or an encoding copy that is half-written after a crash, or
silently replaced while it still holds someone's data, loses something nobody can get back.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from datetime import datetime, timezone
from pathlib import Path

__all__ = ["atomic_write", "keep_aside"]


def atomic_write(
    path: str | os.PathLike[str], data: bytes | str, *, encoding: str = "utf-8", new_mode: int = 0o600
) -> None:
    """Replace ``path`` with ``data`` so that a reader or a crash sees the old content or the new, never a mix.

    The data goes to a temporary file in the same directory (so the final rename stays on one filesystem), is
    flushed to disk, gets the replaced file's permission bits (a new file gets ``new_mode``, private by default),
    and only then takes the file's place; the directory entry is flushed too where the platform allows it. On any
    failure the temporary file is removed and the original is untouched. The directory must exist.
    """
    target = Path(path)
    payload = data.encode(encoding) if isinstance(data, str) else data
    fd, temp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            mode = stat.S_IMODE(os.stat(target).st_mode)
        except FileNotFoundError:
            mode = new_mode
        os.chmod(temp_name, mode)
        os.replace(temp_name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise
    _sync_directory(target.parent)


def _sync_directory(directory: Path) -> None:
    """Make the rename itself durable (POSIX); platforms that cannot open a directory skip it."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def keep_aside(path: str | os.PathLike[str], reason: str = "corrupt") -> Path:
    """Rename ``path`` to ``<name>.<reason>-<UTC timestamp>`` beside it and return the new path.

    The timestamp makes the name unique per second; a counter is added when that name is taken. Raises
    ``OSError`` when the rename fails (the file is then still where it was).
    """
    source = Path(path)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    for number in range(1000):
        suffix = f"-{number}" if number else ""
        target = source.with_name(f"{source.name}.{reason}-{stamp}{suffix}")
        if target.exists():
            continue
        source.rename(target)
        return target
    raise FileExistsError(f"no free name to keep {source.name} aside")
