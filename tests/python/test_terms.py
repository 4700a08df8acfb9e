"""The bridge's values: structs, calendar types, numpy, and the auto and value modes."""

from __future__ import annotations

import array
import datetime as dt
import subprocess
import sys
from collections import Counter, OrderedDict, deque, namedtuple
from enum import IntEnum
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from snakebridge._arrays import ARRAY_DTYPES, encode_array
from snakebridge._deep import make_value_encoder
from snakebridge._etf import Atom, DecodeError, Encoder, ErlFun
from snakebridge._shm import read_segment
from snakebridge._terms import make_decoder, make_encoder

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
UTC = dt.UTC


def fallback(enc: Encoder, obj: Any) -> None:
    """Stands in for the bridge's Ref: a struct the test decoder turns into ("ref", type)."""
    enc.map_header(2)
    enc.atom("__struct__")
    enc.atom("Elixir.SnakeBridge.Ref")
    enc.atom("type")
    enc.term(type(obj).__name__)


def resolve_ref(fields: dict[str, Any]) -> Any:
    return ("ref", fields["type"])


DECODER = make_decoder(
    resolve_ref=resolve_ref,
    make_callable=lambda fun: ("fun", fun.arity),
    read_segment=lambda fields: read_segment(fields, memoryview(b"")),
)


def frame(obj: Any, enc: Encoder | None = None) -> bytes:
    return b"".join((enc or make_encoder(fallback=fallback)).encode(obj))


def round_trip(obj: Any, enc: Encoder | None = None) -> Any:
    return DECODER.decode(frame(obj, enc))


def same(a: Any, b: Any) -> bool:
    """Equal with the same types all the way down; datetimes also by zone and offset."""
    if type(a) is not type(b):
        return False
    if type(a) in (list, tuple):
        return len(a) == len(b) and all(map(same, a, b))
    if type(a) is dict:
        return a.keys() == b.keys() and all(same(v, b[k]) for k, v in a.items())
    if type(a) in (dt.datetime, dt.time) and a.tzinfo is not None:
        return (
            a.replace(tzinfo=None) == b.replace(tzinfo=None)
            and a.utcoffset() == b.utcoffset()
            and a.tzname() == b.tzname()
            and type(a.tzinfo) is type(b.tzinfo)
            and (type(a.tzinfo) is not ZoneInfo or a.tzinfo is b.tzinfo)
        )
    return bool(a == b)


# --------------------------------------------------------------------- round trips

