"""The names each module of the engine exports: a change to any `__all__` shows here.

A module's `__all__` is its surface for the other layers (and, for the package itself,
for users' Python code): growing or shrinking one is a decision, made in this file too.
"""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import snakebridge

EXPORTS: dict[str, list[str]] = {
    "snakebridge": [
        "CallCancelled",
        "CallbackOwnerGone",
        "ElixirError",
        "ElixirFunction",
        "RefError",
    ],
    "snakebridge._aio": ["EventLoopThread"],
    "snakebridge._arrays": [
        "ARRAY",
        "ARRAY_DTYPES",
        "decode_array",
        "encode_array",
        "encode_frame",
    ],
    "snakebridge._bootstrap": ["main"],
    "snakebridge._callbacks": ["ElixirFunction", "Invoke"],
    "snakebridge._cancellation": ["Cancellation"],
    "snakebridge._channel": [
        "HEADER",
        "ChannelClosed",
        "FrameReader",
        "FrameTooLarge",
        "FrameWriter",
    ],
    "snakebridge._control": ["ControlDispatch", "ControlServer"],
    "snakebridge._errors": [
        "CALL_FILE",
        "CallCancelled",
        "CallbackOwnerGone",
        "ElixirError",
        "RefError",
        "format_traceback",
        "qualified_name",
        "write_error",
    ],
    "snakebridge._etf": [
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
    ],
    "snakebridge._idioms": [
        "IterBatch",
        "op_contains",
        "op_ctx_enter",
        "op_ctx_exit",
        "op_iter_close",
        "op_iter_next",
        "op_iter_open",
        "op_len",
    ],
    "snakebridge._fast_path": ["FastPath", "call_module_fast_path"],
    "snakebridge._inflight": ["InFlight", "Waiter", "current_request"],
    "snakebridge._nanny": ["DEFAULT_COMMAND", "main", "run"],
    "snakebridge._op_context": ["Handler", "OpContext"],
    "snakebridge._output": ["CallerOutput"],
    "snakebridge._ops": [
        "AWAIT_RESULT",
        "CALL_TARGETS",
        "CONTROL_OPS",
        "ArrayExport",
        "bind",
        "call_name",
        "callback_result",
        "in_main_namespace",
        "op_array_export",
        "op_call",
        "op_callback_result",
        "op_caller_done",
        "op_cancel",
        "op_cancel_caller",
        "op_eval",
        "op_getattr",
        "op_getitem",
        "op_identity",
        "op_release",
        "op_release_made",
        "op_release_session",
        "op_repr",
        "op_setattr",
        "op_setitem",
        "op_stats",
        "op_str",
        "resolve_attribute",
    ],
    "snakebridge._leftovers": ["remove_dead_beam_dirs", "remove_stale_control_dirs"],
    "snakebridge._reentry": ["Callbacks", "check_stack_room", "unwrap"],
    "snakebridge._registry": ["OpenContext", "Registry", "RunAsync", "Session"],
    "snakebridge._replies": ["OK_BYTE", "Replies", "ThreadCodec"],
    "snakebridge._request": [
        "NO_BLOBS",
        "SESSION_CALLER",
        "Request",
        "build_header",
        "drop_malformed",
        "parse_header",
        "split_frame",
        "tag_of",
    ],
    "snakebridge._shm": [
        "ROOT",
        "SEGMENT_DIR_ENV",
        "SHM_STRUCT",
        "SegmentWriter",
        "make_private_directory",
        "read_segment",
    ],
    "snakebridge._terms": [
        "ModuleName",
        "as_plain",
        "build_encoder",
        "bytes_struct",
        "encode_bytes",
        "make_decoder",
        "make_encoder",
        "numpy_scalar_encoder",
    ],
    "snakebridge._deep": ["make_value_encoder"],
    "snakebridge._zones": [
        "FIXED_ZONE",
        "any_zone_fields",
        "fixed_zone_name",
        "seconds_of",
        "zone_fields",
    ],
    "snakebridge._wire": [
        "BLOB_FLAG",
        "BLOB_MIN",
        "PIPE_BUF",
        "PROTOCOL_VERSION",
        "REPLY_FD",
        "REQUEST_FD",
        "SHM_FLAG",
        "Flag",
        "Kind",
        "Op",
        "ReturnMode",
        "Stream",
    ],
    "snakebridge._worker": ["Engine"],
    "snakebridge._cli": ["UV_VERSION", "main", "tool_python"],
    "snakebridge._doctor": ["doctor"],
    "snakebridge._drift": ["EnvInfo", "diff", "env_info", "expected_from_export", "installed"],
    "snakebridge._env": ["STAMP", "Context", "check", "plan", "setup", "drift"],
    "snakebridge._commands": ["main"],
    "snakebridge._hardware": ["Accelerator", "Probe", "cuda_for_driver", "detect"],
    "snakebridge._index": ["PYPI", "Index", "IndexFile", "discover", "list_files"],
    "snakebridge._interp": ["Interpreter", "choose_interpreter", "describe"],
    "snakebridge._lock": [
        "Plan",
        "UvError",
        "machine_profile",
        "read_lock_info",
        "run_uv",
        "write_project",
    ],
    "snakebridge._spec": ["Declared", "Spec", "SpecError", "load_spec"],
    "snakebridge._variants": ["Target", "Variant", "Variants", "choose", "load_rules", "parse_tag"],
    "snakebridge._docstrings": ["markdown", "scrub"],
    "snakebridge._eterm": ["Atom", "term_text"],
    "snakebridge._introspect": ["describe_module", "library_version", "main"],
    "snakebridge._signatures": ["GENERIC", "UNKNOWN", "signature"],
    "snakebridge._specs": ["TERM", "StubIndex", "annotation_text", "type_term"],
    "snakebridge._versions": ["FORMAT", "INTROSPECTOR", "library_version", "main"],
}


def _modules() -> list[str]:
    found = ["snakebridge"]
    for info in pkgutil.iter_modules(snakebridge.__path__):
        if info.name != "__main__":  # a script (`python -m snakebridge`), not a layer
            found.append(f"snakebridge.{info.name}")
    return sorted(found)


def test_every_module_is_pinned() -> None:
    assert _modules() == sorted(EXPORTS)


@pytest.mark.parametrize("name", sorted(EXPORTS))
def test_the_module_exports_exactly_the_pinned_names(name: str) -> None:
    module = importlib.import_module(name)
    assert sorted(module.__all__) == sorted(EXPORTS[name])
    missing = [export for export in module.__all__ if not hasattr(module, export)]
    assert missing == []


def test_private_modules_are_private_by_name() -> None:
    assert all(name.split(".")[-1].startswith("_") for name in _modules()[1:])
