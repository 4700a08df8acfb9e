"""The generic ETF codec: round trips, Erlang agreement, malformed frames, the encoder's
registry, cycles and chunks."""

from __future__ import annotations

import base64
import contextlib
import math
import random
import struct
import zlib
from enum import IntEnum
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from snakebridge._etf import (
    HANDLER_LEVELS,
    RECURSE_DEPTH,
    Atom,
    DecodeError,
    Decoder,
    Encoder,
    ErlFun,
    scalar_term,
)


def fallback(enc: Encoder, obj: Any) -> None:
    """Marks what the encoder could not send, with a scalar: "fallback:<type name>"."""
    enc.binary(f"fallback:{type(obj).__name__}".encode())


def make_encoder() -> Encoder:
    return Encoder(fallback=fallback)


def frame(obj: Any, enc: Encoder | None = None) -> bytes:
    return b"".join((enc or make_encoder()).encode(obj))


def round_trip(obj: Any) -> Any:
    return Decoder().decode(frame(obj))


def same(a: Any, b: Any) -> bool:
    """Equal, with the same types all the way down; nan equals nan and -0.0 is not 0.0."""
    if type(a) is not type(b):
        return False
    if type(a) is float:
        return (math.isnan(a) and math.isnan(b)) or (
            a == b and math.copysign(1, a) == math.copysign(1, b)
        )
    if type(a) in (list, tuple):
        return len(a) == len(b) and all(map(same, a, b))
    if type(a) is dict:
        return a.keys() == b.keys() and all(same(v, b[k]) for k, v in a.items())
    return bool(a == b)


# --------------------------------------------------------------------- round trips

ints = st.one_of(
    st.integers(),
    st.integers(min_value=-(2**2100), max_value=2**2100),
    st.sampled_from([0, 255, 256, -1, 2**31 - 1, 2**31, -(2**31), -(2**31) - 1, 2**64, -(2**64)]),
)
scalars = st.one_of(st.none(), st.booleans(), ints, st.floats(), st.text())
keys = st.one_of(st.none(), ints, st.text(), st.tuples(ints, st.text()))
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner),
        st.lists(inner).map(tuple),
        st.dictionaries(keys, inner),
    ),
    max_leaves=40,
)


@given(st.one_of(scalars, st.text(min_size=200, max_size=300), st.just("\udcff")))
def test_scalar_term_matches_the_encoder_or_declines(value: Any) -> None:
    term = scalar_term(value)
    if term is not None:
        assert term == b"".join(make_encoder().encode(value))
    else:
        assert type(value) is str
        assert len(value.encode("utf-8", "surrogatepass")) >= 256 or "\udcff" in value


def test_scalar_term_declines_containers_and_other_types() -> None:
    for value in ([1], (1,), {1: 2}, b"x", 1j, Atom("a")):
        assert scalar_term(value) is None


@given(values)
def test_round_trip_keeps_values_and_types(value: Any) -> None:
    assert same(round_trip(value), value)


bulk_scalars = st.one_of(st.floats(), ints, st.text(max_size=300), st.none())


@given(
    st.one_of(
        st.lists(st.floats(), min_size=16, max_size=300),
        st.lists(st.integers(-(2**31), 2**31 - 1), min_size=16, max_size=300),
        st.lists(st.integers(0, 300), min_size=16, max_size=300),
        st.lists(st.text(max_size=40), min_size=16, max_size=300),
        st.lists(bulk_scalars, min_size=16, max_size=300),
    )
)
def test_round_trip_of_long_lists(value: list[Any]) -> None:
    assert same(round_trip(value), value)
    assert same(round_trip([value, (value,), {"k": value}]), [value, (value,), {"k": value}])


def binaries_encoder() -> Encoder:
    enc = make_encoder()
    enc.register(bytes, lambda e, b: e.binary(b))
    return enc


def as_decoded(data: bytes) -> str | bytes:
    try:
        return data.decode()
    except UnicodeDecodeError:
        return data