fixed_zones = st.builds(
    lambda seconds, name: dt.timezone(dt.timedelta(seconds=seconds), *name),
    st.integers(-86399, 86399),
    st.one_of(st.just(()), st.tuples(st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ+-", min_size=1))),
)
zones = st.one_of(st.none(), st.just(UTC), st.sampled_from([PARIS, NEW_YORK]), fixed_zones)
datetimes = st.datetimes(timezones=zones, allow_imaginary=False).map(
    # Elixir's NaiveDateTime has no fold: fold=1 ones go to the fallback (tested below).
    lambda value: value if value.tzinfo else value.replace(fold=0)
)
hashables = st.one_of(st.integers(), st.text(), st.tuples(st.integers(), st.text()))
values = st.recursive(
    st.one_of(
        st.binary(),
        st.sets(hashables),
        st.frozensets(st.frozensets(st.integers())).map(set),
        st.dates(),
        st.times().map(lambda value: value.replace(fold=0)),
        datetimes,
        st.integers(),
        st.text(),
    ),
    lambda inner: st.one_of(st.lists(inner), st.dictionaries(st.text(), inner)),
    max_leaves=20,
)


@given(values)
def test_round_trip_keeps_values_and_types(value: Any) -> None:
    assert same(round_trip(value), value)
    assert same(round_trip(value, make_value_encoder(fallback=fallback)), value)


@pytest.mark.parametrize(
    "value", [dt.time(1, 30, fold=1), dt.datetime(2024, 11, 3, 1, 30, fold=1)], ids=repr
)
def test_a_time_or_naive_datetime_with_fold_goes_to_the_fallback(value: Any) -> None:
    assert round_trip(value) == ("ref", type(value).__name__)
    assert round_trip(value, make_value_encoder(fallback=fallback)) == ("ref", type(value).__name__)


def test_frozensets_come_back_as_sets() -> None:
    assert same(round_trip(frozenset({1, "a"})), {1, "a"})
    assert same(round_trip({frozenset({1}): 2}), {frozenset({1}): 2})


def test_bytes_stay_bytes_even_when_they_are_valid_utf8() -> None:
    assert same(round_trip([b"abc", b"", b"\xff", "abc"]), [b"abc", b"", b"\xff", "abc"])
    big = bytes(100_000)
    chunks = make_encoder(fallback=fallback).encode(big)
    assert any(chunk is big for chunk in chunks)
    assert DECODER.decode(b"".join(chunks)) == big


def test_ambiguous_wall_times_keep_their_fold() -> None:
    for fold in (0, 1):
        value = dt.datetime(2023, 10, 29, 2, 30, tzinfo=PARIS, fold=fold)
        back = round_trip(value)
        assert (back.fold, back.utcoffset(), back.tzinfo) == (fold, value.utcoffset(), PARIS)


def test_times_and_datetimes_elixir_cannot_hold_go_to_the_fallback() -> None:
    class Custom(dt.tzinfo):
        def utcoffset(self, d: dt.datetime | None) -> dt.timedelta:
            return dt.timedelta(hours=1)

        def tzname(self, d: dt.datetime | None) -> str:
            return "X"

        def dst(self, d: dt.datetime | None) -> dt.timedelta:
            return dt.timedelta(0)

    odd = dt.timezone(dt.timedelta(microseconds=1))
    values = [
        dt.time(1, tzinfo=UTC),
        dt.datetime(2024, 1, 1, tzinfo=Custom()),
        dt.datetime(2024, 1, 1, tzinfo=odd),
    ]
    assert round_trip(values) == [("ref", "time"), ("ref", "datetime"), ("ref", "datetime")]


# ------------------------------------------------------------- agreement with Elixir

DATETIME = (
    "%DateTime{{year: 2024, month: 2, day: 29, hour: 13, minute: 4, second: 5, "
    'microsecond: {{{us}, {p}}}, time_zone: "{zone}", zone_abbr: "{abbr}", '
    "utc_offset: {utc}, std_offset: {std}}}"
)

SENT_TO_ELIXIR: list[tuple[Any, str]] = [
    (
        b"\x00\xffbytes",
        "%{__struct__: SnakeBridge.Bytes, data: <<0, 255, 98, 121, 116, 101, 115>>}",
    ),
    (b"text", '%{__struct__: SnakeBridge.Bytes, data: "text"}'),
    ({1, "a", (2, 3)}, 'MapSet.new([1, "a", {2, 3}])'),
    (frozenset(), "MapSet.new()"),
    ({frozenset({1})}, "MapSet.new([MapSet.new([1])])"),
    (dt.date(2024, 2, 29), "~D[2024-02-29]"),
    (dt.date(1, 1, 1), "~D[0001-01-01]"),
    (dt.time(23, 59, 58), "~T[23:59:58]"),
    (dt.time(1, 2, 3, 4), "~T[01:02:03.000004]"),
    (dt.datetime(2024, 2, 29, 13, 4, 5), "~N[2024-02-29 13:04:05]"),
    (dt.datetime(2024, 2, 29, 13, 4, 5, 123456), "~N[2024-02-29 13:04:05.123456]"),
    (
        dt.datetime(2024, 2, 29, 13, 4, 5, tzinfo=UTC),
        'DateTime.from_naive!(~N[2024-02-29 13:04:05], "Etc/UTC")',
    ),
    (
        dt.datetime(2024, 2, 29, 13, 4, 5, 7, tzinfo=PARIS),
        DATETIME.format(us=7, p=6, zone="Europe/Paris", abbr="CET", utc=3600, std=0),
    ),
    (
        dt.datetime(2024, 2, 29, 13, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=-5.5))),
        DATETIME.format(us=0, p=0, zone="UTC-05:30", abbr="UTC-05:30", utc=-19800, std=0),
    ),
    (
        dt.datetime(2024, 2, 29, 13, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=2), "CEST")),
        DATETIME.format(us=0, p=0, zone="UTC+02:00", abbr="CEST", utc=7200, std=0),
    ),
    (
        dt.datetime(2023, 10, 29, 2, 30, tzinfo=PARIS, fold=0),
        "%DateTime{year: 2023, month: 10, day: 29, hour: 2, minute: 30, second: 0, "
        'microsecond: {0, 0}, time_zone: "Europe/Paris", zone_abbr: "CEST", '
        "utc_offset: 3600, std_offset: 3600}",
    ),
    (np.float64(1.5), "1.5"),
    (np.float32(0.5), "0.5"),
    (np.int8(-7), "-7"),
    (np.uint64(2**64 - 1), "18446744073709551615"),
    (np.bool_(True), "true"),
    (np.str_("héllo"), '"héllo"'),
    (np.bytes_(b"ab"), '%{__struct__: SnakeBridge.Bytes, data: "ab"}'),
    ([Atom("ok"), {"k": [b"x"]}], '[:ok, %{"k" => [%{__struct__: SnakeBridge.Bytes, data: "x"}]}]'),
]


