"""A small ComfyUI server for the tests: the real routes and answer shapes, no model.

It speaks what ``shared/notes/comfyui-api.md`` records from a real ComfyUI
0.3.64: ``/prompt``, ``/ws``, ``/history/{id}``, ``/view``, ``/upload/image``,
``/interrupt``, ``/queue``, ``/system_stats`` (each also under ``/api/``). It
"runs" a workflow by writing a solid-colour PNG (colour from the seed, size
from an ``EmptyImage``/``EmptyLatentImage``) for each ``SaveImage`` (a ``temp``
file for ``PreviewImage``), sends it in a binary frame for
``SaveImageWebsocket``, writes an animated WebP, an APNG, a VP9 WEBM or an
H.264 MP4 for ``SaveAnimatedWEBP``, ``SaveAnimatedPNG``, ``SaveWEBM`` and
``SaveVideo`` (one frame per batch item, whole-millisecond delays and identical
frames merged as libwebp and Pillow do), text for ``PreviewAny``, and an
animated GIF for ``VHS_VideoCombine``. Nodes it does not know are refused like
a real server refuses a missing custom node.

It follows the corrections the notes end with: a graph in which some outputs
fail validation (a required input missing, an image not uploaded) is answered
200 with those ``node_errors`` and only the valid outputs run; 400 comes only
when no output is valid. Two more ``status`` messages come before
``execution_start``, ``progress_state`` (running) before each ``executing``,
``progress`` 0/1 from ``SaveImageWebsocket``; a failed run ends
``execution_error``, ``status``, ``executing`` null; a failed run's history has
``meta`` ``{}``; ``/object_info/NoSuchNode`` is ``{}``; a ``/view`` 404 has no body.

Switches for failure tests: ``fail`` (an ``execution_error``), ``hang`` (runs
until interrupted), ``repeat`` (each picture of an animated output repeated that many
times: identical consecutive frames), ``override(path, ...)`` (any answer, once or always: garbage,
a 500), ``token`` (401 without it), ``drop_websocket`` (closes the socket after ``execution_start``), and
``stop()`` (down). What clients sent is kept in ``prompts``, ``uploads``,
``interrupts`` and ``deleted``.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import socket
import struct
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from aiohttp import WSMsgType, web
from PIL import Image

__all__ = ["ComfyUIStub", "comfyui_stub"]

KNOWN_NODES = {
    "CheckpointLoaderSimple",
    "CLIPTextEncode",
    "EmptyImage",
    "EmptyLatentImage",
    "KSampler",
    "VAEDecode",
    "LoadImage",
    "ImageScale",
    "SaveImage",
    "PreviewImage",
    "SaveImageWebsocket",
    "VHS_VideoCombine",
    "SaveAnimatedWEBP",
    "SaveAnimatedPNG",
    "SaveWEBM",
    "CreateVideo",
    "SaveVideo",
    "PreviewAny",
}
OUTPUT_NODES = {
    "SaveImage",
    "PreviewImage",
    "SaveImageWebsocket",
    "VHS_VideoCombine",
    "SaveAnimatedWEBP",
    "SaveAnimatedPNG",
    "SaveWEBM",
    "SaveVideo",
    "PreviewAny",
}
# Required inputs, as ComfyUI 0.3.64's nodes declare them (those the tests use).
REQUIRED = {
    "SaveImage": ("images", "filename_prefix"),
    "PreviewImage": ("images",),
    "SaveImageWebsocket": ("images",),
    "SaveAnimatedWEBP": ("images", "filename_prefix", "fps", "lossless", "quality", "method"),
    "SaveAnimatedPNG": ("images", "filename_prefix", "fps", "compress_level"),
    "SaveWEBM": ("images", "filename_prefix", "codec", "fps", "crf"),
    "CreateVideo": ("images", "fps"),
    "SaveVideo": ("video", "filename_prefix", "format", "codec"),
    "PreviewAny": ("source",),
    "LoadImage": ("image",),
}
_MIME = {
    ".png": "image/png",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".webm": "video/webm",
    ".mp4": "video/mp4",
}


@dataclass
class _Answer:
    status: int
    body: bytes
    content_type: str
    times: int | None  # None: always


@dataclass
class _Job:
    number: int
    prompt_id: str
    prompt: dict[str, Any]
    client_id: str | None
    outputs_to_execute: list[str]
    interrupted: asyncio.Event = field(default_factory=asyncio.Event)


def _order(node_id: str) -> tuple[int, int, str]:
    return (0, int(node_id), "") if node_id.isdigit() else (1, 0, node_id)


def _color(seed: int) -> tuple[int, int, int]:
    return ((seed * 97) % 256, (seed * 57 + 80) % 256, (seed * 31 + 160) % 256)


def _png(width: int, height: int, seed: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), _color(seed)).save(buffer, "PNG")
    return buffer.getvalue()


def _gif(width: int, height: int, seed: int, frames: int, fps: float) -> bytes:
    images = [Image.new("RGB", (width, height), _color(seed + i)) for i in range(frames)]
    buffer = io.BytesIO()
    images[0].save(
        buffer,
        "GIF",
        save_all=True,
        append_images=images[1:],
        duration=round(1000 / fps),
        loop=0,
    )
    return buffer.getvalue()


def _animation(
    pictures: list[Image.Image], fps: float, suffix: str, inputs: dict[str, Any]
) -> bytes:
    """What ComfyUI's save nodes write: delays of ``int(1000 / fps)`` ms (identical frames
    merged) in WebP and APNG; VP9 WEBM and H.264 MP4 at ``round(fps * 1000) / 1000``."""
    buffer = io.BytesIO()
    if suffix == ".webp":
        pictures[0].save(
            buffer,
            "WEBP",
            save_all=True,
            append_images=pictures[1:],
            duration=int(1000.0 / fps),
            lossless=bool(inputs.get("lossless", False)),
            quality=int(inputs.get("quality", 80)),
            method=int(inputs.get("method", 4)) if str(inputs.get("method")).isdigit() else 4,
        )
        return buffer.getvalue()
    if suffix == ".png":
        pictures[0].save(
            buffer,
            "PNG",
            save_all=True,
            append_images=pictures[1:],
            duration=int(1000.0 / fps),
            compress_level=int(inputs.get("compress_level", 4)),
        )
        return buffer.getvalue()
    import av
    import numpy as np

    codec, container = ("libvpx-vp9", "webm") if suffix == ".webm" else ("libx264", "mp4")
    with av.open(buffer, mode="w", format=container) as output:
        stream: Any = output.add_stream(codec, rate=Fraction(round(fps * 1000), 1000))
        stream.width, stream.height = pictures[0].size
        stream.pix_fmt = "yuv420p"
        for picture in pictures:
            frame = av.VideoFrame.from_ndarray(np.asarray(picture), format="rgb24")
            output.mux(stream.encode(frame))
        output.mux(stream.encode(None))
    return buffer.getvalue()


class ComfyUIStub:
    """A ComfyUI look-alike on a free loopback port, served from a thread."""

    def __init__(self) -> None:
        self.url = ""
        # Behaviour switches, set by tests before a render.
        self.fail: tuple[str, str] | None = None  # (exception_type, exception_message)
        self.hang = False
        self.drop_websocket = False
        self.step_delay = 0.0  # seconds between sampler progress messages
        self.repeat = 1  # each picture of an animated output this many times (identical frames)
        self.token: str | None = None  # when set, requests need "Authorization: Bearer TOKEN"
        self.device = "cpu"  # /system_stats' device type: "cuda" as a GPU server answers
        self._answers: dict[str, list[_Answer]] = {}
        # What clients sent.
        self.prompts: list[dict[str, Any]] = []  # POST /prompt bodies, accepted or not
        self.uploads: dict[str, bytes] = {}  # input folder
        self.interrupts: list[dict[str, Any]] = []
        self.deleted: list[str] = []
        self.requests: list[str] = []  # "METHOD /path" of every request
        # Server state.
        self.files: dict[tuple[str, str, str], bytes] = {}  # (type, subfolder, name) -> bytes
        self.history: dict[str, dict[str, Any]] = {}
        self._sockets: dict[str, web.WebSocketResponse] = {}
        self._queue: list[_Job] = []
        self._running: _Job | None = None
        self._number = 0
        self._counter = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._wake: asyncio.Event | None = None
        self._worker_task: asyncio.Task[None] | None = None
        self._port = 0
        self._held: socket.socket | None = None  # the port, between stop and start

    # -- control ----------------------------------------------------------------------

    def start(self) -> ComfyUIStub:
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()

        def serve() -> None:
            assert self._loop is not None
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(self._start())
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=serve, name="comfyui-stub", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the ComfyUI stub did not start")
        return self

    def stop(self, *, hold_port: bool = False) -> None:
        """Shuts the server: later connections are refused, like a ComfyUI that is down.

        ``hold_port``: the port stays bound, not listening, until ``start`` comes back on it,
        so no other test's server or connection takes it in between (an ``Address already
        in use`` on a restart, seen in CI)."""
        if self._loop is None or self._runner is None:
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
        self._runner = None
        if hold_port:
            self._held = socket.socket()
            self._held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._held.bind(("127.0.0.1", self._port))
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)
        self._loop.close()
        self._loop = None

    def override(
        self,
        path: str,
        status: int = 200,
        body: bytes | str | dict[str, Any] | list[Any] = b"",
        *,
        times: int | None = None,
        content_type: str | None = None,
    ) -> None:
        """Answers ``path`` (e.g. "/prompt") with this instead, ``times`` times or always."""
        if isinstance(body, dict | list):
            raw, kind = json.dumps(body).encode(), "application/json"
        else:
            raw = body.encode() if isinstance(body, str) else body
            kind = "text/html"
        self._answers.setdefault(path, []).append(_Answer(status, raw, content_type or kind, times))

    @property
    def running(self) -> str | None:
        """The id of the prompt being run, if any."""
        return self._running.prompt_id if self._running else None

    def wait_idle(self, timeout: float = 5.0) -> None:
        """Waits until nothing runs or waits (after a test interrupted a run)."""
        deadline = time.monotonic() + timeout
        while (self._running or self._queue) and time.monotonic() < deadline:
            time.sleep(0.01)

    # -- server -----------------------------------------------------------------------

    async def _start(self) -> None:
        app = web.Application(middlewares=[self._middleware], client_max_size=64 * 1024 * 1024)
        routes = [
            web.post("/prompt", self._post_prompt),
            web.get("/prompt", self._get_prompt),
            web.get("/ws", self._ws),
            web.get("/history/{prompt_id}", self._history),
            web.get("/view", self._view),
            web.post("/upload/image", self._upload),
            web.post("/interrupt", self._interrupt),
            web.get("/queue", self._get_queue),
            web.post("/queue", self._post_queue),
            web.get("/system_stats", self._system_stats),
            web.get("/object_info/{node}", self._object_info),
        ]
        for route in routes:
            app.router.add_route(route.method, route.path, route.handler)
            app.router.add_route(route.method, "/api" + route.path, route.handler)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        # A restart (``stop`` then ``start``) comes back on the same port, as a server does.
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self._port))  # beside the holder: it does not listen
        if self._held is not None:
            self._held.close()
            self._held = None
        await web.SockSite(self._runner, listener).start()
        port = self._port = listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self._wake = asyncio.Event()
        self._worker_task = asyncio.get_running_loop().create_task(self._worker())

    async def _shutdown(self) -> None:
        if self._worker_task is not None:
            self._worker_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker_task
        for websocket in list(self._sockets.values()):
            await websocket.close()
        assert self._runner is not None
        await self._runner.cleanup()

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        path = request.path.removeprefix("/api")
        self.requests.append(f"{request.method} {path}")
        if self.token and request.headers.get("Authorization") != f"Bearer {self.token}":
            return web.Response(status=401, text="401: Unauthorized")
        answers = self._answers.get(path)
        if answers:
            answer = answers[0]
            if answer.times is not None:
                answer.times -= 1
                if answer.times <= 0:
                    answers.pop(0)
            if request.can_read_body:
                await request.read()
            return web.Response(
                status=answer.status, body=answer.body, content_type=answer.content_type
            )
        response: web.StreamResponse = await handler(request)
        return response

    async def _send(self, client_id: str | None, kind: str, data: dict[str, Any]) -> None:
        socket = self._sockets.get(client_id or "")
        if socket is not None and not socket.closed:
            with contextlib.suppress(ConnectionError, RuntimeError):
                await socket.send_str(json.dumps({"type": kind, "data": data}))

    async def _broadcast_status(self) -> None:
        remaining = len(self._queue) + (1 if self._running else 0)
        for client_id in list(self._sockets):
            await self._send(
                client_id, "status", {"status": {"exec_info": {"queue_remaining": remaining}}}
            )

    def _error(
        self, kind: str, message: str, details: str = "", node_errors: Any = None
    ) -> web.Response:
        body = {
            "error": {"type": kind, "message": message, "details": details, "extra_info": {}},
            "node_errors": node_errors or {},
        }
        return web.json_response(body, status=400)

    async def _post_prompt(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.prompts.append(body)
        number = self._number
        self._number += 1
        prompt = body.get("prompt")
        if not isinstance(prompt, dict):
            return self._error("no_prompt", "No prompt provided", "No prompt provided")
        for node_id, node in prompt.items():
            class_type = node.get("class_type") if isinstance(node, dict) else None
            if class_type not in KNOWN_NODES:
                return self._error(
                    "invalid_prompt",
                    f"Cannot execute because node {class_type} does not exist.",
                    f"Node ID '#{node_id}'",
                )
        outputs = sorted(
            (nid for nid, node in prompt.items() if node["class_type"] in OUTPUT_NODES), key=_order
        )
        if not outputs:
            return self._error("prompt_no_outputs", "Prompt has no outputs", "", node_errors=[])
        # Each output is valid when it and every node it reads from are (ComfyUI's
        # validate_prompt): the errors of a node are listed once, with the outputs they spoil.
        own = {nid: self._node_errors(node) for nid, node in prompt.items()}
        node_errors: dict[str, Any] = {}
        good: list[str] = []
        reasons: list[dict[str, Any]] = []
        for output in outputs:
            upstream = [
                nid for nid in sorted(prompt, key=_order) if self._depends(prompt, output, nid)
            ]
            spoilt = [nid for nid in upstream if own[nid]]
            if not spoilt:
                good.append(output)
                continue
            reasons.extend(own[output])
            for nid in spoilt:
                entry = node_errors.setdefault(
                    nid,
                    {
                        "errors": own[nid],
                        "dependent_outputs": [],
                        "class_type": prompt[nid]["class_type"],
                    },
                )
                entry["dependent_outputs"].append(output)
        if not good:
            details = "\n".join(f"{r['message']}: {r['details']}" for r in reasons)
            return self._error(
                "prompt_outputs_failed_validation",
                "Prompt outputs failed validation",
                details,
                node_errors,
            )
        # Any string is used as given; the same id twice is queued (and run) twice.
        prompt_id = str(body.get("prompt_id") or uuid.uuid4())
        job = _Job(number, prompt_id, prompt, body.get("client_id"), good)
        self._queue.append(job)
        assert self._wake is not None
        self._wake.set()
        await self._broadcast_status()
        return web.json_response(
            {"prompt_id": prompt_id, "number": number, "node_errors": node_errors}
        )

    def _node_errors(self, node: dict[str, Any]) -> list[dict[str, Any]]:
        inputs = node.get("inputs", {})
        errors = [
            {
                "type": "required_input_missing",
                "message": "Required input is missing",
                "details": name,
                "extra_info": {"input_name": name},
            }
            for name in REQUIRED.get(node["class_type"], ())
            if name not in inputs
        ]
        if node["class_type"] == "LoadImage" and "image" in inputs:
            image = inputs["image"]
            if image not in self.uploads:
                errors.append(
                    {
                        "type": "custom_validation_failed",
                        "message": "Custom validation failed for node",
                        "details": f"image - Invalid image file: {image}",
                        "extra_info": {"input_name": "image"},
                    }
                )
        return errors

    def _depends(self, prompt: dict[str, Any], node_id: str, target: str) -> bool:
        if node_id == target:
            return True
        return any(
            isinstance(value, list)
            and len(value) == 2
            and str(value[0]) in prompt
            and self._depends(prompt, str(value[0]), target)
            for value in prompt[node_id].get("inputs", {}).values()
        )

    async def _object_info(self, request: web.Request) -> web.Response:
        name = request.match_info["node"]
        if name not in KNOWN_NODES:
            return web.json_response({})
        required = {key: ["*", {}] for key in REQUIRED.get(name, ())}
        return web.json_response(
            {
                name: {
                    "input": {"required": required},
                    "name": name,
                    "output_node": name in OUTPUT_NODES,
                }
            }
        )

    async def _get_prompt(self, request: web.Request) -> web.Response:
        remaining = len(self._queue) + (1 if self._running else 0)
        return web.json_response({"exec_info": {"queue_remaining": remaining}})

    async def _ws(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        client_id = request.query.get("clientId") or uuid.uuid4().hex
        self._sockets[client_id] = socket
        remaining = len(self._queue) + (1 if self._running else 0)
        await socket.send_str(
            json.dumps(
                {
                    "type": "status",
                    "data": {
                        "status": {"exec_info": {"queue_remaining": remaining}},
                        "sid": client_id,
                    },
                }
            )
        )
        try:
            async for message in socket:
                if message.type == WSMsgType.ERROR:
                    break
        finally:
            if self._sockets.get(client_id) is socket:
                del self._sockets[client_id]
        return socket

    async def _history(self, request: web.Request) -> web.Response:
        prompt_id = request.match_info["prompt_id"]
        entry = self.history.get(prompt_id)
        return web.json_response({prompt_id: entry} if entry else {})

    async def _view(self, request: web.Request) -> web.Response:
        key = (
            request.query.get("type", "output"),
            request.query.get("subfolder", ""),
            request.query.get("filename", ""),
        )
        content = self.files.get(key)
        if content is None:
            return web.Response(status=404)
        suffix = key[2][key[2].rfind(".") :].lower()
        return web.Response(
            body=content,
            content_type=_MIME.get(suffix, "application/octet-stream"),
            headers={"Content-Disposition": f'filename="{key[2]}"'},
        )

    async def _upload(self, request: web.Request) -> web.Response:
        form = await request.post()
        image = form.get("image")
        if not isinstance(image, web.FileField):
            return web.Response(status=400)
        content = image.file.read()
        overwrite = form.get("overwrite") in ("true", "1")
        name = image.filename
        if not overwrite:
            stem, dot, ext = name.rpartition(".")
            index = 1
            while name in self.uploads and self.uploads[name] != content:
                name = f"{stem} ({index}){dot}{ext}"
                index += 1
        self.uploads[name] = content
        return web.json_response({"name": name, "subfolder": "", "type": "input"})

    async def _interrupt(self, request: web.Request) -> web.Response:
        body = await request.json() if request.can_read_body else {}
        self.interrupts.append(body)
        job = self._running
        if job is not None and body.get("prompt_id") in (None, job.prompt_id):
            job.interrupted.set()
        return web.Response(status=200)

    def _queue_item(self, job: _Job) -> list[Any]:
        return [
            job.number,
            job.prompt_id,
            job.prompt,
            {"client_id": job.client_id},
            job.outputs_to_execute,
        ]

    async def _get_queue(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "queue_running": [self._queue_item(self._running)] if self._running else [],
                "queue_pending": [self._queue_item(job) for job in self._queue],
            }
        )

    async def _post_queue(self, request: web.Request) -> web.Response:
        body = await request.json()
        for prompt_id in body.get("delete", []):
            self.deleted.append(prompt_id)
            self._queue = [job for job in self._queue if job.prompt_id != prompt_id]
        if body.get("clear"):
            self._queue.clear()
        return web.Response(status=200)

    async def _system_stats(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "system": {
                    "os": "posix",
                    "ram_total": 8 << 30,
                    "ram_free": 4 << 30,
                    "comfyui_version": "0.3.64",
                    "required_frontend_version": "1.27.10",
                    "python_version": "3.11.0",
                    "pytorch_version": "2.8.0+cpu" if self.device == "cpu" else "2.8.0+cu128",
                    "embedded_python": False,
                    "argv": ["main.py", "--cpu"] if self.device == "cpu" else ["main.py"],
                },
                "devices": [
                    {
                        "name": "cpu"
                        if self.device == "cpu"
                        else "cuda:0 NVIDIA H100 : cudaMallocAsync",
                        "type": self.device,
                        "index": None if self.device == "cpu" else 0,
                        "vram_total": 8 << 30,
                        "vram_free": 4 << 30,
                        "torch_vram_total": 8 << 30,
                        "torch_vram_free": 4 << 30,
                    }
                ],
            }
        )

    # -- execution --------------------------------------------------------------------

    async def _worker(self) -> None:
        assert self._wake is not None
        while True:
            if not self._queue:
                self._wake.clear()
                await self._wake.wait()
                continue
            job = self._queue.pop(0)
            self._running = job
            await self._broadcast_status()  # the second `status` before `execution_start`
            try:
                await self._execute(job)
            finally:
                self._running = None
                await self._broadcast_status()
                await self._send(
                    job.client_id, "executing", {"node": None, "prompt_id": job.prompt_id}
                )

    def _now(self) -> int:
        return int(time.time() * 1000)

    async def _execute(self, job: _Job) -> None:
        prompt, pid, client = job.prompt, job.prompt_id, job.client_id
        messages: list[list[Any]] = []

        async def say(kind: str, data: dict[str, Any], keep: bool = False) -> None:
            if keep:
                messages.append([kind, data])
            await self._send(client, kind, data)

        await say("execution_start", {"prompt_id": pid, "timestamp": self._now()}, keep=True)
        if self.drop_websocket and client in self._sockets:
            await self._sockets[client].close()
        await say(
            "execution_cached", {"nodes": [], "prompt_id": pid, "timestamp": self._now()}, keep=True
        )
        # Another client's run speaking on the same socket: the client must filter by prompt_id.
        other = str(uuid.uuid4())
        await say("progress", {"value": 1, "max": 1, "prompt_id": other, "node": "9"})
        await say(
            "execution_error",
            {
                "prompt_id": other,
                "node_id": "9",
                "node_type": "KSampler",
                "exception_message": "not yours",
                "exception_type": "RuntimeError",
            },
        )
        await say("execution_success", {"prompt_id": other, "timestamp": self._now()})

        inputs = {nid: node.get("inputs", {}) for nid, node in prompt.items()}
        seed = next((v["seed"] for v in inputs.values() if isinstance(v.get("seed"), int)), 0)
        width, height, batch = 64, 64, 1
        for nid, node in prompt.items():
            if node["class_type"] in ("EmptyImage", "EmptyLatentImage"):
                width = int(inputs[nid].get("width", width))
                height = int(inputs[nid].get("height", height))
                batch = int(inputs[nid].get("batch_size", batch))
        outputs: dict[str, Any] = {}
        states: dict[str, Any] = {}
        # Only what the valid outputs need runs (a partly valid graph runs the rest).
        needed = [
            nid
            for nid in sorted(prompt, key=_order)
            if any(self._depends(prompt, out, nid) for out in job.outputs_to_execute)
        ]
        for nid in needed:
            class_type = prompt[nid]["class_type"]
            states[nid] = {
                "value": 0,
                "max": 1,
                "state": "running",
                "node_id": nid,
                "prompt_id": pid,
                "display_node_id": nid,
                "parent_node_id": None,
                "real_node_id": nid,
            }
            # The real server sends the running state before `executing`.
            await say("progress_state", {"prompt_id": pid, "nodes": states})
            await say("executing", {"node": nid, "display_node": nid, "prompt_id": pid})
            if self.hang:
                await job.interrupted.wait()
                data = {
                    "prompt_id": pid,
                    "node_id": nid,
                    "node_type": class_type,
                    "executed": [],
                    "timestamp": self._now(),
                }
                await say("execution_interrupted", data, keep=True)
                self._store(job, {}, messages, ok=False)
                return
            if self.fail is not None and class_type in (
                "KSampler",
                "SaveImage",
                "SaveImageWebsocket",
                "VHS_VideoCombine",
            ):
                kind, text = self.fail
                data = {
                    "prompt_id": pid,
                    "node_id": nid,
                    "node_type": class_type,
                    "executed": [],
                    "exception_message": text,
                    "exception_type": kind,
                    "traceback": ["Traceback (most recent call last):\n", f"{kind}: {text}\n"],
                    "current_inputs": {},
                    "current_outputs": {},
                    "timestamp": self._now(),
                }
                await say("execution_error", data, keep=True)
                self._store(job, {}, messages, ok=False)
                return
            if class_type == "KSampler":
                steps = int(inputs[nid].get("steps", 4))
                for step in range(1, steps + 1):
                    await asyncio.sleep(self.step_delay)
                    await say(
                        "progress", {"value": step, "max": steps, "prompt_id": pid, "node": nid}
                    )
            output = self._run_node(
                nid, class_type, inputs[nid], (width, height, batch), seed, prompt
            )
            if class_type == "SaveImageWebsocket":
                await say("progress", {"value": 0, "max": 1, "prompt_id": pid, "node": nid})
                socket = self._sockets.get(client or "")
                if socket is not None and not socket.closed:
                    frame = struct.pack(">II", 1, 2) + _png(width, height, seed)
                    with contextlib.suppress(ConnectionError, RuntimeError):
                        await socket.send_bytes(frame)
            states[nid] = {**states[nid], "value": 1, "state": "finished"}
            await say("progress_state", {"prompt_id": pid, "nodes": states})
            if output is not None:
                outputs[nid] = output
                await say(
                    "executed",
                    {"node": nid, "display_node": nid, "output": output, "prompt_id": pid},
                )
        await say("execution_success", {"prompt_id": pid, "timestamp": self._now()}, keep=True)
        await asyncio.sleep(0.05)  # a real server writes the history only after this message
        self._store(job, outputs, messages, ok=True)

    def _run_node(
        self,
        nid: str,
        class_type: str,
        inputs: dict[str, Any],
        shape: tuple[int, int, int],
        seed: int,
        prompt: dict[str, Any],
    ) -> dict[str, Any] | None:
        width, height, batch = shape
        if class_type in ("SaveImage", "PreviewImage"):
            kind = "output" if class_type == "SaveImage" else "temp"
            subfolder, _, prefix = str(inputs.get("filename_prefix", "ComfyUI")).rpartition("/")
            self._counter += 1
            name = f"{prefix}_{self._counter:05d}_.png"
            self.files[(kind, subfolder, name)] = _png(width, height, seed)
            return {"images": [{"filename": name, "subfolder": subfolder, "type": kind}]}
        if class_type == "PreviewAny":
            return {"text": [f"seed {seed}"]}
        if class_type == "VHS_VideoCombine":
            fps = float(inputs.get("frame_rate", 8))
            self._counter += 1
            name = f"{inputs.get('filename_prefix', 'AnimateDiff')}_{self._counter:05d}.gif"
            self.files[("output", "", name)] = _gif(width, height, seed, max(batch, 2), fps)
            return {
                "gifs": [
                    {
                        "filename": name,
                        "subfolder": "",
                        "type": "output",
                        "format": "image/gif",
                        "frame_rate": fps,
                    }
                ]
            }
        if class_type in ("SaveAnimatedWEBP", "SaveAnimatedPNG", "SaveWEBM", "SaveVideo"):
            fps = float(inputs.get("fps", 0) or 0)
            if class_type == "SaveVideo":  # the rate is the CreateVideo node's
                source = inputs.get("video")
                if isinstance(source, list) and str(source[0]) in prompt:
                    fps = float(prompt[str(source[0])].get("inputs", {}).get("fps", 24))
            pictures = [
                Image.new("RGB", (width, height), _color(seed + i // self.repeat))
                for i in range(batch)
            ]
            suffix = {
                "SaveAnimatedWEBP": ".webp",
                "SaveAnimatedPNG": ".png",
                "SaveWEBM": ".webm",
                "SaveVideo": ".mp4",
            }[class_type]
            subfolder, _, prefix = str(inputs.get("filename_prefix", "ComfyUI")).rpartition("/")
            self._counter += 1
            name = f"{prefix}_{self._counter:05d}_{suffix}"
            self.files[("output", subfolder, name)] = _animation(pictures, fps, suffix, inputs)
            return {
                "images": [{"filename": name, "subfolder": subfolder, "type": "output"}],
                "animated": [batch != 1],
            }
        return None

    def _store(
        self, job: _Job, outputs: dict[str, Any], messages: list[list[Any]], ok: bool
    ) -> None:
        self.history[job.prompt_id] = {
            "prompt": [
                job.number,
                job.prompt_id,
                job.prompt,
                {"client_id": job.client_id},
                job.outputs_to_execute,
            ],
            "outputs": outputs,
            "status": {
                "status_str": "success" if ok else "error",
                "completed": ok,
                "messages": messages,
            },
            "meta": {
                nid: {"node_id": nid, "display_node": nid, "parent_node": None, "real_node_id": nid}
                for nid in outputs
            },
        }


@contextmanager
def comfyui_stub() -> Iterator[ComfyUIStub]:
    """A running stub, stopped afterwards."""
    stub = ComfyUIStub().start()
    try:
        yield stub
    finally:
        stub.stop()
