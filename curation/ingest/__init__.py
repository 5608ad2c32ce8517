"""Ingestion: human-written problems and solutions from arXiv papers (LaTeX source first, PDF otherwise),
LaTeX sources and PDFs, as Seed records with their provenance.

- ``arxiv``: search the arXiv API politely, download e-prints/PDFs into a content-addressed cache
  (``cache``), extract seeds (``ingest_arxiv``).
- ``latex``: unpack sources safely, find the main file, inline inputs, expand macros, extract problems.
- ``pdf`` and ``segment``: PDF text in reading order, segmented into numbered problems and solutions.

Bad documents give an ``IngestError`` (``level`` ``"error"`` or ``"warning"``) naming them, and the run goes on.
Names load their module on first use, so importing one part does not pay for the others (PyMuPDF, lxml).
"""

import importlib
from typing import Any

_EXPORTS = {
    # arXiv
    "ArxivIngestor": "arxiv",
    "ArxivPaper": "arxiv",
    "DEFAULT_USER_AGENT": "arxiv",
    "FeedError": "arxiv",
    "FetchError": "arxiv",
    "IngestStats": "arxiv",
    "PaperSeeds": "arxiv",
    "RateLimiter": "arxiv",
    "date_range_query": "arxiv",
    "ingest_arxiv": "arxiv",
    # the download cache
    "CachedFile": "cache",
    "ContentCache": "cache",
    "DownloadTooLarge": "cache",
    # LaTeX
    "Macro": "latex",
    "TexExtraction": "latex",
    "TexLines": "latex",
    "TexProblem": "latex",
    "TexSourceError": "latex",
    "UnsafeArchiveError": "latex",
    "expand_macros": "latex",
    "extract_tex_archive": "latex",
    "extract_tex_folder": "latex",
    "extract_tex_text": "latex",
    "find_main_tex": "latex",
    "flatten_tex": "latex",
    "parse_macros": "latex",
    "safe_extract": "latex",
    "sniff_source": "latex",
    "strip_comments": "latex",
    # PDF
    "FIGURE_WARNING": "pdf",
    "IngestError": "pdf",
    "PdfExtraction": "pdf",
    "extract_pdf": "pdf",
    "iter_pdf_seeds": "pdf",
    "parse_page_range": "pdf",
    "pdf_files": "pdf",
    # segmentation of plain text
    "BREAK": "segment",
    "FIGURE": "segment",
    "SOLUTION_FIGURE_WARNING": "segment",
    "Segment": "segment",
    "number_key": "segment",
    "segment_problems": "segment",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
