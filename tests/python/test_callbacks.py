"""ElixirFunction: the Python callable that stands for an Elixir function."""

from __future__ import annotations

import inspect
import weakref
from typing import Any

import pytest

import snakebridge
from snakebridge._callbacks import ElixirFunction
from snakebridge._etf import ErlFun


def _proxy(arity: int, calls: list[tuple[Any, ...]] | None = None) -> ElixirFunction:
    def invoke(fn: ElixirFunction, args: tuple[Any, ...]) -> Any:
        if calls is not None:
            calls.append(args)
        return ("ran", args)

    return ElixirFunction(ErlFun(b"fun-bytes", arity), owner=7, session=3, invoke=invoke)


def test_calling_with_the_right_arity_invokes_with_the_arguments() -> None:
    calls: list[tuple[Any, ...]] = []
    fn = _proxy(2, calls)
    assert fn(1, "b") == ("ran", (1, "b"))
    assert calls == [(1, "b")]


def test_a_zero_arity_function_takes_no_arguments() -> None:
    assert _proxy(0)() == ("ran", ())


@pytest.mark.parametrize(("arity", "args"), [(1, ()), (1, (1, 2)), (0, (1,)), (3, (1, 2))])
def test_the_wrong_number_of_arguments_is_a_type_error_and_nothing_runs(
    arity: int, args: tuple[Any, ...]
) -> None:
    calls: list[tuple[Any, ...]] = []
    with pytest.raises(TypeError, match=f"takes {arity} positional argument"):
        _proxy(arity, calls)(*args)
    assert calls == []


def test_keyword_arguments_are_a_type_error() -> None:
    calls: list[tuple[Any, ...]] = []
    with pytest.raises(TypeError, match="positional arguments only, got keywords: key"):
        _proxy(1, calls)(1, key=2)
    assert calls == []


def test_the_signature_has_arity_positional_only_parameters() -> None:
    signature = inspect.signature(_proxy(3))
    assert list(signature.parameters) == ["arg0", "arg1", "arg2"]
    kinds = {p.kind for p in signature.parameters.values()}
    assert kinds == {inspect.Parameter.POSITIONAL_ONLY}
    signature.bind(1, 2, 3)
    with pytest.raises(TypeError):
        signature.bind(1, 2)


def test_arity_owner_and_session_are_exposed() -> None:
    fn = _proxy(2)
    assert (fn.arity, fn.owner, fn.session) == (2, 7, 3)
    assert repr(fn) == "<ElixirFunction fn/2 in elixir owner=7>"


def _named(module: str, name: str | None, arity: int = 1) -> ElixirFunction:
    fun = ErlFun(b"fun-bytes", arity, module, name)
    return ElixirFunction(fun, owner=7, session=3, invoke=lambda fn, args: args)


def test_an_external_function_is_named_like_a_python_function() -> None:
    fn = _named("Elixir.String", "length")
    assert (fn.__name__, fn.__qualname__, fn.__module__) == ("length", "length", "String")
    assert fn.__doc__ == "The Elixir function String.length/1."
    assert repr(fn) == "<ElixirFunction length/1 String owner=7>"
    assert _named("lists", "reverse").__module__ == ":lists"


def test_an_anonymous_function_is_named_by_its_arity() -> None:
    fn = _named("Elixir.MyApp.Jobs", None, 2)
    assert (fn.__name__, fn.__qualname__) == ("<elixir fn/2>", "<elixir fn/2>")
    assert fn.__module__ == "MyApp.Jobs"
    assert "anonymous Elixir function of arity 2" in (fn.__doc__ or "")
    # The class keeps its own names.
    assert ElixirFunction.__module__.startswith("snakebridge")
    assert "A callable that runs an Elixir function" in (ElixirFunction.__doc__ or "")


def test_copies_are_the_proxy_itself_even_deep_inside_containers() -> None:
    import copy

    fn = _proxy(1)
    assert copy.copy(fn) is fn
    assert copy.deepcopy(fn) is fn
    holder = {"step": [fn, 1]}
    copied = copy.deepcopy(holder)
    assert copied is not holder and copied["step"][0] is fn


def test_pickling_is_a_clear_type_error() -> None:
    import pickle

    with pytest.raises(TypeError, match=r"cannot pickle .* runs only in the Elixir process"):
        pickle.dumps(_proxy(1))


def test_proxies_can_be_weakly_referenced() -> None:
    fn = _proxy(1)
    assert weakref.ref(fn)() is fn


def test_the_package_exports_the_callback_names() -> None:
    assert snakebridge.ElixirFunction is ElixirFunction
    assert issubclass(snakebridge.CallbackOwnerGone, snakebridge.ElixirError)
    assert issubclass(snakebridge.ElixirError, Exception)


def test_public_exceptions_are_named_after_the_package() -> None:
    for cls in (
        snakebridge.ElixirError,
        snakebridge.CallbackOwnerGone,
        snakebridge.RefError,
        snakebridge.CallCancelled,
    ):
        assert cls.__module__ == "snakebridge"
        assert getattr(snakebridge, cls.__name__) is cls


def test_elixir_error_carries_kind_and_stacktrace() -> None:
    error = snakebridge.ElixirError("** (RuntimeError) boom", kind="RuntimeError")
    assert (error.kind, str(error)) == ("RuntimeError", "** (RuntimeError) boom")
    traced = snakebridge.ElixirError("boom", elixir_stacktrace="    a.ex:1: f/0")
    assert str(traced) == "boom\n    a.ex:1: f/0"
