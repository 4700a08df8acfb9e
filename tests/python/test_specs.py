"""Annotations to type terms, and docstrings to Markdown."""

from __future__ import annotations

import pytest

from snakebridge._docstrings import markdown
from snakebridge._specs import type_term


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("int", "integer"),
        ("str", "string"),
        ("list[int]", ("list", "integer")),
        ("int | None", ("union", ["integer", "nil"])),
        ("Optional[str]", ("union", ["string", "nil"])),
        ("dict[str, float]", ("map", "string", "float")),
        ("tuple[int, str]", ("tuple", ["integer", "string"])),
        ("tuple[int, ...]", "tuple"),
        ("Union[int, Any]", "term"),
        ("numpy.typing.ArrayLike", "term"),
        ("'int'", "integer"),
        ("not valid python (", "term"),
        (None, "term"),
    ],
)
def test_type_terms(text, term):
    assert type_term(text) == term


def test_iterators_are_enumerable_only_when_returned():
    assert type_term("Iterator[int]", returned=True) == "enumerable"
    assert type_term("Iterator[int]") == "term"


def test_google_style():
    doc = markdown(
        "Add numbers.\n\nArgs:\n    a (int): The first.\n    b: The second.\n\n"
        "Returns:\n    int: The sum.\n\nExample:\n    >>> add(1, 2)\n    3\n"
    )
    assert "## Parameters\n\n  * `a` (`int`) - The first." in doc
    assert "## Returns" in doc
    assert "```python\n>>> add(1, 2)\n3\n```" in doc


def test_sphinx_style():
    doc = markdown("Add.\n\n:param a: The first.\n:type a: int\n:returns: The sum.\n")
    assert "## Parameters\n\n  * `a` (`int`) - The first." in doc


def test_prose_examples_are_fenced_and_roles_become_code():
    doc = markdown("Uses :func:`os.path.join` and ``x``.\n\n>>> 1 + 1\n2\n\nAfter.")
    assert "`os.path.join`" in doc
    assert "`x`" in doc
    assert "```python\n>>> 1 + 1\n2\n```" in doc
    assert "iex>" not in doc


def test_empty():
    assert markdown(None) == ""
    assert markdown("   ") == ""
