"""Framing layer: Erlang `{packet, 4}` frames over raw file descriptors.

A frame is a 4-byte big-endian payload length followed by the payload. The worker reads
requests from fd 3 with a `FrameReader` and writes replies to fd 4 with a `FrameWriter`;
the nanny writes its own event frames to the same fd 4 (see docs/PROTOCOL.md).

Exceptions:

    EOFError
    └── ChannelClosed      the peer closed the channel (cleanly or mid-frame)
    ValueError
    └── FrameTooLarge      a frame is over max_frame (carries size and limit)

Signals. CPython runs a Python signal handler, which may raise, between bytecodes and
when a syscall fails with EINTR (having transferred nothing).

* The reader commits its position to `self` right after every read, so a handler that
  raises while it waits leaves it consistent: the next call resumes the same frame.
* A frame of at most PIPE_BUF bytes is one write that the kernel makes whole or not at
  all. A larger one is written with the calling thread's signals blocked: a signal that
  interrupts a blocking write returns a short count, and a handler raising straight
  after would lose that count and leave half a frame on the pipe for good. The signals
  are delivered, and their handlers run, as soon as the frame is out.
* What no pure-Python code can guard against is an exception raised (by a handler run
  in the main thread for a signal another thread took, or by PyThreadState_SetAsyncExc)
  in the instant between a read returning and its count being stored, or between the
  batches of a frame of more than IOV_MAX chunks.

Forks. A process forked from the worker (`os.fork`, `multiprocessing` with the fork
start method) inherits the worker's descriptors and a copy of its objects: left alone,
it could read requests meant for the worker and answer them from its copy of the ref
table, handing a caller another object's value. So every reader and writer is
registered here, and in a forked child each one's descriptor is pointed at /dev/null
before any of the child's own code runs (`os.register_at_fork`): the child reads EOF
(`ChannelClosed`, which ends a worker's loop) and its writes go nowhere, and it holds no
end of the worker's pipes or control socket, so it cannot keep them open either. Frames
a reader had buffered before the fork are dropped in the child. This costs nothing per
frame. A fork made in C without going through `os.fork` runs no such hook; see
docs/LIFECYCLE.md.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib
import itertools
import os
import select
import signal
import struct
import threading
import weakref
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from typing import NoReturn

from snakebridge._wire import PIPE_BUF

__all__ = ["HEADER", "ChannelClosed", "FrameReader", "FrameTooLarge", "FrameWriter"]

# The `{packet, 4}` length prefix. Exported so the nanny builds its frames with the same
# prefix instead of restating the format.
HEADER = struct.Struct(">I")

_HEADER_SIZE = HEADER.size
# Largest payload the prefix can declare.
_MAX_DECLARABLE = (1 << (8 * _HEADER_SIZE)) - 1

# Read buffer size. Large enough that a burst of small frames arrives in one read, small
# enough to stay in cache. Frames that do not fit get a buffer of their own.
_BUFFER_SIZE = 64 * 1024

# os.writev fails with EINVAL when given more buffers than this.
_IOV_MAX = os.sysconf("SC_IOV_MAX")

# The largest buffer a reader keeps between large frames (see FrameReader).
_SPARE_MAX = 256 << 20

# Blocked while a frame over PIPE_BUF is written. Not the faults (SIGSEGV and the like):
# blocked, they would kill the process without letting faulthandler report.
_DEFERRED_SIGNALS = frozenset(
    int(signum)
    for signum in signal.valid_signals()
    if signum
    not in {
        signal.SIGKILL,
        signal.SIGSTOP,
        signal.SIGSEGV,
        signal.SIGBUS,
        signal.SIGFPE,
        signal.SIGILL,
        signal.SIGTRAP,
    }
)

# signal.pthread_sigmask turns each signal of the mask it returns into a Signals member,
# some 50 us for a full mask; the C function it wraps, in _signal, takes about 1.5 us.
_pthread_sigmask: Callable[[int, Iterable[int]], set[int]] = importlib.import_module(
    "_signal"
).pthread_sigmask

_unpack_header = HEADER.unpack_from
_pack_header = HEADER.pack

# Every live reader and writer, for the fork hook (see the module docstring).
_endpoints: weakref.WeakSet[FrameReader | FrameWriter] = weakref.WeakSet()


def _forget_channels_in_child() -> None:
    """In a forked child: point every channel descriptor at /dev/null (module docs)."""
    null = os.open(os.devnull, os.O_RDWR | os.O_CLOEXEC)
    try:
        for endpoint in list(_endpoints):
            endpoint._forget_in_child(null)
    finally:
        os.close(null)


os.register_at_fork(after_in_child=_forget_channels_in_child)


class ChannelClosed(EOFError):
    """The peer closed the channel: at a frame boundary, or mid-frame (says which)."""


class FrameTooLarge(ValueError):
    """A frame's payload is larger than the channel's `max_frame`."""

    def __init__(self, *, size: int, limit: int) -> None:
        super().__init__(f"frame of {size} bytes is over the limit of {limit} bytes")
        self.size = size
        self.limit = limit


def _check_max_frame(max_frame: int) -> None:
    if not 0 <= max_frame <= _MAX_DECLARABLE:
        raise ValueError(f"expected max_frame between 0 and {_MAX_DECLARABLE}, got: {max_frame!r}")


class FrameReader:
    """Reads frames from a blocking file descriptor. Not thread-safe: one reader per fd.

    Small frames are cut out of one preallocated 64 KiB buffer: a single read fetches
    every frame the peer has written so far, and a frame already buffered costs no
    syscall. A frame larger than the buffer is read into one buffer of its own, the bytes
    already buffered copied in once and the rest read straight into it. That buffer is
    kept for the next large frame (up to `_SPARE_MAX` bytes), since a fresh one costs a
    page fault per 4 KiB on first write: as much time as the copy itself.
    """

    __slots__ = (
        "__weakref__",
        "_big",
        "_big_got",
        "_buf",
        "_end",
        "_fd",
        "_max_frame",
        "_poll",
        "_skip",
        "_spare",
        "_start",
        "_view",
        "_whole",
    )

    def __init__(self, fd: int, *, max_frame: int) -> None:
        _check_max_frame(max_frame)
        self._fd = fd
        self._max_frame = max_frame
        self._buf = bytearray(_BUFFER_SIZE)
        self._view = memoryview(self._buf)
        self._whole = [self._view]  # readv's argument for an empty buffer, built once
        # Unconsumed bytes are _buf[_start:_end].
        self._start = 0
        self._end = 0
        # A frame larger than the buffer, being filled: _big_got of its bytes are in.
        # While it is set the buffer is empty, so the fast path cannot see stale bytes.
        self._big: memoryview | None = None
        self._big_got = 0
        self._spare: bytearray | None = None
        # Payload bytes of an oversized frame still to be read and thrown away. While
        # non-zero the buffer is empty too.
        self._skip = 0
        self._poll: select.poll | None = None  # see wait_readable
        _endpoints.add(self)

    def _forget_in_child(self, null: int) -> None:
        """Drop what the parent had buffered and read /dev/null from now on."""
        self._start = self._end = 0
        self._big = None
        self._big_got = 0
        self._skip = 0
        with contextlib.suppress(OSError):  # the fd was closed: nothing to hide
            os.fstat(self._fd)
            os.dup2(null, self._fd, inheritable=False)

    def read_frame(self) -> memoryview:
        """Block until a whole frame has arrived and return its payload.

        The view is valid until the next call: a small frame's view points into the
        reader's buffer, which the next call reuses. Copy (`bytes(view)`) what must
        outlive it.

        Raises `ChannelClosed` on EOF and `FrameTooLarge` when a frame declares more than
        `max_frame` bytes; after the latter, the next call skips that frame's payload
        (reading and discarding it in bounded memory) and returns the frame after it.
        """
        start = self._start
        end = self._end
        if end - start >= _HEADER_SIZE:
            size = _unpack_header(self._buf, start)[0]
            stop = start + _HEADER_SIZE + size
            if stop <= end and size <= self._max_frame:
                self._start = stop
                return self._view[start + _HEADER_SIZE : stop]
        elif start == end and self._big is None and not self._skip:
            # Request/response traffic: the buffer is empty and the next read brings
            # exactly one frame. Read it here rather than through _read_slow's loop.
            self._start = self._end = 0
            got = os.readv(self._fd, self._whole)
            self._end = got
            if got >= _HEADER_SIZE:
                size = _unpack_header(self._buf, 0)[0]
                stop = _HEADER_SIZE + size
                if stop <= got and size <= self._max_frame:
                    self._start = stop
                    return self._view[_HEADER_SIZE:stop]
        return self._read_slow()

    def wait_readable(self) -> None:
        """Block until `read_frame` has bytes to work on, without taking any.

        For a thread that may be interrupted while it waits (a signal handler raising
        `CallCancelled`): the wait is the only interruptible part, and a frame is only
        taken once the caller has made itself uninterruptible, so none is lost between
        being read and being stored.
        """
        if self._start == self._end and self._big is None:
            poll = self._poll
            if poll is None:
                # Made once: select.select builds its fd sets on every wait, which
                # measured twice the cost over the bare syscall (bench/README.md).
                poll = self._poll = select.poll()
                poll.register(self._fd, select.POLLIN)
            try:
                poll.poll()
            except RuntimeError:
                # A poll object refuses a second wait while the first one is in
                # progress: a signal handler that calls Elixir from inside this wait.
                select.select([self._fd], [], [])

    def _read_slow(self) -> memoryview:
        if self._skip:
            self._discard()
        if self._big is not None:
            return self._fill_big(self._big)
        while True:
            start = self._start
            end = self._end
            need = _HEADER_SIZE
            if end - start >= _HEADER_SIZE:
                size: int = _unpack_header(self._buf, start)[0]
                if size > self._max_frame:
                    self._reject(size)
                need += size
                if need > _BUFFER_SIZE:
                    return self._start_big(size)
                if end - start >= need:
                    self._start = start + need
                    return self._view[start + _HEADER_SIZE : start + need]
            # One read fetches all the peer has written, up to the end of the buffer.
            if start == end:
                self._start = self._end = start = end = 0
            elif start + need > _BUFFER_SIZE:
                # Move the partial frame to the front. Rare (once per buffer's worth of
                # traffic, at most a frame's worth of bytes), and bytes() makes the copy
                # safe where the source and destination overlap.
                end -= start
                self._buf[:end] = bytes(self._view[start : self._end])
                self._start = start = 0
                self._end = end
            got = os.readv(self._fd, [self._view[end:]] if end else self._whole)
            if not got:
                if end > start:
                    raise ChannelClosed(
                        f"the peer closed the channel mid-frame, {end - start} bytes into a frame"
                    )
                raise ChannelClosed("the peer closed the channel (clean EOF at a frame boundary)")
            self._end = end + got

    def _reject(self, size: int) -> NoReturn:
        """Consume an oversized frame's header and buffered payload, then raise."""
        start = self._start + _HEADER_SIZE
        buffered = min(self._end - start, size)
        self._skip = size - buffered
        self._start = start + buffered
        if self._start == self._end:
            self._start = self._end = 0
        raise FrameTooLarge(size=size, limit=self._max_frame)

    def _discard(self) -> None:
        """Read and throw away the rest of an oversized frame, through the buffer."""
        while self._skip:
            got = os.readv(self._fd, self._whole)
            if not got:
                raise ChannelClosed(
                    "the peer closed the channel mid-frame, "
                    f"{self._skip} bytes short of an oversized frame's end"
                )
            if got <= self._skip:
                self._skip -= got
            else:
                # The read ran into the next frame: keep that part.
                self._start = self._skip
                self._end = got
                self._skip = 0

    def _start_big(self, size: int) -> memoryview:
        spare = self._spare
        if spare is not None and len(spare) >= size:
            big = memoryview(spare)[:size]
        else:
            buffer = bytearray(size)
            big = memoryview(buffer)
            self._spare = buffer if size <= _SPARE_MAX else None
        start = self._start + _HEADER_SIZE
        got = self._end - start
        big[:got] = self._view[start : self._end]
        self._big = big
        self._big_got = got
        self._start = self._end = 0
        return self._fill_big(big)

    def _fill_big(self, big: memoryview) -> memoryview:
        size = len(big)
        while True:
            got = self._big_got
            # The buffer rides along as a second target, so the read that completes the
            # frame also picks up whatever follows it (the buffer is empty here).
            n = os.readv(self._fd, [big[got:], self._view])
            if not n:
                raise ChannelClosed(
                    f"the peer closed the channel mid-frame, {got} of {size} bytes into a frame"
                )
            if got + n >= size:
                self._end = got + n - size
                self._big = None
                self._big_got = 0
                return big
            self._big_got = got + n


