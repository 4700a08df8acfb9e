"""The Python value codec against the C codecs in the standard library, in one run.

For 1,000,000-element lists of floats, ints and short strings (and a mixed list, which
takes the element-by-element path), times our encode and decode, `json` and `pickle`
(protocol 5), in ns per element; then a small call term, in ns. Samples of the
contenders are interleaved (A B C A B C ...) so drift hits them alike, and the
figures are medians. Prints a table and writes bench/results/codec.json.

    .venv/bin/python bench/codec_bench.py [--repeats 7] [--cpu 0] [--out PATH]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import pickle
import platform
import random
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "priv" / "python"))

from snakebridge._etf import Decoder, Encoder

N = 1_000_000
SMALL_TERM = ("math", "sqrt", [16], [])
SMALL_LOOPS = 20_000


def refuse(enc: Encoder, obj: Any) -> None:
    raise TypeError(f"the benchmark data should not need a fallback: {obj!r}")


def datasets() -> dict[str, list[Any]]:
    rng = random.Random(42)
    return {
        "floats": [rng.uniform(-1e6, 1e6) for _ in range(N)],
        "ints": [rng.randint(-(2**31), 2**31 - 1) for _ in range(N)],
        "strs": [f"s{rng.randrange(10 ** rng.randrange(1, 9))}" for _ in range(N)],
        "mixed": [rng.choice((1, 300, 2.5, "abc", None, True)) for _ in range(N)],
    }


def sample(fn: Callable[[], Any]) -> int:
    start = time.perf_counter_ns()
    fn()
    return time.perf_counter_ns() - start


def contenders(encoder: Encoder, decoder: Decoder, data: list[Any]) -> dict[str, Callable[[], Any]]:
    ours = b"".join(encoder.encode(data))
    assert decoder.decode(ours) == data, "round trip changed the data"
    as_json, as_pickle = json.dumps(data), pickle.dumps(data, protocol=5)
    return {
        "ours encode": lambda: encoder.encode(data),
        "ours decode": lambda: decoder.decode(ours),
        "json encode": lambda: json.dumps(data),
        "json decode": lambda: json.loads(as_json),
        "pickle encode": lambda: pickle.dumps(data, protocol=5),
        "pickle decode": lambda: pickle.loads(as_pickle),
    }


def interleaved(cases: dict[str, Callable[[], Any]], repeats: int) -> dict[str, list[int]]:
    for fn in cases.values():  # warm up
        fn()
    samples: dict[str, list[int]] = {name: [] for name in cases}
    for _ in range(repeats):
        for name, fn in cases.items():
            samples[name].append(sample(fn))
    return samples


def small_term(encoder: Encoder, decoder: Decoder, repeats: int) -> dict[str, list[float]]:
    data = b"".join(encoder.encode(SMALL_TERM))
    assert decoder.decode(data) == SMALL_TERM
    as_pickle = pickle.dumps(SMALL_TERM, protocol=5)
    loop = range(SMALL_LOOPS)

    def many(fn: Callable[[], Any]) -> Callable[[], None]:
        def run() -> None:
            for _ in loop:
                fn()

        return run

    cases = {
        "ours encode": many(lambda: encoder.encode(SMALL_TERM)),
        "ours decode": many(lambda: decoder.decode(data)),
        "ours encode+decode": many(lambda: decoder.decode(b"".join(encoder.encode(SMALL_TERM)))),
        "pickle encode": many(lambda: pickle.dumps(SMALL_TERM, protocol=5)),
        "pickle decode": many(lambda: pickle.loads(as_pickle)),
        "pickle encode+decode": many(lambda: pickle.loads(pickle.dumps(SMALL_TERM, protocol=5))),
        "json encode+decode": many(lambda: json.loads(json.dumps(SMALL_TERM))),
        "empty loop": many(lambda: None),
    }
    samples = interleaved(cases, repeats * 3)
    return {name: [ns / SMALL_LOOPS for ns in runs] for name, runs in samples.items()}


def machine() -> dict[str, Any]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    facts: dict[str, Any] = {
        "nproc": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    elixir = shutil.which("elixir")
    if elixir:
        out = subprocess.run([elixir, "--version"], capture_output=True, text=True, check=False)
        facts["elixir"] = " ".join(out.stdout.split())
    return facts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--cpu", type=int, default=0, help="pin to this CPU; -1 to not pin")
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).resolve().parent / "results" / "codec.json"
    )
    args = parser.parse_args()
    if args.cpu >= 0 and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.cpu})

    encoder, decoder = Encoder(fallback=refuse), Decoder()
    results: dict[str, Any] = {
        "command": shlex.join([os.path.relpath(sys.executable), *sys.argv]),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "pinned_cpu": args.cpu,
        "repeats": args.repeats,
        "elements": N,
        "unit": "ns per element (lists), ns per term (small term); medians",
        "lists": {},
    }
    print(f"{'ns/element':<10}{'':>8}{'ours':>8}{'json':>8}{'pickle':>8}{'ours/json':>11}")
    for name, data in datasets().items():
        samples = interleaved(contenders(encoder, decoder, data), args.repeats)
        medians = {case: statistics.median(runs) / N for case, runs in samples.items()}
        row: dict[str, Any] = {}
        for way in ("encode", "decode"):
            ours, js, pk = (medians[f"{who} {way}"] for who in ("ours", "json", "pickle"))
            row[way] = {
                "ours": round(ours, 1),
                "json": round(js, 1),
                "pickle": round(pk, 1),
                "ours_over_json": round(ours / js, 2),
                "ours_over_pickle": round(ours / pk, 2),
                "ours_min_max": [
                    round(min(samples[f"ours {way}"]) / N, 1),
                    round(max(samples[f"ours {way}"]) / N, 1),
                ],
            }
            print(f"{name:<10}{way:>8}{ours:>8.1f}{js:>8.1f}{pk:>8.1f}{ours / js:>10.2f}x")
        results["lists"][name] = row

    small = small_term(encoder, decoder, args.repeats)
    results["small_term"] = {
        "term": repr(SMALL_TERM),
        **{
            name: {
                "median": round(statistics.median(runs), 1),
                "min": round(min(runs), 1),
                "max": round(max(runs), 1),
            }
            for name, runs in small.items()
        },
        "ours_over_pickle_round_trip": round(
            statistics.median(small["ours encode+decode"])
            / statistics.median(small["pickle encode+decode"]),
            2,
        ),
    }
    print(f"\nsmall term {SMALL_TERM!r}, ns (median; loop overhead included)")
    for name, runs in small.items():
        print(f"  {name:<22}{statistics.median(runs):>8.0f}")

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
