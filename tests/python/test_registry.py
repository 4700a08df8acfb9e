"""The per-session ref tables: ids, lookups, release, caps, isolation."""

from __future__ import annotations

import threading

import pytest

from snakebridge._errors import RefError
from snakebridge._registry import Registry


def test_insert_then_lookup_returns_the_same_object() -> None:
    registry = Registry(max_refs=10)
    obj = object()
    ref_id = registry.insert(1, obj)
    assert registry.lookup(1, ref_id) is obj


def test_ids_are_long_and_distinct() -> None:
    registry = Registry(max_refs=1000)
    ids = {registry.insert(1, i) for i in range(500)}
    assert len(ids) == 500
    assert all(len(i) == 24 for i in ids)


def test_released_ref_says_released() -> None:
    registry = Registry(max_refs=10)
    ref_id = registry.insert(1, "x")
    registry.release(1, [ref_id])
    registry.release(1, [ref_id])  # idempotent
    with pytest.raises(RefError) as info:
        registry.lookup(1, ref_id)
    assert info.value.reason == "released"


def test_forged_or_foreign_ids_say_unknown() -> None:
    registry = Registry(max_refs=10)
    ref_id = registry.insert(1, "x")
    forged = ref_id[:8] + bytes(16)
    for bad in (forged, b"short", Registry(max_refs=1).insert(1, "y")):
        with pytest.raises(RefError) as info:
            registry.lookup(1, bad)
        assert info.value.reason == "unknown"


def test_an_id_is_bound_to_its_session() -> None:
    registry = Registry(max_refs=10)
    ref_id = registry.insert(1, "x")
    registry.insert(2, "y")
    with pytest.raises(RefError) as info:
        registry.lookup(2, ref_id)
    assert info.value.reason == "unknown"


def test_ending_a_session_touches_no_other() -> None:
    registry = Registry(max_refs=10)
    a = registry.insert(1, "a")
    b = registry.insert(2, "b")
    table = registry.pop_session(1)
    assert table is not None and list(table.refs.values()) == ["a"]
    assert registry.lookup(2, b) == "b"
    with pytest.raises(RefError) as info:
        registry.lookup(1, a)
    assert info.value.reason == "released"


def test_cap_is_per_session_with_a_clear_error() -> None:
    registry = Registry(max_refs=2)
    registry.insert(1, 1)
    registry.insert(1, 2)
    registry.insert(2, 3)
    with pytest.raises(RefError) as info:
        registry.insert(1, 4)
    assert info.value.reason == "limit"
    assert "max_refs: 2" in str(info.value)


def test_counts() -> None:
    registry = Registry(max_refs=10)
    registry.insert(1, 1)
    registry.insert(1, 2)
    registry.insert(3, 3)
    assert registry.counts() == (2, 3)


def test_concurrent_inserts_from_threads_lose_nothing() -> None:
    registry = Registry(max_refs=1_000_000)
    results: list[list[bytes]] = []

    def work() -> None:
        results.append([registry.insert(7, object()) for _ in range(2000)])

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ids = [i for chunk in results for i in chunk]
    assert len(set(ids)) == 16000
    assert registry.counts() == (1, 16000)


def test_a_released_session_is_not_recreated() -> None:
    registry = Registry(max_refs=10)
    ref_id = registry.insert(4, "x")
    assert registry.pop_session(4) is not None
    with pytest.raises(RefError) as info:
        registry.insert(4, "late")
    assert info.value.reason == "released"
    with pytest.raises(RefError) as info:
        registry.lookup(4, ref_id)
    assert info.value.reason == "released"
    assert registry.counts() == (0, 0)
    registry.insert(5, "another session")
    assert registry.counts() == (1, 1)


def test_released_sessions_are_remembered_in_bounded_memory() -> None:
    registry = Registry(max_refs=10)
    for session in range(1, 10_001):
        registry.insert(session, session)
        registry.pop_session(session)
    assert len(registry._released) <= 4096
    with pytest.raises(RefError):
        registry.insert(10_000, "late")


def test_one_object_has_one_ref_per_session() -> None:
    registry = Registry(max_refs=10)
    obj, other = object(), object()
    first = registry.insert(1, obj)
    assert registry.insert(1, obj) == first
    assert registry.insert(1, other) != first
    assert registry.insert(2, obj) != first  # another session, another ref
    assert registry.counts() == (2, 3)
    registry.release(1, [first])
    with pytest.raises(RefError, match="released"):
        registry.lookup(1, first)
    again = registry.insert(1, obj)  # after release, a fresh ref
    assert again != first and registry.lookup(1, again) is obj


