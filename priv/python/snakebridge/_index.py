"""Package indexes: what they offer for a package, and the variants that follows.

An index is a local directory of wheels (a flat index) or the URL of a PEP 503/691
simple index. `discover` reads the files an index lists for one package, and for the
highest release that satisfies the declared requirement finds its variants: local
version tags first, then conventional extras from the wheel's own metadata (local
wheels are opened; remote ones are read through PEP 658 `.metadata` files), then the
distribution-name rules. A network failure is a warning: the package then has no
variants and installs as declared.
"""

from __future__ import annotations

import email.parser
import json
import re
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import Version

from snakebridge._variants import Variant, Variants, parse_tag

__all__ = ["PYPI", "Index", "IndexFile", "discover", "list_files"]

PYPI = "https://pypi.org/simple"
_TIMEOUT = 15
_ACCEPT = "application/vnd.pypi.simple.v1+json, text/html;q=0.1"


@dataclass(frozen=True)
class Index:
    """A configured index: `name` is how the generated project refers to it."""

    name: str
    url: str
    origin: str

    @property
    def local(self) -> Path | None:
        """The directory, if this index is a local directory of wheels."""
        if self.url.startswith("file://"):
            return Path(urllib.parse.unquote(urllib.parse.urlparse(self.url).path))
        if "://" in self.url:
            return None
        return Path(self.url)


@dataclass(frozen=True)
class IndexFile:
    filename: str
    url: str
    has_metadata: bool


def _fetch(url: str) -> tuple[str, bytes]:
    request = urllib.request.Request(url, headers={"Accept": _ACCEPT})
    with urllib.request.urlopen(request, timeout=_TIMEOUT) as response:
        return str(response.headers.get("Content-Type", "")), bytes(response.read())


def list_files(index: Index, name: NormalizedName) -> list[IndexFile]:
    """The files `index` offers for package `name` (raises OSError when unreachable)."""
    directory = index.local
    if directory is not None:
        return [
            IndexFile(path.name, str(path), True)
            for path in sorted(directory.iterdir())
            if _file_name(path.name) == name
        ]
    page = f"{index.url.rstrip('/')}/{name}/"
    content_type, body = _fetch(page)
    if "json" in content_type:
        data = json.loads(body)
        return [
            IndexFile(
                f["filename"],
                urllib.parse.urljoin(page, f["url"]),
                bool(f.get("core-metadata") or f.get("dist-info-metadata")),
            )
            for f in data.get("files", [])
        ]
    files = []
    for attrs, text in re.findall(r"<a\s([^>]*)>([^<]*)</a>", body.decode(errors="replace")):
        href = re.search(r'href="([^"]+)"', attrs)
        if href:
            url = urllib.parse.urljoin(page, href.group(1).split("#")[0])
            files.append(IndexFile(text.strip(), url, "metadata" in attrs))
    return files


def _file_name(filename: str) -> NormalizedName | None:
    return _file_version(filename)[0]


def _file_version(filename: str) -> tuple[NormalizedName | None, Version | None]:
    try:
        if filename.endswith(".whl"):
            name, version, _, _ = parse_wheel_filename(filename)
            return name, version
        if filename.endswith((".tar.gz", ".zip")):
            return parse_sdist_filename(filename)
    except (InvalidWheelFilename, InvalidSdistFilename):
        pass
    return None, None


def _on_macos(filename: str) -> bool:
    """Can this file be installed on macOS? (sdists: buildable anywhere.)"""
    if not filename.endswith(".whl"):
        return True
    tags = parse_wheel_filename(filename)[3]
    return any(t.platform == "any" or t.platform.startswith("macosx") for t in tags)


def _extras(file: IndexFile, local: bool) -> list[str]:
    if not file.filename.endswith(".whl") or not file.has_metadata:
        return []
    if local:
        with zipfile.ZipFile(file.url) as archive:
            member = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
            raw = archive.read(member)
    else:
        raw = _fetch(file.url + ".metadata")[1]
    message = email.parser.BytesParser().parsebytes(raw, headersonly=True)
    return [str(extra) for extra in message.get_all("Provides-Extra") or []]


def _with(requirement: Requirement, *, name: str, extra: str = "", spec: str = "") -> str:
    extras = sorted({*requirement.extras, *([extra] if extra else [])})
    text = name + (f"[{','.join(extras)}]" if extras else "") + (spec or str(requirement.specifier))
    return text + (f" ; {requirement.marker}" if requirement.marker else "")


def discover(
    requirement: Requirement,
    indexes: list[Index],
    rules: dict[NormalizedName, dict[str, str]],
    warn: Callable[[str], None],
) -> Variants:
    """Find the variants `requirement` can be installed as, from rules then the indexes."""
    name = canonicalize_name(requirement.name)
    default = str(requirement)
    if requirement.url:
        # A direct reference (`pkg @ https://...`) is one file: it has no variants.
        return Variants(name, "none", default)
    rule = rules.get(name)
    if rule is not None:
        variants = tuple(
            Variant(target, _with(requirement, name=dist), dist)
            for key, dist in rule.items()
            if (target := parse_tag(key)) is not None
        )
        return Variants(name, "distribution", default, variants)
    offered: list[tuple[Version, IndexFile, Index]] = []
    for index in indexes:
        try:
            files = list_files(index, name)
        except OSError as exc:
            warn(f"index {index.url} unreachable for {name}: {exc}")
            continue
        for file in files:
            version = _file_version(file.filename)[1]
            if version is not None and requirement.specifier.contains(version):
                offered.append((version, file, index))
    if not offered:
        return Variants(name, "none", default)
    best = max(Version(v.public) for v, _, _ in offered)
    release = [(v, f, i) for v, f, i in offered if Version(v.public) == best]
    local: dict[str, Variant] = {}
    macos_tags = {v.local for v, f, _ in release if _on_macos(f.filename)}
    for version, _, index in release:
        target = parse_tag(version.local or "")
        if target is not None and version.local not in local:
            spec = f"=={version}"
            local[version.local or ""] = Variant(
                target, _with(requirement, name=name, spec=spec), f"+{version.local}", index.name
            )
    if local:
        plain = next((i for v, _, i in release if v.local is None), None)
        plain_req = _with(requirement, name=name, spec=f"=={best}") if plain else default
        no_macos = frozenset(v.requirement for tag, v in local.items() if tag not in macos_tags)
        return Variants(
            name,
            "local-version",
            plain_req,
            tuple(local.values()),
            plain.name if plain else None,
            macos=plain_req if plain and None in macos_tags and no_macos else None,
            no_macos=no_macos,
        )
    version, file, index = next(entry for entry in release if entry[1].filename.endswith(".whl"))
    try:
        extras = _extras(file, index.local is not None)
    except (OSError, StopIteration, zipfile.BadZipFile) as exc:
        warn(f"could not read the metadata of {file.filename}: {exc!r}")
        extras = []
    variants = tuple(
        Variant(target, _with(requirement, name=name, extra=extra), f"[{extra}]")
        for extra in extras
        if (target := parse_tag(extra)) is not None
    )
    return Variants(name, "extra" if variants else "none", default, variants)