def test_python_values_decode_in_elixir_as_the_structs_they_stand_for(elixir_decodes) -> None:
    cases = [(frame(value), expr) for value, expr in SENT_TO_ELIXIR]
    assert elixir_decodes(cases) == []


def test_arrays_decode_in_elixir(elixir_decodes) -> None:
    arrays = [
        np.arange(6, dtype=np.float64).reshape(2, 3),
        np.array([[1, 2], [3, 4]], dtype=">i4").T,
        np.array(True),
        np.zeros((0, 4), dtype=np.uint16),
        np.arange(20_000, dtype=np.int64),
    ]
    cases = []
    for a in arrays:
        enc = make_encoder(fallback=fallback)
        enc.register(np.ndarray, encode_array)
        data = a.astype(a.dtype.newbyteorder("<")).tobytes(order="C")
        binary = "<<" + ", ".join(map(str, data)) + ">>"
        shape = "{" + ", ".join(map(str, a.shape)) + "}"
        fields = f'dtype: "{a.dtype.name}", shape: {shape}, data: {binary}'
        expr = f"%{{__struct__: SnakeBridge.Array, {fields}}}"
        cases.append((frame(a, enc), expr))
    assert elixir_decodes(cases) == []


RECEIVED_FROM_ELIXIR: list[tuple[str, Any]] = [
    ('%{__struct__: SnakeBridge.Bytes, data: "text"}', b"text"),
    ("%{__struct__: SnakeBridge.Bytes, data: <<255>>}", b"\xff"),
    ('%{__struct__: SnakeBridge.Ref, type: "Counter"}', ("ref", "Counter")),
    ('MapSet.new([1, "a", {2, 3}])', {1, "a", (2, 3)}),
    ("MapSet.new([MapSet.new([1]), MapSet.new()])", {frozenset({1}), frozenset()}),
    ("%{MapSet.new([1]) => :one}", {frozenset({1}): "one"}),
    ("~D[2024-02-29]", dt.date(2024, 2, 29)),
    ("~T[23:59:58]", dt.time(23, 59, 58)),
    ("~T[01:02:03.004]", dt.time(1, 2, 3, 4000)),
    ("~N[2024-02-29 13:04:05.123456]", dt.datetime(2024, 2, 29, 13, 4, 5, 123456)),
    (
        'DateTime.from_naive!(~N[2024-02-29 13:04:05.5], "Etc/UTC")',
        dt.datetime(2024, 2, 29, 13, 4, 5, 500000, tzinfo=UTC),
    ),
    (
        DATETIME.format(us=7, p=6, zone="Europe/Paris", abbr="CET", utc=3600, std=0),
        dt.datetime(2024, 2, 29, 13, 4, 5, 7, tzinfo=PARIS),
    ),
    (
        "%DateTime{year: 2023, month: 10, day: 29, hour: 2, minute: 30, second: 0, "
        'microsecond: {0, 0}, time_zone: "Europe/Paris", zone_abbr: "CET", '
        "utc_offset: 3600, std_offset: 0}",
        dt.datetime(2023, 10, 29, 2, 30, tzinfo=PARIS, fold=1),
    ),
    (
        DATETIME.format(us=0, p=0, zone="UTC+02:00", abbr="CEST", utc=7200, std=0),
        dt.datetime(2024, 2, 29, 13, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=2), "CEST")),
    ),
    (
        DATETIME.format(us=0, p=0, zone="UTC-05:30", abbr="UTC-05:30", utc=-19800, std=0),
        dt.datetime(2024, 2, 29, 13, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=-5.5))),
    ),
    (
        DATETIME.format(us=0, p=0, zone="Mars/Olympus", abbr="MOT", utc=3600, std=3600),
        dt.datetime(2024, 2, 29, 13, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=2), "MOT")),
    ),
    ("fn a, b -> a + b end", ("fun", 2)),
    ("&Enum.sum/1", ("fun", 1)),
]


