r"""arXiv ingestion: search the API, download each paper's LaTeX source (or its PDF when there is none) into a
content-addressed cache, and extract problem/solution seeds with their provenance.

Politeness, as arXiv's terms ask: one request per ``delay`` seconds (3 by default) across *all* requests, the
API pages and the downloads together, counted from the end of one request to the start of the next; 429/5xx
answers and dropped connections are retried ``retries`` times with exponential backoff (``2 * delay``,
doubling), honouring ``Retry-After`` (a wait longer than ``max_wait`` gives up at once rather than knocking
early); every request carries a ``User-Agent`` naming this tool (add a contact address with ``contact``).

The search goes through the ``arxiv`` package (``arxiv.Client``: paging, result parsing), with its HTTP
session replaced by ours, because the package sends its own ``User-Agent`` on every request and retries
without backoff. Our session also checks each API answer: an empty or malformed feed is retried and then
reported, an API error entry (``http://arxiv.org/api/errors#...``) is reported at once with arXiv's message,
and the licence of each entry is read from the raw Atom (``<arxiv:license>``, ``<rights>`` or a
``<link rel="license">``): the ``arxiv`` package does not expose it, and the arXiv API does not send it today,
so it is usually ``"unknown"``.

Downloads: ``<eprint_base><id><version>`` (``https://export.arxiv.org/e-print/``, arXiv's host for programs)
gives a gzipped tar, one gzipped ``.tex``, or the PDF for papers submitted as PDF (told apart by their first
bytes); a 403/404 there, or a source with no usable ``.tex``, falls back to ``<pdf_base><id><version>``.
Versioned URLs never change, so the cache (``curation.ingest.cache``) never downloads one twice.

Errors never stop the run. The stream holds Seeds and ``IngestError``\s (the one of ``curation.ingest.pdf``,
shared by the ingest paths; its ``path`` is the paper's id with version, or the query): a paper that fails
gives one (``level="error"``) and the run goes on with the next; a paper's warnings (no problems found, an
unmatched solution, a missing ``\input``, the PDF used for want of a source) follow its seeds as
``level="warning"``; a search that fails gives one naming the query and ends the run, after everything
already found was yielded.

Example::

    for item in ingest_arxiv("cat:hep-th AND abs:exercise", since="2024-01-01", max_results=50,
                             cache_dir="cache/arxiv"):
        print(item)  # a Seed, or e.g. "2401.01234v2: source archive refused, nothing extracted: member ..."
"""

from __future__ import annotations

import dataclasses
import email.utils
import importlib
import logging
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

import arxiv
import requests
from lxml import etree

from curation.ingest.cache import CachedFile, ContentCache, DownloadTooLarge
from curation.ingest.latex import (
    MAX_FILES,
    MAX_TOTAL_BYTES,
    TexSourceError,
    UnsafeArchiveError,
    extract_tex_archive,
    sniff_source,
)
from curation.ingest.pdf import IngestError
from curation.records.seed import Seed, SeedSource

__all__ = [
    "ArxivIngestor",
    "ArxivPaper",
    "DEFAULT_USER_AGENT",
    "FeedError",
    "FetchError",
    "IngestError",
    "IngestStats",
    "PaperSeeds",
    "RateLimiter",
    "date_range_query",
    "ingest_arxiv",
]

logger = logging.getLogger(__name__)

try:
    __version__ = package_version("verifiable-qft")
except PackageNotFoundError:  # pragma: no cover - running from a checkout that is not installed
    __version__ = "0.0.0"

PROJECT_URL = "https://github.com/verifiable-qft"
DEFAULT_USER_AGENT = f"verifiable-qft/{__version__} (+{PROJECT_URL}; vqft ingest arxiv)"
API_URL = "https://export.arxiv.org/api/query?{}"
EPRINT_BASE = "https://export.arxiv.org/e-print/"
PDF_BASE = "https://export.arxiv.org/pdf/"
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
CHUNK_SIZE = 1 << 16
_NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "arxiv": "http://arxiv.org/schemas/atom",
    "opensearch": "http://a9.com/-/spec/opensearch/1.1/",
}
_VERSIONED = re.compile(r"^(?P<id>.+?)(?P<version>v\d+)?$")


