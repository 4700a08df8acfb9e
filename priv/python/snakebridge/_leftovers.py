"""Leftovers: what a worker killed at the wrong moment leaves on disk, and its removal.

The nanny calls `remove_stale_control_dirs` once its worker is gone.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile

__all__ = ["remove_stale_control_dirs"]

# The control socket's name in a worker's control directory (see `_control`).
_CONTROL_SOCKET = "control.sock"


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
