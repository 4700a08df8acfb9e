"""op_call's form: the handler as ordinary code, against the string it was compiled from.

`op_call` runs with globals whose `__name__` is "__main__" (see `_ops._in_main_namespace`).
It used to get them by `exec` of a source string, which ruff and mypy never saw; it is
now ordinary code whose function is rebuilt over such globals. This times, in one
process and interleaved (A B C A B C ...), a CALL of `math.sqrt(16)` through:

* `string`: the old form, compiled here from the old source;
* `ordinary`: `_ops.op_call` as shipped;
* `plain`: the same code with the module's own globals (`__name__` "snakebridge._ops"),
  which would change what namedtuple & co. report as the caller's module.

Prints the median ns per call of each, and each against `string`.

    taskset -c 0 .venv/bin/python bench/op_call_form.py [--rounds 41] [--calls 200000]
"""

from __future__ import annotations

import argparse
import importlib
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "priv" / "python"))

from snakebridge import _ops
from snakebridge._request import Request
from snakebridge._wire import Op

_OLD_SOURCE = """
def op_call(engine, req):
    target, name, args, kwargs = req.body
    if type(target) is str:
        target = modules.get(target) or import_module(target)
    fn = getattr(target, name) if "." not in name else getattr_path(target, name)
    if kwargs:
        return fn(*args, **to_kwargs(kwargs))
    return fn(*args)
"""


def _string_form() -> Callable[[Any, Request], Any]:
    namespace: dict[str, Any] = {
        "__name__": "__main__",
        "modules": sys.modules,
        "import_module": importlib.import_module,
        "getattr_path": _ops._getattr_path,
        "to_kwargs": _ops._kwargs,
    }
    exec(compile(_OLD_SOURCE, _ops.__file__, "exec"), namespace)
    return namespace["op_call"]  # type: ignore[no-any-return]


def _time(handler: Callable[[Any, Request], Any], request: Request, calls: int) -> float:
    start = time.perf_counter_ns()
    for _ in range(calls):
        handler(None, request)
    return (time.perf_counter_ns() - start) / calls


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=41)
    parser.add_argument("--calls", type=int, default=200_000)
    options = parser.parse_args()
    request = Request(Op.CALL, 0, b"\x01T", 0, 0, b"")
    request.body = ("math", "sqrt", [16], None)
    forms = {"string": _string_form(), "ordinary": _ops.op_call, "plain": _ops._op_call}
    samples: dict[str, list[float]] = {name: [] for name in forms}
    for handler in forms.values():  # warm-up
        _time(handler, request, options.calls)
    order = list(forms)
    for _ in range(options.rounds):
        random.shuffle(order)
        for name in order:
            samples[name].append(_time(forms[name], request, options.calls))
    base = statistics.median(samples["string"])
    print(f"python {platform.python_version()}, {options.rounds} rounds x {options.calls} calls")
    for name, values in samples.items():
        median = statistics.median(values)
        print(
            f"{name:>9}: median {median:6.1f} ns/call  (min {min(values):6.1f})  "
            f"{median / base:.3f}x string"
        )


if __name__ == "__main__":
    main()
