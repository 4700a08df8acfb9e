"""FrameReader and FrameWriter over real pipes and sockets."""

from __future__ import annotations

import array
import os
import random
import select
import signal
import socket
import struct
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from snakebridge._channel import HEADER, ChannelClosed, FrameReader, FrameTooLarge, FrameWriter
from snakebridge._wire import PIPE_BUF

BIG = 1 << 30
READ_BUFFER = 64 * 1024  # the reader's buffer size, which the boundary cases straddle
# Only stops a broken reader or writer from hanging the suite.
HANG_SECONDS = 20


class Interrupted(Exception):
    """Raised by the test's SIGUSR1 handler."""


class Pipe:
    def __init__(self) -> None:
        self.r, self.w = os.pipe()

    def close_w(self) -> None:
        if self.w >= 0:
            os.close(self.w)
            self.w = -1

    def close(self) -> None:
        self.close_w()
        if self.r >= 0:
            os.close(self.r)
            self.r = -1


@pytest.fixture
def pipe() -> Iterator[Pipe]:
    p = Pipe()
    yield p
    p.close()


class Background:
    """Runs fn in a thread; join() re-raises what it raised and returns its result."""

    def __init__(self, fn: Callable[[], object]) -> None:
        self._result: list[object] = []
        self._error: list[BaseException] = []
        self._thread = threading.Thread(target=self._run, args=(fn,))
        self._thread.start()

    @property
    def native_id(self) -> int:
        assert self._thread.native_id is not None
        return self._thread.native_id

    def _run(self, fn: Callable[[], object]) -> None:
        try:
            self._result.append(fn())
        except BaseException as exc:  # handed to join()
            self._error.append(exc)

    def join(self) -> object:
        self._thread.join(HANG_SECONDS)
        assert not self._thread.is_alive(), f"thread still running after {HANG_SECONDS} s"
        if self._error:
            raise self._error[0]
        return self._result[0]


def send_then_close(pipe: Pipe, *senders: Callable[[], object]) -> Background:
    """Run each sender in its own thread, then close the pipe's write end.

    Closing it makes a reader that has lost its place fail with EOF instead of hanging.
    """
    threads = [Background(sender) for sender in senders]

    def close_when_done() -> None:
        try:
            for thread in threads:
                thread.join()
        finally:
            pipe.close_w()

    return Background(close_when_done)


def frame(payload: bytes) -> bytes:
    return HEADER.pack(len(payload)) + payload


def payload_of(size: int, seed: object = 0) -> bytes:
    return random.Random(str(seed)).randbytes(size)


def pipe_is_empty(fd: int) -> bool:
    return not select.select([fd], [], [], 0)[0]


def blocked_in_syscall(tid: int, fd: int, iov_count: int | None = None) -> bool:
    """Whether thread tid is blocked in a syscall whose first argument is fd.

    /proc/self/task/TID/syscall reads "NR ARG0 ARG1 ARG2 ..." while the thread is in a
    syscall. For readv and writev ARG2 is the number of buffers.
    """
    fields = Path(f"/proc/self/task/{tid}/syscall").read_text().split()
    if len(fields) < 4 or fields[0] in ("running", "-1"):
        return False
    if int(fields[1], 16) != fd:
        return False
    return iov_count is None or int(fields[3], 16) == iov_count


def wait_until_blocked(tid: int, fd: int, iov_count: int | None = None) -> None:
    deadline = time.monotonic() + HANG_SECONDS
    while not blocked_in_syscall(tid, fd, iov_count):
        assert time.monotonic() < deadline, "the thread never blocked on the fd"
        time.sleep(0.001)


@pytest.fixture
def raising_sigusr1() -> Iterator[None]:
    def handler(signum: int, frame: object) -> None:
        raise Interrupted

    previous = signal.signal(signal.SIGUSR1, handler)
    yield
    signal.signal(signal.SIGUSR1, previous)


def interrupt_main_when_blocked(fd: int) -> Background:
    """Send SIGUSR1 to the main thread once it blocks in a syscall on fd."""
    main = threading.main_thread()
    assert main.native_id is not None and main.ident is not None
    tid, ident = main.native_id, main.ident

    def interrupt() -> None:
        wait_until_blocked(tid, fd)
        signal.pthread_kill(ident, signal.SIGUSR1)

    return Background(interrupt)