def test_identity_survives_objects_dying_and_ids_being_reused() -> None:
    registry = Registry(max_refs=100)
    ref = registry.insert(1, [1])
    registry.release(1, [ref])
    # The list is gone; a new object may reuse its id(), and must get a new ref.
    for _ in range(20):
        fresh = [2]
        new_ref = registry.insert(1, fresh)
        assert new_ref != ref and registry.lookup(1, new_ref) is fresh
        registry.release(1, [new_ref])


def test_a_session_keeps_its_last_error_only() -> None:
    registry = Registry(max_refs=10)
    first, second = ValueError("a"), KeyError("b")
    first_ref = registry.insert_error(1, first)
    assert registry.insert_error(1, first) == first_ref  # the same error again: kept
    second_ref = registry.insert_error(1, second)
    with pytest.raises(RefError, match="released"):
        registry.lookup(1, first_ref)
    assert registry.lookup(1, second_ref) is second
    assert registry.counts() == (1, 1)


def test_only_new_refs_are_recorded_as_made() -> None:
    # A reply that is not sent releases the refs it made: never one the session held.
    registry = Registry(max_refs=10)
    held = object()
    held_ref = registry.insert(1, held)
    made: set[bytes] = set()
    fresh_ref = registry.insert(1, object(), made)
    assert registry.insert(1, held, made) == held_ref
    assert made == {fresh_ref}


# ---------------------------------------------------------------------- release_made
# Each `made` set below stands for one reply: the ids it made while it was encoded.


def _alive(registry: Registry, session: int, ref_id: bytes) -> bool:
    try:
        registry.lookup(session, ref_id)
    except RefError as exc:
        assert exc.reason == "released"
        return False
    return True


def test_release_made_frees_the_refs_made_for_the_reply_and_keeps_one_held_before() -> None:
    registry = Registry(max_refs=10)
    held = object()
    held_ref = registry.insert(1, held, set())  # delivered: its caller holds it
    made: set[bytes] = set()
    carried = [registry.insert(1, held, made), registry.insert(1, object(), made)]
    assert carried[0] == held_ref
    registry.release_made(1, carried)
    assert _alive(registry, 1, held_ref)
    assert not _alive(registry, 1, carried[1])
    assert registry.counts() == (1, 1)


def test_a_ref_its_own_reply_carries_twice_is_still_made_for_it() -> None:
    registry = Registry(max_refs=10)
    obj = object()
    made: set[bytes] = set()
    ref_id = registry.insert(1, obj, made)
    assert registry.insert(1, obj, made) == ref_id
    registry.release_made(1, [ref_id, ref_id])
    assert not _alive(registry, 1, ref_id)


def test_a_ref_a_later_reply_carries_outlives_the_reply_it_was_made_for() -> None:
    # The release of a reply given up on can come after a later reply carried the same
    # object to a caller (the worker wrote both before the VM saw the first).
    registry = Registry(max_refs=10)
    obj = object()
    ref_id = registry.insert(1, obj, set())
    assert registry.insert(1, obj, set()) == ref_id
    registry.release_made(1, [ref_id])  # the first reply given up on
    assert _alive(registry, 1, ref_id)
    registry.release_made(1, [ref_id])  # the second one too: nor was it made for that
    assert _alive(registry, 1, ref_id)
    registry.release(1, [ref_id])  # release/1 frees it whoever carried it
    assert not _alive(registry, 1, ref_id)


def test_release_made_ignores_ids_gone_or_from_another_session() -> None:
    registry = Registry(max_refs=10)
    ref_id = registry.insert(1, object())
    registry.release_made(2, [ref_id])
    registry.release_made(3, [ref_id])  # a session that has no table
    assert _alive(registry, 1, ref_id)
    registry.release(1, [ref_id])
    registry.release_made(1, [ref_id, b"forged"])
    assert registry.counts() == (1, 0)


def test_what_is_remembered_as_made_is_bounded_by_the_live_refs() -> None:
    # Nothing to evict: a ref leaves the set when it is released, or carried again, and
    # the set goes with its session, so it never outgrows max_refs.
    registry = Registry(max_refs=10)
    objs = [object() for _ in range(10)]
    ids = [registry.insert(1, obj, set()) for obj in objs]
    with pytest.raises(RefError, match="maximum"):
        registry.insert(1, object(), set())
    registry.insert(1, objs[9], set())
    registry.release(1, ids[:5])
    table = registry.session(1)
    assert table.sole == set(ids[5:9])
    assert table.sole <= set(table.refs)
    registry.pop_session(1)
    assert registry.counts() == (0, 0)