def test_elixir_structs_and_funs_decode_to_python_values(elixir_binaries) -> None:
    exprs = [f":erlang.term_to_binary({expr})" for expr, _ in RECEIVED_FROM_ELIXIR]
    for (expr, expected), data in zip(RECEIVED_FROM_ELIXIR, elixir_binaries(exprs), strict=True):
        assert same(DECODER.decode(data), expected), expr


def test_elixir_arrays_decode_to_read_only_ndarrays(elixir_binaries) -> None:
    exprs = [
        '%{__struct__: SnakeBridge.Array, dtype: "float64", shape: {2, 2}, '
        "data: <<1.5::float-little-64, 2.5::float-little-64, -1.0::float-little-64, 0::64>>}",
        '%{__struct__: SnakeBridge.Array, dtype: "int16", shape: {3}, '
        "data: <<1::little-16, -2::little-signed-16, 300::little-16>>}",
        '%{__struct__: SnakeBridge.Array, dtype: "uint8", shape: {}, data: <<7>>}',
    ]
    frames = elixir_binaries([f":erlang.term_to_binary({e})" for e in exprs])
    expected = [
        np.array([[1.5, 2.5], [-1.0, 0.0]]),
        np.array([1, -2, 300], dtype=np.int16),
        np.array(7, dtype=np.uint8),
    ]
    for data, want in zip(frames, expected, strict=True):
        got = DECODER.decode(data)
        assert isinstance(got, np.ndarray)
        assert got.dtype == want.dtype
        assert got.shape == want.shape
        assert np.array_equal(got, want)
        assert not got.flags.writeable


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("%{__struct__: Date, calendar: Cal.Other, year: 1, month: 1, day: 1}", "calendar"),
        ("%{~D[2024-01-01] | year: 10_000}", "out of Python's range"),
        ("%{~D[2024-01-01] | month: :june}", "bad month"),
        ("%{__struct__: Date, calendar: Calendar.ISO, year: 1, month: 1}", "no day field"),
        ("%{~T[01:02:03] | microsecond: 5}", "microsecond"),
        ('URI.parse("http://x")', "Elixir.URI"),
        ("%{__struct__: SnakeBridge.Bytes, data: 1}", "bad data"),
        ('%{__struct__: SnakeBridge.Array, dtype: "object", shape: {1}, data: <<0>>}', "dtype"),
        ('%{__struct__: SnakeBridge.Array, dtype: "int32", shape: {2}, data: <<0>>}', "needs 8"),
        ('%{__struct__: SnakeBridge.Array, dtype: "int8", shape: {-1}, data: <<>>}', "shape"),
        ('%{__struct__: SnakeBridge.Array, dtype: "int8", shape: [1], data: <<0>>}', "shape"),
        ("%{__struct__: MapSet, map: [], version: 2}", "map"),
    ],
)
def test_malformed_structs_are_decode_errors(elixir_binaries, expr: str, message: str) -> None:
    (data,) = elixir_binaries([f":erlang.term_to_binary({expr})"])
    with pytest.raises(DecodeError, match=message):
        DECODER.decode(data)


