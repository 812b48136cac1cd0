"""The replicate backend, through the real ``replicate`` SDK, against a local stub of
Replicate's API (``replicate_stub``): takes rendered with ``setpiece render`` as a user does,
and the backend's refusals, errors, cancelling and cost."""

from __future__ import annotations

import logging
import os
import pickle
from collections.abc import Iterator
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from PIL import Image
from skimage import data
from sqlalchemy import select

from mediafactory import write_png
from setpiece.errors import InvalidInputError
from setpiece.generate.base import Cost, GeneratorUnavailable, Mode, RenderError, RenderRequest
from setpiece.model.orm import Take
from setpiece.production.context import Production

pytest.importorskip("replicate", reason="the replicate extra: pip install 'setpiece[replicate]'")

from generate.replicate_stub import NEVER_FINISHES, HostedModel, ReplicateStub, failed
from setpiece.generate.backends.replicate import ReplicateGenerator

TOKEN = "r8_" + "Zq7" * 12  # shaped like a real token: r8_ and 37 characters
FLUX = "black-forest-labs/flux-1.1-pro"
KLING = "kwaivgi/kling-v2.1"
WAN = "wavespeedai/wan-2.1-t2v-480p"  # billed by hardware time

pytestmark = pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")


@pytest.fixture(autouse=True)
def _replicate_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPLICATE_API_TOKEN", TOKEN)
    for name in ("REPLICATE_BASE_URL", "REPLICATE_POLL_INTERVAL"):
        monkeypatch.delenv(name, raising=False)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):  # the stub is on loopback
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


def hosted() -> dict[str, HostedModel]:
    return {
        FLUX: HostedModel(video=False),
        KLING: HostedModel(video=True, required=("prompt", "start_image")),
        "luma/ray": HostedModel(video=True),
        WAN: HostedModel(video=True),
    }


@pytest.fixture
def stub() -> Iterator[ReplicateStub]:
    with ReplicateStub(TOKEN, hosted()) as server:
        yield server


def config(stub: ReplicateStub, **overrides: Any) -> dict[str, Any]:
    """A ``[generators.replicate]`` table: FLUX for stills (one reference, as image_prompt),
    Kling for clips (first frame as start_image, 5 or 10 s), each with a rate."""
    table: dict[str, Any] = {
        "base_url": stub.url,
        "poll_interval_s": 0.01,
        "image_model": FLUX,
        "video_model": KLING,
        "models": {
            FLUX: {"aspect_ratio": "aspect_ratio", "references": "image_prompt"},
            KLING: {
                "init_image": "start_image",
                "needs_init_image": True,
                "negative_prompt": "negative_prompt",
                "duration": "duration",
                "durations": [5, 10],
                "fixed": {"mode": "standard"},
            },
            WAN: {"billed": "predict_time", "frames": "num_frames"},
        },
        "rates": {FLUX: "0.04", KLING: 0.05, "luma/ray": "0.09", WAN: "0.00115"},
    }
    table.update(overrides)
    return table


@pytest.fixture
def replicate(stub: ReplicateStub) -> Iterator[ReplicateGenerator]:
    backend = ReplicateGenerator(config(stub))
    yield backend
    backend.close()


def request(mode: Mode = Mode.TEXT_TO_IMAGE, **fields: Any) -> RenderRequest:
    defaults: dict[str, Any] = {"prompt": "A kitchen at night", "seed": 42, "width": 1280}
    if mode in (Mode.TEXT_TO_VIDEO, Mode.IMAGE_TO_VIDEO):
        defaults.update(frames=48, fps=Fraction(24))
    return RenderRequest(mode=mode, **{"height": 720, **defaults, **fields})


# Through the CLI: a still and a clip, as a user renders them ----------------------------------


