"""The runway backend, through the real ``runwayml`` SDK, against a local stub of Runway's API."""

from __future__ import annotations

import json
import logging
import pickle
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import pytest
from PIL import Image

from mediafactory import write_png
from setpiece.errors import InvalidInputError
from setpiece.generate.backends.runway import (
    RunwayGenerator,
    derive_tag,
    nearest_duration,
    nearest_ratio,
    tag_prompt,
)
from setpiece.generate.base import Cost, Mode, RenderError, RenderRequest, RenderResult

try:
    from runway_stub import CANCELLED, NEVER_FINISHES, RunwayStub, fails
except ImportError:  # tests/generate became a package
    from .runway_stub import (  # type: ignore[no-redef]
        CANCELLED,
        NEVER_FINISHES,
        RunwayStub,
        fails,
    )

pytest.importorskip("runwayml", reason="the runway extra: pip install 'setpiece[runway]'")

SECRET = "key_" + "5e" * 64  # shaped like a real key: key_ and 128 hex digits

pytestmark = pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")


@pytest.fixture(autouse=True)
def _runway_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNWAYML_API_SECRET", SECRET)
    for name in ("RUNWAYML_BASE_URL", "RUNWAYML_CUSTOM_HEADERS", "RUNWAYML_LOG"):
        monkeypatch.delenv(name, raising=False)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):  # the stub is on loopback
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture
def stub() -> Iterator[RunwayStub]:
    with RunwayStub(SECRET) as server:
        yield server


# Rates for the default models that have no written default (made-up test figures).
TEST_RATES = {"gen4_image": 1, "gen4.5": 2}


def generator(stub: RunwayStub, **config: Any) -> RunwayGenerator:
    return RunwayGenerator(
        {"base_url": stub.url, "poll_interval_s": 0.01, "rates": TEST_RATES, **config}
    )


@pytest.fixture
def runway(stub: RunwayStub) -> Iterator[RunwayGenerator]:
    backend = generator(stub)
    yield backend
    backend.close()


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path / "work"


@pytest.fixture
def stills(tmp_path: Path) -> Path:
    folder = tmp_path / "stills"
    folder.mkdir()
    return folder


def still(folder: Path, name: str, seed: int = 1) -> Path:
    return write_png(folder / name, seed=seed)


def request(mode: Mode = Mode.TEXT_TO_IMAGE, **fields: Any) -> RenderRequest:
    defaults: dict[str, Any] = {"prompt": "A kitchen at night", "seed": 42, "width": 1280}
    return RenderRequest(mode=mode, **{"height": 720, **defaults, **fields})


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# Success: the three modes ------------------------------------------------------------------


def test_text_to_image_tags_references_and_downloads_the_still(
    runway: RunwayGenerator, stub: RunwayStub, stills: Path, workdir: Path
) -> None:
    anna, boris = still(stills, "anna.png", 1), still(stills, "Boris Godunov.png", 2)
    seen: list[float] = []

    result = runway.render(
        request(
            prompt="Anna hands Boris Godunov a letter; anna's hands shake", references=(anna, boris)
        ),
        workdir,
        seen.append,
    )

    (create,) = stub.created
    assert create.path == "/v1/text_to_image"
    body = create.body
    assert body["model"] == "gen4_image"
    assert body["promptText"] == "@anna hands @boris_godunov a letter; @anna's hands shake"
    assert body["ratio"] == "1280:720"  # 16:9 as 1920:1080 is, nearer in size
    assert body["seed"] == 42
    assert [r["tag"] for r in body["referenceImages"]] == ["anna", "boris_godunov"]
    uploaded = [stub.uploads[r["uri"]] for r in body["referenceImages"]]
    assert uploaded == [anna.read_bytes(), boris.read_bytes()]
    assert result.path.parent == workdir and result.path.suffix == ".png"
    assert Image.open(result.path).size == (96, 54)
    assert leftovers(workdir) == [result.path.name]  # no temporary file left
    assert seen == [0.25, 0.75, 1.0]
    task_id = next(iter(stub.tasks))
    assert result.model == "gen4_image"
    assert result.parameters == {
        "mode": "text-to-image",
        "model": "gen4_image",
        "prompt_text": body["promptText"],
        "ratio": "1280:720",
        "seed": 42,
        "task_id": task_id,
        "api_version": "2024-11-06",
        "sdk_version": result.parameters["sdk_version"],
        "reference_tags": ["anna", "boris_godunov"],
        "reference_files": ["anna.png", "Boris Godunov.png"],
    }
    assert "://" not in json.dumps(result.parameters)  # no signed URL recorded
    assert stub.deleted == []


