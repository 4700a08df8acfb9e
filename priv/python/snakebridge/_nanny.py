"""Nanny layer: the process the Erlang port runs, watching over the worker.

`python -m snakebridge` starts the worker in a process group of its own, with the port's
fds 3 (requests) and 4 (replies), and then stays off the request path. It forwards each
line the worker writes to stdout or stderr as a `LOG` frame on fd 4, reports how the
worker ended with one `EXITED` frame, and makes sure nothing the worker started outlives
it or the BEAM:

* the worker exits: its process group is killed, the output left in the pipes is
  forwarded, `EXITED` is sent, and once the BEAM has closed the port (or after
  `_LINGER_SECONDS`) the nanny exits with the worker's status, or 128 + the signal that
  killed it, so the status reaches the BEAM even if `EXITED` did not;
* the BEAM goes away (fd 3 hangs up, or fd 4 breaks): the group is killed and the nanny
  exits without a word, since nobody is listening;
* SIGINT, SIGTERM or SIGHUP: the group is killed, `EXITED` is sent if fd 4 still takes
  it, and the nanny exits with 128 + the signal number, as a shell would report it.

The worker's own frames on fd 4 may be larger than PIPE_BUF, so they are written in
several pieces under an inter-process flock on `SNAKEBRIDGE_LOCK_PATH`. Every write of
the nanny is at most PIPE_BUF bytes (atomic against the worker's small frames, which
take no lock) and is made holding that flock (so it never lands inside a large frame).
A process that leaves the group (setsid) escapes the kill; nothing short of a cgroup
can follow it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Sequence
from typing import IO

from snakebridge._channel import HEADER
from snakebridge._leftovers import remove_dead_beam_dirs, remove_stale_control_dirs
from snakebridge._shm import SEGMENT_DIR_ENV, make_private_directory
from snakebridge._wire import PIPE_BUF, REPLY_FD, REQUEST_FD, Kind, Stream

__all__ = ["DEFAULT_COMMAND", "main", "run"]

DEFAULT_COMMAND = (sys.executable, "-m", "snakebridge._bootstrap")

# What the worker inherits to find the fd-4 write lock.
LOCK_PATH_ENV = "SNAKEBRIDGE_LOCK_PATH"

# Kept for the EXITED frame, which has room for about PIPE_BUF bytes of them anyway.
_STDERR_TAIL_LINES = 50
# How long output may keep coming once the worker's group is dead: only a process that
# escaped the group (or got the pipes passed on) can still hold the pipes open.
_DRAIN_SECONDS = 0.5
# How long the nanny waits, after EXITED, for the BEAM to close the port (see _linger).
_LINGER_SECONDS = 2.0
_READ_SIZE = 64 * 1024
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
# Shell convention for "ended by signal N", used for the nanny's own exit status.
_SIGNAL_EXIT_BASE = 128
# Exit status for a worker that could not be started, as a shell reports it.
_CANNOT_EXECUTE = 127
_USAGE_ERROR = 2

# Frame layouts (docs/PROTOCOL.md), prefix included. LOG: kind, tag_len 0, stream.
_LOG = struct.Struct(HEADER.format + "BBB")
# EXITED: kind, tag_len 0, has_status, status, signal; the stderr tail follows.
_EXITED = struct.Struct(HEADER.format + "BBBiB")
_MAX_LOG_LINE = PIPE_BUF - _LOG.size
_MAX_STDERR_TAIL = PIPE_BUF - _EXITED.size

# UTF-8 continuation bytes are 0b10xxxxxx; a character has at most three of them.
_UTF8_CONTINUATION_MASK = 0xC0
_UTF8_CONTINUATION_BITS = 0x80
_UTF8_MAX_CONTINUATION = 3
_UTF8_CONTINUATION = bytes(range(_UTF8_CONTINUATION_BITS, _UTF8_CONTINUATION_MASK))

_POLL_GONE = select.POLLHUP | select.POLLERR | select.POLLNVAL


class _BeamGone(Exception):
    """fd 3 hung up or fd 4 broke: the BEAM closed the port or died."""


class _Stopped(Exception):
    """The nanny received SIGINT, SIGTERM or SIGHUP."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class _Output:
    """One of the worker's output pipes and its unfinished last line."""

    __slots__ = ("fd", "pending", "pipe", "stream")

    def __init__(self, pipe: IO[bytes], stream: Stream) -> None:
        self.pipe = pipe
        self.fd = pipe.fileno()
        self.stream = stream
        self.pending = bytearray()


