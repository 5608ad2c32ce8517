"""Problem/solution segmentation of plain text in reading order, shared by the PDF and LaTeX ingest paths.

One function, ``segment_problems(lines)``: it takes ``(location, text)`` pairs in reading order, where the
location is whatever the caller wants a problem's span reported in (a 1-based page for PDFs, a source line for
LaTeX), and returns one ``Segment`` per numbered problem, with its solution when the document has one.

Rules (one pass over the lines after a cheap classification pass; all regexes compiled once):

- **Problem headings** at the start of a line: ``Problem 3.2``, ``Problem 3.2.``, ``Problem 3.2:``,
  ``Exercise 5``, ``PROBLEM 4``, ``Prob. 2``, ``Ex. 7``, ``Problem A.1``, ``Problem 3-2``, ``Problem 12a``;
  what follows the number on that line (a title, a reference such as ``(Peskin 3.4)``, the first words of the
  statement) is kept as the start of the text. A line is *not* a heading when the number is followed by a
  comma, a semicolon or a word in lower-case Latin letters (``Problem 3.2 shows that ...``, ``Problem 3 and 4
  ...``): that is a reference in running text that happens to start a line (a Greek letter may start a title:
  ``Problem 2 φ^4 theory``).
- **Numbered-list headings** ``3.2. Text`` / ``5. Text`` (number, dot, space, then not a lower-case Latin
  letter) count only when the document has no ``Problem``/``Exercise`` headings at all; only in a problem
  region (after a line ``Problems``, ``Exercises``, ``Questions``, ``Homework 3``, ``Problem Set 2``,
  ``Exercise sheet 4``, ``Assignment 1``, up to the next section heading; or the whole document when one of
  its first ``SHEET_TITLE_LINES`` lines says homework, problem set/sheet, exercise sheet, assignment, exam,
  quiz or midterm), so a document's numbered sections are not problems; and only along a consistent
  numbering: an item is a problem when its number follows the previous problem's (``3`` -> ``4``..``6``,
  ``3.2`` -> ``3.3``..``3.5`` or ``4.1``..``6.1``) or restarts a list (``1``, ``N.1``); other numbered lines
  stay text. ``2.5 GeV`` (no dot after the number) is never a heading.
- **Parts** ``(a)``, ``(b)``, ``(i)`` and anything else up to the next heading stay inside the problem.
- **Solutions section**: a line that is only ``Solutions``, ``Answers``, ``Solutions to the problems``,
  ``Hints and solutions`` (any case, an optional number before it) opens it. Inside, entries headed
  ``Solution 3.2``, ``Solution to Problem 3.2``, ``Answer to Exercise 5``, ``Problem 3.2`` or ``Exercise 5``
  (and ``3.2.`` list items, when the problems are list-numbered or the section has no keyword entries) are
  matched to the problems by number. A ``Problem N`` heading with no unmatched problem ``N`` before it ends
  the section and starts a new problem.
- **Solution entries** ``Solution 3.2`` / ``Solution to Problem 3.2`` count anywhere, not only in a section.
- **Inline solutions**: a line starting ``Solution:``, ``Solution.``, ``Answer:`` (or just ``Solution``) inside
  a problem starts that problem's solution, which runs to the next heading.
- Matching by number: a solution goes to the most recent problem with that number (``3-2`` = ``3.2``, case
  ignored) that has no solution yet, so per-chapter numbering that restarts still pairs chapter by chapter.
  A problem without one gets ``solution=""``.
- **Ends**: a problem or solution runs to the next problem, solution or section heading; to a line
  ``Chapter 3 ...``, ``Section 2``, ``Lecture 5``, ``Appendix A``, ``References``, ``Bibliography``,
  ``Acknowledgements``, ``Index``, or a problem-region heading (``Problems``, ``Homework 2``, ...); or to a
  ``BREAK`` line (which the PDF path emits before a heading set in a larger font). Text after a ``BREAK`` that
  is not a heading is outside every problem (and ends a solutions section).
- **Figures**: a problem whose text cites a figure (``Figure 2``, ``Fig. 3``, ``figure below``, ``shown in the
  figure``, ``the diagram below``) or that contains a ``FIGURE`` line (the PDF path emits one where an image or a
  figure caption sits in the reading order) gets ``FIGURE_WARNING``; a solution likewise gets
  ``SOLUTION_FIGURE_WARNING``.

Text is returned as given, lines joined with ``"\\n"``; a blank line is kept as a paragraph break (runs of
blank lines collapse to one). Segments come in document order. Deterministic: the same lines give the same
segments.

Example::

    lines = [(1, "Problem 1.1 Show that"), (1, "(a) the field is real."), (2, "Solutions"),
             (2, "Solution 1.1 Take the conjugate.")]
    [s] = segment_problems(lines)
    s.number, s.text, s.solution, s.first_page, s.last_page
    # ('1.1', 'Show that\\n(a) the field is real.', 'Take the conjugate.', 1, 1)
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "BREAK",
    "FIGURE",
    "FIGURE_WARNING",
    "SOLUTION_FIGURE_WARNING",
    "Segment",
    "number_key",
    "segment_problems",
]

BREAK = "\x00BREAK"  # a line that ends the current problem or solution (e.g. before a section heading)
FIGURE = "\x00FIGURE"  # a line that marks a figure at this point of the reading order (not part of the text)
FIGURE_WARNING = "refers to a figure that is not in the text"
SOLUTION_FIGURE_WARNING = "solution refers to a figure that is not in the text"


@dataclass(frozen=True)
class Segment:
    """A numbered problem: its text, its solution (``""`` when none was found), the locations (pages or
    source lines) of its first and last line, and what looked off."""

    number: str
    text: str
    solution: str
    first_page: int
    last_page: int
    warnings: tuple[str, ...] = ()


# --- line classification ------------------------------------------------------------------------------------

_NUM = r"(?:[A-Z]\.)?\d{1,3}(?:[.\-\u2013]\d{1,3}){0,2}[a-z]?"
_KEYWORD = r"(?:Problem|PROBLEM|Exercise|EXERCISE|Prob\.|Ex\.)"
# Only a line whose first word is one of these (any case), a digit or a single letter can be more than text.
_FIRST_WORD = re.compile(r"\s*([A-Za-z]+|\d)")
_HEADING_WORDS = frozenset(
    "problem exercise prob ex solution solutions answer answers sol ans hints selected worked chapter section "
    "lecture appendix homework assignment references bibliography acknowledgements acknowledgments index "
    "problems exercises further questions".split()
)
_PROBLEM = re.compile(rf"\s*{_KEYWORD}\s+({_NUM})(?![\d.]*\d)(.*)$", re.S)
_SOLUTION_ENTRY = re.compile(
    rf"\s*(?:Solutions?|SOLUTIONS?|Answers?|ANSWERS?|Sol\.|Ans\.)\s*(?:(?:to|of|for)\s+)?(?:{_KEYWORD}\s*)?"
    rf"({_NUM})(?![\d.]*\d)(.*)$",
    re.S,
)
_LIST_ITEM = re.compile(r"\s*(\d{1,3}(?:\.\d{1,3}){0,2})\.\s+(\S.*)$", re.S)
_SOLUTIONS_HEADING = re.compile(
    r"\s*(?:[A-Z0-9]{1,3}(?:\.\d{1,2})*\.?\s+)?(?:hints\s+and\s+|selected\s+|worked\s+)?"
    r"(?:solutions?|answers?)(?:\s+(?:to|for|of)\s+(?:the\s+|selected\s+)?(?:problems|exercises|questions))?"
    r"\s*:?\s*$",
    re.I,
)
_INLINE_SOLUTION = re.compile(
    r"\s*(?:Solution|SOLUTION|Answer|ANSWER|Sol\.)\s*(?:[:.\u2014\u2013-]\s*(.*))?$", re.S
)
# Lines that end the current problem or solution: numbered structure headings (checked like problem headings,
# so "Section 2.3 shows ..." in running text is not one) and whole-line headings.
_SECTION_NUMBERED = re.compile(
    r"\s*(?:Chapter|CHAPTER|Section|SECTION|Lecture|LECTURE|Appendix|APPENDIX)\s+[A-Z0-9]{1,4}(?:\.\d{1,3})*(.*)$",
    re.S,
)
_SECTION_LINE = re.compile(
    r"\s*(?:References|Bibliography|Acknowledge?ments?|Index|Further reading)\s*:?\s*$", re.I
)
# Headings that open a set of problems (they end the current problem too).
_REGION_NUMBERED = re.compile(
    r"\s*(?:Problem [Ss]et|PROBLEM SET|Problem [Ss]heet|Homework|HOMEWORK|Exercise [Ss]heet|Assignment"
    r"|ASSIGNMENT)\s+[A-Z0-9]{1,4}(?:\.\d{1,3})*(.*)$",
    re.S,
)
_REGION_LINE = re.compile(
    r"\s*(?:Problems|Exercises|Questions|Problems and exercises|Homework|Problem set|Exercise sheet)\s*:?\s*$",
    re.I,
)
# A document whose first lines say this is a problem sheet is a problem region from its start.
_SHEET_TITLE = re.compile(
    r"\b(?:homework|problem sets?|problem sheets?|exercise sheets?|assignments?|exam|quiz|midterm)\b", re.I
)
SHEET_TITLE_LINES = 20  # how many first lines may name the document a problem sheet
_BARE_SOLUTION = re.compile(r"\s*(?:Solution|SOLUTION|Answer|ANSWER)\s*:?\s*$")
_FIGURE_TEXT = re.compile(
    r"\b(?:fig(?:ure)?s?\.?\s*~?\(?[0-9IVX]"
    r"|(?:figure|fig\.|diagram|plot|graph|sketch|picture)s?\s+(?:below|above|shown|on the (?:left|right))"
    r"|(?:shown|depicted|sketched|drawn|illustrated|plotted)\s+(?:in|on)\s+(?:the\s+)?(?:figure|fig\.|picture)"
    r"|(?:accompanying|following|above|adjacent)\s+(?:figure|diagram|picture|plot))",
    re.I,
)
# Every _FIGURE_TEXT match holds one of these words (lower-cased): a cheap test before the regex.
_FIGURE_HINTS = tuple("fig|picture|below|above|shown|on the|accompanying|following|adjacent".split("|"))
_PUNCT_SEPARATOR = ".:)]\u2014\u2013-"

# kinds of lines
_TEXT, _PROB, _SOL, _LIST, _SOLUTIONS, _INLINE, _SECTION_END, _REGION, _BREAK, _FIG = range(10)


def number_key(number: str) -> str:
    """The form of a problem number used for matching: ``3-2``, ``3–2`` and ``3.2`` are one number; case
    ignored (``A.1`` = ``a.1``)."""
    return number.replace("-", ".").replace("\u2013", ".").lower()


def _heading_rest(rest: str) -> str | None:
    """The text after a heading's number, or None when the line reads as a reference in running text."""
    stripped = rest.strip()
    if not stripped:
        return ""
    first = stripped[0]
    if first in _PUNCT_SEPARATOR:
        return stripped.lstrip(_PUNCT_SEPARATOR).strip()
    if first in ",;" or "a" <= first <= "z" or not rest[:1].isspace():  # "φ^4 theory" may start a title
        return None
    return stripped