def test_every_api_call_carries_the_key_and_version_but_the_upload_leg_does_not(
    runway: RunwayGenerator, stub: RunwayStub, stills: Path, workdir: Path
) -> None:
    runway.render(request(references=(still(stills, "anna.png"),)), workdir)

    api = [c for c in stub.calls if c.path.startswith("/v1/")]
    assert api and all(c.headers["authorization"] == f"Bearer {SECRET}" for c in api)
    assert all(c.headers["x-runway-version"] == "2024-11-06" for c in api)
    (upload,) = stub.calls_to("POST", "/v1/uploads")
    assert upload.body == {"filename": "anna.png", "type": "ephemeral"}
    (bucket,) = stub.calls_to("POST", "/bucket")
    assert "authorization" not in bucket.headers  # the key never goes to the storage host
    assert "x-amz-signature" in bucket.body["fields"]


def test_reference_tags_given_as_names_rewrite_the_prompt(
    runway: RunwayGenerator, stub: RunwayStub, stills: Path, workdir: Path
) -> None:
    hashed = still(stills, "3fa9c0d1e2b4.png")
    result = runway.render(
        request(
            prompt="Anna Karenina reads. ANNA KARENINA's letter",
            references=(hashed,),
            parameters={"reference_tags": ["Anna Karenina"]},
        ),
        workdir,
    )

    body = stub.created[0].body
    assert body["promptText"] == "@anna_karenina reads. @anna_karenina's letter"
    assert body["referenceImages"][0]["tag"] == "anna_karenina"
    assert result.parameters["reference_tags"] == ["anna_karenina"]


def test_references_named_by_hash_get_numbered_tags(
    runway: RunwayGenerator, stub: RunwayStub, stills: Path, workdir: Path
) -> None:
    refs = (still(stills, "3fa9c0.png", 1), still(stills, "77b1e4.png", 2))
    runway.render(request(prompt="A kitchen", references=refs), workdir)

    body = stub.created[0].body
    assert [r["tag"] for r in body["referenceImages"]] == ["ref1", "ref2"]
    assert body["promptText"] == "A kitchen"


def test_image_to_video_uploads_the_init_image(
    runway: RunwayGenerator, stub: RunwayStub, stills: Path, workdir: Path
) -> None:
    first = still(stills, "first-frame.png", 3)
    result = runway.render(
        request(
            Mode.IMAGE_TO_VIDEO,
            prompt="slow push in",
            width=1920,
            height=1080,
            frames=120,
            init_image=first,
        ),
        workdir,
    )

    body = stub.created[0].body
    assert stub.created[0].path == "/v1/image_to_video"
    assert body["model"] == "gen4_turbo"
    assert stub.uploads[body["promptImage"]] == first.read_bytes()
    assert (body["ratio"], body["duration"], body["seed"]) == ("1280:720", 5, 42)
    assert result.parameters["duration"] == 5 and result.parameters["requested_seconds"] == 5.0
    assert result.path.suffix == ".mp4"
    with av.open(str(result.path)) as clip:
        assert sum(1 for _ in clip.decode(video=0)) == 12


