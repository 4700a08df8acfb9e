"""Arrays: numpy ndarrays (and pandas DataFrames' columns) as `%SnakeBridge.Array{}`.

An Array carries a dtype name, a shape and the elements as one little-endian binary in
C order, so numeric data crosses without per-element work. numpy is never imported
here unless an Array arrives: a worker that never sees one never loads it.
"""

from __future__ import annotations

import math
import sys
from typing import Any

from snakebridge._etf import DecodeError, Encoder

__all__ = ["ARRAY", "ARRAY_DTYPES", "decode_array", "encode_array", "encode_frame"]

ARRAY = "Elixir.SnakeBridge.Array"

# Element types an Array may carry, by their numpy names; the data is little-endian.
ARRAY_DTYPES = frozenset(
    [
        "bool",
        "int8",
        "int16",
        "int32",
        "int64",
        "uint8",
        "uint16",
        "uint32",
        "uint64",
        "float16",
        "float32",
        "float64",
        "complex64",
        "complex128",
    ]
)


def decode_array(name: str, shape: tuple[Any, ...], data: bytes) -> Any:
    """The ndarray of a `%SnakeBridge.Array{}`'s fields: a read-only view of `data`."""
    try:
        import numpy as np  # noqa: PLC0415 (optional, and only needed for arrays)
    except ImportError:
        raise DecodeError("cannot decode a %SnakeBridge.Array{}: numpy is not installed") from None
    if name not in ARRAY_DTYPES:
        raise DecodeError(f"%SnakeBridge.Array{{}} has an unsupported dtype: {name!r}")
    if not all(type(n) is int and n >= 0 for n in shape):
        raise DecodeError(f"%SnakeBridge.Array{{}} has a bad shape: {shape!r}")
    dtype = np.dtype(name).newbyteorder("<")
    if math.prod(shape) * dtype.itemsize != len(data):
        raise DecodeError(
            f"%SnakeBridge.Array{{}} of dtype {name} and shape {shape} needs "
            f"{math.prod(shape) * dtype.itemsize} bytes, got {len(data)}"
        )
    # A view of the immutable binary: no copy, and numpy marks it read-only.
    return np.frombuffer(data, dtype=dtype).reshape(shape)


def encode_frame(enc: Encoder, frame: Any) -> None:
    """A pandas DataFrame as a map of column name to values: `%SnakeBridge.Array{}` for
    numeric columns (no per-element work), a list for the others."""
    enc.map_header(frame.shape[1])
    for name, column in frame.items():
        enc.term(name)
        values = column.to_numpy()
        if values.dtype.name in ARRAY_DTYPES:
            encode_array(enc, values)
        else:
            enc.term(values.tolist())


def encode_array(enc: Encoder, array: Any) -> None:
    """Write a numpy ndarray as `%SnakeBridge.Array{dtype, shape, data}`.

    `data` holds the elements in C order, little-endian; it is sent without a copy when
    the array already has that layout. Raises TypeError for a dtype outside
    `ARRAY_DTYPES`.
    """
    np = sys.modules["numpy"]  # the caller holds an ndarray, so numpy is loaded
    name = array.dtype.name
    if name not in ARRAY_DTYPES:
        raise TypeError(f"cannot send an array of dtype {array.dtype} as a SnakeBridge.Array")
    data = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<"))
    enc.map_header(4)
    enc.atom("__struct__")
    enc.atom(ARRAY)
    enc.atom("dtype")
    enc.term(name)
    enc.atom("shape")
    enc.term(tuple(int(n) for n in array.shape))  # not data's: that is at least 1-d
    enc.atom("data")
    enc.binary(data.reshape(-1).view(np.uint8).data)
