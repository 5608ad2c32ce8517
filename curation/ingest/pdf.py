"""PDF ingestion with PyMuPDF: numbered problems (and their solutions) from papers without source, textbooks
and lecture notes, as Seed records with their page span.

Per page, one MuPDF text page (``extractDICT``: blocks with their box, lines, spans with font size and
baseline) gives the text; nothing else is rendered. Then:

- **Scripts**: a span set smaller than its line and raised becomes ``^x`` (``^{12}`` for longer ones), lowered
  ``_x``: ``γ^μ ∂_μ``, ``m^2``, ``d^4x``. Ligatures are expanded (``ﬁ`` -> ``fi``); vertical text (the arXiv
  stamp in the margin) is skipped.
- **Running headers, footers, page numbers**: blocks lying wholly in the top or bottom ``MARGIN_ZONE`` of the
  page are dropped when their text, digits ignored, repeats on another page, or when they are only a page
  number (``12``, ``- 12 -``, ``Page 12 of 40``, ``xii``).
- **Reading order**: a page is two-column when a block in its left half sits beside one in its right half
  (each side holding at least ``MIN_COLUMN_HEIGHT`` of text); then, between full-width blocks (title,
  abstract, wide figures), the left column is read top to bottom before the right one. Other pages are read
  top to bottom, left to right within a row. The content stream's order is never trusted.
- **Headings**: a block set at least ``HEADING_SCALE`` times the body font size (the most common size) is a
  heading; it ends the problem or solution before it (see ``segment.BREAK``).
- **Figures**: an image at least ``MIN_FIGURE_SIZE`` points on each side; a vector drawing (paths collected
  in the same text pass, ``TEXT_COLLECT_VECTORS``, clustered; at least that size, not a page background, not
  mostly covered by text and holding no line of running text, so a frame around a problem does not count);
  or a caption ``Figure 3:`` / ``Fig. 2.``: each marks a figure at that point of the reading order (images
  are looked for only on pages whose resources hold one, so text pages pay nothing). A problem that holds
  such a figure or whose text cites one gets the warning ``FIGURE_WARNING`` (``"refers to a figure that is
  not in the text"``) in ``Seed.warnings``; that string is the flag (no separate field): filter with
  ``FIGURE_WARNING in seed.warnings``.
- **Segmentation** of the ordered lines into problems and solutions: ``curation.ingest.segment``. Then each
  problem's lines are reflowed into paragraphs (``word-`` + ``break`` joined when both sides are lower-case,
  except after prefixes like ``non-``; parts ``(a)``, ``(b)`` each start a line; a paragraph cut by a column
  or page break mid-sentence is joined again).

Each Seed: ``problem``, ``solution`` (``""`` when the document has none for it), ``source`` =
``SeedSource(kind="pdf", file=<file name>, sha256=<of the file>, pages=<every page it spans, e.g. (12, 13)>,
licence=..., extra={"number": "3.2"})`` and ``warnings``; ids from the content (``Seed.create``).

Bad input raises (``extract_pdf``) or yields (``iter_pdf_seeds``) an ``IngestError`` naming the file: not a
readable PDF (corrupt, truncated, empty), encrypted, no extractable text (scanned: run OCR first), pages out
of range, or (level ``"warning"``) no numbered problems. ``iter_pdf_seeds`` goes on with the next document.

Example::

    extraction = extract_pdf("notes.pdf", pages=range(10, 41), licence="CC-BY-4.0")
    for seed in extraction.seeds:
        print(seed.source.extra["number"], seed.source.pages, seed.problem[:60])
    for item in iter_pdf_seeds(["books/", "paper.pdf"]):
        print(item) if isinstance(item, IngestError) else write(item)
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pymupdf

from curation.ingest.segment import BREAK, FIGURE, FIGURE_WARNING, segment_problems
from curation.records.seed import Seed, SeedSource

__all__ = [
    "FIGURE_WARNING",
    "IngestError",
    "PdfExtraction",
    "extract_pdf",
    "iter_pdf_seeds",
    "parse_page_range",
    "pdf_files",
]

# Ligatures are not preserved ("ﬁ" comes out as "fi"); vector paths come as blocks of their own (free);
# no images (extractDICT would copy and convert them; their boxes come from get_bboxlog instead).
TEXT_FLAGS = pymupdf.TEXT_PRESERVE_WHITESPACE | pymupdf.TEXT_MEDIABOX_CLIP | pymupdf.TEXT_COLLECT_VECTORS
# Fraction of the page height, top and bottom, where running headers, footers and page numbers live.
MARGIN_ZONE = 0.07
HEADING_SCALE = 1.2  # a block set this many times the body font size (or more) is a heading
MIN_FIGURE_SIZE = 24.0  # points, each side; smaller images and drawings are bullets, logos, rules
VECTOR_GAP = 6.0  # points; vector paths closer than this are one drawing
MAX_TEXT_IN_FIGURE = 0.5  # a drawing whose box is covered more than this by text blocks is a frame or table
# Characters: a drawing that holds a text line this long is a box around text (a diagram's labels are short).
FRAMED_LINE = 25
MIN_COLUMN_HEIGHT = 0.03  # fraction of the page height each column must hold for a two-column page
# A block reaching past the middle by this fraction of the page width on both sides is full-width.
WIDE_BLOCK = 0.1
OPEN_END = 10**9  # the last page of an open range ("10-")
SUPERSCRIPT_RISE, SUBSCRIPT_DROP, SCRIPT_SIZE = 0.12, 0.08, 0.9  # in units of the line's font size

_DIGITS = re.compile(r"\d+")
_PAGE_NUMBER = re.compile(
    r"(?:page\s*)?[-\u2013\u2014(\[]?\s*(?:#|[ivxlcdm]{1,7})\s*[-\u2013\u2014)\]]?(?:\s*(?:/|of)\s*#)?"
)
_CAPTION = re.compile(r"\s*(?:Figure|FIGURE|Fig\.|FIG\.)\s*\d+(?:\.\d+)*\s*[.:]")
_PART_START = re.compile(r"\(?(?:[a-h]|i{1,3}|iv|vi{0,3}|ix|x)\)\s|[\u2022\u25e6\u2013]\s")
_SPACES = re.compile(r"[ \t\u00a0]{2,}")
_TERMINAL = (".", "?", "!", ":", ";")
# Prefixes whose hyphen is part of the word when a line breaks after it ("non-relativistic").
_HYPHEN_PREFIXES = frozenset(
    "non anti self semi quasi pseudo multi one two three four tree loop all well co post pre high low "
    "next higher leading sub super inter intra cross off on out over under".split()
)


class IngestError(Exception):
    """A document that could not be ingested (``level="error"``) or that gave nothing to ingest or something
    to check (``"warning"``); ``str()`` names the file: ``notes.pdf: is encrypted and needs a password ...``."""

    def __init__(self, path: str | os.PathLike, message: str, level: str = "error"):
        self.path = str(path)
        self.message = message
        self.level = level
        super().__init__(f"{self.path}: {message}")

    def __reduce__(self):
        return (type(self), (self.path, self.message, self.level))


@dataclass
class PdfExtraction:
    """What one PDF gave: seeds in document order, warnings about the document (no file name in them; e.g.
    ``"page 7: could not be read (...); skipped"``), and how many pages were read."""

    path: Path
    seeds: list[Seed] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    pages: int = 0


class _Block:
    """A text block (its lines, the smallest of their font sizes) or a figure, with its box."""

    __slots__ = ("x0", "y0", "x1", "y1", "lines", "size", "figure")

    def __init__(
        self, x0: float, y0: float, x1: float, y1: float, lines: list[str], size: float, figure=False
    ):
        self.x0, self.y0, self.x1, self.y1 = x0, y0, x1, y1
        self.lines, self.size, self.figure = lines, size, figure


def parse_page_range(text: str) -> range:
    """``"10-40"`` -> ``range(10, 41)`` (1-based, inclusive); also ``"7"``, ``"10-"`` (to the end), ``"-5"``.
    A ValueError says what is wrong without repeating the text (the CLI prefixes ``--pages '...':``)."""
    m = re.fullmatch(r"\s*(\d*)\s*[-\u2013:]\s*(\d*)\s*|\s*(\d+)\s*", text)
    if not m or (m.group(3) is None and not (m.group(1) or m.group(2))):
        raise ValueError("not a page range; write e.g. 10-40, 7, 10- or -5")
    if m.group(3) is not None:
        first = last = int(m.group(3))
    else:
        first = int(m.group(1) or 1)
        last = int(m.group(2)) if m.group(2) else OPEN_END
    if first < 1 or last < first:
        raise ValueError("pages are numbered from 1 and the first comes first; write e.g. 10-40")
    return range(first, last + 1)


def _asked(pages: range | Iterable[int]) -> str:
    """The pages asked for, as the user wrote them: ``10-40``, ``10-``, ``3-5, 9``."""
    if isinstance(pages, range) and pages.step == 1 and len(pages):
        return f"{pages.start}-" if pages.stop > OPEN_END else f"{pages.start}-{pages.stop - 1}"
    return _span(sorted(pages))


def _line_text(spans: list[dict]) -> tuple[str, float]:
    """A line's text with raised/lowered small spans marked ``^``/``_``, and its main font size."""
    main = max(spans, key=lambda s: len(s["text"]))
    size, base = main["size"], main["origin"][1]
    parts = []
    for span in spans:
        text = span["text"]
        if span["size"] < SCRIPT_SIZE * size:
            core = text.strip()
            shift = span["origin"][1] - base
            mark = "^" if shift < -SUPERSCRIPT_RISE * size else "_" if shift > SUBSCRIPT_DROP * size else ""
            if core and mark:
                lead = text[: len(text) - len(text.lstrip())]
                trail = text[len(text.rstrip()) :]
                text = f"{lead}{mark}{core if len(core) == 1 else '{' + core + '}'}{trail}"
        parts.append(text)
    return "".join(parts), size