@given(st.lists(st.binary(max_size=300), min_size=16, max_size=300))
def test_binaries_decode_to_str_when_utf8_else_bytes(items: list[bytes]) -> None:
    decoded = Decoder().decode(frame(items, binaries_encoder()))
    assert same(decoded, [as_decoded(b) for b in items])


@pytest.mark.parametrize(
    "items",
    [
        # bodies containing the short-binary header pattern the bulk decoder splits on
        [b"m\x00\x00\x00\x03abc", b"xm\x00\x00\x00", b"m\x00\x00\x00"] * 30,
        [b"a" * n for n in range(300)],
        [b"\xff\xfe", "é".encode(), b"ok"] * 40,
        ["é€𝄞".encode() * n for n in range(60)],
        [b""] * 100 + [b"x" * 255, b"y" * 256] * 10,
    ],
)
def test_binary_runs_with_tricky_bodies(items: list[bytes]) -> None:
    decoded = Decoder().decode(frame(items, binaries_encoder()))
    assert same(decoded, [as_decoded(b) for b in items])


def test_long_lists_cross_the_bulk_windows() -> None:
    rng = random.Random(7)
    strs = [f"s{rng.randrange(10**9)}" for _ in range(50_000)]
    floats = [rng.uniform(-1e9, 1e9) for _ in range(50_000)]
    mixed = [rng.choice([1, 300, 2**40, 1.5, "x", None]) for _ in range(50_000)]
    value = [strs, floats, list(range(-1000, 100_000)), mixed, strs + floats]
    assert same(round_trip(value), value)


def test_non_finite_floats_are_atoms() -> None:
    assert frame(float("nan")) == b"\x83w\x03nan"
    assert frame(float("inf")) == b"\x83w\x08infinity"
    assert frame(float("-inf")) == b"\x83w\x0cneg_infinity"
    floats = [1.0] * 20 + [float("inf"), float("nan"), -0.0, float("-inf")]
    data = frame(floats)
    assert b"w\x03nan" in data
    assert b"w\x08infinity" in data
    assert b"w\x0cneg_infinity" in data
    assert same(Decoder().decode(data), floats)


def test_atoms_decode_to_str_and_special_atoms_to_python_values() -> None:
    assert same(round_trip(Atom("ok")), "ok")
    assert same(round_trip([Atom("true"), Atom("false"), Atom("nil")]), [True, False, None])
    assert same(round_trip(Atom("héllo")), "héllo")
    assert repr(Atom("ok")) == "Atom('ok')"


# ------------------------------------------------------------- agreement with Erlang


def test_scalars_encode_exactly_as_erlang_does(elixir_binaries, literal) -> None:
    values = [0, 1, 255, 256, -1, 2**31 - 1, 2**31, -(2**31), -(2**31) - 1, 2**64, -(2**64)]
    values += [2**2100, -(2**2100), 0.0, 1.5, -2.5e-300, 1e300, "", "héllo", (), (1, "a")]
    values += [[1000, 2.5], {"a": 1}, [[]]]
    erlang = elixir_binaries([f":erlang.term_to_binary({literal(v)})" for v in values])
    for value, expected in zip(values, erlang, strict=True):
        assert frame(value) == expected, value


PYTHON_TO_ELIXIR: list[Any] = [
    None,
    True,
    False,
    0,
    255,
    256,
    -1,
    2**31 - 1,
    2**31,
    -(2**31) - 1,
    2**64,
    -(2**2100),
    1.5,
    -0.0,
    5e-324,
    float("nan"),
    float("inf"),
    float("-inf"),
    "",
    "héllo wörld 𝄞",
    Atom("ok"),
    Atom("Elixir.SnakeBridge.Ref"),
    Atom("héllo"),
    Atom("ünïcode_ätom"),
    [],
    [16],
    ("math", "sqrt", [16], []),
    {"a": [1, {"b": ()}], 2: None, (1, "x"): 2.5},
    tuple(range(300)),
    list(range(-5, 1000)),
    [random.Random(1).uniform(-1e6, 1e6) for _ in range(1000)],
    [f"string number {i} ✓" for i in range(1000)],
    ["ascii", "strings"] * 500,
    [1, 2**40, 1.5, "x", None, Atom("ok"), [1]] * 50,
    [0.5] * 20 + [float("nan"), float("inf"), float("-inf"), 1e308, 1e308],
]