def test_arrays_need_numpy(monkeypatch) -> None:
    enc = make_encoder(fallback=fallback)
    enc.register(np.ndarray, encode_array)
    data = frame(np.arange(3), enc)
    monkeypatch.setitem(sys.modules, "numpy", None)
    with pytest.raises(DecodeError, match="numpy is not installed"):
        DECODER.decode(data)


# --------------------------------------------------------------------------- arrays


@pytest.mark.parametrize("dtype", sorted(ARRAY_DTYPES))
def test_arrays_round_trip_in_every_dtype(dtype: str) -> None:
    enc = make_encoder(fallback=fallback)
    enc.register(np.ndarray, encode_array)
    for a in (
        np.arange(24).reshape(2, 3, 4).astype(dtype),
        np.arange(24).reshape(4, 6).astype(dtype)[:, ::2],
        np.arange(6).astype(np.dtype(dtype).newbyteorder(">")),
        np.zeros((0,), dtype=dtype),
        np.array(1, dtype=dtype),
    ):
        back = DECODER.decode(frame(a, enc))
        assert back.dtype == a.dtype.newbyteorder("<")
        assert back.shape == a.shape
        assert np.array_equal(back, a)


def test_large_arrays_are_sent_without_a_copy() -> None:
    a = np.arange(100_000, dtype=np.float64)
    enc = make_encoder(fallback=fallback)
    enc.register(np.ndarray, encode_array)
    chunks = enc.encode(a)
    views = [c for c in chunks if isinstance(c, memoryview)]
    assert len(views) == 1
    assert np.shares_memory(np.frombuffer(views[0], dtype=np.uint8), a)
    assert np.array_equal(DECODER.decode(b"".join(chunks)), a)


def test_encode_array_refuses_other_dtypes() -> None:
    enc = make_encoder(fallback=fallback)
    enc.register(np.ndarray, encode_array)
    with pytest.raises(TypeError, match="dtype object"):
        enc.encode(np.array([None, 1]))


# ----------------------------------------------------------------- auto and value modes


class Color(IntEnum):
    RED = 1


Point = namedtuple("Point", "x y")


class Tagged(str):
    pass


def gen() -> Any:
    yield 1


def test_auto_mode_sends_only_exact_types_by_value() -> None:
    values = [
        Counter("aa"),
        OrderedDict(a=1),
        Point(1, 2),
        Color.RED,
        Tagged("x"),
        bytearray(b"x"),
        memoryview(b"x"),
        deque([1]),
        range(3),
        {}.keys(),
        gen(),
        np.arange(3),
        np.complex128(1j),
        np.datetime64("2024-01-01"),
        np.timedelta64(29, "D"),
        np.timedelta64(5, "ns"),
        np.longdouble(1) / 3,
        np.array([(1, 2.0)], dtype=[("a", "i4"), ("b", "f8")])[0],
        1j,
    ]
    assert round_trip(values) == [("ref", type(v).__name__) for v in values]


def test_slices_cross_as_the_slice_struct_both_ways() -> None:
    for value in (slice(1, 10, 2), slice(None, -1), slice("a", "c"), slice(None, None, -1)):
        assert round_trip(value) == value
    assert round_trip(slice(1j, None)) == slice(("ref", "complex"), None, None)