def _vector_figures(rects: list[tuple[float, float, float, float]], text: list[_Block], page: pymupdf.Rect):
    """Figures drawn with vector paths: the paths clustered (boxes within ``VECTOR_GAP`` of each other
    merge), kept when the cluster is at least ``MIN_FIGURE_SIZE`` each way, not the whole page (a background
    or frame), mostly free of text and holding no line of running text (a box around a problem, a table's
    rules are not figures; a diagram's labels are short)."""
    clusters: list[list[float]] = []
    for x0, y0, x1, y1 in rects:
        box = [x0, y0, x1, y1]
        merged = True
        while merged:  # absorb every cluster this box touches, then look again with the grown box
            merged = False
            for other in clusters:
                if (
                    other[0] <= box[2] + VECTOR_GAP
                    and box[0] <= other[2] + VECTOR_GAP
                    and other[1] <= box[3] + VECTOR_GAP
                    and box[1] <= other[3] + VECTOR_GAP
                ):
                    box = [
                        min(box[0], other[0]),
                        min(box[1], other[1]),
                        max(box[2], other[2]),
                        max(box[3], other[3]),
                    ]
                    clusters.remove(other)
                    merged = True
                    break
        clusters.append(box)
    figures = []
    for x0, y0, x1, y1 in clusters:
        w, h = x1 - x0, y1 - y0
        if w < MIN_FIGURE_SIZE or h < MIN_FIGURE_SIZE or (w > 0.8 * page.width and h > 0.8 * page.height):
            continue
        covered = 0.0
        framed = False  # a line of running text inside: the drawing is a box around text, not a figure
        for b in text:
            overlap = max(0.0, min(x1, b.x1) - max(x0, b.x0)) * max(0.0, min(y1, b.y1) - max(y0, b.y0))
            covered += overlap
            if overlap and b.x0 >= x0 - 2 and b.x1 <= x1 + 2 and b.y0 >= y0 - 2 and b.y1 <= y1 + 2:
                framed = framed or max(map(len, b.lines)) >= FRAMED_LINE
        if not framed and covered < MAX_TEXT_IN_FIGURE * w * h:
            figures.append(_Block(x0, y0, x1, y1, [], 0.0, True))
    return figures