# --------------------------------------------------------------------------------------------- errors


class FetchError(Exception):
    """A request that failed for good (after the retries, or at once for a definite answer)."""

    def __init__(self, url: str, message: str, status: int | None = None):
        self.url = url
        self.message = message
        self.status = status
        super().__init__(f"{message} ({url})")

    def __reduce__(self):
        return (type(self), (self.url, self.message, self.status))


class FeedError(FetchError):
    """An arXiv API answer that is not a usable Atom feed, or an API error message."""


class _BrokenDownload(FetchError):
    """A download whose body broke off (retried by ``ArxivIngestor.fetch``)."""


@dataclass
class IngestStats:
    """What a run did, for the summary table: papers seen, by source format, seeds, errors, requests."""

    papers: int = 0
    latex: int = 0
    pdf: int = 0
    seeds: int = 0
    without_problems: int = 0
    errors: int = 0
    warnings: int = 0
    downloaded: int = 0
    cached: int = 0

    def counts(self) -> dict[str, int]:
        return dataclasses.asdict(self)


# --------------------------------------------------------------------------------------------- politeness


class RateLimiter:
    """At most one request per ``delay`` seconds: ``wait()`` before a request, ``done()`` when it is over
    (the next one starts ``delay`` after that), ``defer(s)`` to wait at least ``s`` before the next."""

    def __init__(self, delay: float, *, clock: Callable[[], float] = time.monotonic, sleep=time.sleep):
        self.delay = delay
        self._clock = clock
        self._sleep = sleep
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            pause = self._next - self._clock()
            if pause > 0:
                self._sleep(pause)

    def done(self) -> None:
        with self._lock:
            self._next = max(self._next, self._clock() + self.delay)

    def defer(self, seconds: float) -> None:
        with self._lock:
            self._next = max(self._next, self._clock() + seconds)


