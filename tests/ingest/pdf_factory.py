"""PDF builders for the ingest tests and benchmark: real PDFs made with PyMuPDF, no files in the repo.

Text is laid out with ``pymupdf.Story`` (HTML, so Greek letters and math symbols come from entities and the
built-in Noto fonts, as ``insert_htmlbox`` does) flowing through one or two column rectangles per page; running
headers and page numbers are stamped afterwards. Every builder returns a ``BuiltPdf`` whose ``planted`` list says
where each problem really landed (from the Story's element positions), so tests compare against the layout
rather than against numbers copied by hand.

Example::

    built = notes_pdf(tmp_path / "notes.pdf")
    built.planted[1].number, built.planted[1].first_page, built.planted[1].last_page  # ('1.2', 1, 2)
"""

from __future__ import annotations

import bisect
import io
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pymupdf

PAGE = pymupdf.paper_rect("letter")  # 612 x 792 pt
MARGIN_X, MARGIN_TOP, MARGIN_BOTTOM, GUTTER = 60.0, 72.0, 72.0, 24.0
CSS = (
    "body {font-family: serif; font-size: 10pt; line-height: 1.25} "
    "h1 {font-size: 17pt; margin: 0 0 10pt 0} h2 {font-size: 13pt; margin: 8pt 0 6pt 0} "
    "h3 {font-size: 10.5pt; margin: 6pt 0 3pt 0} p {margin: 0 0 6pt 0; text-align: justify}"
)
HEADER = "QFT Lecture Notes (draft)"
# Images go inside a <p>: a bare <img> that moves to the next column can make Story drop the text after it.
FIGURE_NAME = "figure.png"


@dataclass
class Planted:
    """A problem put into a built PDF: its number, phrases the extraction must keep, and where it landed."""

    number: str
    heading: str  # as printed, e.g. "Problem 3.2." or "Exercise 2 (Peskin 3.4)"; followed by phrases[0]
    phrases: tuple[str, ...]  # substrings of the problem text, in reading order
    solution_phrases: tuple[str, ...] = ()  # empty: the document has no solution for it
    figure: bool = False  # the problem refers to (or sits next to) a figure
    first_page: int = 0  # 1-based, filled from the layout
    last_page: int = 0


@dataclass
class BuiltPdf:
    """A PDF on disk and what was planted in it."""

    path: Path
    pages: int
    planted: list[Planted] = field(default_factory=list)

    def problem(self, number: str) -> Planted:
        """The planted problem numbered ``number``."""
        return next(p for p in self.planted if p.number == number)


