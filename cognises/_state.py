"""Writing the group document back to disk so that a crash never leaves half a file.

The text goes to a temporary file in the target's own directory (``os.replace`` is only
atomic within one file system), is flushed to the disk, and then replaces the target in
one step: a reader sees the old document or the new one, never a mix.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["write_json_atomic"]


def write_json_atomic(path: str | os.PathLike[str], document: Any) -> Path:
    """Write ``document`` as JSON to ``path`` atomically; return the path written."""
    target = Path(path)
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    directory = target.parent
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        mode = 0o644
    fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp makes the file private; keep the mode the document already had.
        os.chmod(temp_name, mode)
        os.replace(temp_name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise
    _fsync_directory(directory)
    return target


def _fsync_directory(directory: Path) -> None:
    # The rename itself is durable only once the directory entry is on disk. Windows
    # cannot open a directory this way; there the replace is the best we can do.
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