@pytest.fixture
def film(cli, tmp_path: Path, stub: ReplicateStub) -> Path:
    """Shot 1A, a close-up of ANNA (with a reference photo), and [generators.replicate]."""
    assert cli("init", "film", "--resolution", "320x180").code == 0
    os.chdir(tmp_path / "film")
    assert cli("scene", "add", "--heading", "INT. HANGAR - DAY").code == 0
    face = tmp_path / "anna.png"  # a reference must show one face (issue 27)
    Image.fromarray(data.astronaut()).save(face)
    assert cli("character", "add", "ANNA", "--ref", face).code == 0
    assert cli("shot", "add", "1", "--code", "1A", "--size", "CU", "--characters", "ANNA").code == 0
    toml = tmp_path / "film" / "setpiece.toml"
    toml.write_text(toml.read_text() + tomli_w.dumps({"generators": {"replicate": config(stub)}}))
    return tmp_path / "film"


def test_a_still_and_a_clip_rendered_with_their_cost(cli, film: Path, stub: ReplicateStub) -> None:
    dry = cli("render", "1A", "--generator", "replicate", "--dry-run", "--json")
    assert dry.code == 0, dry.err
    assert "0.04" in dry.out and "usd" in dry.out and stub.calls == []  # quoted, nothing sent
    asks = cli("render", "1A", "--generator", "replicate")  # over [render] confirm_over usd = 0
    assert asks.code == 2 and "0.04 usd" in asks.err and stub.calls == []
    still = cli("render", "1A", "--generator", "replicate", "--yes")
    assert still.code == 0, still.err
    clip = cli(
        "render", "1A", "--generator", "replicate", "--kind", "video", "--from", "1A/1", "--yes"
    )
    assert clip.code == 0, clip.err

    first, second = stub.created
    assert first.model == FLUX and first.input["aspect_ratio"] == "16:9"
    assert first.input["image_prompt"] in stub.files  # ANNA's reference, uploaded
    assert second.model == KLING
    assert second.input["duration"] == 5 and second.input["mode"] == "standard"
    still_take = cli("take", "show", "1A/1", "--json").json()
    clip_take = cli("take", "show", "1A/2", "--json").json()
    # The clip's first frame is the still take's own file, uploaded.
    init = stub.files[second.input["start_image"]]
    assert init == Path(still_take["media"]["path"]).read_bytes()

    assert still_take["recipe"]["parameters"]["model"] == FLUX
    assert clip_take["recipe"]["parameters"]["model"] == KLING
    assert clip_take["kind"] == "video"
    assert cost_of(still_take) == ("0.04", "usd")  # one image at 0.04 USD
    assert cost_of(clip_take) == ("0.25", "usd")  # 5 billed seconds at 0.05 USD
    for take in (still_take, clip_take):
        assert TOKEN not in str(take)


def cost_of(take: dict[str, Any]) -> tuple[str, str]:
    """The cost recorded on a take, as (amount, unit)."""
    recipe = take["recipe"]
    return str(Decimal(str(recipe["cost"])).normalize()), recipe["cost_unit"]