@pytest.mark.parametrize(
    ("frames", "fps", "sent"),
    [
        (120, Fraction(24), 5),
        (24 * 10, Fraction(24), 10),  # the longest the model takes
        (1, Fraction(24), 2),
        (96, Fraction(24000, 1001), 4),  # 4.004 s
    ],
)
def test_text_to_video_duration_from_frames_and_fps(
    runway: RunwayGenerator, stub: RunwayStub, workdir: Path, frames: int, fps: Fraction, sent: int
) -> None:
    result = runway.render(
        request(Mode.TEXT_TO_VIDEO, width=720, height=1280, frames=frames, fps=fps), workdir
    )

    body = stub.created[0].body
    assert stub.created[0].path == "/v1/text_to_video"
    assert (body["model"], body["ratio"], body["duration"]) == ("gen4.5", "720:1280", sent)
    assert "promptImage" not in body
    assert result.parameters["duration"] == sent
    assert result.parameters["requested_seconds"] == round(float(frames / fps), 3)


def test_a_clip_longer_than_the_model_takes_is_refused_before_sending(
    runway: RunwayGenerator, stub: RunwayStub, workdir: Path
) -> None:
    # It was clamped to 10 s; Capabilities.max_seconds is now enforced, so the queue
    # refuses it before queuing (Generator.check) instead of rendering a third of the shot.
    long = request(Mode.TEXT_TO_VIDEO, width=720, height=1280, frames=24 * 30, fps=Fraction(24))
    assert runway.capabilities().max_seconds == 10
    with pytest.raises(InvalidInputError, match=r"at most 10 s, not 30 s"):
        runway.check(long)
    with pytest.raises((InvalidInputError, RenderError), match=r"at most 10 s"):
        runway.render(long, workdir)
    assert stub.created == []


def test_models_ratios_and_durations_are_configuration(stub: RunwayStub, workdir: Path) -> None:
    backend = generator(
        stub,
        text_video_model="veo3.1",
        text_video_ratios=["1920:1080", "1080:1920"],
        text_video_durations=[4, 6, 8],
        rates={"veo3.1": 40, "veo3.1_fast": 15},
    )
    backend.render(request(Mode.TEXT_TO_VIDEO, frames=120), workdir)  # 5 s: 4 and 6 tie
    backend.render(request(Mode.TEXT_TO_VIDEO, frames=120, model="veo3.1_fast"), workdir)

    first, second = (c.body for c in stub.created)
    assert (first["model"], first["ratio"], first["duration"]) == ("veo3.1", "1920:1080", 4)
    assert second["model"] == "veo3.1_fast"  # the request's model wins over the config's
    assert backend.capabilities().max_seconds == 10.0  # video_durations still go to 10


def test_cost_is_the_rate_times_the_seconds_billed(stub: RunwayStub, workdir: Path) -> None:
    backend = generator(stub)
    clip = request(Mode.TEXT_TO_VIDEO, frames=115)  # 4.79 s asked, 5 s billed
    assert backend.quote(clip) == Cost(Decimal(10), "credits")  # gen4.5 at 2 (TEST_RATES)
    assert backend.render(clip, workdir).cost == Cost(Decimal(10), "credits")
    still = request(Mode.TEXT_TO_IMAGE)
    assert backend.render(still, workdir).cost == Cost(Decimal(1), "credits")
    turbo = generator(stub, rates={})  # the dated default: gen4_turbo 5 credits/s
    assert turbo.settings.rate_table().rate("gen4_turbo") == Decimal(5)


def test_a_model_without_a_rate_is_refused_before_anything_is_sent(
    stub: RunwayStub, workdir: Path
) -> None:
    backend = generator(stub, text_video_model="veo3")
    with pytest.raises(InvalidInputError, match=r"no rate for model 'veo3'"):
        backend.quote(request(Mode.TEXT_TO_VIDEO, frames=48))
    with pytest.raises(InvalidInputError, match=r"no rate for model 'veo3'"):
        backend.render(request(Mode.TEXT_TO_VIDEO, frames=48), workdir)
    assert stub.created == []


