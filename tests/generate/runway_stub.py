"""A local stand-in for Runway's API, so the runway backend is tested through the real SDK.

It answers the routes the ``runwayml`` SDK (5.x) calls, with the shapes its types
expect (read from the SDK's source):

    POST   /v1/uploads          {"filename", "type": "ephemeral"} -> {"uploadUrl", "fields", "runwayUri"}
    POST   /bucket              the upload's second leg: a presigned S3-style multipart POST,
                                no Authorization header, 204; under 512 bytes -> 400 EntityTooSmall
    POST   /v1/text_to_image    \
    POST   /v1/image_to_video    > camelCase JSON body -> {"id": ...}
    POST   /v1/text_to_video    /
    GET    /v1/tasks/{id}       walks ``script``: PENDING -> RUNNING (progress) -> SUCCEEDED with
                                ``output: [URL on this server, with a signature in the query]``
    DELETE /v1/tasks/{id}       204; the task reads CANCELLED from then on
    GET    /v1/organization     the key's credits (what ``--check`` asks: free, 401 for a bad key)
    GET    /outputs/{name}      the output: a real PNG, or a real MP4 written with PyAV

Every ``/v1`` route checks ``Authorization: Bearer <secret>`` (401 otherwise) and
``X-Runway-Version`` (400 otherwise); errors are ``{"error": "..."}`` as Runway's are.

Behaviour switches: ``script`` (the states a task walks; ``fails(...)``, ``NEVER_FINISHES``,
``CANCELLED``), ``answer_next(route, status, ...)`` (queue forced answers: 429 then OK, 500,
garbage JSON...), ``output_bytes`` (what ``/outputs`` serves, e.g. nothing). ``calls``
records every request with its headers and body. ``stop()`` and ``restart()`` take the
service down (connections refused) and bring it back on the same port.
"""

from __future__ import annotations

import contextlib
import email.parser
import email.policy
import functools
import json
import socket
import tempfile
import threading
import uuid
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from mediafactory import write_mp4, write_png

__all__ = [
    "API_VERSION",
    "CANCELLED",
    "NEVER_FINISHES",
    "SUCCEEDS",
    "Call",
    "RunwayStub",
    "fails",
]

API_VERSION = "2024-11-06"
SUCCEEDS: list[dict[str, Any]] = [
    {"status": "PENDING"},
    {"status": "THROTTLED"},
    {"status": "RUNNING", "progress": 0.25},
    {"status": "RUNNING", "progress": 0.75},
    {"status": "SUCCEEDED"},
]
NEVER_FINISHES: list[dict[str, Any]] = [
    {"status": "PENDING"},
    {"status": "RUNNING", "progress": 0.1},
]
CANCELLED: list[dict[str, Any]] = [{"status": "PENDING"}, {"status": "CANCELLED"}]
_VIDEO_ROUTES = {"/v1/image_to_video", "/v1/text_to_video"}
_CREATE_ROUTES = {"/v1/text_to_image", *_VIDEO_ROUTES}


def fails(code: str | None, failure: str = "The generation failed.") -> list[dict[str, Any]]:
    """A script whose task fails with ``failureCode`` ``code``."""
    last: dict[str, Any] = {"status": "FAILED", "failure": failure}
    if code is not None:
        last["failureCode"] = code
    return [{"status": "PENDING"}, {"status": "RUNNING", "progress": 0.5}, last]


@functools.cache
def _media() -> tuple[bytes, bytes]:
    """A real PNG and a real MP4, written once per test session."""
    with tempfile.TemporaryDirectory() as folder:
        png = write_png(Path(folder) / "out.png", w=96, h=54, seed=7).read_bytes()
        mp4 = write_mp4(Path(folder) / "out.mp4", frames=12, w=64, h=36, seed=7).read_bytes()
    return png, mp4


@dataclass
class Call:
    method: str
    path: str  # without the query
    headers: dict[str, str]  # names in lower case
    body: Any  # decoded JSON; for the upload, {"fields": {...}, "file": bytes}


@dataclass
class _Answer:
    status: int
    body: bytes
    content_type: str


@dataclass
class _Task:
    id: str
    route: str
    body: dict[str, Any]
    polls: int = 0
    deleted: bool = False
    script: list[dict[str, Any]] = field(default_factory=list)


