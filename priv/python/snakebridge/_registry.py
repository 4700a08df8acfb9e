"""Registry: the per-session tables that keep Python objects alive for Elixir refs.

A ref id is `counter (8 bytes) ‖ MAC (16 bytes)`, where the MAC is a keyed BLAKE2b of
the counter and the session under a secret drawn when the worker starts. So ids are
unguessable (128 bits of MAC), and a missing id can be told apart without keeping
tombstones: a valid MAC means we issued it and it was released; an invalid one means
it was forged or comes from another worker process.

One object has one ref per session: inserting an object the session already holds
gives its existing id back, so a ref compares equal to every other ref to the same
object in that session (Elixir uses them as map keys), a loop that returns the same
object a million times holds it once, and releasing the ref frees the object for the
whole session.

So a reply may carry a ref its caller already holds, and a reply that is never
delivered (its caller gave up on it, or the VM could not decode it) must not release
that one. Each session therefore knows which of its refs only one reply has carried,
the one they were made for (`Session.sole`); `release_made` frees only those. A ref
leaves that set as soon as another reply carries it, delivered or not yet, so it is
kept whenever some caller has it or may still get it. (Only a reply encoded on another
thread at the very moment of the release can get its id released under it, as it can
when `release` races it.)

Each session also keeps the exception of its last Python error (`insert_error`), and
only that one: an error's ref lasts until the next error in its session.

Each session owns its own table, its open `with` blocks (`with_python`'s contexts, by
id: entered, exited, and exited for it when the session ends) and its cap, so releasing or
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
import sys
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from snakebridge._errors import ElixirError, RefError

__all__ = ["OpenContext", "Registry", "RunAsync", "Session"]

# Blocks the calling thread until an awaitable is done (the worker's event loop).
RunAsync = Callable[[Awaitable[Any]], Any]

_COUNTER_BYTES = 8
_MAC_BYTES = 16
# Released sessions remembered (ids are never reused, so forgetting one is safe once no
# call in it can still be on its way; that takes far fewer releases than this).
_RECENTLY_RELEASED = 4096
_GONE: Any = object()


@dataclass(slots=True)
class OpenContext:
    """A context manager entered by `with_python` and not yet exited."""

    manager: Any
    exit: Any
    is_async: bool

    def close(self, exc: BaseException | None, run_async: RunAsync) -> bool:
        """Call `__exit__` (or await `__aexit__`); True if it suppressed `exc`.

        As in a `with` statement, an error that `__exit__` raises chains the error it
        replaced, and `__exit__` re-raising `exc` itself lets `exc` propagate.
        """
        try:
            if exc is None:
                result = self.exit(self.manager, None, None, None)
            else:
                result = self.exit(self.manager, type(exc), exc, exc.__traceback__)
            if self.is_async:
                result = run_async(result)
        except BaseException as raised:
            if exc is None:
                raise
            if raised is exc:
                return False
            if raised.__context__ is None:
                raised.__context__ = exc
            raise
        return bool(result)


@dataclass(slots=True)
class Session:
    """The refs and open contexts of one Elixir session on this worker."""

    id: int
    refs: dict[bytes, Any] = field(default_factory=dict)
    # id(obj) -> its ref id, for each object in `refs` (which keeps it alive, so its id
    # cannot be reused meanwhile).
    ids: dict[int, bytes] = field(default_factory=dict)
    contexts: dict[int, OpenContext] = field(default_factory=dict)
    error_ref: bytes | None = None
    # The ids in `refs` that no reply has carried but the one they were made for.
    sole: set[bytes] = field(default_factory=set)


class Registry:
    """All sessions of one worker process."""

    def __init__(self, *, max_refs: int) -> None:
        self.max_refs = max_refs
        self._key = os.urandom(32)
        self._counter = itertools.count(1)
        self._context_ids = itertools.count(1)
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

    def insert(self, session: int, obj: Any, made: set[bytes] | None = None) -> bytes:
        """Keep `obj` alive in `session` and return its ref id, for a reply to carry: the
        id it already has there, if any, else a new one, which is also added to `made`
        (the ids the reply being encoded made; None: a reply of this one ref)."""
        table = self.session(session)
        known = table.ids.get(id(obj))
        if known is not None:
            if made is None or known not in made:
                table.sole.discard(known)  # a second reply carries it
            return known
        if len(table.refs) >= self.max_refs:
            raise RefError(
                "limit",
                f"session {session} holds {len(table.refs)} live refs, the configured "
                f"maximum (max_refs: {self.max_refs}); release refs or raise the limit",
            )
        counter = next(self._counter).to_bytes(_COUNTER_BYTES, "big")
        ref_id = counter + self._mac(counter, session)
        # Before `ids` shows the id to a thread encoding another reply, which would then
        # take it out of `sole` again.
        table.sole.add(ref_id)
        table.refs[ref_id] = obj
        table.ids[id(obj)] = ref_id
        if made is not None:
            made.add(ref_id)
        return ref_id

    def insert_error(
        self, session: int, exc: BaseException, made: set[bytes] | None = None
    ) -> bytes:
        """Like `insert`, for the exception of a failed call; the session's previous
        error, unless it is the same object, is released."""
        ref_id = self.insert(session, exc, made)
        table = self.session(session)
        previous, table.error_ref = table.error_ref, ref_id
        if previous is not None and previous != ref_id:
            self.release(session, [previous])
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

    def release(self, session: int, ref_ids: Iterable[bytes]) -> None:
        """Drop refs; ids that are already gone are ignored (release is idempotent)."""
        table = self._sessions.get(session)
        if table is not None:
            for ref_id in ref_ids:
                table.sole.discard(ref_id)
                _drop(table, ref_id)

    def release_made(self, session: int, ref_ids: Iterable[bytes]) -> None:
        """Drop those of the refs of a reply that is not delivered that no other reply
        has carried: the ones made for it (see the module doc). The others are kept, and
        so is any id that is already gone."""
        table = self._sessions.get(session)
        if table is not None:
            sole = table.sole
            for ref_id in ref_ids:
                try:
                    sole.remove(ref_id)
                except KeyError:  # another reply carries it, or it is gone already
                    continue
                _drop(table, ref_id)

    def open_context(self, session: int, context: OpenContext) -> int:
        """Keep an entered context in `session` until it is taken; its new id."""
        context_id = next(self._context_ids)
        self.session(session).contexts[context_id] = context
        return context_id

    def take_context(self, session: int, context_id: int) -> OpenContext:
        """Remove an open context, to exit it; RefError if it was exited already."""
        context = self.session(session).contexts.pop(context_id, None)
        if context is None:
            raise RefError("released", f"context {context_id} was already exited")
        return context

    def release_session(self, session: int, run_async: RunAsync) -> None:
        """Exit the session's open contexts (innermost first), then drop its refs."""
        table = self.pop_session(session)
        if table is None:
            return
        for context_id in sorted(table.contexts, reverse=True):
            error = ElixirError("the session ended while this context was open", kind="exit")
            try:
                table.contexts.pop(context_id).close(error, run_async)
            except Exception as exc:
                print(f"snakebridge: __exit__ failed at session end: {exc!r}", file=sys.stderr)

    def pop_session(self, session: int) -> Session | None:
        """Remove the whole session, leaving its open contexts to the caller."""
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


def _drop(table: Session, ref_id: bytes) -> None:
    obj = table.refs.pop(ref_id, _GONE)
    if obj is not _GONE:
        table.ids.pop(id(obj), None)