def _classify(text: str) -> tuple[int, str, str]:
    """(kind, number, rest of the line) of one line."""
    if text == BREAK:
        return _BREAK, "", ""
    if text == FIGURE:
        return _FIG, "", ""
    m = _FIRST_WORD.match(text)
    if m is None:
        return _TEXT, "", text
    word = m.group(1)
    if word.isdigit():  # "3.2. Text" or "5 Solutions"
        if _SOLUTIONS_HEADING.match(text):
            return _SOLUTIONS, "", ""
        m = _LIST_ITEM.match(text)
        if m and not "a" <= m.group(2)[0] <= "z":
            return _LIST, m.group(1), m.group(2).strip()
        return _TEXT, "", text
    word = word.lower()
    if word not in _HEADING_WORDS:
        if len(word) == 1 and _SOLUTIONS_HEADING.match(text):  # "A. Solutions"
            return _SOLUTIONS, "", ""
        return _TEXT, "", text
    m = _PROBLEM.match(text)
    if m:
        rest = _heading_rest(m.group(2))
        return (_PROB, m.group(1), rest) if rest is not None else (_TEXT, "", text)
    m = _SOLUTION_ENTRY.match(text)
    if m:
        rest = _heading_rest(m.group(2))
        if rest is not None:
            return _SOL, m.group(1), rest
    if _BARE_SOLUTION.match(text):  # a problem's own solution, or a section heading when outside one
        return _INLINE, "", ""
    if _SOLUTIONS_HEADING.match(text):
        return _SOLUTIONS, "", ""
    m = _INLINE_SOLUTION.match(text)
    if m:
        return _INLINE, "", (m.group(1) or "").strip()
    m = _SECTION_NUMBERED.match(text)
    if (m and _heading_rest(m.group(1)) is not None) or _SECTION_LINE.match(text):
        return _SECTION_END, "", ""
    m = _REGION_NUMBERED.match(text)
    if (m and _heading_rest(m.group(1)) is not None) or _REGION_LINE.match(text):
        return _REGION, "", ""
    return _TEXT, "", text


