"""`vqft ingest arxiv|pdf` end to end: seeds written as they come, bad documents reported, the paper's seed
layout written and read back by the adaptation stage."""

from __future__ import annotations

import json

from curation.adapt import read_seeds
from curation.records.io import read_jsonl
from curation.records.seed import Seed
from release.cli import main
from tests.ingest.arxiv_server import ArxivServer
from tests.ingest.test_arxiv import papers


def test_ingest_arxiv_writes_seeds_with_provenance_and_the_layout(tmp_path, capsys):
    with ArxivServer(papers()[:2]) as server:
        code = main(["ingest", "arxiv", "--query", "cat:hep-th", "--max", "2", "-o", str(tmp_path / "seeds.jsonl"),
                     "--cache", str(tmp_path / "cache"), "--delay", "0.01", "--base-url", server.url,
                     "--layout", str(tmp_path / "seeds")])  # fmt: skip
    assert code == 0
    seeds = list(read_jsonl(tmp_path / "seeds.jsonl", Seed))
    assert {s.source.arxiv_id for s in seeds} == {"2401.00001", "2401.00002"}
    first = next(s for s in seeds if s.source.arxiv_id == "2401.00001")
    assert first.source.version == "v2" and first.source.licence.startswith("http")
    assert "Tr" in first.problem and first.solution
    layout = tmp_path / "seeds" / "arxiv" / "2401.00001v2" / "matched_pairs.yaml"
    assert layout.is_file()
    assert [s.problem for s in read_seeds(tmp_path / "seeds")] == [s.problem for s in sorted(
        seeds, key=lambda s: f"{s.source.arxiv_id}{s.source.version}")]  # fmt: skip
    assert "seeds 2 from 2 document(s)" in capsys.readouterr().out


def test_ingest_pdf_reports_a_bad_document_and_goes_on(tmp_path, capsys):
    from tests.ingest.pdf_factory import notes_pdf

    good = tmp_path / "notes.pdf"
    notes_pdf(good)
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.7 this is not a pdf")
    code = main(
        ["ingest", "pdf", str(good), str(tmp_path / "broken.pdf"), "-o", str(tmp_path / "seeds.jsonl")]
    )
    assert code == 0
    captured = capsys.readouterr()
    assert "broken.pdf" in captured.err
    seeds = [json.loads(line) for line in (tmp_path / "seeds.jsonl").read_text().splitlines()]
    assert seeds and all(s["source"]["file"] == "notes.pdf" for s in seeds)
