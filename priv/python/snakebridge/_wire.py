"""Wire constants: every number the two sides must agree on, in one table.

`lib/snake_bridge/wire.ex` holds the Elixir copy; `test/snake_bridge/wire_test.exs` checks
that the two tables agree.
"""

from __future__ import annotations

from enum import IntEnum

__all__ = [
    "BLOB_FLAG",
    "BLOB_MIN",
    "PIPE_BUF",
    "PROTOCOL_VERSION",
    "REPLY_FD",
    "REQUEST_FD",
    "SHM_FLAG",
    "Flag",
    "Kind",
    "Op",
    "ReturnMode",
    "Stream",
]

# 2: CALLER_DONE became its own op (it was a second meaning of CANCEL_CALLER on fd 3).
# 3: the REPORT_START request flag, answered by a STARTED reply; RELEASE_MADE, which
# releases only the refs made for a reply that is not delivered.
PROTOCOL_VERSION = 3

# The Erlang port's channels, as the nanny and then the worker inherit them: the BEAM
# writes requests to fd 3 and reads replies from fd 4.
REQUEST_FD = 3
REPLY_FD = 4

# Set on a reply's kind byte when its payload holds shared-memory segments.
SHM_FLAG = 0x80

# Set on a reply's kind byte when large binaries follow its ETF payload out of band:
# the payload is then <<etf_size::32, etf, blobs>> (see docs/PROTOCOL.md).
BLOB_FLAG = 0x40

# Binaries at least this large travel out of band (after the ETF), never inside it.
BLOB_MIN = 65536

# Writes of at most this many bytes to a pipe are atomic (POSIX), so frames this small
# need no inter-process lock on fd 4.
PIPE_BUF = 4096


class Op(IntEnum):
    """Request op codes (first byte of a request frame)."""

    CALL = 1
    GETATTR = 2
    SETATTR = 3
    GETITEM = 4
    SETITEM = 5
    EVAL = 6
    TO_ELIXIR = 7
    REPR = 8
    STR = 9
    ITER_NEXT = 10
    ITER_CLOSE = 11
    LEN = 12
    CONTAINS = 13
    CTX_ENTER = 14
    CTX_EXIT = 15
    RELEASE = 16
    RELEASE_SESSION = 17
    CALLBACK_RESULT = 18
    CANCEL = 19
    CANCEL_CALLER = 20
    STATS = 21
    ARRAY_EXPORT = 22
    ITER_OPEN = 23
    CALL_MODULE = 24
    CALLER_DONE = 25
    RELEASE_MADE = 26


class Kind(IntEnum):
    """Reply frame kinds (first byte of a reply frame)."""

    OK = 0
    ERROR = 1
    CALLBACK = 2
    EVENT = 3
    LOG = 4
    EXITED = 5
    # The worker has taken up a request flagged REPORT_START: not a final reply.
    STARTED = 6


class Stream(IntEnum):
    """Which output a LOG frame carries."""

    STDOUT = 1
    STDERR = 2


class ReturnMode(IntEnum):
    """Bits 0-1 of a request's flags byte."""

    AUTO = 0
    VALUE = 1
    REF = 2


class Flag(IntEnum):
    """Other bits of a request's flags byte."""

    RETURN_MASK = 0b011
    NO_REPLY = 0b100
    # The body is <<etf_size::32, etf, blobs>>: large binaries out of band.
    HAS_BLOBS = 0b1000
    # What the call prints to sys.stdout goes to its caller (`output: :caller`).
    OUTPUT_CALLER = 0b10000
    # Answer with a STARTED reply before decoding the body: a caller whose worker dies
    # without one knows the request never ran (see docs/LIFECYCLE.md, "Crashes").
    REPORT_START = 0b100000