def _retry_after(response: requests.Response) -> float | None:
    """``Retry-After`` in seconds (a number or an HTTP date), or None."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    value = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class PoliteSession(requests.Session):
    """A ``requests`` session that paces, retries and names itself (see the module docstring).

    ``check(url, response)`` is a hook for subclasses: return a reason to retry an answer, or raise.
    """

    def __init__(
        self,
        user_agent: str,
        limiter: RateLimiter,
        *,
        retries: int = 4,
        timeout: float = 60.0,
        max_wait: float = 300.0,
    ):
        super().__init__()
        self.user_agent = user_agent
        self.headers["User-Agent"] = user_agent
        self.limiter = limiter
        self.retries = retries
        self.timeout = timeout
        self.max_wait = max_wait

    def backoff(self, attempt: int) -> float:
        return min(self.max_wait, 2 * self.limiter.delay * 2**attempt)

    def check(self, url: str, response: requests.Response) -> str | None:
        return None

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        url = url.decode() if isinstance(url, bytes) else url
        # Callers (the arxiv package) pass their own User-Agent per request; ours replaces it.
        headers = {k: v for k, v in (kwargs.pop("headers", None) or {}).items() if k.lower() != "user-agent"}
        headers["User-Agent"] = self.user_agent
        kwargs.setdefault("timeout", self.timeout)
        tries = self.retries + 1
        for attempt in range(tries):
            self.limiter.wait()
            try:
                response = super().request(method, url, *args, headers=headers, **kwargs)
            except (requests.ConnectionError, requests.Timeout) as exc:
                self.limiter.done()
                if attempt + 1 == tries:
                    raise FetchError(url, f"no answer after {tries} tries ({type(exc).__name__})") from None
                logger.info("%s: %s; retrying", url, type(exc).__name__)
                self.limiter.defer(self.backoff(attempt))
                continue
            self.limiter.done()
            status = response.status_code
            reason = None
            wait = self.backoff(attempt)
            if status in RETRY_STATUSES:
                asked = _retry_after(response)
                reason = f"HTTP {status}" + (f" (Retry-After {asked:g} s)" if asked is not None else "")
                if asked is not None:
                    if asked > self.max_wait:
                        response.close()
                        raise FetchError(
                            url,
                            f"HTTP {status}: the server asks to wait {asked:g} s (Retry-After), longer than "
                            f"max_wait={self.max_wait:g} s; re-run later (what is cached is kept)",
                            status,
                        )
                    wait = max(asked, self.limiter.delay)
            else:
                reason = self.check(url, response)
            if reason is None:
                return response
            response.close()
            if attempt + 1 == tries:
                kind = FeedError if not reason.startswith("HTTP") else FetchError
                raise kind(
                    url, f"{reason} after {tries} tries; re-run later (what is cached is kept)", status
                )
            logger.info("%s: %s; retrying in %.1f s", url, reason, wait)
            self.limiter.defer(wait)
        raise AssertionError("unreachable")  # pragma: no cover


def _parse_xml(content: bytes) -> Any:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    return etree.fromstring(content, parser=parser)


def _entry_licence(entry: Any) -> str | None:
    found = entry.find("arxiv:license", _NS)
    if found is not None:
        value = (found.text or found.get("href") or "").strip()
        if value:
            return value
    rights = entry.find("atom:rights", _NS)
    if rights is not None and (rights.text or "").strip():
        return rights.text.strip()
    for link in entry.iterfind("atom:link", _NS):
        if link.get("rel") == "license" and link.get("href"):
            return link.get("href")
    return None


def _short_id(entry_id: str) -> str:
    return entry_id.strip().split("arxiv.org/abs/")[-1]


class ApiSession(PoliteSession):
    """The session given to ``arxiv.Client``: also checks each feed and keeps each entry's licence."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.licences: dict[str, str] = {}

    def check(self, url: str, response: requests.Response) -> str | None:
        content = response.content
        if response.status_code != 200:
            message = f"HTTP {response.status_code} from the arXiv API"
            try:
                detail = self._api_error(_parse_xml(content))
            except etree.XMLSyntaxError:
                detail = None
            raise FeedError(url, f"{message}: {detail}" if detail else message, response.status_code)
        if not content.strip():
            return "empty answer (no Atom feed)"
        try:
            root = _parse_xml(content)
        except etree.XMLSyntaxError as exc:
            return f"malformed Atom feed ({exc})"
        if root.tag != f"{{{_NS['atom']}}}feed":
            return f"not an Atom feed (root element <{etree.QName(root).localname}>)"
        detail = self._api_error(root)
        if detail:
            raise FeedError(url, f"the arXiv API answered with an error: {detail}")
        for entry in root.iterfind("atom:entry", _NS):
            entry_id = entry.findtext("atom:id", default="", namespaces=_NS)
            licence = _entry_licence(entry)
            if entry_id and licence:
                self.licences[_short_id(entry_id)] = licence
        return None

    @staticmethod
    def _api_error(root: Any) -> str | None:
        for entry in root.iterfind("atom:entry", _NS):
            if "/api/errors" in (entry.findtext("atom:id", default="", namespaces=_NS) or ""):
                return (
                    entry.findtext("atom:summary", default="", namespaces=_NS) or ""
                ).strip() or "unknown error"
        return None


# --------------------------------------------------------------------------------------------- search


