"""Requests: the fixed header in front of every request frame (see docs/PROTOCOL.md)."""

from __future__ import annotations

import struct
from typing import Any

from snakebridge._wire import Flag

__all__ = ["Request", "parse_header", "split_frame", "tag_of"]

_SESSION_CALLER = struct.Struct(">QQ")
_new = object.__new__

# Plain ints: reading an Enum member costs ~50 ns, and these run on every request.
_HAS_BLOBS = int(Flag.HAS_BLOBS)
_NO_REPLY = int(Flag.NO_REPLY)


class Request:
    """One decoded request.

    `tag` is the caller's opaque reply address and call id, kept with its length byte
    in front: exactly the bytes that follow the kind byte of a reply frame.
    """

    __slots__ = ("body", "caller", "flags", "op", "parent", "session", "tag")

    def __init__(
        self, op: int, flags: int, tag: bytes, session: int, caller: int, parent: bytes
    ) -> None:
        self.op = op
        self.flags = flags
        self.tag = tag
        self.session = session
        self.caller = caller
        self.parent = parent
        self.body: Any = None

    @property
    def wants_reply(self) -> bool:
        return not self.flags & _NO_REPLY

    def __repr__(self) -> str:
        return f"<Request op={self.op} session={self.session} caller={self.caller}>"


def parse_header(frame: bytes) -> tuple[Request, int]:
    """The request header, and the offset of its ETF body.

    Raises ValueError, or IndexError for a frame of under 3 bytes, if the header does
    not fit in the frame.
    """
    tag_end = 3 + frame[2]
    if tag_end + 17 > len(frame):
        raise ValueError(f"request frame of {len(frame)} bytes ends inside its header")
    session, caller = _SESSION_CALLER.unpack_from(frame, tag_end)
    parent_end = tag_end + 17 + frame[tag_end + 16]
    # With blobs, the ETF's size comes between the parent and the body (see split_frame).
    body = parent_end + 4 if frame[1] & _HAS_BLOBS else parent_end
    if body > len(frame):
        raise ValueError("request frame ends inside its header")
    # Filled in place rather than through __init__: one Python call less on every
    # request (about 90 ns of the ~350 this function costs).
    request = _new(Request)
    request.op = frame[0]
    request.flags = frame[1]
    request.tag = frame[2:tag_end]
    request.session = session
    request.caller = caller
    request.parent = frame[tag_end + 17 : parent_end]
    request.body = None
    return request, body


_NO_BLOBS = memoryview(b"")


def split_frame(frame: bytes | memoryview) -> tuple[bytes, memoryview]:
    """The frame up to the end of its ETF body, as bytes, and its blob area.

    With `Flag.HAS_BLOBS` the body is `<<etf_size::32, etf, blobs>>`: large binaries
    follow the term instead of sitting in it, and only the small part is copied here.
    """
    if not frame[1] & _HAS_BLOBS:
        return (frame if type(frame) is bytes else bytes(frame)), _NO_BLOBS
    view = memoryview(frame)
    tag_end = 3 + view[2]
    body = tag_end + 17 + view[tag_end + 16]
    etf_end = body + 4 + int.from_bytes(view[body : body + 4], "big")
    if etf_end > len(view):
        raise ValueError("request frame ends inside its ETF body")
    return bytes(view[:etf_end]), view[etf_end:]


def tag_of(raw_tag: bytes) -> bytes:
    """A tag as Elixir sends it in a body (no length byte), in `Request.tag` form."""
    return bytes((len(raw_tag),)) + raw_tag
