"""Shared memory: large binaries cross as files in /dev/shm; only their names use the pipe.

The Elixir side (`SnakeBridge.Shm`) holds the rationale and the threshold. Here:
`read_segment` is the decoder's hook for `%SnakeBridge.Shm{path, size}` (it reads the
file in one copy and deletes it), and `SegmentWriter` puts a reply's large binaries
in files of this worker's own directory, which the nanny removes when the worker exits,
so segments nobody read do not outlive their worker.
"""

from __future__ import annotations

import itertools
import os
from typing import Any

from snakebridge._etf import DecodeError, Encoder, text_or_bytes

__all__ = ["ROOT", "SegmentWriter", "read_segment", "worker_directory"]

ROOT = "/dev/shm"
SHM_STRUCT = "Elixir.SnakeBridge.Shm"

# Segment names, unique in this process across threads.
_names = itertools.count(1)

# os.read returns at most this much at once on Linux.
_MAX_READ = 0x7FFFF000


def worker_directory(pid: int) -> str:
    """Where worker `pid` writes its segments (the nanny removes it after the worker)."""
    return os.path.join(ROOT, f"snakebridge-{pid}")


def read_segment(fields: dict[str, Any]) -> str | bytes:
    """Read and delete a segment the BEAM wrote: str if UTF-8, like any binary."""
    path, size = fields.get("path"), fields.get("size")
    if type(path) is not str or type(size) is not int or not path.startswith(ROOT + "/"):
        raise DecodeError(f"malformed %SnakeBridge.Shm{{}}: {fields!r}")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as exc:
        raise DecodeError(f"shared-memory segment {path} is gone: {exc}") from None
    try:
        os.unlink(path)
        data = os.read(fd, size) if size <= _MAX_READ else _read_large(fd, size)
    finally:
        os.close(fd)
    if len(data) != size:
        raise DecodeError(f"shared-memory segment {path} holds {len(data)} bytes, not {size}")
    return text_or_bytes(data)


def _read_large(fd: int, size: int) -> bytes:
    buffer = bytearray(size)
    view = memoryview(buffer)
    done = 0
    while done < size:
        got = os.readv(fd, [view[done:]])
        if not got:
            break
        done += got
    return bytes(view[:done])


class SegmentWriter:
    """Writes binaries of at least `threshold` bytes to segments (see `spill`)."""

    def __init__(self, threshold: int) -> None:
        self.threshold = threshold
        self.count = 0
        self._directory = worker_directory(os.getpid())

    def spill(self, enc: Encoder, data: memoryview) -> None:
        """Write `data` to a new segment and encode `%SnakeBridge.Shm{}` in its place."""
        os.makedirs(self._directory, mode=0o700, exist_ok=True)
        path = os.path.join(self._directory, str(next(_names)))
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            done = 0
            while done < data.nbytes:
                done += os.write(fd, data[done:])
        finally:
            os.close(fd)
        self.count += 1
        enc.map_header(3)
        enc.atom("__struct__")
        enc.atom(SHM_STRUCT)
        enc.atom("path")
        enc.term(path)
        enc.atom("size")
        enc.term(data.nbytes)
