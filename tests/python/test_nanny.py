"""The nanny (`python -m snakebridge`), run as the Erlang port runs it.

Each test plays the BEAM: it makes the request and reply pipes, starts the nanny on fds
3 and 4 through support/port_launch.py, with support/fake_worker.py as the worker, and
reads every frame the nanny and the worker write to fd 4.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import fake_worker
import pytest

import snakebridge._channel
from snakebridge._channel import HEADER, ChannelClosed, FrameReader
from snakebridge._wire import PIPE_BUF, Kind, Stream

SUPPORT = Path(__file__).parent / "support"
# The children import the same snakebridge as the tests.
PACKAGE_ROOT = Path(snakebridge._channel.__file__).parent.parent

# Nothing here should take long; this only stops a broken nanny from hanging the suite.
HANG_SECONDS = 20

EXITED = struct.Struct(">BiB")
LOG_HEAD = 3  # kind, tag_len, stream
EXITED_HEAD = 2 + EXITED.size  # kind, tag_len, then has_status, status, signal


@contextmanager
def hang_guard(message: str) -> Iterator[None]:
    """Fail with `message` if the block is still blocked after HANG_SECONDS."""

    def hung(signum: int, frame: object) -> None:
        raise AssertionError(message)

    previous = signal.signal(signal.SIGALRM, hung)
    signal.setitimer(signal.ITIMER_REAL, HANG_SECONDS)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass(frozen=True)
class Log:
    stream: Stream
    line: bytes


@dataclass(frozen=True)
class Exited:
    has_status: int
    status: int
    signal: int
    stderr_tail: bytes


@dataclass(frozen=True)
class Reply:
    index: int
    payload: bytes


Frame = Log | Exited | Reply


def parse(frame: bytes) -> Frame:
    kind, tag_len = frame[0], frame[1]
    if kind == Kind.LOG:
        assert tag_len == 0
        assert HEADER.size + len(frame) <= PIPE_BUF
        return Log(Stream(frame[2]), frame[LOG_HEAD:])
    if kind == Kind.EXITED:
        assert tag_len == 0
        assert HEADER.size + len(frame) <= PIPE_BUF
        has_status, status, signum = EXITED.unpack_from(frame, 2)
        return Exited(has_status, status, signum, frame[EXITED_HEAD:])
    kind, tag_len, tag, index = fake_worker.FRAME_HEAD.unpack_from(frame)
    assert (kind, tag_len, tag) == (Kind.OK, 1, b"T"), frame[:16]
    return Reply(index, frame[fake_worker.FRAME_HEAD.size :])


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, (str(PACKAGE_ROOT), os.environ.get("PYTHONPATH")))
    )
    return env


class Port:
    """The BEAM's side of one nanny: fd 3's write end and fd 4's read end."""

    def __init__(self, command: list[str]) -> None:
        request_r, self.request_w = os.pipe()
        self.reply_r, reply_w = os.pipe()
        self.nanny = subprocess.Popen(
            [
                *(sys.executable, str(SUPPORT / "port_launch.py"), str(request_r), str(reply_w)),
                *(sys.executable, "-m", "snakebridge", "--", *command),
            ],
            pass_fds=(request_r, reply_w),
            stdin=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=child_env(),
        )
        os.close(request_r)
        os.close(reply_w)
        self.reader = FrameReader(self.reply_r, max_frame=1 << 30)

    def frame(self) -> Frame | None:
        """The next frame, or None at EOF (nanny and worker both gone)."""
        with hang_guard(f"no frame within {HANG_SECONDS} s"):
            try:
                return parse(bytes(self.reader.read_frame()))
            except ChannelClosed:
                return None

    def frames(self) -> list[Frame]:
        """Every frame up to EOF."""
        frames = []
        while (frame := self.frame()) is not None:
            frames.append(frame)
        return frames

    def log_until(self, prefix: bytes) -> bytes:
        """Skip frames up to the first log line that starts with `prefix`; return it."""
        while True:
            frame = self.frame()
            assert frame is not None, f"EOF before a line starting with {prefix!r}"
            if isinstance(frame, Log) and frame.line.startswith(prefix):
                return frame.line

    def finish(self) -> tuple[int, bytes]:
        """Wait for the nanny; return its exit status and what it wrote to stderr."""
        assert self.nanny.stderr is not None
        stderr = self.nanny.stderr.read()
        return self.nanny.wait(HANG_SECONDS), stderr

    def close(self) -> None:
        # Closing fd 3 first lets a working nanny take its worker group down with it;
        # SIGKILL is for one that does not.
        for fd in (self.request_w, self.reply_r):
            if fd >= 0:
                os.close(fd)
        self.request_w = self.reply_r = -1
        try:
            self.nanny.wait(HANG_SECONDS)
        except subprocess.TimeoutExpired:
            self.nanny.kill()
            self.nanny.wait()
        if self.nanny.stderr is not None:
            self.nanny.stderr.close()

    def close_requests(self) -> None:
        """What the BEAM's death does to the nanny: fd 3's last writer goes away."""
        os.close(self.request_w)
        self.request_w = -1


