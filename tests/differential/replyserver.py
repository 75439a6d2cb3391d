"""A loopback HTTP server that answers each action from a script (standard library only).

Both clients reach it: ours in the test process, the official SDK 0.13.1 in its own
interpreter (which imports this file by path), so it must not import anything outside the
standard library.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

# Served when a case needs a session but scripts no CreateMcpSession: the session it works on.
SESSION_REPLY: dict[str, Any] = {
    "status": 200,
    "body": {
        "RequestId": "REQ-SETUP",
        "Success": True,
        "Code": "ok",
        "Message": "",
        "HttpStatusCode": 200,
        "Data": {
            "SessionId": "s-1",
            "ResourceUrl": "https://res.example/?resourceId=p-1",
            "AppInstanceId": "ai-1",
            "ResourceId": "p-1",
            "Success": True,
        },
    },
}


class Script:
    """Replies per action, served in order; the last one repeats. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.load({})

    def load(self, replies: dict[str, list[dict[str, Any]]]) -> None:
        """Start a new case: `replies` maps an action to its replies, in order."""
        with self._lock:
            self._replies = {action: list(items) for action, items in replies.items()}
            self._served: dict[str, int] = defaultdict(int)
            self.requests: list[tuple[str, dict[str, str]]] = []

    def next(self, action: str, params: dict[str, str]) -> dict[str, Any]:
        """The reply to this request, which is recorded (without the key)."""
        with self._lock:
            seen = {k: v for k, v in params.items() if k != "Authorization"}
            self.requests.append((action, seen))
            items = self._replies.get(action)
            if not items:
                if action == "CreateMcpSession":
                    return SESSION_REPLY
                body = {"RequestId": "REQ-UNSCRIPTED", "Code": "Unscripted", "Message": action}
                return {"status": 599, "body": body}
            index = min(self._served[action], len(items) - 1)
            self._served[action] += 1
            return items[index]


def _handler(script: Script) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = self.rfile.read(length).decode()
            params = dict(parse_qsl(urlsplit(self.path).query))
            params.update(parse_qsl(form, keep_blank_values=True))
            reply = script.next(params.get("Action", ""), params)
            if "raw" in reply:
                content = reply["raw"].encode()
            else:
                content = json.dumps(reply["body"]).encode()
            self.send_response(reply.get("status", 200))
            for name, value in reply.get("headers", {}).items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json;charset=utf-8")
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

    return Handler


class ReplyServer:
    """`with ReplyServer() as server:` serves `server.script` at `server.url` on 127.0.0.1."""

    def __init__(self) -> None:
        self.script = Script()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.script))
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self) -> ReplyServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()
