"""The main loop's hot path in-process: `Engine.handle` of a CALL_MODULE `math.sqrt(16)`.

Times `handle` (parse, decode, run, scalar reply written to /dev/null) on whichever
engine `PYTHONPATH` selects, so two trees can be compared by alternating processes:

    for i in 1 2 3 4 5 6; do
      for tree in /tmp/base /work/wt-py; do
        PYTHONPATH=$tree/priv/python taskset -c 0 .venv/bin/python bench/engine_handle.py
      done
    done

(`ROUNDS` and `CALLS` in the environment change the samples; `ROUNDS=2` for the call
counts alone.)

Prints the Python and C function calls one request makes (counted with
`sys.setprofile`) and the bytecode instructions it runs, by function (counted with
`sys.settrace`): exact, whatever the machine's load. Then the tree's engine file and
the min, 10th percentile and median ns per request, over many short samples (the low
percentiles are what survive a loaded machine). The frame's header comes from this
tree's `_request.build_header`, loaded from its file, so that trees from before that
builder can be measured too.
"""

from __future__ import annotations

import collections
import importlib.util
import os
import statistics
import struct
import sys
import time
from pathlib import Path
from typing import Any

from snakebridge import _worker
from snakebridge._channel import FrameReader, FrameWriter
from snakebridge._registry import Registry
from snakebridge._wire import Op

ROUNDS = int(os.environ.get("ROUNDS", "5001"))
CALLS = int(os.environ.get("CALLS", "200"))
_REQUEST_PY = Path(__file__).resolve().parent.parent / "priv/python/snakebridge/_request.py"


def _build_header() -> Any:
    spec = importlib.util.spec_from_file_location("bench_request", _REQUEST_PY)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build_header


def _calls_made(handle: Any, view: memoryview) -> str:
    counts = {"call": 0, "c_call": 0}

    def count(frame: Any, event: str, arg: Any) -> None:
        if event in counts:
            counts[event] += 1

    sys.setprofile(count)
    handle(view)
    sys.setprofile(None)
    # The outermost call event is handle's own; setprofile(None) is the last C call.
    return (
        f"calls per request: {counts['call'] - 1} Python, {counts['c_call'] - 1} C "
        "(handle itself and setprofile not counted)"
    )


def _instructions_run(handle: Any, view: memoryview) -> str:
    counts: collections.Counter[str] = collections.Counter()

    def trace(frame: Any, event: str, arg: Any) -> Any:
        frame.f_trace_opcodes = True
        if event == "opcode":
            counts[frame.f_code.co_qualname] += 1
        return trace

    sys.settrace(trace)
    handle(view)
    sys.settrace(None)
    by_function = ", ".join(f"{name} {count}" for name, count in counts.most_common())
    return f"bytecode instructions per request: {sum(counts.values())} ({by_function})"


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
    args = b"\x83k\x00\x01\x10"  # [16], as the VM's term_to_binary writes it
    frame = _build_header()(Op.CALL_MODULE, tag=tag, session=1, caller=1) + names + args
    view = memoryview(frame)
    handle = engine.handle
    for _ in range(CALLS):
        handle(view)
    print(_calls_made(handle, view))
    print(_instructions_run(handle, view))
    samples = []
    for _ in range(ROUNDS):
        start = time.perf_counter_ns()
        for _ in range(CALLS):
            handle(view)
        samples.append((time.perf_counter_ns() - start) / CALLS)
    p10 = statistics.quantiles(samples, n=10)[0]
    print(
        f"{_worker.__file__}: min {min(samples):.0f} ns, p10 {p10:.0f} ns, "
        f"median {statistics.median(samples):.0f} ns per request"
    )
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
