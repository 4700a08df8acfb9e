"""Registry: the per-session tables that keep Python objects alive for Elixir refs.

A ref id is `counter (8 bytes) ‖ MAC (16 bytes)`, where the MAC is a keyed BLAKE2b of
the counter and the session under a secret drawn when the worker starts. So ids are
unguessable (128 bits of MAC), and a missing id can be told apart without keeping
tombstones: a valid MAC means we issued it and it was released; an invalid one means
it was forged or comes from another worker process.

Each session owns its own table, its open `with` blocks and its cap, so releasing or
capping one session never touches another. Table operations are single dict operations,
atomic under the GIL, so threads and callbacks may insert and look up concurrently.

A released session stays released: Elixir refuses calls in it, and the registry also
refuses to recreate the table of one released recently, for a call that was already on
its way when the release came (a table recreated then would never be released again).
"""

from __future__ import annotations

import hashlib
import itertools
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from snakebridge._errors import RefError

__all__ = ["OpenContext", "Registry", "Session"]

_COUNTER_BYTES = 8
_MAC_BYTES = 16
# Released sessions remembered (ids are never reused, so forgetting one is safe once no
# call in it can still be on its way; that takes far fewer releases than this).
_RECENTLY_RELEASED = 4096


@dataclass(slots=True)
class OpenContext:
    """A context manager entered by `with_python` and not yet exited."""

    manager: Any
    exit: Any
    is_async: bool


@dataclass(slots=True)
class Session:
    """The refs and open contexts of one Elixir session on this worker."""

    id: int
    refs: dict[bytes, Any] = field(default_factory=dict)
    contexts: dict[int, OpenContext] = field(default_factory=dict)


class Registry:
    """All sessions of one worker process."""

    def __init__(self, *, max_refs: int) -> None:
        self.max_refs = max_refs
        self._key = os.urandom(32)
        self._counter = itertools.count(1)
        self._sessions: dict[int, Session] = {}
        self._released: OrderedDict[int, None] = OrderedDict()
        self._lock = threading.Lock()

    def _mac(self, counter: bytes, session: int) -> bytes:
        data = counter + session.to_bytes(8, "big")
        return hashlib.blake2b(data, key=self._key, digest_size=_MAC_BYTES).digest()

    def session(self, session: int) -> Session:
        """The table of `session`, created on first use (never again once released)."""
        table = self._sessions.get(session)
        if table is None:
            with self._lock:
                if session in self._released:
                    raise RefError("released", f"session {session} was released")
                table = self._sessions.setdefault(session, Session(session))
        return table

    def insert(self, session: int, obj: Any) -> bytes:
        """Keep `obj` alive in `session` and return its new ref id."""
        table = self.session(session)
        if len(table.refs) >= self.max_refs:
            raise RefError(
                "limit",
                f"session {session} holds {len(table.refs)} live refs, the configured "
                f"maximum (max_refs: {self.max_refs}); release refs or raise the limit",
            )
        counter = next(self._counter).to_bytes(_COUNTER_BYTES, "big")
        ref_id = counter + self._mac(counter, session)
        table.refs[ref_id] = obj
        return ref_id

    def lookup(self, session: int, ref_id: bytes) -> Any:
        """The object behind `ref_id`, or RefError saying why there is none."""
        table = self._sessions.get(session)
        if table is not None:
            try:
                return table.refs[ref_id]
            except KeyError:
                pass
        raise self._missing(session, ref_id)

    def _missing(self, session: int, ref_id: bytes) -> RefError:
        counter, mac = ref_id[:_COUNTER_BYTES], ref_id[_COUNTER_BYTES:]
        if len(ref_id) == _COUNTER_BYTES + _MAC_BYTES and mac == self._mac(counter, session):
            return RefError("released", "the ref was released (or its session ended)")
        return RefError("unknown", "the ref is unknown to this worker (forged or foreign)")

    def release(self, session: int, ref_ids: list[bytes]) -> None:
        """Drop refs; ids that are already gone are ignored (release is idempotent)."""
        table = self._sessions.get(session)
        if table is not None:
            for ref_id in ref_ids:
                table.refs.pop(ref_id, None)

    def pop_session(self, session: int) -> Session | None:
        """Remove the whole session; the caller exits its open contexts."""
        with self._lock:
            table = self._sessions.pop(session, None)
            if table is not None:
                self._released[session] = None
                if len(self._released) > _RECENTLY_RELEASED:
                    self._released.popitem(last=False)
            return table

    def counts(self) -> tuple[int, int]:
        """(live sessions, live refs)."""
        sessions = list(self._sessions.values())
        return len(sessions), sum(len(s.refs) for s in sessions)