@dataclass(frozen=True)
class ArxivPaper:
    """One search result: id and version, metadata, and the licence (``"unknown"`` when arXiv does not say)."""

    arxiv_id: str
    version: str | None
    title: str
    authors: tuple[str, ...]
    categories: tuple[str, ...]
    primary_category: str
    published: datetime
    updated: datetime
    abs_url: str
    pdf_url: str | None = None
    licence: str = "unknown"
    summary: str = ""
    comment: str | None = None
    journal_ref: str | None = None
    doi: str | None = None

    @property
    def versioned_id(self) -> str:
        """E.g. ``2401.00001v2`` (``hep-th/9901001v1`` for old ids)."""
        return self.arxiv_id + (self.version or "")

    def metadata(self) -> dict[str, Any]:
        """The metadata that goes with each seed (``SeedSource.extra``)."""
        out: dict[str, Any] = {
            "title": self.title,
            "authors": list(self.authors),
            "categories": list(self.categories),
            "primary_category": self.primary_category,
            "published": self.published.isoformat(),
            "updated": self.updated.isoformat(),
        }
        for name in ("comment", "journal_ref", "doi"):
            if getattr(self, name):
                out[name] = getattr(self, name)
        return out

    @classmethod
    def from_result(cls, result: arxiv.Result, licence: str | None = None) -> ArxivPaper:
        m = _VERSIONED.match(result.get_short_id())
        assert m is not None  # the pattern matches any string
        arxiv_id, version = m.group("id"), m.group("version")
        return cls(
            arxiv_id=arxiv_id,
            version=version,
            title=re.sub(r"\s+", " ", result.title).strip(),
            authors=tuple(author.name for author in result.authors),
            categories=tuple(result.categories),
            primary_category=result.primary_category,
            published=result.published,
            updated=result.updated,
            abs_url=f"https://arxiv.org/abs/{arxiv_id}{version or ''}",
            pdf_url=result.pdf_url,
            licence=licence or "unknown",
            summary=re.sub(r"\s+", " ", result.summary).strip(),
            comment=result.comment or None,
            journal_ref=result.journal_ref or None,
            doi=result.doi or None,
        )


def _as_date(value: date | datetime | str | None, name: str) -> date | None:
    if value is None or isinstance(value, date):
        return value.date() if isinstance(value, datetime) else value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(f"{name} {value!r} is not a date; write e.g. 2024-01-31") from None


def date_range_query(
    query: str, since: date | datetime | str | None = None, until: date | datetime | str | None = None
) -> str:
    """``query`` limited to papers submitted from ``since`` to ``until`` (whole days, UTC; until: today).

    >>> date_range_query("cat:hep-th", "2024-01-01", "2024-03-31")
    '(cat:hep-th) AND submittedDate:[202401010000 TO 202403312359]'
    """
    first, last = _as_date(since, "since"), _as_date(until, "until")
    if first is None and last is None:
        return query
    first = first or date(1991, 8, 1)  # arXiv's first day
    last = last or datetime.now(UTC).date()
    if first > last:
        raise ValueError(f"since {first} is after until {last}")
    window = f"submittedDate:[{first:%Y%m%d}0000 TO {last:%Y%m%d}2359]"
    return f"({query}) AND {window}" if query.strip() else window


# --------------------------------------------------------------------------------------------- ingestion


@dataclass(frozen=True)
class PaperSeeds:
    """What one paper gave: its seeds, the document's warnings, and the format read (``latex`` or ``pdf``)."""

    seeds: list[Seed]
    warnings: list[str]
    format: str


@dataclass(frozen=True)
class Download:
    """A paper's file in the cache and what it holds (``"tar"``, ``"tex"``, ``"pdf"`` or ``"unknown"``)."""

    url: str
    file: CachedFile
    kind: str