def _figure_png(width: int = 96, height: int = 64) -> bytes:
    """A small two-tone picture (a "diagram") as PNG bytes."""
    pix = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, width, height), False)
    pix.set_rect(pix.irect, (235, 235, 250))
    pix.set_rect(pymupdf.IRect(width // 4, height // 4, 3 * width // 4, 3 * height // 4), (40, 60, 160))
    return pix.tobytes("png")


def _columns(page: pymupdf.Rect, count: int, top: float = MARGIN_TOP) -> list[pymupdf.Rect]:
    """The column rectangles of a page with ``count`` (1 or 2) columns, starting at ``top``."""
    x0, x1, y1 = MARGIN_X, page.width - MARGIN_X, page.height - MARGIN_BOTTOM
    if count == 1:
        return [pymupdf.Rect(x0, top, x1, y1)]
    middle = (x0 + x1) / 2
    return [pymupdf.Rect(x0, top, middle - GUTTER / 2, y1), pymupdf.Rect(middle + GUTTER / 2, top, x1, y1)]


def flow_html(
    path: Path,
    html: str | Sequence[str],
    *,
    columns: Callable[[int], int] | int = 1,
    banner: str | None = None,
    banner_height: float = 150.0,
    reverse_columns: bool = False,
    header: str | Callable[[int], str] | None = HEADER,
    page_numbers: bool = True,
    stamp: str | None = None,
    max_pages: int | None = None,
) -> list[list[pymupdf.Rect]]:
    """Lay ``html`` out over as many pages as it needs (at most ``max_pages``); returns, per page, the
    rectangles its text was set in, in reading order (``locate`` reads them back).

    ``html``: one flow, or a list of flows (chapters) that each start on a new page. ``columns``: per page
    (0-based index) 1 or 2. ``banner``: HTML set full width at the top of page 1 (a paper's title and
    abstract) above the columns. ``reverse_columns``: the content stream draws the right column first, then
    the left, then the banner (each as a form XObject), so extraction in stream order reads them out of
    order. ``header``: a running header stamped on every page after the body (as LaTeX class files do);
    ``page_numbers``: a centred page number in the footer. ``stamp``: text set vertically in the left margin
    of page 1, as arXiv stamps its PDFs.
    """
    archive = pymupdf.Archive()
    archive.add(_figure_png(), FIGURE_NAME)
    flows = [html] if isinstance(html, str) else list(html)
    # reverse_columns: the banner and each column go onto scratch pages of their own, and each final page
    # overlays its scratch pages in reverse; otherwise the writer draws straight onto the final pages.
    buffer = io.BytesIO()
    writer = pymupdf.DocumentWriter(buffer)
    layout: list[list[int]] = []  # per final page: its scratch pages, in drawing order
    regions: list[list[pymupdf.Rect]] = []
    written = 0
    for flow in flows:
        story = pymupdf.Story(
            flow, user_css=CSS, archive=archive
        )  # one per chapter: placing is O(story size)
        more = True
        while more and (max_pages is None or len(layout) < max_pages):
            number = len(layout)
            pieces: list[tuple[pymupdf.Story, pymupdf.Rect]] = []
            top = MARGIN_TOP
            if number == 0 and banner:
                banner_rect = pymupdf.Rect(MARGIN_X, MARGIN_TOP, PAGE.width - MARGIN_X, banner_height)
                pieces.append((pymupdf.Story(banner, user_css=CSS, archive=archive), banner_rect))
                top = banner_height + 12
            count = columns(number) if callable(columns) else columns
            pieces += [(story, rect) for rect in _columns(PAGE, count, top)]
            regions.append([rect for _, rect in pieces])
            drawn: list[int] = []
            device = writer.begin_page(PAGE)
            for index, (piece, rect) in enumerate(pieces):
                if reverse_columns and index:
                    writer.end_page()
                    drawn.append(written)
                    written += 1
                    device = writer.begin_page(PAGE)
                piece_more, _ = piece.place(rect)
                piece.draw(device)
                if piece is story:
                    more = piece_more
                    if not more:
                        break
            writer.end_page()
            drawn.append(written)
            written += 1
            layout.append(drawn[::-1])
    writer.close()

    doc = pymupdf.open("pdf", buffer.getvalue())
    if reverse_columns:
        source, doc = doc, pymupdf.open()
        for parts in layout:
            page = doc.new_page(width=PAGE.width, height=PAGE.height)
            for part in parts:
                page.show_pdf_page(page.rect, source, part)
    for number, page in enumerate(doc):
        if header is not None:
            text = header(number) if callable(header) else header
            page.insert_text((MARGIN_X, 34), text, fontsize=8.5, fontname="helv")
        if page_numbers:
            label = str(number + 1)
            page.insert_text((PAGE.width / 2 - 3 * len(label), PAGE.height - 30), label, fontsize=9)
        if stamp and number == 0:
            page.insert_text((36, 760), stamp, fontsize=10, rotate=90, color=(0.5, 0.5, 0.5))
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(path, garbage=1, deflate=True)
    return regions


def _space(text: str) -> str:
    """Whitespace collapsed, and a line break after a hyphen undone ("Klein- Gordon" -> "Klein-Gordon")."""
    return " ".join(text.split()).replace("- ", "-")


def locate(path: Path, planted: Sequence[Planted], regions: list[list[pymupdf.Rect]]) -> list[Planted]:
    """Fill the planted problems' page spans: read the text back region by region in reading order (so
    headers, page numbers and column order play no part), find each problem's heading followed by its first
    phrase and then its last phrase; drop problems that are not in the document, and solutions that are
    not."""
    flags = pymupdf.TEXTFLAGS_TEXT & ~pymupdf.TEXT_PRESERVE_LIGATURES  # "ﬁ" -> "fi"
    texts, starts = [], []
    with pymupdf.open(path) as doc:
        for page, rects in zip(doc, regions, strict=True):
            starts.append(sum(len(t) + 1 for t in texts))
            texts.append(_space(" ".join(page.get_text(flags=flags, clip=rect) for rect in rects)))
    whole = " ".join(texts)

    def page_of(offset: int) -> int:
        return bisect.bisect_right(starts, offset)

    kept = []
    for problem in planted:
        at = whole.find(f"{problem.heading} {problem.phrases[0]}")
        if at < 0:
            continue
        end = whole.find(problem.phrases[-1], at)
        problem.first_page = page_of(at)
        problem.last_page = page_of(end + len(problem.phrases[-1]) - 1) if end >= 0 else len(texts)
        if problem.solution_phrases and problem.solution_phrases[-1] not in whole[at:]:
            problem.solution_phrases = ()
        kept.append(problem)
    return kept


FILLER = (
    "In the canonical approach the field and its conjugate momentum obey equal-time commutation relations, "
    "and the Hamiltonian is normal ordered so that the vacuum energy vanishes. The propagator is the vacuum "
    "expectation value of the time-ordered product of two fields; its poles sit at p<sup>2</sup> = "
    "m<sup>2</sup>, and the i&epsilon; prescription picks the Feynman contour. A resonance near 2.5 GeV "
    "would show up as a bump in the cross section, which is why the next section turns to scattering. "
)
PARTS_1_2 = (
    "Compute the conjugate momentum &pi; = i&psi;<sup>&dagger;</sup>.",
    "Derive the Hamiltonian density and express it through the operators.",
    "Evaluate the anticommutator of the field at equal times.",
    "Show that the charge Q = &int;d<sup>3</sup>x &psi;<sup>&dagger;</sup>&psi; commutes with the Hamiltonian.",
    "Find the propagator S<sub>F</sub>(x &minus; y) and its Fourier transform.",
    "Conclude that the theory needs anticommuting fields for a bounded energy.",
)


def notes_pdf(path: Path, filler: int = 7) -> BuiltPdf:
    """One-column lecture notes: a chapter of prose, three problems (1.2 runs across the page break, 1.3
    cites a textbook problem), a Solutions section for 1.1 and 1.2; running header and page numbers."""
    problems = [
        Planted(
            "1.1",
            "Problem 1.1",
            ("Show that the Klein-Gordon field", "when the Lagrangian is"),
            ("Vary the action",),
        ),
        Planted(
            "1.2",
            "Problem 1.2.",
            ("Consider the free Dirac field", "(a) Compute", "(d) Show that", "(f) Conclude that the theory"),
            ("The anticommutator of the fields", "spin-statistics connection"),
        ),
        Planted("1.3", "Problem 1.3", ("(Peskin 3.4) A Majorana fermion", "is real and that")),
    ]
    html = (
        "<h1>Chapter 1 Free fields</h1>"
        + f"<p>{FILLER}</p>" * filler
        + "<h2>Problems</h2>"
        + "<p><b>Problem 1.1</b> Show that the Klein-Gordon field &phi;(x) obeys "
        "(&part;<sup>&mu;</sup>&part;<sub>&mu;</sub> + m<sup>2</sup>)&phi; = 0 when the Lagrangian is "
        "&#8466; = &frac12;&part;<sub>&mu;</sub>&phi;&part;<sup>&mu;</sup>&phi; &minus; "
        "&frac12;m<sup>2</sup>&phi;<sup>2</sup>.</p>"
        + "<p><b>Problem 1.2.</b> Consider the free Dirac field &psi; with Lagrangian "
        "&#8466; = &psi;&#772;(i&gamma;<sup>&mu;</sup>&part;<sub>&mu;</sub> &minus; m)&psi;. Use the "
        "mode expansion in terms of creation and annihilation operators throughout.</p>"
        + "".join(
            f"<p>({part}) {task} Write every intermediate step, state the conventions for "
            "&gamma;<sup>0</sup>, &gamma;<sup>5</sup> and the metric signature, and check the result against "
            "the non-relativistic limit where the field reduces to a two-component spinor.</p>"
            for part, task in zip("abcdef", PARTS_1_2, strict=True)
        )
        + "<p><b>Problem 1.3</b> (Peskin 3.4) A Majorana fermion &chi; satisfies "
        "&chi; = C&chi;&#772;<sup>T</sup>. Show that its mass term is real and that "
        "&sum;<sub>s</sub> u<sup>s</sup>(p)u&#772;<sup>s</sup>(p) = &gamma;&middot;p + m.</p>"
        + "<h2>Solutions</h2>"
        + "<p><b>Solution to Problem 1.1</b> Vary the action with respect to &phi;; the Euler-Lagrange "
        "equation gives the Klein-Gordon equation directly.</p>"
        + "<p><b>Solution 1.2</b> The anticommutator of the fields is a delta function; a commutator would "
        "make the energy unbounded below, which is the spin-statistics connection.</p>"
    )
    regions = flow_html(path, html)
    return BuiltPdf(path, len(regions), locate(path, problems, regions))


def two_column_pdf(path: Path) -> BuiltPdf:
    """A two-column paper: full-width title and abstract, then exercises flowing down the left column, on
    into the right column and the next page; the content stream draws the right column before the left one
    and the title last, so reading order must come from the layout, not from the stream. An arXiv stamp runs
    up the left margin of page 1."""
    problems = [
        Planted("1", "Exercise 1", ("FIRST-EXERCISE scalar Yukawa", "write the amplitude")),
        Planted(
            "2", "Exercise 2", ("SECOND-EXERCISE begins", "SECOND-EXERCISE middle", "SECOND-EXERCISE ends")
        ),
        Planted("3", "Exercise 3", ("THIRD-EXERCISE Compton", "Thomson limit")),
        Planted("4", "Exercise 4", ("FOURTH-EXERCISE running coupling", "and the self-energies")),
        Planted("5", "Exercise 5", ("FIFTH-EXERCISE check", "scalar vertex")),
    ]
    banner = (
        "<h1>One-loop exercises in Yukawa theory</h1>"
        "<p><i>Abstract.</i> We collect exercises on the Yukawa theory with a scalar &phi; and a Dirac "
        "fermion &psi;, from tree-level scattering to the one-loop running of the coupling g. Each exercise "
        "states its conventions; the metric is mostly minus.</p>"
    )
    middle = " ".join(f"Sentence {i} sums the diagrams with {i} internal lines." for i in range(1, 46))
    html = (
        f"<p>{FILLER}</p>" * 2 + "<p><b>Exercise 1</b> FIRST-EXERCISE scalar Yukawa theory with interaction "
        "g&phi;&psi;&#772;&psi;: draw the tree-level diagrams for fermion-fermion scattering and write the "
        "amplitude.</p>"
        + f"<p><b>Exercise 2</b> SECOND-EXERCISE begins here. {middle} SECOND-EXERCISE middle part. "
        + f"{middle} SECOND-EXERCISE ends here.</p>"
        + "<p><b>Exercise 3</b> THIRD-EXERCISE Compton scattering in the Yukawa theory: compute the cross "
        "section and take the Thomson limit.</p>"
        + f"<p>{FILLER}</p>"
        * 3
        + "<p><b>Exercise 4</b> FOURTH-EXERCISE running coupling: compute the one-loop &beta;(g) from the "
        "vertex and the self-energies.</p>"
        + f"<p>{FILLER}</p>" * 2
        + "<p><b>Exercise 5</b> FIFTH-EXERCISE check the Ward identity for the fermion-scalar vertex.</p>"
    )
    stamp = "arXiv:2401.01234v1 [hep-th] 3 Jan 2024"
    regions = flow_html(
        path, html, columns=2, banner=banner, reverse_columns=True, header="Preprint 2024-017", stamp=stamp
    )
    return BuiltPdf(path, len(regions), locate(path, problems, regions))


def figure_pdf(path: Path) -> BuiltPdf:
    """Problems next to an embedded image: 1 cites "Figure 1", 2 says "the picture below" with an image
    right after it, 3 has no figure."""
    problems = [
        Planted("1", "Problem 1", ("Evaluate the vertex correction in Figure 1",), figure=True),
        Planted("2", "Problem 2", ("Compute the symmetry factor",), figure=True),
        Planted("3", "Problem 3", ("What is the mass dimension",)),
    ]
    html = (
        "<h1>Problem set 4</h1>"
        "<p><b>Problem 1</b> Evaluate the vertex correction in Figure 1 at one loop in dimensional "
        f'regularization.</p><p><img src="{FIGURE_NAME}" width="140"/></p><p>Figure 1: The one-loop vertex.</p>'
        "<p><b>Problem 2</b> Compute the symmetry factor of the vacuum bubble in the picture below.</p>"
        f'<p><img src="{FIGURE_NAME}" width="120"/></p>'
        "<p><b>Problem 3</b> What is the mass dimension of the coupling of a &phi;<sup>4</sup> interaction "
        "in six dimensions?</p>"
    )
    regions = flow_html(path, html)
    return BuiltPdf(path, len(regions), locate(path, problems, regions))


def htmlbox_pdf(path: Path) -> Path:
    """Two problems set with ``page.insert_htmlbox`` (HTML entities for Greek letters and math symbols, with
    super- and subscripts), one box each."""
    doc = pymupdf.open()
    page = doc.new_page(width=PAGE.width, height=PAGE.height)
    page.insert_htmlbox(
        pymupdf.Rect(72, 72, 540, 160),
        "<p><b>Problem 1</b> Show that &psi;&#772;&gamma;<sup>&mu;</sup>&psi; is a Lorentz vector and that "
        "&part;<sub>&mu;</sub>j<sup>&mu;</sup> = 0 when &alpha; &ne; 0.</p>",
    )
    page.insert_htmlbox(
        pymupdf.Rect(72, 180, 540, 260),
        "<p><b>Problem 2</b> Evaluate &int; d<sup>4</sup>k / (k<sup>2</sup> &minus; &Delta;)<sup>2</sup> "
        "with &epsilon; &rarr; 0 and &Lambda; &raquo; m.</p>",
    )
    doc.save(path)
    return path


def vector_figure_pdf(path: Path) -> Path:
    """Problems set with ``insert_text``: 1 is followed by a diagram drawn with vector paths (lines and a loop,
    no image, no caption, and its text names no figure); 2 is underlined by a thin rule; 3 sits in a drawn
    frame (which starts above it, so a frame taken for a figure would land in 2). Only 1 has a figure."""
    doc = pymupdf.open()
    page = doc.new_page(width=PAGE.width, height=PAGE.height)
    page.insert_text((72, 100), "Problem 1 Compute the one-loop correction to the vertex.", fontsize=11)
    shape = page.new_shape()
    shape.draw_line((120, 180), (200, 180))  # an external line
    shape.draw_line((200, 180), (250, 140))
    shape.draw_line((200, 180), (250, 220))
    shape.draw_circle((275, 180), 25)  # the loop
    shape.finish(color=(0, 0, 0), width=1)
    shape.commit()
    page.insert_text(
        (72, 280), "Problem 2 Find the decay width of the Higgs boson into photons.", fontsize=11
    )
    page.draw_line((72, 285), (300, 285), color=(0, 0, 0), width=0.4)  # an underline rule
    page.insert_text((72, 340), "Problem 3 Show that the Ward identity holds at tree level.", fontsize=11)
    page.draw_rect(pymupdf.Rect(64, 322, 420, 350), color=(0, 0, 0), width=0.8)  # a frame around it
    doc.save(path)
    return path


def problem_sheet_pdf(path: Path) -> BuiltPdf:
    """A homework sheet numbered as a list ("1.", "2.", ...) with parts, a line starting "2.5 GeV" that is not
    a problem, and an "Answers" section numbered the same way."""
    problems = [
        Planted("1", "1.", ("Compute the decay rate", "(a) at tree level"), ("The rate is",)),
        Planted("2", "2.", ("Estimate the lifetime", "2.5 GeV and compare"), ("About 10",)),
        Planted("3", "3.", ("Show that the amplitude vanishes",)),
    ]
    html = (
        "<h1>Homework 3</h1><p>Due Friday. Show all steps.</p>"
        "<p>1. Compute the decay rate of a scalar of mass M into two fermions:</p>"
        "<p>(a) at tree level,</p><p>(b) including the phase-space factor &beta;<sup>3</sup>.</p>"
        "<p>2. Estimate the lifetime of a resonance of width</p>"
        "<p>2.5 GeV and compare it with the strong-interaction time scale.</p>"
        "<p>3. Show that the amplitude vanishes at threshold.</p>"
        "<h2>Answers</h2>"
        "<p>1. The rate is &Gamma; = g<sup>2</sup>M/(8&pi;) in the massless limit.</p>"
        "<p>2. About 10<sup>&minus;24</sup> s.</p>"
    )
    regions = flow_html(path, html, header=None)
    return BuiltPdf(path, len(regions), locate(path, problems, regions))


def no_problems_pdf(path: Path) -> BuiltPdf:
    """Two pages of prose and no numbered problems."""
    return BuiltPdf(path, len(flow_html(path, "<h1>Introduction</h1>" + f"<p>{FILLER}</p>" * 14)))


def image_only_pdf(path: Path) -> Path:
    """A "scanned" PDF: two pages that hold only a picture, no text layer."""
    doc = pymupdf.open()
    png = _figure_png(120, 150)
    for _ in range(2):
        page = doc.new_page(width=PAGE.width, height=PAGE.height)
        page.insert_image(pymupdf.Rect(60, 72, 552, 720), stream=png)
    doc.save(path)
    return path


def _one_problem() -> pymupdf.Document:
    doc = pymupdf.open()
    doc.new_page().insert_text((72, 100), "Problem 1 Compute the propagator.", fontsize=11)
    return doc


def encrypted_pdf(path: Path) -> Path:
    """A text PDF with a problem that opens only with a password (AES-256)."""
    _one_problem().save(path, encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="x", owner_pw="y")
    return path


def corrupt_pdf(path: Path) -> Path:
    """A PDF cut off after its first 200 bytes, as an interrupted download leaves it."""
    path.write_bytes(_one_problem().tobytes()[:200])
    return path


# ---------------------------------------------------------------------------------------------- benchmark

TOPICS = (
    ("scalar Yukawa theory", "&phi;", "g"),
    ("quantum electrodynamics", "&psi;", "e"),
    ("massive vector boson", "A<sup>&mu;</sup>", "g<sub>V</sub>"),
    ("quartic scalar theory", "&phi;", "&lambda;"),
    ("Dirac fermion", "&psi;&#772;", "m"),
    ("non-abelian gauge theory", "A<sub>&mu;</sub><sup>a</sup>", "g<sub>s</sub>"),
)
TASKS = (
    "compute the tree-level amplitude for two-to-two scattering",
    "derive the one-loop self-energy in dimensional regularization",
    "find the decay width at leading order",
    "evaluate the beta function at one loop",
    "show that the amplitude satisfies the Ward identity",
    "calculate the unpolarized differential cross section",
    "determine the superficial degree of divergence of the vertex",
    "write the Feynman rules including the symmetry factors",
)
PROSE = (
    "The propagator of {f} has a pole at p<sup>2</sup> = m<sup>2</sup>, and we keep the i&epsilon; term.",
    "As we saw in Problem {ref} the counterterm absorbs the divergence of the loop integral.",
    "A resonance near {gev} GeV is visible in the cross section measured at the collider.",
    "We use the metric diag(+1, &minus;1, &minus;1, &minus;1) and natural units throughout this chapter.",
    "The coupling {c} is dimensionless in four dimensions, so the theory is renormalizable.",
    "Summing the diagrams to all orders gives the dressed propagator and the physical mass.",
    "The integral &int;d<sup>4</sup>k/(2&pi;)<sup>4</sup> diverges logarithmically at large k.",
    "Symmetry factors follow from counting the automorphisms of each diagram.",
)
HEADING_STYLES = (  # (the heading as printed, its HTML)
    ("Problem {n}", "<h3>Problem {n}</h3><p>{body}</p>"),
    ("Problem {n}.", "<p><b>Problem {n}.</b> {body}</p>"),
    ("Exercise {n} (Peskin {ref})", "<p><b>Exercise {n}</b> (Peskin {ref}) {body}</p>"),
    ("Problem {n}:", "<p><b>Problem {n}:</b> {body}</p>"),
)
SOLUTION_STYLES = (
    "<p><b>Solution to Problem {n}</b> {body}</p>",
    "<p><b>Solution {n}.</b> {body}</p>",
    "<p><b>Problem {n}</b> {body}</p>",
)
HEADERS = ("Quantum Field Theory: Problems and Solutions", "Lecture notes, revised 2024, page {page}")


def _prose(rng: random.Random, count: int, topic: tuple[str, str, str], chapter: int) -> str:
    return " ".join(
        rng.choice(PROSE).format(
            f=topic[1],
            ref=f"{chapter}.{rng.randint(1, 9)}",
            gev=rng.choice(("2.5", "91.2", "125")),
            c=topic[2],
        )
        for _ in range(count)
    )


def benchmark_pdf(path: Path, pages: int = 200, seed: int = 0) -> BuiltPdf:
    """A textbook-like document of ``pages`` pages (the flow is cut there): chapters of prose, numbered
    problems in four heading styles (some with parts, some across page or column breaks, a few with a
    figure, some followed by an inline solution), a Solutions section per chapter; one- and two-column pages
    mixed; running headers and page numbers. Each problem starts with the token ``P<chapter>x<index>.`` and
    ends with ``E<chapter>x<index>.``, each solution starts with ``S<chapter>x<index>.``."""
    rng = random.Random(seed)
    planted: list[Planted] = []
    chapters: list[str] = []
    size, chapter = 0, 0
    while size < pages * 4000:  # more than fits: the flow stops at ``pages``
        chapter += 1
        chunks: list[str] = []
        topic = TOPICS[chapter % len(TOPICS)]
        chunks.append(f"<h1>Chapter {chapter}: {topic[0].capitalize()}</h1>")
        chunks.extend(f"<p>{_prose(rng, rng.randint(4, 9), topic, chapter)}</p>" for _ in range(3))
        chunks.append("<h2>Problems</h2>")
        solutions = []
        for index in range(1, rng.randint(6, 12) + 1):
            number, token = f"{chapter}.{index}", f"{chapter}x{index}"
            figure = rng.random() < 0.08
            body = (
                f"P{token}. For the {topic[0]} with field {topic[1]} and coupling {topic[2]}, "
                f"{rng.choice(TASKS)}. {_prose(rng, rng.randint(1, 4), topic, chapter)}"
                + (f" Use the diagram in Figure {number}." if figure else "")
            )
            tail = "".join(
                f"<p>({letter}) {rng.choice(TASKS).capitalize()} for this case.</p>"
                for letter in "abcd"[: rng.choice((0, 0, 0, 2, 3, 4))]
            )
            if figure:
                tail += f'<p><img src="{FIGURE_NAME}" width="110"/></p><p>Figure {number}: a diagram.</p>'
            tail += f"<p>E{token}.</p>"
            heading, style = HEADING_STYLES[(chapter + index) % len(HEADING_STYLES)]
            ref = f"{rng.randint(2, 9)}.{rng.randint(1, 9)}"
            chunks.append(style.format(n=number, body=body, ref=ref))
            chunks.append(tail)
            solution = f"S{token}. {_prose(rng, rng.randint(1, 3), topic, chapter)}"
            kind = rng.random()
            if kind < 0.15:  # inline, right after the problem
                chunks.append(f"<p><i>Solution:</i> {solution}</p>")
            elif kind < 0.8:
                solutions.append(
                    SOLUTION_STYLES[index % len(SOLUTION_STYLES)].format(n=number, body=solution)
                )
            has_solution = kind < 0.8
            phrases = (f"P{token}.", f"E{token}.")
            heading = heading.format(n=number, ref=ref)
            planted.append(Planted(number, heading, phrases, (f"S{token}.",) * has_solution, figure))
        if solutions:
            chunks.append("<h2>Solutions</h2>")
            chunks.extend(solutions)
        chapters.append("".join(chunks))
        size += len(chapters[-1])
    regions = flow_html(
        path,
        chapters,
        columns=lambda page: 2 if page % 5 in (2, 3) else 1,
        header=lambda page: HEADERS[page % 2].format(page=page + 1),
        max_pages=pages,
    )
    kept = locate(path, planted, regions)
    located = {p.number for p in kept}
    cut = planted.index(kept[-1]) if kept else 0
    lost = [p.number for p in planted[:cut] if p.number not in located]
    if lost:  # only the flow's end may be cut; anything else is a layout bug, not the extraction's
        raise RuntimeError(f"{path}: the layout lost problems {lost}")
    return BuiltPdf(path, len(regions), kept)