class RunwayStub:
    """A Runway API on 127.0.0.1 and a free port, in a thread; use as a context manager."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.script: list[dict[str, Any]] = list(SUCCEEDS)
        self.output_bytes: bytes | None = None  # None: the real PNG or MP4
        self.calls: list[Call] = []
        self.tasks: dict[str, _Task] = {}
        self.uploads: dict[str, bytes] = {}  # runwayUri -> the bytes that arrived
        self._pending_uploads: dict[str, str] = {}  # form key -> runwayUri
        self._forced: dict[str, deque[_Answer]] = {}
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _handler(self))
        self._held: socket.socket | None = None  # the port, while down
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def __enter__(self) -> RunwayStub:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        if self._held is not None:
            self._held.close()

    def stop(self) -> None:
        """Goes down like a service in an outage: the connections open (kept alive) are cut
        and later ones refused."""
        if self._held is None:
            if self._thread.is_alive():
                self._server.shutdown()
            self._held = self._server.close_and_hold()
        self._server.cut()
        self._thread.join(5)

    def restart(self) -> None:
        """Comes back on the same port, with the tasks it had (a hosted service's restart)."""
        port = self._server.server_port
        self._server = _Server(("127.0.0.1", port), _handler(self), held=self._held)
        self._held = None
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    # Switches and what tests read ----------------------------------------------------

    def answer_next(
        self,
        route: str,
        status: int,
        body: Any = None,
        *,
        raw: bytes | None = None,
        content_type: str = "application/json",
        times: int = 1,
    ) -> None:
        """Answers the next ``times`` requests to ``route`` ("POST /v1/text_to_image",
        "GET /v1/tasks", "GET /outputs"...) with ``status`` and ``body`` (JSON) or ``raw``."""
        payload = raw if raw is not None else json.dumps(body if body is not None else {}).encode()
        with self._lock:
            queue = self._forced.setdefault(route, deque())
            queue.extend(_Answer(status, payload, content_type) for _ in range(times))

    def calls_to(self, method: str, prefix: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and c.path.startswith(prefix)]

    @property
    def created(self) -> list[Call]:
        """The create requests that got a task."""
        return [c for c in self.calls if c.method == "POST" and c.path in _CREATE_ROUTES]

    @property
    def deleted(self) -> list[str]:
        return [t.id for t in self.tasks.values() if t.deleted]

    # Answers -------------------------------------------------------------------------

    def _forced_answer(self, method: str, path: str) -> _Answer | None:
        with self._lock:
            for route, queue in self._forced.items():
                route_method, _, prefix = route.partition(" ")
                if route_method == method and path.startswith(prefix) and queue:
                    return queue.popleft()
        return None

    def handle(
        self, method: str, path: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, Any, str]:
        body: Any = None
        if path == "/bucket":
            body = _multipart(headers.get("content-type", ""), raw)
        elif raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw
        with self._lock:
            self.calls.append(Call(method, path, headers, body))
        forced = self._forced_answer(method, path)
        if forced is not None:
            return forced.status, forced.body, forced.content_type
        if path.startswith("/v1/"):
            if headers.get("authorization") != f"Bearer {self.secret}":
                return 401, {"error": "Invalid API key."}, "application/json"
            if headers.get("x-runway-version") != API_VERSION:
                return 400, {"error": f"X-Runway-Version must be {API_VERSION}"}, "application/json"
        if method == "GET" and path == "/v1/organization":
            usage = {"models": {}}
            answer = {
                "creditBalance": 1000,
                "tier": {"maxMonthlyCreditSpend": 0, "models": {}},
                "usage": usage,
            }
            return 200, answer, "application/json"
        if method == "POST" and path == "/v1/uploads":
            return self._start_upload(body)
        if method == "POST" and path == "/bucket":
            return self._finish_upload(body)
        if method == "POST" and path in _CREATE_ROUTES:
            return self._create(path, body)
        if path.startswith("/v1/tasks/"):
            return self._task(method, path.removeprefix("/v1/tasks/"))
        if method == "GET" and path.startswith("/outputs/"):
            png, mp4 = _media()
            video = path.endswith(".mp4")
            data = self.output_bytes if self.output_bytes is not None else (mp4 if video else png)
            return 200, data, "video/mp4" if video else "image/png"
        return 404, {"error": f"no route {method} {path}"}, "application/json"

    def _start_upload(self, body: Any) -> tuple[int, Any, str]:
        if (
            not isinstance(body, dict)
            or body.get("type") != "ephemeral"
            or not body.get("filename")
        ):
            return 400, {"error": "filename and type 'ephemeral' are required"}, "application/json"
        upload = uuid.uuid4().hex
        key = f"ephemeral/{upload}/{body['filename']}"
        uri = f"runway://ephemeral/{upload}"
        with self._lock:
            self._pending_uploads[key] = uri
        fields = {"key": key, "policy": "eyJleHBpcmF0aW9uIjoi", "x-amz-signature": "0f" * 32}
        answer = {"uploadUrl": f"{self.url}/bucket", "fields": fields, "runwayUri": uri}
        return 200, answer, "application/json"

    def _finish_upload(self, form: dict[str, Any]) -> tuple[int, Any, str]:
        xml = "application/xml"
        uri = self._pending_uploads.get(form["fields"].get("key", ""))
        if uri is None or "x-amz-signature" not in form["fields"]:
            return 403, b"<Error><Code>AccessDenied</Code></Error>", xml
        if form["file"] is None or len(form["file"]) < 512:
            return 400, b"<Error><Code>EntityTooSmall</Code></Error>", xml
        with self._lock:
            self.uploads[uri] = form["file"]
        return 204, b"", xml

    def _create(self, path: str, body: Any) -> tuple[int, Any, str]:
        if not isinstance(body, dict):
            return 400, {"error": "Request body must be a JSON object"}, "application/json"
        required = {"model", "ratio"} | ({"promptImage"} if path == "/v1/image_to_video" else set())
        if path != "/v1/image_to_video":
            required.add("promptText")
        if path in _VIDEO_ROUTES:
            required.add("duration")
        missing = sorted(required - set(body))
        if missing:
            return 400, {"error": f"Missing fields: {', '.join(missing)}"}, "application/json"
        uris = [r.get("uri") for r in body.get("referenceImages", [])]
        if "promptImage" in body:
            uris.append(body["promptImage"])
        for uri in uris:
            if uri not in self.uploads:
                return 400, {"error": f"Invalid asset URI: {uri}"}, "application/json"
        task = _Task(uuid.uuid4().hex, path, body, script=list(self.script))
        with self._lock:
            self.tasks[task.id] = task
        return 200, {"id": task.id}, "application/json"

    def _task(self, method: str, task_id: str) -> tuple[int, Any, str]:
        task = self.tasks.get(task_id)
        if task is None:
            return 404, {"error": "Task not found"}, "application/json"
        if method == "DELETE":
            task.deleted = True
            return 204, b"", "application/json"
        step = (
            {"status": "CANCELLED"}
            if task.deleted
            else task.script[min(task.polls, len(task.script) - 1)]
        )
        task.polls += 1
        answer: dict[str, Any] = {"id": task.id, "createdAt": "2025-01-01T00:00:00.000Z", **step}
        if step["status"] in ("PENDING", "THROTTLED", "RUNNING"):
            answer["estimatedCost"] = {"credits": 5.0}
        else:
            answer["cost"] = {"credits": 0 if step["status"] != "SUCCEEDED" else 5}
        if step["status"] == "SUCCEEDED":
            suffix = ".mp4" if task.route in _VIDEO_ROUTES else ".png"
            signature = f"X-Amz-Expires=86400&X-Amz-Signature={uuid.uuid4().hex}"
            answer["output"] = [f"{self.url}/outputs/{task.id}-{task.polls}{suffix}?{signature}"]
        return 200, answer, "application/json"


class _Server(ThreadingHTTPServer):
    """Keeps the connections it serves, so that going down cuts the kept-alive ones too."""

    daemon_threads = True

    def __init__(
        self, address: tuple[str, int], handler: Any, *, held: socket.socket | None = None
    ) -> None:
        """``held``: the port's holder from ``close_and_hold``, let go only once this server
        has the port bound, so nothing else can take it in between."""
        self.open: set[socket.socket] = set()
        self.lock = threading.Lock()
        super().__init__(address, handler, bind_and_activate=False)
        try:
            self.server_bind()  # SO_REUSEADDR: binds beside a holder that does not listen
            if held is not None:
                held.close()
            self.server_activate()
        except BaseException:
            self.server_close()
            raise

    def close_and_hold(self) -> socket.socket:
        """Closes the server but keeps its port bound without listening: connections are
        refused, as by a service that is down, and no other test's server or connection can
        take the port before the restart (that was an ``Address already in use`` in CI)."""
        port = self.server_port
        self.server_close()
        holder = socket.socket()
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        holder.bind(("127.0.0.1", port))
        return holder

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.lock:
            self.open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.lock:
            self.open.discard(request)
        super().shutdown_request(request)

    def cut(self) -> None:
        with self.lock:
            cut, self.open = list(self.open), set()
        for connection in cut:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


def _multipart(content_type: str, raw: bytes) -> dict[str, Any]:
    """The fields and file of a multipart/form-data body (what a presigned S3 POST gets)."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + raw
    )
    fields: dict[str, str] = {}
    file: bytes | None = None
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue
        if part.get_filename() is not None:
            file = payload
        elif isinstance(name, str):
            fields[name] = payload.decode()
    return {"fields": fields, "file": file}


def _handler(stub: RunwayStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # else each answer waits ~40 ms on a delayed ACK

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            path = self.path.split("?", 1)[0]
            status, body, content_type = stub.handle(self.command, path, headers, raw)
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            if status != 204:
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if status != 204:
                self.wfile.write(data)

        do_GET = do_POST = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: pytest shows failures, not access logs

    return Handler