def _parts(number: str) -> tuple[int, ...]:
    return tuple(int(p) for p in number.split("."))


def _follows(previous: str | None, number: str) -> bool:
    """Whether list item ``number`` continues the numbering after ``previous`` or restarts a list."""
    parts = _parts(number)
    if parts[-1] == 1:
        return True  # "1." or "N.1.": a list (or a chapter's list) starts
    if previous is None:
        return False
    before = _parts(previous)
    if len(before) != len(parts):
        return False
    if parts[:-1] == before[:-1]:
        return 1 <= parts[-1] - before[-1] <= 3
    return len(parts) == 2 and 1 <= parts[0] - before[0] <= 3 and parts[1] == 1


# --- segmentation -------------------------------------------------------------------------------------------


@dataclass
class _Problem:
    number: str
    key: str
    first: int
    last: int
    lines: list[str]
    figure: bool = False
    solution: list[str] | None = None
    solution_figure: bool = False


def _cites_figure(text: str) -> bool:
    lowered = text.lower()  # cheap test first: most texts name no figure at all
    return any(hint in lowered for hint in _FIGURE_HINTS) and _FIGURE_TEXT.search(text) is not None


def _join(lines: list[str]) -> str:
    out: list[str] = []
    for line in lines:
        if line.strip() or (out and out[-1]):
            out.append(line.rstrip())
    while out and not out[-1]:
        out.pop()
    return "\n".join(out).strip()


