"""Where ``save()`` writes: the same rules as ``detour fetch -o`` and the library's ``toFile``.

- A regular file (or a new one) is replaced atomically: the body goes to a hidden temporary file
  beside it, is fsynced, and is renamed over it only when complete and checked. The old file's
  mode and owner are kept; a new file gets ``0666 & ~umask``, as ``open()`` would give it.
- Through a symlink, the file it points to is replaced (atomically) and the link is kept; a link
  to a file that does not exist yet creates that file.
- Anything that is not a regular file (a FIFO, a character device such as ``/dev/null``, a
  socket) and anything under ``/dev`` or ``/proc`` is opened and written into, never replaced. A
  FIFO nobody reads fails as ``local-io`` after the deadline instead of hanging.
- An empty path is refused before any request; a directory fails as ``local-io``.
"""

from __future__ import annotations

import asyncio
import errno
import fcntl
import os
import stat
import tempfile
import time
from typing import BinaryIO, Optional

from .errors import BadRequest, DetourError

_SPECIAL_DIRS = ("/dev/", "/proc/")
_FIFO_RETRY_S = 0.025


def _umask() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)  # no /proc: read it by setting it (and put it back at once)
    os.umask(mask)
    return mask


def local_io(path: str, message: str, code: str = "DETOUR_LOCAL_IO") -> DetourError:
    return DetourError(f"could not write {path}: {message}", failure_class="local-io", code=code)


def _os_error(path: str, error: OSError) -> DetourError:
    return local_io(path, error.strerror or str(error), errno.errorcode.get(error.errno or 0, "DETOUR_LOCAL_IO"))


class Target:
    """One ``save()`` destination, looked at before any request (see the module docstring)."""

    def __init__(self, path: str) -> None:
        if path == "":
            raise BadRequest("the output path is empty", failure_class="blocked", code="DETOUR_BAD_PATH")
        self.path = path
        absolute = os.path.abspath(path)
        try:
            self._existing: Optional[os.stat_result] = os.stat(absolute)
        except FileNotFoundError:
            self._existing = None
        except OSError as error:
            raise _os_error(path, error) from error
        if self._existing is not None and stat.S_ISDIR(self._existing.st_mode):
            raise local_io(path, "it is a directory", "EISDIR")
        self.into = self._existing is not None and (
            not stat.S_ISREG(self._existing.st_mode) or absolute.startswith(_SPECIAL_DIRS)
        )
        # realpath follows every link, a dangling one included (its target is what gets created).
        self._final = absolute if self.into else os.path.realpath(absolute)
        self._temp: Optional[str] = None
        if not self.into and not os.access(os.path.dirname(self._final), os.W_OK | os.X_OK):
            raise local_io(path, f"{os.path.dirname(self._final)} is not writable", "EACCES")

    # -- opening ---------------------------------------------------------------------------------

    def _try_open(self) -> Optional[BinaryIO]:
        """The sink, or None while a FIFO has no reader yet."""
        if not self.into:
            fd, self._temp = tempfile.mkstemp(
                prefix=f".{os.path.basename(self._final)}.", suffix=".detour-part", dir=os.path.dirname(self._final)
            )
            return os.fdopen(fd, "wb")
        flags = os.O_WRONLY | os.O_NONBLOCK
        if self._existing is not None and stat.S_ISREG(self._existing.st_mode):
            flags |= os.O_TRUNC
        try:
            fd = os.open(self._final, flags)
        except OSError as error:
            if error.errno == errno.ENXIO:  # a FIFO with no reader (yet)
                return None
            raise _os_error(self.path, error) from error
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
        return os.fdopen(fd, "wb")

    def _nobody_reads(self) -> DetourError:
        return local_io(self.path, "it is a FIFO and nobody is reading it", "DETOUR_FIFO_UNREAD")

    def open(self, deadline_s: float) -> BinaryIO:
        until = time.monotonic() + deadline_s
        while True:
            sink = self._try_open()
            if sink is not None:
                return sink
            if time.monotonic() >= until:
                raise self._nobody_reads()
            time.sleep(_FIFO_RETRY_S)

    async def aopen(self, deadline_s: float) -> BinaryIO:
        until = time.monotonic() + deadline_s
        while True:
            sink = self._try_open()
            if sink is not None:
                return sink
            if time.monotonic() >= until:
                raise self._nobody_reads()
            await asyncio.sleep(_FIFO_RETRY_S)

    # -- ending ----------------------------------------------------------------------------------

    def finish_writing(self, sink: BinaryIO) -> None:
        """Flush (and fsync a temporary file: a pipe or a device cannot be fsynced)."""
        sink.flush()
        if not self.into:
            os.fsync(sink.fileno())

    def commit(self) -> None:
        """The body is complete and checked: rename it into place, mode and owner kept."""
        if self._temp is None:
            return
        existing = self._existing
        if existing is not None:
            os.chmod(self._temp, stat.S_IMODE(existing.st_mode))
            if (existing.st_uid, existing.st_gid) != (os.geteuid(), os.getegid()):
                try:
                    os.chown(self._temp, existing.st_uid, existing.st_gid)
                except PermissionError:
                    pass  # not ours to give away (as `cp` does without root)
        else:
            os.chmod(self._temp, 0o666 & ~_umask())
        os.replace(self._temp, self._final)
        self._temp = None

    def discard(self) -> None:
        """A failure: remove the temporary file (what was written into a FIFO or device stays written)."""
        if self._temp is not None:
            try:
                os.unlink(self._temp)
            except FileNotFoundError:
                pass
            self._temp = None