def test_no_token_fails_the_take_and_says_what_to_set(
    cli, film: Path, stub: ReplicateStub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REPLICATE_API_TOKEN")
    result = cli("render", "1A", "--generator", "replicate", "--yes")
    assert result.code == 4  # a take failed (errors.py: PARTIAL), the reason said
    assert "REPLICATE_API_TOKEN" in result.out + result.err
    assert stub.calls == []


def test_a_model_without_a_rate_is_refused_before_anything_is_sent(
    cli, film: Path, stub: ReplicateStub
) -> None:
    toml = film / "setpiece.toml"
    toml.write_text(toml.read_text().replace(f'"{FLUX}" = "0.04"\n', ""))
    result = cli("render", "1A", "--generator", "replicate", "--yes")
    assert result.code == 2, result.err
    assert FLUX in result.err and "generators.replicate.rates" in result.err
    assert result.err.count("\n") == 1
    assert stub.calls == []


def test_the_token_is_in_no_request_it_should_not_be(
    replicate: ReplicateGenerator, stub: ReplicateStub, tmp_path: Path
) -> None:
    replicate.render(request(), tmp_path)
    api = [c for c in stub.calls if c.path.startswith("/v1/")]
    assert api and all(c.headers["authorization"] == f"Bearer {TOKEN}" for c in api)
    downloads = stub.calls_to("GET", "/delivery/")
    assert downloads and all("authorization" not in c.headers for c in downloads)
    assert TOKEN not in pickle.dumps(replicate).decode("latin-1")


# The backend against the stub ----------------------------------------------------------------


def test_image_to_video_uploads_the_first_frame(
    replicate: ReplicateGenerator, stub: ReplicateStub, tmp_path: Path
) -> None:
    first = write_png(tmp_path / "first.png", w=128, h=72, seed=3)
    seen: list[float] = []
    result = replicate.render(
        request(Mode.IMAGE_TO_VIDEO, init_image=first, frames=240, negative_prompt="blur"),
        tmp_path / "work",
        seen.append,
    )
    (created,) = stub.created
    assert stub.files[created.input["start_image"]] == first.read_bytes()
    assert created.input["duration"] == 10 and created.input["negative_prompt"] == "blur"
    assert result.path.suffix == ".mp4" and result.path.parent == tmp_path / "work"
    assert result.parameters["duration"] == 10 and result.parameters["requested_seconds"] == 10
    assert result.cost == Cost(Decimal("0.50"), "usd")
    assert seen == [0.25, 0.75, 1.0]  # from the logs' progress lines


def test_quote_prices_before_sending_and_matches_the_render(
    stub: ReplicateStub, tmp_path: Path
) -> None:
    replicate = ReplicateGenerator(config(stub, video_model="luma/ray"))
    clip = request(Mode.TEXT_TO_VIDEO, frames=60)
    assert replicate.quote(request()) == Cost(Decimal("0.04"), "usd")
    assert replicate.quote(clip) == Cost(Decimal("0.225"), "usd")  # 2.5 s at 0.09
    assert stub.calls == []
    assert replicate.render(clip, tmp_path).cost == replicate.quote(clip)


def test_a_model_billed_by_hardware_time_is_priced_from_the_answer(
    stub: ReplicateStub, tmp_path: Path
) -> None:
    replicate = ReplicateGenerator(config(stub, video_model=WAN))
    clip = request(Mode.TEXT_TO_VIDEO)
    assert replicate.quote(clip) is None  # known only from the answer
    result = replicate.render(clip, tmp_path)
    assert stub.created[0].input["num_frames"] == 48
    assert result.cost == Cost(Decimal("0.00115") * Decimal("4.25"), "usd")
    assert result.parameters["predict_time_s"] == 4.25


def test_an_answer_without_its_cost_is_flagged_never_priced(
    stub: ReplicateStub,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    stub.metrics = None  # no metrics.predict_time in the answer
    replicate = ReplicateGenerator(config(stub, video_model=WAN))
    with caplog.at_level(logging.WARNING):
        result = replicate.render(request(Mode.TEXT_TO_VIDEO), tmp_path)
    assert result.path.is_file()  # made and paid for: kept
    assert result.cost is None
    assert WAN in result.parameters["cost_missing"]
    assert "predict_time" in result.parameters["cost_missing"]
    assert any(WAN in r.getMessage() for r in caplog.records)


def test_an_unknown_model_id_is_permanent_and_named(stub: ReplicateStub, tmp_path: Path) -> None:
    backend = ReplicateGenerator(
        config(stub, image_model="nobody/no-such-model", rates={"nobody/no-such-model": 1})
    )
    with pytest.raises(RenderError, match="Replicate has no model nobody/no-such-model") as err:
        backend.render(request(), tmp_path)
    assert not err.value.transient
    assert "HTTP 404" in str(err.value)
    assert stub.created == [] and list(tmp_path.iterdir()) == []


def test_an_unknown_version_is_refused_with_the_model_named(
    stub: ReplicateStub, tmp_path: Path
) -> None:
    pinned = f"{FLUX}:{'ab' * 32}"
    backend = ReplicateGenerator(config(stub, image_model=pinned, rates={pinned: "0.04"}))
    with pytest.raises(RenderError, match="HTTP 422") as err:
        backend.render(request(), tmp_path)
    assert pinned in str(err.value) and not err.value.transient


def test_a_pinned_version_is_sent_as_the_version(stub: ReplicateStub, tmp_path: Path) -> None:
    pinned = f"{FLUX}:{stub.models[FLUX].version}"
    backend = ReplicateGenerator(config(stub, image_model=pinned, rates={pinned: "0.04"}))
    result = backend.render(request(), tmp_path)
    assert [c.body["version"] for c in stub.calls_to("POST", "/v1/predictions")] == [
        stub.models[FLUX].version
    ]
    assert result.parameters["version"] == stub.models[FLUX].version


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"rates": {"x": -1}}, "cannot be negative"),
        ({"rates": {FLUX: "cheap"}}, "expected a number"),
        ({"image_model": "flux"}, "owner/name"),
        ({"models": {FLUX: {"billed": "per_frame"}}}, "billed"),
        ({"models": {FLUX: {"durations": [0]}}}, "durations"),
        ({"models": {KLING: {"needs_init_image": True}}}, "needs_init_image"),
    ],
)
def test_bad_configuration_is_refused_and_named(
    stub: ReplicateStub, change: dict[str, Any], match: str
) -> None:
    with pytest.raises(InvalidInputError, match=match) as err:
        ReplicateGenerator(config(stub, **change))
    assert "generators.replicate" in str(err.value)