def test_python_frames_decode_in_erlang(elixir_decodes, literal) -> None:
    cases = [(frame(value), literal(value)) for value in PYTHON_TO_ELIXIR]
    assert elixir_decodes(cases) == []


ELIXIR_TO_PYTHON: list[tuple[str, Any]] = [
    ("nil", None),
    ("true", True),
    ("false", False),
    ("0", 0),
    ("255", 255),
    ("256", 256),
    ("-1", -1),
    ("2147483647", 2**31 - 1),
    ("2147483648", 2**31),
    ("-2147483648", -(2**31)),
    ("-2147483649", -(2**31) - 1),
    ("18446744073709551616", 2**64),
    ("-18446744073709551616", -(2**64)),
    ("Integer.pow(2, 2100)", 2**2100),
    ("-Integer.pow(3, 2000)", -(3**2000)),
    ("1.5", 1.5),
    ("-0.0", -0.0),
    ("1.0e300", 1e300),
    (":ok", "ok"),
    (":nan", float("nan")),
    (":infinity", float("inf")),
    (":neg_infinity", float("-inf")),
    (':"héllo"', "héllo"),
    (':"ünïcode_ätöm_€"', "ünïcode_ätöm_€"),
    ('"héllo"', "héllo"),
    ("<<255, 0>>", b"\xff\x00"),
    ("[]", []),
    ("[16]", [16]),
    ("[1, 2, 300]", [1, 2, 300]),
    ('~c"abc"', [97, 98, 99]),
    ("Enum.to_list(0..255)", list(range(256))),
    ("Enum.to_list(-1000..100000)", list(range(-1000, 100_001))),
    ("Enum.map(1..2000, &(&1 * 1.5))", [i * 1.5 for i in range(1, 2001)]),
    ('Enum.map(1..2000, &"s#{&1}")', [f"s{i}" for i in range(1, 2001)]),
    ('Enum.map(1..500, &"é#{&1}")', [f"é{i}" for i in range(1, 501)]),
    ("[1 | [2 | []]]", [1, 2]),
    ("{}", ()),
    ('{"math", "sqrt", [16], []}', ("math", "sqrt", [16], [])),
    ("List.to_tuple(Enum.to_list(1..300))", tuple(range(1, 301))),
    ("%{}", {}),
    ('%{:a => 1, "b" => [2.5], 3 => {:x}}', {"a": 1, "b": [2.5], 3: ("x",)}),
    ("Map.new(1..100, &{&1, &1 * 2})", {i: i * 2 for i in range(1, 101)}),
    ('%{"__struct__" => "not a struct"}', {"__struct__": "not a struct"}),
]


def test_erlang_frames_decode_in_python(elixir_binaries) -> None:
    frames = elixir_binaries([f":erlang.term_to_binary({expr})" for expr, _ in ELIXIR_TO_PYTHON])
    for (expr, expected), data in zip(ELIXIR_TO_PYTHON, frames, strict=True):
        assert same(Decoder().decode(data), expected), expr


def test_erlang_old_float_and_compressed_frames(elixir_binaries) -> None:
    frames = elixir_binaries(
        [
            ":erlang.term_to_binary(1.5, minor_version: 0)",
            ":erlang.term_to_binary(-2.0e-300, minor_version: 0)",
            ":erlang.term_to_binary(Enum.to_list(1..1000), compressed: 9)",
        ]
    )
    assert frames[0][1] == 99  # FLOAT_EXT
    decoded = [Decoder().decode(data) for data in frames]
    assert decoded == [1.5, -2.0e-300, list(range(1, 1001))]