def _read_page(page: pymupdf.Page, sizes: dict[float, int]) -> tuple[list[_Block], bool]:
    """The page's blocks (text and figures; text in stream order) and whether it holds an image; counts the
    characters per font size into ``sizes``."""
    blocks = []
    vectors = []
    for block in page.get_textpage(flags=TEXT_FLAGS).extractDICT()["blocks"]:
        x0, y0, x1, y1 = block["bbox"]
        if block["type"]:  # 3: a vector path (TEXT_COLLECT_VECTORS)
            vectors.append((x0, y0, x1, y1))
            continue
        lines, smallest = [], 1e9
        end_x = bottom = -1e9  # where the previous line ended
        for line in block["lines"]:
            if line["dir"][0] < 0.99:  # vertical or rotated text: margin stamps, axis labels
                continue
            spans = line["spans"]
            if len(spans) == 1:
                text, size = spans[0]["text"], spans[0]["size"]
            else:
                text, size = _line_text(spans)
            if not text.strip():
                continue
            lx0, _, lx1, ly1 = line["bbox"]
            if lines and abs(ly1 - bottom) < 0.3 * size and lx0 >= end_x - 1:
                # MuPDF splits a justified line at wide word gaps: same baseline, further right
                lines[-1] = lines[-1].rstrip() + " " + text.lstrip()
            else:
                lines.append(text)
            end_x, bottom = lx1, ly1
            sizes[size] = sizes.get(size, 0) + len(text)
            if size < smallest:
                smallest = size
        if lines:
            blocks.append(_Block(x0, y0, x1, y1, lines, smallest))
    figures = _vector_figures(vectors, blocks, page.rect) if vectors else []
    has_images = bool(page.get_images())  # from the page's resources: cheap
    if has_images:
        # Where the images are drawn: a bounding-box pass decodes nothing (extractDICT with images would
        # convert each one to PNG, get_image_info runs a second text pass).
        for kind, (x0, y0, x1, y1) in page.get_bboxlog():
            if kind == "fill-image" and x1 - x0 >= MIN_FIGURE_SIZE and y1 - y0 >= MIN_FIGURE_SIZE:
                figures.append(_Block(x0, y0, x1, y1, [], 0.0, True))
    return figures + blocks, has_images


