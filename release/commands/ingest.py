"""Turn human-written problems into Seed records: arXiv papers (LaTeX source first, PDF otherwise) or PDFs.

examples:
  vqft ingest arxiv --query "cat:hep-th AND abs:exercise" --since 2024-01-01 --max 50 -o seeds.jsonl --cache cache/arxiv
  vqft ingest pdf notes/ -o seeds.jsonl --pages 10-40 --licence "CC-BY-4.0"
  vqft ingest pdf qft-problems.pdf -o seeds.jsonl --layout seeds/

A document that cannot be read (encrypted or corrupt PDF, unsafe tarball, HTTP errors after retries, no problems
found) is reported with its name and the run goes on; seeds already extracted are written as they come.
--layout also writes the paper's layout, seeds/<source>/<doc>/matched_pairs.yaml, which `vqft adapt` reads.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from release.cli import CommandError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", choices=("arxiv", "pdf"), help="where the problems come from")
    parser.add_argument("paths", nargs="*", type=Path, help="pdf: PDF files or folders")
    parser.add_argument("-o", "--output", type=Path, required=True, help="Seed JSONL to write")
    parser.add_argument("--layout", type=Path, help="also write seeds/<source>/<doc>/matched_pairs.yaml here")
    parser.add_argument("--query", help='arxiv: search query, e.g. "cat:hep-th AND abs:exercise"')
    parser.add_argument("--since", help="arxiv: submitted on or after this date (YYYY-MM-DD)")
    parser.add_argument("--until", help="arxiv: submitted on or before this date (YYYY-MM-DD)")
    parser.add_argument("--max", type=int, default=100, help="arxiv: at most this many papers (default 100)")
    parser.add_argument(
        "--cache", type=Path, default=Path("cache/arxiv"), help="arxiv: download cache folder"
    )
    parser.add_argument(
        "--delay", type=float, default=3.0, help="arxiv: seconds between requests (default 3)"
    )
    parser.add_argument("--base-url", help="arxiv: a mirror serving /api/query, /e-print/ and /pdf/")
    parser.add_argument("--contact", help="arxiv: an e-mail address for the User-Agent (arXiv asks for one)")
    parser.add_argument("--pages", help="pdf: page range, e.g. 10-40 (1-based, inclusive)")
    parser.add_argument("--licence", default="unknown", help="pdf: the documents' licence (default: unknown)")


def run(args: argparse.Namespace) -> int:
    from curation.ingest import IngestError
    from curation.records.io import JsonlAppender

    if args.source == "arxiv":
        if not args.query:
            raise CommandError('arxiv needs --query, e.g. --query "cat:hep-th AND abs:exercise"')
        from curation.ingest import IngestStats, ingest_arxiv

        stats = IngestStats()
        options = {"delay": args.delay}
        if args.base_url:
            options["base_url"] = args.base_url
        if args.contact:
            options["contact"] = args.contact
        stream = ingest_arxiv(
            args.query, args.since, args.max, args.cache, until=args.until, stats=stats, **options
        )
    else:
        if not args.paths:
            raise CommandError("pdf needs at least one PDF file or folder")
        from curation.ingest import iter_pdf_seeds, parse_page_range

        pages = None
        if args.pages:
            try:
                pages = parse_page_range(args.pages)
            except ValueError as exc:
                raise CommandError(f"--pages {args.pages!r}: {exc}") from None
        stats = None
        stream = iter_pdf_seeds(args.paths, pages, args.licence)
    counts: Counter = Counter()
    documents: set[str] = set()
    seeds = []
    # Each seed is appended (and flushed) as it comes, so an interrupted run keeps what it extracted.
    partial = args.output.with_name(args.output.name + ".partial")
    partial.unlink(missing_ok=True)
    with JsonlAppender(partial, fsync=False) as out:
        for item in stream:
            if isinstance(item, IngestError):
                counts[item.level] += 1
                print(f"{item.level}: {item}", file=sys.stderr)
                continue
            out.append(item)
            if args.layout:
                seeds.append(item)
            counts["seeds"] += 1
            documents.add(item.source.arxiv_id or item.source.file or "")
    partial.replace(args.output)
    if args.layout:
        from curation.ingest.layout import write_seed_layout

        written = write_seed_layout(seeds, args.layout)
        print(f"layout: {len(written)} document folder(s) under {args.layout}")
    print(
        f"seeds {counts['seeds']} from {len(documents)} document(s); errors {counts['error']}, warnings {counts['warning']}"
    )
    if stats is not None:
        print(", ".join(f"{k} {v}" for k, v in stats.counts().items()))
    print(f"-> {args.output}")
    return 0
