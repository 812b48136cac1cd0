"""The media store, on a local folder and on a real S3-compatible server on loopback."""

from __future__ import annotations

import hashlib
import importlib
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mediafactory import write_jpeg, write_mp4, write_png
from setpiece.errors import (
    ConflictError,
    InvalidInputError,
    MissingExtraError,
    NotFoundError,
    StorageError,
)
from setpiece.store import media
from setpiece.store.media import CHUNK, MediaStore, StoredMedia, hash_file

SHA_OF_NOTHING = hashlib.sha256(b"").hexdigest()


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def store(tmp_path: Path) -> MediaStore:
    return MediaStore(str(tmp_path / "media"))


@pytest.fixture
def plate(tmp_path: Path) -> Path:
    return write_png(tmp_path / "plate.png", seed=1)


def temp_files(root: Path) -> list[Path]:
    folder = root / media.TEMP_DIR
    return sorted(folder.iterdir()) if folder.exists() else []


# Hashing and keys --------------------------------------------------------------------------------


def test_hash_file_streams_large_files(tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    data = os.urandom(CHUNK * 2 + 123)
    path.write_bytes(data)
    assert hash_file(path) == (hashlib.sha256(data).hexdigest(), len(data))


def test_hash_file_missing(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match=r"no such file: .*nope\.png"):
        hash_file(tmp_path / "nope.png")


def test_key_for() -> None:
    sha = "ab" + "0" * 62
    assert MediaStore.key_for(sha, ".mp4") == f"ab/{sha}.mp4"
    for bad_sha in ["AB" + "0" * 62, "ab", "zz" + "0" * 62]:
        with pytest.raises(InvalidInputError, match="not a sha256"):
            MediaStore.key_for(bad_sha, ".mp4")
    for bad_ext in ["mp4", ".MP4", "./..", ".m p4", ".toolongextension"]:
        with pytest.raises(InvalidInputError, match="not a media extension"):
            MediaStore.key_for(sha, bad_ext)


@pytest.mark.parametrize(
    "key", ["../../etc/passwd", "ab/cd" + "0" * 62 + ".mp4", ".tmp/x.part", "ab", ""]
)
def test_malformed_keys_are_refused(store: MediaStore, key: str) -> None:
    with pytest.raises(InvalidInputError, match="is not a media store key"):
        store.open(key)
    with pytest.raises(InvalidInputError):
        store.exists(key)


# Local store -------------------------------------------------------------------------------------


def test_put_stores_the_exact_bytes_read_only(store: MediaStore, plate: Path) -> None:
    stored = store.put(plate, ".png")
    sha = sha256_of(plate)
    assert stored == StoredMedia(sha256=sha, size=plate.stat().st_size, key=f"{sha[:2]}/{sha}.png")
    path = store.local_path(stored.key)
    assert path is not None and path.read_bytes() == plate.read_bytes()
    assert store.url_for(stored.key) == str(path) and path.is_absolute()
    assert not path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    assert store.exists(stored.key)
    with store.open(stored.key) as handle:
        assert handle.read() == plate.read_bytes()
    assert temp_files(Path(store.url)) == []


def test_put_with_known_hash(store: MediaStore, plate: Path) -> None:
    sha = sha256_of(plate)
    assert store.put(plate, ".png", sha256=sha).key == f"{sha[:2]}/{sha}.png"


def test_put_twice_writes_once(store: MediaStore, plate: Path, tmp_path: Path) -> None:
    first = store.put(plate, ".png")
    path = store.local_path(first.key)
    assert path is not None
    before = path.stat()
    copy = tmp_path / "same_bytes_other_name.png"
    copy.write_bytes(plate.read_bytes())
    assert store.put(copy, ".png") == first
    assert store.put(copy, ".png", sha256=first.sha256) == first
    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert list(store.iter_keys()) == [first.key]


def test_put_replaces_a_stored_file_of_the_wrong_size(store: MediaStore, plate: Path) -> None:
    stored = store.put(plate, ".png")
    path = store.local_path(stored.key)
    assert path is not None
    path.chmod(0o644)
    path.write_bytes(b"half")
    assert store.verify(stored.key, stored.sha256) == "corrupt"
    store.put(plate, ".png")
    assert store.verify(stored.key, stored.sha256) == "ok"


def test_verify(store: MediaStore, plate: Path) -> None:
    stored = store.put(plate, ".png")
    assert store.verify(stored.key, stored.sha256) == "ok"
    path = store.local_path(stored.key)
    assert path is not None
    path.chmod(0o644)
    data = bytearray(path.read_bytes())
    data[100] ^= 0xFF  # same size, different bytes: bit rot
    path.write_bytes(bytes(data))
    assert store.verify(stored.key, stored.sha256) == "corrupt"
    path.unlink()
    assert store.verify(stored.key, stored.sha256) == "missing"


def test_iter_keys_and_total_size(store: MediaStore, tmp_path: Path) -> None:
    files = [write_png(tmp_path / "a.png", seed=2), write_jpeg(tmp_path / "b.jpg", seed=3)]
    files.append(write_mp4(tmp_path / "c.mp4", frames=4))
    stored = [store.put(path, path.suffix) for path in files]
    root = Path(store.url)
    (root / media.TEMP_DIR / "deadbeef.part").write_bytes(b"partial")
    (root / stored[0].key[:2] / "notes.txt").write_text("stray")
    (root / "README").write_text("stray")
    assert list(store.iter_keys()) == sorted(item.key for item in stored)
    assert store.total_size() == sum(path.stat().st_size for path in files)


def test_empty_or_absent_store(tmp_path: Path) -> None:
    store = MediaStore(str(tmp_path / "not_yet"))
    assert list(store.iter_keys()) == []
    assert store.total_size() == 0
    assert store.stale_temp_files(0) == []
    assert not store.exists(f"{SHA_OF_NOTHING[:2]}/{SHA_OF_NOTHING}.png")


def test_remove(store: MediaStore, plate: Path) -> None:
    stored = store.put(plate, ".png")
    store.remove(stored.key)
    assert not store.exists(stored.key)
    store.remove(stored.key)  # removing twice is harmless
    with pytest.raises(NotFoundError, match=f"no media at {stored.key} in the store"):
        store.open(stored.key)


def test_changed_source_leaves_nothing(store: MediaStore, plate: Path, tmp_path: Path) -> None:
    """The hash given no longer matches the bytes read: the source changed under the import."""
    other = write_png(tmp_path / "other.png", seed=99)
    wrong = sha256_of(other)
    with pytest.raises(ConflictError, match=f"{plate} changed while it was being stored"):
        store.put(plate, ".png", sha256=wrong)
    assert not store.exists(MediaStore.key_for(wrong, ".png"))
    assert list(store.iter_keys()) == []
    assert temp_files(Path(store.url)) == []


def test_missing_source(store: MediaStore, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="no such file"):
        store.put(tmp_path / "nope.png", ".png")
    with pytest.raises(InvalidInputError, match="no such file"):
        store.put(tmp_path / "nope.png", ".png", sha256=SHA_OF_NOTHING)


def test_file_url(tmp_path: Path, plate: Path) -> None:
    store = MediaStore((tmp_path / "media").as_uri())
    stored = store.put(plate, ".png")
    assert store.local_path(stored.key) == tmp_path / "media" / stored.key


def test_storage_options_on_a_local_folder_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="apply only to remote media stores"):
        MediaStore(str(tmp_path), storage_options={"key": "x"})