def test_value_mode_converts_subclasses_and_foreign_zones() -> None:
    import pandas as pd
    from dateutil import tz

    class Text(str):
        def __str__(self) -> str:
            return "something else"

    class Money(float):
        pass

    class Blob(bytes):
        pass

    at = dt.datetime(2024, 1, 15, 8, 0)
    enc = make_value_encoder(fallback=fallback)
    converted = round_trip(
        [
            Text("kept"),
            {Text("k"): Money(1.5)},
            Blob(b"\x00"),
            pd.Timestamp("2024-03-01 12:30:00.25"),
            pd.Timestamp("2024-03-01 12:30:00.000000001"),
            at.replace(tzinfo=tz.tzoffset(None, 3600)),
            at.replace(tzinfo=tz.tzoffset("BRST", -7200)),
            at.replace(tzinfo=tz.tzutc()),
            at.replace(tzinfo=tz.gettz("Europe/Paris")),
            np.datetime64("2024-02-29", "D"),
            np.datetime64("2024-02-29T01:02:03.5", "ms"),
            np.datetime64("2024-02-29T01:02:03.5", "ns"),
            np.timedelta64(3, "D"),
        ],
        enc,
    )
    assert same(
        converted[:4],
        ["kept", {"k": 1.5}, b"\x00", dt.datetime(2024, 3, 1, 12, 30, 0, 250000)],
    )
    assert converted[4] == ("ref", "Timestamp")  # nanoseconds have no exact datetime
    one, brst, utc, paris = converted[5:9]
    assert one.tzname() == "UTC+01:00" and one.utcoffset() == dt.timedelta(hours=1)
    assert brst.tzname() == "BRST" and brst.utcoffset() == dt.timedelta(hours=-2)
    assert utc.tzinfo is UTC
    assert paris.tzinfo is PARIS
    assert converted[9:] == [
        dt.date(2024, 2, 29),
        dt.datetime(2024, 2, 29, 1, 2, 3, 500000),
        ("ref", "datetime64"),
        ("ref", "timedelta64"),
    ]


def test_value_mode_converts_collections_buffers_and_arrays() -> None:
    enc = make_value_encoder(fallback=fallback)
    values = [
        Counter("aab"),
        OrderedDict(a=[Point(1, 2)]),
        Point(1, 2),
        deque([1, 2]),
        range(3),
        {"a": 1}.keys(),
        {"a": 1}.values(),
        {"a": 1}.items(),
        frozenset({1}),
        bytearray(b"ab"),
        memoryview(b"cd"),
        array.array("i", [1, 2]),
        np.arange(6).reshape(2, 3),
        np.array([1 + 2j]),
        np.complex64(1j),
        np.float32(2.5),
        Color.RED,
        Tagged("x"),
        gen(),
    ]
    assert same(
        round_trip(values, enc),
        [
            {"a": 2, "b": 1},
            {"a": [[1, 2]]},
            [1, 2],
            [1, 2],
            [0, 1, 2],
            ["a"],
            [1],
            [("a", 1)],
            {1},
            b"ab",
            b"cd",
            [1, 2],
            [[0, 1, 2], [3, 4, 5]],
            [("ref", "complex")],
            ("ref", "complex64"),
            2.5,
            1,
            "x",
            ("ref", "generator"),
        ],
    )


def test_value_mode_cycles_and_deep_nesting_go_to_the_fallback() -> None:
    enc = make_value_encoder(fallback=fallback)
    cyclic: OrderedDict[str, Any] = OrderedDict(a=1)
    cyclic["self"] = deque([cyclic])
    assert round_trip(cyclic, enc) == {"a": 1, "self": [("ref", "OrderedDict")]}
    deep: Any = 0
    for _ in range(2000):
        deep = deque([deep])
    back = round_trip(deep, enc)
    while isinstance(back, list):
        back = back[0]
    assert back == ("ref", "list")


def test_the_encoders_never_import_numpy() -> None:
    script = (
        "import sys, datetime\n"
        "from snakebridge._terms import make_encoder\n"
        "from snakebridge._deep import make_value_encoder\n"
        "def fallback(enc, obj): enc.atom('ref')\n"
        "value = [1.5, b'x', {1}, datetime.date.today(), object(), {'a': [2]}]\n"
        "make_encoder(fallback=fallback).encode(value)\n"
        "make_value_encoder(fallback=fallback).encode(value)\n"
        "assert 'numpy' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True)


def test_funs_decode_through_make_callable() -> None:
    seen: list[ErlFun] = []
    decoder = make_decoder(
        resolve_ref=resolve_ref,
        make_callable=lambda f: seen.append(f) or "cb",
        read_segment=lambda fields: read_segment(fields, memoryview(b"")),
    )
    term = b"q" + b"d\x00\x04Enumd\x00\x03suma\x01"
    assert decoder.decode(b"\x83" + term) == "cb"
    assert seen == [ErlFun(term, 1, "Enum", "sum")]
