"""The content-addressed media store: clean masters, keyed by their sha256.

Every imported still and video is kept byte for byte as it came in, under
``<sha256[:2]>/<sha256><ext>``. The key is the content's hash, so the same file
imported twice is stored once, and any copy can be re-hashed against its key.
The store is a local folder or any fsspec URL (``s3://bucket/prefix`` for a
team sharing an S3-compatible bucket).

Why a reader never sees half a master:

* Local folder: the bytes are copied into ``<store>/.tmp/`` (same
  filesystem), hashed on the way, flushed and ``fsync``-ed, checked against the
  expected hash, and only then renamed onto the key with ``os.replace``, which
  POSIX makes atomic; the directory is ``fsync``-ed so the rename survives a
  power cut. A crash at any moment therefore leaves either nothing at the key
  or the complete file, and at worst a leftover in ``.tmp/`` that
  :meth:`MediaStore.stale_temp_files` lists for clean-up.
* Remote (S3 and the like): an object PUT, single or multipart, becomes
  visible only once complete, so the file is uploaded straight to its key and
  its size checked afterwards. The source is re-hashed after the upload; if it
  changed meanwhile, the object is removed again.

Stored files are made read-only: masters are never edited in place.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import tempfile
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Literal
from urllib.parse import unquote, urlparse

from setpiece.errors import (
    ConflictError,
    InvalidInputError,
    MissingExtraError,
    NotFoundError,
    SetpieceError,
    StorageError,
)
from setpiece.store.video import reason

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

__all__ = ["MediaStore", "StoredMedia", "hash_file"]

CHUNK = 1024 * 1024
"""Bytes read at a time when hashing or copying: memory stays constant."""

TEMP_DIR = ".tmp"
"""Folder inside a local store that holds writes in progress."""

_SHA256 = re.compile(r"[0-9a-f]{64}")
_EXT = re.compile(r"(\.[a-z0-9]{1,10})?")
_KEY = re.compile(r"([0-9a-f]{2})/\1[0-9a-f]{62}(\.[a-z0-9]{1,10})?")


@dataclass(frozen=True)
class StoredMedia:
    """A master held by the store.

    Attributes:
        sha256: Lower-case hex sha256 of the file's bytes.
        size: Size in bytes.
        key: Where it lies inside the store, e.g. ``"ab/ab12...ef.mp4"``.
    """

    sha256: str
    size: int
    key: str


def hash_file(path: str | os.PathLike[str]) -> tuple[str, int]:
    """Hash a file in 1 MiB chunks.

    Args:
        path: The file to hash.

    Returns:
        Its lower-case hex sha256 and its size in bytes.

    Raises:
        InvalidInputError: The file does not exist or cannot be read.
    """
    digest = hashlib.sha256()
    size = 0
    with _open_source(path) as handle:
        for chunk in _chunks(handle, path):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


@contextmanager
def _open_source(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """Open a file being imported, reporting a missing or unreadable one as bad input."""
    name = os.fspath(path)
    try:
        handle = open(name, "rb")  # noqa: SIM115 - closed below, errors wrapped apart
    except FileNotFoundError:
        raise InvalidInputError(f"no such file: {name}") from None
    except IsADirectoryError:
        raise InvalidInputError(
            f"{name} is a folder, not a file; give the path of a file"
        ) from None
    except OSError as exc:
        raise InvalidInputError(f"cannot read {name}: {reason(exc)}") from exc
    with handle:
        yield handle


def _chunks(handle: BinaryIO, path: str | os.PathLike[str]) -> Iterator[bytes]:
    """Read ``handle`` to the end in ``CHUNK``-sized pieces."""
    while True:
        try:
            chunk = handle.read(CHUNK)
        except OSError as exc:
            raise InvalidInputError(f"cannot read {os.fspath(path)}: {reason(exc)}") from exc
        if not chunk:
            return
        yield chunk


def _check_key(key: str) -> str:
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise InvalidInputError(
            f"{key!r} is not a media store key; keys look like 'ab/ab<62 more hex digits>.mp4'"
        )
    return key


class MediaStore:
    """Content-addressed masters in a local folder or behind an fsspec URL.

    Args:
        url: A local folder (``/srv/media``, ``file:///srv/media``) or an fsspec
            URL such as ``s3://bucket/media``.
        storage_options: Passed to fsspec for remote stores (``endpoint_url``,
            ``key``, ``secret``, ``client_kwargs``...). Not accepted for a local folder.

    Raises:
        InvalidInputError: The URL is not usable, or options were given for a local folder.
        StorageError: The URL's filesystem cannot be set up (e.g. s3fs is not installed).
    """

    def __init__(self, url: str, storage_options: dict[str, Any] | None = None) -> None:
        if not url:
            raise InvalidInputError("the media store URL is empty; give a folder or an s3:// URL")
        self.url = url
        self._backend: _Backend
        local = _local_folder(url)
        if local is not None:
            if storage_options:
                raise InvalidInputError(
                    f"storage options apply only to remote media stores, not to the folder {url}; "
                    "remove them"
                )
            self._backend = _LocalBackend(local)
        else:
            self._backend = _RemoteBackend(url, dict(storage_options or {}))

    def __repr__(self) -> str:
        return f"MediaStore({self.url!r})"

    @staticmethod
    def key_for(sha256: str, ext: str) -> str:
        """The key a file with this hash and extension is stored under.

        Args:
            sha256: Lower-case hex sha256 (64 digits).
            ext: Extension with its dot (``".mp4"``), lower case, or ``""``.

        Returns:
            ``"<sha256[:2]>/<sha256><ext>"``.

        Raises:
            InvalidInputError: The hash or the extension is malformed.
        """
        if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
            raise InvalidInputError(
                f"{sha256!r} is not a sha256; give 64 lower-case hexadecimal digits"
            )
        if not isinstance(ext, str) or not _EXT.fullmatch(ext):
            raise InvalidInputError(
                f"{ext!r} is not a media extension; give a dot and 1-10 lower-case letters "
                "or digits, such as '.mp4'"
            )
        return f"{sha256[:2]}/{sha256}{ext}"

    def put(
        self, path: str | os.PathLike[str], ext: str, *, sha256: str | None = None
    ) -> StoredMedia:
        """Store a file under its hash; a file stored already is not written again.

        Args:
            path: The file to store.
            ext: Extension to store it with (``".mp4"``), normally ``MediaInfo.ext``.
            sha256: Its hash when already known (for example from an earlier
                :func:`hash_file`); the bytes are checked against it while copying.

        Returns:
            The stored file's hash, size and key.

        Raises:
            InvalidInputError: The file cannot be read, or ``ext``/``sha256`` is malformed.
            ConflictError: The file changed while it was being stored (its bytes no
                longer match ``sha256``); nothing is left at the key.
            StorageError: The store cannot be written.
        """
        if sha256 is None:
            sha256, size = hash_file(path)
        else:
            size = _source_size(path)
        key = self.key_for(sha256, ext)
        if self._backend.size(key) == size:
            return StoredMedia(sha256=sha256, size=size, key=key)
        self._backend.write(os.fspath(path), key, sha256, size)
        return StoredMedia(sha256=sha256, size=size, key=key)

    def exists(self, key: str) -> bool:
        """Whether a file is stored at ``key``."""
        return self._backend.size(_check_key(key)) is not None

    def open(self, key: str) -> BinaryIO:
        """Open a stored file for reading (binary); the caller closes it.

        Raises:
            NotFoundError: Nothing is stored at ``key``.
            StorageError: The store cannot be read.
        """
        return self._backend.open(_check_key(key))

    def local_path(self, key: str) -> Path | None:
        """The file's path on disk for a local store (whether or not it exists); None if remote."""
        return self._backend.local_path(_check_key(key))

    def url_for(self, key: str) -> str:
        """Where ``key`` lies: an absolute path for a local store, a full URL otherwise."""
        return self._backend.url_for(_check_key(key))

    def verify(self, key: str, sha256: str) -> Literal["ok", "missing", "corrupt"]:
        """Re-hash a stored file and compare it with the hash it should have.

        Returns:
            ``"ok"``, ``"missing"`` when nothing is at ``key``, or ``"corrupt"``
            when the bytes there hash to something else.

        Raises:
            StorageError: The store cannot be read.
        """
        try:
            handle = self.open(key)
        except NotFoundError:
            return "missing"
        digest = hashlib.sha256()
        with self._backend.errors("read from"), handle:
            while chunk := handle.read(CHUNK):
                digest.update(chunk)
        return "ok" if digest.hexdigest() == sha256 else "corrupt"

    def iter_keys(self) -> Iterator[str]:
        """Every stored key, sorted; writes in progress and stray files are left out."""
        for key, _size in self._backend.listing():
            yield key

    def stale_temp_files(self, older_than_s: float = 3600) -> list[str]:
        """Leftovers of interrupted writes in a local store, older than ``older_than_s`` seconds.

        Returns:
            Their absolute paths; always empty for a remote store, whose
            uploads leave nothing behind.
        """
        return self._backend.stale_temp_files(older_than_s)

    def remove(self, key: str) -> None:
        """Delete the file at ``key``; removing a missing key does nothing.

        Raises:
            StorageError: The store cannot be written.
        """
        self._backend.remove(_check_key(key))

    def total_size(self) -> int:
        """Bytes held by all stored keys."""
        return sum(size for _key, size in self._backend.listing())


def _source_size(path: str | os.PathLike[str]) -> int:
    name = os.fspath(path)
    try:
        return os.stat(name).st_size
    except FileNotFoundError:
        raise InvalidInputError(f"no such file: {name}") from None
    except OSError as exc:
        raise InvalidInputError(f"cannot read {name}: {reason(exc)}") from exc


def _local_folder(url: str) -> Path | None:
    """The folder a local store URL names, or None for a remote URL."""
    if "::" in url:
        return None
    if "://" not in url:
        return Path(url).expanduser().absolute()
    parsed = urlparse(url)
    if parsed.scheme.lower() not in {"file", "local"}:
        return None
    if parsed.netloc not in {"", "localhost"}:
        raise InvalidInputError(
            f"{url} names a file on another host; give a local folder or a remote URL such as s3://"
        )
    return Path(unquote(parsed.path)).absolute()


def _changed_message(source: str, sha256: str, found: str) -> str:
    return (
        f"{source} changed while it was being stored (expected sha256 {sha256[:12]}..., "
        f"read {found[:12]}...); import it again once nothing is writing to it"
    )


class _Backend(ABC):
    """Raw file operations of one kind of store; :class:`MediaStore` keeps the logic."""

    url: str
    hint: str

    @contextmanager
    def errors(self, action: str) -> Iterator[None]:
        """Report any failure of the underlying filesystem as a one-line StorageError."""
        try:
            yield
        except SetpieceError:
            raise
        except Exception as exc:
            raise StorageError(
                f"cannot {action} media store {self.url}: {reason(exc)}; {self.hint}"
            ) from exc

    @abstractmethod
    def size(self, key: str) -> int | None:
        """Size of the file at ``key``, None when there is none."""

    @abstractmethod
    def write(self, source: str, key: str, sha256: str, size: int) -> None:
        """Copy ``source`` to ``key`` so that no partial file is ever seen at ``key``."""

    @abstractmethod
    def open(self, key: str) -> BinaryIO:
        """Open ``key`` for binary reading; NotFoundError when missing."""

    @abstractmethod
    def remove(self, key: str) -> None:
        """Delete ``key`` if it exists."""

    @abstractmethod
    def listing(self) -> Iterator[tuple[str, int]]:
        """Every valid key with its size, sorted by key."""

    @abstractmethod
    def url_for(self, key: str) -> str:
        """Full location of ``key``."""

    def local_path(self, key: str) -> Path | None:
        """Path on this machine's disk, None unless the store is a local folder."""
        return None

    def stale_temp_files(self, older_than_s: float) -> list[str]:
        """Unfinished writes older than ``older_than_s`` seconds; none for remote stores."""
        return []


class _LocalBackend(_Backend):
    """A folder on a local or mounted filesystem, written by copy, fsync and rename."""

    hint = "check that the folder exists, is writable and has free space"

    def __init__(self, root: Path) -> None:
        self.root = root
        self.url = str(root)

    def local_path(self, key: str) -> Path:
        return self.root / key

    def url_for(self, key: str) -> str:
        return str(self.root / key)

    def size(self, key: str) -> int | None:
        with self.errors("read from"):
            try:
                st = os.stat(self.root / key)
            except (FileNotFoundError, NotADirectoryError):
                return None
        return st.st_size if stat.S_ISREG(st.st_mode) else None

    def write(self, source: str, key: str, sha256: str, size: int) -> None:
        final = self.root / key
        temp_dir = self.root / TEMP_DIR
        with self.errors("write to"):
            temp_dir.mkdir(parents=True, exist_ok=True)
            new_shard = not final.parent.is_dir()
            final.parent.mkdir(exist_ok=True)
            fd, temp_name = tempfile.mkstemp(prefix=f"{sha256[:16]}.", suffix=".part", dir=temp_dir)
        try:
            digest = hashlib.sha256()
            copied = 0
            with open(fd, "wb") as out, _open_source(source) as src:
                for chunk in _chunks(src, source):
                    digest.update(chunk)
                    with self.errors("write to"):
                        out.write(chunk)
                    copied += len(chunk)
                with self.errors("write to"):
                    out.flush()
                    os.fsync(out.fileno())
            found = digest.hexdigest()
            if found != sha256 or copied != size:
                raise ConflictError(_changed_message(source, sha256, found))
            with self.errors("write to"):
                os.chmod(temp_name, 0o444)
                os.replace(temp_name, final)
                _fsync_dir(final.parent)
                if new_shard:
                    _fsync_dir(self.root)
        except BaseException:
            # Covers KeyboardInterrupt too; after os.replace the name is gone and this is a no-op.
            with suppress(OSError):
                os.unlink(temp_name)
            raise

    def open(self, key: str) -> BinaryIO:
        try:
            return open(self.root / key, "rb")
        except (FileNotFoundError, NotADirectoryError):
            raise NotFoundError(f"no media at {key} in the store {self.url}") from None
        except OSError as exc:
            raise StorageError(
                f"cannot read from media store {self.url}: {reason(exc)}; {self.hint}"
            ) from exc

    def remove(self, key: str) -> None:
        path = self.root / key
        with self.errors("remove from"):
            try:
                path.unlink()
            except FileNotFoundError:
                return
            _fsync_dir(path.parent)

    def listing(self) -> Iterator[tuple[str, int]]:
        with self.errors("list"):
            try:
                shards = sorted(
                    entry.name
                    for entry in os.scandir(self.root)
                    if entry.is_dir(follow_symlinks=False) and len(entry.name) == 2
                )
            except FileNotFoundError:
                return
        for shard in shards:
            with self.errors("list"):
                try:
                    entries = sorted(os.scandir(self.root / shard), key=lambda e: e.name)
                except FileNotFoundError:
                    continue
                found = [
                    (f"{shard}/{entry.name}", entry.stat(follow_symlinks=False).st_size)
                    for entry in entries
                    if entry.is_file(follow_symlinks=False)
                    and _KEY.fullmatch(f"{shard}/{entry.name}")
                ]
            yield from found

    def stale_temp_files(self, older_than_s: float) -> list[str]:
        cutoff = time.time() - older_than_s
        with self.errors("list"):
            try:
                entries = list(os.scandir(self.root / TEMP_DIR))
            except FileNotFoundError:
                return []
            return sorted(
                entry.path
                for entry in entries
                if entry.is_file(follow_symlinks=False)
                and entry.stat(follow_symlinks=False).st_mtime <= cutoff
            )


def _fsync_dir(path: Path) -> None:
    """Make a rename or unlink inside ``path`` durable (no-op where folders cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except (PermissionError, IsADirectoryError):  # Windows cannot open a folder
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _RemoteBackend(_Backend):
    """Any fsspec filesystem; whole-object uploads make writes atomic on object stores."""

    hint = "check the store URL, the credentials and the network"

    def __init__(self, url: str, storage_options: dict[str, Any]) -> None:
        import fsspec.core
        import fsspec.utils

        self.url = url.rstrip("/")
        protocol = fsspec.utils.get_protocol(url)
        try:
            fs, root = fsspec.core.url_to_fs(self.url, **storage_options)
        except ImportError as exc:
            if protocol in {"s3", "s3a"}:
                raise MissingExtraError(
                    f"the {protocol}:// media store {self.url}", "s3", exc.name
                ) from exc
            raise InvalidInputError(
                f"cannot use media store {self.url}: {reason(exc)}; install the fsspec "
                f"package for {protocol}://"
            ) from exc
        except Exception as exc:
            raise StorageError(
                f"cannot use media store {self.url}: {reason(exc)}; check its URL and options"
            ) from exc
        self.fs: AbstractFileSystem = fs
        self.root = str(root).rstrip("/")

    def _path(self, key: str) -> str:
        return f"{self.root}/{key}"

    def url_for(self, key: str) -> str:
        return str(self.fs.unstrip_protocol(self._path(key)))

    def size(self, key: str) -> int | None:
        path = self._path(key)
        with self.errors("read from"):
            # Listings are cached per process; another machine may have written meanwhile.
            self.fs.invalidate_cache(path)
            try:
                info = self.fs.info(path)
            except FileNotFoundError:
                return None
        if info.get("type") != "file":
            return None
        return int(info["size"])

    def write(self, source: str, key: str, sha256: str, size: int) -> None:
        path = self._path(key)
        with self.errors("write to"):
            self.fs.put_file(source, path)
        written = self.size(key)
        if written != size:
            self.remove(key)
            raise StorageError(
                f"cannot write to media store {self.url}: {key} holds {written} bytes after "
                f"the upload instead of {size}; try again"
            )
        found, _ = hash_file(source)
        if found != sha256:
            self.remove(key)
            raise ConflictError(_changed_message(source, sha256, found))

    def open(self, key: str) -> BinaryIO:
        path = self._path(key)
        with self.errors("read from"):
            self.fs.invalidate_cache(path)
            try:
                handle: BinaryIO = self.fs.open(path, "rb")
            except FileNotFoundError:
                raise NotFoundError(f"no media at {key} in the store {self.url}") from None
        return handle

    def remove(self, key: str) -> None:
        path = self._path(key)
        with self.errors("remove from"):
            with suppress(FileNotFoundError):
                self.fs.rm_file(path)
            self.fs.invalidate_cache(path)

    def listing(self) -> Iterator[tuple[str, int]]:
        with self.errors("list"):
            self.fs.invalidate_cache(self.root)
            try:
                found = self.fs.find(self.root, detail=True)
            except FileNotFoundError:
                return
        prefix = self.root + "/"
        keys = []
        for name, info in found.items():
            key = name[len(prefix) :] if name.startswith(prefix) else ""
            if info.get("type") == "file" and _KEY.fullmatch(key):
                keys.append((key, int(info["size"])))
        yield from sorted(keys)