@pytest.mark.parametrize("rate", [-5, "lots"])
def test_a_bad_rate_is_refused_when_the_settings_are_read(rate: object) -> None:
    with pytest.raises(InvalidInputError, match=r"\[generators.runway.rates\] gen4:"):
        RunwayGenerator({"rates": {"gen4": rate}})


# The pure parts ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("width", "height", "ratios", "expected"),
    [
        (1920, 1080, None, "1920:1080"),
        (1280, 720, None, "1280:720"),
        (1000, 1000, None, "1024:1024"),
        (2048, 858, None, "1808:768"),  # 2.39:1 scope
        (1080, 1350, None, "1080:1440"),  # 4:5 portrait
        (1920, 800, ["1280:720", "720:1280", "1584:672"], "1584:672"),
    ],
)
def test_nearest_ratio(width: int, height: int, ratios: list[str] | None, expected: str) -> None:
    from setpiece.generate.backends.runway import GEN4_IMAGE_RATIOS

    assert nearest_ratio(width, height, ratios or GEN4_IMAGE_RATIOS) == expected


def test_nearest_duration() -> None:
    assert nearest_duration(Fraction(7, 2), range(2, 11)) == 3
    assert nearest_duration(Fraction(30), [4, 6, 8]) == 8
    assert nearest_duration(Fraction(1, 24), [4, 6, 8]) == 4


@pytest.mark.parametrize(
    ("name", "tag"),
    [
        ("Anna", "anna"),
        ("Anna Karenina", "anna_karenina"),
        ("Jean-Luc", "jean_luc"),
        ("Zoë", "zoe"),
        ("Bo", "bo_"),
        ("007", "ref_007"),
        ("Alexandra Feodorovna Romanova", "alexandra_feodor"),
    ],
)
def test_derive_tag(name: str, tag: str) -> None:
    assert derive_tag(name) == tag


def test_tag_prompt_rewrites_whole_names_once() -> None:
    mentions = {"Anna": "anna", "Anna Karenina": "anna_k"}
    prompt = "Anna Karenina meets Anna and Annabel; @anna waves. anna-karenina"
    assert tag_prompt(prompt, mentions) == "@anna_k meets @anna and Annabel; @anna waves. @anna_k"


def test_bad_config_names_the_key() -> None:
    with pytest.raises(InvalidInputError, match="poll_interval_s"):
        RunwayGenerator({"poll_interval_s": 0})
    with pytest.raises(InvalidInputError, match="image_ratios"):
        RunwayGenerator({"image_ratios": ["16x9"]})
    with pytest.raises(InvalidInputError, match="video_durations"):
        RunwayGenerator({"video_durations": [2.5]})


# Refused before anything is sent ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "match"),
    [
        ("video with references", "text-to-image only"),
        ("image-to-video without init image", "needs an init image"),
        ("init image for a still", "takes no init image"),
        ("negative seed", "seeds run from 0"),
        ("seed past 32 bits", "seeds run from 0"),
        ("four references", "at most 3 reference images"),
        ("tiny init image", "512 bytes to 200 MB"),
        ("missing init image", "cannot read"),
        ("tags do not match references", "reference_tags has 1 names for 2"),
        ("empty prompt", "needs a prompt"),
    ],
)
def test_refused_before_any_request(
    runway: RunwayGenerator, stub: RunwayStub, stills: Path, workdir: Path, case: str, match: str
) -> None:
    a, b = still(stills, "anna.png", 1), still(stills, "boris.png", 2)
    tiny = stills / "tiny.png"
    tiny.write_bytes(b"\x89PNG" + bytes(100))
    bad = {
        "video with references": request(Mode.TEXT_TO_VIDEO, references=(a,)),
        "image-to-video without init image": request(Mode.IMAGE_TO_VIDEO),
        "init image for a still": request(init_image=a),
        "negative seed": request(seed=-1),
        "seed past 32 bits": request(seed=2**32),
        "four references": request(references=(a, b, a, b)),
        "tiny init image": request(Mode.IMAGE_TO_VIDEO, init_image=tiny),
        "missing init image": request(Mode.IMAGE_TO_VIDEO, init_image=stills / "gone.png"),
        "tags do not match references": request(
            references=(a, b), parameters={"reference_tags": ["anna"]}
        ),
        "empty prompt": request(prompt="  "),
    }[case]
    with pytest.raises(InvalidInputError, match=match):
        runway.render(bad, workdir)
    assert stub.calls == []