def random_value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(12 if depth < 4 else 8)
    if kind == 0:
        return rng.choice([None, True, False])
    if kind == 1:
        return rng.randrange(-(2 ** rng.randrange(1, 300)), 2 ** rng.randrange(1, 300))
    if kind == 2:
        return rng.randrange(-300, 300)
    if kind == 3:
        return struct.unpack(">d", rng.randbytes(8))[0]
    if kind in (4, 5):
        return "".join(
            chr(rng.choice([rng.randrange(32, 127), rng.randrange(160, 0xD7FF)]))
            for _ in range(rng.randrange(20))
        )
    if kind == 6:
        return [rng.random() for _ in range(rng.randrange(40))]
    if kind == 7:
        return [f"k{rng.randrange(1000)}" for _ in range(rng.randrange(40))]
    if kind == 8:
        return [random_value(rng, depth + 1) for _ in range(rng.randrange(30))]
    if kind == 9:
        return tuple(random_value(rng, depth + 1) for _ in range(rng.randrange(6)))
    if kind == 10:
        return {rng.randrange(100): random_value(rng, depth + 1) for _ in range(rng.randrange(8))}
    return {f"key{i}": random_value(rng, depth + 1) for i in range(rng.randrange(8))}


def test_random_values_survive_a_trip_through_erlang(elixir_binaries) -> None:
    rng = random.Random(2024)
    originals = [random_value(rng) for _ in range(300)]
    echo = ':erlang.term_to_binary(:erlang.binary_to_term(Base.decode64!("{}"), [:safe]))'
    frames = elixir_binaries([echo.format(base64.b64encode(frame(v)).decode()) for v in originals])
    for original, data in zip(originals, frames, strict=True):
        assert same(Decoder().decode(data), original)


def test_funs_are_handed_to_the_hook_and_sent_back_verbatim(elixir_binaries) -> None:
    exprs = ["fn x -> x + 1 end", "fn a, b, c -> {a, b, c} end", "&Enum.sum/1", "&:erlang.+/2"]
    frames = elixir_binaries([f":erlang.term_to_binary({{:cb, {e}}})" for e in exprs])
    decoder = Decoder(fun=lambda f: f)
    for data, arity in zip(frames, [1, 3, 1, 2], strict=True):
        tag, fun = decoder.decode(data)
        assert tag == "cb"
        assert isinstance(fun, ErlFun)
        assert fun.arity == arity
        assert data == b"\x83h\x02d\x00\x02cb" + fun.term
        enc = make_encoder()
        enc.register(ErlFun, lambda e, f: e.raw(f.term))
        assert frame(fun, enc) == b"\x83" + fun.term
    with pytest.raises(DecodeError, match="fun"):
        Decoder().decode(frames[0])


def test_funs_carry_their_module_and_an_external_funs_name(elixir_binaries) -> None:
    exprs = ["fn x -> x end", "&String.length/1", "&:lists.reverse/1", '&:"é".f/0']
    frames = elixir_binaries([f":erlang.term_to_binary({e})" for e in exprs])
    funs = [Decoder(fun=lambda f: f).decode(data) for data in frames]
    assert [(f.module, f.name) for f in funs[1:]] == [
        ("Elixir.String", "length"),
        ("lists", "reverse"),
        ("é", "f"),
    ]
    assert funs[0].name is None
    assert funs[0].module  # the module the test expression was compiled in


def test_funs_sent_back_still_work_in_erlang(elixir, elixir_binaries) -> None:
    frames = elixir_binaries([":erlang.term_to_binary([fn x -> x * 7 end, &Enum.sum/1])"])
    funs = Decoder(fun=lambda f: f).decode(frames[0])
    enc = make_encoder()
    enc.register(ErlFun, lambda e, f: e.raw(f.term))
    data = base64.b64encode(frame((funs[0], funs[1], [1, 2, 3]), enc)).decode()
    out = elixir(
        f'{{f, g, l}} = :erlang.binary_to_term(Base.decode64!("{data}")); IO.puts(f.(6) + g.(l))'
    )
    assert out == ["48"]


def test_pids_ports_references_and_bitstrings_are_refused(elixir_binaries) -> None:
    frames = elixir_binaries(
        [
            ":erlang.term_to_binary(self())",
            ":erlang.term_to_binary(hd(Port.list()))",
            ":erlang.term_to_binary(make_ref())",
            ":erlang.term_to_binary(<<1::3>>)",
            ":erlang.term_to_binary([1, {self()}])",
        ]
    )
    for data, what in zip(frames, ["pid", "port", "reference", "bitstring", "pid"], strict=True):
        with pytest.raises(DecodeError, match=f"unsupported term: {what}"):
            Decoder().decode(data)


