"""Control: the side channel heard while the main thread is busy.

A unix stream socket in a private directory; the Elixir worker connects once, right
after the hello, and the socket's name is then unlinked so nothing else can connect.
It carries cancellations and the results of callbacks made from threads other than
main. Its closing means the BEAM is gone, and the worker exits.
"""

from __future__ import annotations

import os
import socket
import sys
import tempfile
import threading
from typing import TYPE_CHECKING

from snakebridge._channel import ChannelClosed, FrameReader

if TYPE_CHECKING:
    from snakebridge._worker import Engine

__all__ = ["ControlServer"]


class ControlServer:
    """Listens for the Elixir worker's control connection and serves it on a thread."""

    def __init__(self, engine: Engine, *, max_frame: int) -> None:
        self._engine = engine
        self._max_frame = max_frame
        self._dir = tempfile.mkdtemp(prefix="snakebridge-")
        self.path = os.path.join(self._dir, "control.sock")
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(self.path)
        self._listener.listen(1)

    def start(self) -> None:
        threading.Thread(target=self._serve, name="snakebridge-control", daemon=True).start()

    def _serve(self) -> None:
        connection, _ = self._listener.accept()
        self._listener.close()
        os.unlink(self.path)
        os.rmdir(self._dir)
        reader = FrameReader(connection.fileno(), max_frame=self._max_frame)
        while True:
            try:
                frame = reader.read_frame()
            except ChannelClosed:
                sys.stderr.flush()
                os._exit(0)
            try:
                self._engine.control(frame)
            except Exception as exc:
                print(f"snakebridge: bad control frame: {exc!r}", file=sys.stderr)
