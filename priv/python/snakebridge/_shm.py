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
spill hook; it writes files in this worker's own directory, which the nanny made and
removes when the worker exits, so segments nobody read do not outlive their worker.

Trust (docs/DATA.md): /dev/shm is writable by every local user. A segment is read only
from a BEAM's directory (`/dev/shm/snakebridge-beam-*`; a remote pool's caller may be
another VM of this uid), and only if that directory is ours with mode 0700 and the file
a regular file of ours with mode 0600 (opened without following a symlink). Segments
are written with `O_EXCL | O_NOFOLLOW` and mode 0600 under unpredictable names, in a
directory made fresh with mode 0700.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
import tempfile
from typing import Any

from snakebridge._channel import FrameTooLarge
from snakebridge._etf import DecodeError, Encoder, text_or_bytes
from snakebridge._wire import BLOB_FLAG, SHM_FLAG

__all__ = [
    "ROOT",
    "SEGMENT_DIR_ENV",
    "SHM_STRUCT",
    "SegmentWriter",
    "make_private_directory",
    "read_segment",
]

ROOT = "/dev/shm"
SHM_STRUCT = "Elixir.SnakeBridge.Shm"
# What the name of a BEAM's segment directory starts with (see SnakeBridge.Shm).
_BEAM_PREFIX = "snakebridge-beam-"
# This worker's own segment directory, made by the nanny.
SEGMENT_DIR_ENV = "SNAKEBRIDGE_SEGMENT_DIR"

# os.read returns at most this much at once on Linux.
_MAX_READ = 0x7FFFF000
_GROUP_OR_OTHER = 0o077
_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


def make_private_directory(prefix: str) -> str | None:
    """A fresh directory of ours in ROOT, mode 0700, unpredictable name; None without ROOT."""
    if not os.path.isdir(ROOT):
        return None
    return tempfile.mkdtemp(prefix=prefix, dir=ROOT)


def _refusal(path: str, st: os.stat_result, want_dir: bool) -> str | None:
    """Why `st` (of `path`) is not ours to trust, or None."""
    if want_dir and not stat.S_ISDIR(st.st_mode):
        return f"{path} is not a directory"
    if not want_dir and not stat.S_ISREG(st.st_mode):
        return f"{path} is not a regular file"
    if st.st_uid != os.geteuid():
        return f"{path} belongs to uid {st.st_uid}, not {os.geteuid()}"
    if st.st_mode & _GROUP_OR_OTHER:
        return f"{path} may be accessed by other users (mode {stat.S_IMODE(st.st_mode):o})"
    return None


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
    # Only a file a BEAM wrote for a request, in a BEAM's directory (see the module
    # docs): the worker deletes what it reads, so nothing else may be named here.
    directory = os.path.dirname(path) if type(path) is str else ""
    if (
        os.path.dirname(directory) != ROOT
        or not os.path.basename(directory).startswith(_BEAM_PREFIX)
        or os.path.basename(path) in ("", ".", "..")
    ):
        raise DecodeError(f"malformed %SnakeBridge.Shm{{}}: {fields!r}")
    try:
        problem = _refusal(directory, os.lstat(directory), want_dir=True)
    except OSError as exc:
        raise DecodeError(f"shared-memory directory {directory} is gone: {exc}") from None
    if problem:
        raise DecodeError(f"refusing shared-memory segment {path}: {problem}")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
    except OSError as exc:
        raise DecodeError(f"shared-memory segment {path} is gone: {exc}") from None
    problem = _refusal(path, os.fstat(fd), want_dir=False)
    if problem:
        os.close(fd)
        raise DecodeError(f"refusing shared-memory segment {path}: {problem}")
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
        self._directory = os.environ.get(SEGMENT_DIR_ENV) or None
        # Files count against max_frame like the frame itself.
        self._max_frame = int(os.environ.get("SNAKEBRIDGE_MAX_FRAME", str(2**32 - 1)))
        self._blobs: list[memoryview] = []
        self._blob_size = 0
        self._files: list[str] = []
        self._file_bytes = 0

    def reset(self) -> None:
        """Forget an encode that raised, deleting the files it wrote."""
        for path in self._files:
            with contextlib.suppress(OSError):
                os.unlink(path)
        self._forget()

    def _forget(self) -> None:
        self.dirty = False
        self._blobs = []
        self._blob_size = 0
        self._files = []
        self._file_bytes = 0

    def finish(self, chunks: list[Any]) -> tuple[list[Any], int]:
        """The frame payload for the encoded `chunks`, and the flags for its kind byte."""
        flags = SHM_FLAG if self._files else 0
        blobs = self._blobs
        self._forget()
        if not blobs:
            return chunks, flags
        etf_size = sum(map(len, chunks))
        return [etf_size.to_bytes(4, "big"), *chunks, *blobs], flags | BLOB_FLAG

    def spill(self, enc: Encoder, data: memoryview) -> None:
        """Write `data` out of band and encode `%SnakeBridge.Shm{}` in its place."""
        size = data.nbytes
        self.dirty = True
        if self.shm_threshold and size >= self.shm_threshold:
            total = self._file_bytes + self._blob_size + size
            if total > self._max_frame:
                raise FrameTooLarge(size=total, limit=self._max_frame)
            written = self._write_file(data)
            path: str | None = written
            offset = 0
            self._files.append(written)
            self._file_bytes += size
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
        if self._directory is None:
            # Outside a nanny (tests, a worker run by hand): a directory of our own.
            self._directory = make_private_directory("snakebridge-worker-")
            if self._directory is None:
                raise OSError(f"{ROOT} is not available for shared-memory segments")
        path = os.path.join(self._directory, secrets.token_urlsafe(12))
        fd = os.open(path, _FILE_FLAGS, 0o600)
        try:
            done = 0
            while done < data.nbytes:
                done += os.write(fd, data[done:])
        finally:
            os.close(fd)
        return path
