"""Requests: the fixed header in front of every request frame, read and built.

The layout is in docs/PROTOCOL.md ("Request frames"). The worker only reads headers;
`build_header` is for the tests and tools that play the Elixir side.
"""

from __future__ import annotations

import struct
import sys
from typing import Any

from snakebridge._wire import Flag

__all__ = [
    "NO_BLOBS",
    "SESSION_CALLER",
    "Request",
    "build_header",
    "drop_malformed",
    "parse_header",
    "split_frame",
    "tag_of",
]

# A request's session and caller ids, after its tag.
SESSION_CALLER = struct.Struct(">QQ")
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
    session, caller = SESSION_CALLER.unpack_from(frame, tag_end)
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


# The blob area of a frame that has none: one shared empty view, compared by identity.
NO_BLOBS = memoryview(b"")


def build_header(
    op: int,
    *,
    flags: int = 0,
    tag: bytes = b"",
    session: int = 0,
    caller: int = 0,
    parent: bytes = b"",
) -> bytes:
    """A request frame's header, as `parse_header` reads it; the ETF body follows.

    The Python side never sends requests: this is the one builder for the tests and
    tools that play the Elixir side. `tag` and `parent` are given without their length
    bytes. With `Flag.HAS_BLOBS` in `flags`, the body starts with its ETF's size.
    """
    if len(tag) > 255 or len(parent) > 255:
        raise ValueError("a request's tag and parent are at most 255 bytes each")
    return b"".join(
        (
            bytes((op, flags, len(tag))),
            tag,
            SESSION_CALLER.pack(session, caller),
            bytes((len(parent),)),
            parent,
        )
    )


def split_frame(frame: bytes | memoryview) -> tuple[bytes, memoryview]:
    """The frame up to the end of its ETF body, as bytes, and its blob area.

    With `Flag.HAS_BLOBS` the body is `<<etf_size::32, etf, blobs>>`: large binaries
    follow the term instead of sitting in it, and only the small part is copied here.
    """
    if not frame[1] & _HAS_BLOBS:
        return (frame if type(frame) is bytes else bytes(frame)), NO_BLOBS
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


def drop_malformed(frame: memoryview | bytes, exc: Exception) -> None:
    """Drop a request frame whose header cannot be read (`parse_header` raised `exc`).

    It has no tag to answer, so it is said so on stderr (which reaches Elixir's Logger).
    """
    why = "it is shorter than its header" if isinstance(exc, IndexError) else str(exc)
    print(
        f"snakebridge: dropped a malformed request frame ({len(frame)} bytes): {why}",
        file=sys.stderr,
    )
