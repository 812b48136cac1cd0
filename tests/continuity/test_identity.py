"""Identity verdicts (issue 27): calibration, quality, the ArcFace ONNX embedder, bad input.

The ONNX model is a tiny graph built here with the shapes of an ArcFace model (input
(batch, 3, 112, 112), output (batch, 512)): it pools the aligned face to 14x14 and
projects it with fixed random weights. It says nothing about who a face is; it shows
that the model file from the configuration is loaded, checked and used.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import pytest
from faces_media import another_person, astronaut, astronaut_again, save

from setpiece.continuity.embedders import (
    DlibFaceEmbedder,
    OnnxFaceEmbedder,
    aligned_chip,
    face_embedder,
)
from setpiece.continuity.faces import (
    CharacterReference,
    calibrate,
    check_identity,
    check_reference,
)
from setpiece.continuity.settings import ContinuitySettings, continuity_settings
from setpiece.errors import InvalidInputError
from setpiece.store.video import Frame


def tiny_arcface(
    path: Path, *, size: int = 112, length: int = 512, channels: int = 3, seed: int = 0
) -> Path:
    """An ONNX graph with an ArcFace model's shapes: AveragePool 8x8, Flatten, MatMul."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    pooled = channels * (size // 8) ** 2
    weights = np.random.default_rng(seed).normal(size=(pooled, length)).astype(np.float32)
    graph = helper.make_graph(
        [
            helper.make_node(
                "AveragePool", ["input"], ["pooled"], kernel_shape=[8, 8], strides=[8, 8]
            ),
            helper.make_node("Flatten", ["pooled"], ["flat"], axis=1),
            helper.make_node("MatMul", ["flat", "weights"], ["embedding"]),
        ],
        "tiny_arcface",
        [
            helper.make_tensor_value_info(
                "input", TensorProto.FLOAT, ["batch", channels, size, size]
            )
        ],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", length])],
        [numpy_helper.from_array(weights, "weights")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, os.fspath(path))
    return path


# The ArcFace-type embedder -------------------------------------------------------------


def test_an_arcface_onnx_model_from_a_file_describes_aligned_faces(tmp_path: Path) -> None:
    model = tiny_arcface(tmp_path / "arcface.onnx")
    embedder = face_embedder("arcface-onnx", os.fspath(model))
    assert isinstance(embedder, OnnxFaceEmbedder) and embedder.model == model
    scan = embedder.scan(astronaut(), detect_width=640, min_face=40, max_faces=2)
    face = scan.faces[0]
    assert face.descriptor.shape == (512,)
    assert abs(float(np.linalg.norm(face.descriptor)) - 1.0) < 1e-6  # unit vectors
    assert face.landmarks is not None and face.landmarks.shape == (5, 2)
    chip = aligned_chip(astronaut(), face.landmarks)
    assert chip.shape == (112, 112, 3)
    # The eyes land where ArcFace expects them: the darkest rows of the chip's upper half.
    dlib_face = DlibFaceEmbedder().scan(astronaut(), detect_width=640, min_face=40, max_faces=1)
    assert (dlib_face.faces[0].left, dlib_face.faces[0].top) == (face.left, face.top)
    assert (OnnxFaceEmbedder.default_threshold, OnnxFaceEmbedder.default_other) == (1.13, 1.30)


@pytest.mark.parametrize(
    ("build", "fragment"),
    [
        (lambda p: p.write_text("not a model\n"), "is not a usable ONNX model"),
        (
            lambda p: tiny_arcface(p, size=64),
            "expected an ArcFace-type ONNX model with input (batch, 3, 112, 112)",
        ),
        (
            lambda p: tiny_arcface(p, channels=1),
            "expected an ArcFace-type ONNX model with input (batch, 3, 112, 112)",
        ),
        (
            lambda p: tiny_arcface(p, length=128),
            "gives embedding of shape (1, 128) for one face: expected (batch, 512)",
        ),
        (lambda p: None, "does not exist"),
    ],
    ids=["not-onnx", "input-64", "grey-input", "length-128", "no-file"],
)
def test_a_bad_model_file_is_refused_naming_the_shape_expected(
    tmp_path: Path, build, fragment: str
) -> None:
    path = tmp_path / "model.onnx"
    build(path)
    with pytest.raises(InvalidInputError) as caught:
        OnnxFaceEmbedder(path)
    message = str(caught.value)
    assert fragment in message and str(path) in message and "\n" not in message
    assert "(batch, 3, 112, 112)" in message


def test_settings_name_the_embedder_and_refuse_inverted_distances() -> None:
    loaded = continuity_settings(
        {"continuity": {"embedder": "arcface-onnx", "face_model": "m.onnx", "face_other": 1.3}}
    )
    assert (loaded.embedder, loaded.face_model, loaded.face_threshold) == (
        "arcface-onnx",
        "m.onnx",
        None,
    )
    with pytest.raises(InvalidInputError, match="embedder: expected one of"):
        continuity_settings({"continuity": {"embedder": "facenet"}})
    with pytest.raises(InvalidInputError, match=re.escape("face_other (0.5) must be larger")):
        continuity_settings({"continuity": {"face_threshold": 0.6, "face_other": 0.5}})
    with pytest.raises(InvalidInputError, match="needs a model file"):
        face_embedder("arcface-onnx")


# Calibration ---------------------------------------------------------------------------


def test_calibration_uses_the_characters_own_references() -> None:
    embedder = DlibFaceEmbedder()  # distances and defaults only: no model is loaded
    settings = ContinuitySettings()
    unit = np.eye(128)
    one = {"ANNA": CharacterReference("ANNA", [unit[0]])}
    single = calibrate("ANNA", one, embedder, settings)
    assert (single.same, single.other, single.spread) == (0.6, 0.75, None)
    assert "one reference: the global distances" in single.basis
    # References 0.65 apart: her own likeness varies that much, so 0.65 is still her.
    spread = {"ANNA": CharacterReference("ANNA", [unit[0] * 0, unit[0] * 0.65])}
    wide = calibrate("ANNA", spread, embedder, settings)
    assert wide.same == pytest.approx(0.65) and wide.spread == pytest.approx(0.65)
    # Never so wide that the drifting band closes: capped at other - 2 x band.
    far = {"ANNA": CharacterReference("ANNA", [unit[0] * 0, unit[0] * 0.9])}
    capped = calibrate("ANNA", far, embedder, settings)
    assert capped.same == pytest.approx(0.69) and "are they one person?" in capped.basis
    both = {**one, "BEN": CharacterReference("BEN", [unit[0] + 0.7 * unit[1]])}
    assert calibrate("ANNA", both, embedder, settings).nearest == ("BEN", pytest.approx(0.7))


# Verdicts on real faces -----------------------------------------------------------------


def _frames(*pictures: np.ndarray) -> list[Frame]:
    return [Frame(i, Fraction(i, 24), p) for i, p in enumerate(pictures)]


def _anna(embedder: DlibFaceEmbedder, settings: ContinuitySettings) -> CharacterReference:
    return CharacterReference(
        "ANNA",
        [
            embedder.scan(p, detect_width=640, min_face=40, max_faces=1).faces[0].descriptor
            for p in (astronaut(), astronaut_again())
        ],
    )


def test_many_frames_judged_and_the_frames_used_reported() -> None:
    embedder, settings = DlibFaceEmbedder(), ContinuitySettings(judge_frames=3)
    references = {"ANNA": _anna(embedder, settings)}
    # Five frames of her, one of someone else: the median of the best three is her.
    frames = _frames(*([astronaut_again()] * 5 + [another_person(3)]))
    same = check_identity(embedder, frames, ["ANNA"], references, settings, close_shot=True)
    assert same.issues == []
    stranger = _frames(*([another_person(3)] * 4))
    other = check_identity(embedder, stranger, ["ANNA"], references, settings, close_shot=True)
    assert [i.kind for i in other.issues] == ["identity_other"]
    assert (
        other.issues[0].frames == [0, 1, 2]
        and "beyond the different-person" in other.issues[0].reason
    )


def test_one_good_frame_of_many_is_uncertain_not_a_verdict() -> None:
    embedder, settings = DlibFaceEmbedder(), ContinuitySettings()
    references = {"ANNA": _anna(embedder, settings)}
    blank = np.full((512, 512, 3), 90, np.uint8)
    frames = _frames(another_person(3), blank, blank, blank)
    result = check_identity(embedder, frames, ["ANNA"], references, settings, close_shot=True)
    assert [i.kind for i in result.issues] == ["identity_uncertain"]
    assert "only frame 0 of 4 sampled" in result.issues[0].reason


def test_a_take_with_forty_faces_judges_the_largest_and_says_so() -> None:
    embedder = DlibFaceEmbedder()
    settings = ContinuitySettings(detect_width=1280)
    references = {"ANNA": _anna(embedder, settings)}
    tile = cv2.resize(astronaut()[0:240, 120:360], (160, 160), interpolation=cv2.INTER_AREA)
    crowd = np.ascontiguousarray(np.tile(tile, (5, 8, 1)))  # 40 of her, 1280x800
    result = check_identity(
        embedder, _frames(crowd), ["ANNA"], references, settings, close_shot=True
    )
    assert result.faces >= 40
    assert result.issues == []  # she is there; the others are her too, not judged twice
    assert "1 frame(s) with more than 20 faces: only the largest judged" in result.notes


def test_a_still_of_a_drawing_is_never_taken_for_the_character(tmp_path: Path) -> None:
    embedder, settings = DlibFaceEmbedder(), ContinuitySettings()
    references = {"ANNA": _anna(embedder, settings)}
    drawing = np.full((512, 512, 3), 245, np.uint8)
    cv2.ellipse(drawing, (256, 256), (120, 160), 0, 0, 360, (40, 40, 40), 4)
    for x in (210, 302):
        cv2.ellipse(drawing, (x, 220), (22, 12), 0, 0, 360, (40, 40, 40), 3)
        cv2.circle(drawing, (x, 220), 6, (40, 40, 40), -1)
    cv2.line(drawing, (256, 240), (246, 300), (40, 40, 40), 3)
    cv2.ellipse(drawing, (256, 340), (50, 18), 0, 10, 170, (40, 40, 40), 3)
    result = check_identity(
        embedder, _frames(drawing), ["ANNA"], references, settings, close_shot=True
    )
    # dlib finds a face in it; it is flat between its lines, so it is not judged.
    assert [i.kind for i in result.issues] == ["identity_uncertain"]
    assert result.issues[0].frames == [0] and "1 drawn" in result.issues[0].reason


# Bad references, through the command a user types ---------------------------------------


@pytest.fixture
def film(cli, tmp_path: Path) -> Path:
    assert cli("init", "film", "--resolution", "512x512")[0] == 0
    os.chdir(tmp_path / "film")
    return tmp_path / "film"


def test_a_reference_without_exactly_one_face_is_refused_naming_the_file(
    cli, film: Path, tmp_path: Path
) -> None:
    empty = save(tmp_path / "wall.png", np.full((300, 300, 3), 128, np.uint8))
    pair = np.concatenate([cv2.resize(astronaut(), (300, 300)), another_person(3, 200)], axis=1)
    two = save(tmp_path / "two.png", np.ascontiguousarray(pair))
    for path, fragment in ((empty, "shows no face"), (two, "shows 2 faces")):
        code, _, err = cli("character", "add", "ANNA", "--ref", path)
        assert code == 2 and f"reference {path} {fragment}" in err
        assert len(err.strip().splitlines()) == 1
    code, out, _ = cli("character", "list", "--json")
    assert code == 0 and json.loads(out) == []  # nothing half-added
    assert cli("character", "add", "ANNA", "--ref", save(tmp_path / "a.png", astronaut()))[0] == 0
    with pytest.raises(InvalidInputError, match="shows no face"):
        check_reference(empty)
    # The same refusal where references are added later: `set --ref` and `look --ref`.
    assert cli("scene", "add", "--heading", "INT. HANGAR - DAY")[0] == 0
    for command in (("set", "ANNA"), ("look", "ANNA", "--from-scene", "1")):
        for path, fragment in ((empty, "shows no face"), (two, "shows 2 faces")):
            code, _, err = cli("character", *command, "--ref", path)
            assert code == 2 and f"reference {path} {fragment}" in err
    code, out, _ = cli("character", "show", "ANNA", "--json")
    shown = json.loads(out)
    assert len(shown["refs"]) == 1 and shown["looks"] == [] and shown["version"] == 1


def _project(cli, tmp_path: Path, toml: str) -> None:
    assert cli("scene", "add", "--heading", "INT. HANGAR - DAY")[0] == 0
    assert cli("character", "add", "ANNA", "--ref", save(tmp_path / "a.png", astronaut()))[0] == 0
    assert cli("shot", "add", "1", "--code", "1A", "--size", "CU", "--characters", "ANNA")[0] == 0
    stranger = save(tmp_path / "stranger.png", another_person(3, 342))
    assert cli("take", "import", "1A", stranger)[0] == 0
    with open("setpiece.toml", "a", encoding="utf-8") as handle:
        handle.write(toml)


def test_check_continuity_with_an_arcface_file_says_it_judged(
    cli, film: Path, tmp_path: Path
) -> None:
    tiny_arcface(film / "arcface.onnx")
    _project(
        cli, tmp_path, '\n[continuity]\nembedder = "arcface-onnx"\nface_model = "arcface.onnx"\n'
    )
    env = {**os.environ, "SETPIECE_USER": "ana"}
    run = subprocess.run(
        [Path(sys.executable).parent / "setpiece", "check", "continuity", "--json"],
        cwd=film,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert f"identity judged by arcface-onnx ({film / 'arcface.onnx'})" in report["notes"]
    assert any(
        "ANNA has one reference face: judged against the global" in n for n in report["notes"]
    )
    for finding in report["findings"]:
        if finding["kind"].startswith("identity"):
            assert finding["data"]["embedder"] == "arcface-onnx"
            assert finding["data"]["frames"] == [0] and finding["data"]["reason"]


def test_check_continuity_refuses_a_bad_model_at_start(cli, film: Path, tmp_path: Path) -> None:
    (film / "arcface.onnx").write_bytes(b"\x00PNG not a model")
    _project(
        cli, tmp_path, '\n[continuity]\nembedder = "arcface-onnx"\nface_model = "arcface.onnx"\n'
    )
    code, out, err = cli("check", "continuity")
    assert code == 2 and out == ""
    assert "is not a usable ONNX model" in err and "(batch, 3, 112, 112)" in err
    code, out, _ = cli("findings", "list", "--json")
    assert json.loads(out) == []  # nothing stored


def test_a_different_person_is_reported_apart_and_counted_by_strict(
    cli, film: Path, tmp_path: Path
) -> None:
    _project(cli, tmp_path, "")
    code, out, err = cli("check", "continuity", "--html", tmp_path / "report.html")
    assert code == 0, err
    line = next(x for x in out.splitlines() if x.startswith("identity_other"))
    assert "a different person where ANNA should be: median" in line and "over frames 0" in line
    assert "note: identity judged by dlib-resnet-v1" in out
    page = (tmp_path / "report.html").read_text()
    assert "<h2>Identity verdicts</h2>" in page and "frames judged" in page
    assert "a different person</td><td class=kind>identity_other" in page
    assert cli("check", "continuity", "--strict")[0] == 3
    code, out, _ = cli("findings", "list", "--kind", "identity_other", "--json")
    stored = json.loads(out)
    assert len(stored) == 1 and stored[0]["data"]["frames"] == [0]


def test_stored_identity_payloads_read_back_old_and_new() -> None:
    from setpiece.model.findings import IdentityDrift, IdentityVerdict, read_payload
    from setpiece.production.views import jsonable

    verdict = IdentityVerdict("ANNA", "dlib-resnet-v1", [0, 12], "why", 0.81, "one reference")
    assert read_payload("identity_other", jsonable(verdict)) == verdict
    assert read_payload("identity_uncertain", {"character": "ANNA"}) is None
    old = {"largest": 0.7, "frames_over": 2, "character": "ANNA", "embedder": "dlib-resnet-v1"}
    assert read_payload("identity_drift", old) == IdentityDrift(0.7, 2, "ANNA", "dlib-resnet-v1")


def test_another_bible_character_in_her_place_is_someone_else_not_missing() -> None:
    embedder, settings = DlibFaceEmbedder(), ContinuitySettings()
    ben = embedder.scan(another_person(3), detect_width=640, min_face=40, max_faces=1)
    references = {
        "ANNA": _anna(embedder, settings),
        "BEN": CharacterReference("BEN", [ben.faces[0].descriptor]),
    }
    frames = _frames(another_person(3, 260), another_person(3, 260))
    result = check_identity(embedder, frames, ["ANNA"], references, settings, close_shot=True)
    # One finding for the one face: BEN is named in it, not reported a second time.
    assert [i.kind for i in result.issues] == ["identity_other"]
    other = result.issues[0]
    assert other.character == "ANNA" and "is BEN's" in other.reason
    assert other.frames == [f.index for f in frames]  # judged on every frame, not the first