@pytest.mark.parametrize(
    ("case", "match"),
    [
        ("no rate", "no rate for model 'luma/ray'"),
        ("references to a model without", "takes no reference images"),
        ("too many references", "at most 1 reference images"),
        ("first frame to a model without", "takes no first frame"),
        ("no video model", "video_model is not set"),
        ("text to a model that needs a first frame", "from a first frame only"),
    ],
)
def test_refused_before_any_request(
    stub: ReplicateStub, tmp_path: Path, case: str, match: str
) -> None:
    ref = write_png(tmp_path / "ref.png")
    settings = config(stub)
    bad = request()
    if case == "no rate":
        settings["rates"] = {FLUX: "0.04"}
        settings["video_model"] = "luma/ray"
        bad = request(Mode.TEXT_TO_VIDEO)
    elif case == "references to a model without":
        settings["models"] = {}
        bad = request(references=(ref,))
    elif case == "too many references":
        bad = request(references=(ref, ref))
    elif case == "first frame to a model without":
        bad = request(Mode.IMAGE_TO_VIDEO, init_image=ref, model="luma/ray")
    elif case == "no video model":
        del settings["video_model"]
        bad = request(Mode.TEXT_TO_VIDEO)
    else:
        bad = request(Mode.TEXT_TO_VIDEO, model=KLING)
    backend = ReplicateGenerator(settings)
    with pytest.raises(InvalidInputError, match=match):
        backend.render(bad, tmp_path)
    assert stub.calls == []


def test_a_failed_prediction_is_permanent_and_quoted(
    replicate: ReplicateGenerator, stub: ReplicateStub, tmp_path: Path
) -> None:
    stub.script = failed(f"NSFW content detected (token {TOKEN} echoed)")
    with pytest.raises(RenderError, match="NSFW content detected") as err:
        replicate.render(request(), tmp_path)
    assert not err.value.transient and TOKEN not in str(err.value)
    assert stub.calls_to("POST", "/v1/predictions/") == []  # over there: nothing to cancel


@pytest.mark.parametrize(("status", "transient"), [(429, True), (500, True), (402, False)])
def test_create_errors(
    replicate: ReplicateGenerator, stub: ReplicateStub, tmp_path: Path, status: int, transient: bool
) -> None:
    stub.answer_next(
        "POST /v1/models/", status, {"title": "x", "detail": "say so", "status": status}
    )
    with pytest.raises(RenderError, match=f"HTTP {status}") as err:
        replicate.render(request(), tmp_path)
    assert err.value.transient is transient


