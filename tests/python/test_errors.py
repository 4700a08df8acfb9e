"""Errors: how an exception's traceback is written for Elixir."""

from __future__ import annotations

import json
import math

from snakebridge._errors import format_traceback


def _raised(fn, *args):
    try:
        fn(*args)
    except Exception as exc:
        return exc
    raise AssertionError("did not raise")


def test_an_error_from_a_c_function_has_the_header_and_a_frame_naming_the_call() -> None:
    text = format_traceback(_raised(math.sqrt, -1), "math.sqrt")
    lines = text.splitlines()
    assert lines[0] == "Traceback (most recent call last):"
    assert lines[1] == '  File "<snakebridge>", line 1, in math.sqrt'
    assert lines[-1] == "ValueError: math domain error"


def test_python_frames_follow_the_call_frame() -> None:
    text = format_traceback(_raised(json.loads, "{"), "json.loads")
    assert text.index('File "<snakebridge>", line 1, in json.loads') < text.index("in loads")
    assert text.rstrip().endswith("line 1 column 2 (char 1)")


def test_without_a_call_name_the_frame_still_stands() -> None:
    assert '  File "<snakebridge>", line 1, in <call>\n' in format_traceback(_raised(int, "x"))


def test_chained_exceptions_keep_pythons_shape() -> None:
    def convert() -> None:
        try:
            {}["missing"]
        except KeyError as exc:
            raise ValueError("no such key") from exc

    text = format_traceback(_raised(convert), "app.convert")
    first, second = text.split("The above exception was the direct cause of the following")
    assert "KeyError: 'missing'" in first and "<snakebridge>" not in first
    assert '  File "<snakebridge>", line 1, in app.convert\n' in second
    assert second.rstrip().endswith("ValueError: no such key")
