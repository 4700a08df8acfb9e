"""Leftovers: what a process killed at the wrong moment leaves on disk, and its removal.

The nanny calls `remove_stale_control_dirs` once its worker is gone, and
`remove_dead_beam_dirs` when the BEAM hangs up.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import stat
import tempfile

__all__ = ["remove_dead_beam_dirs", "remove_stale_control_dirs"]

# The control socket's name in a worker's control directory (see `_control`).
_CONTROL_SOCKET = "control.sock"
# A BEAM's segment directory (see SnakeBridge.Shm), named after its OS pid.
_SHM_ROOT = "/dev/shm"
_BEAM_DIR = re.compile(r"snakebridge-beam-([0-9]+)(-[A-Za-z0-9_-]+)?")


def remove_stale_control_dirs() -> None:
    """Remove control-socket directories that no live socket is bound in any more.

    A worker's control directory (see `_control`) is removed by the worker once the
    BEAM has connected; one killed before that (its pool stopped while it started)
    leaves it. Only this uid's directories whose `control.sock` no process has bound
    (per /proc/net/unix) are removed, so a starting worker's is never touched: its
    socket is bound before the file exists.
    """
    root = tempfile.gettempdir()
    euid = os.geteuid()
    candidates: list[str] = []
    with contextlib.suppress(OSError), os.scandir(root) as entries:
        for entry in entries:
            if not entry.name.startswith("snakebridge-"):
                continue
            sock = os.path.join(entry.path, _CONTROL_SOCKET)
            try:
                dir_st = entry.stat(follow_symlinks=False)
                sock_st = os.lstat(sock)
            except OSError:
                continue
            if (
                stat.S_ISDIR(dir_st.st_mode)
                and stat.S_ISSOCK(sock_st.st_mode)
                and dir_st.st_uid == euid
                and sock_st.st_uid == euid
            ):
                candidates.append(sock)
    if not candidates:
        return
    bound = _bound_unix_paths()
    if bound is None:  # cannot tell which are still in use: remove nothing
        return
    for sock in candidates:
        if sock not in bound:
            with contextlib.suppress(OSError):
                os.unlink(sock)
                os.rmdir(os.path.dirname(sock))


def _bound_unix_paths() -> set[str] | None:
    """The paths of the unix sockets bound in this network namespace; None if unknown."""
    try:
        with open("/proc/net/unix", "rb") as table:
            lines = table.read().decode(errors="replace").splitlines()[1:]
    except OSError:
        return None
    # Columns: Num RefCount Protocol Flags Type St Inode [Path]
    return {fields[7] for line in lines if len(fields := line.split(None, 7)) == 8}


def remove_dead_beam_dirs() -> None:
    """Remove the segment directories of BEAMs that are gone (killed with `kill -9`).

    Called when the BEAM hangs up: if it died rather than closing the port, the
    segments it wrote for requests nobody read are removed now, not when a SnakeBridge
    VM next starts. Only this uid's private directories of dead processes are touched.
    """
    euid = os.geteuid()
    with contextlib.suppress(OSError), os.scandir(_SHM_ROOT) as entries:
        for entry in entries:
            match = _BEAM_DIR.fullmatch(entry.name)
            if match is None or _alive(int(match[1])):
                continue
            with contextlib.suppress(OSError):
                st = entry.stat(follow_symlinks=False)
                if stat.S_ISDIR(st.st_mode) and st.st_uid == euid and not st.st_mode & 0o077:
                    shutil.rmtree(entry.path, ignore_errors=True)


def _alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie, dead but not yet reaped, does not)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat_file:
            state = stat_file.read().rpartition(b")")[2].split()[0]
    except (OSError, IndexError):
        return False
    return state not in (b"Z", b"X")
