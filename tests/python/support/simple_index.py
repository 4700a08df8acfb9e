"""PEP 503 (HTML) and PEP 691 (JSON) simple indexes served over HTTP on localhost.

`serve({"cpu": dir_a, "cu126": dir_b})` serves each directory of wheels as the index
`http://127.0.0.1:PORT/<key>/`, the way download.pytorch.org serves one index per CUDA
line. Index keys ending in `json` answer in PEP 691 JSON, the others in HTML.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from packaging.utils import canonicalize_name, parse_wheel_filename


def _handler(indexes: dict[str, Path]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def _send(self, body: bytes, content_type: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def do_HEAD(self) -> None:
            self.do_GET()

        def do_GET(self) -> None:
            parts = [p for p in self.path.split("/") if p]
            if not parts or parts[0] not in indexes:
                self.send_error(404)
                return
            directory = indexes[parts[0]]
            if len(parts) == 1:
                self._send(b"<html></html>", "text/html")
            elif len(parts) == 3 and parts[1] == "files" and (directory / parts[2]).is_file():
                self._send((directory / parts[2]).read_bytes(), "application/octet-stream")
            elif len(parts) == 2:
                name = canonicalize_name(parts[1])
                wheels = [
                    w.name
                    for w in sorted(directory.glob("*.whl"))
                    if parse_wheel_filename(w.name)[0] == name
                ]
                if not wheels:
                    self.send_error(404)
                elif parts[0].endswith("json"):
                    files = [{"filename": w, "url": f"../files/{w}", "hashes": {}} for w in wheels]
                    body = {"meta": {"api-version": "1.0"}, "name": name, "files": files}
                    self._send(json.dumps(body).encode(), "application/vnd.pypi.simple.v1+json")
                else:
                    links = "".join(f'<a href="../files/{w}">{w}</a>\n' for w in wheels)
                    self._send(f"<html><body>{links}</body></html>".encode(), "text/html")
            else:
                self.send_error(404)

    return Handler


@contextmanager
def serve(indexes: dict[str, Path]) -> Iterator[str]:
    """Serve `indexes` until the block ends; yields the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(indexes))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
