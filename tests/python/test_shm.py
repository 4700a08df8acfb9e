"""Segments: the worker reads, and deletes, only files of ours in the BEAM's directory."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from snakebridge._channel import FrameTooLarge
from snakebridge._etf import DecodeError, Encoder
from snakebridge._shm import (
    SEGMENT_DIR_ENV,
    SegmentWriter,
    make_private_directory,
    read_segment,
)

_NO_BLOBS = memoryview(b"")
# A uid nobody here runs as, for files that must not be trusted.
_OTHER_UID = 65534


@pytest.fixture
def beam_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    made = make_private_directory("snakebridge-beam-test-")
    assert made is not None
    path = Path(made)
    yield path
    for child in path.iterdir():
        child.unlink()
    path.rmdir()


def segment(directory: Path, data: bytes, mode: int = 0o600) -> Path:
    path = directory / "17"
    path.write_bytes(data)
    path.chmod(mode)
    return path


def test_a_private_directory_is_fresh_and_0700(beam_dir: Path) -> None:
    st = beam_dir.lstat()
    assert stat.S_ISDIR(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o700
    assert st.st_uid == os.geteuid()


def test_reads_and_deletes_a_segment_the_beam_wrote(beam_dir: Path) -> None:
    path = segment(beam_dir, b"payload")
    assert read_segment({"path": str(path), "size": 7}, _NO_BLOBS) == "payload"
    assert not path.exists()


@pytest.mark.parametrize(
    "name",
    ["/dev/shm/../../{victim}", "{victim}", "{beam}/../../{victim}", "{beam}/..", "{beam}/"],
)
def test_refuses_any_other_path_and_leaves_the_file(
    beam_dir: Path, tmp_path: Path, name: str
) -> None:
    victim = tmp_path / "victim"
    victim.write_bytes(b"secret")
    with pytest.raises(DecodeError, match="malformed"):
        read_segment({"path": name.format(victim=victim, beam=beam_dir), "size": 6}, _NO_BLOBS)
    assert victim.read_bytes() == b"secret"


def test_refuses_a_directory_that_is_not_a_beams(beam_dir: Path) -> None:
    other = make_private_directory("snakebridge-worker-other-")
    assert other is not None
    path = segment(Path(other), b"theirs")
    try:
        with pytest.raises(DecodeError, match="malformed"):
            read_segment({"path": str(path), "size": 6}, _NO_BLOBS)
        assert path.read_bytes() == b"theirs"
    finally:
        path.unlink()
        os.rmdir(other)


def test_refuses_a_symlink_in_the_segment_directory(beam_dir: Path, tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_bytes(b"secret")
    (beam_dir / "18").symlink_to(victim)
    with pytest.raises(DecodeError, match="is gone"):
        read_segment({"path": str(beam_dir / "18"), "size": 6}, _NO_BLOBS)
    assert victim.read_bytes() == b"secret"


def test_refuses_a_file_others_may_read(beam_dir: Path) -> None:
    path = segment(beam_dir, b"public", mode=0o644)
    with pytest.raises(DecodeError, match="other users"):
        read_segment({"path": str(path), "size": 6}, _NO_BLOBS)
    assert path.exists()


def test_refuses_a_directory_others_may_enter(beam_dir: Path) -> None:
    path = segment(beam_dir, b"inside")
    beam_dir.chmod(0o755)
    with pytest.raises(DecodeError, match="other users"):
        read_segment({"path": str(path), "size": 6}, _NO_BLOBS)
    assert path.exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another uid needs root")
def test_refuses_a_file_of_another_user(beam_dir: Path) -> None:
    path = segment(beam_dir, b"theirs")
    os.chown(path, _OTHER_UID, -1)
    with pytest.raises(DecodeError, match=f"belongs to uid {_OTHER_UID}"):
        read_segment({"path": str(path), "size": 6}, _NO_BLOBS)
    assert path.exists()


@pytest.fixture
def writer_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    made = make_private_directory("snakebridge-worker-test-")
    assert made is not None
    monkeypatch.setenv(SEGMENT_DIR_ENV, made)
    yield Path(made)
    for child in Path(made).iterdir():
        child.unlink()
    os.rmdir(made)


def test_written_segments_are_0600_files_with_unpredictable_names(writer_dir: Path) -> None:
    writer = SegmentWriter(shm_threshold=4)
    enc = Encoder(fallback=None)
    writer.spill(enc, memoryview(b"12345"))
    writer.spill(enc, memoryview(b"67890"))
    files = sorted(writer_dir.iterdir())
    assert len(files) == 2
    for path in files:
        st = path.lstat()
        assert stat.S_ISREG(st.st_mode)
        assert stat.S_IMODE(st.st_mode) == 0o600
        assert len(path.name) >= 16


def test_files_count_against_max_frame_and_a_refused_encode_leaves_none(
    writer_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SNAKEBRIDGE_MAX_FRAME", "8")
    writer = SegmentWriter(shm_threshold=4)
    enc = Encoder(fallback=None)
    writer.spill(enc, memoryview(b"12345"))
    with pytest.raises(FrameTooLarge):
        writer.spill(enc, memoryview(b"67890"))
    writer.reset()
    assert list(writer_dir.iterdir()) == []