# ------------------------------------------------------------------------ structs


def test_struct_hooks_get_the_fields_without_the_struct_key(elixir_binaries) -> None:
    (data,) = elixir_binaries(
        [':erlang.term_to_binary([%{__struct__: Some.Struct, a: 1, b: "x"}, %{__struct__: 1}])']
    )
    seen = []
    decoder = Decoder(structs={"Elixir.Some.Struct": lambda f: seen.append(f) or "hooked"})
    with pytest.raises(DecodeError, match="unsupported struct 1"):
        decoder.decode(data)
    assert seen == [{"a": 1, "b": "x"}]
    with pytest.raises(DecodeError, match=r"Elixir\.Some\.Struct"):
        Decoder().decode(data)


def test_a_binary_struct_key_is_not_a_struct() -> None:
    value = {"__struct__": "Elixir.Some.Struct", "a": 1}
    decoder = Decoder(structs={"Elixir.Some.Struct": lambda f: "hooked"})
    assert decoder.decode(frame(value)) == value
    assert decoder.decode(frame({Atom("__struct__"): Atom("Elixir.Some.Struct")})) == "hooked"


@pytest.mark.parametrize("error", [IndexError("hook"), struct.error("hook"), KeyError("hook")])
def test_hook_exceptions_propagate_unchanged(error: Exception) -> None:
    def hook(fields: dict[str, Any]) -> Any:
        raise error

    data = frame([1, {Atom("__struct__"): Atom("Elixir.S")}])
    with pytest.raises(type(error)) as info:
        Decoder(structs={"Elixir.S": hook}).decode(data)
    assert info.value is error


def test_map_keys_that_collide_after_conversion_are_refused(elixir_binaries) -> None:
    frames = elixir_binaries(
        [
            ':erlang.term_to_binary(%{:a => 1, "a" => 2})',
            ":erlang.term_to_binary(%{1 => :a, 1.0 => :b})",
            ":erlang.term_to_binary(%{[1] => 2})",
            ":erlang.term_to_binary(%{%{} => 2})",
        ]
    )
    with pytest.raises(DecodeError, match="map keys collide after conversion: 'a'"):
        Decoder().decode(frames[0])
    with pytest.raises(DecodeError, match="map keys collide after conversion: 1"):
        Decoder().decode(frames[1])
    for data in frames[2:]:
        with pytest.raises(DecodeError, match="unhashable map key"):
            Decoder().decode(data)


# ----------------------------------------------------------------- malformed frames

VALID_FRAMES = [
    frame(("math", "sqrt", [16], [], {"k": 2**70, "f": -1.5})),
    frame([1.5] * 40 + [2**31 - 1] * 40 + ["abc"] * 40 + list(range(40))),
    frame(Atom("ok")),
    b"\x83d\x00\x02ok",
    b"\x83c" + b"1.50000000000000000000e+00".ljust(31, b"\x00"),
    b"\x83k\x00\x03abc",
    b"\x83q" + b"d\x00\x04Enumd\x00\x03suma\x01",
]


