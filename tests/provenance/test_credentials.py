"""Keys and Content Credentials: what c2pa reads back, and every bad identity caught at signing."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import c2pa
import pytest

from provenance.media import write_textured, write_textured_mp4
from setpiece.errors import InvalidInputError
from setpiece.provenance.credentials import (
    TRAINED_ALGORITHMIC_MEDIA,
    Credentials,
    Ingredient,
    ManifestAction,
    ManifestReading,
    sign_file,
    verify_file,
)
from setpiece.provenance.keys import init_dev_keys, load_identity
from setpiece.provenance.settings import ProvenanceSettings

CREATED = Credentials(
    title="shot.jpg",
    actions=[
        {
            "action": "c2pa.created",
            "digitalSourceType": TRAINED_ALGORITHMIC_MEDIA,
            "softwareAgent": {"name": "runway", "version": "gen4_turbo"},
            "when": "2026-01-01T00:00:00Z",
        }
    ],
    setpiece={"take": "070crbay"},
)


@pytest.fixture
def keys(tmp_path: Path):
    paths = init_dev_keys(tmp_path / "keys", project="Night Train")
    return paths


def c2pa_state(path: Path) -> str | None:
    with c2pa.Reader(str(path)) as reader:
        return reader.get_validation_state()


@pytest.mark.parametrize("name", ["still.jpg", "still.png"])
def test_signed_stills_are_read_back_valid_by_c2pa(tmp_path: Path, keys, name: str) -> None:
    source = write_textured(tmp_path / f"src{Path(name).suffix}")
    result = sign_file(source, tmp_path / name, CREATED, load_identity(keys.certificate, keys.key))
    assert result.sidecar is None
    assert c2pa_state(tmp_path / name) == "Valid"
    report = verify_file(tmp_path / name)
    assert report.state == "Valid"
    actions = next(
        a["data"]["actions"]
        for a in report.manifest["assertions"]
        if a["label"].startswith("c2pa.actions")
    )
    assert actions[0]["digitalSourceType"] == TRAINED_ALGORITHMIC_MEDIA
    assert actions[0]["softwareAgent"]["name"] == "runway"
    assert "UNTRUSTED" in report.manifest["signature_info"]["common_name"]
    reading = report.reading
    assert reading is not None and reading.signer is not None and "UNTRUSTED" in reading.signer
    assert reading.actions[0] == ManifestAction(
        "c2pa.created", "runway", "gen4_turbo", "2026-01-01T00:00:00Z"
    )
    assert reading.setpiece is not None and reading.setpiece["take"] == "070crbay"


def test_movie_signed_with_parent_ingredient(tmp_path: Path, keys) -> None:
    movie = write_textured_mp4(tmp_path / "take.mp4", frames=4, width=64, height=48)
    parent = write_textured_mp4(tmp_path / "parent.mp4", frames=4, width=64, height=48, seed=2)
    credentials = Credentials(
        title="retimed.mp4",
        actions=[
            {"action": "c2pa.opened", "parameters": {"ingredientIds": ["parent"]}},
            {"action": "c2pa.edited", "softwareAgent": {"name": "setpiece retime"}},
        ],
        ingredients=[Ingredient(parent, "take 1A/1", "parentOf", "parent")],
    )
    sign_file(movie, tmp_path / "out.mp4", credentials, load_identity(keys.certificate, keys.key))
    assert c2pa_state(tmp_path / "out.mp4") == "Valid"
    report = verify_file(tmp_path / "out.mp4")
    assert [i["relationship"] for i in report.manifest["ingredients"]] == ["parentOf"]


def test_tampered_file_is_invalid_with_the_reason(tmp_path: Path, keys) -> None:
    source = write_textured(tmp_path / "src.jpg")
    signed = tmp_path / "signed.jpg"
    sign_file(source, signed, CREATED, load_identity(keys.certificate, keys.key))
    data = bytearray(signed.read_bytes())
    data[-300] ^= 0xFF
    tampered = tmp_path / "tampered.jpg"
    tampered.write_bytes(bytes(data))
    report = verify_file(tampered)
    assert report.state == "Invalid"
    assert any("dataHash.mismatch" in reason for reason in report.reasons)


def test_corrupt_manifest_is_a_report_not_a_crash(tmp_path: Path, keys) -> None:
    source = write_textured(tmp_path / "src.jpg")
    signed = tmp_path / "signed.jpg"
    sign_file(source, signed, CREATED, load_identity(keys.certificate, keys.key))
    data = bytearray(signed.read_bytes())
    start = data.find(b"jumb")
    assert start > 0
    data[start + 40 : start + 400] = bytes(360)
    corrupt = tmp_path / "corrupt.jpg"
    corrupt.write_bytes(bytes(data))
    report = verify_file(corrupt)
    assert report.state in ("Invalid", "none")
    assert report.reasons


def test_unsigned_file_has_no_manifest(tmp_path: Path) -> None:
    report = verify_file(write_textured(tmp_path / "plain.jpg"))
    assert report.state == "none" and report.manifest is None


def test_trust_anchor_makes_it_trusted(tmp_path: Path, keys) -> None:
    source = write_textured(tmp_path / "src.jpg")
    sign_file(source, tmp_path / "s.jpg", CREATED, load_identity(keys.certificate, keys.key))
    settings = ProvenanceSettings(root=tmp_path, trust_anchors=keys.ca)
    assert verify_file(tmp_path / "s.jpg", settings).state == "Trusted"
    assert verify_file(tmp_path / "s.jpg").state == "Valid"


def test_format_c2pa_cannot_embed_gets_a_sidecar(tmp_path: Path, keys) -> None:
    timeline = tmp_path / "cut.otio"
    timeline.write_text('{"OTIO_SCHEMA": "Timeline.1"}', encoding="utf-8")
    result = sign_file(timeline, timeline, CREATED, load_identity(keys.certificate, keys.key))
    assert result.sidecar == tmp_path / "cut.otio.c2pa"
    assert result.sidecar.is_file()
    assert verify_file(timeline).state == "Valid"
    timeline.write_text('{"OTIO_SCHEMA": "Timeline.2"}', encoding="utf-8")
    assert verify_file(timeline).state == "Invalid"


def _bad_identity(tmp_path: Path, **kwargs) -> tuple[Path, Path]:
    paths = init_dev_keys(tmp_path / "bad", **kwargs)
    return paths.certificate, paths.key


def test_expired_certificate_is_refused_at_signing(tmp_path: Path) -> None:
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=800)
    cert, key = _bad_identity(tmp_path, now=past, days=30)
    with pytest.raises(InvalidInputError, match="expired on"):
        load_identity(cert, key)


def test_certificate_without_digital_signature_usage_is_refused(tmp_path: Path) -> None:
    cert, key = _bad_identity(tmp_path, key_usage_digital_signature=False)
    with pytest.raises(InvalidInputError, match="digitalSignature"):
        load_identity(cert, key)


def test_certificate_without_extended_usage_is_refused(tmp_path: Path) -> None:
    cert, key = _bad_identity(tmp_path, extended_usage=None)
    with pytest.raises(InvalidInputError, match="extended key usage"):
        load_identity(cert, key)


def test_key_that_does_not_match_is_refused(tmp_path: Path, keys) -> None:
    other = init_dev_keys(tmp_path / "other")
    with pytest.raises(InvalidInputError, match="does not match"):
        load_identity(keys.certificate, other.key)


def test_self_signed_leaf_is_refused(tmp_path: Path, keys) -> None:
    with pytest.raises(InvalidInputError, match=r"self-signed|CA certificate"):
        load_identity(keys.ca, keys.key)


def test_keys_init_refuses_to_overwrite(tmp_path: Path, keys) -> None:
    before = keys.key.read_bytes()
    with pytest.raises(InvalidInputError, match="--force"):
        init_dev_keys(keys.key.parent)
    assert keys.key.read_bytes() == before


def test_c2pa_refusal_leaves_no_file(tmp_path: Path, keys) -> None:
    fake = tmp_path / "fake.jpg"
    fake.write_bytes(b"not a jpeg at all")
    target = tmp_path / "out.jpg"
    with pytest.raises(InvalidInputError):
        sign_file(fake, target, CREATED, load_identity(keys.certificate, keys.key))
    assert not target.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []


def test_fixture_like_copy_keeps_its_state(tmp_path: Path, keys) -> None:
    source = write_textured(tmp_path / "src.png")
    sign_file(source, tmp_path / "a.png", CREATED, load_identity(keys.certificate, keys.key))
    shutil.copy(tmp_path / "a.png", tmp_path / "b.png")
    assert verify_file(tmp_path / "b.png").state == "Valid"


def test_a_manifest_from_elsewhere_reads_without_a_crash() -> None:
    reading = ManifestReading.of(
        {
            "assertions": [
                {"label": "c2pa.actions.v2", "data": {"actions": [{"softwareAgent": "Photoshop"}]}},
                "not an assertion",
                {"label": "c2pa.actions", "data": None},
            ]
        }
    )
    assert reading == ManifestReading(None, None, [ManifestAction(None, "Photoshop")], None)


def test_a_lines_audio_is_signed_in_the_wav_and_says_its_voice(tmp_path: Path, keys) -> None:
    import wave
    from fractions import Fraction

    from setpiece.model.dialogue import LineAudio
    from setpiece.provenance.credentials import ALGORITHMIC_MEDIA, DIGITAL_CAPTURE
    from setpiece.provenance.deliver import line_credentials

    source = tmp_path / "take.wav"
    with wave.open(str(source), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(22050)
        out.writeframes(bytes(range(256)) * 200)
    line = LineAudio("3/5", "3", 5, "MARA", "3A", source, Fraction(1), voice="espeak:en-us+f3")
    identity = load_identity(keys.certificate, keys.key)

    result = sign_file(source, tmp_path / "3_5.wav", line_credentials(line, "3_5.wav"), identity)

    assert result.sidecar is None  # embedded in the RIFF file
    report = verify_file(tmp_path / "3_5.wav")
    assert report.state == "Valid"
    reading = report.reading
    assert reading is not None and reading.setpiece is not None
    assert (reading.setpiece["line"], reading.setpiece["character"]) == ("3/5", "MARA")
    assert reading.actions[0].agent == "espeak" and reading.actions[0].agent_version == "en-us+f3"
    actions = next(
        a["data"]["actions"]
        for a in report.manifest["assertions"]
        if a["label"].startswith("c2pa.actions")
    )
    assert actions[0]["digitalSourceType"] == ALGORITHMIC_MEDIA  # espeak: rules, no model
    recorded = line_credentials(
        LineAudio("3/6", "3", 6, "JONAH", "3A", source, Fraction(1), source="recorded"), "x.wav"
    )
    assert recorded.actions[0]["digitalSourceType"] == DIGITAL_CAPTURE
    data = bytearray((tmp_path / "3_5.wav").read_bytes())
    data[60] ^= 0xFF  # a sample in the data chunk
    (tmp_path / "3_5.wav").write_bytes(bytes(data))
    assert verify_file(tmp_path / "3_5.wav").state == "Invalid"
