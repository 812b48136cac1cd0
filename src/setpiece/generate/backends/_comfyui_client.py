"""The ComfyUI server's HTTP and WebSocket routes, and what each failure means for a retry.

Every answer is mapped here, in one place, onto ``RenderError``: a server that
is down, slow, or answering 429/5xx is ``transient``; a workflow it refuses
(HTTP 400 with ``error``/``node_errors``), a route it does not have, or an
answer that is not ComfyUI's JSON is not. Shapes follow what a real server
(0.3.x) answers; see ``shared/notes/comfyui-api.md``.

httpx and websockets are imported inside the methods: they are the optional
``comfyui`` extra, and listing generators must not need them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import mimetypes
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from setpiece.generate.base import RenderError

if TYPE_CHECKING:
    import httpx
    from websockets.sync.client import ClientConnection

__all__ = ["ComfyClient", "refusal_message", "upload_name"]

log = logging.getLogger(__name__)

_SNIPPET = 120
# The largest WebSocket frame accepted: SaveImageWebsocket sends whole PNGs in one frame.
_MAX_FRAME = 256 * 1024 * 1024


def _snippet(body: bytes | str) -> str:
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    text = " ".join(text.split())
    return text[:_SNIPPET] + ("..." if len(text) > _SNIPPET else "") if text else "an empty body"


def _line(text: object) -> str:
    return " ".join(str(text or "").split())


def refusal_message(data: Any, *, partial: bool = False) -> str:
    """One line from a refusal of ``POST /prompt``: the error, then each node's errors.

    ``partial``: a 200 with ``node_errors``, where the server queued the valid outputs only.
    """
    parts: list[str] = []
    hint = ""
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict):
        message = _line(error.get("message") or error.get("type") or "invalid prompt")
        details = _line(error.get("details"))
        parts.append(f"{message} ({details})" if details and details not in message else message)
        if error.get("type") == "invalid_prompt" and "does not exist" in message:
            hint = "; install that custom node on the server or fix the class_type in the workflow"
        elif error.get("type") == "prompt_no_outputs":
            hint = (
                "; the workflow has no output node: end it with a save node (SaveImage, "
                "SaveWEBM, SaveVideo, SaveAnimatedWEBP)"
            )
    elif isinstance(error, str) and error:
        parts.append(error)
    node_errors = data.get("node_errors") if isinstance(data, dict) else None
    if isinstance(node_errors, dict):
        for node_id, node in node_errors.items():
            if not isinstance(node, dict):
                continue
            label = f"node {node_id} ({node.get('class_type', '?')})"
            for item in node.get("errors") or []:
                if not isinstance(item, dict):
                    continue
                message = _line(item.get("message") or item.get("type") or "error")
                details = _line(item.get("details"))
                parts.append(f"{label}: {message}" + (f": {details}" if details else ""))
    if not parts:
        parts.append("no reason given")
    if partial:
        return (
            "ComfyUI refused part of the workflow: "
            + "; ".join(parts)
            + "; it would have run only the rest, so the run was stopped; fix those nodes"
        )
    return "ComfyUI refused the workflow: " + "; ".join(parts) + hint


def upload_name(path: Path, content: bytes | None = None) -> str:
    """The name an input image is uploaded under: from its content, so a re-upload (a
    retry, a reference used by many takes, a recipe sent again) lands on the same file."""
    data = path.read_bytes() if content is None else content
    suffix = path.suffix.lower() if path.suffix[1:].isalnum() else ""
    return f"setpiece-{hashlib.sha256(data).hexdigest()[:20]}{suffix}"


class ComfyClient:
    """One render's connection to a ComfyUI server (not shared between threads).

    Args:
        url: The server, e.g. ``http://127.0.0.1:8188`` (a path prefix is kept).
        headers: Sent with every request (an ``Authorization`` for a server behind a proxy).
        connect_timeout: Seconds to connect, and for the whole up-check.
        http_timeout: Seconds for any other request to answer.
    """

    def __init__(
        self,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        connect_timeout: float = 5.0,
        http_timeout: float = 60.0,
    ) -> None:
        import httpx

        self.url = url.rstrip("/")
        self.headers = dict(headers or {})
        self.connect_timeout = connect_timeout
        self.http_timeout = http_timeout
        self._http = httpx.Client(
            base_url=self.url,
            headers=self.headers,
            timeout=httpx.Timeout(http_timeout, connect=connect_timeout),
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ComfyClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transport ------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        what: str,
        *,
        timeout: float | None = None,
        accept: tuple[int, ...] = (),
        **kwargs: Any,
    ) -> httpx.Response:
        import httpx

        limit = timeout if timeout is not None else self.http_timeout
        try:
            response = self._http.request(
                method,
                path,
                timeout=httpx.Timeout(limit, connect=min(limit, self.connect_timeout)),
                **kwargs,
            )
        except httpx.ConnectError as exc:
            raise RenderError(
                f"ComfyUI at {self.url} is not reachable ({exc}); start the server, "
                "or set the comfyui generator's url",
                transient=True,
            ) from exc
        except httpx.TimeoutException as exc:
            raise RenderError(
                f"ComfyUI at {self.url} did not answer {what} within {limit:g} s",
                transient=True,
            ) from exc
        except httpx.TransportError as exc:
            raise RenderError(
                f"the connection to ComfyUI at {self.url} failed during {what}: {exc}",
                transient=True,
            ) from exc
        if response.is_success or response.status_code in accept:
            return response
        status = response.status_code
        if status == 429 or status >= 500:
            raise RenderError(
                f"ComfyUI at {self.url} answered {what} with HTTP {status}: "
                f"{_snippet(response.content)}",
                transient=True,
            )
        advice = (
            "set the comfyui generator's headers (e.g. Authorization) for this server"
            if status in (401, 403)
            else "check that the url points at a ComfyUI server"
        )
        raise RenderError(
            f"ComfyUI at {self.url} answered {what} with HTTP {status}: "
            f"{_snippet(response.content)}; {advice}"
        )

    def _json(self, response: httpx.Response, what: str) -> Any:
        try:
            return response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise RenderError(
                f"ComfyUI at {self.url} answered {what} with something that is not JSON "
                f"({_snippet(response.content)}); check that the url points at a ComfyUI server"
            ) from None

    def _garbage(self, what: str, data: Any) -> RenderError:
        return RenderError(
            f"ComfyUI at {self.url} answered {what} in an unexpected shape "
            f"({_snippet(json.dumps(data, default=str))}); check that the url points at a "
            "ComfyUI server of a supported version"
        )

    # -- routes ---------------------------------------------------------------------

    def system_stats(self) -> dict[str, Any]:
        """Checks that the server is up, within the connect time-out; returns its system stats."""
        what = "GET /system_stats"
        data = self._json(
            self._call("GET", "/system_stats", what, timeout=self.connect_timeout), what
        )
        if not isinstance(data, dict) or not isinstance(data.get("system"), dict):
            raise RenderError(
                f"ComfyUI at {self.url} answered {what} like another program "
                f"({_snippet(json.dumps(data, default=str))}), not with ComfyUI's system "
                "stats; check that the url points at a ComfyUI server"
            )
        return data

    def queued(self) -> dict[str, Any]:
        """The prompts running or waiting: id to the graph queued (None if not listed)."""
        what = "GET /queue"
        data = self._json(self._call("GET", "/queue", what), what)
        if not isinstance(data, dict):
            raise self._garbage(what, data)
        ids: dict[str, Any] = {}
        for key in ("queue_running", "queue_pending"):
            items = data.get(key, [])
            if not isinstance(items, list):
                raise self._garbage(what, data)
            for item in items:
                if isinstance(item, list) and len(item) > 1 and isinstance(item[1], str):
                    graph = item[2] if len(item) > 2 and isinstance(item[2], dict) else None
                    ids[item[1]] = graph
        return ids

    def history(self, prompt_id: str) -> dict[str, Any] | None:
        """The history entry of a prompt, or None while it is unknown or unfinished."""
        what = f"GET /history/{prompt_id}"
        data = self._json(self._call("GET", f"/history/{prompt_id}", what), what)
        if not isinstance(data, dict):
            raise self._garbage(what, data)
        entry = data.get(prompt_id)
        if entry is None:
            return None
        if not isinstance(entry, dict):
            raise self._garbage(what, data)
        return entry

    def submit(self, prompt: dict[str, Any], client_id: str, prompt_id: str) -> str:
        """Queues a prompt; returns the id the server runs it under.

        A 200 with ``node_errors`` is a refusal too: the server queued only the outputs that
        passed (a preview, text), so the prompt is taken off again and the take fails.

        Raises:
            RenderError: Refused (HTTP 400, or 200 with node errors: permanent, with the
                nodes, their classes and messages), or the server failed.
        """
        what = "POST /prompt"
        body = {"prompt": prompt, "client_id": client_id, "prompt_id": prompt_id}
        response = self._call("POST", "/prompt", what, json=body, accept=(400,))
        data = self._json(response, what)
        if response.status_code == 400:
            if not isinstance(data, dict) or not ("error" in data or "node_errors" in data):
                raise self._garbage(what, data)
            raise RenderError(refusal_message(data))
        if not isinstance(data, dict) or not isinstance(data.get("prompt_id"), str):
            raise self._garbage(what, data)
        if data.get("node_errors"):
            self.cancel(str(data["prompt_id"]))
            raise RenderError(refusal_message(data, partial=True))
        return str(data["prompt_id"])

    def upload(self, path: Path) -> str:
        """Uploads an input image under a name from its content; returns the name to use.

        Naming by content makes a re-upload (a retry, a reference used by many takes) land on
        the same file instead of piling up renamed copies.
        """
        what = f"POST /upload/image ({path.name})"
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise RenderError(f"cannot read {path} to upload it: {exc}") from exc
        name = upload_name(path, content)
        mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
        response = self._call(
            "POST",
            "/upload/image",
            what,
            files={"image": (name, content, mime)},
            data={"type": "input"},
        )
        data = self._json(response, what)
        if not isinstance(data, dict) or not isinstance(data.get("name"), str) or not data["name"]:
            raise self._garbage(what, data)
        subfolder = data.get("subfolder") or ""
        return f"{subfolder}/{data['name']}" if subfolder else str(data["name"])

    def download(self, item: dict[str, Any], dest: Path) -> None:
        """Downloads one output file to ``dest``, complete or not at all.

        Raises:
            RenderError: Missing on the server (permanent), empty, or the transfer failed.
        """
        import httpx

        params = {
            "filename": str(item["filename"]),
            "subfolder": str(item.get("subfolder") or ""),
            "type": str(item.get("type") or "output"),
        }
        what = f"GET /view ({params['filename']})"
        fd, temp = tempfile.mkstemp(dir=dest.parent, prefix=".comfyui-", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as handle:
                try:
                    with self._http.stream("GET", "/view", params=params) as response:
                        if response.status_code == 404:
                            raise RenderError(
                                f"ComfyUI at {self.url} has no {params['type']} file "
                                f"{params['filename']!r} (subfolder {params['subfolder']!r}) "
                                "although its history lists it; was it deleted?"
                            )
                        if not response.is_success:
                            response.read()
                            status = response.status_code
                            raise RenderError(
                                f"ComfyUI at {self.url} answered {what} with HTTP {status}: "
                                f"{_snippet(response.content)}",
                                transient=status == 429 or status >= 500,
                            )
                        for chunk in response.iter_bytes():
                            handle.write(chunk)
                except httpx.TransportError as exc:
                    raise RenderError(
                        f"downloading from ComfyUI at {self.url} failed ({what}): {exc}",
                        transient=True,
                    ) from exc
            if os.path.getsize(temp) == 0:
                raise RenderError(f"ComfyUI at {self.url} sent an empty file for {what}")
            os.replace(temp, dest)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise

    def cancel(self, prompt_id: str) -> None:
        """Stops a prompt: interrupts it if running, removes it if waiting. Best effort."""
        for path, body in (
            ("/interrupt", {"prompt_id": prompt_id}),
            ("/queue", {"delete": [prompt_id]}),
        ):
            try:
                self._call("POST", path, f"POST {path}", json=body, timeout=self.connect_timeout)
            except RenderError as exc:
                log.warning("could not cancel ComfyUI prompt %s: %s", prompt_id, exc)

    @contextlib.contextmanager
    def events(self, client_id: str) -> Iterator[ClientConnection | None]:
        """The WebSocket of this client's messages, or None where it cannot be opened.

        Without it the render still completes, by polling the history. Entered as a context
        manager, which websockets 14+ (where ``connect`` may connect on ``__enter__``) and
        older versions both support.
        """
        from websockets.exceptions import WebSocketException
        from websockets.sync.client import connect

        scheme, sep, rest = self.url.partition("://")
        ws_scheme = "wss" if scheme == "https" else "ws"
        uri = f"{ws_scheme}{sep}{rest}/ws?clientId={client_id}"
        with contextlib.ExitStack() as stack:
            connection: ClientConnection | None
            try:
                connection = stack.enter_context(
                    connect(
                        uri,
                        additional_headers=self.headers or None,
                        open_timeout=self.connect_timeout,
                        max_size=_MAX_FRAME,
                    )
                )
            except (OSError, TimeoutError, WebSocketException) as exc:
                log.warning(
                    "no WebSocket from ComfyUI at %s (%s); polling its history", self.url, exc
                )
                connection = None
            yield connection