# Failures, each with its transient flag --------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "transient"),
    [
        ("SAFETY.INPUT.TEXT", False),
        ("SAFETY.OUTPUT.VIDEO", False),
        ("INPUT_PREPROCESSING.SAFETY.TEXT", False),
        ("ASSET.INVALID", False),
        ("INTERNAL.BAD_OUTPUT.CODE01", False),
        ("INTERNAL", True),
        ("INPUT_PREPROCESSING.INTERNAL", True),
        (None, False),
    ],
)
def test_failed_task(
    runway: RunwayGenerator, stub: RunwayStub, workdir: Path, code: str | None, transient: bool
) -> None:
    stub.script = fails(code, "The prompt was flagged.")
    with pytest.raises(RenderError) as caught:
        runway.render(request(), workdir)

    assert caught.value.transient is transient
    assert str(code or "no code") in str(caught.value)
    assert "The prompt was flagged." in str(caught.value)
    assert leftovers(workdir) == []
    assert stub.deleted == []  # it ended on Runway's side: nothing to cancel


def test_transient_failure_codes_are_configuration(stub: RunwayStub, workdir: Path) -> None:
    stub.script = fails("INTERNAL.BAD_OUTPUT.CODE01")
    backend = generator(stub, transient_failure_codes=["INTERNAL.*"])
    with pytest.raises(RenderError) as caught:
        backend.render(request(), workdir)
    assert caught.value.transient


def test_cancelled_task_is_permanent(
    runway: RunwayGenerator, stub: RunwayStub, workdir: Path
) -> None:
    stub.script = CANCELLED
    with pytest.raises(RenderError, match="was cancelled") as caught:
        runway.render(request(), workdir)
    assert not caught.value.transient


@pytest.mark.parametrize(
    ("status", "transient"),
    [(400, False), (403, False), (404, False), (422, False), (429, True), (500, True), (503, True)],
)
def test_create_errors(
    runway: RunwayGenerator, stub: RunwayStub, workdir: Path, status: int, transient: bool
) -> None:
    stub.answer_next("POST /v1/text_to_image", status, {"error": "ratio: Invalid enum value"})
    with pytest.raises(RenderError) as caught:
        runway.render(request(), workdir)

    assert caught.value.transient is transient
    message = str(caught.value)
    assert f"HTTP {status}" in message and "ratio: Invalid enum value" in message
    assert "\n" not in message
    assert len(stub.calls_to("POST", "/v1/text_to_image")) == 1  # the SDK did not retry
    assert stub.tasks == {} and leftovers(workdir) == []


def test_rate_limited_then_ok_on_the_queues_retry(
    runway: RunwayGenerator, stub: RunwayStub, workdir: Path
) -> None:
    stub.answer_next("POST /v1/text_to_image", 429, {"error": "Too many requests"})
    with pytest.raises(RenderError, match="rate-limiting") as caught:
        runway.render(request(), workdir)
    assert caught.value.transient

    result = runway.render(request(), workdir)  # what the render queue does after its back-off
    assert result.path.is_file()