def _margin_key(block: _Block) -> str:
    return _DIGITS.sub("#", " ".join(block.lines)).strip().lower()


def _in_margin(block: _Block, height: float) -> bool:
    return block.y1 <= MARGIN_ZONE * height or block.y0 >= (1 - MARGIN_ZONE) * height


def _reading_order(blocks: list[_Block], width: float, height: float) -> list[_Block]:
    """Blocks in reading order: columns left then right between full-width blocks on a two-column page,
    else top to bottom and left to right within a row."""
    if len(blocks) < 2:
        return blocks
    middle = width / 2
    blocks = sorted(blocks, key=lambda b: (round(b.y0), b.x0))
    wide = WIDE_BLOCK * width
    side = [
        None if b.x0 < middle - wide and b.x1 > middle + wide else (b.x0 + b.x1) / 2 < middle for b in blocks
    ]
    left = [b for b, s in zip(blocks, side, strict=True) if s is True]
    right = [b for b, s in zip(blocks, side, strict=True) if s is False]
    tall = MIN_COLUMN_HEIGHT * height
    if (
        sum(b.y1 - b.y0 for b in left) < tall
        or sum(b.y1 - b.y0 for b in right) < tall
        or not any(r.y0 < l.y1 and l.y0 < r.y1 for l in left for r in right)  # noqa: E741
    ):
        return blocks
    ordered: list[_Block] = []
    band_left: list[_Block] = []
    band_right: list[_Block] = []
    for block, s in zip(blocks, side, strict=True):
        if s is None:
            ordered += band_left + band_right
            band_left, band_right = [], []
            ordered.append(block)
        else:
            (band_left if s else band_right).append(block)
    return ordered + band_left + band_right


def _join_hyphenated(before: str, after: str) -> str:
    """Join two lines with a space; after ``word-`` without one, and the hyphen goes when a lower-case word
    follows, unless the word is a prefix such as ``non`` or already hyphenated."""
    if before.endswith("-") and len(before) > 1 and before[-2].isalpha():
        word = before[:-1].rsplit(None, 1)[-1].lower()
        if after[:1].islower() and word not in _HYPHEN_PREFIXES and "-" not in word:
            return before[:-1] + after  # "renormal-" + "ization"
        return before + after  # "Klein-" + "Gordon", "non-" + "relativistic"
    return f"{before} {after}"


