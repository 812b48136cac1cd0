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
    assert result.workflow is not None
    assert leftovers(workdir) == sorted([result.path.name, result.workflow.name])
    assert json.loads(result.workflow.read_text()) == nodes  # the graph as sent
    # The saved file, not the preview (a temp file) of node 7.
    assert result.parameters["output"] == {
        "node": "8",
        "filename": "take_42_00002_.png",
        "subfolder": "setpiece",
        "type": "output",
    }
    assert result.parameters["prompt_id"] == sent["prompt_id"]
    assert result.parameters["comfyui_version"] == "0.3.64"
    assert result.parameters["workflow_path"] == "workflows/template.json"
    assert "workflow" not in result.parameters  # a request's word (what to run), not a recipe's
    assert result.parameters["workflow_choice"] == "workflow"
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
    gen = generator(stub, tmp_path)
    take = request(Mode.TEXT_TO_VIDEO, frames=6)
    with pytest.raises(WorkflowError, match=r"saves stills only \(PreviewImage, SaveImage\)"):
        gen.check(take)  # what the queue asks before queueing
    with pytest.raises(WorkflowError, match="saves stills only") as caught:
        gen.render(take, workdir)
    assert not caught.value.transient
    assert stub.requests == []
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
    # Each LoadImage feeds a save node: no output is valid, so the server answers 400.
    workflow = with_loads("missing.png", "gone.png")
    del workflow["7"], workflow["8"]
    workflow["30"] = {
        "class_type": "SaveImage",
        "inputs": {"images": ["20", 0], "filename_prefix": "a"},
    }
    workflow["31"] = {
        "class_type": "SaveImage",
        "inputs": {"images": ["21", 0], "filename_prefix": "b"},
    }
    workflow["2"]["inputs"]["text"] = "{{prompt}} {{seed}}"
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
        (
            UI_FORMAT,
            {},
            r"UI format .* Workflow > Export \(API\) .* 'Save \(API Format\)' .* "
            r"'Enable Dev mode Options'",
        ),
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
        WorkflowError,
        match=r"no ComfyUI workflow for a text-to-image take with 0 reference.*workflows\] image = ",
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
    take = request(parameters={"workflow": TXT2IMG, "output_node": "8"})
    result = ComfyUIGenerator({"url": stub.url, "poll_s": 0.2}).render(take, workdir)
    assert result.parameters["workflow_template"] == TXT2IMG
    assert result.parameters["workflow_path"] is None and "workflow" not in result.parameters
    assert result.parameters["workflow_choice"] == "the take's workflow"
    assert result.parameters["output"]["node"] == "8"


def test_a_preview_is_never_the_take_even_when_asked_for(
    stub: ComfyUIStub, tmp_path: Path, workdir: Path
) -> None:
    take = request(parameters={"workflow": TXT2IMG, "output_node": "7"})
    with pytest.raises(RenderError, match=r"only temporary previews \(node\(s\) 7\)") as caught:
        ComfyUIGenerator({"url": stub.url, "poll_s": 0.2}).render(take, workdir)
    assert not caught.value.transient
    workflow = json.loads(json.dumps(TXT2IMG))
    del workflow["8"]  # a preview only
    with pytest.raises(
        RenderError, match=r"only temporary previews .* save an image with SaveImage"
    ):
        generator(stub, tmp_path, workflow).render(request(), workdir)
    assert leftovers(workdir) == []


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


# -- the real server's answers (shared/notes/comfyui-api.md, corrections) -------------


def partly_valid(left: str) -> dict[str, Any]:
    """TXT2IMG whose SaveImage lacks its images: only the preview (or a text output) is valid."""
    workflow = json.loads(json.dumps(TXT2IMG))
    del workflow["8"]["inputs"]["images"]
    if left == "text":
        workflow["7"] = {"class_type": "PreviewAny", "inputs": {"source": ["2", 0]}}
    return workflow


@pytest.mark.parametrize("left", ["preview", "text"])
def test_a_partly_valid_workflow_is_refused_and_stopped(
    stub: ComfyUIStub, tmp_path: Path, workdir: Path, left: str
) -> None:
    """Defect 1: a 200 with node_errors ran the rest; the preview became the take."""
    take = request()
    with pytest.raises(RenderError) as caught:
        generator(stub, tmp_path, partly_valid(left)).render(take, workdir)
    assert str(caught.value) == (
        "ComfyUI refused part of the workflow: node 8 (SaveImage): Required input is missing: "
        "images; it would have run only the rest, so the run was stopped; fix those nodes"
    )
    assert not caught.value.transient
    prompt_id = prompt_id_for(take.parameters["idempotency_key"])
    assert stub.interrupts == [{"prompt_id": prompt_id}]
    assert stub.deleted == [prompt_id]
    assert leftovers(workdir) == []


