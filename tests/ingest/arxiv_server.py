"""A loopback server that plays arXiv for the ingest tests: the API, e-prints and PDFs, with fault injection.

Routes (what ``ArxivIngestor(base_url=server.url)`` asks for):
  GET /api/query?search_query=...&id_list=...&start=S&max_results=N&sortBy=...&sortOrder=...
      an Atom feed in arXiv's format (as recorded from export.arxiv.org, namespaces and all) of the papers
      ``[S, S+N)`` (``id_list`` filters by id), with ``opensearch:totalResults``; the query itself is not
      evaluated, only recorded.
  GET /e-print/<id><version>   the paper's ``eprint`` bytes (404 when it has none), with arXiv's content types
  GET /pdf/<id><version>       the paper's ``pdf`` bytes (404 when it has none)

Fault injection: ``server.fail(key, Fault(...), times=n, after=k)`` lets ``k`` requests for ``key`` through,
then answers the next ``n`` (``times=None``: all of them) with the fault; ``key`` is ``"api"`` or a path such
as ``"/e-print/2401.00002v1"``. ``Fault(truncate=True)`` sends part of a body and drops the connection;
``EMPTY_FEED`` (a 200 with no body), ``MALFORMED_FEED`` (a 200 with truncated XML) and ``no_entries_feed()``
are ready-made bodies.

Observation: ``server.counters`` (requests per route: ``api``, ``e-print``, ``pdf``; and per path) and
``server.requests`` (each request's path, query, headers and arrival time, ``time.monotonic()``), to assert
the User-Agent, the paging and the spacing of requests.
"""

from __future__ import annotations

import collections
import threading
import time
from dataclasses import dataclass, field
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

ATOM_NS = "http://www.w3.org/2005/Atom"


@dataclass
class FakePaper:
    """A paper the server knows: its Atom metadata and the files it serves."""

    arxiv_id: str
    version: int = 1
    title: str = "Untitled"
    authors: tuple[str, ...] = ("A. Author",)
    categories: tuple[str, ...] = ("hep-th",)  # the first is the primary category
    published: str = "2024-01-02T18:00:01Z"
    updated: str | None = None
    summary: str = "An abstract."
    comment: str | None = None
    journal_ref: str | None = None
    doi: str | None = None
    licence: str | None = None  # written as <arxiv:license>
    rights_link: str | None = None  # written as <link rel="license" href=...>
    eprint: bytes | None = None
    eprint_type: str = "application/x-eprint-tar"
    pdf: bytes | None = None

    @property
    def versioned_id(self) -> str:
        return f"{self.arxiv_id}v{self.version}"


@dataclass
class Fault:
    """An injected answer."""

    status: int = 503
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "text/plain"
    truncate: bool = False  # announce more bytes than are sent, then drop the connection


@dataclass(frozen=True)
class Request:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    time: float


EMPTY_FEED = Fault(200, b"", content_type="application/atom+xml; charset=UTF-8")
MALFORMED_FEED = Fault(
    200,
    b'<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">\n'
    b"  <entry>\n    <id>http://arxiv.org/abs/2401.00001v2</id>\n    <title>Cut off mid-",
    content_type="application/atom+xml; charset=UTF-8",
)

# The head and the entries below follow a feed recorded from export.arxiv.org (2024), ids and values replaced.
FEED_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <link href="http://arxiv.org/api/query?{self_query}" rel="self" type="application/atom+xml"/>
  <title type="html">ArXiv Query: {title_query}</title>
  <id>http://arxiv.org/api/7gFq9kVbU1mFQOtzCx5tNQmY3sE</id>
  <updated>2024-02-01T00:00:00-05:00</updated>
  <opensearch:totalResults xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">{total}</opensearch:totalResults>
  <opensearch:startIndex xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">{start}</opensearch:startIndex>
  <opensearch:itemsPerPage xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">{per_page}</opensearch:itemsPerPage>
