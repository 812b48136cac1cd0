"""A local stand-in for Replicate's HTTP API, so the replicate backend is tested through the
real ``replicate`` SDK (1.0.7), which reaches it by its own ``base_url``.

The routes the SDK calls, with the shapes it parses (replicate/prediction.py, file.py,
account.py, exceptions.py; docs/aggregator-replicate.md):

    GET    /v1/account                         {"type", "username", "name", "github_url"}
    POST   /v1/files                           multipart, the file in field ``content`` -> 201
                                               {"id", "urls": {"get": .../v1/files/ID}, ...}
    POST   /v1/models/{owner}/{name}/predictions   {"input": {...}} -> 201, a prediction in
                                               ``starting``; a model it does not host -> 404
    POST   /v1/predictions                     {"version": ID, "input"} -> 201; an unknown
                                               version -> 422 "Invalid version or not permitted"
    GET    /v1/predictions/{id}                walks ``script``: starting -> processing (logs
                                               with a tqdm progress line) -> succeeded, with
                                               ``output`` (URLs on /delivery) and ``metrics``
    POST   /v1/predictions/{id}/cancel         200, the prediction now ``canceled``
    GET    /delivery/{name}                    the output, without authentication (another host
                                               at Replicate: replicate.delivery): a real PNG or MP4

Every ``/v1`` route checks ``Authorization: Bearer <token>`` (401 otherwise). Errors are
problem details (``application/problem+json``: title, detail, status), as Replicate's are.
An input naming a file URL this server did not hand out is refused with 422, as is a missing
required input (each hosted model declares its ``required`` inputs).

Switches: ``script`` (the states a prediction walks; ``failed(...)``, ``NEVER_FINISHES``),
``metrics`` (what a succeeded prediction reports; None: no ``metrics``), ``single_output``
(one URL, as FLUX 1.1 Pro answers, or a list), ``answer_next(route, status, ...)``,
``output_bytes``. ``calls`` records every request; ``stop()``/``restart()`` take it down and
bring it back on the same port.
"""

from __future__ import annotations

import json
import socket
import threading
import uuid
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from generate.runway_stub import Call, _media, _multipart, _Server

__all__ = ["NEVER_FINISHES", "SUCCEEDS", "ReplicateStub", "failed"]

SUCCEEDS: list[dict[str, Any]] = [
    {"status": "starting"},
    {"status": "processing", "logs": "Loading weights\n 25%|██▌       | 7/28 [00:01<00:03]\n"},
    {"status": "processing", "logs": " 75%|███████▌  | 21/28 [00:03<00:01]\n"},
    {"status": "succeeded"},
]
NEVER_FINISHES: list[dict[str, Any]] = [{"status": "starting"}, {"status": "processing"}]
PROBLEM = "application/problem+json"


def failed(error: str = "The model raised an error.") -> list[dict[str, Any]]:
    return [{"status": "starting"}, {"status": "processing"}, {"status": "failed", "error": error}]


@dataclass
class HostedModel:
    """A model the stub hosts: its kind (what it outputs) and required inputs."""

    video: bool
    required: tuple[str, ...] = ("prompt",)
    version: str = field(default_factory=lambda: uuid.uuid4().hex * 2)


@dataclass
class _Prediction:
    id: str
    model: str
    version: str
    input: dict[str, Any]
    video: bool
    polls: int = 0
    canceled: bool = False
    script: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _Answer:
    status: int
    body: bytes
    content_type: str


