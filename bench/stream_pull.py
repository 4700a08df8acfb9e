"""What the stream rule costs a batch, in-process: `op_iter_next` over a generator of
ints, against pulling the same items in bulk (`list.extend(islice(...))`, the floor, and
what a batch cost before the rule).

The rule (docs/IDIOMS.md, "Live items") ends a batch right after an item that is not
plain data, so the iterator is never advanced past an item tied to its position; that
means one test per item, between two `next()` calls, in Python. Run pinned, on
whichever engine `PYTHONPATH` selects:

    PYTHONPATH=priv/python taskset -c 0 .venv/bin/python bench/stream_pull.py

Prints the median ns per item of each (8,192-item batches over 1,000,000 items,
alternated, 15 rounds) and their ratio.
"""

from __future__ import annotations

import itertools
import statistics
import time
from collections.abc import Callable, Iterator
from typing import Any

from snakebridge._idioms import op_iter_next
from snakebridge._request import Request

ITEMS = 1_000_000
BATCH = 8192
ROUNDS = 15


def _ints(n: int) -> Iterator[int]:
    yield from range(n)


def _engine_batches(iterator: Iterator[int]) -> int:
    request = object.__new__(Request)
    request.body = iterator, BATCH
    pulled = 0
    while True:
        batch = op_iter_next(None, request)  # type: ignore[arg-type]  # unused context
        pulled += len(batch.items)
        if batch.status != "cont":
            return pulled


def _bulk_batches(iterator: Iterator[int]) -> int:
    pulled = 0
    while True:
        items: list[Any] = []
        items.extend(itertools.islice(iterator, BATCH))
        pulled += len(items)
        if len(items) < BATCH:
            return pulled


def _ns_per_item(pull: Callable[[Iterator[int]], int]) -> float:
    iterator = _ints(ITEMS)
    start = time.perf_counter_ns()
    assert pull(iterator) == ITEMS
    return (time.perf_counter_ns() - start) / ITEMS


def main() -> None:
    engine: list[float] = []
    bulk: list[float] = []
    for _ in range(ROUNDS):
        engine.append(_ns_per_item(_engine_batches))
        bulk.append(_ns_per_item(_bulk_batches))
    engine_ns = statistics.median(engine)
    bulk_ns = statistics.median(bulk)
    print(f"op_iter_next, the stream rule: {engine_ns:.1f} ns an item")
    print(f"bulk islice (the floor):       {bulk_ns:.1f} ns an item")
    print(f"ratio: {engine_ns / bulk_ns:.2f}")


if __name__ == "__main__":
    main()
