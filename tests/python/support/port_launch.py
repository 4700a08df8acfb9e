"""Exec a command with two inherited fds moved to 3 and 4, the way the Erlang port
hands the nanny its request and reply pipes.

usage: port_launch.py IN_FD OUT_FD COMMAND [ARGS...]
"""

from __future__ import annotations

import fcntl
import os
import sys

from snakebridge._wire import REPLY_FD, REQUEST_FD

PORT_FDS = (REQUEST_FD, REPLY_FD)
# Out of the way of 3 and 4 while they are being set up.
SCRATCH_FD_MIN = 10


def main() -> None:
    sources = (int(sys.argv[1]), int(sys.argv[2]))
    # Copy both sources clear of 3 and 4 first: moving one into place could otherwise
    # clobber the other (say IN_FD is 4).
    copies = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, SCRATCH_FD_MIN) for fd in sources]
    for fd in sources:
        if fd not in PORT_FDS:
            os.close(fd)
    for copy, target in zip(copies, PORT_FDS, strict=True):
        os.dup2(copy, target)  # the new fd is inheritable, the copy closes on exec
    os.execv(sys.argv[3], sys.argv[3:])


if __name__ == "__main__":
    main()
