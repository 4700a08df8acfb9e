"""Erlang External Term Format: a generic codec, the layer under the bridge's values.

`Decoder` turns one ETF frame into plain Python data and `Encoder` does the reverse;
neither knows about the bridge (see `_terms` for that). The spec is
https://www.erlang.org/doc/apps/erts/erlang_ext_dist.html.

| Erlang                          | decoded as                     | encoded from        |
|---------------------------------|--------------------------------|---------------------|
| integer                         | int                            | int                 |
| float                           | float                          | float (finite)      |
| `nan`, `infinity`, `neg_infinity` | float                        | float (non-finite)  |
| `true`, `false`, `nil`          | bool, None                     | bool, None          |
| any other atom                  | str                            | `Atom`              |
| binary                          | str if valid UTF-8, else bytes | str                 |
| list (and STRING_EXT)           | list                           | list                |
| tuple                           | tuple                          | tuple               |
| map                             | dict, or a struct hook's value | dict                |
| fun                             | the fun hook's value           | (`Encoder.raw`)     |

Pids, ports, references, bitstrings, improper lists and unhashable or colliding map
keys are `DecodeError`s. The encoder matches exact types only; anything else goes to
`classify`, then to the fallback.

Nesting is limited only by memory for lists, tuples and maps (dicts): both directions
recurse for the first `RECURSE_DEPTH` levels, where nearly every term ends, and go on
with an explicit stack below that. Containers written by handlers (sets, structs,
converted collections) recurse through their handler; past `RECURSE_DEPTH` levels
and `HANDLER_LEVELS` such handlers in a row, the encoder hands them to the fallback.

Both directions are on the hot path of every call, so the code is shaped by
measurement (`bench/codec_bench.py`) rather than by elegance:

* the decoder dispatches on the tag byte through a 256-entry table of functions that
  return ``(value, next_position)``, and caches atoms by their raw bytes;
* the encoder dispatches on ``type(obj)`` through a dict, and its container loop
  writes the common scalars inline instead of calling a handler per element;
* long lists of one scalar type (floats, int32s, short binaries) are converted in bulk
  with C-level operations: `array`, strided slices of `bytes`, `str.join`, `re.split`.

One file, well over the ~450 lines of the others, on purpose: it is one concept (the
ETF spec, both ways), and its hot loops read the shared tag tables, tag constants and
bulk helpers as module globals; split across modules, they would reach them through
attribute lookups on every element of every frame.
"""

from __future__ import annotations

import codecs
import math
import re
import struct
import sys
import zlib
from array import array
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from itertools import chain, repeat
from typing import Any, TypeAlias

__all__ = [
    "HANDLER_LEVELS",
    "LIST_HEADERS",
    "RECURSE_DEPTH",
    "Atom",
    "DecodeError",
    "Decoder",
    "EncodeFn",
    "Encoder",
    "ErlFun",
    "FunHook",
    "StructHook",
    "int_term",
    "read_f64",
    "read_i32",
    "scalar_term",
    "text_or_bytes",
    "utf8_text",
]

# Each recursive level costs two Python frames, so RECURSE_DEPTH levels stay well
# inside the default recursion limit even when the codec is entered from deep in a
# call stack (a callback's arguments); deeper containers continue on an explicit stack.
# A handler entered below that depth costs a few frames more per level, so only
# HANDLER_LEVELS of them may nest there before the fallback takes over.
RECURSE_DEPTH = 64
HANDLER_LEVELS = 32