def segment_problems(
    lines: Iterable[tuple[int, str]], *, notes: list[str] | None = None, unit: str = "page"
) -> list[Segment]:
    """Numbered problems (with solutions where the document has them) in ``(location, text)`` lines given in
    reading order; ``BREAK`` and ``FIGURE`` lines are markers (see the module doc). Document-level findings
    (a solution that matches no problem, a heading without text) are appended to ``notes`` when given, with
    the location named as ``unit`` ("page" or "line")."""
    items = [(location, text, *_classify(text)) for location, text in lines]
    marked = [index for index, item in enumerate(items) if item[2] != _TEXT]  # most lines are plain text
    keyword_style = any(items[index][2] == _PROB for index in marked)

    # Pre-pass over the marked lines: where the Solutions sections are, whether each has keyword entries (then
    # its list items are text), and, in a list-numbered document, which list items are problems (only in a
    # problem region: after "Problems", "Homework 3", ... or anywhere in a document titled as a problem sheet).
    section_of: dict[int, int] = {}
    keyword_entries: list[bool] = []
    accepted: set[int] = set()
    section, previous = -1, None
    titles = (text for _, text, *_ in items if text.strip())
    in_region = any(
        _SHEET_TITLE.search(text) for _, text in zip(range(SHEET_TITLE_LINES), titles, strict=False)
    )
    for index in marked:
        kind, number = items[index][2], items[index][3]
        if kind == _SOLUTIONS:
            keyword_entries.append(False)
            section = len(keyword_entries) - 1
        elif kind in (_SECTION_END, _REGION):
            section = -1
            in_region = kind == _REGION
        elif kind in (_SOL, _PROB) and section >= 0:
            keyword_entries[section] = True
        elif kind == _LIST and not keyword_style and in_region and section < 0 and _follows(previous, number):
            accepted.add(index)
            previous = number
        section_of[index] = section
    if len(accepted) < 2:
        accepted.clear()

    notes = notes if notes is not None else []
    problems: list[_Problem] = []
    current: _Problem | None = None
    target: list[str] | None = None  # where text lines go: current's lines or solution; None: nowhere
    in_solution = in_section = after_break = False

    waiting: dict[str, list[_Problem]] = {}  # number key -> problems without a solution yet, latest last

    def unmatched(number: str) -> _Problem | None:
        found = waiting.get(number_key(number))
        return found[-1] if found else None

    def new_problem(number: str, location: int, rest: str) -> None:
        nonlocal current, target, in_solution
        current = _Problem(number, number_key(number), location, location, [rest] if rest else [])
        problems.append(current)
        waiting.setdefault(current.key, []).append(current)
        target, in_solution = current.lines, False

    def new_solution(number: str, location: int, rest: str) -> None:
        nonlocal current, target, in_solution
        problem = unmatched(number)
        if problem is None:
            answered = number_key(number) in waiting  # the key's problems all have their solution
            reason = (
                "its problem already has a solution; kept the first" if answered else "matches no problem"
            )
            notes.append(f"solution {number} ({unit} {location}): {reason}")
            current, target, in_solution = None, None, False
            return
        waiting[problem.key].pop()
        problem.solution = [rest] if rest else []
        current, target, in_solution = problem, problem.solution, True

    for index, (location, text, kind, number, rest) in enumerate(items):
        if kind == _TEXT and not after_break:  # the common case first
            if target is not None:
                target.append(text)
                if text and not in_solution and not text.isspace():
                    current.last = location  # type: ignore[union-attr]  # target is set with current
            continue
        if after_break and kind not in (_BREAK, _FIG) and text.strip():
            after_break = False
            if kind in (_TEXT, _LIST) or (kind == _INLINE and rest):
                in_section = False  # a heading known by its font only: outside every problem
                continue
        if kind == _BREAK:
            current, target, after_break = None, None, True
        elif kind == _FIG:
            if current is not None and in_solution:
                current.solution_figure = True
            elif current is not None:
                current.figure = True
        elif kind == _PROB and in_section and unmatched(number):
            new_solution(number, location, rest)
        elif kind == _PROB:
            in_section = False
            new_problem(number, location, rest)
        elif kind == _SOL:
            new_solution(number, location, rest)
        elif kind == _INLINE and current is not None and not in_solution:
            waiting[current.key].remove(current)
            current.solution = [rest] if rest else []
            target, in_solution = current.solution, True
        elif kind == _SOLUTIONS or (kind == _INLINE and not rest and current is None):
            current, target, in_section = None, None, True
        elif kind in (_SECTION_END, _REGION):
            current, target, in_section = None, None, False
        elif (
            kind == _LIST
            and in_section
            and unmatched(number)
            and (not keyword_style or section_of[index] < 0 or not keyword_entries[section_of[index]])
        ):
            new_solution(number, location, rest)
        elif kind == _LIST and index in accepted and not in_section:
            new_problem(number, location, rest)
        elif target is not None:
            target.append(text)
            if current is not None and not in_solution and text.strip():
                current.last = location

    segments = []
    for problem in problems:
        text = _join(problem.lines)
        if not text:
            notes.append(f"problem {problem.number} ({unit} {problem.first}): heading without text, skipped")
            continue
        solution = _join(problem.solution or [])
        warnings = []
        if problem.figure or _cites_figure(text):
            warnings.append(FIGURE_WARNING)
        if problem.solution_figure or _cites_figure(solution):
            warnings.append(SOLUTION_FIGURE_WARNING)
        segments.append(Segment(problem.number, text, solution, problem.first, problem.last, tuple(warnings)))
    return segments