class _Nanny:
    def __init__(self, command: Sequence[str]) -> None:
        self._command = command
        self._lock_dir = tempfile.mkdtemp(prefix="snakebridge-")  # mode 0700
        self._lock_path = os.path.join(self._lock_dir, "fd4.lock")
        self._lock_fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        self._stderr_tail: deque[bytes] = deque(maxlen=_STDERR_TAIL_LINES)
        self._outputs: dict[int, _Output] = {}
        self._poller = select.poll()
        # Signals arrive as bytes on this pipe (signal.set_wakeup_fd), so the poll loop
        # handles them in order with everything else and no handler ever raises.
        self._wake_r, self._wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self._process: subprocess.Popen[bytes] | None = None
        # The worker's shared-memory segments, removed with it (see _shm).
        self._segment_dir = make_private_directory("snakebridge-worker-")

    def run(self) -> int:
        for signum in (*_STOP_SIGNALS, signal.SIGCHLD):
            signal.signal(signum, _ignore_signal)
        signal.set_wakeup_fd(self._wake_w, warn_on_full_buffer=False)
        try:
            if not self._start():
                return 0
            stopped: _Stopped | None = None
            try:
                self._supervise()
            except _Stopped as caught:
                stopped = caught
            self._end_worker()
            self._report()
            if stopped is not None:
                return _SIGNAL_EXIT_BASE + stopped.signum
            self._linger()
            return self._worker_status()
        except _BeamGone:
            self._kill_group()
            self._reap()
            remove_dead_beam_dirs()
            return 0
        finally:
            self._close()

    def _start(self) -> bool:
        """Start the worker, or report with EXITED why it could not be started."""
        env = dict(os.environ)
        env[LOCK_PATH_ENV] = self._lock_path
        if self._segment_dir is not None:
            env[SEGMENT_DIR_ENV] = self._segment_dir
        try:
            process = subprocess.Popen(
                self._command,
                pass_fds=(REQUEST_FD, REPLY_FD),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
                env=env,
            )
        except OSError as exc:
            # Reported like a shell would, so the BEAM sees why the worker never ran.
            self._stderr_tail.append(f"snakebridge: cannot start {self._command!r}: {exc}".encode())
            self._send([_exited_frame(_CANNOT_EXECUTE, self._stderr_tail)])
            return False
        self._process = process
        assert process.stdout is not None and process.stderr is not None
        for pipe, stream in ((process.stdout, Stream.STDOUT), (process.stderr, Stream.STDERR)):
            output = _Output(pipe, stream)
            self._outputs[output.fd] = output
            self._poller.register(output.fd, select.POLLIN)
        # Events mask 0: only hang-up and error are reported. The nanny never reads fd 3;
        # the requests on it are the worker's.
        self._poller.register(REQUEST_FD, 0)
        self._poller.register(self._wake_r, select.POLLIN)
        return True

    def _supervise(self) -> None:
        """Forward output until the worker exits (or raise _BeamGone / _Stopped)."""
        while True:
            for fd, events in self._poller.poll():
                if fd == REQUEST_FD:
                    if events & _POLL_GONE:
                        raise _BeamGone
                elif fd == self._wake_r:
                    self._take_signals()
                    if self._worker_exited():
                        return
                else:
                    self._forward(self._outputs[fd])

    def _take_signals(self) -> None:
        try:
            signums = os.read(self._wake_r, _READ_SIZE)
        except BlockingIOError:
            return
        for signum in signums:
            if signum in _STOP_SIGNALS:
                raise _Stopped(signum)

    def _worker_exited(self) -> bool:
        # WNOWAIT leaves the worker a zombie, so its pid and process group id cannot be
        # reused before _end_worker has killed the group.
        assert self._process is not None
        flags = os.WEXITED | os.WNOHANG | os.WNOWAIT
        return os.waitid(os.P_PID, self._process.pid, flags) is not None

    def _end_worker(self) -> None:
        """Kill the group, reap the worker, forward what output is left."""
        self._kill_group()
        self._reap()
        deadline = time.monotonic() + _DRAIN_SECONDS
        while self._outputs:
            timeout = deadline - time.monotonic()
            if timeout <= 0:
                break
            for fd, events in self._poller.poll(timeout * 1000):
                if fd == REQUEST_FD:
                    if events & _POLL_GONE:
                        raise _BeamGone
                elif fd == self._wake_r:
                    # Already on the way out: a stop signal changes nothing now.
                    os.read(self._wake_r, _READ_SIZE)
                else:
                    self._forward(self._outputs[fd])
        for output in list(self._outputs.values()):
            self._close_output(output)

    def _kill_group(self) -> None:
        # Once the worker is reaped its pid, and so the group id, may belong to another.
        if self._process is None or self._process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):  # the group is already empty
            os.killpg(self._process.pid, signal.SIGKILL)

    def _reap(self) -> None:
        if self._process is not None:
            self._process.wait()
            self._remove_segments()
            remove_stale_control_dirs()

    def _remove_segments(self) -> None:
        """Shared-memory segments the worker wrote and nobody read die with it."""
        if self._segment_dir is not None:
            shutil.rmtree(self._segment_dir, ignore_errors=True)
            self._segment_dir = None

    def _report(self) -> None:
        if self._process is not None:
            status = self._process.returncode
            self._send([_exited_frame(status, self._stderr_tail)])

    def _linger(self) -> None:
        """Hold fd 3 open until the BEAM closes the port (at most _LINGER_SECONDS).

        The BEAM closes the port as soon as it reads EXITED. Until then callers may still
        write requests to fd 3; while the nanny holds its read end those writes land in
        the pipe instead of failing with EPIPE, which would close the port before the
        BEAM had read the report waiting on fd 4.
        """
        deadline = time.monotonic() + _LINGER_SECONDS
        while (timeout := deadline - time.monotonic()) > 0:
            for fd, events in self._poller.poll(timeout * 1000):
                if fd == REQUEST_FD and events & _POLL_GONE:
                    return
                if fd == self._wake_r:
                    os.read(self._wake_r, _READ_SIZE)

    def _worker_status(self) -> int:
        """The worker's end as the nanny's exit status: its own status, or 128 + signal.

        The BEAM reads it when no EXITED frame reached it (one the worker tore by dying
        mid-frame, whose bytes the BEAM takes for the rest of that frame).
        """
        assert self._process is not None
        status = self._process.returncode
        return status if status >= 0 else _SIGNAL_EXIT_BASE - status

    def _forward(self, output: _Output) -> None:
        data = os.read(output.fd, _READ_SIZE)
        if not data:
            self._close_output(output)
            return
        pending = output.pending
        pending += data
        frames: list[bytes] = []
        start = 0
        while (newline := pending.find(b"\n", start)) >= 0:
            self._log(output.stream, pending[start:newline], frames)
            start = newline + 1
        del pending[:start]
        # A line still open past one frame's room goes out now, piece by piece, which
        # keeps the nanny's memory bounded whatever the worker writes.
        del pending[: self._log(output.stream, pending, frames, final=False)]
        self._send(frames)

    def _close_output(self, output: _Output) -> None:
        """EOF (or giving up on) a pipe: flush its unfinished last line and close it."""
        if output.pending:
            frames: list[bytes] = []
            self._log(output.stream, output.pending, frames)
            output.pending.clear()
            self._send(frames)
        self._poller.unregister(output.fd)
        del self._outputs[output.fd]
        output.pipe.close()

    def _log(
        self, stream: Stream, line: bytes | bytearray, frames: list[bytes], *, final: bool = True
    ) -> int:
        """Append LOG frames for a line, split so each frame fits PIPE_BUF.

        Pieces end at a UTF-8 character boundary where there is one near the limit, so
        text stays valid text. With `final=False` the line is unfinished and its last
        piece is kept back. Returns the number of bytes sent.
        """
        start = 0
        while len(line) - start > _MAX_LOG_LINE:
            cut = _character_start(line, start + _MAX_LOG_LINE)
            self._log_piece(stream, bytes(line[start:cut]), frames)
            start = cut
        if final:
            self._log_piece(stream, bytes(line[start:]), frames)
            start = len(line)
        return start

    def _log_piece(self, stream: Stream, piece: bytes, frames: list[bytes]) -> None:
        frames.append(_LOG.pack(_LOG.size - HEADER.size + len(piece), Kind.LOG, 0, stream) + piece)
        if stream is Stream.STDERR:
            self._stderr_tail.append(piece)

    def _send(self, frames: list[bytes]) -> None:
        """Write frames to fd 4 under the flock, packed into writes of at most PIPE_BUF."""
        if not frames:
            return
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        try:
            batch = bytearray()
            for frame in frames:
                if len(batch) + len(frame) > PIPE_BUF:
                    _write_atomic(batch)
                    batch.clear()
                batch += frame
            _write_atomic(batch)
        finally:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def _close(self) -> None:
        self._remove_segments()
        signal.set_wakeup_fd(-1)
        os.close(self._wake_r)
        os.close(self._wake_w)
        os.close(self._lock_fd)
        shutil.rmtree(self._lock_dir, ignore_errors=True)