class PortFactory(Protocol):
    def __call__(self, *worker_args: str, command: list[str] | None = None) -> Port: ...


@pytest.fixture
def start() -> Iterator[PortFactory]:
    """Start a nanny over support/fake_worker.py WORKER_ARGS (or over `command`)."""
    ports: list[Port] = []

    def start(*worker_args: str, command: list[str] | None = None) -> Port:
        if command is None:
            command = [sys.executable, str(SUPPORT / "fake_worker.py"), *worker_args]
        port = Port(command)
        ports.append(port)
        return port

    yield start
    for port in ports:
        port.close()


def logs(frames: list[Frame], stream: Stream) -> list[bytes]:
    return [f.line for f in frames if isinstance(f, Log) and f.stream == stream]


def alive(pid: int) -> bool:
    """Whether pid is a live process; a zombie (nobody may reap it here) counts as dead."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


def wait_dead(pids: list[int], deadline: float) -> list[int]:
    """Poll until all pids are dead or the deadline passes; return those still alive."""
    while (living := [pid for pid in pids if alive(pid)]) and time.monotonic() < deadline:
        time.sleep(0.01)
    return living


def test_forwards_each_line_as_a_log_frame_then_reports_the_exit_status(start):
    port = start("lines", "3")
    frames = port.frames()

    long_line = b"x" * fake_worker.LONG_LINE
    max_piece = PIPE_BUF - HEADER.size - LOG_HEAD
    pieces = [long_line[i : i + max_piece] for i in range(0, len(long_line), max_piece)]
    assert len(pieces) > 1
    assert logs(frames, Stream.STDOUT) == [b"hello", b"", *pieces, b"partial"]
    stderr_lines = [f"err {n}".encode() for n in range(fake_worker.STDERR_LINES)]
    assert logs(frames, Stream.STDERR) == stderr_lines

    assert frames[-1] == Exited(1, 3, 0, b"\n".join(stderr_lines[-50:]))
    assert sum(isinstance(f, Exited) for f in frames) == 1
    # The nanny's own status is the worker's (the BEAM's fallback, see _worker_status).
    assert port.finish() == (3, b"")


@pytest.mark.parametrize(
    ("scenario", "signum", "stderr_line"),
    [
        (("kill_self", "SIGSEGV"), signal.SIGSEGV, b"dying by SIGSEGV"),
        (("kill_self", "SIGKILL"), signal.SIGKILL, b"dying by SIGKILL"),
        (("abort",), signal.SIGABRT, b"aborting"),
    ],
)
def test_reports_the_signal_that_killed_the_worker(start, scenario, signum, stderr_line):
    port = start(*scenario)
    frames = port.frames()

    assert frames[-1] == Exited(0, 0, signum, stderr_line)
    assert port.finish() == (128 + signum, b"")


def test_the_stderr_tail_is_cut_from_the_front_at_a_line_start_to_fit_the_frame(start):
    port = start("stderr_flood")
    frames = port.frames()

    lines = logs(frames, Stream.STDERR)
    assert lines == [fake_worker.flood_line(n) for n in range(fake_worker.FLOOD_LINES)]
    room = PIPE_BUF - HEADER.size - EXITED_HEAD
    fitting = (room + 1) // (len(lines[0]) + 1)  # lines are joined by one newline
    assert frames[-1] == Exited(1, 0, 0, b"\n".join(lines[-fitting:]))


def test_long_lines_are_split_at_utf8_character_boundaries(start):
    port = start("wide_line")
    frames = port.frames()

    pieces = logs(frames, Stream.STDERR)
    assert len(pieces) > 1
    assert b"".join(pieces) == fake_worker.WIDE_LINE
    for piece in pieces:
        assert HEADER.size + LOG_HEAD + len(piece) <= PIPE_BUF
        piece.decode()  # each piece is whole characters
    exited = frames[-1]
    assert isinstance(exited, Exited)
    assert exited.stderr_tail == pieces[-1]


def test_worker_frames_and_nanny_log_frames_never_corrupt_each_other(start):
    count = 60
    port = start("frames", str(count))
    frames = port.frames()

    replies = [f for f in frames if isinstance(f, Reply)]
    assert [r.index for r in replies] == list(range(count))
    for reply in replies:
        size = fake_worker.FRAME_SIZES[reply.index % len(fake_worker.FRAME_SIZES)]
        assert reply.payload == random.Random(reply.index).randbytes(size)
    stdout = logs(frames, Stream.STDOUT)
    assert stdout[-1] == b"frames done"
    assert all(line.startswith((b"line ", b"y")) for line in stdout[:-1])
    assert isinstance(frames[-1], Exited)
    assert port.finish() == (0, b"")


def test_kills_what_the_worker_started_when_the_worker_exits(start):
    port = start("grandchild", "exit")
    _, worker, grandchild = port.log_until(b"pids ").split()
    frames = port.frames()

    assert frames[-1] == Exited(1, 0, 0, b"")
    assert port.finish() == (0, b"")
    # The nanny has waited for the group's kill to close the pipes, so this is prompt.
    assert wait_dead([int(worker), int(grandchild)], time.monotonic() + HANG_SECONDS) == []


def test_when_the_beam_goes_away_nanny_worker_and_grandchild_exit(start):
    port = start("grandchild", "wait")
    _, worker, grandchild = port.log_until(b"pids ").split()
    port.log_until(b"waiting")

    port.close_requests()

    # The worker waits forever and its group is killed only by the nanny: once the
    # nanny has exited, both are dead (or about to be reaped).
    port.nanny.wait(HANG_SECONDS)
    assert wait_dead([int(worker), int(grandchild)], time.monotonic() + HANG_SECONDS) == []
    # Nobody is listening any more, so the nanny sends nothing.
    assert port.frames() == []
    assert port.finish() == (0, b"")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_stop_signal_kills_the_worker_group_and_reports_it(start, signum):
    port = start("grandchild", "wait")
    _, worker, grandchild = port.log_until(b"pids ").split()
    port.log_until(b"waiting")

    port.nanny.send_signal(signum)
    frames = port.frames()

    assert frames == [Exited(0, 0, signal.SIGKILL, b"")]
    assert port.finish() == (128 + signum, b"")
    assert wait_dead([int(worker), int(grandchild)], time.monotonic() + HANG_SECONDS) == []


def test_a_broken_reply_pipe_makes_the_nanny_clean_up_quietly(start):
    port = start("chatter")
    worker = int(port.log_until(b"pid ").split()[1])

    # The BEAM's read end of fd 4 closes while fd 3 stays open: the nanny learns of it
    # from the EPIPE of its next write, which the worker's chatter soon provokes.
    os.close(port.reply_r)
    port.reply_r = -1

    assert port.finish() == (0, b"")
    assert wait_dead([worker], time.monotonic() + HANG_SECONDS) == []


def test_reports_a_worker_that_cannot_be_started(start, tmp_path):
    missing = str(tmp_path / "no-such-worker")
    port = start(command=[missing])
    frames = port.frames()

    assert len(frames) == 1
    exited = frames[0]
    assert isinstance(exited, Exited)
    assert (exited.has_status, exited.status, exited.signal) == (1, 127, 0)
    assert missing.encode() in exited.stderr_tail
    assert port.finish() == (0, b"")


def test_refuses_to_run_without_the_port_fds():
    result = subprocess.run(
        [sys.executable, "-m", "snakebridge", "--", "true"],
        capture_output=True,
        env=child_env(),
        timeout=HANG_SECONDS,
        check=False,
    )
    assert result.returncode == 2
    assert b"fd 3 is not open" in result.stderr


def test_after_its_report_the_nanny_holds_fd_3_until_the_beam_closes_it(start):
    port = start("lines", "0")
    while not isinstance(port.frame(), Exited):
        pass
    # The report is out; a request written now still finds a reader (no EPIPE, which
    # would close the BEAM's port before it had read the report), until fd 3 closes.
    os.write(port.request_w, b"\0\0\0\0")
    port.close_requests()
    assert port.finish() == (0, b"")


def test_a_control_directory_left_by_a_worker_killed_while_starting_is_removed(
    start, tmp_path, monkeypatch
):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    port = start("control_socket")
    directory = port.log_until(b"bound ").split()[1].decode()
    assert os.path.exists(os.path.join(directory, "control.sock"))
    # A live worker's directory beside it, whose socket is still bound: kept.
    live = tmp_path / "snakebridge-live"
    live.mkdir()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(live / "control.sock"))
    try:
        port.close_requests()  # the pool stops while its worker starts
        assert port.finish()[0] == 0
        assert not os.path.exists(directory)
        assert (live / "control.sock").exists()
    finally:
        listener.close()


def test_a_report_torn_by_a_half_written_frame_still_reaches_the_beam_as_the_status(start):
    port = start("half_frame", "3")
    frames = port.frames()
    # The frame header promised more than came, so the EXITED frame is lost inside it.
    assert not any(isinstance(f, Exited) for f in frames)
    assert port.finish() == (3, b"")
