"""An in-process Engine wired to pipes, for tests that feed it frames one by one."""

from __future__ import annotations

import os
import signal
import struct
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from snakebridge._channel import FrameReader, FrameWriter
from snakebridge._etf import Atom, Decoder, FunHook, StructHook
from snakebridge._registry import Registry
from snakebridge._request import build_header
from snakebridge._terms import make_encoder
from snakebridge._worker import Engine

# The ETF of {:test, 0, 1} without its version byte: the identity refs carry (error
# replies hold a ref to the exception).
WORKER_TERM = b"h\x03w\x04testa\x00a\x01"


def module_name(name: str) -> dict[Atom, Any]:
    """A module named the way Elixir names the target of a CALL (a ref is the object)."""
    return {Atom("__struct__"): Atom("Elixir.SnakeBridge.Call.ModuleName"), Atom("name"): name}


@contextmanager
def engine_with_pipes() -> Iterator[tuple[Engine, int]]:
    """An engine, and the fd its replies can be read back from."""
    with engine_fed_by_pipe() as (engine, _request_w, reply_r):
        yield engine, reply_r


@contextmanager
def engine_fed_by_pipe() -> Iterator[tuple[Engine, int, int]]:
    """An engine, the fd to write the frames it reads on fd 3 to (length-prefixed, as
    Elixir writes them), and the fd its replies can be read back from."""
    request_r, request_w = os.pipe()
    reply_r, reply_w = os.pipe()
    engine = Engine(
        reader=FrameReader(request_r, max_frame=1 << 20),
        writer=FrameWriter(reply_w, max_frame=1 << 20),
        registry=Registry(max_refs=100),
        worker_term=WORKER_TERM,
    )
    # The control thread interrupts main with SIGINT; here main is the test itself.
    previous = signal.signal(signal.SIGINT, engine.cancellation.on_interrupt)
    try:
        yield engine, request_w, reply_r
    finally:
        signal.signal(signal.SIGINT, previous)
        for fd in (request_r, request_w, reply_r, reply_w):
            os.close(fd)


def request_frame(
    op: int,
    body: tuple[Any, ...],
    *,
    tag: bytes = b"",
    flags: int = 0,
    caller: int = 0,
    parent: bytes = b"",
) -> memoryview:
    """A request frame as Elixir sends it (session 0)."""
    head = build_header(op, flags=flags, tag=tag, caller=caller, parent=parent)
    chunks = make_encoder(fallback=lambda enc, obj: None).encode(body)
    return memoryview(head + b"".join(bytes(c) for c in chunks))


def read_reply(
    reply_fd: int, structs: Mapping[str, StructHook] | None = None, fun: FunHook | None = None
) -> tuple[int, bytes, Any]:
    """The next reply frame: its kind, tag and decoded payload (`structs` and `fun` as
    `Decoder`'s; a ref, such as an error's `ref`, decodes as ("ref", its type name) by
    default)."""
    (size,) = struct.unpack(">I", os.read(reply_fd, 4))
    data = os.read(reply_fd, size)
    kind, tag_len = data[0], data[1]
    payload = data[2 + tag_len :]
    hooks: dict[str, StructHook] = {"Elixir.SnakeBridge.Ref": lambda f: ("ref", f["type"])}
    hooks.update(structs or {})
    return kind, data[2 : 2 + tag_len], Decoder(hooks, fun).decode(payload, 0)


def nothing_to_read(fd: int) -> bool:
    """True if no reply is waiting on `fd`."""
    os.set_blocking(fd, False)
    try:
        os.read(fd, 1)
    except BlockingIOError:
        return True
    finally:
        os.set_blocking(fd, True)
    return False
