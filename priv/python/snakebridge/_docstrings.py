"""Docstrings: a Python docstring (numpydoc, Google or reST) as Markdown for `@doc`.

griffe parses the docstring (its `auto` parser tells the three styles apart); this
module only lays the parsed sections out as Markdown: named sections become `##`
headings, parameters and the like become lists, and every `>>>` example goes into a
```` ```python ```` fence. Examples never become `iex>` prompts: they are Python, and
ExUnit's doctests would try to run them as Elixir.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import griffe

__all__ = ["markdown", "scrub"]

# griffe reports docstrings that do not follow their style to a logger; for
# third-party code that is noise, not something the user can act on.
logging.getLogger("griffe").setLevel(logging.CRITICAL)

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
_ROLE = re.compile(r":(?:[a-z]+:)*[a-z]+:`~?([^`]+)`")
_LITERAL = re.compile(r"``([^`]+)``")
_DIRECTIVE = re.compile(r"^(\s*)\.\. ([a-zA-Z-]+)::\s*(.*)$")
_HEADINGS = {
    "parameters": "Parameters",
    "other parameters": "Other parameters",
    "returns": "Returns",
    "yields": "Yields",
    "receives": "Receives",
    "raises": "Raises",
    "warns": "Warns",
    "attributes": "Attributes",
    "examples": "Examples",
}


def scrub(text: str) -> str:
    """Drop memory addresses from reprs, which change from run to run."""
    return _ADDRESS.sub("", text)


def _inline(text: str) -> str:
    """reST inline markup as Markdown: roles and double-backquoted literals as code."""
    return _LITERAL.sub(r"`\1`", _ROLE.sub(r"`\1`", text))


def _fence_examples(text: str) -> str:
    """Fence runs of `>>>` lines (with their output, up to a blank line) as Python."""
    out: list[str] = []
    in_code = False
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped.startswith("```"):
            in_code = not in_code
            out.append(line)
            continue
        if not in_code and stripped.startswith(">>>"):
            out.extend(["```python", line.strip()])
            in_code = True
            continue
        if in_code and stripped == "" and out and out[-1] != "```python":
            out.append("```")
            in_code = False
        out.append(line.strip() if in_code else line)
    if in_code:
        out.append("```")
    return "\n".join(out)


def _directives(text: str) -> str:
    """reST directives (`.. versionadded:: 1.2`, `.. note::`) as bold lead-ins."""
    lines = []
    for line in text.split("\n"):
        match = _DIRECTIVE.match(line)
        if match:
            indent, name, rest = match.groups()
            lines.append(f"{indent}**{name.replace('-', ' ').capitalize()}** {rest}".rstrip())
        else:
            lines.append(line)
    return "\n".join(lines)


def _prose(text: str) -> str:
    return _fence_examples(_directives(_inline(text))).strip()


def _item(name: str, annotation: Any, description: str) -> str:
    head = f"`{name}`" if name else ""
    kind = str(annotation) if annotation else ""
    if kind:
        head = f"{head} (`{kind}`)" if head else f"`{kind}`"
    body = _prose(description).replace("\n", "\n    ")
    if not body:
        return f"  * {head}"
    return f"  * {head} - {body}" if head else f"  * {body}"


def _section(section: griffe.DocstringSection) -> str:
    kind = section.kind.value
    if kind == "text":
        return _prose(str(section.value))
    if kind == "examples":
        parts = []
        for part_kind, text in section.value:
            if part_kind.value == "examples":
                parts.append("```python\n" + text.strip() + "\n```")
            else:
                parts.append(_prose(text))
        return "## Examples\n\n" + "\n\n".join(parts)
    if kind == "admonition":
        title = section.title or section.value.kind or "Note"
        return f"## {title.strip().capitalize()}\n\n" + _prose(section.value.contents)
    if kind == "deprecated":
        return "## Deprecated\n\n" + _prose(str(getattr(section.value, "description", "")))
    heading = _HEADINGS.get(kind, kind.capitalize())
    items = [
        _item(
            getattr(element, "name", "") or "",
            getattr(element, "annotation", None),
            getattr(element, "description", "") or "",
        )
        for element in section.value
    ]
    return f"## {heading}\n\n" + "\n".join(items)


def markdown(text: str | None) -> str:
    """The Markdown of a docstring ("" for none); the raw text, fenced, if parsing fails."""
    if not text or not text.strip():
        return ""
    text = scrub(text)
    try:
        sections = griffe.Docstring(text, parser="auto").parse()
        rendered = [_section(section) for section in sections]
    except Exception:
        # A docstring griffe cannot parse is still worth showing, as plain prose.
        return _prose(text)
    return "\n\n".join(part for part in rendered if part)
