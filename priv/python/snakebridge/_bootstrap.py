"""Bootstrap: a worker process's entry point (`python -m snakebridge._bootstrap`).

The nanny starts it with the port's fds (`REQUEST_FD`, `REPLY_FD`). It reads the
environment the BEAM set (see docs/PROTOCOL.md), builds the engine and its control
server, says hello, and runs the main loop until the BEAM closes fd 3. A module of its
own, so the engine's modules are never `__main__` (two copies of them otherwise).
"""

from __future__ import annotations

import base64
import contextlib
import faulthandler
import fcntl
import io
import os
import signal
import sys

from snakebridge._channel import ChannelClosed, FrameReader, FrameWriter
from snakebridge._control import ControlServer
from snakebridge._etf import Atom
from snakebridge._registry import Registry
from snakebridge._wire import PROTOCOL_VERSION, REPLY_FD, REQUEST_FD
from snakebridge._worker import Engine

__all__ = ["main"]

# Room for a few hundred levels of re-entrancy; measured safe on 8 MiB C stacks (the
# Linux default for the main thread and for threads), C-recursive builtins included.
_RECURSION_LIMIT = 10_000


def _widen_pipe(fd: int) -> None:
    """Grow a channel pipe from 64 KiB to the system's maximum (1 MiB by default).

    A request or reply must arrive whole before it is used, so a large one crosses in
    as many writer/reader wake-ups as the pipe has room for: fewer, larger steps halve
    the time of a megabyte. An unprivileged limit or a non-pipe fd just keeps 64 KiB.
    """
    try:
        with open("/proc/sys/fs/pipe-max-size", "rb") as limit:
            size = int(limit.read())
        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, size)
    except (OSError, ValueError):
        pass


def main() -> None:
    """Entry point of a worker process (started by the nanny)."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(line_buffering=True)
    faulthandler.enable()
    sys.setrecursionlimit(max(sys.getrecursionlimit(), _RECURSION_LIMIT))
    env = os.environ
    extra_paths = [p for p in env.get("SNAKEBRIDGE_PYTHON_PATH", "").split(os.pathsep) if p]
    sys.path[0:0] = extra_paths
    max_frame = int(env.get("SNAKEBRIDGE_MAX_FRAME", str(2**32 - 1)))
    for fd in (REQUEST_FD, REPLY_FD):
        os.set_inheritable(fd, False)
        _widen_pipe(fd)
    if "SNAKEBRIDGE_WORKER" not in env:
        sys.exit("snakebridge: SNAKEBRIDGE_WORKER is not set; workers are started by SnakeBridge")
    # The ETF of the worker's identity, without its version byte: copied into every Ref.
    worker_term = base64.b64decode(env["SNAKEBRIDGE_WORKER"])[1:]
    engine = Engine(
        reader=FrameReader(REQUEST_FD, max_frame=max_frame),
        writer=FrameWriter(
            REPLY_FD, max_frame=max_frame, lock_path=env.get("SNAKEBRIDGE_LOCK_PATH")
        ),
        registry=Registry(max_refs=int(env.get("SNAKEBRIDGE_MAX_REFS", "1000000"))),
        worker_term=worker_term,
        shm_threshold=int(env.get("SNAKEBRIDGE_SHM_THRESHOLD", "0")),
    )
    signal.signal(signal.SIGINT, engine.cancellation.on_interrupt)
    control = ControlServer(engine.control.handle, max_frame=max_frame)
    control.start()
    engine.replies.send_event(
        (
            Atom("hello"),
            {
                Atom("protocol"): PROTOCOL_VERSION,
                Atom("python"): sys.version.split()[0],
                Atom("pid"): os.getpid(),
                Atom("control"): control.path,
            },
        )
    )
    with contextlib.suppress(ChannelClosed):
        engine.run()
    sys.stdout.flush()
    sys.stderr.flush()
    # os._exit: threads the user's code started must not keep a worker alive after the
    # BEAM has closed its channel.
    os._exit(0)


if __name__ == "__main__":
    main()