def test_wrong_secret_is_permanent_and_says_what_to_set(
    runway: RunwayGenerator, stub: RunwayStub, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNWAYML_API_SECRET", "key_" + "0" * 128)
    with pytest.raises(RenderError) as caught:
        runway.render(request(), workdir)
    assert str(caught.value).startswith("Runway rejected the API secret: set RUNWAYML_API_SECRET")
    assert not caught.value.transient


def test_missing_secret_is_permanent_and_sends_nothing(
    runway: RunwayGenerator, stub: RunwayStub, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RUNWAYML_API_SECRET")
    with pytest.raises(RenderError, match="set RUNWAYML_API_SECRET") as caught:
        runway.render(request(), workdir)
    assert not caught.value.transient
    assert stub.calls == []


@pytest.mark.parametrize("content_type", ["application/json", "text/html"])
def test_garbage_answer_to_create_is_transient(
    runway: RunwayGenerator, stub: RunwayStub, workdir: Path, content_type: str
) -> None:
    stub.answer_next("POST /v1/text_to_image", 200, raw=b"<html>{oops", content_type=content_type)
    with pytest.raises(RenderError) as caught:
        runway.render(request(), workdir)
    assert caught.value.transient


def test_blips_while_polling_are_ridden_out(
    runway: RunwayGenerator, stub: RunwayStub, workdir: Path
) -> None:
    stub.answer_next("GET /v1/tasks", 500, {"error": "upstream"})
    stub.answer_next("GET /v1/tasks", 429, {"error": "slow down"})
    stub.answer_next("GET /v1/tasks", 200, raw=b"{not json")

    result = runway.render(request(), workdir)
    assert result.path.is_file()
    assert stub.deleted == []


def test_polling_errors_past_the_limit_cancel_the_task(stub: RunwayStub, workdir: Path) -> None:
    backend = generator(stub, poll_error_limit=2)
    stub.answer_next("GET /v1/tasks", 503, {"error": "shedding load"}, times=10)
    with pytest.raises(RenderError, match="HTTP 503") as caught:
        backend.render(request(), workdir)
    assert caught.value.transient
    assert stub.deleted == list(stub.tasks)


def test_permanent_error_while_polling_cancels_the_task(
    runway: RunwayGenerator, stub: RunwayStub, workdir: Path
) -> None:
    stub.answer_next("GET /v1/tasks", 404, {"error": "Task not found"})
    with pytest.raises(RenderError, match="HTTP 404") as caught:
        runway.render(request(), workdir)
    assert not caught.value.transient
    assert stub.deleted == list(stub.tasks)


def test_time_out_cancels_the_task(stub: RunwayStub, workdir: Path) -> None:
    stub.script = NEVER_FINISHES
    backend = generator(stub, timeout_s=0.3)
    start = time.monotonic()
    with pytest.raises(RenderError, match=r"did not finish within 0\.3 s") as caught:
        backend.render(request(Mode.TEXT_TO_VIDEO), workdir)

    assert caught.value.transient
    assert time.monotonic() - start < 2
    assert stub.deleted == list(stub.tasks) and len(stub.deleted) == 1
    assert leftovers(workdir) == []


def test_interrupt_cancels_the_task(
    runway: RunwayGenerator, stub: RunwayStub, workdir: Path
) -> None:
    def stop(_: float) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        runway.render(request(), workdir, stop)
    assert stub.deleted == list(stub.tasks)


def test_unreachable_server_is_transient(workdir: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    backend = RunwayGenerator(
        {"base_url": f"http://127.0.0.1:{port}", "request_timeout_s": 2, "rates": TEST_RATES}
    )
    with pytest.raises(RenderError, match="cannot reach Runway") as caught:
        backend.render(request(), workdir)
    assert caught.value.transient


@pytest.mark.parametrize(("status", "transient"), [(503, True), (403, False)])
def test_upload_failures(
    runway: RunwayGenerator,
    stub: RunwayStub,
    stills: Path,
    workdir: Path,
    status: int,
    transient: bool,
) -> None:
    stub.answer_next("POST /bucket", status, raw=b"<Error/>", content_type="application/xml")
    init = still(stills, "first.png")
    with pytest.raises(RenderError, match="uploading") as caught:
        runway.render(request(Mode.IMAGE_TO_VIDEO, init_image=init), workdir)
    assert caught.value.transient is transient
    assert stub.tasks == {}


def test_empty_output_leaves_nothing_behind(
    runway: RunwayGenerator, stub: RunwayStub, workdir: Path
) -> None:
    stub.output_bytes = b""
    with pytest.raises(RenderError, match="is empty") as caught:
        runway.render(request(), workdir)
    assert caught.value.transient
    assert leftovers(workdir) == []


def test_expired_output_url_is_fetched_again(
    runway: RunwayGenerator, stub: RunwayStub, workdir: Path
) -> None:
    stub.answer_next("GET /outputs", 403, raw=b"<Error>Request has expired</Error>")
    result = runway.render(request(), workdir)

    assert result.path.is_file()
    assert len(stub.calls_to("GET", "/outputs")) == 2
    assert leftovers(workdir) == [result.path.name]


def test_output_that_cannot_be_fetched_twice_leaves_nothing(
    runway: RunwayGenerator, stub: RunwayStub, workdir: Path
) -> None:
    stub.answer_next("GET /outputs", 404, raw=b"<Error/>", times=2)
    with pytest.raises(RenderError, match="HTTP 404") as caught:
        runway.render(request(), workdir)
    assert caught.value.transient
    assert leftovers(workdir) == []
    assert stub.deleted == []


# The secret ------------------------------------------------------------------------------------


def test_secret_never_leaks(
    stub: RunwayStub,
    stills: Path,
    workdir: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)  # the SDK's and httpx's debug logs too
    monkeypatch.setenv("RUNWAYML_LOG", "debug")
    backend = generator(stub, timeout_s=0.3, poll_error_limit=1)
    patient = generator(stub, timeout_s=30, poll_error_limit=1)  # success must not race a busy CPU
    seen: list[str] = []
    results: list[RenderResult] = [
        patient.render(request(references=(still(stills, "anna.png"),)), workdir),
        patient.render(request(Mode.IMAGE_TO_VIDEO, init_image=still(stills, "f.png")), workdir),
    ]
    # A server (or a proxy) that echoes the key back in its error, a failure, a time-out:
    stub.answer_next("POST /v1/text_to_image", 400, {"error": f"bad key Bearer {SECRET}"})
    stub.answer_next("GET /v1/tasks", 503, {"error": f"{SECRET} is throttled"}, times=2)
    for script in (None, None, fails("SAFETY.INPUT.TEXT", f"key {SECRET}"), NEVER_FINISHES):
        if script is not None:
            stub.script = script
        with pytest.raises(RenderError) as caught:
            backend.render(request(), workdir)
        seen.append(str(caught.value))
        seen.append(repr(caught.value.args))

    assert any("[secret]" in message for message in seen)
    for text in (*seen, caplog.text, *(repr(r) for r in results)):
        assert SECRET not in text
    for result in results:
        assert SECRET not in json.dumps(result.parameters)
    assert SECRET.encode() not in pickle.dumps(backend)
    assert all("authorization" not in c.headers for c in stub.calls_to("POST", "/bucket"))


# Registry and import cost -------------------------------------------------------------------


def test_registered_as_runway_with_its_install_hint() -> None:
    import importlib

    from setpiece.generate.registry import BUILTINS

    module, _, name = BUILTINS["runway"].partition(":")
    cls = getattr(importlib.import_module(module), name)
    assert cls is RunwayGenerator and cls.name == "runway"
    assert cls.requires == ("runwayml",) and cls.missing() == []
    assert cls.install_hint == "pip install 'setpiece[runway]'"
    assert cls.default_capabilities.to_json()["modes"] == [
        "image-to-video",
        "text-to-image",
        "text-to-video",
    ]


def test_importing_the_backend_does_not_import_the_sdk() -> None:
    code = (
        "import sys, setpiece.generate.backends.runway as r; "
        "r.RunwayGenerator({}); "
        "assert 'runwayml' not in sys.modules and 'httpx' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
