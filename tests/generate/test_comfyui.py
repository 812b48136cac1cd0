"""The comfyui generator against a stub ComfyUI that answers like the real server."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import httpx
import pytest

from generate.comfyui_stub import ComfyUIStub, comfyui_stub
from mediafactory import write_png
from setpiece.errors import InvalidInputError
from setpiece.generate.backends._comfyui_workflow import (
    fill_workflow,
    load_workflow,
    placeholder_values,
)
from setpiece.generate.backends.comfyui import ComfyUIGenerator, WorkflowError, prompt_id_for
from setpiece.generate.base import Mode, RenderError, RenderRequest
from setpiece.store.probe import probe

TXT2IMG: dict[str, Any] = {
    "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sd15.safetensors"}},
    "2": {"class_type": "CLIPTextEncode", "inputs": {"text": "{{prompt}}", "clip": ["1", 1]}},
    "3": {"class_type": "CLIPTextEncode", "inputs": {"text": "{{negative}}", "clip": ["1", 1]}},
    "4": {
        "class_type": "EmptyLatentImage",
        "inputs": {"width": "{{width}}", "height": "{{height}}", "batch_size": 1},
    },
    "5": {
        "class_type": "KSampler",
        "inputs": {
            "seed": "{{seed}}",
            "steps": 4,
            "cfg": 7.0,
            "sampler_name": "euler",
            "scheduler": "normal",
            "denoise": 1.0,
            "model": ["1", 0],
            "positive": ["2", 0],
            "negative": ["3", 0],
            "latent_image": ["4", 0],
        },
    },
    "6": {"class_type": "VAEDecode", "inputs": {"samples": ["5", 0], "vae": ["1", 2]}},
    "7": {"class_type": "PreviewImage", "inputs": {"images": ["6", 0]}},
    "8": {
        "class_type": "SaveImage",
        "inputs": {"filename_prefix": "setpiece/take_{{seed}}", "images": ["6", 0]},
    },
}


def with_loads(*names: str, base: dict[str, Any] | None = None) -> dict[str, Any]:
    """TXT2IMG plus a LoadImage per name (a placeholder or a plain file name)."""
    workflow = json.loads(json.dumps(base or TXT2IMG))
    for index, name in enumerate(names):
        workflow[str(20 + index)] = {"class_type": "LoadImage", "inputs": {"image": name}}
    return workflow


def video_workflow() -> dict[str, Any]:
    workflow = json.loads(json.dumps(TXT2IMG))
    workflow["4"]["inputs"]["batch_size"] = "{{frames}}"
    del workflow["7"], workflow["8"]
    workflow["9"] = {
        "class_type": "VHS_VideoCombine",
        "inputs": {"images": ["6", 0], "frame_rate": "{{fps}}", "filename_prefix": "clip"},
    }
    return workflow


@pytest.fixture
def stub() -> Iterator[ComfyUIStub]:
    with comfyui_stub() as server:
        yield server


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path / "work"


def generator(
    stub: ComfyUIStub, tmp_path: Path, workflow: Any = TXT2IMG, **config: Any
) -> ComfyUIGenerator:
    path = tmp_path / "workflows" / "template.json"
    path.parent.mkdir(exist_ok=True)
    if isinstance(workflow, str):
        path.write_text(workflow)
    else:
        path.write_text(json.dumps(workflow))
    settings = {"url": stub.url, "workflow": "workflows/template.json"}
    settings.update(poll_s=0.2, timeout_s=10, connect_timeout_s=2)
    settings.update(config)
    return ComfyUIGenerator(settings, project_dir=tmp_path)


def request(mode: Mode = Mode.TEXT_TO_IMAGE, **kwargs: Any) -> RenderRequest:
    fields: dict[str, Any] = {
        "mode": mode,
        "prompt": "a lighthouse at dusk, rain",
        "seed": 42,
        "width": 96,
        "height": 64,
        "negative_prompt": "blurry",
        "parameters": {"idempotency_key": f"take-{uuid.uuid4()}"},
    }
    fields.update(kwargs)
    return RenderRequest(**fields)


def leftovers(workdir: Path) -> list[str]:
    return sorted(p.name for p in workdir.iterdir()) if workdir.exists() else []


# -- the success path ------------------------------------------------------------------


def test_text_to_image_end_to_end(stub: ComfyUIStub, tmp_path: Path, workdir: Path) -> None:
    take = request()
    fractions: list[float] = []
    result = generator(stub, tmp_path).render(take, workdir, fractions.append)

    sent = stub.prompts[-1]
    assert sent["prompt_id"] == prompt_id_for(take.parameters["idempotency_key"])
    assert sent["client_id"]
    nodes = sent["prompt"]
    assert nodes["5"]["inputs"]["seed"] == 42  # the integer, not "42"
    assert nodes["4"]["inputs"] == {"width": 96, "height": 64, "batch_size": 1}
    assert nodes["2"]["inputs"]["text"] == "a lighthouse at dusk, rain"
    assert nodes["3"]["inputs"]["text"] == "blurry"
    assert nodes["8"]["inputs"]["filename_prefix"] == "setpiece/take_42"
    assert nodes["5"]["inputs"]["model"] == ["1", 0]

    info = probe(result.path)
    assert (info.kind, info.codec, info.width, info.height) == ("image", "png", 96, 64)
    assert result.path.parent == workdir
    assert leftovers(workdir) == [result.path.name]
    # The saved file, not the preview (a temp file) of node 7.
    assert result.parameters["output"] == {
        "node": "8",
        "filename": "take_42_00002_.png",
        "subfolder": "setpiece",
        "type": "output",
    }
    assert result.parameters["prompt_id"] == sent["prompt_id"]
    assert result.parameters["comfyui_version"] == "0.3.64"
    assert result.parameters["workflow"] == "workflows/template.json"
    assert result.parameters["workflow_sha256"] == load_workflow(TXT2IMG).sha256
    assert result.parameters["idempotency_key"] == take.parameters["idempotency_key"]

    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert fractions[:3] == [0.25, 0.5, 0.75]  # the sampler's steps


def test_reference_and_init_images_are_uploaded_and_named(
    stub: ComfyUIStub, tmp_path: Path, workdir: Path
) -> None:
    init = write_png(tmp_path / "init.png", seed=1)
    refs = (write_png(tmp_path / "ana.png", seed=2), write_png(tmp_path / "pier.png", seed=3))
    workflow = with_loads("{{init_image}}", "{{reference_image}}", "{{reference_image_2}}")
    # Another file already holds the name the init image will get: the server renames it.
    from hashlib import sha256

    taken = f"setpiece-{sha256(init.read_bytes()).hexdigest()[:20]}.png"
    stub.uploads[taken] = b"someone else's picture"

    take = request(Mode.IMAGE_TO_IMAGE, init_image=init, references=refs)
    result = generator(stub, tmp_path, workflow).render(take, workdir)

    nodes = stub.prompts[-1]["prompt"]
    renamed = taken.replace(".png", " (1).png")
    assert nodes["20"]["inputs"]["image"] == renamed
    assert stub.uploads[renamed] == init.read_bytes()
    assert stub.uploads[nodes["21"]["inputs"]["image"]] == refs[0].read_bytes()
    assert stub.uploads[nodes["22"]["inputs"]["image"]] == refs[1].read_bytes()
    assert probe(result.path).kind == "image"


def test_text_to_video_saves_the_video_output(
    stub: ComfyUIStub, tmp_path: Path, workdir: Path
) -> None:
    take = request(Mode.TEXT_TO_VIDEO, frames=6, fps=Fraction(12))
    result = generator(stub, tmp_path, video_workflow()).render(take, workdir)

    nodes = stub.prompts[-1]["prompt"]
    assert nodes["4"]["inputs"]["batch_size"] == 6
    assert nodes["9"]["inputs"]["frame_rate"] == 12
    info = probe(result.path)
    assert (info.kind, info.frames, info.width) == ("video", 6, 96)
    assert result.parameters["output"]["node"] == "9"


def test_a_still_workflow_cannot_make_a_video_take(
    stub: ComfyUIStub, tmp_path: Path, workdir: Path
) -> None:
    with pytest.raises(RenderError, match="without saving a video") as caught:
        generator(stub, tmp_path).render(request(Mode.TEXT_TO_VIDEO, frames=6), workdir)
    assert not caught.value.transient
    assert leftovers(workdir) == []


def test_image_sent_over_the_websocket(stub: ComfyUIStub, tmp_path: Path, workdir: Path) -> None:
    workflow = json.loads(json.dumps(TXT2IMG))
    del workflow["7"], workflow["8"]
    workflow["9"] = {"class_type": "SaveImageWebsocket", "inputs": {"images": ["6", 0]}}
    result = generator(stub, tmp_path, workflow).render(request(), workdir)
    info = probe(result.path)
    assert (info.codec, info.width, info.height) == ("png", 96, 64)
    assert result.parameters["output"]["node"] == "websocket"


def test_retry_of_a_finished_take_downloads_without_running_again(
    stub: ComfyUIStub, tmp_path: Path, workdir: Path
) -> None:
    take = request()
    gen = generator(stub, tmp_path)
    first = gen.render(take, tmp_path / "first")
    second = gen.render(take, workdir)
    assert len(stub.prompts) == 1
    assert second.path.read_bytes() == first.path.read_bytes()
    assert second.parameters["prompt_id"] == first.parameters["prompt_id"]


def test_retry_attaches_to_the_run_still_going(
    stub: ComfyUIStub, tmp_path: Path, workdir: Path
) -> None:
    take = request()
    prompt_id = prompt_id_for(take.parameters["idempotency_key"])
    stub.step_delay = 0.2
    template = load_workflow(TXT2IMG)
    filled = fill_workflow(template, placeholder_values(template, take, None, []))
    # The earlier try, which crashed after queueing.
    answer = httpx.post(f"{stub.url}/prompt", json={"prompt": filled, "prompt_id": prompt_id})
    assert answer.json()["prompt_id"] == prompt_id

    result = generator(stub, tmp_path, poll_s=0.1).render(take, workdir)
    assert len(stub.prompts) == 1  # nothing queued again
    assert "GET /ws" in stub.requests  # it followed the run rather than found it finished
    assert probe(result.path).kind == "image"


def test_websocket_drop_falls_back_to_the_history(
    stub: ComfyUIStub, tmp_path: Path, workdir: Path
) -> None:
    stub.drop_websocket = True
    result = generator(stub, tmp_path, poll_s=0.1).render(request(), workdir)
    assert probe(result.path).width == 96


def test_no_websocket_at_all_polls_the_history(
    stub: ComfyUIStub, tmp_path: Path, workdir: Path
) -> None:
    stub.override("/ws", 404, "")  # e.g. a proxy that does not pass WebSockets
    result = generator(stub, tmp_path, poll_s=0.1).render(request(), workdir)
    assert probe(result.path).width == 96


def test_headers_go_with_every_request(stub: ComfyUIStub, tmp_path: Path, workdir: Path) -> None:
    stub.token = "s3cret"
    with pytest.raises(
        RenderError, match=r"HTTP 401.*set the comfyui generator's headers"
    ) as caught:
        generator(stub, tmp_path).render(request(), workdir)
    assert not caught.value.transient
    gen = generator(stub, tmp_path, headers={"Authorization": "Bearer s3cret"}, poll_s=5)
    result = gen.render(request(), workdir)  # the WebSocket too, or it would wait poll_s
    assert probe(result.path).kind == "image"


def test_a_failed_earlier_try_is_run_again(
    stub: ComfyUIStub, tmp_path: Path, workdir: Path
) -> None:
    take = request()
    gen = generator(stub, tmp_path)
    stub.fail = ("RuntimeError", "a glitch")
    with pytest.raises(RenderError, match="a glitch"):
        gen.render(take, workdir)
    stub.fail = None
    result = gen.render(take, workdir)
    assert len(stub.prompts) == 2
    assert stub.prompts[0]["prompt_id"] == stub.prompts[1]["prompt_id"]
    assert probe(result.path).kind == "image"


# -- failures ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe_socket:
        probe_socket.bind(("127.0.0.1", 0))
        port: int = probe_socket.getsockname()[1]
        return port


def test_server_down_is_transient(stub: ComfyUIStub, tmp_path: Path, workdir: Path) -> None:
    gen = generator(stub, tmp_path, url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(
        RenderError, match=r"ComfyUI at http://127\.0\.0\.1:\d+ is not reachable"
    ) as caught:
        gen.render(request(), workdir)
    assert caught.value.transient
    assert leftovers(workdir) == []


def test_server_that_never_answers_fails_within_the_connect_timeout(
    stub: ComfyUIStub, tmp_path: Path, workdir: Path
) -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        gen = generator(stub, tmp_path, url=url, connect_timeout_s=0.3)
        started = time.monotonic()
        with pytest.raises(RenderError, match="did not answer GET /system_stats") as caught:
            gen.render(request(), workdir)
    assert caught.value.transient
    assert time.monotonic() - started < 2


def test_unknown_node_is_refused_for_good(stub: ComfyUIStub, tmp_path: Path, workdir: Path) -> None:
    workflow = json.loads(json.dumps(TXT2IMG))
    workflow["6"]["class_type"] = "NoSuchNode"
    with pytest.raises(RenderError) as caught:
        generator(stub, tmp_path, workflow).render(request(), workdir)
    assert not caught.value.transient
    assert str(caught.value) == (
        "ComfyUI refused the workflow: Cannot execute because node NoSuchNode does not exist. "
        "(Node ID '#6'); install that custom node on the server or fix the class_type in the "
        "workflow"
    )


def test_node_validation_errors_are_reported_in_one_line(
    stub: ComfyUIStub, tmp_path: Path, workdir: Path
) -> None:
    workflow = with_loads("missing.png", "gone.png")
    with pytest.raises(RenderError) as caught:
        generator(stub, tmp_path, workflow).render(request(), workdir)
    assert not caught.value.transient
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("ComfyUI refused the workflow: Prompt outputs failed validation; ")
    assert (
        "node 20 (LoadImage): Custom validation failed for node: image - Invalid image file: missing.png"
        in message
    )
    assert "node 21 (LoadImage)" in message and "gone.png" in message


def test_server_error_once_is_transient_and_the_retry_succeeds(
    stub: ComfyUIStub, tmp_path: Path, workdir: Path
) -> None:
    stub.override("/prompt", 500, "500 Internal Server Error", times=1)
    take = request()
    gen = generator(stub, tmp_path)
    with pytest.raises(RenderError, match="HTTP 500") as caught:
        gen.render(take, workdir)
    assert caught.value.transient
    assert leftovers(workdir) == []
    result = gen.render(take, workdir)
    assert probe(result.path).kind == "image"


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("/system_stats", "<html>a wiki</html>", "not JSON"),
        ("/prompt", "<html>Bad gateway page with 200</html>", "not JSON"),
        ("/prompt", {"queued": True}, "unexpected shape"),
        ("/queue", ["running"], "unexpected shape"),
    ],
)
def test_garbage_answers_are_permanent(
    stub: ComfyUIStub, tmp_path: Path, workdir: Path, path: str, body: Any, message: str
) -> None:
    stub.override(path, 200, body)
    with pytest.raises(RenderError, match=message) as caught:
        generator(stub, tmp_path).render(request(), workdir)
    assert not caught.value.transient
    assert leftovers(workdir) == []


def test_execution_error_is_permanent(stub: ComfyUIStub, tmp_path: Path, workdir: Path) -> None:
    stub.fail = ("RuntimeError", "mat1 and mat2 shapes cannot be multiplied (77x768 and 1024x320)")
    with pytest.raises(RenderError) as caught:
        generator(stub, tmp_path).render(request(), workdir)
    assert not caught.value.transient
    assert str(caught.value).startswith(
        "ComfyUI failed in node 5 (KSampler): RuntimeError: mat1 and mat2 shapes cannot be multiplied"
    )
    assert stub.interrupts == []  # it had ended: nothing to stop
    assert leftovers(workdir) == []


def test_execution_error_found_in_the_history_without_websocket(
    stub: ComfyUIStub, tmp_path: Path, workdir: Path
) -> None:
    stub.drop_websocket = True
    stub.fail = ("ValueError", "bad latent")
    with pytest.raises(RenderError, match="ValueError: bad latent") as caught:
        generator(stub, tmp_path, poll_s=0.1).render(request(), workdir)
    assert not caught.value.transient
    assert stub.interrupts == []


def test_out_of_memory_is_transient(stub: ComfyUIStub, tmp_path: Path, workdir: Path) -> None:
    stub.fail = ("torch.OutOfMemoryError", "Allocation on device 0 would exceed allowed memory.")
    with pytest.raises(RenderError, match="out of memory") as caught:
        generator(stub, tmp_path).render(request(), workdir)
    assert caught.value.transient


def test_a_run_that_never_ends_times_out_and_is_interrupted(
    stub: ComfyUIStub, tmp_path: Path, workdir: Path
) -> None:
    stub.hang = True
    take = request()
    prompt_id = prompt_id_for(take.parameters["idempotency_key"])
    started = time.monotonic()
    with pytest.raises(RenderError, match=r"within 0\.5 s \(timeout_s\)") as caught:
        generator(stub, tmp_path, timeout_s=0.5, poll_s=0.1).render(take, workdir)
    assert caught.value.transient
    assert time.monotonic() - started < 3
    assert stub.interrupts == [{"prompt_id": prompt_id}]
    assert stub.deleted == [prompt_id]
    stub.wait_idle()
    assert stub.history[prompt_id]["status"]["status_str"] == "error"
    assert leftovers(workdir) == []


def test_interrupted_at_the_server_is_permanent(
    stub: ComfyUIStub, tmp_path: Path, workdir: Path
) -> None:
    stub.hang = True

    def press_cancel_in_comfyui() -> None:
        deadline = time.monotonic() + 5
        while stub.running is None and time.monotonic() < deadline:
            time.sleep(0.01)
        httpx.post(f"{stub.url}/interrupt", json={})

    someone = threading.Thread(target=press_cancel_in_comfyui)
    someone.start()
    try:
        with pytest.raises(RenderError, match="interrupted at node 1") as caught:
            generator(stub, tmp_path).render(request(), workdir)
    finally:
        someone.join()
    assert not caught.value.transient


@pytest.mark.parametrize(
    ("status", "body", "match", "transient"),
    [
        (404, b"", "has no output file", False),
        (200, b"", "sent an empty file", False),
        (503, b"busy", "HTTP 503", True),
    ],
)
def test_failed_download_leaves_nothing(
    stub: ComfyUIStub,
    tmp_path: Path,
    workdir: Path,
    status: int,
    body: bytes,
    match: str,
    transient: bool,
) -> None:
    stub.override("/view", status, body, content_type="image/png")
    with pytest.raises(RenderError, match=match) as caught:
        generator(stub, tmp_path).render(request(), workdir)
    assert caught.value.transient is transient
    assert leftovers(workdir) == []


# -- the template, checked before anything is sent -------------------------------------

UI_FORMAT = {
    "last_node_id": 9,
    "last_link_id": 9,
    "nodes": [{"id": 1, "type": "KSampler"}],
    "links": [],
}


@pytest.mark.parametrize(
    ("workflow", "take", "match"),
    [
        ('{"1": {"class_type": "SaveImage",', {}, r"is not valid JSON \(line 1"),
        (UI_FORMAT, {}, r"UI format .* export it with 'Save \(API Format\)'"),
        ({"1": {"inputs": {"text": "{{prompt}} {{seed}}"}}}, {}, "no node with a class_type"),
        ([1, 2], {}, "is a JSON list, not an API-format workflow"),
        ({}, {}, "has no nodes"),
        ({"prompt": TXT2IMG, "client_id": "x"}, {}, "whole /prompt request body"),
        (
            {**TXT2IMG, "9": {"inputs": {}}},
            {},
            r"node\(s\) 9 have no class_type",
        ),
        (
            json.loads(json.dumps(TXT2IMG).replace("{{prompt}}", "a fixed prompt")),
            {},
            r"has no \{\{prompt\}\} placeholder, so it cannot use the take's prompt",
        ),
        (
            json.loads(json.dumps(TXT2IMG).replace('"{{seed}}"', "7").replace("{{seed}}", "x")),
            {},
            r"has no \{\{seed\}\} placeholder",
        ),
        (
            TXT2IMG,
            {"mode": Mode.IMAGE_TO_VIDEO},
            r"has no \{\{init_image\}\} placeholder, so it cannot use the init image of this "
            r"image-to-video take",
        ),
        (TXT2IMG, {"references": True}, r"has no \{\{reference_image\}\} placeholder"),
        (
            with_loads("{{reference_image}}"),
            {"references": 2},
            r"takes 1 reference image\(s\) but the take has 2; add \{\{reference_image_2\}\}",
        ),
        (
            with_loads("{{reference_image}}", "{{reference_image_2}}"),
            {"references": True},
            r"uses \{\{reference_image_2\}\} but the take has 1 reference",
        ),
        (
            with_loads("{{init_image}}"),
            {},
            r"uses \{\{init_image\}\} but this text-to-image take has no init",
        ),
        (with_loads("{{steps}}"), {}, r"unknown placeholder\(s\) \{\{steps\}\}"),
        (with_loads("{{model}}"), {}, r"uses \{\{model\}\} but no model is configured"),
        (
            with_loads("{{reference_image_1}}"),
            {},
            r"the first reference is \{\{reference_image\}\}",
        ),
    ],
)
def test_bad_templates_are_refused_before_sending(
    stub: ComfyUIStub,
    tmp_path: Path,
    workdir: Path,
    workflow: Any,
    take: dict[str, Any],
    match: str,
) -> None:
    fields = dict(take)
    if fields.get("mode") == Mode.IMAGE_TO_VIDEO:
        fields.update(init_image=write_png(tmp_path / "first.png"), frames=8)
    if "references" in fields:
        count = 1 if fields["references"] is True else fields["references"]
        fields["references"] = tuple(
            write_png(tmp_path / f"ref{i}.png", seed=i) for i in range(count)
        )
    text = workflow if isinstance(workflow, str) else json.dumps(workflow)
    with pytest.raises(WorkflowError, match=match) as caught:
        generator(stub, tmp_path, text).render(request(**fields), workdir)
    error = caught.value
    assert isinstance(error, RenderError) and isinstance(error, InvalidInputError)
    assert error.transient is False
    assert stub.requests == []


def test_missing_workflow_and_input_files(stub: ComfyUIStub, tmp_path: Path, workdir: Path) -> None:
    with pytest.raises(
        WorkflowError, match=r"no ComfyUI workflow: set the comfyui generator's 'workflow'"
    ):
        ComfyUIGenerator({"url": stub.url}).render(request(), workdir)
    gen = ComfyUIGenerator({"url": stub.url, "workflow": "elsewhere.json"}, project_dir=tmp_path)
    with pytest.raises(WorkflowError, match=r"workflow .*elsewhere\.json does not exist"):
        gen.render(request(), workdir)
    gen = generator(stub, tmp_path, with_loads("{{init_image}}"))
    take = request(Mode.IMAGE_TO_IMAGE, init_image=tmp_path / "nope.png")
    with pytest.raises(WorkflowError, match=r"the init image .*nope\.png is not a file"):
        gen.render(take, workdir)
    with pytest.raises(WorkflowError, match="output_node '99' is not a node"):
        generator(stub, tmp_path, output_node="99").render(request(), workdir)
    assert stub.requests == []


def test_workflow_given_inline_in_the_parameters(
    stub: ComfyUIStub, tmp_path: Path, workdir: Path
) -> None:
    take = request(parameters={"workflow": TXT2IMG, "output_node": "7"})
    result = ComfyUIGenerator({"url": stub.url, "poll_s": 0.2}).render(take, workdir)
    assert result.parameters["workflow"] == TXT2IMG
    assert result.parameters["output"]["node"] == "7"  # asked for: the preview
    assert result.parameters["output"]["type"] == "temp"


def test_placeholders_typed_whole_and_text_inside() -> None:
    workflow = load_workflow(
        {
            "1": {
                "class_type": "X",
                "inputs": {
                    "seed": "{{seed}}",
                    "fps": "{{ fps }}",
                    "size": "{{width}}x{{height}} @ {{fps}} fps, {{frames}} frames",
                    "text": "{{prompt}} -- not {{negative}}",
                    "list": ["{{seed}}", 3],
                    "link": ["2", 0],
                },
            }
        }
    )
    take = request(Mode.TEXT_TO_VIDEO, fps=Fraction(24000, 1001), frames=49, negative_prompt=None)
    filled = fill_workflow(workflow, placeholder_values(workflow, take, None, []))
    assert filled["1"]["inputs"] == {
        "seed": 42,
        "fps": 24000 / 1001,
        "size": f"96x64 @ {24000 / 1001} fps, 49 frames",
        "text": "a lighthouse at dusk, rain -- not ",
        "list": [42, 3],
        "link": ["2", 0],
    }
    assert workflow.nodes["1"]["inputs"]["seed"] == "{{seed}}"  # the template is untouched


# -- identity, configuration, packaging ------------------------------------------------


def test_prompt_id_is_a_uuid4_from_the_idempotency_key() -> None:
    first = prompt_id_for("take-17")
    assert first == prompt_id_for("take-17") != prompt_id_for("take-18")
    assert uuid.UUID(first).version == 4 and str(uuid.UUID(first)) == first
    assert prompt_id_for(None) != prompt_id_for(None)


@pytest.mark.parametrize(
    ("config", "match"),
    [
        ({"url": "127.0.0.1:8188"}, "not an http:// or https:// address"),
        ({"timeout_s": 0}, r"\[generators.comfyui\] timeout_s: expected a number above 0"),
        ({"poll_s": "soon"}, r"poll_s: expected a number above 0, got \"soon\""),
        ({"headers": ["Authorization"]}, "headers: expected a table"),
        ({"base_dir": "/p"}, r"\[generators.comfyui\]: unknown key 'base_dir'"),
        ({"workflow": 3}, "workflow: expected a path or a table"),
    ],
)
def test_bad_configuration_is_refused(config: dict[str, Any], match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        ComfyUIGenerator(config)


def test_capabilities_and_requirements() -> None:
    caps = ComfyUIGenerator.default_capabilities
    assert caps.modes == frozenset(Mode)
    assert caps.reference_images and caps.seeds
    assert ComfyUIGenerator.missing() == []
    assert ComfyUIGenerator.install_hint == "pip install 'setpiece[comfyui]'"


def test_module_imports_without_the_client_libraries() -> None:
    code = (
        "import sys, setpiece.generate.backends.comfyui as m; "
        "m.ComfyUIGenerator({}); "
        "print(sorted(n for n in ('httpx', 'websockets', 'aiohttp') if n in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
