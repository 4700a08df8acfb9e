"""Fixtures shared by the Python tests."""

from __future__ import annotations

import base64
import math
import shutil
import struct
import subprocess
from collections.abc import Callable
from typing import Any

import pytest

from snakebridge._etf import Atom

_RUN_STDIN = "Code.eval_string(IO.read(:stdio, :eof))"


@pytest.fixture(scope="session")
def elixir() -> Callable[[str], list[str]]:
    """Run an Elixir script (given as text) in one `elixir` process; its output lines.

    Skips the test when `elixir` is not on PATH.
    """
    exe = shutil.which("elixir")
    if exe is None:
        pytest.skip("elixir is not on PATH")

    def run(script: str) -> list[str]:
        proc = subprocess.run(
            [exe, "-e", _RUN_STDIN],
            input=script,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.splitlines()

    return run


def _binary(data: bytes) -> str:
    return "<<" + ", ".join(map(str, data)) + ">>"


def elixir_literal(value: Any) -> str:
    """An Elixir expression for a plain Python value, exact for floats and atoms."""
    if value is None or isinstance(value, bool):
        return {None: "nil", True: "true", False: "false"}[value]
    if type(value) is int:
        return str(value)
    if type(value) is float:
        if math.isnan(value):
            return ":nan"
        if math.isinf(value):
            return ":infinity" if value > 0 else ":neg_infinity"
        bits = struct.unpack(">Q", struct.pack(">d", value))[0]
        return f"(<<x::float>> = <<{bits}::64>>; x)"
    if type(value) is Atom:
        return f"String.to_atom({_binary(value.encode())})"
    if type(value) is str:
        return _binary(value.encode())
    if type(value) is bytes:
        return _binary(value)
    if type(value) is list:
        return "[" + ", ".join(map(elixir_literal, value)) + "]"
    if type(value) is tuple:
        return "{" + ", ".join(map(elixir_literal, value)) + "}"
    if type(value) is dict:
        pairs = (f"{elixir_literal(k)} => {elixir_literal(v)}" for k, v in value.items())
        return "%{" + ", ".join(pairs) + "}"
    raise TypeError(f"no Elixir literal for {value!r}")


@pytest.fixture(scope="session")
def literal() -> Callable[[Any], str]:
    """`elixir_literal`: the Elixir expression for a plain Python value."""
    return elixir_literal


@pytest.fixture(scope="session")
def elixir_decodes(
    elixir: Callable[[str], list[str]],
) -> Callable[[list[tuple[bytes, str]]], list[str]]:
    """Check (frame, Elixir expression) pairs in one Elixir run.

    Each frame must decode with `:erlang.binary_to_term(frame, [:safe])` to a term
    `===` to its expression. Returns a description of every pair that does not.
    """

    def check(cases: list[tuple[bytes, str]]) -> list[str]:
        rows = ",\n".join(
            f'{{"{base64.b64encode(frame).decode()}", {expr}}}' for frame, expr in cases
        )
        lines = elixir(
            f"""
            cases = [{rows}]
            cases
            |> Enum.with_index()
            |> Enum.each(fn {{{{b64, expected}}, i}} ->
              result =
                try do
                  :erlang.binary_to_term(Base.decode64!(b64), [:safe])
                rescue
                  e -> {{:raised, e}}
                end
              if result !== expected do
                IO.puts("case #{{i}}: got #{{inspect(result)}}, expected #{{inspect(expected)}}")
              end
            end)
            IO.puts("checked #{{length(cases)}}")
            """
        )
        assert lines[-1] == f"checked {len(cases)}", lines
        return lines[:-1]

    return check


@pytest.fixture(scope="session")
def elixir_binaries(elixir: Callable[[str], list[str]]) -> Callable[[list[str]], list[bytes]]:
    """The values of Elixir expressions that evaluate to binaries, in one Elixir run.

    For ETF from Elixir: ``elixir_binaries([":erlang.term_to_binary(:ok)"])``.
    """

    def run(exprs: list[str]) -> list[bytes]:
        # The codec sends nan and the infinities as atoms, which `binary_to_term(_, [:safe])`
        # accepts only once they exist; the bridge's Elixir code names them, so does this.
        lines = elixir(
            "_ = [:nan, :infinity, :neg_infinity]\n"
            "for v <- [" + ",\n".join(exprs) + "], do: IO.puts(Base.encode64(v))"
        )
        assert len(lines) == len(exprs), lines
        return [base64.b64decode(line) for line in lines]

    return run