class ReplicateStub:
    """Replicate's API on 127.0.0.1 and a free port, in a thread; use as a context manager."""

    def __init__(self, token: str, models: dict[str, HostedModel] | None = None) -> None:
        self.token = token
        self.models = models if models is not None else {}
        self.script: list[dict[str, Any]] = list(SUCCEEDS)
        self.metrics: dict[str, Any] | None = {"predict_time": 4.25, "total_time": 4.5}
        self.single_output = True
        self.output_bytes: bytes | None = None
        self.calls: list[Call] = []
        self.files: dict[str, bytes] = {}  # file URL -> the bytes that arrived
        self.predictions: dict[str, _Prediction] = {}
        self._forced: dict[str, deque[_Answer]] = {}
        self._lock = threading.Lock()
        self._held: socket.socket | None = None  # the port, while down
        self._server = self._serve(0)

    def _serve(self, port: int) -> _Server:
        server = _Server(("127.0.0.1", port), _handler(self), held=self._held)
        self._held = None
        server.daemon_threads = True
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        return server

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def __enter__(self) -> ReplicateStub:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        if self._held is not None:
            self._held.close()

    def stop(self) -> None:
        """Goes down as in an outage: open connections cut, later ones refused; the port is
        held for the restart."""
        if self._held is None:
            if self._thread.is_alive():
                self._server.shutdown()
            self._held = self._server.close_and_hold()
        self._server.cut()
        self._thread.join(5)

    def restart(self) -> None:
        self._server = self._serve(self._server.server_port)
        self._thread.start()

    def answer_next(self, route: str, status: int, body: Any = None, *, times: int = 1) -> None:
        """Answers the next ``times`` requests to ``route`` ("POST /v1/models", "GET
        /v1/predictions"...) with ``status`` and the JSON ``body``."""
        payload = json.dumps(body if body is not None else {}).encode()
        with self._lock:
            queue = self._forced.setdefault(route, deque())
            queue.extend(_Answer(status, payload, PROBLEM) for _ in range(times))

    def calls_to(self, method: str, prefix: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and c.path.startswith(prefix)]

    @property
    def created(self) -> list[_Prediction]:
        return list(self.predictions.values())

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
        if path == "/v1/files" and method == "POST":
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
        if method == "GET" and path.startswith("/delivery/"):
            png, mp4 = _media()
            video = path.endswith(".mp4")
            data = self.output_bytes if self.output_bytes is not None else (mp4 if video else png)
            return 200, data, "video/mp4" if video else "image/png"
        if not path.startswith("/v1/"):
            return (
                404,
                _problem(404, "Not found", "The requested resource could not be found."),
                PROBLEM,
            )
        if headers.get("authorization") != f"Bearer {self.token}":
            detail = "You did not pass a valid authentication token"
            return 401, _problem(401, "Unauthenticated", detail), PROBLEM
        if method == "GET" and path == "/v1/account":
            answer = {"type": "user", "username": "ana", "name": "Ana", "github_url": None}
            return 200, answer, "application/json"
        if method == "POST" and path == "/v1/files":
            return self._upload(body)
        if method == "POST" and path.startswith("/v1/models/") and path.endswith("/predictions"):
            model = path.removeprefix("/v1/models/").removesuffix("/predictions")
            return self._create(self.models.get(model), model, body)
        if method == "POST" and path == "/v1/predictions":
            version = body.get("version") if isinstance(body, dict) else None
            found = next(
                ((n, m) for n, m in self.models.items() if m.version == version), (None, None)
            )
            if found[1] is None:
                title = "Invalid version or not permitted"
                detail = "The specified version does not exist (or perhaps you don't have permission to use it?)"
                return 422, _problem(422, title, detail), PROBLEM
            return self._create(found[1], str(found[0]), body)
        if path.startswith("/v1/predictions/"):
            return self._prediction(method, path.removeprefix("/v1/predictions/"))
        return (
            404,
            _problem(404, "Not found", "The requested resource could not be found."),
            PROBLEM,
        )

    def _upload(self, form: dict[str, Any]) -> tuple[int, Any, str]:
        if form.get("file") is None:
            return 400, _problem(400, "Bad request", "no file in field 'content'"), PROBLEM
        file_id = uuid.uuid4().hex
        url = f"{self.url}/v1/files/{file_id}"
        with self._lock:
            self.files[url] = form["file"]
        answer = {
            "id": file_id,
            "name": "upload",
            "content_type": "image/png",
            "size": len(form["file"]),
            "etag": file_id[:32],
            "checksums": {"sha256": "0" * 64},
            "metadata": {},
            "created_at": "2026-12-06T12:00:00.000Z",
            "expires_at": "2026-12-07T12:00:00.000Z",
            "urls": {"get": url},
        }
        return 201, answer, "application/json"

    def _create(self, hosted: HostedModel | None, model: str, body: Any) -> tuple[int, Any, str]:
        if hosted is None:
            return (
                404,
                _problem(404, "Not found", "The requested resource could not be found."),
                PROBLEM,
            )
        inputs = body.get("input") if isinstance(body, dict) else None
        if not isinstance(inputs, dict):
            return 422, _problem(422, "Input validation failed", "input is required"), PROBLEM
        missing = [name for name in hosted.required if name not in inputs]
        if missing:
            detail = "; ".join(f"- input: {name} is required" for name in missing)
            return 422, _problem(422, "Input validation failed", detail), PROBLEM
        for value in inputs.values():
            for url in value if isinstance(value, list) else [value]:
                if isinstance(url, str) and "/v1/files/" in url and url not in self.files:
                    detail = f"- input: cannot read file {url}"
                    return 422, _problem(422, "Input validation failed", detail), PROBLEM
        prediction = _Prediction(
            id=uuid.uuid4().hex[:26],
            model=model,
            version=hosted.version,
            input=inputs,
            video=hosted.video,
            script=list(self.script),
        )
        with self._lock:
            self.predictions[prediction.id] = prediction
        return 201, self._answer(prediction, {"status": "starting"}), "application/json"

    def _prediction(self, method: str, rest: str) -> tuple[int, Any, str]:
        prediction_id, _, action = rest.partition("/")
        prediction = self.predictions.get(prediction_id)
        if prediction is None:
            return (
                404,
                _problem(404, "Not found", "The requested resource could not be found."),
                PROBLEM,
            )
        if method == "POST" and action == "cancel":
            prediction.canceled = True
            return 200, self._answer(prediction, {"status": "canceled"}), "application/json"
        if method != "GET" or action:
            return 405, _problem(405, "Method not allowed", ""), PROBLEM
        step = (
            {"status": "canceled"}
            if prediction.canceled
            else prediction.script[min(prediction.polls, len(prediction.script) - 1)]
        )
        prediction.polls += 1
        return 200, self._answer(prediction, step), "application/json"

    def _answer(self, prediction: _Prediction, step: dict[str, Any]) -> dict[str, Any]:
        base = f"{self.url}/v1/predictions/{prediction.id}"
        answer: dict[str, Any] = {
            "id": prediction.id,
            "model": prediction.model,
            "version": prediction.version,
            "input": prediction.input,
            "logs": step.get("logs", ""),
            "output": None,
            "error": step.get("error"),
            "status": step["status"],
            "source": "api",
            "data_removed": False,
            "created_at": "2026-12-06T12:00:00.000Z",
            "started_at": None if step["status"] == "starting" else "2026-12-06T12:00:01.000Z",
            "completed_at": None,
            "urls": {
                "get": base,
                "cancel": f"{base}/cancel",
                "web": f"{self.url}/p/{prediction.id}",
            },
        }
        if step["status"] in ("succeeded", "failed", "canceled"):
            answer["completed_at"] = "2026-12-06T12:00:05.000Z"
        if step["status"] == "succeeded":
            suffix = ".mp4" if prediction.video else ".png"
            url = f"{self.url}/delivery/xezq/{prediction.id}/output{suffix}"
            answer["output"] = url if self.single_output else [url]
            if self.metrics is not None:
                answer["metrics"] = dict(self.metrics)
        return answer


def _problem(status: int, title: str, detail: str) -> dict[str, Any]:
    return {"title": title, "detail": detail, "status": status}


def _handler(stub: ReplicateStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            path = self.path.split("?", 1)[0]
            status, body, content_type = stub.handle(self.command, path, headers, raw)
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