def _ignore_signal(signum: int, frame: object) -> None:
    """Installed so the signal reaches the wakeup pipe instead of its default action."""


def _character_start(data: bytes | bytearray, index: int) -> int:
    """index, moved back to the start of the UTF-8 character it falls in, if any."""
    for back in range(_UTF8_MAX_CONTINUATION + 1):
        if data[index - back] & _UTF8_CONTINUATION_MASK != _UTF8_CONTINUATION_BITS:
            return index - back
    return index  # not UTF-8 here: any cut will do


def _write_atomic(data: bytes | bytearray) -> None:
    # A blocking write of at most PIPE_BUF bytes to a pipe is all or nothing, so no
    # partial-write loop is needed (and none could be made atomic anyway).
    try:
        os.write(REPLY_FD, data)
    except BrokenPipeError as exc:
        raise _BeamGone from exc


def _exited_frame(returncode: int, stderr_tail: deque[bytes]) -> bytes:
    """The EXITED frame for a `Popen.returncode` (negative: killed by that signal)."""
    tail = b"\n".join(stderr_tail)
    if len(tail) > _MAX_STDERR_TAIL:
        tail = tail[-_MAX_STDERR_TAIL:]
        # Start at a whole line when there is one to start at, else at a whole UTF-8
        # character, so the BEAM is not handed a torn first character.
        newline = tail.find(b"\n")
        tail = tail[newline + 1 :] if newline >= 0 else tail.lstrip(_UTF8_CONTINUATION)
    has_status, status, signum = (1, returncode, 0) if returncode >= 0 else (0, 0, -returncode)
    size = _EXITED.size - HEADER.size + len(tail)
    return _EXITED.pack(size, Kind.EXITED, 0, has_status, status, signum) + tail


def run(command: Sequence[str]) -> int:
    """Run the nanny over `command` (the worker); return the nanny's exit status."""
    for fd in (REQUEST_FD, REPLY_FD):
        try:
            os.fstat(fd)
        except OSError:
            print(
                f"snakebridge: fd {fd} is not open; `python -m snakebridge` is run by the "
                f"Erlang port, with requests on fd {REQUEST_FD} and replies on fd {REPLY_FD}",
                file=sys.stderr,
            )
            return _USAGE_ERROR
    return _Nanny(command).run()


def main(argv: Sequence[str]) -> int:
    """`python -m snakebridge [-- COMMAND ARGS...]`: COMMAND replaces the default worker."""
    if not argv:
        return run(DEFAULT_COMMAND)
    if argv[0] == "--" and len(argv) > 1:
        return run(argv[1:])
    print(
        f"usage: python -m snakebridge [-- COMMAND ARGS...], got: {list(argv)!r}",
        file=sys.stderr,
    )
    return _USAGE_ERROR
