"""PDF ingest benchmark: ``extract_pdf`` vs bare ``page.get_text()`` over the same generated document.

    .venv/bin/python benchmarks/ingest_bench.py                 # 200 pages (the issue's size)
    .venv/bin/python benchmarks/ingest_bench.py --pages 400 --seed 1 --keep /tmp/book.pdf

Input (built once, not timed): ``tests.ingest.pdf_factory.benchmark_pdf``, a textbook-like PDF of ``--pages``
pages made with PyMuPDF: chapters of prose (with "As we saw in Problem 3.2 ..." references and "2.5 GeV"
numbers), numbered problems in four heading styles ("Problem 3.2" on its own line, "Problem 3.2.", "Exercise
3.2 (Peskin 4.5)", "Problem 3.2:"), some with parts, some across page or column breaks, a few with an image and
a "Figure 3.2" caption, solutions inline ("Solution: ...") or in a per-chapter Solutions section (three entry
styles), one- and two-column pages mixed, running headers (one with the page number) and page numbers.
Greek letters, super- and subscripts throughout. Each planted problem starts with a token ``P<c>x<i>.``; where
it landed (first and last page) is read back from the layout by the factory.

Timed, interleaved, best of ``--repeat`` runs each, in this one process on one core; pages/s is pages per
second of the process's CPU time (``time.process_time``), which other load on the machine does not inflate
the way it does wall time (printed too):

- ours: ``extract_pdf(path)``: read + sha256 the file, open it, per page one MuPDF text page with
  ``extractDICT`` (+ image boxes where the page has images), headers/footers, reading order, segmentation,
  reflow and Seed records;
- bare: ``pymupdf.open(path)`` and ``page.get_text()`` for every page, nothing kept.

Quality against the planted problems: recall (a seed with the planted number whose text holds the token),
precision (seeds that are planted problems), solutions matched / spurious, page spans exact, figure warnings
right.

Targets (issue): ours >= 1/3 of bare's pages/s and >= 400 pages/s on one core; recall >= 0.95 (precision >= 0.95
is ours). Exits 1 when a target fails.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pymupdf  # noqa: E402

from curation.ingest.pdf import extract_pdf  # noqa: E402
from curation.ingest.segment import FIGURE_WARNING  # noqa: E402
from tests.ingest.pdf_factory import BuiltPdf, benchmark_pdf  # noqa: E402

MIN_RATIO = 1 / 3
MIN_PAGES_PER_SECOND = 400.0
MIN_RECALL = 0.95
MIN_PRECISION = 0.95


def bare(path: Path) -> int:
    """What extraction costs with nothing else: every page's ``get_text()``."""
    chars = 0
    with pymupdf.open(path) as doc:
        for page in doc:
            chars += len(page.get_text())
    return chars


def quality(built: BuiltPdf, seeds: list) -> dict[str, float | int]:
    found = {seed.source.extra["number"]: seed for seed in seeds}
    hits = [p for p in built.planted if p.number in found and p.phrases[0] in found[p.number].problem]
    planted_numbers = {p.number for p in built.planted}
    with_solution = [p for p in hits if p.solution_phrases]
    return {
        "planted": len(built.planted),
        "seeds": len(seeds),
        "recall": len(hits) / max(len(built.planted), 1),
        "precision": sum(s.source.extra["number"] in planted_numbers for s in seeds) / max(len(seeds), 1),
        "solutions": sum(found[p.number].solution.startswith(p.solution_phrases[0]) for p in with_solution),
        "with_solution": len(with_solution),
        "spurious_solutions": sum(bool(found[p.number].solution) for p in hits if not p.solution_phrases),
        "spans_exact": sum(
            (found[p.number].source.pages[0], found[p.number].source.pages[-1]) == (p.first_page, p.last_page)
            for p in hits
        ),
        "figures_right": sum((FIGURE_WARNING in found[p.number].warnings) == p.figure for p in hits),
        "figures": sum(p.figure for p in built.planted),
        "multi_page": sum(p.first_page != p.last_page for p in built.planted),
        "hits": len(hits),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=7, help="timed runs of each; the best counts")
    parser.add_argument("--keep", type=Path, help="also save the generated PDF here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "book.pdf"
        start = time.perf_counter()
        built = benchmark_pdf(path, pages=args.pages, seed=args.seed)
        took = time.perf_counter() - start
        print(f"document: {built.pages} pages, {len(built.planted)} planted problems, built in {took:.1f}s")
        bare(path)  # warm the file cache and MuPDF's font cache for both
        cpu: dict[str, list[float]] = {"bare": [], "ours": []}
        wall: dict[str, list[float]] = {"bare": [], "ours": []}
        extraction = None
        for _ in range(args.repeat):
            for name in ("bare", "ours"):
                started_wall, started_cpu = time.perf_counter(), time.process_time()
                if name == "bare":
                    bare(path)
                else:
                    extraction = extract_pdf(path)
                cpu[name].append(time.process_time() - started_cpu)
                wall[name].append(time.perf_counter() - started_wall)
        assert extraction is not None

    rate = {name: built.pages / min(times) for name, times in cpu.items()}
    ratio = rate["ours"] / rate["bare"]
    q = quality(built, extraction.seeds)
    print(f"\n{'':22s} {'pages/s':>8s} {'CPU s':>7s} {'wall s':>7s}   best of {args.repeat}, one core")
    for name, label in (("bare", "bare page.get_text()"), ("ours", "ours extract_pdf")):
        print(f"{label:22s} {rate[name]:8.0f} {min(cpu[name]):7.3f} {min(wall[name]):7.3f}")
    print()
    print(
        f"planted problems      {q['planted']} ({q['multi_page']} across pages, {q['figures']} with a figure)"
    )
    print(f"seeds                 {q['seeds']}")
    print(f"solutions matched     {q['solutions']}/{q['with_solution']}, spurious {q['spurious_solutions']}")
    print(f"page spans exact      {q['spans_exact']}/{q['hits']}")
    print(f"figure warnings right {q['figures_right']}/{q['hits']}")
    print(f"extraction warnings   {len(extraction.warnings)}")
    print()
    checks = [
        ("speed vs bare get_text", f"{ratio:.2f}x", f">= {MIN_RATIO:.2f}x", ratio >= MIN_RATIO),
        (
            "pages/s (one core)",
            f"{rate['ours']:.0f}",
            f">= {MIN_PAGES_PER_SECOND:.0f}",
            rate["ours"] >= MIN_PAGES_PER_SECOND,
        ),
        ("recall", f"{q['recall']:.4f}", f">= {MIN_RECALL}", q["recall"] >= MIN_RECALL),
        ("precision", f"{q['precision']:.4f}", f">= {MIN_PRECISION}", q["precision"] >= MIN_PRECISION),
    ]
    print(f"{'target':24s} {'value':>8s}  {'wanted':>8s}")
    for name, value, wanted, ok in checks:
        print(f"{name:24s} {value:>8s}  {wanted:>8s}  {'PASS' if ok else 'FAIL'}")
    return 0 if all(ok for *_, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
