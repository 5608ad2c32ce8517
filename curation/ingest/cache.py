"""A content-addressed download cache: each URL's bytes live once under their sha256, found through an index.

Layout of ``<dir>``: ``<sha256[:2]>/<sha256>`` holds the bytes, ``index.sqlite`` maps URL -> sha256 and size,
``tmp/`` holds downloads in progress. A file is written to ``tmp/`` and hashed as it streams, fsynced, moved
into place with ``os.replace``, and only then recorded in the index: a download that is interrupted (an
exception, a kill, a full disk) leaves no index entry, so it never counts as cached and the next run fetches
it again. Two URLs with the same bytes share one file. The index is SQLite, so runs that share a cache
folder do not lose each other's entries.

Example::

    cache = ContentCache("cache/arxiv")
    path = cache.fetch("https://arxiv.org/e-print/2401.00001v2", download)  # downloads once
    cache.path_for("https://arxiv.org/e-print/2401.00001v2")  # the same path, no request
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

__all__ = ["CachedFile", "ContentCache", "DownloadTooLarge"]

CHUNK_SIZE = 1 << 16
STALE_PART_SECONDS = 24 * 3600  # a .part file this old was left by a run that died: removed on open
Content = bytes | bytearray | memoryview | BinaryIO | Iterable[bytes]


class DownloadTooLarge(ValueError):
    """A download that went past the cache's size limit (nothing of it is kept)."""


@dataclass(frozen=True)
class CachedFile:
    """A cached URL: where its bytes are, their sha256 and size."""

    url: str
    path: Path
    sha256: str
    size: int


def _chunks(data: Content) -> Iterable[bytes]:
    if isinstance(data, bytes | bytearray | memoryview):
        yield bytes(data)
    elif hasattr(data, "read"):
        while chunk := data.read(CHUNK_SIZE):  # type: ignore[union-attr]
            yield chunk
    else:
        yield from data  # type: ignore[misc]


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):  # directories cannot be opened on some platforms
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class ContentCache:
    """Bytes by URL, stored once per content (sha256); see the module docstring for the layout."""

    def __init__(self, directory: str | os.PathLike, *, max_bytes: int | None = None):
        self.dir = Path(directory)
        self.max_bytes = max_bytes
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / "tmp").mkdir(exist_ok=True)
        self._remove_stale_parts()
        self._index_path = self.dir / "index.sqlite"
        with self._connect() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS files (url TEXT PRIMARY KEY, sha256 TEXT NOT NULL, size INTEGER)"
            )

    def _remove_stale_parts(self) -> None:
        """Delete downloads in progress left by runs that died (never the recent ones: a run may be going)."""
        cutoff = time.time() - STALE_PART_SECONDS
        for part in (self.dir / "tmp").glob("*.part"):
            with contextlib.suppress(OSError):
                if part.stat().st_mtime < cutoff:
                    part.unlink()

    def _connect(self) -> contextlib.closing[sqlite3.Connection]:
        db = sqlite3.connect(self._index_path, timeout=30.0, isolation_level=None)
        return contextlib.closing(db)

    def blob_path(self, sha256: str) -> Path:
        """Where the bytes with this sha256 live (whether or not they are there)."""
        return self.dir / sha256[:2] / sha256

    def lookup(self, url: str) -> CachedFile | None:
        """The cached file of ``url``; None when it was never stored or its file is gone or the wrong size."""
        with self._connect() as db:
            row = db.execute("SELECT sha256, size FROM files WHERE url = ?", (url,)).fetchone()
        if row is None:
            return None
        sha256, size = row
        path = self.blob_path(sha256)
        try:
            if path.stat().st_size != size:
                return None
        except FileNotFoundError:
            return None
        return CachedFile(url, path, sha256, size)

    def path_for(self, url: str) -> Path | None:
        """The path of the cached bytes of ``url``, or None when they are not (completely) cached."""
        cached = self.lookup(url)
        return cached.path if cached else None

    def store(self, url: str, data: Content) -> CachedFile:
        """Store ``data`` (bytes, a binary file, or an iterable of byte chunks) as the content of ``url``.

        The bytes go to a temporary file first; the index entry is written only after the file is complete
        and in place, so an exception while reading ``data`` leaves the cache as it was.
        """
        digest = hashlib.sha256()
        size = 0
        fd, tmp_name = tempfile.mkstemp(dir=self.dir / "tmp", suffix=".part")
        tmp = Path(tmp_name)
        chunks = _chunks(data)
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in chunks:
                    size += len(chunk)
                    if self.max_bytes is not None and size > self.max_bytes:
                        raise DownloadTooLarge(f"{url}: larger than the limit of {self.max_bytes} bytes")
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            sha256 = digest.hexdigest()
            final = self.blob_path(sha256)
            final.parent.mkdir(exist_ok=True)
            os.replace(tmp, final)
            _fsync_dir(final.parent)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        with self._connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO files (url, sha256, size) VALUES (?, ?, ?)", (url, sha256, size)
            )
        return CachedFile(url, final, sha256, size)

    def fetch(self, url: str, download: Callable[[str], Content]) -> CachedFile:
        """The cached file of ``url``; calls ``download(url)`` (bytes, a file, or byte chunks) only when absent."""
        cached = self.lookup(url)
        if cached is not None:
            return cached
        return self.store(url, download(url))

    def __contains__(self, url: str) -> bool:
        return self.lookup(url) is not None