def test_a_wrong_token_is_permanent_and_says_what_to_set(
    replicate: ReplicateGenerator,
    stub: ReplicateStub,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REPLICATE_API_TOKEN", "r8_wrong")
    with pytest.raises(RenderError, match="REPLICATE_API_TOKEN") as err:
        replicate.render(request(), tmp_path)
    assert not err.value.transient and "r8_wrong" not in str(err.value)


def test_a_time_out_cancels_the_prediction(stub: ReplicateStub, tmp_path: Path) -> None:
    stub.script = list(NEVER_FINISHES)
    backend = ReplicateGenerator(config(stub, timeout_s=0.2))
    with pytest.raises(RenderError, match="did not finish") as err:
        backend.render(request(), tmp_path)
    assert err.value.transient
    (created,) = stub.created
    assert created.canceled
    assert [c.path for c in stub.calls_to("POST", "/v1/predictions/")] == [
        f"/v1/predictions/{created.id}/cancel"
    ]


def test_polling_errors_past_the_limit_cancel_the_prediction(
    stub: ReplicateStub, tmp_path: Path
) -> None:
    backend = ReplicateGenerator(config(stub, poll_error_limit=1))
    # 500 is not one the SDK retries itself (429, 503 and 504 are).
    stub.answer_next(
        "GET /v1/predictions/", 500, {"title": "x", "detail": "", "status": 500}, times=2
    )
    with pytest.raises(RenderError, match="HTTP 500"):
        backend.render(request(), tmp_path)
    assert stub.created[0].canceled


def test_replicate_down_is_an_outage(
    replicate: ReplicateGenerator, stub: ReplicateStub, tmp_path: Path
) -> None:
    stub.stop()
    with pytest.raises(GeneratorUnavailable, match="cannot reach Replicate") as err:
        replicate.render(request(), tmp_path)
    assert err.value.waiting_for == "Replicate at 127.0.0.1"
    with pytest.raises(GeneratorUnavailable):
        replicate.reachable()


def test_reachable_and_missing_settings(
    replicate: ReplicateGenerator, stub: ReplicateStub, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert replicate.reachable() is True
    assert [c.path for c in stub.calls] == ["/v1/account"]
    settings = ReplicateGenerator.load_settings({})
    assert ReplicateGenerator.missing_settings(settings) == [
        "[generators.replicate] image_model or video_model"
    ]
    monkeypatch.delenv("REPLICATE_API_TOKEN")
    assert ReplicateGenerator.missing_settings(replicate.settings) == ["REPLICATE_API_TOKEN"]


def test_capabilities_follow_the_configured_models(stub: ReplicateStub) -> None:
    stills_only = ReplicateGenerator(config(stub, video_model=None)).capabilities()
    assert stills_only.modes == {Mode.TEXT_TO_IMAGE} and stills_only.reference_images
    text_clips = ReplicateGenerator(config(stub, image_model=None, video_model="luma/ray"))
    assert text_clips.capabilities().modes == {Mode.TEXT_TO_VIDEO}
    kling = ReplicateGenerator(config(stub)).capabilities()
    assert kling.modes == {Mode.TEXT_TO_IMAGE, Mode.IMAGE_TO_VIDEO} and kling.max_seconds == 10


def test_the_token_is_in_no_log_line(
    replicate: ReplicateGenerator,
    stub: ReplicateStub,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    stub.script = failed(f"bad token {TOKEN}")
    with caplog.at_level(logging.DEBUG), pytest.raises(RenderError):
        replicate.render(request(), tmp_path)
    stub.script = NEVER_FINISHES
    backend = ReplicateGenerator(config(stub, timeout_s=0.1))
    with caplog.at_level(logging.DEBUG), pytest.raises(RenderError):
        backend.render(request(), tmp_path)
    assert caplog.records and all(TOKEN not in r.getMessage() for r in caplog.records)


def test_an_interrupt_cancels_the_prediction(
    replicate: ReplicateGenerator, stub: ReplicateStub, tmp_path: Path
) -> None:
    def interrupt(done: float) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        replicate.render(request(), tmp_path, interrupt)
    assert stub.created[0].canceled
    assert list(tmp_path.iterdir()) == []


def test_an_outage_while_polling_is_ridden_out(
    stub: ReplicateStub, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import threading

    backend = ReplicateGenerator(config(stub, poll_interval_s=0.05, poll_error_limit=0))
    stub.script = [{"status": "starting"}] * 4 + [{"status": "succeeded"}]

    down = threading.Event()

    def watch() -> None:  # down from the first poll on (the prediction runs on there)
        while not stub.calls_to("GET", "/v1/predictions/"):
            threading.Event().wait(0.01)
        stub.stop()
        down.set()
        threading.Event().wait(0.3)
        stub.restart()

    watcher = threading.Thread(target=watch)
    watcher.start()
    with caplog.at_level(logging.WARNING):
        result = backend.render(request(), tmp_path)
    watcher.join()
    assert down.is_set() and result.path.is_file()
    assert any("cannot reach Replicate" in r.getMessage() for r in caplog.records)
    assert not stub.created[0].canceled


def test_generators_check_asks_the_account_and_spends_nothing(
    cli, film: Path, stub: ReplicateStub, monkeypatch: pytest.MonkeyPatch
) -> None:
    listed = {g["name"]: g for g in cli("generators", "--check", "--json").json()}
    assert listed["replicate"]["available"] is True and listed["replicate"]["reachable"] is True
    assert [(c.method, c.path) for c in stub.calls] == [("GET", "/v1/account")]
    monkeypatch.setenv("REPLICATE_API_TOKEN", "r8_wrong")
    listed = {g["name"]: g for g in cli("generators", "--check", "--json").json()}
    assert listed["replicate"]["reachable"] is False
    assert "Replicate rejected the API token" in listed["replicate"]["problem"]
    monkeypatch.delenv("REPLICATE_API_TOKEN")
    listed = {g["name"]: g for g in cli("generators", "--json").json()}
    assert listed["replicate"]["missing_settings"] == ["REPLICATE_API_TOKEN"]


def test_a_take_whose_answer_carried_no_cost_counts_at_its_quote(
    cli, film: Path, stub: ReplicateStub
) -> None:
    """Paid for, its bill unknown: the take stays in the budget at the quote it was queued
    with (here estimated from the first take), and ``setpiece cost`` names why it has none."""
    toml = film / "setpiece.toml"
    text = toml.read_text().replace(f'video_model = "{KLING}"', f'video_model = "{WAN}"')
    toml.write_text(text + tomli_w.dumps({"budget": {"usd": 1}}))
    args = ("render", "1A", "--generator", "replicate", "--kind", "video", "--yes")
    done = cli(*args)
    assert done.code == 0, (
        done.out + done.err
    )  # priced from the answer: 4.25 s of hardware at 0.00115
    stub.metrics = None  # the second answer carries no cost
    assert cli(*args, "--again").code == 0
    first, second = (cli("take", "show", t, "--json").json() for t in ("1A/1", "1A/2"))
    assert cost_of(first) == ("0.0048875", "usd")
    assert second["recipe"]["cost"] is None and "cost_missing" in second["recipe"]["parameters"]
    with Production.open(film) as production, production.transaction() as session:
        quote = session.scalars(select(Take.quote_amount).where(Take.cost_amount.is_(None))).one()
    assert quote is not None and Decimal(quote) > 0  # estimated from the first take
    budget = cli("cost", "--json").json()
    (line,) = budget["budget"]["lines"]  # the budget counts it at its quote
    six = Decimal("0.000001")
    assert Decimal(line["spent"]) == (Decimal("0.0048875") + Decimal(quote)).quantize(six)
    assert budget["spend"]["totals"] == {"usd": "0.004888"}  # what was billed, to 6 places
    assert (budget["spend"]["unknown"], budget["spend"]["no_bill"]) == (1, 1)
    assert "1 of them: the answer carried no cost" in cli("cost").out
