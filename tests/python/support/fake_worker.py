"""Plays the worker under the nanny in tests/python/test_nanny.py.

usage: fake_worker.py SCENARIO [ARGS...]; each scenario is a function below.
"""

from __future__ import annotations

import os
import random
import resource
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable

from snakebridge._channel import FrameWriter
from snakebridge._wire import Kind

# Layout of the frames `frames` writes: kind, tag_len, tag "T", frame index, random bytes
# seeded by the index. The test regenerates the bytes to check each frame arrived whole.
FRAME_HEAD = struct.Struct(">BB1sI")
FRAME_SIZES = (0, 10, 4000, 5000, 70_000, 300_000)
STDERR_LINES = 60
LONG_LINE = 10_000
FLOOD_LINES = 60
FLOOD_WIDTH = 195
WIDE_LINE = "é".encode() * 5000


def out(fd: int, text: str | bytes) -> None:
    os.write(fd, text.encode() if isinstance(text, str) else text)


def no_core_dumps() -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def lines(code: str) -> None:
    """Lines of all shapes on both streams, a partial last line, then exit CODE."""
    out(1, "hello\n\n" + "x" * LONG_LINE + "\n")
    for n in range(STDERR_LINES):
        out(2, f"err {n}\n")
    out(1, "partial")
    sys.exit(int(code))


def control_socket() -> None:
    """Bind a control socket the way the worker does, say where, then wait."""
    directory = tempfile.mkdtemp(prefix="snakebridge-")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(os.path.join(directory, "control.sock"))
    listener.listen(1)
    out(1, f"bound {directory}\n")
    time.sleep(60)


def half_frame(code: str) -> None:
    """The first 100 bytes of a 4096-byte frame, then exit CODE."""
    out(4, struct.pack(">I", 4096) + b"x" * 100)
    os._exit(int(code))


def kill_self(name: str) -> None:
    no_core_dumps()
    out(2, f"dying by {name}\n")
    os.kill(os.getpid(), signal.Signals[name])
    time.sleep(60)  # only SIGSTOP-like surprises get here


def abort() -> None:
    no_core_dumps()
    out(2, "aborting\n")
    os.abort()


def grandchild(then: str) -> None:
    """Start `sleep 1000` in the worker's group, report both pids, then exit or wait."""
    child = subprocess.Popen(["sleep", "1000"])
    out(1, f"pids {os.getpid()} {child.pid}\n")
    if then == "exit":
        sys.exit(0)
    wait()


def wait() -> None:
    out(1, "waiting\n")
    while True:
        signal.pause()


def chatter() -> None:
    out(1, f"pid {os.getpid()}\n")
    while True:
        out(1, "chatter\n")


def flood_line(n: int) -> bytes:
    return f"e{n:03d} ".encode() + b"z" * FLOOD_WIDTH


def stderr_flood() -> None:
    """More stderr than the EXITED frame has room for, in lines of one width."""
    for n in range(FLOOD_LINES):
        out(2, flood_line(n) + b"\n")


def wide_line() -> None:
    """One stderr line of two-byte characters, longer than a LOG frame can carry."""
    out(2, WIDE_LINE + b"\n")


def frames(count: str) -> None:
    """Frames of many sizes on fd 4 while a thread keeps the nanny busy with log lines."""
    writer = FrameWriter(4, max_frame=1 << 30, lock_path=os.environ["SNAKEBRIDGE_LOCK_PATH"])
    done = threading.Event()

    def talk() -> None:
        n = 0
        while not done.is_set():
            out(1 + n % 2, f"line {n} " + "y" * (n % 7 * 1500) + "\n")
            n += 1

    talker = threading.Thread(target=talk)
    talker.start()
    for index in range(int(count)):
        size = FRAME_SIZES[index % len(FRAME_SIZES)]
        head = FRAME_HEAD.pack(Kind.OK, 1, b"T", index)
        writer.write_frame([head, random.Random(index).randbytes(size)])
    done.set()
    talker.join()
    out(1, "frames done\n")


SCENARIOS: dict[str, Callable[..., None]] = {
    "lines": lines,
    "half_frame": half_frame,
    "control_socket": control_socket,
    "kill_self": kill_self,
    "abort": abort,
    "grandchild": grandchild,
    "wait": wait,
    "chatter": chatter,
    "stderr_flood": stderr_flood,
    "wide_line": wide_line,
    "frames": frames,
}

if __name__ == "__main__":
    SCENARIOS[sys.argv[1]](*sys.argv[2:])