@pytest.mark.parametrize("data", VALID_FRAMES)
def test_every_truncation_is_a_decode_error(data: bytes) -> None:
    decoder = Decoder(fun=lambda f: f)
    decoder.decode(data)
    for end in range(len(data)):
        with pytest.raises(DecodeError):
            decoder.decode(data[:end])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x83j\x00", "trailing bytes"),
        (b"\x84j", "version"),
        (b"", "truncated"),
        (b"\x83\x00", "unknown tag 0"),
        (b"\x83\xff", "unknown tag 255"),
        (b"\x83l\x00\x00\x00\x01a\x01a\x02", "improper list"),
        (b"\x83l\xff\xff\xff\xffj", "declares 4294967295 elements"),
        (b"\x83t\xff\xff\xff\xff", "declares 4294967295 elements"),
        (b"\x83i\xff\xff\xff\xff", "declares 4294967295 elements"),
        (b"\x83m\xff\xff\xff\xffabc", "truncated"),
        (b"\x83o\xff\xff\xff\xff\x00abc", "truncated"),
        (b"\x83k\xff\xffabc", "truncated"),
        (b"\x83v\x00\x02\xff\xfe", "not valid utf-8"),
        (b"\x83c" + b"x" * 31, "FLOAT_EXT"),
        (b"\x83P\x00\x00\x00\x02" + zlib.compress(b"j"), "does not inflate"),
        (b"\x83P\x00\x00\x00\x01garbage", "compressed"),
        (b"\x83P\x00\x00\x00\x01" + zlib.compress(b"j") + b"x", "does not inflate"),
        (b"\x83P\x00\x00\x00\x00", "0 bytes"),
        (b"\x83p\x00\x00\x00\x05\x01\x00\x00\x00", "malformed fun"),
        (b"\x83qd\x00\x01md\x00\x01fj", "malformed external fun"),
    ],
)
def test_malformed_frames(data: bytes, message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        Decoder(fun=lambda f: f).decode(data)


@pytest.mark.parametrize(
    ("opening", "closing"),
    [(b"l\x00\x00\x00\x01", b"j"), (b"h\x01", b""), (b"t\x00\x00\x00\x01a\x01", b"")],
)
def test_deep_nesting_decodes_at_any_depth(opening: bytes, closing: bytes) -> None:
    for depth in (RECURSE_DEPTH - 1, RECURSE_DEPTH, RECURSE_DEPTH + 1, 200, 100_000):
        data = b"\x83" + opening * depth + b"j" + closing * depth
        value = Decoder().decode(data)
        for _ in range(depth):
            value = value[0] if not isinstance(value, dict) else value[1]
        assert value == []


def test_deep_terms_decode_exactly_past_the_recursion_depth(elixir_binaries) -> None:
    # Every container kind, empty ones, structs and funs, below RECURSE_DEPTH.
    build = (
        "Enum.reduce(1..300, [], fn i, acc -> "
        "case rem(i, 5) do "
        "0 -> [acc, [], {}, %{}]; "
        '1 -> {i, acc, String.duplicate("x", i)}; '
        '2 -> %{i => acc, "k" => :atom}; '
        "3 -> [1.5, acc | List.duplicate(7, 20)]; "
        "_ -> {acc, &Enum.sum/1, MapSet.new([i])} end end)"
    )
    (data,) = elixir_binaries([f":erlang.term_to_binary({build})"])
    decoder = Decoder(structs={"Elixir.MapSet": lambda f: set(f["map"])}, fun=lambda f: f.arity)
    value = decoder.decode(data)
    depth = 0
    while value != []:
        kind = depth % 5
        i = 300 - depth
        if kind == 0:  # i divisible by 5
            assert value[1:] == [[], (), {}]
            value = value[0]
        elif kind == 4:
            assert value[0] == i and value[2] == "x" * i
            value = value[1]
        elif kind == 3:
            assert value["k"] == "atom"
            value = value[i]
        elif kind == 2:
            assert value[0] == 1.5 and value[2:] == [7] * 20
            value = value[1]
        else:
            assert value[1:] == (1, {i})
            value = value[0]
        depth += 1
    assert depth == 300


def test_deep_terms_are_checked_like_shallow_ones() -> None:
    deep = b"l\x00\x00\x00\x01" * 200
    with pytest.raises(DecodeError, match="improper list"):
        Decoder().decode(b"\x83" + deep + b"j" + b"a\x01" + b"j" * 199)
    with pytest.raises(DecodeError, match="declares"):
        Decoder().decode(b"\x83" + deep + b"l\x00\x00\x10\x00j" + b"j" * 200)
    with pytest.raises(DecodeError, match="truncated"):
        Decoder().decode(b"\x83" + deep + b"j" * 100)
    collide = b"t\x00\x00\x00\x02a\x01ja\x01j"
    with pytest.raises(DecodeError, match="collide"):
        Decoder().decode(b"\x83" + deep + collide + b"j" * 200)


@settings(max_examples=300)
@given(st.sampled_from(VALID_FRAMES), st.data())
def test_corrupted_frames_decode_or_raise_decode_error(data: bytes, draw: st.DataObject) -> None:
    corrupted = bytearray(data)
    for _ in range(draw.draw(st.integers(1, 4))):
        corrupted[draw.draw(st.integers(1, len(data) - 1))] = draw.draw(st.integers(0, 255))
    with contextlib.suppress(DecodeError):
        Decoder(fun=lambda f: f).decode(corrupted)


def test_decode_takes_any_buffer_and_an_offset() -> None:
    data = frame(("a", [1.5]))
    for buffer in (bytearray(data), memoryview(data)):
        assert Decoder().decode(buffer) == ("a", [1.5])
    assert Decoder().decode(b"junk" + data, 4) == ("a", [1.5])


# ------------------------------------------------------------------------ encoder


class Color(IntEnum):
    RED = 1


class MyList(list[Any]):
    pass


def test_only_exact_types_are_built_in() -> None:
    value = [Color.RED, MyList([1]), b"x", {1}, Atom("ok"), True]
    assert round_trip(value) == [
        "fallback:Color",
        "fallback:MyList",
        "fallback:bytes",
        "fallback:set",
        "ok",
        True,
    ]


def test_classify_is_asked_once_per_type() -> None:
    asked: list[type] = []

    def classify(type_: type) -> Any:
        asked.append(type_)
        return (lambda e, o: e.term(o.value)) if type_ is Color else None

    enc = Encoder(fallback=fallback, classify=classify)
    value = [Color.RED, b"x"] * 40 + [(Color.RED, b"y")]
    assert Decoder().decode(frame(value, enc)) == [1, "fallback:bytes"] * 40 + [
        (1, "fallback:bytes")
    ]
    assert frame([Color.RED], enc) == frame([1])
    assert asked == [Color, bytes]


def test_register_overrides_built_in_handlers_everywhere() -> None:
    enc = make_encoder()
    enc.register(int, lambda e, i: e.term(str(i)))
    enc.register(MyList, lambda e, o: e.term(list(o)))
    assert Decoder().decode(frame([1, (2, [3] * 40), {4: MyList([5])}], enc)) == [
        "1",
        ("2", ["3"] * 40),
        {"4": ["5"]},
    ]


def test_a_container_inside_itself_goes_to_the_fallback() -> None:
    cyclic: list[Any] = [1]
    cyclic.append(cyclic)
    assert round_trip(cyclic) == [1, "fallback:list"]
    mapping: dict[str, Any] = {"a": 1}
    mapping["self"] = [mapping]
    assert round_trip(mapping) == {"a": 1, "self": ["fallback:dict"]}
    inner: list[Any] = []
    through_tuple = (inner,)
    inner.append(through_tuple)
    assert round_trip(through_tuple) == (["fallback:tuple"],)
    shared = [1, 2]
    assert round_trip([shared, shared, (shared,)]) == [[1, 2], [1, 2], ([1, 2],)]


def equal_without_recursion(a: Any, b: Any) -> bool:
    """`a == b` for containers too deep for `==`, which recurses."""
    pending = [(a, b)]
    while pending:
        x, y = pending.pop()
        if type(x) is not type(y):
            return False
        if type(x) in (list, tuple):
            if len(x) != len(y):
                return False
            pending.extend(zip(x, y, strict=True))
        elif type(x) is dict:
            if x.keys() != y.keys():
                return False
            pending.extend((v, y[k]) for k, v in x.items())
        elif x != y:
            return False
    return True


def test_lists_tuples_and_dicts_nest_without_limit() -> None:
    for make in (lambda x: [x], lambda x: (x,), lambda x: {"k": x}, lambda x: [1.5] * 20 + [x]):
        for depth in (RECURSE_DEPTH + 1, 20_000):
            value: Any = "leaf"
            for _ in range(depth):
                value = make(value)
            assert equal_without_recursion(round_trip(value), value)


def test_deep_cycles_still_go_to_the_fallback() -> None:
    value: Any = []
    inner = value
    for _ in range(RECURSE_DEPTH + 10):
        inner.append([])
        inner = inner[0]
    inner.append(value)
    decoded = round_trip(value)
    for _ in range(RECURSE_DEPTH + 11):
        decoded = decoded[0]
    assert decoded == "fallback:list"


def test_other_containers_past_the_handler_levels_go_to_the_fallback() -> None:
    class Box:
        def __init__(self, inner: Any) -> None:
            self.inner = inner

    enc = make_encoder()
    enc.register(Box, lambda e, box: e.term([box.inner]))
    value: Any = 0
    for _ in range(RECURSE_DEPTH + HANDLER_LEVELS + 50):
        value = Box(value)
    decoded = Decoder().decode(frame(value, enc))
    depth = 0
    while isinstance(decoded, list):
        decoded = decoded[0]
        depth += 1
    # The list the handler writes at the last level is what goes to the fallback.
    assert decoded == "fallback:list"
    assert depth == RECURSE_DEPTH + HANDLER_LEVELS


def test_strs_that_are_not_utf8_go_to_the_fallback() -> None:
    assert round_trip("\ud800") == "fallback:str"
    value = ["ok"] * 20 + ["\udcff", "x" * 100 + "\ud800"]
    assert round_trip(value) == ["ok"] * 20 + ["fallback:str"] * 2
    assert round_trip(Atom("a" * 256)) == "fallback:Atom"


def test_large_binaries_are_chunks_of_their_own_without_copies() -> None:
    big = bytes(range(256)) * 1024
    enc = binaries_encoder()
    enc.register(bytearray, lambda e, b: e.binary(b))
    enc.register(memoryview, lambda e, b: e.binary(b))
    buffer = bytearray(big)
    chunks = enc.encode([b"small", big, buffer, memoryview(big)[::2], "x" * 70_000])
    assert any(chunk is big for chunk in chunks)
    assert any(chunk is buffer for chunk in chunks)
    view_chunks = enc.encode(memoryview(big))
    assert any(isinstance(c, memoryview) and c.obj is big for c in view_chunks)
    assert Decoder().decode(b"".join(chunks)) == [
        "small",
        big,
        big,
        big[::2],
        "x" * 70_000,
    ]


def test_binary_accepts_typed_memoryviews() -> None:
    import array

    doubles = array.array("d", [1.5, 2.5])
    enc = make_encoder()
    enc.register(array.array, lambda e, a: e.binary(memoryview(a)))
    assert Decoder().decode(frame(doubles, enc)) == doubles.tobytes()


def test_building_blocks() -> None:
    def write(enc: Encoder, obj: Any) -> None:
        enc.tuple_header(300)
        for _ in range(299):
            enc.nil()
        enc.list_header(2)
        enc.atom("a")
        enc.map_header(1)
        enc.binary(b"k")
        enc.raw(b"a\x07")
        enc.nil()

    enc = make_encoder()
    enc.register(MyList, write)
    assert Decoder().decode(frame(MyList(), enc)) == tuple([[]] * 299 + [["a", {"k": 7}]])
    with pytest.raises(ValueError, match="at most 255"):
        enc.atom("x" * 256)


def test_encode_may_be_called_from_inside_a_handler() -> None:
    enc = make_encoder()
    enc.register(MyList, lambda e, o: e.binary(b"".join(e.encode(list(o)))))
    inner, two = Decoder().decode(frame([MyList([1, "a"]), 2], enc))
    assert (Decoder().decode(inner), two) == ([1, "a"], 2)
    assert frame([3], enc) == frame([3])


def test_an_exception_in_a_handler_leaves_the_encoder_usable() -> None:
    def boom(enc: Encoder, obj: Any) -> None:
        raise RuntimeError("boom")

    enc = make_encoder()
    enc.register(MyList, boom)
    nested: list[Any] = [[[MyList()]]]
    with pytest.raises(RuntimeError):
        enc.encode([nested, nested])
    enc.register(MyList, fallback)  # the lists left half-written are not "in progress"
    assert Decoder().decode(frame(nested, enc)) == [[["fallback:MyList"]]]
