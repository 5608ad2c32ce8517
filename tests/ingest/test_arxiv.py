"""arXiv ingestion against a loopback arXiv: search, metadata, the cache, politeness, faults, LaTeX and PDF."""

from __future__ import annotations

import gzip
import hashlib
import importlib
import io
import sys
import tarfile
import textwrap
import types
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import urlencode

import pytest

from curation.ingest.arxiv import (
    DEFAULT_USER_AGENT,
    ArxivIngestor,
    ArxivPaper,
    IngestStats,
    date_range_query,
)
from curation.ingest.cache import ContentCache
from curation.ingest.pdf import IngestError
from curation.records.seed import Seed, SeedSource
from tests.ingest.arxiv_server import (
    EMPTY_FEED,
    MALFORMED_FEED,
    ArxivServer,
    FakePaper,
    Fault,
    api_error_feed,
    no_entries_feed,
)

DELAY = 0.05
CC_BY = "http://creativecommons.org/licenses/by/4.0/"
CC_BY_SA = "http://creativecommons.org/licenses/by-sa/4.0/"
PDF_BYTES = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def tex(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def tarball(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


MAIN_TEX = tex(r"""
    \documentclass{article}
    \newtheorem{exercise}{Exercise}
    \newcommand{\Tr}{\mathrm{Tr}}
    \begin{document}
    \section{Scalars}
    \input{sections/exercises}
    \end{document}
""")
EXERCISES_TEX = tex(r"""
    Warm-up text.
    \begin{exercise}
    Show that $\Tr\,\mathbb{1} = 4$ for Dirac matrices.
    \end{exercise}
    \begin{solution}
    Use $\{\gamma^\mu, \gamma^\nu\} = 2\eta^{\mu\nu}$.
    \end{solution}
""")
SINGLE_TEX = tex(r"""
    \documentclass{article}
    \begin{document}
    \textbf{Problem 1.} Solve the Dirac equation for a free particle.
    \end{document}
""")


def papers() -> list[FakePaper]:
    """Three hep-th papers: a LaTeX tarball, a gzipped single .tex, and a PDF-only submission."""
    return [
        FakePaper(
            "2401.00001",
            version=2,
            title="Exercises in\n      scalar field theory",
            authors=("Ada Lovelace", "Paul Dirac"),
            categories=("hep-th", "hep-ph"),
            published="2024-01-02T18:00:01Z",
            updated="2024-01-05T09:30:00Z",
            summary="Lecture notes with exercises.",
            comment="24 pages, lecture notes",
            licence=CC_BY,
            eprint=tarball({"main.tex": MAIN_TEX, "sections/exercises.tex": EXERCISES_TEX}),
        ),
        FakePaper(
            "2401.00002",
            title="Problems on the Dirac equation",
            published="2024-01-03T10:00:00Z",
            journal_ref="J. Fake Phys. 1 (2024) 1",
            doi="10.1000/fake.2",
            eprint=gzip.compress(SINGLE_TEX.encode()),
            eprint_type="application/x-eprint",
        ),
        FakePaper(
            "2401.00003",
            title="Scanned problem sheet",
            published="2024-01-04T10:00:00Z",
            rights_link=CC_BY_SA,
            eprint=PDF_BYTES,
            eprint_type="application/pdf",
            pdf=PDF_BYTES,
        ),
    ]


@dataclass
class FakePdfExtraction:
    seeds: list[Seed]
    warnings: list[str] = field(default_factory=list)
    pages: int = 1


@pytest.fixture
def pdf_calls(monkeypatch):
    """A stand-in for ``curation.ingest.pdf.extract_pdf`` that records its calls and gives one seed."""
    calls: list[tuple[str, bytes, str]] = []

    def extract_pdf(path, pages=None, licence="unknown"):
        path = Path(path)
        calls.append((path.name, path.read_bytes(), licence))
        source = SeedSource(kind="pdf", file=path.name, pages=(1, 1), licence=licence)
        return FakePdfExtraction([Seed.create("Compute the S-matrix.", source)], ["page 1: two columns"])

    try:
        module = importlib.import_module("curation.ingest.pdf")
    except ImportError:
        monkeypatch.setitem(
            sys.modules, "curation.ingest.pdf", types.SimpleNamespace(extract_pdf=extract_pdf)
        )
    else:
        monkeypatch.setattr(module, "extract_pdf", extract_pdf)
    return calls


@pytest.fixture
def server():
    with ArxivServer(papers()) as running:
        yield running


def make_ingestor(tmp_path: Path, server: ArxivServer, **options) -> ArxivIngestor:
    options.setdefault("delay", DELAY)
    options.setdefault("retries", 2)
    return ArxivIngestor(tmp_path / "cache", base_url=server.url, **options)


def run(ingestor: ArxivIngestor, query: str = "cat:hep-th", **options) -> list[Seed | IngestError]:
    with ingestor:
        return list(ingestor.ingest(query, **options))


def seeds_of(items, arxiv_id: str | None = None) -> list[Seed]:
    return [i for i in items if isinstance(i, Seed) and (arxiv_id is None or i.source.arxiv_id == arxiv_id)]


def errors_of(items, level: str = "error") -> list[tuple[str, str]]:
    """``(document, message)`` of the IngestErrors of ``level`` in ``items``."""
    return [(i.path, i.message) for i in items if isinstance(i, IngestError) and i.level == level]


# --------------------------------------------------------------------------------------------- search


def test_search_pages_through_the_results(tmp_path, server):
    with make_ingestor(tmp_path, server, page_size=2) as ingestor:
        found = [p.versioned_id for p in ingestor.search("cat:hep-th", max_results=10)]
    assert found == ["2401.00001v2", "2401.00002v1", "2401.00003v1"]
    pages = [(r.query["start"], r.query["max_results"]) for r in server.requests if r.path == "/api/query"]
    assert pages == [(["0"], ["2"]), (["2"], ["2"])]
    first = server.requests[0].query
    assert (first["sortBy"], first["sortOrder"]) == (["submittedDate"], ["descending"])


def test_max_results_limits_the_search(tmp_path, server):
    with make_ingestor(tmp_path, server) as ingestor:
        found = [p.versioned_id for p in ingestor.search("cat:hep-th", max_results=1)]
    assert found == ["2401.00001v2"]
    assert [r.query["max_results"] for r in server.requests] == [["1"]]


def test_date_range_goes_into_the_query_string(tmp_path, server):
    with make_ingestor(tmp_path, server) as ingestor:
        list(ingestor.search("cat:hep-th AND abs:exercise", since=date(2024, 1, 1), until="2024-01-31"))
    assert server.requests[0].query["search_query"] == [
        "(cat:hep-th AND abs:exercise) AND submittedDate:[202401010000 TO 202401312359]"
    ]


def test_since_alone_runs_to_today():
    today = datetime.now(UTC).date()
    assert date_range_query("cat:hep-th", "2023-12-01") == (
        f"(cat:hep-th) AND submittedDate:[202312010000 TO {today:%Y%m%d}2359]"
    )
    assert date_range_query("cat:hep-th") == "cat:hep-th"
    with pytest.raises(ValueError, match="since '2024-13-01' is not a date; write e.g. 2024-01-31"):
        date_range_query("cat:hep-th", "2024-13-01")


def test_metadata_of_a_paper(tmp_path, server):
    with make_ingestor(tmp_path, server) as ingestor:
        first, second, third = ingestor.search("cat:hep-th")
    assert first == ArxivPaper(
        arxiv_id="2401.00001",
        version="v2",
        title="Exercises in scalar field theory",
        authors=("Ada Lovelace", "Paul Dirac"),
        categories=("hep-th", "hep-ph"),
        primary_category="hep-th",
        published=datetime(2024, 1, 2, 18, 0, 1, tzinfo=UTC),
        updated=datetime(2024, 1, 5, 9, 30, tzinfo=UTC),
        abs_url="https://arxiv.org/abs/2401.00001v2",
        pdf_url="http://arxiv.org/pdf/2401.00001v2",
        licence=CC_BY,
        summary="Lecture notes with exercises.",
        comment="24 pages, lecture notes",
    )
    assert (second.licence, second.journal_ref, second.doi) == (
        "unknown",
        "J. Fake Phys. 1 (2024) 1",
        "10.1000/fake.2",
    )
    assert third.licence == CC_BY_SA  # from <link rel="license">


def test_every_request_names_the_tool(tmp_path, server, pdf_calls):
    run(make_ingestor(tmp_path, server))
    assert DEFAULT_USER_AGENT.startswith("verifiable-qft/")
    assert {r.headers["User-Agent"] for r in server.requests} == {DEFAULT_USER_AGENT}
    assert len(server.requests) == 4  # one API page and three e-prints


def test_contact_goes_into_the_user_agent(tmp_path, server):
    with make_ingestor(tmp_path, server, contact="curator@example.org") as ingestor:
        list(ingestor.search("cat:hep-th"))
    assert (
        server.requests[0].headers["User-Agent"] == DEFAULT_USER_AGENT[:-1] + "; mailto:curator@example.org)"
    )


def test_requests_are_spaced_by_the_delay(tmp_path, server, pdf_calls):
    run(make_ingestor(tmp_path, server, delay=0.2, page_size=2))
    times = server.times()
    assert len(times) == 5  # two API pages and three e-prints, interleaved
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert min(gaps) >= 0.2 - 0.005, gaps


# --------------------------------------------------------------------------------------------- the cache


def test_rerun_downloads_nothing(tmp_path, server, pdf_calls):
    first_stats, second_stats = IngestStats(), IngestStats()
    first = run(make_ingestor(tmp_path, server), stats=first_stats)
    second = run(make_ingestor(tmp_path, server), stats=second_stats)
    assert [s.to_dict() for s in seeds_of(second)] == [s.to_dict() for s in seeds_of(first)]
    assert server.counters["e-print"] == 3
    assert server.counters["pdf"] == 0
    assert (first_stats.downloaded, first_stats.cached) == (3, 0)
    assert (second_stats.downloaded, second_stats.cached) == (0, 3)


def test_half_written_file_is_not_cached(tmp_path):
    cache = ContentCache(tmp_path / "cache")

    def broken():
        yield b"first half"
        raise ConnectionResetError("the connection dropped")

    with pytest.raises(ConnectionResetError):
        cache.store("https://example.org/a", broken())
    assert cache.path_for("https://example.org/a") is None
    assert sorted(p.name for p in (tmp_path / "cache").rglob("*") if p.is_file()) == ["index.sqlite"]
    calls = []
    path = cache.fetch("https://example.org/a", lambda url: calls.append(url) or b"whole")
    assert calls == ["https://example.org/a"]
    digest = hashlib.sha256(b"whole").hexdigest()
    assert path.path == tmp_path / "cache" / digest[:2] / digest
    assert cache.fetch("https://example.org/a", lambda url: calls.append(url) or b"again").sha256 == digest
    assert calls == ["https://example.org/a"]


def test_same_content_is_stored_once(tmp_path):
    cache = ContentCache(tmp_path)
    a = cache.store("https://example.org/a", b"same bytes")
    b = cache.store("https://example.org/b", io.BytesIO(b"same bytes"))
    assert a.path == b.path
    assert cache.path_for("https://example.org/b") == a.path


def test_download_that_breaks_off_is_retried_and_never_half_cached(tmp_path, server, pdf_calls):
    path = "/e-print/2401.00001v2"
    server.fail(path, Fault(200, b"\x1f\x8b\x08partial", truncate=True), times=1)
    items = run(make_ingestor(tmp_path, server))
    assert errors_of(items) == []
    assert server.counters[path] == 2
    [seed] = seeds_of(items, "2401.00001")
    assert seed.source.sha256 == hashlib.sha256(server.paper("2401.00001v2").eprint).hexdigest()


# --------------------------------------------------------------------------------------------- faults


def test_503_then_success(tmp_path, server, pdf_calls):
    path = "/e-print/2401.00001v2"
    server.fail(path, Fault(503, headers={"Retry-After": "0"}), times=1)
    items = run(make_ingestor(tmp_path, server))
    assert errors_of(items) == []
    assert len(seeds_of(items, "2401.00001")) == 1
    assert server.counters[path] == 2


def test_rate_limit_answer_waits_as_long_as_retry_after_says(tmp_path, server):
    server.fail("api", Fault(429, headers={"Retry-After": "1"}), times=1)
    with make_ingestor(tmp_path, server) as ingestor:
        assert len(list(ingestor.search("cat:hep-th"))) == 3
    first, second = server.times()
    assert second - first >= 1.0


def test_persistent_503_gives_a_clear_error_and_the_run_goes_on(tmp_path, server, pdf_calls):
    path = "/e-print/2401.00001v2"
    server.fail(path, Fault(503), times=None)
    items = run(make_ingestor(tmp_path, server, retries=2))
    assert errors_of(items) == [
        (
            "2401.00001v2",
            f"download of {server.url}{path} failed: HTTP 503 after 3 tries; re-run later (what is cached is kept)",
        )
    ]
    assert server.counters[path] == 3
    assert [s.source.arxiv_id for s in seeds_of(items)] == ["2401.00002", "2401.00003"]
    assert isinstance(items[0], IngestError)  # reported in order, before the next paper's seeds


def test_retry_after_longer_than_max_wait_gives_up_at_once(tmp_path, server, pdf_calls):
    path = "/e-print/2401.00002v1"
    server.fail(path, Fault(503, headers={"Retry-After": "3600"}), times=None)
    items = run(make_ingestor(tmp_path, server, max_wait=60))
    [error] = [i for i in items if isinstance(i, IngestError) and i.level == "error"]
    assert str(error) == (
        f"2401.00002v1: download of {server.url}{path} failed: HTTP 503: the server asks to wait 3600 s "
        "(Retry-After), longer than max_wait=60 s; re-run later (what is cached is kept)"
    )
    assert server.counters[path] == 1
    assert len(seeds_of(items)) == 2


def api_url(server: ArxivServer) -> str:
    """The URL of the first API request, as the client sent it."""
    first = server.requests[0]
    return f"{server.url}{first.path}?{urlencode({k: v[0] for k, v in first.query.items()})}"


def test_empty_feed_gives_a_clear_error(tmp_path, server):
    server.fail("api", EMPTY_FEED, times=None)
    items = run(make_ingestor(tmp_path, server, retries=1))
    assert errors_of(items) == [
        (
            "arXiv query 'cat:hep-th'",
            "search stopped: empty answer (no Atom feed) after 2 tries; re-run later (what is cached is kept) "
            f"({api_url(server)})",
        )
    ]
    assert len(items) == 1
    assert server.counters["api"] == 2


def test_malformed_feed_gives_a_clear_error(tmp_path, server):
    server.fail("api", MALFORMED_FEED, times=None)
    [(document, message)] = errors_of(run(make_ingestor(tmp_path, server, retries=1)))
    assert document == "arXiv query 'cat:hep-th'"
    assert message.startswith("search stopped: malformed Atom feed (")
    assert ") after 2 tries; re-run later (what is cached is kept) (http://127.0.0.1:" in message


def test_feed_without_entries_says_nothing_matched(tmp_path, server):
    server.fail("api", no_entries_feed(), times=1)
    items = run(make_ingestor(tmp_path, server), since="2024-01-01", until="2024-01-02")
    assert len(items) == 1
    assert errors_of(items, "warning") == [
        (
            "arXiv query '(cat:hep-th) AND submittedDate:[202401010000 TO 202401022359]'",
            "no papers matched (the feed had no entries); check the query",
        )
    ]


def test_api_error_message_is_reported_without_retrying(tmp_path, server):
    server.fail("api", api_error_feed("incorrect id format for 1234"), times=None)
    [(_, message)] = errors_of(run(make_ingestor(tmp_path, server)))
    assert message == (
        f"search stopped: HTTP 400 from the arXiv API: incorrect id format for 1234 ({api_url(server)})"
    )
    assert server.counters["api"] == 1


def test_broken_second_page_keeps_what_the_first_gave(tmp_path, server, pdf_calls):
    server.fail("api", MALFORMED_FEED, times=None, after=1)
    items = run(make_ingestor(tmp_path, server, page_size=2, retries=0))
    assert [s.source.arxiv_id for s in seeds_of(items)] == ["2401.00001", "2401.00002"]
    [(_, message)] = errors_of(items)
    assert message.startswith("search stopped after 2 paper(s): malformed Atom feed (")
    assert isinstance(items[-1], IngestError) and items[-1].message == message


def test_tarball_with_dotdot_member_is_refused_and_the_run_goes_on(tmp_path, server, pdf_calls):
    evil = FakePaper("2401.00009", title="Evil", eprint=tarball({"main.tex": MAIN_TEX, "../evil": "owned"}))
    server.papers.insert(0, evil)
    items = run(make_ingestor(tmp_path, server))
    assert isinstance(items[0], IngestError)
    assert str(items[0]) == (
        "2401.00009v1: source archive refused, nothing extracted: member '../evil': path with '..' would "
        "write outside the folder"
    )
    assert [s.source.arxiv_id for s in seeds_of(items)] == ["2401.00001", "2401.00002", "2401.00003"]
    assert not (tmp_path / "evil").exists()


def test_paper_warnings_follow_its_seeds(tmp_path, server, pdf_calls):
    server.papers[0].eprint = tarball(
        {
            "main.tex": MAIN_TEX.replace(
                r"\input{sections/exercises}", "\\input{missing}\n\\textbf{Solution 4.} x"
            )
        }
    )
    stats = IngestStats()
    items = run(make_ingestor(tmp_path, server), stats=stats)
    assert errors_of(items, "warning") == [
        ("2401.00001v2", "no problems found in the LaTeX source (main file main.tex)"),
        ("2401.00001v2", "main.tex, line 6: \\input{missing} names no file inside the source; skipped"),
        ("2401.00001v2", "main.tex, line 7: a solution numbered 4 matches no problem; skipped"),
        ("2401.00003v1", "PDF page 1: two columns"),
    ]
    assert stats.counts() == {
        "papers": 3,
        "latex": 2,
        "pdf": 1,
        "seeds": 2,
        "without_problems": 1,
        "errors": 0,
        "warnings": 4,
        "downloaded": 3,
        "cached": 0,
    }


# --------------------------------------------------------------------------------------------- extraction


def test_latex_paper_gives_seeds_with_full_provenance(tmp_path, server, pdf_calls):
    items = run(make_ingestor(tmp_path, server))
    [seed] = seeds_of(items, "2401.00001")
    assert seed.problem == r"Show that $\mathrm{Tr}\,\mathbb{1} = 4$ for Dirac matrices."
    assert seed.solution == r"Use $\{\gamma^\mu, \gamma^\nu\} = 2\eta^{\mu\nu}$."
    assert seed.source.to_dict() == {
        "kind": "arxiv",
        "arxiv_id": "2401.00001",
        "version": "v2",
        "url": "https://arxiv.org/abs/2401.00001v2",
        "file": "sections/exercises.tex",
        "sha256": hashlib.sha256(server.paper("2401.00001v2").eprint).hexdigest(),
        "lines": [2, 4],
        "licence": CC_BY,
        "title": "Exercises in scalar field theory",
        "authors": ["Ada Lovelace", "Paul Dirac"],
        "categories": ["hep-th", "hep-ph"],
        "primary_category": "hep-th",
        "published": "2024-01-02T18:00:01+00:00",
        "updated": "2024-01-05T09:30:00+00:00",
        "comment": "24 pages, lecture notes",
        "format": "latex",
        "download_url": server.url + "/e-print/2401.00001v2",
        "main_file": "main.tex",
        "solution_file": "sections/exercises.tex",
        "solution_lines": [5, 7],
    }
    assert seed.extra == {"heading": "Exercise 1", "format": "latex", "number": "1"}


def test_gzipped_single_tex_paper(tmp_path, server, pdf_calls):
    [seed] = seeds_of(run(make_ingestor(tmp_path, server)), "2401.00002")
    assert seed.problem == "Solve the Dirac equation for a free particle."
    assert (seed.source.file, seed.source.lines, seed.source.licence) == (
        "2401.00002v1.tex",
        (3, 3),
        "unknown",
    )


def test_pdf_only_paper_goes_through_the_pdf_path(tmp_path, server, pdf_calls):
    items = run(make_ingestor(tmp_path, server))
    assert pdf_calls == [("2401.00003v1.pdf", PDF_BYTES, CC_BY_SA)]
    [seed] = seeds_of(items, "2401.00003")
    assert seed.problem == "Compute the S-matrix."
    source = seed.source
    assert (source.kind, source.arxiv_id, source.version, source.file, source.pages, source.licence) == (
        "arxiv",
        "2401.00003",
        "v1",
        "2401.00003v1.pdf",
        (1, 1),
        CC_BY_SA,
    )
    assert source.sha256 == hashlib.sha256(PDF_BYTES).hexdigest()
    assert source.extra["format"] == "pdf"
    assert server.counters["pdf"] == 0  # the e-print was the PDF


def test_paper_without_e_print_falls_back_to_the_pdf(tmp_path, server, pdf_calls):
    server.papers[2].eprint = None
    items = run(make_ingestor(tmp_path, server))
    assert len(seeds_of(items, "2401.00003")) == 1
    assert (server.counters["/e-print/2401.00003v1"], server.counters["/pdf/2401.00003v1"]) == (1, 1)


def test_source_without_main_file_falls_back_to_the_pdf_with_a_warning(tmp_path, server, pdf_calls):
    server.papers[0].eprint = tarball({"figure.eps": "%!PS"})
    server.papers[0].pdf = PDF_BYTES
    items = run(make_ingestor(tmp_path, server))
    assert len(seeds_of(items, "2401.00001")) == 1
    assert errors_of(items, "warning")[:2] == [
        (
            "2401.00001v2",
            "LaTeX source unusable (no .tex file with \\documentclass among 1 files (figure.eps)); used the PDF",
        ),
        ("2401.00001v2", "PDF page 1: two columns"),
    ]


def test_unreadable_pdf_is_an_error_naming_the_paper(tmp_path, server, monkeypatch):
    pdf = importlib.import_module("curation.ingest.pdf")

    def broken(path, pages=None, licence="unknown"):
        raise IngestError(path, "is encrypted and needs a password")

    monkeypatch.setattr(pdf, "extract_pdf", broken)
    items = run(make_ingestor(tmp_path, server))
    assert errors_of(items) == [("2401.00003v1", "PDF is encrypted and needs a password")]


def test_pdf_path_with_the_real_extractor(tmp_path, server):
    pdf = pytest.importorskip("curation.ingest.pdf")
    if not hasattr(pdf, "extract_pdf"):
        pytest.skip("curation.ingest.pdf has no extract_pdf yet")
    pymupdf = pytest.importorskip("pymupdf")
    document = pymupdf.open()
    page = document.new_page()
    page.insert_text((72, 72), "Problem 1. Compute the cross section of e+ e- -> mu+ mu-.")
    page.insert_text((72, 100), "Solution 1. Use the Feynman rules.")
    data = document.tobytes()
    server.papers = [FakePaper("2401.00005", title="Sheet", eprint=data, eprint_type="application/pdf")]
    items = run(make_ingestor(tmp_path, server))
    [seed] = items
    assert (seed.problem, seed.solution) == (
        "Compute the cross section of e+ e- -> mu+ mu-.",
        "Use the Feynman rules.",
    )
    source = seed.source
    assert (source.kind, source.arxiv_id, source.file, source.pages, source.extra["format"]) == (
        "arxiv",
        "2401.00005",
        "2401.00005v1.pdf",
        (1,),
        "pdf",
    )


def test_seeds_round_trip_through_jsonl(tmp_path, server, pdf_calls):
    from curation.records.io import read_jsonl, write_jsonl  # loads datasets/pyarrow: only here

    seeds = seeds_of(run(make_ingestor(tmp_path, server)))
    assert write_jsonl(tmp_path / "seeds.jsonl", seeds) == 3
    assert list(read_jsonl(tmp_path / "seeds.jsonl", Seed)) == seeds