@pytest.mark.parametrize(
    "size",
    [
        0,
        1,
        100,
        PIPE_BUF - HEADER.size,
        PIPE_BUF - HEADER.size + 1,
        READ_BUFFER - HEADER.size - 1,
        READ_BUFFER - HEADER.size,  # exactly fills the read buffer
        READ_BUFFER - HEADER.size + 1,  # the smallest frame that gets its own buffer
        READ_BUFFER - 1,
        READ_BUFFER,
        READ_BUFFER + 1,
        10_000_000,
    ],
)
def test_round_trips_a_frame_and_the_frame_after_it(pipe, size):
    payload = payload_of(size, size)
    writer = FrameWriter(pipe.w, max_frame=BIG)
    reader = FrameReader(pipe.r, max_frame=BIG)

    def send() -> None:
        writer.write_frame([payload[: size // 3], bytearray(payload[size // 3 :])])
        writer.write_frame([b"next"])

    sending = send_then_close(pipe, send)
    assert reader.read_frame() == payload
    assert reader.read_frame() == b"next"
    sending.join()


def test_round_trips_frames_of_every_size_back_to_back(pipe):
    sizes = [0, 1, 5000, READ_BUFFER, 3, 200_000, READ_BUFFER - HEADER.size, 7, 70_000] * 20
    writer = FrameWriter(pipe.w, max_frame=BIG)
    reader = FrameReader(pipe.r, max_frame=BIG)
    sending = send_then_close(
        pipe, lambda: [writer.write_frame([payload_of(s, i)]) for i, s in enumerate(sizes)]
    )
    for i, size in enumerate(sizes):
        assert reader.read_frame() == payload_of(size, i)
    sending.join()


def test_memoryview_chunks_count_their_bytes_not_their_items(pipe):
    doubles = array.array("d", [1.5, -2.0, 3.25])
    FrameWriter(pipe.w, max_frame=BIG).write_frame([memoryview(doubles), memoryview(b"end")])
    view = FrameReader(pipe.r, max_frame=BIG).read_frame()
    assert view == doubles.tobytes() + b"end"


def test_frames_already_buffered_are_returned_without_a_syscall(pipe):
    payloads = [payload_of(n % 50, n) for n in range(100)]
    os.write(pipe.w, b"".join(map(frame, payloads)))
    reader = FrameReader(pipe.r, max_frame=BIG)

    assert reader.read_frame() == payloads[0]
    # Any further read would now fail with EBADF: the rest must come from the buffer.
    pipe.close()
    for payload in payloads[1:]:
        assert reader.read_frame() == payload
    with pytest.raises(OSError, match="Bad file descriptor"):
        reader.read_frame()


def test_the_writer_refuses_a_frame_over_max_frame_before_writing_a_byte(pipe):
    writer = FrameWriter(pipe.w, max_frame=10)
    with pytest.raises(FrameTooLarge, match=r"11 bytes.* 10 bytes") as raised:
        writer.write_frame([b"12345", bytearray(b"678901")])
    assert (raised.value.size, raised.value.limit) == (11, 10)
    assert pipe_is_empty(pipe.r)

    writer.write_frame([b"1234567890"])
    assert FrameReader(pipe.r, max_frame=10).read_frame() == b"1234567890"


def test_the_reader_rejects_a_buffered_frame_over_max_frame_then_reads_on(pipe):
    os.write(pipe.w, frame(b"first") + frame(b"x" * 101) + frame(b"next"))
    reader = FrameReader(pipe.r, max_frame=100)

    assert reader.read_frame() == b"first"
    with pytest.raises(FrameTooLarge, match=r"101 bytes.* 100 bytes") as raised:
        reader.read_frame()
    assert (raised.value.size, raised.value.limit) == (101, 100)
    assert reader.read_frame() == b"next"


def test_the_reader_discards_a_large_rejected_frame_in_bounded_memory(pipe):
    size = 20_000_000
    payload = payload_of(size)
    reader = FrameReader(pipe.r, max_frame=1000)
    writer = FrameWriter(pipe.w, max_frame=BIG)
    sending = send_then_close(
        pipe, lambda: [writer.write_frame([payload]), writer.write_frame([b"next"])]
    )

    tracemalloc.start()
    try:
        with pytest.raises(FrameTooLarge) as raised:
            reader.read_frame()
        assert reader.read_frame() == b"next"
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    sending.join()
    assert raised.value.size == size
    assert peak < READ_BUFFER


def test_the_reader_does_not_allocate_a_declared_length_it_rejects(pipe):
    largest = (1 << (8 * HEADER.size)) - 1
    os.write(pipe.w, HEADER.pack(largest))
    pipe.close_w()
    reader = FrameReader(pipe.r, max_frame=1000)

    tracemalloc.start()
    try:
        with pytest.raises(FrameTooLarge) as raised:
            reader.read_frame()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert raised.value.size == largest
    assert peak < READ_BUFFER
    with pytest.raises(ChannelClosed, match="mid-frame"):
        reader.read_frame()


@pytest.mark.parametrize("max_frame", [-1, 1 << (8 * HEADER.size)])
def test_max_frame_must_fit_the_length_prefix(pipe, max_frame):
    with pytest.raises(ValueError, match=f"got: {max_frame}"):
        FrameReader(pipe.r, max_frame=max_frame)
    with pytest.raises(ValueError, match=f"got: {max_frame}"):
        FrameWriter(pipe.w, max_frame=max_frame)


def test_concurrent_writers_never_interleave_their_frames(pipe, tmp_path):
    threads, per_thread = 8, 60
    sizes = [0, 1, 100, PIPE_BUF - HEADER.size, PIPE_BUF, 10_000, 70_000, 200_000]
    writer = FrameWriter(pipe.w, max_frame=BIG, lock_path=str(tmp_path / "lock"))
    reader = FrameReader(pipe.r, max_frame=BIG)
    stamp = struct.Struct(">BI")

    def write_all(thread: int) -> None:
        rng = random.Random(thread)
        for seq in range(per_thread):
            body = payload_of(rng.choice(sizes), (thread, seq))
            cut = rng.randrange(len(body) + 1)
            # Mixed chunk types, including empty ones.
            writer.write_frame(
                [stamp.pack(thread, seq), body[:cut], memoryview(body)[cut:], bytearray()]
            )

    sending = send_then_close(pipe, *(lambda t=t: write_all(t) for t in range(threads)))
    next_seq = [0] * threads
    for _ in range(threads * per_thread):
        view = reader.read_frame()
        thread, seq = stamp.unpack_from(view)
        assert seq == next_seq[thread]
        next_seq[thread] += 1
        assert view[stamp.size :] == payload_of(len(view) - stamp.size, (thread, seq))
    sending.join()
    assert next_seq == [per_thread] * threads


@pytest.mark.parametrize("chunk_size", [1, 7])
def test_a_frame_of_more_chunks_than_iov_max_is_written_in_batches(pipe, chunk_size):
    count = 2 * os.sysconf("SC_IOV_MAX") + 5
    chunks = [bytes([i % 256]) * chunk_size for i in range(count)]
    writer = FrameWriter(pipe.w, max_frame=BIG)
    writer.write_frame(chunks)
    writer.write_frame([b"next"])
    reader = FrameReader(pipe.r, max_frame=BIG)
    assert reader.read_frame() == b"".join(chunks)
    assert reader.read_frame() == b"next"


def test_a_short_write_is_resumed_where_it_stopped():
    # A send timeout makes writev on a socket return early with what it has sent, the
    # one kind of short write a blocking descriptor produces without a signal.
    ours, theirs = socket.socketpair()
    send_timeout = struct.pack("ll", 0, 200_000)  # 0.2 s
    ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, send_timeout)
    payload = payload_of(4_000_000)
    writer = FrameWriter(ours.fileno(), max_frame=BIG)
    try:

        def send() -> None:
            try:
                writer.write_frame([b"head", payload])
            finally:
                ours.shutdown(socket.SHUT_WR)  # EOF, not a hang, for a lost reader

        sending = Background(send)
        # The first writev has three buffers (prefix, "head", payload). Only once it has
        # timed out, short, and a second writev with the payload's rest is waiting does
        # the reader start, so the second one succeeds.
        wait_until_blocked(sending.native_id, ours.fileno(), iov_count=1)
        reader = FrameReader(theirs.fileno(), max_frame=BIG)
        assert reader.read_frame() == b"head" + payload
        sending.join()
    finally:
        ours.close()
        theirs.close()


def test_eof_at_a_frame_boundary_is_a_clean_close(pipe):
    os.write(pipe.w, frame(b"last"))
    pipe.close_w()
    reader = FrameReader(pipe.r, max_frame=BIG)
    assert reader.read_frame() == b"last"
    with pytest.raises(ChannelClosed, match="clean EOF"):
        reader.read_frame()


@pytest.mark.parametrize(
    ("data", "max_frame"),
    [
        (frame(b"abc")[:2], BIG),  # inside the prefix
        (frame(b"abcdef")[:-2], BIG),  # inside a small frame
        (frame(b"z" * 100_000)[:-2], BIG),  # inside a frame with its own buffer
        (frame(b"z" * 100_000)[:-2], 10),  # inside a rejected frame being discarded
    ],
)
def test_eof_inside_a_frame_is_reported_as_mid_frame(pipe, data, max_frame):
    reader = FrameReader(pipe.r, max_frame=max_frame)
    sending = send_then_close(pipe, lambda: os.write(pipe.w, data))
    if max_frame < len(data):
        with pytest.raises(FrameTooLarge):
            reader.read_frame()
    with pytest.raises(ChannelClosed, match="mid-frame"):
        reader.read_frame()
    sending.join()


@pytest.mark.parametrize(
    ("size", "sent_first", "max_frame"),
    [
        (1000, 2, BIG),  # blocked inside the length prefix
        (1000, HEADER.size + 500, BIG),  # inside a small frame
        (100_000, HEADER.size + 50_000, BIG),  # inside a frame with its own buffer
        (100_000, HEADER.size + 50_000, 1000),  # discarding a rejected frame
    ],
)
def test_a_signal_handler_raising_mid_frame_leaves_the_reader_consistent(
    pipe, raising_sigusr1, size, sent_first, max_frame
):
    data = frame(payload_of(size)) + frame(b"next")
    os.write(pipe.w, data[:sent_first])
    reader = FrameReader(pipe.r, max_frame=max_frame)
    if size > max_frame:
        with pytest.raises(FrameTooLarge):
            reader.read_frame()

    interrupter = interrupt_main_when_blocked(pipe.r)
    with pytest.raises(Interrupted):
        reader.read_frame()
    interrupter.join()

    os.write(pipe.w, data[sent_first:])
    pipe.close_w()  # a reader that lost its place fails with EOF instead of hanging
    if size <= max_frame:
        assert reader.read_frame() == payload_of(size)
    assert reader.read_frame() == b"next"


def test_a_signal_handler_raising_mid_write_cannot_tear_a_frame(pipe, raising_sigusr1):
    payload = payload_of(3_000_000)
    writer = FrameWriter(pipe.w, max_frame=BIG)
    main = threading.main_thread()
    assert main.native_id is not None and main.ident is not None
    tid, ident = main.native_id, main.ident

    def interrupt_then_read() -> list[bytes]:
        wait_until_blocked(tid, pipe.w)
        signal.pthread_kill(ident, signal.SIGUSR1)
        reader = FrameReader(pipe.r, max_frame=BIG)
        return [bytes(reader.read_frame()) for _ in range(2)]

    reading = Background(interrupt_then_read)
    # The handler runs once the frame is whole, not in the middle of it.
    with pytest.raises(Interrupted):
        writer.write_frame([payload])
    writer.write_frame([b"after"])
    try:
        assert reading.join() == [payload, b"after"]
    finally:
        pipe.close_w()  # unblocks a reader left waiting on a torn frame


def test_a_forked_child_reads_eof_and_writes_nowhere(pipe):
    reply = Pipe()
    reader = FrameReader(pipe.r, max_frame=BIG)
    writer = FrameWriter(reply.w, max_frame=BIG)
    # Two frames buffered in the parent's reader before the fork: the child gets neither.
    os.write(pipe.w, HEADER.pack(1) + b"a" + HEADER.pack(1) + b"b")
    assert bytes(reader.read_frame()) == b"a"
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            reader.read_frame()
        except ChannelClosed:
            writer.write_frame([b"from the child"])
            status = 0
        finally:
            os._exit(status)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    # The parent's reader still has its buffered frame, and the reply pipe saw nothing.
    assert bytes(reader.read_frame()) == b"b"
    writer.write_frame([b"from the parent"])
    reply_reader = FrameReader(reply.r, max_frame=BIG)
    assert bytes(reply_reader.read_frame()) == b"from the parent"


def test_wait_readable_nests_inside_a_signal_handler_of_its_own_wait() -> None:
    # A signal handler that calls Elixir runs inside main's wait and waits again on
    # the same reader: a poll object refuses a second poll() while one is in progress.
    read_fd, write_fd = os.pipe()
    reader = FrameReader(read_fd, max_frame=1024)
    nested: list[bool] = []

    def handler(signum: int, frame: object) -> None:
        os.write(write_fd, HEADER.pack(3) + b"abc")
        reader.wait_readable()
        nested.append(True)

    previous = signal.signal(signal.SIGALRM, handler)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        reader.wait_readable()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        os.close(write_fd)
    assert nested == [True]
    assert bytes(reader.read_frame()) == b"abc"
    os.close(read_fd)