class Atom(str):
    """An Erlang atom on the wire (plain str subclass)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"Atom({str.__repr__(self)})"


@dataclass(frozen=True, slots=True)
class ErlFun:
    """An Elixir function as received.

    `term` is the fun's own ETF bytes (from its tag byte, without the 131 version
    byte); `Encoder.raw` sends it back verbatim. `module` is the module it was defined
    in (for `&String.length/1`, the one it names) and `name` its function name, for an
    external fun only (`"length"`); both are the atoms' text (`"Elixir.String"`).
    """

    term: bytes
    arity: int
    module: str = ""
    name: str | None = None


class DecodeError(ValueError):
    """A frame that is not a well-formed term this codec supports."""


StructHook: TypeAlias = Callable[[dict[str, Any]], Any]
FunHook: TypeAlias = Callable[[ErlFun], Any]
EncodeFn: TypeAlias = Callable[["Encoder", Any], None]
_Handler: TypeAlias = Callable[[bytes, int, int], tuple[Any, int]]

# Tags (erts/emulator/beam/external.h).
VERSION = 131
COMPRESSED = 80
NEW_FLOAT_EXT = 70
BIT_BINARY_EXT = 77
NEW_PID_EXT = 88
NEW_PORT_EXT = 89
NEWER_REFERENCE_EXT = 90
SMALL_INTEGER_EXT = 97
INTEGER_EXT = 98
FLOAT_EXT = 99
ATOM_EXT = 100
REFERENCE_EXT = 101
PORT_EXT = 102
PID_EXT = 103
SMALL_TUPLE_EXT = 104
LARGE_TUPLE_EXT = 105
NIL_EXT = 106
STRING_EXT = 107
LIST_EXT = 108
BINARY_EXT = 109
SMALL_BIG_EXT = 110
LARGE_BIG_EXT = 111
NEW_FUN_EXT = 112
EXPORT_EXT = 113
NEW_REFERENCE_EXT = 114
SMALL_ATOM_EXT = 115
MAP_EXT = 116
FUN_EXT = 117
ATOM_UTF8_EXT = 118
SMALL_ATOM_UTF8_EXT = 119
V4_PORT_EXT = 120

_UNSUPPORTED = {
    PID_EXT: "pid",
    NEW_PID_EXT: "pid",
    PORT_EXT: "port",
    NEW_PORT_EXT: "port",
    V4_PORT_EXT: "port",
    REFERENCE_EXT: "reference",
    NEW_REFERENCE_EXT: "reference",
    NEWER_REFERENCE_EXT: "reference",
    BIT_BINARY_EXT: "bitstring",
    FUN_EXT: "fun in the pre-R8 format",
    COMPRESSED: "nested compressed term",
}

_U16 = struct.Struct(">H").unpack_from
_U32 = struct.Struct(">I").unpack_from
_I32 = struct.Struct(">i").unpack_from
_F64 = struct.Struct(">d").unpack_from
# The same readers, for code that reads a scalar term by hand (`_ops.callback_result`).
read_i32 = _I32
read_f64 = _F64
_pack_tag_u32 = struct.Struct(">BI").pack
_pack_tag_i32 = struct.Struct(">Bi").pack
_pack_tag_f64 = struct.Struct(">Bd").pack
_pack_tag_u16 = struct.Struct(">BH").pack

# A C int is 32 bits on every platform CPython supports, but say so rather than assume.
_I32_CODE = "i" if array("i").itemsize == 4 else "l"
_SWAP = sys.byteorder == "little"  # ETF is big-endian; `array` uses the machine order

_SPECIAL_ATOMS: dict[str, Any] = {
    "true": True,
    "false": False,
    "nil": None,
    "nan": float("nan"),
    "infinity": float("inf"),
    "neg_infinity": float("-inf"),
}

# The one str object the decoder returns for the atom `__struct__`. A binary
# "__struct__" decodes to a fresh str object, so a map's key can be told apart by
# identity without a second pass over the map (see `map_value`).
_STRUCT_KEY = sys.intern("__struct__")
_ATOM_CACHE_LIMIT = 4096

# The bulk paths for lists start at this length; below it, their set-up costs more than
# they save. A run of fewer than `_RUN_MIN` equal tags means the list is mixed: the
# decoder then goes element by element for a while before trying a run again.
_BULK_MIN = 16
_RUN_MIN = 16
_BIG_CHUNK = 64 * 1024  # binaries this large become their own output chunk, uncopied


def _truncated(at: int, what: str) -> DecodeError:
    return DecodeError(f"truncated term at byte {at}: {what} runs past the end of the data")


# --------------------------------------------------------------------------- decoding


def _new_atom(text: str) -> Any:
    if len(text) > 255:
        raise DecodeError(f"atom longer than 255 characters: {text[:40]!r}...")
    return text


def _atom_cache() -> dict[bytes, Any]:
    cache: dict[bytes, Any] = {name.encode(): value for name, value in _SPECIAL_ATOMS.items()}
    cache[b"__struct__"] = _STRUCT_KEY
    return cache


_MISSING: Any = object()
_INLINE_ATOM_TAGS = frozenset((SMALL_ATOM_UTF8_EXT, ATOM_EXT))
# Decoded atoms by their raw text, one cache per text encoding.
_LATIN1_ATOMS = _atom_cache()
_UTF8_ATOMS = _atom_cache()


def _make_atom_decoder(header: int, encoding: str) -> _Handler:
    """A decoder for one atom tag; `header` is the size of its length field (1 or 2)."""
    cache = _LATIN1_ATOMS if encoding == "latin-1" else _UTF8_ATOMS
    start = 1 + header

    def atom(data: bytes, pos: int, depth: int) -> tuple[Any, int]:
        size = data[pos + 1] if header == 1 else (data[pos + 1] << 8) | data[pos + 2]
        end = pos + start + size
        raw = data[pos + start : end]
        try:
            return cache[raw], end
        except KeyError:
            pass
        if end > len(data):
            raise _truncated(pos, f"atom of {size} bytes")
        try:
            value = _new_atom(raw.decode(encoding))
        except UnicodeDecodeError:
            raise DecodeError(f"atom at byte {pos} is not valid {encoding}") from None
        if len(cache) < _ATOM_CACHE_LIMIT:
            cache[raw] = value
        return value, end

    return atom


def _small_int(data: bytes, pos: int, depth: int) -> tuple[Any, int]:
    return data[pos + 1], pos + 2


def _int32(data: bytes, pos: int, depth: int) -> tuple[Any, int]:
    return _I32(data, pos + 1)[0], pos + 5


def _new_float(data: bytes, pos: int, depth: int) -> tuple[Any, int]:
    return _F64(data, pos + 1)[0], pos + 9


def _old_float(data: bytes, pos: int, depth: int) -> tuple[Any, int]:
    end = pos + 32
    if end > len(data):
        raise _truncated(pos, "FLOAT_EXT")
    try:
        return float(data[pos + 1 : end].rstrip(b"\x00")), end
    except ValueError:
        raise DecodeError(f"malformed FLOAT_EXT at byte {pos}") from None


def _big(data: bytes, pos: int, depth: int) -> tuple[Any, int]:
    if data[pos] == SMALL_BIG_EXT:
        size, start = data[pos + 1], pos + 3
    else:
        size, start = _U32(data, pos + 1)[0], pos + 6
    end = start + size
    if end > len(data):
        raise _truncated(pos, f"integer of {size} bytes")
    value = int.from_bytes(data[start:end], "little")
    return (-value if data[start - 1] else value), end


def _binary(data: bytes, pos: int, depth: int) -> tuple[Any, int]:
    end = pos + 5 + _U32(data, pos + 1)[0]
    if end > len(data):
        raise _truncated(pos, f"binary of {end - pos - 5} bytes")
    return text_or_bytes(data[pos + 5 : end]), end


def _string(data: bytes, pos: int, depth: int) -> tuple[Any, int]:
    end = pos + 3 + _U16(data, pos + 1)[0]
    if end > len(data):
        raise _truncated(pos, f"STRING_EXT of {end - pos - 3} bytes")
    return list(data[pos + 3 : end]), end


def _nil(data: bytes, pos: int, depth: int) -> tuple[Any, int]:
    return [], pos + 1


def _unsupported(data: bytes, pos: int, depth: int) -> tuple[Any, int]:
    tag = data[pos]
    what = _UNSUPPORTED.get(tag)
    if what is None:
        raise DecodeError(f"unknown tag {tag} at byte {pos}")
    raise DecodeError(f"unsupported term: {what} (tag {tag} at byte {pos})")


def _check_container(data: bytes, pos: int, count: int, width: int) -> None:
    """Refuse a container whose declared element count cannot fit in the rest of the
    frame (each element takes at least one byte)."""
    if count * width > len(data) - pos:
        raise DecodeError(
            f"container at byte {pos} declares {count} elements, "
            f"more than the {len(data) - pos} bytes left can hold"
        )


def _atom_text(data: bytes, pos: int) -> str:
    """The text of the atom at `pos`, read directly (no cache, no special atoms)."""
    tag = data[pos]
    end = _atom_end(data, pos)
    start = pos + (3 if tag in (ATOM_EXT, ATOM_UTF8_EXT) else 2)
    encoding = "utf-8" if tag in (ATOM_UTF8_EXT, SMALL_ATOM_UTF8_EXT) else "latin-1"
    return data[start:end].decode(encoding, "replace")


# In a NEW_FUN_EXT, the module atom follows the tag, Size(4), Arity(1), Uniq(16),
# Index(4) and NumFree(4).
_FUN_MODULE_AT = 30


def _atom_end(data: bytes, pos: int) -> int:
    tag = data[pos]
    if tag in (ATOM_EXT, ATOM_UTF8_EXT):
        return pos + 3 + ((data[pos + 1] << 8) | data[pos + 2])
    if tag in (SMALL_ATOM_EXT, SMALL_ATOM_UTF8_EXT):
        return pos + 2 + data[pos + 1]
    raise DecodeError(f"expected an atom at byte {pos}, got tag {tag}")


class _HookError(Exception):
    """Carries an exception raised by a user hook past the decoder's own handlers."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(error)
        self.error = error


