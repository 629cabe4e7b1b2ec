"""Writing the group document back to disk so that a crash never leaves half a file.

The text goes to a temporary file in the target's own directory (``os.replace`` is only
atomic within one file system), is flushed to the disk, and then replaces the target in
one step: a reader sees the old document or the new one, never a mix. Whether that can
work at all is checked before a run starts (``check_state_path``), not after its changes.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import stat
from pathlib import Path
from typing import Any

from cognises.errors import ConfigurationError

__all__ = ["check_state_path", "write_json_atomic"]

# What tempfile.mkstemp uses, with the mode left to the caller.
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL
_CREATE |= getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


def check_state_path(path: str | os.PathLike[str]) -> Path:
    """``path`` as a ``Path`` if the document can be written there, else ``ConfigurationError``.

    Meant to run before any AWS call, so that a run never makes every change and only
    then finds it cannot record them. The folder is tried by creating (and removing) a
    temporary file in it, the very step the write starts with: permission bits, ACLs,
    read-only mounts and root's privileges all answer as they will for the write.
    """
    try:
        target = Path(path)
    except TypeError:
        raise ConfigurationError(f"state_path: expected a file path, found {path!r}") from None
    shown, directory = os.fspath(target), os.fspath(target.parent)
    try:
        info = target.stat()
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise ConfigurationError(
            f"state_path: expected a file in a directory this process can reach, found "
            f"{shown!r}: {exc.strerror or exc}"
        ) from exc
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise ConfigurationError(f"state_path: expected a file, found the directory {shown!r}")
    if info is not None and not stat.S_ISREG(info.st_mode):
        # os.replace would put the document in place of a device, a FIFO or a socket.
        raise ConfigurationError(f"state_path: expected a regular file, found {shown!r}")
    if info is None and not target.parent.is_dir():
        raise ConfigurationError(
            f"state_path: expected a file in an existing directory, found {shown!r}, "
            f"and no directory {directory!r}"
        )
    try:
        fd, temp = _create_temp(target, 0o600)
    except OSError as exc:
        raise ConfigurationError(
            f"state_path: expected a directory this process can write to, found "
            f"{directory!r}: {exc.strerror or exc}"
        ) from exc
    os.close(fd)
    os.unlink(temp)
    return target


def write_json_atomic(path: str | os.PathLike[str], document: Any) -> Path:
    """Write ``document`` as JSON to ``path`` atomically; return the path written.

    An existing document keeps its permission bits (never setuid, setgid or sticky: the
    document is data, whatever the old file was). A new one gets what any new file of
    this process gets: ``0o666`` less the umask (or the directory's default ACL).
    """
    target = Path(path)
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    directory = target.parent
    try:
        mode: int | None = stat.S_IMODE(target.stat().st_mode) & 0o777
    except FileNotFoundError:
        mode = None
    # The umask is never read (os.umask can only be read by setting it, for every thread
    # at once): a new file is created with 0o666 and the kernel applies the umask. Over
    # an existing file the temp starts private and gets the old bits once complete.
    fd, temp_name = _create_temp(target, 0o666 if mode is None else 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(temp_name, mode)
        os.replace(temp_name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise
    _fsync_directory(directory)
    return target


def _create_temp(target: Path, mode: int) -> tuple[int, str]:
    """A new file beside ``target``, opened for writing: ``(fd, name)``."""
    for _ in range(100):
        name = os.fspath(target.parent / f".{target.name}.{secrets.token_hex(4)}.tmp")
        try:
            return os.open(name, _CREATE, mode), name
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name beside {os.fspath(target)!r}")


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
