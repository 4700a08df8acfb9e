"""Segments: large binaries travel outside the ETF term, in the frame or in /dev/shm.

A binary of at least `BLOB_MIN` bytes is never copied into the term. In its place the
term holds `%SnakeBridge.Shm{path, offset, size}`:

* `path: nil` — an inline blob: the bytes follow the term in the same frame, at
  `offset` in the blob area (see docs/PROTOCOL.md). No codec copies them, on either
  side: Python writes them from the object's own memory with `os.writev`, the BEAM
  takes sub-binaries of the frame.
* `path: "/dev/shm/…"` — at least the shared-memory threshold: the bytes are in that
  file and only its name crosses the pipe (`SnakeBridge.Shm` holds the rationale).

`read_segment` is the decoder's hook for that struct. `SegmentWriter` is the encoder's
spill hook; it writes files in this worker's own directory, which the nanny removes
when the worker exits, so segments nobody read do not outlive their worker.
"""

from __future__ import annotations

import itertools
import os
import re
from typing import Any

from snakebridge._etf import DecodeError, Encoder, text_or_bytes
from snakebridge._wire import BLOB_FLAG, SHM_FLAG

__all__ = ["ROOT", "SHM_STRUCT", "SegmentWriter", "read_segment", "worker_directory"]

ROOT = "/dev/shm"
SHM_STRUCT = "Elixir.SnakeBridge.Shm"

# Segment file names, unique in this process across threads.
_names = itertools.count(1)

# os.read returns at most this much at once on Linux.
_MAX_READ = 0x7FFFF000


def worker_directory(pid: int) -> str:
    """Where worker `pid` writes its segments (the nanny removes it after the worker)."""
    return os.path.join(ROOT, f"snakebridge-{pid}")


_BEAM_SEGMENT = re.compile(re.escape(ROOT) + r"/snakebridge-beam-[0-9]+/[0-9]+")


def read_segment(fields: dict[str, Any], blobs: memoryview) -> str | bytes:
    """The binary a segment stands for (str if UTF-8, like any binary).

    `blobs` is the blob area of the frame being decoded. A file segment is deleted as
    soon as it is open.
    """
    path, size, offset = fields.get("path"), fields.get("size"), fields.get("offset")
    if type(size) is not int or size < 0:
        raise DecodeError(f"malformed %SnakeBridge.Shm{{}}: {fields!r}")
    if path is None:
        if type(offset) is not int or offset < 0 or offset + size > len(blobs):
            raise DecodeError(f"inline blob {fields!r} lies outside the frame's blob area")
        view = blobs[offset : offset + size]
        return text_or_bytes(view.tobytes())
    # Only a file the BEAM wrote for a request (see SnakeBridge.Shm): the worker deletes
    # what it reads, so nothing else may be named here.
    if type(path) is not str or _BEAM_SEGMENT.fullmatch(path) is None:
        raise DecodeError(f"malformed %SnakeBridge.Shm{{}}: {fields!r}")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
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
    """The encoder's spill hook: puts large binaries out of band (see module docs).

    One per thread, like the encoders. After an encode that spilled (`dirty`), `finish`
    assembles the payload; after one that raised, `reset` forgets what it spilled.
    """

    def __init__(self, shm_threshold: int) -> None:
        self.shm_threshold = shm_threshold
        self.dirty = False
        self._directory = worker_directory(os.getpid())
        self._blobs: list[memoryview] = []
        self._blob_size = 0
        self._files = 0

    def reset(self) -> None:
        self.dirty = False
        self._blobs = []
        self._blob_size = 0
        self._files = 0

    def finish(self, chunks: list[Any]) -> tuple[list[Any], int]:
        """The frame payload for the encoded `chunks`, and the flags for its kind byte."""
        flags = SHM_FLAG if self._files else 0
        blobs = self._blobs
        self.reset()
        if not blobs:
            return chunks, flags
        etf_size = sum(map(len, chunks))
        return [etf_size.to_bytes(4, "big"), *chunks, *blobs], flags | BLOB_FLAG

    def spill(self, enc: Encoder, data: memoryview) -> None:
        """Write `data` out of band and encode `%SnakeBridge.Shm{}` in its place."""
        size = data.nbytes
        self.dirty = True
        if self.shm_threshold and size >= self.shm_threshold:
            path: str | None = self._write_file(data)
            offset = 0
            self._files += 1
        else:
            path, offset = None, self._blob_size
            self._blobs.append(data)
            self._blob_size += size
        enc.map_header(4)
        enc.atom("__struct__")
        enc.atom(SHM_STRUCT)
        enc.atom("path")
        if path is None:
            enc.atom("nil")
        else:
            enc.term(path)
        enc.atom("offset")
        enc.term(offset)
        enc.atom("size")
        enc.term(size)

    def _write_file(self, data: memoryview) -> str:
        os.makedirs(self._directory, mode=0o700, exist_ok=True)
        path = os.path.join(self._directory, str(next(_names)))
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            done = 0
            while done < data.nbytes:
                done += os.write(fd, data[done:])
        finally:
            os.close(fd)
        return path
