"""The bridge's values: how plain data maps between Elixir and Python, built on `_etf`.

Elixir to Python, the decoder turns the bridge's structs into Python objects:

| Elixir                          | Python                                       |
|---------------------------------|----------------------------------------------|
| `%SnakeBridge.Ref{}`            | whatever `resolve_ref` returns               |
| `%SnakeBridge.Bytes{data: bin}` | `bytes`                                      |
| `%SnakeBridge.Array{}`          | read-only `numpy.ndarray` over the binary    |
| `%MapSet{}`                     | `set`                                        |
| `%SnakeBridge.Slice{}`          | `slice` (and a `slice` comes back as one)    |
| `%Date{}`, `%Time{}`            | `datetime.date`, `datetime.time`             |
| `%NaiveDateTime{}`              | naive `datetime.datetime`                    |
| `%DateTime{}`                   | aware `datetime.datetime`                    |
| a fun                           | whatever `make_callable` returns             |

Python to Elixir has two modes. *Auto* (`make_encoder`) sends plain data by value and
everything else to the fallback (which makes a `Ref`): it matches exact types only, so
a `Counter`, an `OrderedDict` or an `IntEnum` member stays a Python object. *Value*
(`snakebridge._deep.make_value_encoder`, for `to_elixir`) converts as deeply as it can: any mapping
becomes a map, any other collection a list (a set-like one a `MapSet`), an ndarray
nested lists, and any buffer a `Bytes`; a subclass of str, bytes, int, float, date or
datetime (a pandas Timestamp) its plain value; a datetime with any tzinfo a
`DateTime` (a fixed offset where the zone has no tz database name); a numpy
datetime64 a date or datetime where its unit allows, a structured record a tuple.

In both modes a numpy scalar crosses by value only where its value is exact:
timedelta64, datetime64, complex and longdouble scalars stay Python objects in auto
mode, and so does whatever has no exact form in value mode (a Timestamp with
nanoseconds, a timedelta64).
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from snakebridge._arrays import ARRAY, decode_array
from snakebridge._etf import Atom, DecodeError, Decoder, EncodeFn, Encoder, FunHook, StructHook
from snakebridge._shm import SHM_STRUCT
from snakebridge._zones import FIXED_ZONE, zone_fields

__all__ = [
    "ModuleName",
    "as_plain",
    "build_encoder",
    "bytes_struct",
    "encode_bytes",
    "make_decoder",
    "make_encoder",
    "numpy_scalar_encoder",
]

_T = TypeVar("_T")

REF = "Elixir.SnakeBridge.Ref"
BYTES = "Elixir.SnakeBridge.Bytes"
SLICE = "Elixir.SnakeBridge.Slice"
MODULE_NAME = "Elixir.SnakeBridge.Call.ModuleName"
MAPSET = "Elixir.MapSet"
DATE = "Elixir.Date"
TIME = "Elixir.Time"
NAIVE_DATETIME = "Elixir.NaiveDateTime"
DATETIME = "Elixir.DateTime"
ISO = Atom("Elixir.Calendar.ISO")

# --------------------------------------------------------------------------- decoding


def _field(fields: Mapping[str, Any], name: str, struct: str, kind: type | None = int) -> Any:
    try:
        value = fields[name]
    except KeyError:
        raise DecodeError(f"%{struct}{{}} has no {name} field") from None
    if kind is not None and type(value) is not kind:
        raise DecodeError(f"%{struct}{{}} has a bad {name} field: {value!r}")
    return value


def _binary_field(fields: Mapping[str, Any], name: str, struct: str) -> bytes:
    value = _field(fields, name, struct, None)
    if type(value) is bytes:
        return value
    if type(value) is str:  # the decoder reads a binary that is valid UTF-8 as str
        return value.encode()
    raise DecodeError(f"%{struct}{{}} has a bad {name} field: {value!r}")


def _decode_bytes(fields: dict[str, Any]) -> bytes:
    return _binary_field(fields, "data", "SnakeBridge.Bytes")


def _decode_array(fields: dict[str, Any]) -> Any:
    return decode_array(
        _field(fields, "dtype", "SnakeBridge.Array", str),
        _field(fields, "shape", "SnakeBridge.Array", tuple),
        _binary_field(fields, "data", "SnakeBridge.Array"),
    )


def _decode_mapset(fields: dict[str, Any]) -> set[Any]:
    return set(_field(fields, "map", "MapSet", dict))


class ModuleName(str):
    """A module named by an Elixir string as the target of a call or attribute.

    Only a name that Elixir sent as such is imported: a ref is always the object
    itself, even when that object is a str (`"a-b".split("-")`, not `import a-b`).
    """

    __slots__ = ()


def _decode_module_name(fields: dict[str, Any]) -> ModuleName:
    return ModuleName(_field(fields, "name", "SnakeBridge.Call.ModuleName", str))


def _decode_slice(fields: dict[str, Any]) -> slice:
    struct = "SnakeBridge.Slice"
    return slice(
        _field(fields, "start", struct, None),
        _field(fields, "stop", struct, None),
        _field(fields, "step", struct, None),
    )


def _calendar(fields: Mapping[str, Any], struct: str) -> None:
    calendar = _field(fields, "calendar", struct, None)
    if calendar != ISO:
        raise DecodeError(f"%{struct}{{}} uses an unsupported calendar: {calendar!r}")


def _microsecond(fields: Mapping[str, Any], struct: str) -> int:
    value = _field(fields, "microsecond", struct, tuple)
    if len(value) != 2 or type(value[0]) is not int or type(value[1]) is not int:
        raise DecodeError(f"%{struct}{{}} has a bad microsecond field: {value!r}")
    us: int = value[0]
    return us


def _date_fields(fields: Mapping[str, Any], struct: str) -> tuple[int, int, int]:
    _calendar(fields, struct)
    return (
        _field(fields, "year", struct),
        _field(fields, "month", struct),
        _field(fields, "day", struct),
    )


def _time_fields(fields: Mapping[str, Any], struct: str) -> tuple[int, int, int, int]:
    return (
        _field(fields, "hour", struct),
        _field(fields, "minute", struct),
        _field(fields, "second", struct),
        _microsecond(fields, struct),
    )


def _build(make: Callable[..., _T], struct: str, *args: Any, **kwargs: Any) -> _T:
    try:
        return make(*args, **kwargs)
    except (ValueError, OverflowError) as exc:
        raise DecodeError(f"%{struct}{{}} is out of Python's range: {exc}") from None


def _decode_date(fields: dict[str, Any]) -> dt.date:
    return _build(dt.date, "Date", *_date_fields(fields, "Date"))


def _decode_time(fields: dict[str, Any]) -> dt.time:
    _calendar(fields, "Time")
    return _build(dt.time, "Time", *_time_fields(fields, "Time"))


def _decode_naive_datetime(fields: dict[str, Any]) -> dt.datetime:
    struct = "NaiveDateTime"
    parts = _date_fields(fields, struct) + _time_fields(fields, struct)
    return _build(dt.datetime, struct, *parts)


def _decode_datetime(fields: dict[str, Any]) -> dt.datetime:
    struct = "DateTime"
    naive: dt.datetime = _build(
        dt.datetime, struct, *_date_fields(fields, struct), *_time_fields(fields, struct)
    )
    zone = _field(fields, "time_zone", struct, str)
    abbr = _field(fields, "zone_abbr", struct, str)
    seconds = _field(fields, "utc_offset", struct) + _field(fields, "std_offset", struct)
    offset = _build(dt.timedelta, struct, seconds=seconds)
    if zone == "Etc/UTC" and not seconds:
        return naive.replace(tzinfo=dt.UTC)
    if not FIXED_ZONE.fullmatch(zone):
        try:
            tzinfo = ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass  # not in this machine's tz database: keep the instant and the abbreviation
        else:
            # An ambiguous wall time (a clock set back) exists twice; `fold` picks the
            # one whose offset Elixir sent.
            for fold in (0, 1):
                candidate = naive.replace(tzinfo=tzinfo, fold=fold)
                if candidate.utcoffset() == offset:
                    return candidate
    fixed = _build(dt.timezone, struct, offset)
    if abbr != fixed.tzname(None):
        fixed = dt.timezone(offset, abbr)
    return naive.replace(tzinfo=fixed)


def make_decoder(
    *, resolve_ref: StructHook, make_callable: FunHook, read_segment: StructHook
) -> Decoder:
    """The decoder for values from Elixir: the bridge's structs and funs included.

    `read_segment` resolves `%SnakeBridge.Shm{}` (see `_shm`): it needs the frame being
    decoded, which only the caller knows.
    """
    return Decoder(
        structs={
            REF: resolve_ref,
            BYTES: _decode_bytes,
            ARRAY: _decode_array,
            MAPSET: _decode_mapset,
            SLICE: _decode_slice,
            MODULE_NAME: _decode_module_name,
            DATE: _decode_date,
            TIME: _decode_time,
            NAIVE_DATETIME: _decode_naive_datetime,
            DATETIME: _decode_datetime,
            SHM_STRUCT: read_segment,
        },
        fun=make_callable,
    )


# --------------------------------------------------------------------------- encoding


def _struct(enc: Encoder, module: str, fields: tuple[tuple[str, Any], ...]) -> None:
    """Write an Elixir struct: a map with atom keys, `__struct__` naming the module."""
    enc.map_header(len(fields) + 1)
    enc.atom("__struct__")
    enc.atom(module)
    for key, value in fields:
        enc.atom(key)
        enc.term(value)


def bytes_struct(enc: Encoder, data: bytes | bytearray | memoryview) -> None:
    enc.map_header(2)
    enc.atom("__struct__")
    enc.atom(BYTES)
    enc.atom("data")
    enc.binary(data)


def encode_bytes(enc: Encoder, obj: Any) -> None:
    bytes_struct(enc, obj if type(obj) is bytes else memoryview(obj))


def _encode_set(enc: Encoder, obj: Any) -> None:
    # Through a dict, rather than map_header and a loop, so that the encoder's own
    # depth and cycle tracking covers nested frozensets. The shared [] is only read.
    _struct(enc, MAPSET, (("map", dict.fromkeys(obj, [])), ("version", 2)))  # noqa: RUF024


def _encode_slice(enc: Encoder, obj: Any) -> None:
    _struct(enc, SLICE, (("start", obj.start), ("stop", obj.stop), ("step", obj.step)))


def _date_items(obj: dt.date) -> tuple[tuple[str, Any], ...]:
    return (("calendar", ISO), ("year", obj.year), ("month", obj.month), ("day", obj.day))


def _time_items(obj: dt.time | dt.datetime) -> tuple[tuple[str, Any], ...]:
    us = obj.microsecond
    return (
        ("hour", obj.hour),
        ("minute", obj.minute),
        ("second", obj.second),
        ("microsecond", (us, 6) if us else (0, 0)),
    )


def _encode_date(enc: Encoder, obj: Any) -> None:
    _struct(enc, DATE, _date_items(obj))


def _common_handlers(
    fallback: EncodeFn, zone: Callable[[dt.datetime], tuple[str, str, int, int] | None]
) -> dict[type, EncodeFn]:
    """Handlers for the exact types both modes send by value; `zone` says how an aware
    datetime's zone crosses (None: it stays a Python object)."""

    # Elixir's Time and NaiveDateTime have no zone and no fold: a time or naive datetime
    # with either stays a Python object, so that it round-trips exactly.
    def encode_time(enc: Encoder, obj: Any) -> None:
        if obj.tzinfo is not None or obj.fold:
            fallback(enc, obj)
            return
        _struct(enc, TIME, (("calendar", ISO), *_time_items(obj)))

    def encode_datetime(enc: Encoder, obj: Any) -> None:
        items = _date_items(obj) + _time_items(obj)
        if obj.tzinfo is None:
            if obj.fold:
                fallback(enc, obj)
            else:
                _struct(enc, NAIVE_DATETIME, items)
            return
        fields = zone(obj)
        if fields is None:
            fallback(enc, obj)
            return
        keys = ("time_zone", "zone_abbr", "utc_offset", "std_offset")
        _struct(enc, DATETIME, items + tuple(zip(keys, fields, strict=True)))

    return {
        bytes: encode_bytes,
        set: _encode_set,
        frozenset: _encode_set,
        slice: _encode_slice,
        dt.date: _encode_date,
        dt.time: encode_time,
        dt.datetime: encode_datetime,
    }


