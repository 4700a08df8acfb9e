"""Segments: the worker reads, and deletes, only files the BEAM wrote for a request."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from snakebridge._etf import DecodeError
from snakebridge._request import NO_BLOBS
from snakebridge._shm import ROOT, read_segment


@pytest.fixture
def beam_dir() -> Iterator[Path]:
    path = Path(ROOT) / f"snakebridge-beam-{os.getpid()}"
    path.mkdir(exist_ok=True)
    yield path
    for child in path.iterdir():
        child.unlink()
    path.rmdir()


def test_reads_and_deletes_a_segment_the_beam_wrote(beam_dir: Path) -> None:
    segment = beam_dir / "17"
    segment.write_bytes(b"payload")
    assert read_segment({"path": str(segment), "size": 7}, NO_BLOBS) == "payload"
    assert not segment.exists()


@pytest.mark.parametrize(
    "name",
    ["/dev/shm/../../{victim}", "{victim}", "/dev/shm/snakebridge-beam-1/../../../{victim}"],
)
def test_refuses_any_other_path_and_leaves_the_file(tmp_path: Path, name: str) -> None:
    victim = tmp_path / "victim"
    victim.write_bytes(b"secret")
    with pytest.raises(DecodeError, match="malformed"):
        read_segment({"path": name.format(victim=victim), "size": 6}, NO_BLOBS)
    assert victim.read_bytes() == b"secret"


def test_refuses_a_symlink_in_the_segment_directory(beam_dir: Path, tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_bytes(b"secret")
    (beam_dir / "18").symlink_to(victim)
    with pytest.raises(DecodeError, match="is gone"):
        read_segment({"path": str(beam_dir / "18"), "size": 6}, NO_BLOBS)
    assert victim.read_bytes() == b"secret"
