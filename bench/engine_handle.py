"""The main loop's hot path in-process: `Engine.handle` of a CALL_MODULE `math.sqrt(16)`.

Times `handle` (parse, decode, run, scalar reply written to /dev/null) on whichever
engine `PYTHONPATH` selects, so two trees can be compared by alternating processes:

    for i in 1 2 3 4 5 6; do
      for tree in /tmp/base /work/wt-py; do
        PYTHONPATH=$tree/priv/python taskset -c 0 .venv/bin/python bench/engine_handle.py
      done
    done

Prints one line: the tree's engine file, then min and median ns per request. The frame
is built by hand, not with `_request.build_header`, so that trees from before that
builder can be measured too.
"""

from __future__ import annotations

import os
import statistics
import struct
import sys
import time

from snakebridge import _worker
from snakebridge._channel import FrameReader, FrameWriter
from snakebridge._registry import Registry
from snakebridge._wire import Op

ROUNDS = 201
CALLS = 20_000


def main() -> None:
    read_fd, _ = os.pipe()
    sink = os.open(os.devnull, os.O_WRONLY)
    engine = _worker.Engine(
        reader=FrameReader(read_fd, max_frame=1 << 20),
        writer=FrameWriter(sink, max_frame=1 << 20),
        registry=Registry(max_refs=100),
        worker_term=b"",
    )
    tag = b"\x00" + struct.pack(">q", 1) + b"\x83pid-bytes-of-a-caller"
    names = b"\x04math\x04sqrt"
    args = b"\x83l\x00\x00\x00\x01a\x10j"  # [16]
    frame = bytes((Op.CALL_MODULE, 0, len(tag))) + tag + struct.pack(">QQ", 1, 1) + b"\x00"
    frame = frame + names + args
    view = memoryview(frame)
    handle = engine.handle
    for _ in range(CALLS):
        handle(view)
    samples = []
    for _ in range(ROUNDS):
        start = time.perf_counter_ns()
        for _ in range(CALLS):
            handle(view)
        samples.append((time.perf_counter_ns() - start) / CALLS)
    print(
        f"{_worker.__file__}: min {min(samples):.0f} ns, "
        f"median {statistics.median(samples):.0f} ns per request"
    )
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