def test_unwritable_store_is_a_storage_error(tmp_path: Path, plate: Path) -> None:
    root = tmp_path / "media"
    root.write_text("a file where the store folder should be")
    with pytest.raises(StorageError, match=f"cannot write to media store {root}: ") as caught:
        MediaStore(str(root)).put(plate, ".png")
    assert "\n" not in str(caught.value)


# Interrupted writes ------------------------------------------------------------------------------


def test_failure_during_the_copy_leaves_nothing(
    store: MediaStore, plate: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(StorageError, match="No space left on device"):
        store.put(plate, ".png")
    monkeypatch.undo()
    assert list(store.iter_keys()) == []
    assert temp_files(Path(store.url)) == []


def test_interrupt_during_the_copy_leaves_nothing(
    store: MediaStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(CHUNK * 3))
    real_chunks = media._chunks

    def interrupted(handle, path):  # type: ignore[no-untyped-def]
        chunks = real_chunks(handle, path)
        yield next(chunks)
        raise KeyboardInterrupt

    monkeypatch.setattr(media, "_chunks", interrupted)
    with pytest.raises(KeyboardInterrupt):
        store.put(source, ".bin")
    assert list(store.iter_keys()) == []
    assert temp_files(Path(store.url)) == []


def test_killed_process_leaves_no_partial_file(tmp_path: Path) -> None:
    """SIGKILL a real process in the middle of a put: no file at the key, only a leftover."""
    root = tmp_path / "media"
    fifo = tmp_path / "camera.fifo"
    os.mkfifo(fifo)
    payload = os.urandom(CHUNK * 3)
    sha = hashlib.sha256(payload).hexdigest()
    key = MediaStore.key_for(sha, ".mov")
    code = (
        "from setpiece.store.media import MediaStore\n"
        f"MediaStore({str(root)!r}).put({str(fifo)!r}, '.mov', sha256={sha!r})\n"
    )
    child = subprocess.Popen([sys.executable, "-c", code])
    try:
        writer = _open_fifo_for_writing(fifo, child)
        with os.fdopen(writer, "wb") as pipe:
            pipe.write(payload)  # returns once the child has read nearly all of it
            pipe.flush()
            deadline = time.monotonic() + 30
            while sum(p.stat().st_size for p in temp_files(root)) < 2 * CHUNK:
                assert time.monotonic() < deadline, "the child never copied 2 MiB"
                time.sleep(0.01)
            # The child is now blocked reading the rest: kill it mid-copy.
            child.send_signal(signal.SIGKILL)
            assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()

    store = MediaStore(str(root))
    assert not store.exists(key)
    assert not (root / key).exists()
    assert list(store.iter_keys()) == []
    leftovers = store.stale_temp_files(older_than_s=0)
    assert len(leftovers) == 1 and leftovers[0].startswith(str(root / media.TEMP_DIR))
    assert store.stale_temp_files() == []  # younger than an hour

    source = tmp_path / "take.mov"
    source.write_bytes(payload)
    assert store.put(source, ".mov").key == key
    assert store.verify(key, sha) == "ok"


def _open_fifo_for_writing(fifo: Path, child: subprocess.Popen[bytes]) -> int:
    """Open the FIFO once the child has opened it for reading, without hanging if it died."""
    deadline = time.monotonic() + 30
    while True:
        try:
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:  # ENXIO: no reader yet
            assert child.poll() is None, "the child exited before reading"
            assert time.monotonic() < deadline, "the child never opened the source"
            time.sleep(0.01)
            continue
        os.set_blocking(fd, True)
        return fd


# S3-compatible store -----------------------------------------------------------------------------


def s3_options(endpoint: str) -> dict[str, object]:
    return {"endpoint_url": endpoint, "key": "testing", "secret": "testing"}


@pytest.fixture
def s3_store(s3_endpoint: str, bucket: str) -> MediaStore:
    return MediaStore(f"s3://{bucket}/media", storage_options=s3_options(s3_endpoint))


def test_s3_round_trip(s3_store: MediaStore, bucket: str, plate: Path, tmp_path: Path) -> None:
    stored = s3_store.put(plate, ".png")
    sha = sha256_of(plate)
    assert stored == StoredMedia(sha, plate.stat().st_size, f"{sha[:2]}/{sha}.png")
    assert s3_store.exists(stored.key)
    assert s3_store.url_for(stored.key) == f"s3://{bucket}/media/{stored.key}"
    assert s3_store.local_path(stored.key) is None
    with s3_store.open(stored.key) as handle:
        assert handle.read() == plate.read_bytes()
    assert s3_store.verify(stored.key, sha) == "ok"

    video = write_mp4(tmp_path / "take.mp4")
    second = s3_store.put(video, ".mp4", sha256=sha256_of(video))
    assert s3_store.put(video, ".mp4") == second  # stored once
    assert list(s3_store.iter_keys()) == sorted([stored.key, second.key])
    assert s3_store.total_size() == stored.size + second.size

    s3_store.remove(stored.key)
    assert not s3_store.exists(stored.key)
    assert s3_store.verify(stored.key, sha) == "missing"
    s3_store.remove(stored.key)
    with pytest.raises(NotFoundError, match=f"no media at {stored.key}"):
        s3_store.open(stored.key)
    assert list(s3_store.iter_keys()) == [second.key]


def test_s3_verify_finds_corruption_and_outside_writes(
    s3_store: MediaStore, s3_endpoint: str, bucket: str, plate: Path
) -> None:
    import boto3

    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    stored = s3_store.put(plate, ".png")
    assert list(s3_store.iter_keys()) == [stored.key]  # fills fsspec's listing cache
    client.put_object(Bucket=bucket, Key=f"media/{stored.key}", Body=b"rotten")
    assert s3_store.verify(stored.key, stored.sha256) == "corrupt"

    # Objects written by someone else, and stray ones, are seen despite the cache.
    other = MediaStore.key_for(SHA_OF_NOTHING, ".jpg")
    client.put_object(Bucket=bucket, Key=f"media/{other}", Body=b"")
    client.put_object(Bucket=bucket, Key="media/.tmp/unfinished.part", Body=b"x")
    client.put_object(Bucket=bucket, Key="media/notes.txt", Body=b"x")
    assert s3_store.exists(other)
    assert list(s3_store.iter_keys()) == sorted([stored.key, other])
    assert s3_store.stale_temp_files(0) == []


def test_s3_changed_source_leaves_nothing(
    s3_store: MediaStore, plate: Path, tmp_path: Path
) -> None:
    wrong = sha256_of(write_png(tmp_path / "other.png", seed=42))
    with pytest.raises(ConflictError, match="changed while it was being stored"):
        s3_store.put(plate, ".png", sha256=wrong)
    assert list(s3_store.iter_keys()) == []


def test_s3_missing_bucket(s3_endpoint: str, aws_env: None, plate: Path) -> None:
    store = MediaStore("s3://no-such-bucket/media", storage_options=s3_options(s3_endpoint))
    with pytest.raises(StorageError, match="cannot write to media store s3://no-such-bucket/media"):
        store.put(plate, ".png")


def test_s3_unreachable(aws_env: None, plate: Path) -> None:
    options = s3_options("http://127.0.0.1:9")  # discard port: nothing listens
    options["config_kwargs"] = {"connect_timeout": 1, "retries": {"max_attempts": 1}}
    store = MediaStore("s3://setpiece-offline/media", storage_options=options)
    with pytest.raises(StorageError, match="media store s3://setpiece-offline/media") as caught:
        store.put(plate, ".png")
    assert "\n" not in str(caught.value)


def test_s3_without_s3fs(monkeypatch: pytest.MonkeyPatch) -> None:
    registry = importlib.import_module("fsspec.registry")  # `fsspec.registry` is a mapping
    monkeypatch.setitem(sys.modules, "s3fs", None)  # makes `import s3fs` fail
    monkeypatch.delitem(registry._registry, "s3", raising=False)
    with pytest.raises(
        MissingExtraError, match=r"s3:// media store .* pip install 'setpiece\[s3\]'"
    ):
        MediaStore("s3://bucket/media")