class ArxivIngestor:
    """Search arXiv, download politely into a cache, and extract seeds (see the module docstring).

    ``base_url`` points every endpoint at a mirror (``<base>/api/query``, ``<base>/e-print/``,
    ``<base>/pdf/``), e.g. a test server; ``api_url``, ``eprint_base`` and ``pdf_base`` override one each.
    """

    def __init__(
        self,
        cache_dir: str | Path,
        *,
        delay: float = 3.0,
        retries: int = 4,
        page_size: int = 100,
        base_url: str | None = None,
        api_url: str | None = None,
        eprint_base: str | None = None,
        pdf_base: str | None = None,
        user_agent: str = DEFAULT_USER_AGENT,
        contact: str | None = None,
        timeout: float = 60.0,
        max_wait: float = 300.0,
        max_download: int = MAX_TOTAL_BYTES,
        max_files: int = MAX_FILES,
    ):
        if delay < 0 or retries < 0 or page_size < 1:
            raise ValueError("delay and retries must be >= 0 and page_size >= 1")
        root = base_url.rstrip("/") if base_url else None
        self.api_url = api_url or (f"{root}/api/query?{{}}" if root else API_URL)
        self.eprint_base = eprint_base or (f"{root}/e-print/" if root else EPRINT_BASE)
        self.pdf_base = pdf_base or (f"{root}/pdf/" if root else PDF_BASE)
        if contact:
            mailto = f"mailto:{contact}"
            user_agent = (
                f"{user_agent[:-1]}; {mailto})" if user_agent.endswith(")") else f"{user_agent} ({mailto})"
            )
        self.user_agent = user_agent
        self.cache = ContentCache(cache_dir, max_bytes=max_download)
        self.limiter = RateLimiter(delay)
        options = dict(retries=retries, timeout=timeout, max_wait=max_wait)
        self.api = ApiSession(user_agent, self.limiter, **options)
        self.http = PoliteSession(user_agent, self.limiter, **options)
        self.delay = delay
        self.retries = retries
        self.page_size = page_size
        self.max_download = max_download
        self.max_files = max_files

    def close(self) -> None:
        self.api.close()
        self.http.close()

    def __enter__(self) -> ArxivIngestor:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    # ---- search
    def client(self, page_size: int) -> arxiv.Client:
        """An ``arxiv.Client`` that talks through our session to ``api_url``."""
        client = arxiv.Client(page_size=page_size, delay_seconds=self.delay, num_retries=self.retries)
        client.query_url_format = self.api_url
        # The package's only way in: it sends its own User-Agent on every request, through this session.
        if not isinstance(getattr(client, "_session", None), requests.Session):
            raise RuntimeError(
                f"arxiv {arxiv.__version__}: Client has no _session to replace, so requests would not carry "
                "our User-Agent nor be paced; install a version that has one (arxiv>=2.1,<5 do)"
            )
        client._session = self.api
        return client

    def search(
        self,
        query: str,
        since: date | datetime | str | None = None,
        max_results: int | None = 100,
        *,
        until: date | datetime | str | None = None,
    ) -> Iterator[ArxivPaper]:
        """The papers matching ``query`` (arXiv syntax, e.g. ``cat:hep-th AND abs:exercise``) submitted in
        ``[since, until]``, newest first, at most ``max_results``; raises FetchError when the API fails."""
        full_query = date_range_query(query, since, until)
        search = arxiv.Search(
            query=full_query,
            max_results=max_results,
            sort_by=arxiv.SortCriterion.SubmittedDate,
            sort_order=arxiv.SortOrder.Descending,
        )
        page_size = min(self.page_size, max_results) if max_results else self.page_size
        results = self.client(max(1, page_size)).results(search)
        while True:
            try:
                result = next(results)
            except StopIteration:
                return
            except arxiv.ArxivError as exc:
                raise FeedError(exc.url, exc.message) from None
            short_id = result.get_short_id()
            yield ArxivPaper.from_result(result, self.api.licences.get(short_id))

    # ---- downloads
    def _get(self, url: str) -> Iterator[bytes]:
        response = self.http.get(url, stream=True)
        if response.status_code != 200:
            response.close()
            raise FetchError(url, f"HTTP {response.status_code}", response.status_code)
        return self._body(response)

    def _body(self, response: requests.Response) -> Iterator[bytes]:
        try:
            yield from response.iter_content(CHUNK_SIZE)
        except requests.RequestException as exc:
            raise _BrokenDownload(response.url, f"download broke off ({type(exc).__name__})") from None
        finally:
            response.close()
            self.limiter.done()

    def fetch(self, url: str, stats: IngestStats | None = None) -> CachedFile:
        """The cached file of ``url``, downloaded first when it is not (completely) in the cache; a download
        that breaks off keeps nothing and is tried again, like a failed request."""
        cached = self.cache.lookup(url)
        if cached is not None:
            if stats is not None:
                stats.cached += 1
            return cached
        tries = self.retries + 1
        for attempt in range(tries):
            try:
                stored = self.cache.store(url, self._get(url))
                break
            except DownloadTooLarge:
                raise FetchError(
                    url, f"larger than max_download={self.max_download} bytes; not kept"
                ) from None
            except _BrokenDownload as exc:
                if attempt + 1 == tries:
                    raise FetchError(url, f"{exc.message} {tries} times; nothing kept") from None
                logger.info("%s: %s; retrying", url, exc.message)
                self.limiter.defer(self.http.backoff(attempt))
        if stats is not None:
            stats.downloaded += 1
        return stored

    def download_source(self, paper: ArxivPaper, stats: IngestStats | None = None) -> Download | None:
        """The paper's e-print (tar, TeX or PDF) in the cache; None when arXiv has none (HTTP 403/404)."""
        url = self.eprint_base + paper.versioned_id
        try:
            cached = self.fetch(url, stats)
        except FetchError as exc:
            if exc.status in (403, 404):
                return None
            raise
        return Download(url, cached, sniff_source(cached.path))

    def download_pdf(self, paper: ArxivPaper, stats: IngestStats | None = None) -> Download:
        url = self.pdf_base + paper.versioned_id
        cached = self.fetch(url, stats)
        return Download(url, cached, sniff_source(cached.path))

    # ---- extraction
    def base_source(self, paper: ArxivPaper, download: Download, file: str | None, fmt: str) -> SeedSource:
        return SeedSource(
            kind="arxiv",
            arxiv_id=paper.arxiv_id,
            version=paper.version,
            url=paper.abs_url,
            file=file,
            sha256=download.file.sha256,
            licence=paper.licence,
            extra={**paper.metadata(), "format": fmt, "download_url": download.url},
        )

    def ingest_paper(self, paper: ArxivPaper, stats: IngestStats | None = None) -> PaperSeeds:
        """The seeds of one paper, from its LaTeX source when it has one, else from its PDF, with the
        document's warnings. Raises FetchError, UnsafeArchiveError, TexSourceError or IngestError."""
        stats = stats if stats is not None else IngestStats()
        source = self.download_source(paper, stats)
        warnings: list[str] = []
        if source is None:
            warnings.append("arXiv has no source for it; used the PDF")
        elif source.kind in ("tar", "tex"):
            name = paper.versioned_id.replace("/", "_")
            try:
                extraction = extract_tex_archive(
                    source.file.path, name, max_total=self.max_download, max_files=self.max_files
                )
            except TexSourceError as exc:
                warnings.append(f"LaTeX source unusable ({exc}); used the PDF")
            else:
                stats.latex += 1
                base = self.base_source(paper, source, None, "latex")
                base = dataclasses.replace(base, extra={**base.extra, "main_file": extraction.main})
                seeds = [problem.to_seed(base) for problem in extraction.problems]
                if not seeds:
                    warnings.append(f"no problems found in the LaTeX source (main file {extraction.main})")
                return PaperSeeds(seeds, warnings + extraction.warnings, "latex")
        elif source.kind != "pdf":
            warnings.append(f"the e-print is not a tar, TeX or PDF file (a {source.kind} file); used the PDF")
        pdf = source if source is not None and source.kind == "pdf" else self.download_pdf(paper, stats)
        if pdf.kind != "pdf":
            raise TexSourceError(f"{pdf.url} did not give a PDF either (a {pdf.kind} file)")
        stats.pdf += 1
        seeds, pdf_warnings = self._pdf_seeds(paper, pdf)
        return PaperSeeds(seeds, warnings + pdf_warnings, "pdf")

    def _pdf_seeds(self, paper: ArxivPaper, pdf: Download) -> tuple[list[Seed], list[str]]:
        pdf_module = importlib.import_module("curation.ingest.pdf")
        name = paper.versioned_id.replace("/", "_") + ".pdf"
        with tempfile.TemporaryDirectory(prefix="vqft-pdf-") as tmp:
            path = Path(tmp) / name
            shutil.copyfile(pdf.file.path, path)  # a readable name (and suffix) for the PDF reader
            try:
                result = pdf_module.extract_pdf(path, licence=paper.licence)
            except IngestError as exc:  # its path is our temporary copy: name the paper instead
                if exc.level == "warning":
                    return [], [f"PDF {exc.message}"]
                raise IngestError(paper.versioned_id, f"PDF {exc.message}") from None
        base = self.base_source(paper, pdf, name, "pdf")
        seeds = []
        for seed in result.seeds:
            source = dataclasses.replace(
                base,
                pages=seed.source.pages,
                lines=seed.source.lines,
                extra={**seed.source.extra, **base.extra},
            )
            seeds.append(dataclasses.replace(seed, source=source))
        return seeds, [f"PDF {warning}" for warning in result.warnings]

    def ingest(
        self,
        query: str,
        since: date | datetime | str | None = None,
        max_results: int | None = 100,
        *,
        until: date | datetime | str | None = None,
        stats: IngestStats | None = None,
    ) -> Iterator[Seed | IngestError]:
        """Seeds of every paper the search finds, paper after paper, each paper's warnings after its seeds
        (``IngestError`` with ``level="warning"``); a paper that fails gives an ``IngestError`` naming it and
        the run goes on; a search that fails gives one naming the query and ends the run, keeping what it found.
        """
        stats = stats if stats is not None else IngestStats()
        papers = self.search(query, since, max_results, until=until)
        document = f"arXiv query {date_range_query(query, since, until)!r}"
        count = 0
        while True:
            try:
                paper = next(papers)
            except StopIteration:
                break
            except FetchError as exc:
                stats.errors += 1
                where = f" after {count} paper(s)" if count else ""
                yield IngestError(document, f"search stopped{where}: {exc.message} ({exc.url})")
                return
            stats.papers += 1
            count += 1
            try:
                found = self.ingest_paper(paper, stats)
            except IngestError as exc:
                stats.errors += 1
                yield exc
                continue
            except FetchError as exc:
                stats.errors += 1
                yield IngestError(paper.versioned_id, f"download of {exc.url} failed: {exc.message}")
                continue
            except UnsafeArchiveError as exc:
                stats.errors += 1
                yield IngestError(paper.versioned_id, f"source archive refused, nothing extracted: {exc}")
                continue
            except (TexSourceError, OSError) as exc:
                stats.errors += 1
                yield IngestError(paper.versioned_id, str(exc))
                continue
            except Exception as exc:  # one bad paper must not end the run; say what happened
                logger.exception("%s: unexpected error", paper.versioned_id)
                stats.errors += 1
                yield IngestError(paper.versioned_id, f"unexpected {type(exc).__name__}: {exc}")
                continue
            if not found.seeds:
                stats.without_problems += 1
            stats.seeds += len(found.seeds)
            stats.warnings += len(found.warnings)
            yield from found.seeds
            for warning in found.warnings:
                yield IngestError(paper.versioned_id, warning, level="warning")
        if count == 0:
            yield IngestError(
                document, "no papers matched (the feed had no entries); check the query", "warning"
            )


def ingest_arxiv(
    query: str,
    since: date | datetime | str | None = None,
    max_results: int | None = 100,
    cache_dir: str | Path = "cache/arxiv",
    *,
    until: date | datetime | str | None = None,
    stats: IngestStats | None = None,
    **options: Any,
) -> Iterator[Seed | IngestError]:
    """``ArxivIngestor(cache_dir, **options).ingest(query, since, max_results)``: seeds and errors, streamed."""
    with ArxivIngestor(cache_dir, **options) as ingestor:
        yield from ingestor.ingest(query, since, max_results, until=until, stats=stats)
