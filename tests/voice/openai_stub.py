"""A local server that speaks OpenAI's speech protocol, for the real ``openai`` SDK.

``POST /v1/audio/speech`` and ``GET /v1/models`` as the API answers them: a Bearer key
checked (401 with OpenAI's error body, which echoes the key, when wrong), the request body
validated (400 for an unknown voice or a speed outside 0.25 to 4.0), and a WAV streamed in
chunks with the RIFF and data sizes set to 0xFFFFFFFF, 24,000 Hz 16-bit mono, as the real
endpoint streams it. ``fail_next`` makes the next speech request answer that status.
"""

from __future__ import annotations

import json
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np

KEY = "sk-test-0123456789abcdef"
RATE = 24000
VOICES = {
    "alloy",
    "ash",
    "ballad",
    "coral",
    "echo",
    "fable",
    "nova",
    "onyx",
    "sage",
    "shimmer",
    "verse",
    "marin",
    "cedar",
}


class Stub:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.fail_next: int | None = None
        self.base_url = ""


def _streamed_wav(seconds: float) -> bytes:
    t = np.arange(int(seconds * RATE)) / RATE
    pcm = (0.3 * np.sin(2 * np.pi * 220 * t) * 32767).astype("<i2").tobytes()
    header = b"RIFF" + struct.pack("<I", 0xFFFFFFFF) + b"WAVE"
    header += b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, RATE, RATE * 2, 2, 16)
    header += b"data" + struct.pack("<I", 0xFFFFFFFF)
    return header + pcm


def _handler(stub: Stub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def _error(self, status: int, message: str, kind: str, code: str | None) -> None:
            body = json.dumps(
                {"error": {"message": message, "type": kind, "param": None, "code": code}}
            ).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _authorised(self) -> bool:
            given = self.headers.get("Authorization", "")
            if given != f"Bearer {KEY}":
                self._error(
                    401,
                    f"Incorrect API key provided: {given.removeprefix('Bearer ')}.",
                    "invalid_request_error",
                    "invalid_api_key",
                )
                return False
            return True

        def do_GET(self) -> None:
            if not self._authorised():
                return
            body = json.dumps(
                {
                    "object": "list",
                    "data": [
                        {
                            "id": "gpt-4o-mini-tts",
                            "object": "model",
                            "created": 0,
                            "owned_by": "system",
                        }
                    ],
                }
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length)
            if not self._authorised():
                return
            request = json.loads(raw)
            stub.requests.append({"body": request, "headers": dict(self.headers)})
            if stub.fail_next is not None:
                status, stub.fail_next = stub.fail_next, None
                self._error(status, "The server had an error.", "server_error", None)
                return
            voice = request.get("voice")
            known = (isinstance(voice, str) and voice in VOICES) or (
                isinstance(voice, dict) and str(voice.get("id", "")).startswith("voice_")
            )
            speed = request.get("speed", 1.0)
            if self.path != "/v1/audio/speech" or not request.get("input") or not known:
                self._error(
                    400, f"Invalid value for 'voice': {voice!r}.", "invalid_request_error", None
                )
                return
            if not 0.25 <= speed <= 4.0:
                self._error(
                    400, "speed must be between 0.25 and 4.0", "invalid_request_error", None
                )
                return
            body = _streamed_wav(0.06 * len(request["input"]) / speed)
            self.send_response(200)
            self.send_header("Content-Type", "audio/wav")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for start in range(0, len(body), 8192):
                chunk = body[start : start + 8192]
                self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")

    return Handler


@contextmanager
def openai_stub() -> Iterator[Stub]:
    """The stub on a free loopback port; ``stub.base_url`` is what the SDK is given."""
    stub = Stub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(stub))
    stub.base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()
