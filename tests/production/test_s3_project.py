"""A whole project whose media live in an S3-compatible bucket (a real moto server on loopback)."""

from __future__ import annotations

from pathlib import Path

import boto3

from setpiece.production import takes
from setpiece.production.context import Production, init_production
from setpiece.production.fsck import fsck
from setpiece.production.scenes import add_scene
from setpiece.production.shots import add_shot


def test_takes_round_trip_through_a_bucket(
    tmp_path: Path, s3_endpoint: str, bucket: str, make_media
) -> None:
    options = {"endpoint_url": s3_endpoint, "key": "testing", "secret": "testing"}
    with init_production(
        tmp_path / "film", media_url=f"s3://{bucket}/film", media_options=options, actor="ana"
    ) as prod:
        add_scene(prod, "EXT. PIER - DAWN", number="1")
        add_shot(prod, "1", "1A")
        result = takes.import_takes(prod, "1A", [make_media.still(), make_media.clip()])
        assert [t.media.path.startswith(f"s3://{bucket}/film/") for t in result.created] == [
            True,
            True,
        ]
        assert fsck(prod).ok
    assert not (tmp_path / "film" / "media").exists()

    with Production.open(tmp_path / "film") as again:
        clip = takes.get_take(again, "1A/2")
        assert clip.media is not None and clip.media.frames == 12
        key = clip.media.path.split(f"s3://{bucket}/", 1)[1]
        boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1").delete_object(
            Bucket=bucket, Key=key
        )
        report = fsck(again)
        assert [p.kind for p in report.problems] == ["missing"]
        assert report.problems[0].takes and clip.id in report.problems[0].takes[0]