def animated_workflow(save: str) -> dict[str, Any]:
    """A video workflow ending in one of ComfyUI's core video savers, at {{fps}}."""
    workflow = json.loads(json.dumps(TXT2IMG))
    workflow["4"]["inputs"]["batch_size"] = "{{frames}}"
    del workflow["7"], workflow["8"]
    if save == "SaveVideo":
        workflow["9"] = {
            "class_type": "CreateVideo",
            "inputs": {"images": ["6", 0], "fps": "{{fps}}"},
        }
        workflow["10"] = {
            "class_type": "SaveVideo",
            "inputs": {
                "video": ["9", 0],
                "filename_prefix": "video/take",
                "format": "auto",
                "codec": "auto",
            },
        }
        return workflow
    extras: dict[str, dict[str, Any]] = {
        "SaveAnimatedWEBP": {"lossless": True, "quality": 80, "method": "default"},
        "SaveAnimatedPNG": {"compress_level": 4},
        "SaveWEBM": {"codec": "vp9", "crf": 20},
    }
    extra = extras[save]
    workflow["9"] = {
        "class_type": save,
        "inputs": {"images": ["6", 0], "filename_prefix": "take", "fps": "{{fps}}", **extra},
    }
    return workflow


def colours(path: Path) -> list[tuple[int, ...]]:
    from setpiece.store.video import decode

    return [tuple(int(v) for v in frame.rgb.reshape(-1, 3).mean(axis=0)) for frame in decode(path)]