class FrameWriter:
    """Writes frames to a blocking file descriptor. Thread-safe.

    Each frame goes out as one `os.writev` of the length prefix and the caller's chunks,
    with no joining copy (a frame of more than IOV_MAX chunks takes several). A frame
    that with its prefix is larger than PIPE_BUF is not atomic on a pipe, so it is
    written holding an inter-process `flock` on `lock_path` too (the nanny takes that
    lock for each event it writes to the same pipe), with signals blocked (see above).
    """

    __slots__ = ("__weakref__", "_fd", "_lock", "_lock_fd", "_max_frame")

    def __init__(self, fd: int, *, max_frame: int, lock_path: str | None = None) -> None:
        _check_max_frame(max_frame)
        self._fd = fd
        self._max_frame = max_frame
        self._lock = threading.Lock()
        # flock locks belong to an open file description, so the writer opens its own.
        self._lock_fd = (
            -1
            if lock_path is None
            else os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        )
        _endpoints.add(self)

    def _forget_in_child(self, null: int) -> None:
        """Write to /dev/null from now on; a lock another thread held is not ours."""
        self._lock = threading.Lock()
        with contextlib.suppress(OSError):  # the fd was closed: nothing to hide
            os.fstat(self._fd)
            os.dup2(null, self._fd, inheritable=False)

    def write_frame(self, chunks: Sequence[bytes | bytearray | memoryview]) -> None:
        """Write one frame whose payload is the concatenation of `chunks`.

        Raises `FrameTooLarge`, before writing anything, when the payload is over
        `max_frame`. Memoryviews must be C-contiguous; their size is `nbytes`.
        """
        size = 0
        for chunk in chunks:
            size += chunk.nbytes if type(chunk) is memoryview else len(chunk)
        if size > self._max_frame:
            raise FrameTooLarge(size=size, limit=self._max_frame)
        iov = [_pack_header(size), *chunks]
        total = _HEADER_SIZE + size
        if total > PIPE_BUF or len(iov) > _IOV_MAX:
            self._write_large(iov, total)
            return
        # acquire/release rather than `with`: half the cost, on every reply's path.
        self._lock.acquire()
        try:
            written = os.writev(self._fd, iov)
            if written != total:  # only on a socket or a non-blocking fd
                self._write_rest(iov, written)
        finally:
            self._lock.release()

    def write_small(self, payload: bytes) -> None:
        """Write one frame whose payload, with its header, fits in PIPE_BUF.

        The common reply is a few dozen bytes; joined into one buffer by the caller it
        goes out as a single `os.write` with no size loop or iovec list (the general
        `write_frame` costs about twice as much in Python around the same syscall).
        """
        frame = _pack_header(len(payload)) + payload
        if len(frame) > PIPE_BUF:
            raise ValueError(f"write_small takes at most {PIPE_BUF} bytes, got {len(frame)}")
        self._lock.acquire()
        try:
            written = os.write(self._fd, frame)
            if written != len(frame):  # only on a socket or a non-blocking fd
                self._write_rest([frame], written)
        finally:
            self._lock.release()

    def _write_large(self, iov: list[bytes | bytearray | memoryview], total: int) -> None:
        mask = _pthread_sigmask(signal.SIG_BLOCK, _DEFERRED_SIGNALS)
        try:
            with self._lock:
                if self._lock_fd >= 0:
                    fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
                try:
                    written = os.writev(self._fd, iov) if len(iov) <= _IOV_MAX else 0
                    if written != total:
                        self._write_rest(iov, written)
                finally:
                    if self._lock_fd >= 0:
                        fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
        finally:
            # Last, so that a handler raising here finds both locks released.
            _pthread_sigmask(signal.SIG_SETMASK, mask)

    def _write_rest(self, iov: list[bytes | bytearray | memoryview], written: int) -> None:
        """Write what a short writev left, in batches of at most IOV_MAX buffers."""
        views = deque(view for view in map(_byte_view, iov) if view.nbytes)
        while views:
            while written:
                head = views[0]
                if written >= head.nbytes:
                    written -= head.nbytes
                    views.popleft()
                else:
                    views[0] = head[written:]
                    written = 0
            if views:
                written = os.writev(self._fd, list(itertools.islice(views, _IOV_MAX)))


def _byte_view(chunk: bytes | bytearray | memoryview) -> memoryview:
    return memoryview(chunk).cast("B")