def _call_hook(hook: Callable[[Any], Any], arg: Any) -> Any:
    try:
        return hook(arg)
    except DecodeError:
        raise
    except Exception as exc:
        raise _HookError(exc) from exc


_ATOM_DECODERS = {
    ATOM_EXT: _make_atom_decoder(2, "latin-1"),
    SMALL_ATOM_EXT: _make_atom_decoder(1, "latin-1"),
    ATOM_UTF8_EXT: _make_atom_decoder(2, "utf-8"),
    SMALL_ATOM_UTF8_EXT: _make_atom_decoder(1, "utf-8"),
}


def _build_table(structs: Mapping[str, StructHook], fun: FunHook | None) -> list[_Handler]:
    """The decoder's dispatch table: tag byte -> handler(data, pos, depth) -> (value, pos).

    Handlers that need the table or the hooks are closures over them.
    """
    table: list[_Handler] = [_unsupported] * 256

    def items(data: bytes, pos: int, count: int, depth: int) -> tuple[list[Any], int]:
        """Decode `count` consecutive terms: the loop under every container.

        The commonest elements are decoded inline, in order of how common they are in
        call terms. A binary that runs past the end leaves `pos` beyond it, which the
        next read or the caller's end check reports.
        """
        latin1_atoms, utf8_atoms = _LATIN1_ATOMS, _UTF8_ATOMS
        out: list[Any] = []
        # A countdown `while` costs less than setting up `range` for the few elements
        # of a typical call term.
        while count:
            count -= 1
            tag = data[pos]
            if tag == BINARY_EXT:
                start = pos + 5
                pos = start + _U32(data, pos + 1)[0]
                raw = data[start:pos]
                if pos - start > _PROBE:
                    out.append(text_or_bytes(raw))
                    continue
                try:
                    out.append(raw.decode())
                except UnicodeDecodeError:
                    out.append(raw)
            elif tag == SMALL_INTEGER_EXT:
                out.append(data[pos + 1])
                pos += 2
            elif tag in _INLINE_ATOM_TAGS:
                # What OTP 26+ and this encoder write, and what OTP 25 writes.
                if tag == ATOM_EXT:
                    end = pos + 3 + ((data[pos + 1] << 8) | data[pos + 2])
                    value = latin1_atoms.get(data[pos + 3 : end], _MISSING)
                else:
                    end = pos + 2 + data[pos + 1]
                    value = utf8_atoms.get(data[pos + 2 : end], _MISSING)
                if value is _MISSING:
                    value, end = table[tag](data, pos, depth)
                out.append(value)
                pos = end
            elif tag == INTEGER_EXT:
                out.append(_I32(data, pos + 1)[0])
                pos += 5
            elif tag == NEW_FLOAT_EXT:
                out.append(_F64(data, pos + 1)[0])
                pos += 9
            elif tag == NIL_EXT:  # empty kwargs, empty lists
                out.append([])
                pos += 1
            elif tag == STRING_EXT:  # short lists of small ints: args like [16]
                end = pos + 3 + ((data[pos + 1] << 8) | data[pos + 2])
                out.append(list(data[pos + 3 : end]))
                pos = end
            else:
                value, pos = table[tag](data, pos, depth)
                out.append(value)
        return out, pos

    def bulk_list(data: bytes, pos: int, count: int, depth: int) -> tuple[list[Any], int]:
        """Decode `count` list elements, taking runs of one scalar kind in bulk."""
        out: list[Any] = []
        runs = _RUNS
        done = 0
        backoff = _RUN_MIN
        while done < count:
            run = runs.get(data[pos])
            if run is not None:
                found, pos = run(data, pos, count - done, out)
                done += found
                if found >= _RUN_MIN:
                    backoff = _RUN_MIN
                    continue
            # A mixed stretch: go element by element for a while, longer each time, so
            # that attempts which find nothing cost little.
            step = min(backoff, count - done)
            values, pos = items(data, pos, step, depth)
            out += values
            done += step
            backoff = min(backoff * 2, 4096)
        return out, pos

    def list_value(data: bytes, pos: int, depth: int) -> tuple[Any, int]:
        count = _U32(data, pos + 1)[0]
        if count > len(data) - pos:
            _check_container(data, pos, count, 1)
        if depth >= RECURSE_DEPTH:
            return deep_value(data, pos)
        if count < _BULK_MIN:
            out, pos = items(data, pos + 5, count, depth + 1)
        else:
            out, pos = bulk_list(data, pos + 5, count, depth + 1)
        if data[pos] != NIL_EXT:
            raise DecodeError(f"improper list: tail at byte {pos} is not []")
        return out, pos + 1

    def tuple_value(data: bytes, pos: int, depth: int) -> tuple[Any, int]:
        if data[pos] == SMALL_TUPLE_EXT:
            arity, start = data[pos + 1], pos + 2
        else:
            arity, start = _U32(data, pos + 1)[0], pos + 5
        if arity > len(data) - pos:
            _check_container(data, pos, arity, 1)
        if depth >= RECURSE_DEPTH:
            return deep_value(data, pos)
        values, pos = items(data, start, arity, depth + 1)
        return tuple(values), pos

    def map_value(data: bytes, pos: int, depth: int) -> tuple[Any, int]:
        pairs = _U32(data, pos + 1)[0]
        if 2 * pairs > len(data) - pos:
            _check_container(data, pos, pairs, 2)
        if depth >= RECURSE_DEPTH:
            return deep_value(data, pos)
        flat, end = items(data, pos + 5, 2 * pairs, depth + 1)
        if end > len(data):
            raise _truncated(pos, "map")
        return map_of(flat, pairs, pos), end

    def map_of(flat: list[Any], pairs: int, pos: int) -> Any:
        """The value of the map at `pos` whose keys and values, alternating, are `flat`:
        a dict, or what its struct's hook makes of it."""
        pairs_iter = iter(flat)
        try:
            out = dict(zip(pairs_iter, pairs_iter, strict=True))
        except TypeError:
            out = _dict_with_frozen_keys(flat, pos)
        if len(out) != pairs:
            raise DecodeError(f"map keys collide after conversion: {_repeated(flat[::2])!r}")
        if _STRUCT_KEY in out:
            for key in out:
                if key == _STRUCT_KEY:
                    if key is _STRUCT_KEY:  # the atom, not a binary "__struct__"
                        return struct_value(out, pos)
                    break
        return out

    def struct_value(fields: dict[str, Any], at: int) -> Any:
        name = fields.pop(_STRUCT_KEY)
        hook = structs.get(name) if isinstance(name, str) else None
        if hook is None:
            raise DecodeError(f"unsupported struct {name!r} in the map at byte {at}")
        return _call_hook(hook, fields)

    def fun_value(data: bytes, pos: int, depth: int) -> tuple[Any, int]:
        if data[pos] == NEW_FUN_EXT:
            size = _U32(data, pos + 1)[0]
            end = pos + 1 + size
            if size < 32:
                raise DecodeError(f"malformed fun at byte {pos}: size {size}")
            if end > len(data):
                raise _truncated(pos, f"fun of {size} bytes")
            arity = data[pos + 5]
            module, name = _atom_text(data, pos + _FUN_MODULE_AT), None
        else:  # EXPORT_EXT: module atom, function atom, arity as SMALL_INTEGER_EXT
            name_at = _atom_end(data, pos + 1)
            end = _atom_end(data, name_at)
            if data[end] != SMALL_INTEGER_EXT:
                raise DecodeError(f"malformed external fun at byte {pos}")
            arity = data[end + 1]
            end += 2
            if end > len(data):
                raise _truncated(pos, "external fun")
            module, name = _atom_text(data, pos + 1), _atom_text(data, name_at)
        if fun is None:
            raise DecodeError(f"unsupported term: fun (no fun hook) at byte {pos}")
        return _call_hook(fun, ErlFun(data[pos:end], arity, module, name)), end

    def deep_value(data: bytes, pos: int) -> tuple[Any, int]:
        """Decode the container at `pos` as the recursive handlers do, but with an
        explicit stack: its nesting is then limited only by memory.

        A frame on the stack is [tag, elements left, elements so far, start]; scalars
        and funs go through the table, whose handlers for them never recurse.
        """
        stack: list[list[Any]] = []
        while True:
            tag = data[pos]
            start = pos
            if tag == LIST_EXT:
                count = _U32(data, pos + 1)[0]
                pos += 5
            elif tag == SMALL_TUPLE_EXT:
                count = data[pos + 1]
                pos += 2
            elif tag == LARGE_TUPLE_EXT:
                count = _U32(data, pos + 1)[0]
                pos += 5
            elif tag == MAP_EXT:
                count = 2 * _U32(data, pos + 1)[0]
                pos += 5
            else:
                value, pos = table[tag](data, pos, 0)
                count = -1
            if count > 0:
                if count > len(data) - pos:
                    _check_container(data, start, count, 1)
                stack.append([tag, count, [], start])
                continue
            if count == 0:
                value, pos = finish(tag, [], start, data, pos)
            # Hand the value to the containers waiting for it, closing each it completes.
            while stack:
                frame = stack[-1]
                frame[2].append(value)
                frame[1] -= 1
                if frame[1]:
                    break
                stack.pop()
                value, pos = finish(frame[0], frame[2], frame[3], data, pos)
            else:
                return value, pos

    def finish(tag: int, elements: list[Any], start: int, data: bytes, pos: int) -> tuple[Any, int]:
        """The value of a container that `deep_value` has read all the elements of."""
        if tag == LIST_EXT:
            if data[pos] != NIL_EXT:
                raise DecodeError(f"improper list: tail at byte {pos} is not []")
            return elements, pos + 1
        if tag == MAP_EXT:
            return map_of(elements, len(elements) // 2, start), pos
        return tuple(elements), pos

    for tag, atom in _ATOM_DECODERS.items():
        table[tag] = atom
    table[SMALL_INTEGER_EXT] = _small_int
    table[INTEGER_EXT] = _int32
    table[SMALL_BIG_EXT] = table[LARGE_BIG_EXT] = _big
    table[NEW_FLOAT_EXT] = _new_float
    table[FLOAT_EXT] = _old_float
    table[BINARY_EXT] = _binary
    table[STRING_EXT] = _string
    table[NIL_EXT] = _nil
    table[LIST_EXT] = list_value
    table[SMALL_TUPLE_EXT] = table[LARGE_TUPLE_EXT] = tuple_value
    table[MAP_EXT] = map_value
    table[NEW_FUN_EXT] = table[EXPORT_EXT] = fun_value
    return table


def _dict_with_frozen_keys(flat: list[Any], at: int) -> dict[Any, Any]:
    """A map whose keys include an unhashable value: a set (what a struct hook makes
    of a MapSet, say) becomes a frozenset; anything else is refused."""
    keys = [frozenset(key) if type(key) is set else key for key in flat[::2]]
    try:
        return dict(zip(keys, flat[1::2], strict=True))
    except TypeError:
        raise DecodeError(
            f"unhashable map key in the map at byte {at}: {_unhashable(keys)!r}"
        ) from None


def _unhashable(keys: list[Any]) -> Any:
    """The first key that cannot be hashed."""
    for key in keys:
        try:
            hash(key)
        except TypeError:
            return key
    raise AssertionError("no unhashable key")


def _repeated(keys: list[Any]) -> Any:
    """The first key equal to an earlier one."""
    seen: set[Any] = set()
    for key in keys:
        if type(key) is set:
            key = frozenset(key)  # noqa: PLW2901 (as `_dict_with_frozen_keys` did)
        if key in seen:
            return key
        seen.add(key)
    raise AssertionError("no repeated key")


# Bulk decoding of list elements. Each `_*_run` decodes the longest run of elements of
# one kind starting at `pos`, up to `limit` elements, appends them to `out`, and
# returns (count, next position); a count of 0 means "not here".


def _run_length(data: bytes, pos: int, stride: int, tag: bytes, limit: int) -> int:
    """How many tag bytes equal to `tag` sit at `pos`, `pos + stride`, ...

    Sequential decoding makes this exact: if the element at `pos` has the fixed size
    `stride`, the next element starts at `pos + stride`, and so on. Strided slices and
    `lstrip` do the scan in C, over a window that doubles so short runs stay cheap.
    """
    count, window = 0, _RUN_MIN
    while count < limit:
        window = min(window, limit - count)
        at = pos + stride * count
        tags = data[at : at + stride * window : stride]
        found = len(tags) - len(tags.lstrip(tag))
        count += found
        if found < window:
            break
        window *= 2
    if pos + stride * count > len(data):  # the last element's payload is cut short
        count -= 1
    return count


def _unpack_run(data: bytes, pos: int, count: int, width: int, code: str) -> list[Any]:
    """Values of `count` elements of 1 tag byte + `width` big-endian bytes, via `array`."""
    stride = width + 1
    end = pos + stride * count
    raw = bytearray(width * count)
    for j in range(width):
        raw[j::width] = data[pos + 1 + j : end : stride]
    values = array(code, raw)
    if _SWAP:
        values.byteswap()
    return values.tolist()


def _float_run(data: bytes, pos: int, limit: int, out: list[Any]) -> tuple[int, int]:
    count = _run_length(data, pos, 9, b"F", limit)
    out += _unpack_run(data, pos, count, 8, "d")
    return count, pos + 9 * count


def _int32_run(data: bytes, pos: int, limit: int, out: list[Any]) -> tuple[int, int]:
    count = _run_length(data, pos, 5, b"b", limit)
    out += _unpack_run(data, pos, count, 4, _I32_CODE)
    return count, pos + 5 * count


def _small_int_run(data: bytes, pos: int, limit: int, out: list[Any]) -> tuple[int, int]:
    count = _run_length(data, pos, 2, b"a", limit)
    end = pos + 2 * count
    out += data[pos + 1 : end : 2]
    return count, end


# A binary shorter than 256 bytes starts with b"m\0\0\0" and its length byte. Splitting
# a window of the frame (read as Latin-1, so one char per byte) on that pattern, with
# the length byte captured, yields ['', len0, body0, len1, body1, ...] in one C call.
# The split is only a guess (a body may contain the pattern), so it is checked: if body
# i has the length its header declares, the next element starts right after it. The
# run is the prefix of bodies that pass; the decoder continues element by element from
# the first that does not.
_split_short_binaries = re.compile("m\x00\x00\x00(.)", re.DOTALL).split
_WINDOW = 64 * 1024


def _first_difference(a: bytes, b: bytes) -> int:
    """Index of the first differing byte of two equal-length, unequal byte strings."""
    diff = int.from_bytes(a, "big") ^ int.from_bytes(b, "big")
    return len(a) - 1 - (diff.bit_length() - 1) // 8


# Binaries longer than this are probed on their head before being decoded as UTF-8.
_PROBE = 1 << 16


def text_or_bytes(raw: bytes) -> str | bytes:
    """`raw` as str if it is valid UTF-8, else `raw` itself.

    A failed decode copies its whole input into the UnicodeDecodeError, so a long
    binary is first probed on its head: random data of a gigabyte is then told apart
    from text at the cost of 64 KiB, not of a gigabyte copy.
    """
    if len(raw) > _PROBE:
        try:
            codecs.utf_8_decode(raw[:_PROBE], "strict", False)
        except UnicodeDecodeError:
            return raw
    try:
        return raw.decode()
    except UnicodeDecodeError:
        return raw


def utf8_text(text: str) -> str:
    """`text` as an exact str that encodes to UTF-8, for places Elixir must get a binary
    (error messages, `str()`, `repr()`): a str subclass becomes a plain str, and lone
    surrogates become backslash escapes."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode()
    return str.__str__(text)


def _binaries_value(bodies: list[str]) -> list[Any]:
    """The decoded values of Latin-1 `bodies`: str where valid UTF-8, else bytes."""
    if "".join(bodies).isascii():
        return bodies
    raw = list(map(str.encode, bodies, repeat("latin-1")))
    try:
        return list(map(bytes.decode, raw))
    except UnicodeDecodeError:
        return list(map(text_or_bytes, raw))


def _binary_run(data: bytes, pos: int, limit: int, out: list[Any]) -> tuple[int, int]:
    total = 0
    while total < limit:
        window = min(_WINDOW, 64 * (limit - total) + 64)
        parts = _split_short_binaries(data[pos : pos + window].decode("latin-1"))
        if parts[0]:
            break
        # The last body may be cut by the window's end: leave it for the next window.
        count = min(len(parts) // 2 - 1, limit - total)
        if count <= 0:
            break
        lengths = parts[1 : 2 * count : 2]
        bodies = parts[2 : 2 * count + 1 : 2]
        declared = "".join(lengths).encode("latin-1")
        try:
            actual = bytes(map(len, bodies))
        except ValueError:  # some "body" is longer than 255 bytes: make it a mismatch
            actual = bytes(
                len(body) if len(body) < 256 else size ^ 1
                for body, size in zip(bodies, declared, strict=True)
            )
        good = count if declared == actual else _first_difference(declared, actual)
        if good:
            out += _binaries_value(bodies[:good] if good < count else bodies)
            pos += 5 * good + sum(declared[:good] if good < count else declared)
            total += good
        if good < count:
            break
    return total, pos


_RUNS: dict[int, Callable[[bytes, int, int, list[Any]], tuple[int, int]]] = {
    NEW_FLOAT_EXT: _float_run,
    INTEGER_EXT: _int32_run,
    SMALL_INTEGER_EXT: _small_int_run,
    BINARY_EXT: _binary_run,
}


class Decoder:
    """Decodes ETF frames to Python values; see the module docs for the mapping.

    `structs` maps a struct's module name as an atom text (``"Elixir.Date"``) to a hook
    that receives the struct's fields (str keys, ``__struct__`` removed) and returns
    the Python value. `fun` receives every Elixir function as an `ErlFun`.
    Exceptions raised by hooks propagate unchanged.
    """

    __slots__ = ("_table",)

    def __init__(
        self, structs: Mapping[str, StructHook] | None = None, fun: FunHook | None = None
    ) -> None:
        self._table = _build_table(dict(structs or {}), fun)

    def decode(self, data: bytes | bytearray | memoryview, offset: int = 0) -> Any:
        """Decode the term in `data[offset:]`, which starts with the version byte 131.

        The term must end exactly at the end of `data`. Raises `DecodeError` for
        anything malformed or unsupported.
        """
        if type(data) is not bytes:
            data = bytes(data)
        table = self._table
        try:
            if data[offset] != VERSION:
                raise DecodeError(f"expected version byte 131 at byte {offset}, got {data[offset]}")
            pos = offset + 1
            if data[pos] == COMPRESSED:
                data, pos = _inflate(data, pos), 0
            value, pos = table[data[pos]](data, pos, 0)
        except _HookError as exc:
            raise exc.error from None
        except (IndexError, struct.error):
            raise DecodeError(
                f"truncated term at byte {len(data)}: the data ends inside a term"
            ) from None
        except RecursionError:
            raise DecodeError("term nested too deeply for the Python stack") from None
        if pos != len(data):
            raise DecodeError(f"trailing bytes after the term: {len(data) - pos} from byte {pos}")
        return value


def _inflate(data: bytes, pos: int) -> bytes:
    size = _U32(data, pos + 1)[0]
    if size == 0:  # zlib reads a limit of 0 as "no limit"
        raise DecodeError(f"compressed term at byte {pos} declares 0 bytes")
    inflater = zlib.decompressobj()
    try:
        inner = inflater.decompress(data[pos + 5 :], size)
    except zlib.error as exc:
        raise DecodeError(f"bad compressed term at byte {pos}: {exc}") from None
    if len(inner) != size or not inflater.eof or inflater.unconsumed_tail or inflater.unused_data:
        raise DecodeError(f"compressed term at byte {pos} does not inflate to {size} bytes")
    return inner


# --------------------------------------------------------------------------- encoding

_NIL = bytes((SMALL_ATOM_UTF8_EXT, 3)) + b"nil"
_TRUE = bytes((SMALL_ATOM_UTF8_EXT, 4)) + b"true"
_FALSE = bytes((SMALL_ATOM_UTF8_EXT, 5)) + b"false"
_NAN = bytes((SMALL_ATOM_UTF8_EXT, 3)) + b"nan"
_INF = bytes((SMALL_ATOM_UTF8_EXT, 8)) + b"infinity"
_NEG_INF = bytes((SMALL_ATOM_UTF8_EXT, 12)) + b"neg_infinity"
_SMALL_INTS = [bytes((SMALL_INTEGER_EXT, i)) for i in range(256)]
# The LIST_EXT headers of lists shorter than 256, made once: the encoder's, and a
# callback's argument list (`_replies`).
LIST_HEADERS = [_pack_tag_u32(LIST_EXT, n) for n in range(256)]
_TUPLE_HEADERS = [bytes((SMALL_TUPLE_EXT, n)) for n in range(256)]
_BINARY_HEADERS = [bytes((BINARY_EXT, 0, 0, 0, n)) for n in range(256)]
# The same headers as Latin-1 text, to build a list of ASCII strings as one str.
_BINARY_HEADER_TEXT = [h.decode("latin-1") for h in _BINARY_HEADERS]
_atom_terms: dict[str, bytes] = {}


def _atom_term(name: str) -> bytes:
    term = _atom_terms.get(name)
    if term is not None:
        return term
    if len(name) > 255:
        raise ValueError(f"an atom has at most 255 characters, got {len(name)}: {name[:40]!r}...")
    text = name.encode()
    size = len(text)
    term = (
        bytes((SMALL_ATOM_UTF8_EXT, size)) + text
        if size < 256
        else _pack_tag_u16(ATOM_UTF8_EXT, size) + text
    )
    if len(_atom_terms) < _ATOM_CACHE_LIMIT:
        _atom_terms[str(name)] = term
    return term


def int_term(value: int) -> bytes:
    """The ETF of `value`, without the version byte."""
    if 0 <= value < 256:
        return _SMALL_INTS[value]
    if -0x80000000 <= value < 0x80000000:
        return _pack_tag_i32(INTEGER_EXT, value)
    magnitude = -value if value < 0 else value
    size = (magnitude.bit_length() + 7) // 8
    digits = magnitude.to_bytes(size, "little")
    if size < 256:
        return bytes((SMALL_BIG_EXT, size, value < 0)) + digits
    return _pack_tag_u32(LARGE_BIG_EXT, size) + bytes((value < 0,)) + digits


def _float_term(value: float) -> bytes:
    if value - value == 0.0:  # finite
        return _pack_tag_f64(NEW_FLOAT_EXT, value)
    if math.isnan(value):
        return _NAN
    return _INF if value > 0 else _NEG_INF


_VERSIONED = {name: bytes((VERSION,)) + _atom_term(name) for name in ("nil", "true", "false")}
_VERSIONED_FLOAT = bytes((VERSION, NEW_FLOAT_EXT))
_pack_f64 = struct.Struct(">d").pack


def scalar_term(obj: Any) -> bytes | None:
    """The whole term, version byte included, for None, a bool, an int, a float or a
    short str; None for anything else.

    The same bytes as `Encoder.encode` gives, without its machinery: most replies are
    one such scalar, and this is every call's path.
    """
    kind = type(obj)
    if kind is float:
        if obj - obj == 0.0:  # finite: the commonest reply of all, without a call
            return _VERSIONED_FLOAT + _pack_f64(obj)
        return bytes((VERSION,)) + _float_term(obj)
    if kind is int:
        return bytes((VERSION,)) + int_term(obj)
    if kind is str:
        if len(obj) >= 256:
            return None
        try:
            data: bytes = obj.encode()
        except UnicodeEncodeError:
            return None
        if len(data) >= 256:
            return None
        return bytes((VERSION,)) + _BINARY_HEADERS[len(data)] + data
    if obj is None:
        return _VERSIONED["nil"]
    if kind is bool:
        return _VERSIONED["true" if obj else "false"]
    return None


def _encode_none(enc: Encoder, obj: Any) -> None:
    enc._buf += _NIL


def _encode_bool(enc: Encoder, obj: Any) -> None:
    enc._buf += _TRUE if obj else _FALSE


def _encode_int(enc: Encoder, obj: Any) -> None:
    enc._buf += int_term(obj)


def _encode_float(enc: Encoder, obj: Any) -> None:
    enc._buf += _float_term(obj)


def _encode_str(enc: Encoder, obj: Any) -> None:
    try:
        enc.binary(obj.encode())
    except UnicodeEncodeError:  # lone surrogates: not representable as an Elixir string
        enc._fallback(enc, obj)


def _encode_atom(enc: Encoder, obj: Any) -> None:
    try:
        enc._buf += _atom_term(obj)
    except ValueError:  # too long for an atom
        enc._fallback(enc, obj)


def _encode_list(enc: Encoder, obj: Any) -> None:
    size = len(obj)
    if not size:
        enc._buf.append(NIL_EXT)
        return
    header = LIST_HEADERS[size] if size < 256 else _pack_tag_u32(LIST_EXT, size)
    if size >= _BULK_MIN and enc._fast:
        bulk = _bulk_term(obj)
        if bulk is not None:
            enc._buf += header
            enc._write(bulk)
            enc._buf.append(NIL_EXT)
            return
    enc._container(obj, header, obj, b"j")


def _encode_tuple(enc: Encoder, obj: Any) -> None:
    size = len(obj)
    header = _TUPLE_HEADERS[size] if size < 256 else _pack_tag_u32(LARGE_TUPLE_EXT, size)
    enc._container(obj, header, obj, b"")


def _encode_dict(enc: Encoder, obj: Any) -> None:
    header = _pack_tag_u32(MAP_EXT, len(obj))
    enc._container(obj, header, chain.from_iterable(obj.items()), b"")


def _bulk_list(enc: Encoder, obj: Any) -> bool:
    """Would `_encode_list` write `obj` in bulk, without recursing?"""
    return (
        type(obj) is list
        and len(obj) >= _BULK_MIN
        and enc._fast
        and len(set(map(type, obj))) == 1
        and type(obj[0]) in (float, int, str)
    )


def _list_parts(obj: Any) -> tuple[bytes, Iterable[Any], bytes]:
    size = len(obj)
    return (LIST_HEADERS[size] if size < 256 else _pack_tag_u32(LIST_EXT, size)), obj, b"j"


def _tuple_parts(obj: Any) -> tuple[bytes, Iterable[Any], bytes]:
    size = len(obj)
    header = _TUPLE_HEADERS[size] if size < 256 else _pack_tag_u32(LARGE_TUPLE_EXT, size)
    return header, obj, b""


def _dict_parts(obj: Any) -> tuple[bytes, Iterable[Any], bytes]:
    return _pack_tag_u32(MAP_EXT, len(obj)), chain.from_iterable(obj.items()), b""


# What `Encoder._deep` writes itself, by handler: the header, elements and tail of the
# containers whose handlers are the defaults.
_PLAIN_CONTAINERS: dict[EncodeFn, Callable[[Any], tuple[bytes, Iterable[Any], bytes]]] = {
    _encode_list: _list_parts,
    _encode_tuple: _tuple_parts,
    _encode_dict: _dict_parts,
}

_DEFAULT_HANDLERS: dict[type, EncodeFn] = {
    type(None): _encode_none,
    bool: _encode_bool,
    int: _encode_int,
    float: _encode_float,
    str: _encode_str,
    Atom: _encode_atom,
    list: _encode_list,
    tuple: _encode_tuple,
    dict: _encode_dict,
}
# The types `Encoder._items` writes inline; it may only do so while their handlers are
# the defaults.
_INLINED = (int, float, str, type(None), bool, list)


def _bulk_term(items: list[Any]) -> bytes | bytearray | None:
    """The elements of a list of one scalar type, encoded at C speed; None otherwise."""
    kinds = set(map(type, items))
    if len(kinds) != 1:
        return None
    kind = kinds.pop()
    if kind is float:
        return _floats_term(items)
    if kind is int:
        return _int32s_term(items)
    if kind is str:
        return _strs_term(items)
    return None


def _interleave(tags: bytes, payload: bytes, width: int) -> bytearray:
    """`tags[i]` followed by `payload[width*i : width*(i+1)]`, for every i."""
    stride = width + 1
    out = bytearray(stride * len(tags))
    out[0::stride] = tags
    for j in range(width):
        out[1 + j :: stride] = payload[j::width]
    return out


def _floats_term(items: list[float]) -> bytearray | None:
    total = sum(items)
    if total - total != 0.0:  # some element is nan or ±inf (or the sum overflows)
        return None
    values = array("d", items)
    if _SWAP:
        values.byteswap()
    return _interleave(b"F" * len(items), values.tobytes(), 8)


def _int32s_term(items: list[int]) -> bytearray | None:
    try:
        values = array(_I32_CODE, items)
    except OverflowError:
        return None
    if _SWAP:
        values.byteswap()
    return _interleave(b"b" * len(items), values.tobytes(), 4)


def _strs_term(items: list[str]) -> bytes | None:
    parts: list[Any] = [None] * (2 * len(items))
    if "".join(items).isascii():
        try:
            parts[0::2] = map(_BINARY_HEADER_TEXT.__getitem__, map(len, items))
        except IndexError:  # a string of 256 characters or more
            pass
        else:
            parts[1::2] = items
            return "".join(parts).encode("latin-1")
    try:
        encoded = list(map(str.encode, items))
    except UnicodeEncodeError:
        return None
    parts[0::2] = map(_pack_tag_u32, repeat(BINARY_EXT), map(len, encoded))
    parts[1::2] = encoded
    return b"".join(parts)


class Encoder:
    """Encodes Python values as ETF, dispatching on exact type.

    Built-in types are encoded as described in the module docs; a str that is not
    valid UTF-8 (lone surrogates) and an `Atom` longer than 255 characters go to the
    fallback. For any other type,
    `classify(type)` is asked once (the answer, even None, is cached) for a handler;
    without one, `fallback(encoder, obj)` writes the term. Containers already being
    encoded (cycles) also go to `fallback`, and so do containers of other types than
    list, tuple and dict nested deeper than the module docs say. Handlers write
    through the building blocks (`term`, `atom`, `binary`, `tuple_header`, ...).

    An Encoder holds the state of the encode in progress, so it is not thread-safe:
    make one per thread. `encode` may be called again from inside a handler.
    """

    __slots__ = (
        "_active",
        "_buf",
        "_busy",
        "_chunks",
        "_classify",
        "_deep_levels",
        "_fallback",
        "_fast",
        "_handlers",
        "_registered",
        "spill",
        "spill_threshold",
    )

    def __init__(
        self, *, fallback: EncodeFn, classify: Callable[[type], EncodeFn | None] | None = None
    ) -> None:
        self._fallback = fallback
        self._classify = classify
        self._registered: dict[type, EncodeFn] = dict(_DEFAULT_HANDLERS)
        self._handlers: dict[type, EncodeFn] = dict(self._registered)
        self._fast = True
        self._buf = bytearray()
        self._chunks: list[bytes | bytearray | memoryview] = []
        self._active: set[int] = set()
        self._deep_levels = 0
        self._busy = False
        # Binaries of at least `spill_threshold` bytes go to `spill` instead, which
        # writes some other term in their place (the engine's shared-memory path).
        self.spill: Callable[[Encoder, memoryview], None] | None = None
        self.spill_threshold = 0

    def register(self, type_: type, fn: EncodeFn) -> None:
        """Encode objects whose type is exactly `type_` with `fn` (subclasses are not matched)."""
        self._registered[type_] = fn
        self._handlers = dict(self._registered)  # drops cached `classify` answers too
        self._fast = all(self._registered[t] is _DEFAULT_HANDLERS[t] for t in _INLINED)

    def encode(self, obj: Any) -> list[bytes | bytearray | memoryview]:
        """The whole term, version byte included, as chunks ready for `os.writev`.

        Large binaries are chunks of their own, not copies: they must not change until
        the chunks are written. Each one adds two chunks, so a term with hundreds of
        them can exceed what one `os.writev` call takes (`os.sysconf("SC_IOV_MAX")`).
        """
        if self._busy:  # called again from inside a handler
            return self._twin().encode(obj)
        self._busy = True
        self._buf = bytearray(b"\x83")
        chunks: list[bytes | bytearray | memoryview] = []
        self._chunks = chunks
        try:
            try:
                handler = self._handlers[type(obj)]
            except KeyError:
                handler = self._miss(type(obj))
            handler(self, obj)
        finally:
            self._busy = False
            if self._active:  # left over by an exception
                self._active.clear()
                self._deep_levels = 0
        chunks.append(self._buf)
        return chunks

    def _twin(self) -> Encoder:
        """An idle encoder with the same handlers (and the same classify cache)."""
        twin = Encoder(fallback=self._fallback, classify=self._classify)
        twin._registered = self._registered
        twin._handlers = self._handlers
        twin._fast = self._fast
        twin.spill = self.spill
        twin.spill_threshold = self.spill_threshold
        return twin

    def term(self, obj: Any) -> None:
        """Write `obj` (recursively)."""
        try:
            handler = self._handlers[type(obj)]
        except KeyError:
            handler = self._miss(type(obj))
        handler(self, obj)

    def _miss(self, type_: type) -> EncodeFn:
        handler = self._classify(type_) if self._classify is not None else None
        if handler is None:
            handler = self._fallback
        self._handlers[type_] = handler
        return handler

    def _container(self, obj: Any, header: bytes, items: Iterable[Any], tail: bytes) -> None:
        """Write `header`, each of `items` and `tail`: the loop under every container.

        A container already being written (a cycle) goes to the fallback instead; one
        nested deeper than RECURSE_DEPTH is written by `_deep`. Common scalars are
        written inline rather than through their handlers, which is only allowed while
        those handlers are the defaults.
        """
        # `active` holds the ids of the containers whose elements are being written
        # through a handler. A container joins it only on reaching such an element, so
        # flat containers (most of them) skip the set entirely; its size is still the
        # nesting depth, as every ancestor of the container being written is in it.
        active = self._active
        key = id(obj)
        if key in active:
            self._fallback(self, obj)
            return
        if len(active) >= RECURSE_DEPTH:
            self._deep(obj, header, items, tail)
            return
        self._buf += header
        if not self._fast:
            active.add(key)
            for item in items:
                self.term(item)
            self._buf += tail
            active.discard(key)
            return
        handlers = self._handlers
        buf = self._buf
        nested = False
        for item in items:
            kind = type(item)
            if kind is str:
                if len(item) < 64:
                    try:
                        text = item.encode()
                    except UnicodeEncodeError:
                        pass  # the str handler sends it to the fallback
                    else:
                        buf += _BINARY_HEADERS[len(text)]
                        buf += text
                        continue
            elif kind is int:
                buf += _SMALL_INTS[item] if 0 <= item < 256 else int_term(item)
                continue
            elif kind is float:
                buf += _float_term(item)
                continue
            elif item is None:
                buf += _NIL
                continue
            elif kind is bool:
                buf += _TRUE if item else _FALSE
                continue
            elif kind is list and not item:
                buf.append(NIL_EXT)
                continue
            try:
                handler = handlers[kind]
            except KeyError:
                handler = self._miss(kind)
            if not nested:
                active.add(key)
                nested = True
            handler(self, item)
            buf = self._buf  # a handler may have started a new chunk
        if tail:
            buf += tail
        if nested:
            active.discard(key)

    def _deep(self, obj: Any, header: bytes, items: Iterable[Any], tail: bytes) -> None:
        """Write a container as `_container` does, with an explicit stack for the lists,
        tuples and dicts inside it: their nesting is then limited only by memory.

        Any other element goes through its handler, which may come back here for
        containers of its own: past HANDLER_LEVELS of those, the fallback takes over.
        """
        if self._deep_levels >= HANDLER_LEVELS:
            self._fallback(self, obj)
            return
        self._deep_levels += 1
        active = self._active
        handlers = self._handlers
        key = id(obj)
        active.add(key)
        self._buf += header
        stack = [(key, iter(items), tail)]
        while stack:
            key, elements, tail = stack[-1]
            for item in elements:
                kind = type(item)
                try:
                    handler = handlers[kind]
                except KeyError:
                    handler = self._miss(kind)
                parts = _PLAIN_CONTAINERS.get(handler)
                # An empty container has no elements to stack; a cycle goes to the fallback
                # through the handler; a list of one scalar type is written in bulk by it.
                if parts is None or not item or id(item) in active or _bulk_list(self, item):
                    handler(self, item)
                    continue
                header, inner, inner_tail = parts(item)
                self._buf += header
                active.add(id(item))
                stack.append((id(item), iter(inner), inner_tail))
                break
            else:
                stack.pop()
                self._buf += tail
                active.discard(key)
        self._deep_levels -= 1

    def _write(self, data: bytes | bytearray | memoryview) -> None:
        """Append `data`: copied if small, else as its own chunk."""
        if len(data) < _BIG_CHUNK:
            self._buf += data
        else:
            self._chunks.append(self._buf)
            self._chunks.append(data)
            self._buf = bytearray()

    def atom(self, name: str) -> None:
        """Write the atom `name` (at most 255 characters, else ValueError)."""
        self._buf += _atom_term(name)

    def binary(self, data: bytes | bytearray | memoryview) -> None:
        """Write a BINARY_EXT; 64 KiB or more become their own chunk without a copy."""
        if type(data) is memoryview:
            if not data.c_contiguous:
                view = memoryview(data.tobytes())
            elif data.format != "B" or data.ndim != 1:
                view = data.cast("B")
            else:
                view = data
            if self.spill is not None and view.nbytes >= self.spill_threshold:
                self.spill(self, view)
                return
            self._buf += _pack_tag_u32(BINARY_EXT, view.nbytes)
            self._write(view)
            return
        size = len(data)
        if self.spill is not None and size >= self.spill_threshold:
            self.spill(self, memoryview(data))
            return
        self._buf += _BINARY_HEADERS[size] if size < 256 else _pack_tag_u32(BINARY_EXT, size)
        self._write(data)

    def tuple_header(self, arity: int) -> None:
        """Start a tuple; the caller then writes `arity` terms."""
        if arity < 256:
            self._buf += bytes((SMALL_TUPLE_EXT, arity))
        else:
            self._buf += _pack_tag_u32(LARGE_TUPLE_EXT, arity)

    def list_header(self, length: int) -> None:
        """Start a list; the caller then writes `length` terms and `nil()`."""
        self._buf += _pack_tag_u32(LIST_EXT, length)

    def nil(self) -> None:
        """Write [] (also the tail that ends a list)."""
        self._buf.append(NIL_EXT)

    def map_header(self, pairs: int) -> None:
        """Start a map; the caller then writes `pairs` key and value terms, alternating."""
        self._buf += _pack_tag_u32(MAP_EXT, pairs)

    def raw(self, term_bytes: bytes) -> None:
        """Write a term that is already encoded (without the 131 version byte)."""
        self._buf += term_bytes