"""
ENTRY = """  <entry>
    <id>http://arxiv.org/abs/{vid}</id>
    <updated>{updated}</updated>
    <published>{published}</published>
    <title>{title}</title>
    <summary>  {summary}
</summary>
{authors}{extras}    <link href="http://arxiv.org/abs/{vid}" rel="alternate" type="text/html"/>
    <link title="pdf" href="http://arxiv.org/pdf/{vid}" rel="related" type="application/pdf"/>
    <arxiv:primary_category xmlns:arxiv="http://arxiv.org/schemas/atom" term="{primary}" scheme="http://arxiv.org/schemas/atom"/>
{categories}  </entry>
"""
FEED_TAIL = "</feed>\n"
ERROR_FEED = """<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <link href="http://arxiv.org/api/query?search_query=&amp;id_list=&amp;start=0&amp;max_results=10" rel="self" type="application/atom+xml"/>
  <title type="html">ArXiv Query: search_query=&amp;id_list=&amp;start=0&amp;max_results=10</title>
  <id>http://arxiv.org/api/Y6jBZ3pWbkxqvqjAzbwRk7oxYkI</id>
  <updated>2024-02-01T00:00:00-05:00</updated>
  <opensearch:totalResults xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">1</opensearch:totalResults>
  <opensearch:startIndex xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">0</opensearch:startIndex>
  <opensearch:itemsPerPage xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">1</opensearch:itemsPerPage>
  <entry>
    <id>http://arxiv.org/api/errors#{anchor}</id>
    <title>Error</title>
    <summary>{message}</summary>
    <updated>2024-02-01T00:00:00-05:00</updated>
    <link href="http://arxiv.org/api/errors#{anchor}" rel="alternate" type="text/html"/>
    <author>
      <name>arXiv api core</name>
    </author>
  </entry>
</feed>
"""
ARXIV_NS_ATTR = 'xmlns:arxiv="http://arxiv.org/schemas/atom"'


def entry_xml(paper: FakePaper) -> str:
    """One ``<entry>`` as arXiv writes it."""
    authors = "".join(
        f"    <author>\n      <name>{escape(name)}</name>\n    </author>\n" for name in paper.authors
    )
    extras = ""
    if paper.comment:
        extras += f"    <arxiv:comment {ARXIV_NS_ATTR}>{escape(paper.comment)}</arxiv:comment>\n"
    if paper.journal_ref:
        extras += f"    <arxiv:journal_ref {ARXIV_NS_ATTR}>{escape(paper.journal_ref)}</arxiv:journal_ref>\n"
    if paper.doi:
        extras += f"    <arxiv:doi {ARXIV_NS_ATTR}>{escape(paper.doi)}</arxiv:doi>\n"
        extras += f'    <link title="doi" href="http://dx.doi.org/{escape(paper.doi)}" rel="related"/>\n'
    if paper.licence:
        extras += f"    <arxiv:license {ARXIV_NS_ATTR}>{escape(paper.licence)}</arxiv:license>\n"
    if paper.rights_link:
        extras += f'    <link href="{escape(paper.rights_link)}" rel="license"/>\n'
    categories = "".join(
        f'    <category term="{escape(c)}" scheme="http://arxiv.org/schemas/atom"/>\n'
        for c in paper.categories
    )
    return ENTRY.format(
        vid=paper.versioned_id,
        updated=paper.updated or paper.published,
        published=paper.published,
        title=escape(paper.title),
        summary=escape(paper.summary),
        authors=authors,
        extras=extras,
        primary=escape(paper.categories[0]),
        categories=categories,
    )


def feed_xml(papers: list[FakePaper], total: int, start: int, query: str) -> bytes:
    head = FEED_HEAD.format(
        self_query=escape(query), title_query=escape(query), total=total, start=start, per_page=len(papers)
    )
    return (head + "".join(entry_xml(p) for p in papers) + FEED_TAIL).encode("utf-8")


def no_entries_feed(query: str = "search_query=cat:nothing") -> Fault:
    """A well-formed feed with no entries (what arXiv answers when nothing matches)."""
    return Fault(200, feed_xml([], 0, 0, query), content_type="application/atom+xml; charset=UTF-8")


def api_error_feed(message: str, anchor: str = "incorrect_id_format") -> Fault:
    """arXiv's answer to a bad query: HTTP 400 with an error entry."""
    body = ERROR_FEED.format(anchor=escape(anchor), message=escape(message)).encode("utf-8")
    return Fault(400, body, content_type="application/atom+xml; charset=UTF-8")