def reflow(text: str) -> str:
    """PDF lines of a problem or solution as paragraphs: lines of a paragraph joined (de-hyphenated), parts
    ``(a)``/``(i)`` and bullets on lines of their own, a paragraph split mid-sentence (by a column or page
    break) joined again; paragraphs separated by a blank line."""
    paragraphs: list[str] = []
    for block in _SPACES.sub(" ", text).split("\n\n"):
        lines = [line.strip() for line in block.split("\n")]
        lines = [line for line in lines if line]
        if not lines:
            continue
        out = lines[0]
        for line in lines[1:]:
            out = f"{out}\n{line}" if _PART_START.match(line) else _join_hyphenated(out, line)
        if paragraphs and not paragraphs[-1].endswith(_TERMINAL) and out[:1].islower():
            paragraphs[-1] = _join_hyphenated(paragraphs[-1], out)
        else:
            paragraphs.append(out)
    return "\n\n".join(paragraphs)


def _span(pages: list[int]) -> str:
    """``[3, 4, 5, 9]`` -> ``"3-5, 9"``."""
    runs: list[list[int]] = []
    for page in pages:
        if runs and page == runs[-1][1] + 1:
            runs[-1][1] = page
        else:
            runs.append([page, page])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


def _open(path: Path) -> tuple[pymupdf.Document, str]:
    """The open document and the sha256 of its bytes; IngestError when it is not a usable PDF."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise IngestError(path, f"cannot be read ({exc.strerror or exc})") from None
    if not data:
        raise IngestError(path, "is empty (0 bytes)")
    sha256 = hashlib.sha256(data).hexdigest()
    try:
        doc = pymupdf.open(stream=data, filetype="pdf")
    except (pymupdf.FileDataError, RuntimeError, ValueError) as exc:
        raise IngestError(
            path,
            f"is not a readable PDF ({exc}); it may be truncated or corrupt: download or export it again",
        ) from None
    if doc.needs_pass:
        doc.close()
        raise IngestError(
            path,
            "is encrypted and needs a password; save a decrypted copy first "
            "(e.g. qpdf --decrypt --password=PASSWORD in.pdf out.pdf)",
        )
    if doc.page_count == 0:
        damaged = " (it is damaged)" if doc.is_repaired else ""
        doc.close()
        raise IngestError(path, f"has no pages{damaged}")
    return doc, sha256


def extract_pdf(
    path: str | os.PathLike, pages: range | None = None, licence: str = "unknown"
) -> PdfExtraction:
    """Seeds for the numbered problems of one PDF; ``pages``: 1-based page numbers to read (e.g.
    ``range(10, 41)`` for pages 10-40, see ``parse_page_range``; any container of numbers works), None for
    all. Raises IngestError (naming
    the file) when the document cannot be read or has no numbered problems (then ``level="warning"``)."""
    path = Path(path)
    doc, sha256 = _open(path)
    result = PdfExtraction(path)
    repaired = doc.is_repaired
    with doc:
        total = doc.page_count
        numbers = [n for n in range(1, total + 1) if pages is None or n in pages]
        if pages is not None:
            asked = _asked(pages)
            if not numbers:
                raise IngestError(path, f"pages {asked} are outside the document (it has {total} pages)")
            if isinstance(pages, range) and total < pages.stop - 1 < OPEN_END:
                result.warnings.append(f"pages {asked} asked for, but the document ends at page {total}")
        if repaired:
            result.warnings.append("is damaged (MuPDF repaired it); some pages or text may be missing")
        sizes: dict[float, int] = {}
        read: list[tuple[int, list[_Block], float, float]] = []
        scanned = []
        for number in numbers:
            try:
                page = doc[number - 1]
                blocks, has_images = _read_page(page, sizes)
                rect = page.rect
            except Exception as exc:  # a broken page must not cost the others
                result.warnings.append(f"page {number}: could not be read ({exc}); skipped")
                continue
            if has_images and not any(b.lines for b in blocks):
                scanned.append(number)
            read.append((number, blocks, rect.width, rect.height))
        result.pages = len(read)
    if not sizes:
        damaged = " (the file is damaged: MuPDF had to repair it)" if repaired else ""
        raise IngestError(path, f"has no extractable text{damaged}; scanned? run OCR first (e.g. ocrmypdf)")
    if scanned:
        result.warnings.append(
            f"pages {_span(scanned)}: images without text (scanned?), nothing read from them"
        )

    lines = _ordered_lines(read, max(sizes, key=sizes.__getitem__))
    notes: list[str] = []
    segments = segment_problems(lines, notes=notes)
    result.warnings.extend(notes)
    if not segments:
        raise IngestError(
            path,
            "no numbered problems found (looked for headings such as 'Problem 3.2' or 'Exercise 5', and for "
            "a numbered list '1.', '2.', ... under a heading such as 'Problems' or 'Homework 3')",
            level="warning",
        )
    for segment in segments:
        source = SeedSource(
            kind="pdf",
            file=path.name,
            sha256=sha256,
            pages=tuple(range(segment.first_page, segment.last_page + 1)),
            licence=licence,
            extra={"number": segment.number},
        )
        result.seeds.append(
            Seed.create(
                reflow(segment.text), source, solution=reflow(segment.solution), warnings=segment.warnings
            )
        )
    return result


def _ordered_lines(
    read: list[tuple[int, list[_Block], float, float]], body_size: float
) -> list[tuple[int, str]]:
    """``(page, line)`` in reading order with running headers/footers dropped, a blank line after each block,
    ``BREAK`` before headings and ``FIGURE`` where figures sit."""
    seen_on: dict[str, set[int]] = {}
    for number, blocks, _, height in read:
        for block in blocks:
            if block.lines and _in_margin(block, height):
                seen_on.setdefault(_margin_key(block), set()).add(number)
    heading_size = HEADING_SCALE * body_size
    lines: list[tuple[int, str]] = []
    for number, blocks, width, height in read:
        body = []
        for block in blocks:
            if _in_margin(block, height):
                if block.figure:
                    continue
                key = _margin_key(block)
                if len(seen_on[key]) > 1 or _PAGE_NUMBER.fullmatch(key):
                    continue
            body.append(block)
        for block in _reading_order(body, width, height):
            if block.figure:
                lines.append((number, FIGURE))
                continue
            if block.size >= heading_size and len(block.lines) <= 3:
                lines.append((number, BREAK))
            if _CAPTION.match(block.lines[0]):
                lines.append((number, FIGURE))
            lines += [(number, line) for line in block.lines]
            lines.append((number, ""))
    return lines


def pdf_files(paths: str | os.PathLike | Iterable[str | os.PathLike]) -> Iterator[Path | IngestError]:
    """The PDFs to read: each file as given, each folder's ``*.pdf`` files (recursively, sorted); an
    IngestError for a path that does not exist or a folder without PDFs."""
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    for entry in paths:
        path = Path(entry)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix.lower() == ".pdf" and p.is_file())
            if not found:
                yield IngestError(path, "no PDF files (*.pdf) in this folder")
            yield from found
        elif path.exists():
            yield path
        else:
            yield IngestError(path, "no such file or folder")


def iter_pdf_seeds(
    paths: str | os.PathLike | Iterable[str | os.PathLike],
    pages: range | None = None,
    licence: str = "unknown",
) -> Iterator[Seed | IngestError]:
    """Seeds from every PDF in ``paths`` (files or folders), document after document, as each is read; a bad
    document yields an IngestError naming it (after its seeds, its warnings as ``level="warning"`` errors)
    and the run goes on with the next one."""
    for item in pdf_files(paths):
        if isinstance(item, IngestError):
            yield item
            continue
        try:
            extraction = extract_pdf(item, pages, licence)
        except IngestError as exc:
            yield exc
            continue
        except Exception as exc:  # whatever one document does, the others still get read
            yield IngestError(item, f"could not be read ({type(exc).__name__}: {exc})")
            continue
        yield from extraction.seeds
        for warning in extraction.warnings:
            yield IngestError(item, warning, level="warning")