@pytest.mark.parametrize(
    ("save", "fps", "repeat"),
    [
        ("SaveAnimatedWEBP", Fraction(24), 1),
        ("SaveAnimatedWEBP", Fraction(24), 3),  # identical frames merged by libwebp
        ("SaveAnimatedWEBP", Fraction(24), 12),  # all alike: a single picture in the file
        ("SaveAnimatedPNG", Fraction(24), 1),  # FFmpeg reads 293/12
        ("SaveAnimatedPNG", Fraction(24), 4),  # FFmpeg reads 100000/1
        ("SaveAnimatedPNG", Fraction(24000, 1001), 1),
        ("SaveWEBM", Fraction(24), 1),
        ("SaveWEBM", Fraction(24000, 1001), 2),  # the node writes 2997/125
        ("SaveVideo", Fraction(24), 1),
        ("SaveVideo", Fraction(24000, 1001), 1),
    ],
)
def test_animated_outputs_are_video_takes_at_the_requested_rate(
    stub: ComfyUIStub, tmp_path: Path, workdir: Path, save: str, fps: Fraction, repeat: int
) -> None:
    """Defect 2: animated WebP refused, a merged one stored as a still, APNG rates wrong."""
    from generate.comfyui_stub import _color

    stub.repeat = repeat
    take = request(Mode.TEXT_TO_VIDEO, frames=12, fps=fps)
    result = generator(stub, tmp_path, animated_workflow(save)).render(take, workdir)
    info = probe(result.path)
    assert (info.kind, info.frames, info.fps, info.width, info.height) == (
        "video",
        12,
        fps,
        96,
        64,
    )
    assert result.parameters["fps"] == f"{fps.numerator}/{fps.denominator}"
    expected = [_color(42 + i // repeat) for i in range(12)]
    found = colours(result.path)
    assert all(
        max(abs(a - b) for a, b in zip(got, want, strict=True)) <= 12
        for got, want in zip(found, expected, strict=True)
    ), (found, expected)
    assert result.workflow is not None
    assert leftovers(workdir) == sorted([result.path.name, result.workflow.name])


def test_a_video_output_for_a_still_take_is_refused_before_sending(
    stub: ComfyUIStub, tmp_path: Path, workdir: Path
) -> None:
    with pytest.raises(WorkflowError, match=r"saves video only \(SaveWEBM\) but this is a still"):
        generator(stub, tmp_path, animated_workflow("SaveWEBM")).render(request(), workdir)
    assert stub.requests == []


def write_workflow(folder: Path, name: str, workflow: dict[str, Any]) -> str:
    (folder / name).write_text(json.dumps(workflow))
    return name


def test_workflows_are_chosen_per_take_kind_and_reference_count(
    stub: ComfyUIStub, tmp_path: Path
) -> None:
    """Defect 3: one workflow per project failed two-shots, singles, or video."""
    refs = tuple(write_png(tmp_path / f"ref{i}.png", seed=i) for i in range(3))
    table = {
        "image": {
            "refs0": write_workflow(tmp_path, "still.json", TXT2IMG),
            "refs1": write_workflow(tmp_path, "one.json", with_loads("{{reference_image}}")),
            "refs2": write_workflow(
                tmp_path, "two.json", with_loads("{{reference_image}}", "{{reference_image_2}}")
            ),
        },
        "video": write_workflow(tmp_path, "video.json", animated_workflow("SaveWEBM")),
    }
    gen = ComfyUIGenerator(
        {"url": stub.url, "poll_s": 0.2, "workflows": table}, project_dir=tmp_path
    )
    made = {
        count: gen.render(request(references=refs[:count]), tmp_path / f"w{count}")
        for count in (0, 1, 2)
    }
    assert {c: r.parameters["workflow_path"] for c, r in made.items()} == {
        0: "still.json",
        1: "one.json",
        2: "two.json",
    }
    assert made[2].parameters["workflow_choice"] == "workflows.image.refs2"
    clip = gen.render(request(Mode.TEXT_TO_VIDEO, frames=6, fps=Fraction(12)), tmp_path / "v")
    assert clip.parameters["workflow_path"] == "video.json"
    assert probe(clip.path).kind == "video"
    # No workflow for three references, and none for image-to-video: refused with the reason.
    with pytest.raises(
        WorkflowError,
        match=r"no ComfyUI workflow for a text-to-image take with 3 reference image\(s\): "
        r"\[generators.comfyui.workflows\] image has refs0, refs1, refs2; add refs3",
    ):
        gen.check(request(references=refs))
    with pytest.raises(WorkflowError, match=r"workflows\] image_to_video = "):
        gen.check(request(Mode.IMAGE_TO_VIDEO, frames=6, init_image=refs[0]))
    # The fallback takes what the table does not name.
    fallback = ComfyUIGenerator(
        {"url": stub.url, "workflows": {"video": "video.json"}, "workflow": "still.json"},
        project_dir=tmp_path,
    )
    fallback.check(request())


@pytest.mark.parametrize(
    ("table", "match"),
    [
        ({"still": "a.json"}, "unknown take kind 'still'; use image, video, image_to_video"),
        ({"image": {"two": "a.json"}}, "unknown key 'two'; name them by number of references"),
        ({"image": 3}, "expected a file or a table of refs0, refs1"),
        ({"video": {"refs1": 2}}, r"workflows.video.refs1: expected a file"),
    ],
)
def test_bad_workflows_tables_are_refused(table: dict[str, Any], match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        ComfyUIGenerator({"workflows": table})


def test_the_graph_sent_can_be_sent_again_exactly(
    stub: ComfyUIStub, tmp_path: Path, workdir: Path
) -> None:
    """Defect 5: the recipe kept the path and hash; the file changed, the take was lost."""
    refs = (write_png(tmp_path / "ana.png", seed=5),)
    gen = generator(stub, tmp_path, with_loads("{{reference_image}}"))
    first = gen.render(request(references=refs), tmp_path / "first")
    assert first.workflow is not None
    sent = json.loads(first.workflow.read_text())
    changed = with_loads("{{reference_image}}")
    changed["5"]["inputs"]["steps"] = 30
    generator(stub, tmp_path, changed)  # the workflow file is edited
    # The server lost its input folder and another file took the reference's name.
    name = stub.prompts[0]["prompt"]["20"]["inputs"]["image"]
    stub.uploads.clear()
    stub.uploads[name] = b"another picture"
    again = request(
        references=refs,
        parameters={"workflow": sent, "workflow_exact": True, "idempotency_key": "again"},
    )
    second = gen.render(again, workdir)
    resent = stub.prompts[-1]["prompt"]
    renamed = name.replace(".png", " (1).png")
    assert resent["20"]["inputs"]["image"] == renamed
    resent["20"]["inputs"]["image"] = name
    assert resent == stub.prompts[0]["prompt"]
    assert second.path.read_bytes() == first.path.read_bytes()
    # The recipe says where the graph came from, not "exact" where a path is expected.
    assert "workflow" not in second.parameters
    assert second.parameters["workflow_path"] is None  # the replayed take's, none given here
    assert "workflow_exact" not in second.parameters


def test_a_workflow_without_an_output_node_is_refused_with_advice(
    stub: ComfyUIStub, tmp_path: Path, workdir: Path
) -> None:
    workflow = json.loads(json.dumps(TXT2IMG))
    del workflow["7"], workflow["8"]
    with pytest.raises(RenderError) as caught:
        generator(stub, tmp_path, workflow).render(request(), workdir)
    assert str(caught.value) == (
        "ComfyUI refused the workflow: Prompt has no outputs; the workflow has no output node: "
        "end it with a save node (SaveImage, SaveWEBM, SaveVideo, SaveAnimatedWEBP)"
    )
    assert not caught.value.transient


def test_a_server_that_answers_like_another_program(
    stub: ComfyUIStub, tmp_path: Path, workdir: Path
) -> None:
    stub.override("/system_stats", 200, {"status": "ok", "version": "1.7.0"})
    with pytest.raises(
        RenderError, match=r"answered GET /system_stats like another program"
    ) as caught:
        generator(stub, tmp_path).render(request(), workdir)
    assert not caught.value.transient
    assert "POST /prompt" not in stub.requests


def test_a_misspelt_placeholder_is_named_with_its_likely_spelling(
    stub: ComfyUIStub, tmp_path: Path, workdir: Path
) -> None:
    workflow = json.loads(json.dumps(TXT2IMG).replace('"{{width}}"', '"{{widht}}"'))
    with pytest.raises(
        WorkflowError,
        match=r"unknown placeholder\(s\) \{\{widht\}\} \(did you mean \{\{width\}\}\?\)",
    ):
        generator(stub, tmp_path, workflow).check(request())
    assert stub.requests == []


# -- the stub itself follows the notes' corrections --------------------------------------


def filled(workflow: dict[str, Any] = TXT2IMG) -> dict[str, Any]:
    template = load_workflow(workflow)
    return fill_workflow(template, placeholder_values(template, request(), None, []))


def messages_until_done(connection: Any, prompt_id: str) -> list[Any]:
    seen: list[Any] = []
    while True:
        raw = connection.recv(timeout=5)
        message = raw if isinstance(raw, bytes) else json.loads(raw)
        seen.append(message)
        if (
            isinstance(message, dict)
            and message["type"] == "executing"
            and message["data"].get("node") is None
            and message["data"].get("prompt_id") == prompt_id
        ):
            return seen


def test_stub_websocket_order_follows_the_real_server(stub: ComfyUIStub) -> None:
    from websockets.sync.client import connect

    graph = filled()
    graph["9"] = {"class_type": "SaveImageWebsocket", "inputs": {"images": ["6", 0]}}
    with connect(stub.url.replace("http://", "ws://") + "/api/ws?clientId=c1") as connection:
        first = json.loads(connection.recv(timeout=5))
        assert first == {
            "type": "status",
            "data": {"status": {"exec_info": {"queue_remaining": 0}}, "sid": "c1"},
        }
        body = {"prompt": graph, "client_id": "c1", "prompt_id": "Take-1B-2"}
        answer = httpx.post(f"{stub.url}/prompt", json=body).json()
        assert answer == {"prompt_id": "Take-1B-2", "number": 0, "node_errors": {}}
        seen = messages_until_done(connection, "Take-1B-2")
    texts = [m for m in seen if isinstance(m, dict)]
    ours = [m for m in texts if m["data"].get("prompt_id") in ("Take-1B-2", None)]
    kinds = [m["type"] for m in ours]
    assert kinds[:3] == ["status", "status", "execution_start"]
    assert all(m["data"]["status"]["exec_info"]["queue_remaining"] == 1 for m in ours[:2])
    assert "sid" not in ours[0]["data"]
    assert kinds[-3:] == ["execution_success", "status", "executing"]
    for node in ("1", "5", "8", "9"):
        running = next(
            i
            for i, m in enumerate(ours)
            if m["type"] == "progress_state"
            and m["data"]["nodes"].get(node, {}).get("state") == "running"
        )
        executing = next(
            i for i, m in enumerate(ours) if m["type"] == "executing" and m["data"]["node"] == node
        )
        assert running < executing
    assert {"value": 0, "max": 1, "prompt_id": "Take-1B-2", "node": "9"} in [
        m["data"] for m in ours if m["type"] == "progress"
    ]
    assert any(isinstance(m, bytes) and m[:8] == b"\x00\x00\x00\x01\x00\x00\x00\x02" for m in seen)
    others = [m for m in texts if m["data"].get("prompt_id") not in ("Take-1B-2", None)]
    assert others  # another prompt's messages interleave
    entry = httpx.get(f"{stub.url}/history/Take-1B-2").json()["Take-1B-2"]
    assert "9" not in entry["outputs"]  # SaveImageWebsocket leaves no output
    assert entry["outputs"]["8"]["images"][0]["type"] == "output"
    assert entry["outputs"]["7"]["images"][0]["type"] == "temp"


def test_stub_failed_run_and_repeated_ids(stub: ComfyUIStub) -> None:
    from websockets.sync.client import connect

    stub.fail = ("RuntimeError", "boom")
    with connect(stub.url.replace("http://", "ws://") + "/ws?clientId=c2") as connection:
        connection.recv(timeout=5)
        body = {"prompt": filled(), "client_id": "c2", "prompt_id": "p"}
        httpx.post(f"{stub.url}/prompt", json=body)
        seen = messages_until_done(connection, "p")
    ours = [
        m["type"] for m in seen if isinstance(m, dict) and m["data"].get("prompt_id") in ("p", None)
    ]
    assert ours[-3:] == ["execution_error", "status", "executing"]
    entry = httpx.get(f"{stub.url}/history/p").json()["p"]
    assert entry["meta"] == {} and entry["status"]["status_str"] == "error"
    assert entry["status"]["completed"] is False
    stub.fail = None
    numbers = [httpx.post(f"{stub.url}/prompt", json=body).json()["number"] for _ in range(2)]
    assert numbers == [1, 2]  # the same id queued twice, numbers counting up
    deadline = time.monotonic() + 5
    while stub.history["p"]["prompt"][0] != 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert stub.history["p"]["prompt"][0] == 2  # run twice, one history entry
    assert list(httpx.get(f"{stub.url}/history/p").json()) == ["p"]


def test_stub_validation_answers_and_other_routes(stub: ComfyUIStub) -> None:
    partial = filled(partly_valid("preview"))
    answer = httpx.post(f"{stub.url}/prompt", json={"prompt": partial, "prompt_id": "x"})
    assert answer.status_code == 200
    assert answer.json()["node_errors"] == {
        "8": {
            "errors": [
                {
                    "type": "required_input_missing",
                    "message": "Required input is missing",
                    "details": "images",
                    "extra_info": {"input_name": "images"},
                }
            ],
            "dependent_outputs": ["8"],
            "class_type": "SaveImage",
        }
    }
    del partial["7"]
    refused = httpx.post(f"{stub.url}/prompt", json={"prompt": partial})
    assert refused.status_code == 400
    assert refused.json()["error"]["details"] == "Required input is missing: images"
    assert refused.json()["error"]["type"] == "prompt_outputs_failed_validation"
    assert httpx.get(f"{stub.url}/object_info/NoSuchNode").json() == {}
    assert "SaveImage" in httpx.get(f"{stub.url}/object_info/SaveImage").json()
    missing = httpx.get(f"{stub.url}/view", params={"filename": "nope.png", "type": "output"})
    assert (missing.status_code, missing.content) == (404, b"")
    assert "content-type" not in missing.headers
    deleted = httpx.post(f"{stub.url}/queue", json={"delete": ["x"]})
    assert (deleted.status_code, deleted.content) == (200, b"")
    stub.wait_idle()
    video = filled(animated_workflow("SaveAnimatedWEBP"))
    httpx.post(f"{stub.url}/prompt", json={"prompt": video, "prompt_id": "v"})
    deadline = time.monotonic() + 5
    while "v" not in stub.history and time.monotonic() < deadline:
        time.sleep(0.02)
    output = stub.history["v"]["outputs"]["9"]
    assert output["animated"] == [False]  # a batch of one (frames=1 in this request)
    assert output["images"][0]["filename"].endswith(".webp")


def test_recipes_old_and_new_name_their_workflow_file() -> None:
    """Older recipes said "workflow": a path, an inline graph, or "exact" in a replay."""
    from setpiece.generate.queue._recipe import recipe_workflow_path

    assert recipe_workflow_path({"workflow_path": "one.json", "workflow": "x.json"}) == "one.json"
    assert recipe_workflow_path({"workflow_path": None}) is None
    assert recipe_workflow_path({"workflow": "one.json"}) == "one.json"
    assert recipe_workflow_path({"workflow": "exact"}) is None
    assert recipe_workflow_path({"workflow": TXT2IMG}) is None
    assert recipe_workflow_path(None) is None