class ArxivServer:
    """The server (see the module docstring). Use as a context manager, or ``start()``/``close()``."""

    def __init__(self, papers: list[FakePaper] | None = None):
        self.papers: list[FakePaper] = list(papers or [])
        self.counters: collections.Counter[str] = collections.Counter()
        self.requests: list[Request] = []
        self._faults: dict[str, collections.deque[list]] = collections.defaultdict(collections.deque)
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- control
    @property
    def url(self) -> str:
        assert self._httpd is not None, "start() the server first"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> ArxivServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                server._handle(self)

            def log_message(self, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.02,), daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> ArxivServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def fail(self, key: str, fault: Fault, times: int | None = 1, after: int = 0) -> None:
        """After ``after`` good answers, answer the next ``times`` requests for ``key`` (all: None) with ``fault``."""
        with self._lock:
            self._faults[key].append([fault, times, after])

    def paper(self, versioned_id: str) -> FakePaper | None:
        return next((p for p in self.papers if p.versioned_id == versioned_id), None)

    def times(self) -> list[float]:
        """Arrival times of all requests, in order."""
        return [r.time for r in self.requests]

    # ---- serving
    def _take_fault(self, key: str) -> Fault | None:
        with self._lock:
            queue = self._faults.get(key)
            if not queue:
                return None
            entry = queue[0]
            fault, times, after = entry
            if after > 0:
                entry[2] -= 1
                return None
            if times is not None:
                if times <= 1:
                    queue.popleft()
                else:
                    entry[1] -= 1
            return fault

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        arrived = time.monotonic()
        parts = urlsplit(handler.path)
        path = parts.path
        query = parse_qs(parts.query, keep_blank_values=True)
        route = path.split("/")[1] if path.count("/") >= 1 else ""
        route = {"api": "api", "e-print": "e-print", "pdf": "pdf"}.get(route, "other")
        with self._lock:
            self.counters[route] += 1
            self.counters[path] += 1
            self.requests.append(Request(path, query, dict(handler.headers.items()), arrived))
        fault = self._take_fault("api" if route == "api" else path)
        if fault is not None and fault.truncate:
            handler.close_connection = True
            self._send(handler, fault.status, fault.body, fault.content_type, fault.headers, extra=1000)
            return
        if fault is not None:
            self._send(handler, fault.status, fault.body, fault.content_type, fault.headers)
            return
        if route == "api" and path == "/api/query":
            self._send(handler, 200, self._feed(parts.query, query), "application/atom+xml; charset=UTF-8")
            return
        if route in ("e-print", "pdf"):
            paper = self.paper(path.split("/", 2)[2])
            data = None if paper is None else paper.eprint if route == "e-print" else paper.pdf
            if paper is not None and data is not None:
                content_type = paper.eprint_type if route == "e-print" else "application/pdf"
                self._send(handler, 200, data, content_type)
                return
        self._send(handler, 404, b"Not found\n", "text/plain")

    def _feed(self, raw_query: str, query: dict[str, list[str]]) -> bytes:
        start = int(query.get("start", ["0"])[0] or 0)
        max_results = int(query.get("max_results", ["10"])[0] or 10)
        ids = [i for i in query.get("id_list", [""])[0].split(",") if i]
        papers = [p for p in self.papers if not ids or p.versioned_id in ids or p.arxiv_id in ids]
        return feed_xml(papers[start : start + max_results], len(papers), start, raw_query)

    @staticmethod
    def _send(
        handler: BaseHTTPRequestHandler,
        status: int,
        body: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
        extra: int = 0,
    ) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body) + extra))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)