def as_plain(plain: Callable[[Any], Any]) -> EncodeFn:
    def encode(enc: Encoder, obj: Any) -> None:
        enc.term(plain(obj))

    return encode


_NUMPY_SCALARS = (
    ("bool_", as_plain(bool)),
    ("integer", as_plain(int)),
    ("floating", as_plain(float)),
)


def numpy_scalar_encoder(type_: type) -> EncodeFn | None:
    """The handler for a numpy scalar type with an exact plain counterpart; None for any
    other type (complex, datetime64, timedelta64, void, longdouble go to the fallback).

    `timedelta64` is an `np.integer` subclass, so it is ruled out first: as an int it
    would lose its unit. A `longdouble` wider than a double has no exact float.
    (There are no `object_` scalars: indexing an object array gives the object.)
    """
    np = sys.modules.get("numpy")  # never imported here: it is loaded if anyone uses it
    if np is None or not issubclass(type_, np.generic):
        return None
    if issubclass(type_, (np.timedelta64, np.datetime64)):
        return None
    if issubclass(type_, np.floating) and np.dtype(type_).itemsize > 8:
        return None
    for name, handler in _NUMPY_SCALARS:
        if issubclass(type_, getattr(np, name)):
            return handler
    if issubclass(type_, np.str_):
        return as_plain(str)
    if issubclass(type_, np.bytes_):
        return encode_bytes
    return None


def build_encoder(
    fallback: EncodeFn,
    classify: Callable[[type], EncodeFn | None],
    zone: Callable[[dt.datetime], tuple[str, str, int, int] | None],
) -> Encoder:
    enc = Encoder(fallback=fallback, classify=classify)
    for type_, handler in _common_handlers(fallback, zone).items():
        enc.register(type_, handler)
    return enc


def make_encoder(*, fallback: EncodeFn) -> Encoder:
    """The "auto" encoder: plain data of exact types by value, all else to `fallback`."""
    return build_encoder(fallback, numpy_scalar_encoder, zone_fields)
