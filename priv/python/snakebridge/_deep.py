"""Deep conversion: the encoder behind `to_elixir` and `return: :value`.

It converts as deeply as it can, on top of the auto encoder's handlers in `_terms`: any
mapping becomes a map, any other collection a list (a set-like one a `MapSet`), an
ndarray nested lists, any buffer a `Bytes`; a subclass of str, bytes, int, float, date
or datetime (a pandas Timestamp) its plain value; a datetime with any tzinfo a
`DateTime`; a numpy datetime64 a date or datetime where its unit allows, a structured
record a tuple. What has no exact form goes to the fallback (a ref).
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable, Collection, ItemsView, KeysView, Mapping, Set, ValuesView
from typing import Any

from snakebridge._arrays import encode_frame
from snakebridge._etf import EncodeFn, Encoder
from snakebridge._terms import (
    as_plain,
    build_encoder,
    bytes_struct,
    encode_bytes,
    numpy_scalar_encoder,
)
from snakebridge._zones import any_zone_fields

__all__ = ["make_value_encoder"]


def _plain_datetime(obj: dt.datetime) -> dt.datetime:
    """A datetime subclass's value (a pandas Timestamp's, say) as a plain datetime."""
    return dt.datetime(
        obj.year,
        obj.month,
        obj.day,
        obj.hour,
        obj.minute,
        obj.second,
        obj.microsecond,
        obj.tzinfo,
        fold=obj.fold,
    )


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
        bytes_struct(enc, view)

    def exact(to: Callable[[Any], Any]) -> EncodeFn:
        """Converts with `to`, or leaves the object to the fallback where `to` says None:
        no exact plain form."""

        def encode(enc: Encoder, obj: Any) -> None:
            plain = to(obj)
            if plain is None:
                fallback(enc, obj)
            else:
                enc.term(plain)

        return encode

    def numpy_scalar(np: Any, type_: type) -> EncodeFn | None:
        handler = numpy_scalar_encoder(type_)
        if handler is not None:
            return handler
        if issubclass(type_, np.datetime64):
            # `item()` gives a date or datetime for day to microsecond units; an int
            # (nanoseconds), or None (NaT), are no exact form.
            return exact(lambda value: value.item() if type(value.item()) in _DATES else None)
        if issubclass(type_, np.void):  # a structured record: its fields, as a tuple
            return exact(lambda value: value.item())
        if issubclass(type_, np.floating):  # a longdouble: the nearest float
            return as_plain(float)
        return None

    def classify(type_: type) -> EncodeFn | None:
        pd = sys.modules.get("pandas")
        if pd is not None and issubclass(type_, pd.DataFrame):
            return encode_frame
        np = sys.modules.get("numpy")
        if np is not None and issubclass(type_, np.ndarray):
            return convert(lambda array: array.tolist())
        if np is not None and issubclass(type_, np.generic):
            return numpy_scalar(np, type_)
        # Subclasses of the plain types (lxml's and bs4's strings, IntEnum members): their
        # plain value. A Timestamp with nanoseconds has no exact datetime.
        # (Through the base class's own method: a subclass may override `__str__`.)
        for plain, value_of in _PLAIN_VALUES:
            if issubclass(type_, plain):
                return as_plain(value_of)
        if issubclass(type_, dt.datetime):
            return exact(
                lambda value: None if getattr(value, "nanosecond", 0) else _plain_datetime(value)
            )
        if issubclass(type_, dt.date):
            return exact(lambda value: dt.date(value.year, value.month, value.day))
        if issubclass(type_, Mapping):
            return convert(lambda mapping: dict(mapping.items()))
        if issubclass(type_, (KeysView, ValuesView, ItemsView)):
            return convert(list)
        if issubclass(type_, (bytes, bytearray, memoryview)):
            return encode_bytes
        if issubclass(type_, Set):
            return convert(frozenset)
        if issubclass(type_, Collection):
            return convert(list)
        return buffer_or_fallback

    return build_encoder(fallback, classify, any_zone_fields)


_DATES = (dt.date, dt.datetime)
_PLAIN_VALUES = ((str, str.__str__), (int, int.__int__), (float, float.__float__))
