"""The bridge's values: how plain data maps between Elixir and Python, built on `_etf`.

Elixir to Python, the decoder turns the bridge's structs into Python objects:

| Elixir                          | Python                                       |
|---------------------------------|----------------------------------------------|
| `%SnakeBridge.Ref{}`            | whatever `resolve_ref` returns               |
| `%SnakeBridge.Bytes{data: bin}` | `bytes`                                      |
| `%SnakeBridge.Array{}`          | read-only `numpy.ndarray` over the binary    |
| `%MapSet{}`                     | `set`                                        |
| `%Date{}`, `%Time{}`            | `datetime.date`, `datetime.time`             |
| `%NaiveDateTime{}`              | naive `datetime.datetime`                    |
| `%DateTime{}`                   | aware `datetime.datetime`                    |
| a fun                           | whatever `make_callable` returns             |

Python to Elixir has two modes. *Auto* (`make_encoder`) sends plain data by value and
everything else to the fallback (which makes a `Ref`): it matches exact types only, so
a `Counter`, an `OrderedDict` or an `IntEnum` member stays a Python object. *Value*
(`make_value_encoder`, for `to_elixir`) converts as deeply as it can: any mapping
becomes a map, any other collection a list (a set-like one a `MapSet`), an ndarray
nested lists, and any buffer a `Bytes`.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from collections.abc import Callable, Collection, ItemsView, KeysView, Mapping, Set, ValuesView
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from snakebridge._arrays import ARRAY, decode_array, encode_frame
from snakebridge._etf import Atom, DecodeError, Decoder, EncodeFn, Encoder, FunHook, StructHook
from snakebridge._shm import SHM_STRUCT

__all__ = ["make_decoder", "make_encoder", "make_value_encoder"]

_T = TypeVar("_T")

REF = "Elixir.SnakeBridge.Ref"
BYTES = "Elixir.SnakeBridge.Bytes"
MAPSET = "Elixir.MapSet"
DATE = "Elixir.Date"
TIME = "Elixir.Time"
NAIVE_DATETIME = "Elixir.NaiveDateTime"
DATETIME = "Elixir.DateTime"
ISO = Atom("Elixir.Calendar.ISO")

# A DateTime whose zone is a fixed offset with no tz database name: what Python's
# `datetime.timezone` holds. The name is the default `tzname()` of such a timezone.
_FIXED_ZONE = re.compile(r"UTC[+-]\d\d:\d\d(:\d\d)?")


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
    if not _FIXED_ZONE.fullmatch(zone):
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


def _bytes_struct(enc: Encoder, data: bytes | bytearray | memoryview) -> None:
    enc.map_header(2)
    enc.atom("__struct__")
    enc.atom(BYTES)
    enc.atom("data")
    enc.binary(data)


def _encode_bytes(enc: Encoder, obj: Any) -> None:
    _bytes_struct(enc, obj if type(obj) is bytes else memoryview(obj))


def _encode_set(enc: Encoder, obj: Any) -> None:
    # Through a dict, rather than map_header and a loop, so that the encoder's own
    # depth and cycle tracking covers nested frozensets. The shared [] is only read.
    _struct(enc, MAPSET, (("map", dict.fromkeys(obj, [])), ("version", 2)))  # noqa: RUF024


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


def _seconds(delta: dt.timedelta) -> int | None:
    """Whole seconds of `delta`, or None if it has a fraction of a second."""
    if delta.microseconds:
        return None
    return delta.days * 86400 + delta.seconds


def _fixed_zone_name(seconds: int) -> str:
    sign = "-" if seconds < 0 else "+"
    hours, rest = divmod(abs(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"UTC{sign}{hours:02d}:{minutes:02d}" + (f":{secs:02d}" if secs else "")


def _zone(obj: dt.datetime) -> tuple[str, str, int, int] | None:
    """(time_zone, zone_abbr, utc_offset, std_offset) of an aware datetime, or None if
    Elixir cannot hold its zone."""
    tzinfo = obj.tzinfo
    if tzinfo is dt.UTC:
        return "Etc/UTC", "UTC", 0, 0
    offset = obj.utcoffset()
    abbr = obj.tzname()
    if offset is None or abbr is None:
        return None
    if type(tzinfo) is dt.timezone:
        seconds = _seconds(offset)
        if seconds is None:
            return None
        return _fixed_zone_name(seconds), abbr, seconds, 0
    if type(tzinfo) is ZoneInfo and tzinfo.key:
        dst = obj.dst() or dt.timedelta(0)
        standard, daylight = _seconds(offset - dst), _seconds(dst)
        if standard is None or daylight is None:
            return None
        return tzinfo.key, abbr, standard, daylight
    return None


def _common_handlers(fallback: EncodeFn) -> dict[type, EncodeFn]:
    """Handlers for the exact types both modes send by value."""

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
        zone = _zone(obj)
        if zone is None:
            fallback(enc, obj)
            return
        keys = ("time_zone", "zone_abbr", "utc_offset", "std_offset")
        _struct(enc, DATETIME, items + tuple(zip(keys, zone, strict=True)))

    return {
        bytes: _encode_bytes,
        set: _encode_set,
        frozenset: _encode_set,
        dt.date: _encode_date,
        dt.time: encode_time,
        dt.datetime: encode_datetime,
    }


def _as(plain: type) -> EncodeFn:
    def encode(enc: Encoder, obj: Any) -> None:
        enc.term(plain(obj))

    return encode


_NUMPY_SCALARS = (("bool_", _as(bool)), ("integer", _as(int)), ("floating", _as(float)))


def _numpy_scalar(type_: type) -> EncodeFn | None:
    """The handler for a numpy scalar type with a plain counterpart; None for any other
    type (complex, datetime64, ... go to the fallback)."""
    np = sys.modules.get("numpy")  # never imported here: it is loaded if anyone uses it
    if np is None or not issubclass(type_, np.generic):
        return None
    for name, handler in _NUMPY_SCALARS:
        if issubclass(type_, getattr(np, name)):
            return handler
    if issubclass(type_, np.str_):
        return _as(str)
    if issubclass(type_, np.bytes_):
        return _encode_bytes
    return None


def _make(fallback: EncodeFn, classify: Callable[[type], EncodeFn | None]) -> Encoder:
    enc = Encoder(fallback=fallback, classify=classify)
    for type_, handler in _common_handlers(fallback).items():
        enc.register(type_, handler)
    return enc


def make_encoder(*, fallback: EncodeFn) -> Encoder:
    """The "auto" encoder: plain data of exact types by value, all else to `fallback`."""
    return _make(fallback, _numpy_scalar)


def make_value_encoder(*, fallback: EncodeFn) -> Encoder:
    """The "value" encoder (`to_elixir`): converts as deeply as it can, see module docs."""
    # A converted copy is a fresh object, so the encoder's cycle check cannot see a
    # cycle through the original: the originals being converted are tracked here.
    converting: set[int] = set()

    def convert(to: Callable[[Any], Any]) -> EncodeFn:
        def encode(enc: Encoder, obj: Any) -> None:
            key = id(obj)
            if key in converting:
                fallback(enc, obj)
                return
            converting.add(key)
            try:
                enc.term(to(obj))
            finally:
                converting.discard(key)

        return encode

    def buffer_or_fallback(enc: Encoder, obj: Any) -> None:
        try:
            view = memoryview(obj)
        except TypeError:
            fallback(enc, obj)
            return
        _bytes_struct(enc, view)

    def classify(type_: type) -> EncodeFn | None:
        pd = sys.modules.get("pandas")
        if pd is not None and issubclass(type_, pd.DataFrame):
            return encode_frame
        np = sys.modules.get("numpy")
        if np is not None and issubclass(type_, np.ndarray):
            return convert(lambda array: array.tolist())
        if np is not None and issubclass(type_, np.generic):
            return _numpy_scalar(type_)
        if issubclass(type_, Mapping):
            return convert(lambda mapping: dict(mapping.items()))
        if issubclass(type_, (KeysView, ValuesView, ItemsView)):
            return convert(list)
        if issubclass(type_, (bytes, bytearray, memoryview)):
            return _encode_bytes
        if issubclass(type_, str):
            return None
        if issubclass(type_, Set):
            return convert(frozenset)
        if issubclass(type_, Collection):
            return convert(list)
        return buffer_or_fallback

    return _make(fallback, classify)
