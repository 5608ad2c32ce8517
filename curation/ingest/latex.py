r"""LaTeX sources: unpack them safely, find the main file, inline its ``\input``\s, and extract problem/solution
pairs with the line of the source file each came from.

Unpacking (``safe_extract``) refuses the whole archive when any member is unsafe: an absolute path, a ``..``
component, a link whose target is absolute or leaves the folder, a device file or FIFO; or when the archive
has more than ``max_files`` members or ``max_total`` bytes. Links that stay inside become copies of their
targets. Errors name the member.

The main file (``find_main_tex``): the one named as ``toplevel`` in arXiv's ``00README.json``; else the
``.tex`` file with ``\documentclass`` (or LaTeX 2.09's ``\documentstyle``), preferring one with
``\begin{document}``, not of class ``standalone``, named main/ms/paper/article/manuscript, nearer the top
folder, then bigger. ``\input{x}``, ``\include{x}``, ``\subfile{x}``, ``\import{dir}{x}`` and ``\input x`` are
inlined (``x`` or ``x.tex``, nested, cycle-safe, never outside the folder), and every line keeps its origin
``(file, line)``.

Cleaning: comments are stripped (``%`` but not ``\%``; ``\verb`` and verbatim environments are kept as they
are); ``\begin{comment}...\end{comment}`` and ``\iffalse...\fi`` are dropped.

Macros (``parse_macros``/``expand_macros``): ``\newcommand``, ``\renewcommand``, ``\providecommand``,
``\DeclareRobustCommand`` (with ``{\foo}`` or ``\foo``, ``[n]`` arguments and an optional ``[default]`` for the
first), ``\def\foo{...}`` and ``\def\foo#1#2{...}`` (undelimited arguments only), ``\DeclareMathOperator``
(as ``\operatorname``) and ``\let\foo\bar``. They are expanded in the extracted problem and solution texts
(at most ``MAX_EXPANSION_ROUNDS`` rounds, so a recursive definition stops with a warning); macros that stand
for environments (``\newcommand{\be}{\begin{equation}}``) are expanded in the whole document first, so
exercises written with them are found. Redefinitions of structural commands (``\section``, ``\label``, ...) and
definitions that program TeX (``\if``, ``\csname``, ``\expandafter``, ``@``) are not expanded.

Extraction (``extract_tex_text``, ``extract_tex_folder``, ``extract_tex_archive``) finds problems as:

- environments ``exercise``, ``problem``, ``question``, ``ex``, ``exer``, ``exo``, ``prob``, ``homework``
  (``*`` forms unnumbered) and any ``\newtheorem``/``\declaretheorem`` environment titled Exercise, Problem,
  Question or Homework, numbered as LaTeX would (``[section]`` numbering, shared counters, ``\numberwithin``,
  appendix letters), and a ``\newenvironment`` that wraps one of these; an optional ``[title]`` becomes the
  title;
- headings ``\section*{Problem 3}``, ``\subsection{Exercise 2.1: Dirac traces}``, ``\paragraph{Problem 1.}``,
  and ``\textbf{Problem 4.}`` / ``{\bf Exercise 2}`` at the start of a line (italic ones, and bold ones
  without a number such as ``\textbf{Solution.}``, only when they end with ``.`` or ``:``); the problem runs
  to the next heading of the same or a higher level, the next problem or solution, or the end of an enclosing
  environment (so prose after a heading-style problem, before the next heading, is part of it);
- the ``\item``\s of an ``enumerate`` right under a heading ``Exercises``/``Problems``/``Questions`` (numbered
  1, 2, ... within that heading), of a plural environment (``exercises``, ``problems``) and of the exam class's
  ``questions`` (``\question``).

Solutions are ``solution``/``answer``/``sol``/``soln``/``ans`` environments (also when nested inside the
problem) and ``Solution``/``Answer`` headings. An unnumbered solution belongs to the problem before it. A
numbered one (``Solution 3``, ``Solution to Problem 3``, ``Solution to Exercise \ref{ex:dirac}``,
``\begin{solution}[Exercise 3]``), and any problem-like heading or ``\item`` under a heading ``Solutions``
(``Solutions to the exercises``, ``Answers``, e.g. in an appendix), belongs to the first problem with that
label or number (same kind preferred) that has no solution yet; unnumbered solutions under such a heading take
the first problems without one, in order.

Texts keep their LaTeX (equations included): ``\label`` and layout commands (``\noindent``, ``\medskip``,
``\vspace{..}``, ``\newpage``, ...) are dropped; ``\cite`` is kept as it is (its key often names the source,
e.g. ``\cite{Peskin:1995ev}``); ``\ref`` to another problem becomes its number; a ``\ref``/``\eqref`` to a label
outside the problem is kept and warned about, as are figures. Parts are kept together in one problem and each
is marked at the start of its own line: ``enumerate`` items become ``(a)``, ``(b)``, ... (``(i)``, ``(ii)``
or ``(1)``, ``(2)`` when the list's option asks for roman or arabic labels; ``\item[x]`` keeps ``x``), the exam
class's ``\part``\s likewise, and inline markers ``(a) ... (b) ...`` (or ``(i) ... (ii)``, outside math, in
order from ``(a)``/``(i)``) are moved to the start of a line.
"""

from __future__ import annotations

import bisect
import gzip
import io
import json
import os
import re
import shutil
import tarfile
import tempfile
import textwrap
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

from curation.records.seed import Seed, SeedSource

__all__ = [
    "MAX_EXPANSION_ROUNDS",
    "Macro",
    "TexExtraction",
    "TexLines",
    "TexProblem",
    "TexSourceError",
    "UnsafeArchiveError",
    "expand_macros",
    "extract_tex_archive",
    "extract_tex_folder",
    "extract_tex_text",
    "find_main_tex",
    "flatten_tex",
    "parse_macros",
    "safe_extract",
    "sniff_source",
    "strip_comments",
]

MAX_TOTAL_BYTES = 200 * 1024 * 1024
MAX_FILES = 2000
MAX_INPUT_DEPTH = 20
MAX_EXPANSION_ROUNDS = 10
MAIN_NAMES = ("main", "ms", "paper", "article", "manuscript")


# --------------------------------------------------------------------------------------------- archives


class UnsafeArchiveError(ValueError):
    """An archive refused as a whole: a member that could write outside the folder, or too much data."""

    def __init__(self, member: str | None, message: str):
        self.member = member
        self.message = message
        super().__init__(f"member {member!r}: {message}" if member is not None else message)


class TexSourceError(ValueError):
    """A source that holds no usable LaTeX (no main file, not a tar/gzip/TeX file)."""


def _is_tar_header(head: bytes) -> bool:
    return len(head) >= 262 and head[257:262] == b"ustar"


def _decompressed_head(data: bytes, size: int = 1024) -> bytes:
    try:
        return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data, size)
    except zlib.error:
        return b""


def sniff_source(data: bytes | str | os.PathLike) -> str:
    """What an arXiv e-print holds: ``"tar"`` (gzipped or not), ``"tex"`` (one file, gzipped or not),
    ``"pdf"``, ``"ps"`` (PostScript, as some 1990s papers were sent), or ``"unknown"``; from the first bytes."""
    if not isinstance(data, bytes | bytearray):
        with open(data, "rb") as f:
            data = f.read(64 * 1024)
    head = bytes(data[:1024])
    if head[:2] == b"\x1f\x8b":
        head = _decompressed_head(bytes(data))
    if head.startswith(b"%PDF"):
        return "pdf"
    if head.startswith(b"%!PS"):
        return "ps"
    if _is_tar_header(head):
        return "tar"
    text = head.lstrip(b"\xef\xbb\xbf")
    if text and b"\0" not in text[:512]:
        stripped = text.lstrip()
        if stripped[:1] in (b"\\", b"%") or b"\\documentclass" in text or b"\\begin" in text:
            return "tex"
    return "unknown"


def _member_path(name: str) -> PurePosixPath:
    """The member's path relative to the folder; raises UnsafeArchiveError when it is absolute or uses ``..``."""
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        raise UnsafeArchiveError(name, "absolute path; an archive may only write inside its folder")
    parts = [p for p in re.split(r"[/\\]", name) if p not in ("", ".")]
    if ".." in parts:
        raise UnsafeArchiveError(name, "path with '..' would write outside the folder")
    return PurePosixPath(*parts) if parts else PurePosixPath(".")


def _open_tar(archive: bytes | str | os.PathLike) -> tarfile.TarFile:
    try:
        if isinstance(archive, bytes | bytearray):
            return tarfile.open(fileobj=io.BytesIO(archive), mode="r:*")
        return tarfile.open(archive, mode="r:*")
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise TexSourceError(f"not a readable tar archive ({exc})") from None


def safe_extract(
    archive: bytes | str | os.PathLike,
    dest: str | os.PathLike,
    *,
    max_total: int = MAX_TOTAL_BYTES,
    max_files: int = MAX_FILES,
) -> list[Path]:
    """Unpack a (gzipped) tar archive into ``dest`` after checking every member; returns the files written.

    Raises UnsafeArchiveError (naming the member) before writing anything when a member is unsafe or the
    limits are exceeded, TexSourceError when the archive cannot be read.
    """
    dest = Path(dest)
    files: list[tuple[tarfile.TarInfo, PurePosixPath]] = []
    links: list[tuple[tarfile.TarInfo, PurePosixPath, PurePosixPath]] = []
    dirs: list[PurePosixPath] = []
    total = 0
    with _open_tar(archive) as tar:
        try:
            members = []
            for count, member in enumerate(tar, start=1):
                if count > max_files:
                    raise UnsafeArchiveError(None, f"more than {max_files} members (the limit)")
                members.append(member)
        except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
            raise TexSourceError(f"not a readable tar archive ({exc})") from None
        for member in members:
            path = _member_path(member.name)
            if member.isdir():
                dirs.append(path)
            elif member.isreg():
                total += member.size
                if total > max_total:
                    raise UnsafeArchiveError(
                        member.name, f"the archive unpacks to more than {max_total} bytes (the limit)"
                    )
                files.append((member, path))
            elif member.issym() or member.islnk():
                target = member.linkname
                if target.startswith("/") or re.match(r"^[A-Za-z]:", target):
                    raise UnsafeArchiveError(member.name, f"link to the absolute path {target!r}")
                base = path.parent if member.issym() else PurePosixPath(".")
                parts: list[str] = []
                for part in (*base.parts, *re.split(r"[/\\]", target)):
                    if part in ("", "."):
                        continue
                    if part == "..":
                        if not parts:
                            raise UnsafeArchiveError(member.name, f"link to {target!r}, outside the folder")
                        parts.pop()
                    else:
                        parts.append(part)
                links.append((member, path, PurePosixPath(*parts)))
            else:
                kind = "device file" if member.ischr() or member.isblk() else "FIFO or special file"
                raise UnsafeArchiveError(member.name, f"{kind}; only files, folders and links are allowed")
        dest.mkdir(parents=True, exist_ok=True)
        for path in dirs:
            (dest / path).mkdir(parents=True, exist_ok=True)
        written: dict[PurePosixPath, Path] = {}
        for member, path in files:
            out = dest / path
            out.parent.mkdir(parents=True, exist_ok=True)
            if out.is_dir():
                raise UnsafeArchiveError(member.name, "a file with the name of a folder")
            source = tar.extractfile(member)
            if source is None:  # pragma: no cover - isreg() members always have data
                continue
            with source, open(out, "wb") as sink:
                shutil.copyfileobj(source, sink, 1 << 16)
            written[path] = out
    for member, path, target in links:
        if target not in written:
            raise UnsafeArchiveError(
                member.name, f"link to {member.linkname!r}, which is not a file in the archive"
            )
        out = dest / path
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(written[target], out)
        written[path] = out
    return list(written.values())


# --------------------------------------------------------------------------------------------- reading


def read_tex(path: str | os.PathLike) -> str:
    """A TeX file's text: UTF-8 (BOM dropped), else Latin-1; line ends normalized to ``\\n``."""
    data = Path(path).read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return text.replace("\r\n", "\n").replace("\r", "\n")


_VERBATIM_ENVS = ("verbatim", "verbatim*", "Verbatim", "lstlisting", "minted", "alltt")
_VERB = re.compile(r"\\verb\*?([^A-Za-z\s*])")


def _strip_line(line: str) -> str:
    """One line without its comment: ``%`` ends the line unless escaped (``\\%``) or inside ``\\verb``."""
    i, n = 0, len(line)
    while i < n:
        c = line[i]
        if c == "\\":
            m = _VERB.match(line, i)
            if m:
                close = line.find(m.group(1), m.end())
                i = n if close < 0 else close + 1
                continue
            i += 2
            continue
        if c == "%":
            return line[:i].rstrip()
        i += 1
    return line


_IF = re.compile(r"\\if[A-Za-z]*(?![A-Za-z])|\\fi(?![A-Za-z])")


def strip_comments(lines: list[str]) -> list[str]:
    """The same number of lines with comments removed and ``comment``/``\\iffalse`` blocks blanked."""
    out: list[str] = []
    verbatim: str | None = None
    comment_env = False
    iffalse_depth = 0
    for line in lines:
        if verbatim is not None:
            out.append(line)
            if f"\\end{{{verbatim}}}" in line:
                verbatim = None
            continue
        if comment_env:
            out.append("")
            if re.search(r"\\end\s*\{comment\}", line):
                comment_env = False
            continue
        if iffalse_depth:
            for m in _IF.finditer(_strip_line(line)):
                iffalse_depth += -1 if m.group() == "\\fi" else 1
                if iffalse_depth == 0:
                    break
            out.append("")
            continue
        stripped = _strip_line(line)
        if re.match(r"\s*\\begin\s*\{comment\}", stripped):
            comment_env = not re.search(r"\\end\s*\{comment\}", stripped)
            out.append("")
            continue
        m = re.match(r"\s*\\iffalse(?![A-Za-z])", stripped)
        if m:
            iffalse_depth = 1
            for token in _IF.finditer(stripped, m.end()):
                iffalse_depth += -1 if token.group() == "\\fi" else 1
                if iffalse_depth == 0:
                    break
            out.append("")
            continue
        env = next((e for e in _VERBATIM_ENVS if f"\\begin{{{e}}}" in stripped), None)
        if env is not None and f"\\end{{{env}}}" not in line.split(f"\\begin{{{env}}}", 1)[1]:
            verbatim = env
            out.append(line)
            continue
        out.append(stripped)
    return out


# --------------------------------------------------------------------------------------------- main file


@dataclass
class TexLines:
    """A document's lines (comments stripped, inputs inlined) and, for each, its ``(file, line)`` origin."""

    lines: list[str] = field(default_factory=list)
    origins: list[tuple[str, int]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


_DOCCLASS = re.compile(r"\\document(?:class|style)\s*(?:\[[^\]]*\])?\s*\{\s*([^}\s]*)\s*\}")


def _readme_toplevel(folder: Path) -> Path | None:
    readme = folder / "00README.json"
    if not readme.is_file():
        return None
    try:
        sources = json.loads(readme.read_text("utf-8")).get("sources", [])
        for source in sources:
            if source.get("usage") == "toplevel":
                candidate = folder / source["filename"]
                if candidate.is_file() and candidate.resolve().is_relative_to(folder.resolve()):
                    return candidate
    except (ValueError, AttributeError, KeyError, TypeError, OSError):
        return None
    return None


def find_main_tex(folder: str | os.PathLike) -> Path:
    """The main ``.tex`` file of an unpacked source (see the module docstring for how it is chosen)."""
    folder = Path(folder)
    toplevel = _readme_toplevel(folder)
    if toplevel is not None:
        return toplevel
    best: tuple[Any, ...] | None = None
    main: Path | None = None
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.suffix.lower() not in (".tex", ".ltx", ".latex"):
            continue
        try:
            if path.stat().st_size > 50 * 1024 * 1024:
                continue
            text = "\n".join(strip_comments(read_tex(path).split("\n")))
        except OSError:
            continue
        m = _DOCCLASS.search(text)
        if m is None:
            continue
        score = (
            "\\begin{document}" in text,
            m.group(1) != "standalone",
            path.suffix.lower() == ".tex",
            path.stem.lower() in MAIN_NAMES,
            -len(path.relative_to(folder).parts),
            path.stat().st_size,
        )
        if best is None or score > best:
            best, main = score, path
    if main is None:
        names = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
        shown = ", ".join(names[:10]) + (", ..." if len(names) > 10 else "")
        raise TexSourceError(
            f"no .tex file with \\documentclass among {len(names)} files ({shown or 'none'})"
        )
    return main


_INPUT = re.compile(
    r"\\(?:(?P<cmd>input|include|subfile)\s*\{(?P<name>[^{}]*)\}"
    r"|(?P<imp>import|subimport|inputfrom|includefrom)\*?\s*\{(?P<dir>[^{}]*)\}\s*\{(?P<iname>[^{}]*)\}"
    r"|input\s+(?P<bare>[^\s{}\\%]+))"
)


def _resolve_input(name: str, including: Path, root: Path) -> Path | None:
    name = name.strip().strip('"')
    if not name:
        return None
    candidates = (name,) if name.lower().endswith(".tex") else (name + ".tex", name)
    for base in (root, including.parent):
        for candidate in candidates:
            path = (base / candidate).resolve()
            if path.is_relative_to(root) and path.is_file():
                return path
    return None


def _document_body(lines: list[str]) -> list[str]:
    r"""For an included file that is a document itself (``subfiles``): only the lines between its
    ``\begin{document}`` and ``\end{document}``, the others blanked (so line numbers stay)."""
    begin = next((k for k, line in enumerate(lines) if re.search(r"\\begin\s*\{document\}", line)), None)
    if begin is None:
        return lines
    end = next(
        (k for k in range(begin, len(lines)) if re.search(r"\\end\s*\{document\}", lines[k])), len(lines)
    )
    return [line if begin < k < end else "" for k, line in enumerate(lines)]


def flatten_tex(main: str | os.PathLike, root: str | os.PathLike | None = None) -> TexLines:
    r"""The main file with comments stripped and ``\input``/``\include``\s inlined, each line with its origin.

    A missing input, one outside ``root`` (the main file's folder by default), a cycle, or nesting deeper
    than ``MAX_INPUT_DEPTH`` is skipped with a warning.
    """
    main = Path(main).resolve()
    root = Path(root).resolve() if root is not None else main.parent
    out = TexLines()

    def rel(path: Path) -> str:
        return path.relative_to(root).as_posix() if path.is_relative_to(root) else path.name

    def add(path: Path, stack: tuple[Path, ...]) -> None:
        name = rel(path)
        if name not in out.files:
            out.files.append(name)
        lines = strip_comments(read_tex(path).split("\n"))
        if stack:
            lines = _document_body(lines)
        for number, line in enumerate(lines, start=1):
            pos = 0
            for m in _INPUT.finditer(line):
                target = m.group("name") or m.group("bare")
                if m.group("imp"):
                    target = m.group("dir").rstrip("/") + "/" + m.group("iname")
                resolved = _resolve_input(target or "", path, root)
                where = f"{name}, line {number}"
                if resolved is None:
                    out.warnings.append(f"{where}: {m.group(0)} names no file inside the source; skipped")
                    continue
                if resolved in stack or resolved == path:
                    out.warnings.append(f"{where}: {m.group(0)} would include itself (a cycle); skipped")
                    continue
                if len(stack) >= MAX_INPUT_DEPTH:
                    out.warnings.append(f"{where}: inputs nested deeper than {MAX_INPUT_DEPTH}; skipped")
                    continue
                before = line[pos : m.start()]
                if before.strip():
                    out.lines.append(before)
                    out.origins.append((name, number))
                add(resolved, (*stack, path))
                pos = m.end()
            rest = line[pos:]
            if pos == 0 or rest.strip():
                out.lines.append(rest)
                out.origins.append((name, number))

    add(main, ())
    return out


# --------------------------------------------------------------------------------------------- macros


@dataclass(frozen=True)
class Macro:
    r"""A user macro: ``\name`` with ``nargs`` arguments (the first optional when ``default`` is set)."""

    name: str
    nargs: int
    body: str
    default: str | None = None


def _match_group(text: str, i: int, open_: str = "{", close: str = "}") -> int:
    """Given ``text[i] == open_``, the index just after the matching ``close`` (braces balanced inside, and
    escaped characters skipped); -1 if there is none."""
    depth = 0
    j, n = i + 1, len(text)
    while j < n:
        c = text[j]
        if c == "\\":
            j += 2
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            if depth == 0:
                return j + 1 if close == "}" else -1
            depth -= 1
        elif c == close and depth == 0:
            return j + 1
        j += 1
    return -1


def _skip_space(text: str, i: int, newlines: bool = True) -> int:
    n = len(text)
    seen_newline = False
    while i < n and text[i] in " \t\n":
        if text[i] == "\n":
            if not newlines or seen_newline:
                break
            seen_newline = True
        i += 1
    return i


_DEFINER = re.compile(
    r"\\(?P<cmd>(?:re)?newcommand|providecommand|DeclareRobustCommand)\*?"
    r"|\\(?P<def>[gex]?def)(?![A-Za-z])"
    r"|\\(?P<op>DeclareMathOperator)(?P<opstar>\*?)"
    r"|\\(?P<let>let)(?![A-Za-z])"
)
_CSNAME = re.compile(r"\\([A-Za-z]+)")
_XSPACE = re.compile(r"\\xspace(?![A-Za-z])")
# Commands whose (re)definition we never expand: expanding them would hide the document's structure.
_STRUCTURAL = frozenset(
    "begin end item section subsection subsubsection paragraph subparagraph chapter part label ref eqref "
    "cite input include appendix caption footnote maketitle title author date thanks newcommand "
    "renewcommand def let usepackage documentclass newtheorem newenvironment question".split()
)
_TEX_PROGRAMMING = re.compile(
    r"@|\\(?:if[A-Za-z]*|csname|expandafter|makeatletter|def|newcommand|let)(?![A-Za-z])"
)


def parse_macros(text: str) -> dict[str, Macro]:
    r"""The user macros defined in ``text`` (comments already stripped); a later definition wins.

    >>> parse_macros(r"\newcommand{\p}[2][\mu]{p_{#1}^{#2}}")["p"]
    Macro(name='p', nargs=2, body='p_{#1}^{#2}', default='\\mu')
    """
    macros: dict[str, Macro] = {}
    for m in _DEFINER.finditer(text):
        i = _skip_space(text, m.end())
        macro: Macro | None = None
        if m.group("cmd") or m.group("op"):
            if text.startswith("{", i):
                end = _match_group(text, i)
                name_m = _CSNAME.fullmatch(text[i + 1 : end - 1].strip()) if end > 0 else None
                i = end
            else:
                name_m = _CSNAME.match(text, i)
                i = name_m.end() if name_m else -1
            if name_m is None or i < 0:
                continue
            name = name_m.group(1)
            nargs, default = 0, None
            i = _skip_space(text, i)
            if m.group("cmd") and text.startswith("[", i):
                end = _match_group(text, i, "[", "]")
                if end < 0 or not text[i + 1 : end - 1].strip().isdigit():
                    continue
                nargs = int(text[i + 1 : end - 1])
                i = _skip_space(text, end)
                if text.startswith("[", i):
                    end = _match_group(text, i, "[", "]")
                    if end < 0:
                        continue
                    default = text[i + 1 : end - 1]
                    i = _skip_space(text, end)
            if not text.startswith("{", i):
                continue
            end = _match_group(text, i)
            if end < 0:
                continue
            body = _XSPACE.sub("", text[i + 1 : end - 1])
            if m.group("op"):
                body = f"\\operatorname{m.group('opstar')}{{{body}}}"
            macro = Macro(name, nargs, body, default)
        elif m.group("def"):
            name_m = _CSNAME.match(text, i)
            if name_m is None:
                continue
            j = name_m.end()
            brace = text.find("{", j)
            if brace < 0:
                continue
            params = text[j:brace].strip()
            if params and not re.fullmatch(r"(?:#[1-9])+", params):
                continue  # delimited parameters: not supported
            end = _match_group(text, brace)
            if end < 0:
                continue
            macro = Macro(name_m.group(1), len(params) // 2, _XSPACE.sub("", text[brace + 1 : end - 1]))
        else:  # \let\foo\bar or \let\foo=\bar
            lm = re.match(r"\\([A-Za-z]+)\s*=?\s*(\\[A-Za-z]+)(?![A-Za-z])", text[i:])
            if lm is None:
                continue
            macro = Macro(lm.group(1), 0, lm.group(2))
        if macro.name in _STRUCTURAL or _TEX_PROGRAMMING.search(macro.body) or macro.nargs > 9:
            macros.pop(macro.name, None)
            continue
        macros[macro.name] = macro
    return macros


def _read_argument(text: str, i: int) -> tuple[str, int] | None:
    """One undelimited TeX argument at ``i`` (spaces skipped): a ``{group}``, a control sequence or a char."""
    i = _skip_space(text, i)
    if i >= len(text):
        return None
    if text[i] == "{":
        end = _match_group(text, i)
        return (text[i + 1 : end - 1], end) if end > 0 else None
    if text[i] == "}":
        return None
    if text[i] == "\\":
        m = _CSNAME.match(text, i)
        end = m.end() if m else i + 2
        return text[i:end], end
    return text[i], i + 1


def _substitute(body: str, args: list[str]) -> str:
    def arg(m: re.Match) -> str:
        if m.group(0) == "##":
            return "#"
        k = int(m.group(0)[1])
        return args[k - 1] if k <= len(args) else m.group(0)

    return re.sub(r"##|#[1-9]", arg, body)


def _expand_once(text: str, macros: dict[str, Macro]) -> tuple[str, set[str], list[str]]:
    """One pass over ``text``: every user macro call replaced by its body; the names used and warnings."""
    out: list[str] = []
    used: set[str] = set()
    warnings: list[str] = []
    i, n = 0, len(text)
    while i < n:
        j = text.find("\\", i)
        if j < 0:
            out.append(text[i:])
            break
        out.append(text[i:j])
        m = _CSNAME.match(text, j)
        if m is None:  # a control symbol (\\, \%, \{ ...): copy both characters
            out.append(text[j : j + 2])
            i = j + 2
            continue
        macro = macros.get(m.group(1))
        if macro is None:
            out.append(m.group(0))
            i = m.end()
            continue
        k = m.end()
        args: list[str] = []
        for index in range(macro.nargs):
            if index == 0 and macro.default is not None:
                t = _skip_space(text, k)
                if text.startswith("[", t):
                    end = _match_group(text, t, "[", "]")
                    if end > 0:
                        args.append(text[t + 1 : end - 1])
                        k = end
                        continue
                args.append(macro.default)
                continue
            got = _read_argument(text, k)
            if got is None:
                break
            args.append(got[0])
            k = got[1]
        if len(args) < macro.nargs:
            warnings.append(
                f"\\{macro.name} takes {macro.nargs} argument(s) but has fewer here; left as it is"
            )
            out.append(m.group(0))
            i = m.end()
            continue
        expansion = _substitute(macro.body, args).replace("\n", " ")
        previous = next((chunk[-1] for chunk in reversed(out) if chunk), "")
        if previous in ("^", "_") and not (
            expansion.startswith("{") and _match_group(expansion, 0) == len(expansion)
        ):
            expansion = "{" + expansion + "}"
        if re.search(r"\\[A-Za-z]+$", expansion) and k < n and text[k].isalpha():
            expansion += " "
        out.append(expansion)
        used.add(macro.name)
        i = k
    return "".join(out), used, warnings


def expand_macros(
    text: str, macros: dict[str, Macro], *, max_rounds: int = MAX_EXPANSION_ROUNDS
) -> tuple[str, list[str]]:
    r"""``text`` with user macros expanded (nested ones too, at most ``max_rounds`` rounds) and warnings.

    >>> expand_macros(r"$\p{2}$ and $\p[\nu]{2}$", parse_macros(r"\newcommand{\p}[2][\mu]{p_{#1}^{#2}}"))[0]
    '$p_{\\mu}^{2}$ and $p_{\\nu}^{2}$'
    """
    warnings: list[str] = []
    if not macros:
        return text, warnings
    limit = 20 * len(text) + 100_000
    for _ in range(max_rounds):
        text, used, problems = _expand_once(text, macros)
        warnings.extend(w for w in problems if w not in warnings)
        if not used:
            return text, warnings
        if len(text) > limit:
            warnings.append(f"macro expansion grew the text past {limit} characters; stopped")
            return text, warnings
    left = sorted({name for name in _CSNAME.findall(text) if name in macros})
    if left:
        names = ", ".join("\\" + name for name in left)
        warnings.append(
            f"{names} still present after {max_rounds} expansion rounds (a recursive or very deeply nested definition?)"
        )
    return text, warnings


# --------------------------------------------------------------------------------------------- headings

_PROBLEM_KINDS = {"problem": "Problem", "exercise": "Exercise", "question": "Question", "homework": "Problem"}
_SOLUTION_KINDS = {"solution": "Solution", "answer": "Answer"}
_NUM = r"(?P<num>\\ref\*?\s*\{[^{}]*\}|[A-Z]?\d+(?:[.\-]\d+)*[a-z]?|[IVX]+\b)"
_SINGLE_PROBLEM = re.compile(
    rf"^(?P<kind>problem|exercise|question|homework)\s*{_NUM}?\s*(?P<rest>.*)$", re.I
)
_SINGLE_SOLUTION = re.compile(
    r"^(?P<kind>solution|answer)(?![a-z])\s*(?:(?:to|of|for)\s+(?:the\s+)?"
    rf"(?:(?P<pkind>problem|exercise|question)\s*)?)?{_NUM}?\s*(?P<rest>.*)$",
    re.I,
)
_PROBLEMS_CONTAINER = re.compile(
    r"^(?:(?:further|additional|more|selected|suggested|some|practice)\s+)?"
    r"(?:exercises|problems|questions|homework(?:\s+problems)?|problem\s+sets?)"
    r"(?:\s+(?:and|&|with)\s+(?:solutions|answers|hints))?"
    r"(?:\s+(?:for|to)\s+(?:the\s+)?(?:chapter|section|lecture|part|week|appendix)\b.*)?$",
    re.I,
)
_SOLUTIONS_CONTAINER = re.compile(
    r"^(?:hints\s+and\s+)?(?:solutions|answers)(?:\s+(?:and|&)\s+hints)?"
    r"(?:\s+(?:to|of|for)\s+(?:the\s+|all\s+|selected\s+|some\s+)?"
    r"(?:exercises|problems|questions|homework|chapter|section|lecture|part)\b.*)?$",
    re.I,
)


@dataclass(frozen=True)
class Heading:
    """A parsed problem/solution heading: ``role`` "problem"/"solution"/"problems"/"solutions" (containers)."""

    role: str
    kind: str | None = None
    number: str | None = None
    ref: str | None = None
    title: str | None = None


def _unwrap(text: str) -> str:
    """Heading text without formatting: ``\\textbf{x}`` -> x, ``~`` -> space, no ``\\label``."""
    text = re.sub(r"\\label\s*\{[^{}]*\}", "", text)
    for _ in range(3):
        text = re.sub(
            r"\\(?:textbf|textit|emph|textsc|underline|textrm|textsf|mbox)\s*\{([^{}]*)\}", r"\1", text
        )
        text = re.sub(r"\{\\(?:bf|it|sc|bfseries|itshape|em|rm)\s+([^{}]*)\}", r"\1", text)
    text = re.sub(r"\\(?:bf|it|sc|bfseries|itshape|em|rm)(?![A-Za-z])\s*", "", text)
    text = text.replace("~", " ").replace("\\ ", " ").replace("\\,", " ")
    return re.sub(r"\s+", " ", text).strip()


def _title(rest: str) -> tuple[bool, str | None]:
    """Whether the text after a heading's number is acceptable, and the title it gives."""
    rest = rest.strip()
    if not rest or re.fullmatch(r"[.:)\-–—]*", rest):
        return True, None
    m = re.fullmatch(r"\((?P<t>.*)\)\s*[.:]?", rest)
    if m:
        return True, m.group("t").strip() or None
    m = re.fullmatch(r"(?:[.:]|--+|-|–|—)\s*(?P<t>.*?)\s*[.:]?", rest)
    if m:
        return True, m.group("t").strip() or None
    return False, None


def parse_heading(text: str) -> Heading | None:
    r"""The problem/solution meaning of a heading text, or None.

    >>> parse_heading(r"Exercise 2.1: Dirac traces")
    Heading(role='problem', kind='Exercise', number='2.1', ref=None, title='Dirac traces')
    >>> parse_heading(r"Solution to Problem~\ref{pr:prop}").ref
    'pr:prop'
    """
    text = _unwrap(text)
    if _PROBLEMS_CONTAINER.match(text.rstrip(".: ")):
        lower = text.lower()
        kind = (
            "Question"
            if "question" in lower
            else "Problem"
            if "problem" in lower or "homework" in lower
            else None
        )
        return Heading("problems", kind or "Exercise")
    if _SOLUTIONS_CONTAINER.match(text.rstrip(".: ")):
        return Heading("solutions")
    m = _SINGLE_SOLUTION.match(text)
    role = "solution"
    kinds = _SOLUTION_KINDS
    if m is None:
        m = _SINGLE_PROBLEM.match(text)
        role, kinds = "problem", _PROBLEM_KINDS
    if m is None:
        return None
    ok, title = _title(m.group("rest"))
    if not ok:
        return None
    kind = kinds[m.group("kind").lower()]
    if role == "solution":
        pkind = m.group("pkind")
        kind = _PROBLEM_KINDS[pkind.lower()] if pkind else None
    number = m.group("num")
    ref = None
    if number and number.startswith("\\ref"):
        ref = re.search(r"\{([^{}]*)\}", number).group(1).strip()  # type: ignore[union-attr]
        number = None
    return Heading(role, kind, number, ref, title)


# --------------------------------------------------------------------------------------------- problems


@dataclass(frozen=True)
class TexProblem:
    """One problem (and its solution, possibly empty) found in a LaTeX source, with where it came from.

    ``lines`` are the ``(first, last)`` lines of ``file`` that the problem spans (its heading or
    ``\\begin`` included); ``solution_file``/``solution_lines`` likewise for the solution.
    """

    kind: str
    number: str | None
    title: str | None
    problem: str
    solution: str
    file: str
    lines: tuple[int, int]
    solution_file: str | None = None
    solution_lines: tuple[int, int] | None = None
    parts: tuple[str, ...] = ()
    label: str | None = None
    warnings: tuple[str, ...] = ()

    @property
    def heading(self) -> str:
        """E.g. ``Exercise 2.1 (Dirac traces)``."""
        text = self.kind + (f" {self.number}" if self.number else "")
        return text + (f" ({self.title})" if self.title else "")

    def to_seed(self, source: SeedSource) -> Seed:
        """A Seed with ``source`` completed by this problem's file, lines and solution location."""
        extra = dict(source.extra)
        if self.solution_file is not None and self.solution_lines is not None:
            extra["solution_file"] = self.solution_file
            extra["solution_lines"] = list(self.solution_lines)
        src = replace(source, file=self.file, lines=self.lines, extra=extra)
        seed_extra: dict[str, Any] = {"heading": self.heading, "format": "latex"}
        if self.number is not None:
            seed_extra["number"] = self.number
        if self.parts:
            seed_extra["parts"] = list(self.parts)
        warnings = list(self.warnings)
        if not self.solution.strip():
            warnings.append("no solution found in the source")
        return Seed.create(
            self.problem, src, solution=self.solution, warnings=tuple(warnings), extra=seed_extra
        )


@dataclass
class TexExtraction:
    """What a LaTeX source gave: its main file, the problems, and document-level warnings."""

    main: str
    problems: list[TexProblem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)


_PROBLEM_ENVS = {
    "exercise": "Exercise",
    "exercice": "Exercise",
    "ex": "Exercise",
    "exer": "Exercise",
    "exo": "Exercise",
    "problem": "Problem",
    "prob": "Problem",
    "homework": "Problem",
    "hw": "Problem",
    "question": "Question",
}
_SOLUTION_ENVS = ("solution", "answer", "sol", "soln", "ans")
_CONTAINER_ENVS = {"exercises": "Exercise", "problems": "Problem", "questions": "Question"}
_THEOREM_TITLES = {
    "exercise": "Exercise",
    "exercises": "Exercise",
    "problem": "Problem",
    "problems": "Problem",
    "question": "Question",
    "homework": "Problem",
    "exercice": "Exercise",
    "aufgabe": "Exercise",
}
_SECTION_LEVELS = {
    "part": -1,
    "chapter": 0,
    "section": 1,
    "subsection": 2,
    "subsubsection": 3,
    "paragraph": 4,
    "subparagraph": 5,
}
BOLD_LEVEL = 6
_BOOK_CLASSES = ("book", "report", "memoir", "scrbook", "scrreprt", "amsbook")


@dataclass
class _Theorem:
    kind: str | None  # "Exercise"/"Problem"/"Question"; "Solution"; None for other theorem-likes
    counter: str | None  # None: unnumbered
    role: str  # "problem" | "solution" | "other"


@dataclass
class _Definitions:
    macros: dict[str, Macro] = field(default_factory=dict)
    theorems: dict[str, _Theorem] = field(default_factory=dict)
    within: dict[str, str] = field(default_factory=dict)  # counter -> sectioning unit
    books: bool = False


def _parse_definitions(text: str, defs: _Definitions) -> None:
    """Theorem-like environments, counters and macros defined in ``text`` (added to ``defs``)."""
    defs.macros.update(parse_macros(text))
    thm = re.compile(
        r"\\newtheorem(?P<star>\*?)\s*\{(?P<env>[^{}]+)\}\s*(?:\[(?P<shared>[^\]]+)\]\s*)?"
        r"\{(?P<title>[^{}]*)\}(?:\s*\[(?P<within>[^\]]+)\])?"
    )
    for m in thm.finditer(text):
        env, title = m.group("env").strip(), _unwrap(m.group("title")).strip().lower()
        counter = None if m.group("star") else (m.group("shared") or env).strip()
        kind = _THEOREM_TITLES.get(title)
        role = "problem" if kind else "solution" if title in ("solution", "answer") else "other"
        defs.theorems[env] = _Theorem(
            kind or (title.capitalize() if role == "solution" else None), counter, role
        )
        if m.group("within") and counter:
            defs.within[counter] = m.group("within").strip()
    declare = re.compile(r"\\declaretheorem\s*(?:\[(?P<opts>[^\]]*)\])?\s*\{(?P<env>[^{}]+)\}")
    for m in declare.finditer(text):
        env, opts = m.group("env").strip(), m.group("opts") or ""
        name_m = re.search(r"name\s*=\s*\{?([^,}\]]+)", opts)
        title = (name_m.group(1) if name_m else env).strip().lower()
        kind = _THEOREM_TITLES.get(title)
        role = "problem" if kind else "solution" if title in ("solution", "answer") else "other"
        numbered = not re.search(r"numbered\s*=\s*no", opts)
        shared = re.search(r"sibling\s*=\s*(\w+)", opts)
        counter = (shared.group(1) if shared else env) if numbered else None
        defs.theorems[env] = _Theorem(
            kind or (title.capitalize() if role == "solution" else None), counter, role
        )
        within = re.search(r"(?:numberwithin|parent)\s*=\s*(\w+)", opts)
        if within and counter:
            defs.within[counter] = within.group(1)
    for m in re.finditer(r"\\numberwithin\s*\{([^{}]+)\}\s*\{([^{}]+)\}", text):
        defs.within[m.group(1).strip()] = m.group(2).strip()
    for m in re.finditer(r"\\(?:re)?newenvironment\*?\s*\{([^{}]+)\}", text):
        env = m.group(1).strip()
        i = m.end()
        for _ in range(2):  # [n] arguments and [default]
            _, i = _optional_arg(text, i)
        i = _skip_space(text, i)
        end = _match_group(text, i) if text.startswith("{", i) else -1
        inner = re.search(r"\\begin\s*\{([^{}]+)\}", text[i:end]) if end > 0 else None
        if inner and env not in defs.theorems:
            target = inner.group(1).strip()
            if target in defs.theorems:
                defs.theorems[env] = defs.theorems[target]
            elif target in _PROBLEM_ENVS:
                defs.theorems[env] = _Theorem(_PROBLEM_ENVS[target], target, "problem")
            elif target in _SOLUTION_ENVS:
                defs.theorems[env] = _Theorem("Solution", None, "solution")
    docclass = _DOCCLASS.search(text)
    if docclass and docclass.group(1) in _BOOK_CLASSES:
        defs.books = True


def _env_info(env: str, defs: _Definitions) -> _Theorem | None:
    if env in defs.theorems:
        return defs.theorems[env]
    base = env.rstrip("*")
    starred = env.endswith("*")
    if base in defs.theorems:
        found = defs.theorems[base]
        return _Theorem(found.kind, None if starred else found.counter, found.role)
    if base in _PROBLEM_ENVS:
        return _Theorem(_PROBLEM_ENVS[base], None if starred else base, "problem")
    if base in _SOLUTION_ENVS:
        return _Theorem("Solution", None, "solution")
    return None


@dataclass
class _Span:
    """A solution's place: the block (heading or ``\\begin`` to ``\\end``) and its content."""

    start: int
    content_start: int
    content_end: int
    stop: int


@dataclass
class _Block:
    role: str  # "problem" | "solution"
    kind: str | None  # problems: Exercise/Problem/Question; solutions: the kind they name, if any
    number: str | None
    start: int
    content_start: int
    content_end: int = -1
    stop: int = -1  # end of the block (after its \end{...}); -1: content_end
    ref: str | None = None
    title: str | None = None
    level: int = BOLD_LEVEL
    in_solutions: bool = False
    after_problem: int | None = None  # for solutions: the last problem that started before
    nested: list[_Span] = field(default_factory=list)  # solutions inside a problem's environment

    @property
    def span(self) -> _Span:
        return _Span(self.start, self.content_start, self.content_end, max(self.stop, self.content_end))


@dataclass
class _Container:
    role: str  # "problems" | "solutions"
    level: int
    kind: str
    items: int = 0


@dataclass
class _Counters:
    """LaTeX's section and theorem counters, enough to number theorem-like environments as LaTeX does."""

    books: bool
    within: dict[str, str]
    sections: dict[int, int] = field(default_factory=dict)
    theorems: dict[str, int] = field(default_factory=dict)
    appendix: bool = False

    def step_section(self, level: int) -> None:
        self.sections[level] = self.sections.get(level, 0) + 1
        for deeper in [k for k in self.sections if k > level]:
            self.sections[deeper] = 0
        for counter, unit in self.within.items():
            if _SECTION_LEVELS.get(unit, -2) >= level:
                self.theorems[counter] = 0

    def section_number(self, unit: str) -> str:
        top = 0 if self.books else 1
        parts = []
        for k in range(top, _SECTION_LEVELS[unit] + 1):
            value = self.sections.get(k, 0)
            if k == top and self.appendix and 0 < value <= 26:
                parts.append(chr(ord("A") + value - 1))
            else:
                parts.append(str(value))
        return ".".join(parts)

    def step_theorem(self, counter: str) -> str:
        self.theorems[counter] = self.theorems.get(counter, 0) + 1
        number = str(self.theorems[counter])
        unit = self.within.get(counter)
        return f"{self.section_number(unit)}.{number}" if unit in _SECTION_LEVELS else number


_EVENT = re.compile(
    r"\\(?P<be>begin|end)\s*\{(?P<env>[^{}]+)\}"
    r"|\\(?P<sec>part|chapter|section|subsection|subsubsection|paragraph|subparagraph)(?![A-Za-z])\s*(?P<star>\*?)"
    r"|\\(?P<appendix>appendix)(?![A-Za-z])"
    r"|\\(?P<bib>bibliography|printbibliography)(?![A-Za-z])"
    r"|(?P<bold>^[ \t]*(?:\\(?:noindent|medskip|bigskip|smallskip|par|item|vspace\*?\s*\{[^{}]*\})(?![A-Za-z])\s*)*"
    r"(?:\\(?P<wrap>textbf|textit|emph|textsc|underline)\s*\{"
    r"|\{\s*\\(?P<decl>bf|it|sc|bfseries|itshape|em)(?![A-Za-z])))",
    re.M,
)
_ITALIC = ("textit", "emph", "it", "itshape", "em")
_BEGIN_END = re.compile(r"\\(begin|end)\s*\{([^{}]+)\}")
_LABEL = re.compile(r"\\label\s*\{([^{}]*)\}")


def _env_end(text: str, env: str, start: int, stop: int | None = None) -> tuple[int, int] | None:
    """The span of the ``\\end{env}`` matching a ``\\begin{env}`` that ends at ``start``."""
    depth = 1
    pattern = re.compile(r"\\(begin|end)\s*\{" + re.escape(env) + r"\}")
    for m in pattern.finditer(text, start, len(text) if stop is None else stop):
        depth += 1 if m.group(1) == "begin" else -1
        if depth == 0:
            return m.start(), m.end()
    return None


def _optional_arg(text: str, i: int) -> tuple[str | None, int]:
    """A ``[...]`` right after ``i`` (spaces and one newline allowed), and the index after it."""
    j = _skip_space(text, i)
    if text.startswith("[", j):
        end = _match_group(text, j, "[", "]")
        if end > 0:
            return text[j + 1 : end - 1], end
    return None, i


def _cut_unbalanced_end(text: str, start: int, end: int) -> int:
    """Where a block from ``start`` must stop: before an ``\\end{X}`` that closes an environment opened
    before the block (e.g. the ``enumerate`` a bold heading sits in)."""
    stack: list[str] = []
    for m in _BEGIN_END.finditer(text, start, end):
        if m.group(1) == "begin":
            stack.append(m.group(2))
        elif m.group(2) in stack:
            while stack and stack.pop() != m.group(2):
                pass
        else:
            return m.start()
    return end


def _split_items(
    text: str, start: int, end: int, item: str = "item"
) -> list[tuple[int, int, int, str | None]]:
    """The top-level ``\\item``\\s (or ``\\question``\\s, ``\\part``\\s) between ``start`` and ``end``:
    (item start, content start, content end, label of ``\\item[label]``)."""
    pattern = re.compile(r"\\begin\s*\{[^{}]+\}|\\end\s*\{[^{}]+\}|\\" + item + r"(?![A-Za-z])")
    depth = 0
    marks: list[tuple[int, int, str | None]] = []
    for m in pattern.finditer(text, start, end):
        token = m.group(0)
        if token.startswith("\\begin"):
            depth += 1
        elif token.startswith("\\end"):
            depth -= 1
        elif depth == 0:
            label, after = _optional_arg(text, m.end())
            marks.append((m.start(), after, label))
    items = []
    for k, (item_start, content_start, label) in enumerate(marks):
        content_end = marks[k + 1][0] if k + 1 < len(marks) else end
        items.append((item_start, content_start, content_end, label))
    return items


_LAYOUT = re.compile(
    r"\\(?:noindent|medskip|bigskip|smallskip|newpage|clearpage|pagebreak|linebreak|goodbreak|filbreak"
    r"|centering|hfill|vfill)(?![A-Za-z])[ \t]*"
    r"|\\(?:vspace|vskip)\*?\s*(?:\{[^{}]*\}|[\d.]+\s*[a-z]{2})"
    r"|\\label\s*\{[^{}]*\}"
)
_REF = re.compile(r"\\(?:eq|c|C|auto|name|page)?ref\*?\s*\{([^{}]*)\}")
_MATH_SPAN = re.compile(
    r"\$\$.*?\$\$|\$(?:\\.|[^$\\])+\$|\\\(.*?\\\)|\\\[.*?\\\]"
    r"|\\begin\{(equation|align|eqnarray|gather|multline|displaymath|math|split|alignat|flalign)(\*?)\}.*?\\end\{\1\2\}",
    re.S,
)
_INLINE_MARK = re.compile(
    r"(?:\\textbf\s*\{|\\textit\s*\{|\\emph\s*\{|\{\\bf\s+|\{\\it\s+)?\((?P<l>[a-z]|[ivx]{1,4})\)\}?(?=[\s~])"
)
_LINE_MARK = re.compile(r"^(?P<indent>[ \t]*)(?:\\textbf\s*\{|\{\\bf\s+)?(?P<l>[a-h])\)\}?(?=\s)", re.M)
_ROMAN = ["i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii"]


def _label_style(option: str | None) -> str:
    if option is None:
        return "alph"
    if re.search(r"\\roman|\\Roman|\bi\b|\(i\)|i\)", option):
        return "roman"
    if re.search(r"\\arabic|\d", option):
        return "arabic"
    return "alph"


def _marker(style: str, k: int) -> str:
    if style == "roman":
        return f"({_ROMAN[k]})" if k < len(_ROMAN) else f"({k + 1})"
    if style == "arabic":
        return f"({k + 1})"
    return f"({chr(ord('a') + k)})" if k < 26 else f"({k + 1})"


def _convert_lists(text: str, parts: list[str]) -> str:
    """Top-level ``enumerate`` and exam ``parts`` lists -> lines marked ``(a)``, ``(b)``, ...; labels to ``parts``."""
    out: list[str] = []
    pos = 0
    begin = re.compile(r"\\begin\s*\{(enumerate\*?|parts|subparts)\}")
    while True:
        m = begin.search(text, pos)
        if m is None:
            break
        env = m.group(1)
        span = _env_end(text, env, m.end())
        if span is None:
            break
        option, body_start = _optional_arg(text, m.end())
        item = "part" if env == "parts" else "subpart" if env == "subparts" else "item"
        items = _split_items(text, body_start, span[0], item)
        out.append(text[pos : m.start()])
        style = _label_style(option)
        lines = []
        for k, (_, content_start, content_end, label) in enumerate(items):
            mark = f"({label.strip().strip('().')})" if label else _marker(style, k)
            parts.append(mark.strip("()"))
            lines.append(f"{mark} {text[content_start:content_end].strip()}")
        out.append("\n" + "\n".join(lines) + "\n")
        pos = span[1]
    out.append(text[pos:])
    return "".join(out)


def _mark_inline_parts(text: str, parts: list[str]) -> str:
    """Inline part markers ``(a) ... (b) ...`` (outside math, in order) each moved to the start of a line."""
    text = _LINE_MARK.sub(lambda m: f"{m.group('indent')}({m.group('l')})", text)
    math = [(m.start(), m.end()) for m in _MATH_SPAN.finditer(text)]
    starts = [s for s, _ in math]

    def in_math(i: int) -> bool:
        k = bisect.bisect_right(starts, i) - 1
        return k >= 0 and math[k][0] <= i < math[k][1]

    candidates = []
    for m in _INLINE_MARK.finditer(text):
        before = text[m.start() - 1] if m.start() > 0 else "\n"
        if before in " \t\n~.:;" and not in_math(m.start()):
            candidates.append(m)
    for sequence in ([chr(ord("a") + k) for k in range(26)], _ROMAN):
        chosen = []
        for m in candidates:
            if len(chosen) < len(sequence) and m.group("l") == sequence[len(chosen)]:
                chosen.append(m)
        if len(chosen) >= 2:
            break
    else:
        return text
    out: list[str] = []
    pos = 0
    for m in chosen:
        head = text[pos : m.start()].rstrip(" \t~")
        out.append(head)
        if head and not head.endswith("\n"):
            out.append("\n")
        out.append(f"({m.group('l')})")
        parts.append(m.group("l"))
        pos = m.end()
    out.append(text[pos:])
    return "".join(out)


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.split("\n")]
    text = textwrap.dedent("\n".join(lines))
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


class _Extractor:
    """Turns one flattened document into problems (see the module docstring for the rules)."""

    def __init__(self, doc: TexLines, defs: _Definitions):
        self.doc = doc
        self.defs = defs
        self.warnings: list[str] = list(doc.warnings)
        self.text = doc.text
        self.line_starts = [0]
        for line in doc.lines[:-1]:
            self.line_starts.append(self.line_starts[-1] + len(line) + 1)
        self.problems: list[_Block] = []
        self.solutions: list[_Block] = []

    # ---- positions
    def line_index(self, offset: int) -> int:
        return max(0, bisect.bisect_right(self.line_starts, offset) - 1)

    def where(self, offset: int) -> str:
        if not self.doc.origins:
            return "line 1"
        file, line = self.doc.origins[self.line_index(offset)]
        return f"{file}, line {line}"

    def span_origin(self, start: int, end: int) -> tuple[str, tuple[int, int]]:
        """The file of the first non-blank line in ``[start, end)`` and the first and last of its lines there."""
        first, last = self.line_index(start), self.line_index(max(start, end - 1))
        lines = [k for k in range(first, last + 1) if self.doc.lines[k].strip()] or [first]
        file = self.doc.origins[lines[0]][0]
        numbers = [self.doc.origins[k][1] for k in lines if self.doc.origins[k][0] == file]
        return file, (min(numbers), max(numbers))

    # ---- the walk over the document
    def run(self) -> list[TexProblem]:
        text = self.text
        begin = re.search(r"\\begin\s*\{document\}", text)
        body_start = begin.end() if begin else 0
        end_doc = re.search(r"\\end\s*\{document\}", text[body_start:])
        body_end = body_start + end_doc.start() if end_doc else len(text)
        books = self.defs.books or bool(re.search(r"\\chapter(?![A-Za-z])", text))
        counters = _Counters(books, self.defs.within)
        self.open: _Block | None = None
        container: _Container | None = None
        pos = body_start
        while pos < body_end:
            m = _EVENT.search(text, pos, body_end)
            if m is None:
                break
            pos = m.end()
            if m.group("bib"):
                body_end = m.start()
                break
            if m.group("appendix"):
                self.close(m.start())
                counters.appendix = True
                counters.sections = {}
                container = None
                continue
            if m.group("sec"):
                level = _SECTION_LEVELS[m.group("sec")]
                _, title_start = _optional_arg(text, m.end())
                title_start = _skip_space(text, title_start)
                title_end = _match_group(text, title_start) if text.startswith("{", title_start) else -1
                if title_end < 0:
                    continue
                pos = title_end
                if not m.group("star") and 0 <= level <= 3:
                    counters.step_section(level)
                heading = parse_heading(text[title_start + 1 : title_end - 1])
                if self.open is not None and (level <= self.open.level or heading is not None):
                    self.close(m.start())
                if container is not None and level <= container.level:
                    container = None
                if heading is None:
                    continue
                if heading.role in ("problems", "solutions"):
                    container = _Container(heading.role, level, heading.kind or "Exercise")
                else:
                    self.open = self.heading_block(heading, m.start(), title_end, level, container)
                continue
            if m.group("bold"):
                pos = self.bold_heading(m, container)
                continue
            if m.group("be") == "end":
                continue
            pos = self.environment(m, counters, container, body_end)
        self.close(body_end)
        return self.assemble()

    def close(self, at: int) -> None:
        """End the open heading block (if any) at ``at``, or earlier at an ``\\end`` it does not own."""
        block, self.open = self.open, None
        if block is not None:
            block.content_end = _cut_unbalanced_end(self.text, block.content_start, at)
            (self.problems if block.role == "problem" else self.solutions).append(block)

    def heading_block(
        self, heading: Heading, start: int, content_start: int, level: int, container: _Container | None
    ) -> _Block:
        in_solutions = container is not None and container.role == "solutions"
        if heading.role == "problem" and not in_solutions:
            return _Block(
                "problem",
                heading.kind,
                heading.number,
                start,
                content_start,
                title=heading.title,
                level=level,
            )
        block = _Block(
            "solution", heading.kind, heading.number, start, content_start, ref=heading.ref, level=level
        )
        block.in_solutions = in_solutions
        block.after_problem = len(self.problems) - 1 if self.problems else None
        return block

    def bold_heading(self, m: re.Match, container: _Container | None) -> int:
        """A ``\\textbf{Problem 4.}`` at the start of a line: opens a block; returns where to go on."""
        text = self.text
        group_start = m.end() - 1 if m.group("wrap") else text.rfind("{", m.start(), m.end())
        group_end = _match_group(text, group_start)
        if group_end < 0:
            return m.end()
        inner = text[group_start + 1 : group_end - 1]
        if m.group("decl"):
            inner = re.sub(r"^\s*\\[A-Za-z]+\s*", "", inner)
        heading = parse_heading(inner)
        if heading is None or heading.role not in ("problem", "solution"):
            return m.end()
        # Italic, or bold without a number ("\textbf{Problem} statement ..."), is a heading only with a . or :
        bare = heading.number is None and heading.ref is None and heading.title is None
        italic = (m.group("wrap") or m.group("decl")) in _ITALIC
        if (italic or bare) and not re.search(r"[.:]\s*$", inner + text[group_end : group_end + 1]):
            return m.end()
        self.close(m.start())
        start = m.start() + len(m.group(0)) - len(m.group(0).lstrip())
        self.open = self.heading_block(heading, start, group_end, BOLD_LEVEL, container)
        return group_end

    def environment(
        self, m: re.Match, counters: _Counters, container: _Container | None, body_end: int
    ) -> int:
        """A ``\\begin{env}``: a problem, solution or list of problems is read whole; returns where to go on."""
        text = self.text
        env = m.group("env").strip()
        info = _env_info(env, self.defs)
        if info is not None and info.role == "other":
            if info.counter:
                counters.step_theorem(info.counter)
            return m.end()
        plural = env in _CONTAINER_ENVS and info is None
        in_list = (
            container is not None and self.open is None and env in ("enumerate", "enumerate*", "itemize")
        )
        if info is None and not plural and not in_list:
            return m.end()
        span = _env_end(text, env, m.end(), body_end)
        if span is None:
            self.warnings.append(f"{self.where(m.start())}: \\begin{{{env}}} is never closed; skipped")
            return m.end()
        self.close(m.start())
        if plural or in_list:
            item = "question" if re.search(r"\\question(?![A-Za-z])", text[m.end() : span[0]]) else "item"
            _, list_start = _optional_arg(text, m.end())
            items = _split_items(text, list_start, span[0], item)
            if plural:
                role, kind, numbered = "problem", _CONTAINER_ENVS[env], _Container("problems", BOLD_LEVEL, "")
                if not items:  # a single problem in a plural-named environment
                    info = _Theorem(kind, env, "problem")
            else:
                assert container is not None
                role = "problem" if container.role == "problems" else "solution"
                kind, numbered = container.kind, container
            if items:
                for item_start, content_start, content_end, label in items:
                    numbered.items += 1
                    number = (label or "").strip().strip("().") or str(numbered.items)
                    block = _Block(
                        role, kind if role == "problem" else None, number, item_start, content_start
                    )
                    block.content_end = content_end
                    if role == "problem":
                        self.nested_solutions(block)
                        self.problems.append(block)
                    else:
                        block.in_solutions = True
                        block.after_problem = len(self.problems) - 1 if self.problems else None
                        self.solutions.append(block)
                return span[1]
        assert info is not None
        title, content_start = _optional_arg(text, m.end())
        if info.role == "problem":
            number = counters.step_theorem(info.counter) if info.counter else None
            block = _Block("problem", info.kind, number, m.start(), content_start, title=title)
            block.content_end, block.stop = span
            self.nested_solutions(block)
            self.problems.append(block)
            return span[1]
        block = _Block("solution", None, None, m.start(), content_start)
        block.content_end, block.stop = span
        if title:
            parsed = parse_heading("Solution " + _unwrap(title)) or parse_heading(title)
            if parsed is not None:
                block.kind, block.number, block.ref = parsed.kind, parsed.number, parsed.ref
        block.in_solutions = container is not None and container.role == "solutions"
        block.after_problem = len(self.problems) - 1 if self.problems else None
        self.solutions.append(block)
        return span[1]

    def nested_solutions(self, block: _Block) -> None:
        """Solution environments inside a problem's text (the exam class, some lecture notes) become its own."""
        text = self.text
        pos = block.content_start
        while True:
            m = _BEGIN_END.search(text, pos, block.content_end)
            if m is None:
                return
            pos = m.end()
            info = _env_info(m.group(2).strip(), self.defs) if m.group(1) == "begin" else None
            if info is None or info.role != "solution":
                continue
            span = _env_end(text, m.group(2).strip(), m.end(), block.content_end)
            if span is None:
                continue
            _, content_start = _optional_arg(text, m.end())
            block.nested.append(_Span(m.start(), content_start, span[0], span[1]))
            pos = span[1]

    # ---- matching and text
    def assemble(self) -> list[TexProblem]:
        problems = sorted(self.problems, key=lambda b: b.start)
        solutions = sorted(self.solutions, key=lambda b: b.start)
        labels: dict[str, int] = {}
        for index, block in enumerate(problems):
            for label in _LABEL.findall(self.text, block.start, block.content_end):
                labels.setdefault(label.strip(), index)
        found: dict[int, list[_Span]] = {i: list(b.nested) for i, b in enumerate(problems) if b.nested}
        starts = [b.start for b in problems]
        by_number: dict[str | None, list[int]] = {}
        for index, block in enumerate(problems):
            by_number.setdefault(block.number, []).append(index)
        for sol in solutions:
            target = self.match(sol, problems, labels, found, starts, by_number)
            if target is None:
                what = "a solution" + (f" numbered {sol.number}" if sol.number else "")
                what += f" for \\ref{{{sol.ref}}}" if sol.ref else ""
                self.warnings.append(f"{self.where(sol.start)}: {what} matches no problem; skipped")
                continue
            found.setdefault(target, []).append(sol.span)
        number_of_label = {label: problems[i].number for label, i in labels.items() if problems[i].number}
        out = []
        for index, block in enumerate(problems):
            raw = self.text[block.content_start : block.content_end]
            for nested in reversed(block.nested):
                raw = raw[: nested.start - block.content_start] + raw[nested.stop - block.content_start :]
            problem, parts, warnings = self.finish(raw, number_of_label)
            if not problem:
                self.warnings.append(f"{self.where(block.start)}: {block.kind} with no text; skipped")
                continue
            solution_texts: list[str] = []
            solution_file: str | None = None
            solution_lines: tuple[int, int] | None = None
            for span in found.get(index, []):
                text, _, more = self.finish(self.text[span.content_start : span.content_end], number_of_label)
                if not text:
                    continue
                solution_texts.append(text)
                warnings += [w for w in more if w not in warnings]
                file, lines = self.span_origin(span.start, span.stop)
                if solution_file is None:
                    solution_file, solution_lines = file, lines
                elif file == solution_file and solution_lines is not None:
                    solution_lines = (min(solution_lines[0], lines[0]), max(solution_lines[1], lines[1]))
            span = block.span
            file, lines = self.span_origin(span.start, span.stop)
            label = next(iter(_LABEL.findall(self.text, block.start, block.content_end)), None)
            out.append(
                TexProblem(
                    kind=block.kind or "Problem",
                    number=block.number,
                    title=_unwrap(block.title) if block.title else None,
                    problem=problem,
                    solution="\n\n".join(solution_texts),
                    file=file,
                    lines=lines,
                    solution_file=solution_file,
                    solution_lines=solution_lines,
                    parts=tuple(parts),
                    label=label.strip() if label else None,
                    warnings=tuple(warnings),
                )
            )
        return out

    def match(
        self,
        sol: _Block,
        problems: list[_Block],
        labels: dict[str, int],
        found: dict[int, list[_Span]],
        starts: list[int],
        by_number: dict[str | None, list[int]],
    ) -> int | None:
        """The problem a solution belongs to (see the module docstring), or None."""
        if sol.ref is not None:
            return labels.get(sol.ref)
        before = bisect.bisect_left(starts, sol.start)  # problems[:before] start before the solution
        if sol.number is not None:
            same = [i for i in by_number.get(sol.number, ()) if i < before and i not in found]
            preferred = [i for i in same if sol.kind is None or problems[i].kind == sol.kind]
            return (preferred or same or [None])[0]
        if sol.in_solutions:
            return next((i for i in range(before) if i not in found), None)
        return sol.after_problem

    def finish(self, raw: str, number_of_label: dict[str, str]) -> tuple[str, list[str], list[str]]:
        """Clean one problem or solution text: layout and labels dropped, macros expanded, parts marked."""
        warnings: list[str] = []
        own_labels = {label.strip() for label in _LABEL.findall(raw)}
        text = _LAYOUT.sub("", raw)
        text, macro_warnings = expand_macros(text, self.defs.macros)
        warnings += macro_warnings

        def ref(m: re.Match) -> str:
            label = m.group(1).strip()
            if label in own_labels:
                return m.group(0)
            if label in number_of_label:
                return number_of_label[label]
            outside = f"refers to {m.group(0)}, which is outside this text"
            if outside not in warnings:
                warnings.append(outside)
            return m.group(0)

        text = _REF.sub(ref, text)
        if re.search(r"\\includegraphics|\\begin\s*\{figure\*?\}", text):
            warnings.append("has a figure (\\includegraphics); the text may not be complete without it")
        parts: list[str] = []
        text = _convert_lists(text, parts)
        if not parts:
            text = _mark_inline_parts(text, parts)
        return _tidy(text), parts, warnings


def _expand_environment_macros(lines: list[str], macros: dict[str, Macro]) -> list[str]:
    r"""Lines with argument-less macros that stand for environments (``\be`` -> ``\begin{equation}``) expanded.

    Line by line, so every line keeps its origin; a newline in a macro body becomes a space.
    """
    env_macros = {
        name: macro.body.replace("\n", " ")
        for name, macro in macros.items()
        if macro.nargs == 0 and re.search(r"\\(?:begin|end)\s*\{", macro.body)
    }
    if not env_macros:
        return lines
    names = "|".join(sorted(map(re.escape, env_macros), key=len, reverse=True))
    pattern = re.compile(r"\\(" + names + r")(?![A-Za-z])")
    out = []
    for line in lines:
        for _ in range(MAX_EXPANSION_ROUNDS):
            new = pattern.sub(lambda m: env_macros[m.group(1)], line)
            if new == line:
                break
            line = new
        out.append(line)
    return out


def _extract(doc: TexLines, extra_definitions: str = "") -> tuple[list[TexProblem], list[str]]:
    defs = _Definitions()
    if extra_definitions:
        _parse_definitions(extra_definitions, defs)
    _parse_definitions(doc.text, defs)
    doc = TexLines(_expand_environment_macros(doc.lines, defs.macros), doc.origins, doc.warnings, doc.files)
    extractor = _Extractor(doc, defs)
    problems = extractor.run()
    return problems, extractor.warnings


def extract_tex_text(text: str, *, file: str = "main.tex") -> list[TexProblem]:
    r"""The problems in one LaTeX document given as text (no ``\input``\s followed); lines point into ``file``.

    >>> [p.heading for p in extract_tex_text(r"\begin{exercise}Show that $x=1$.\end{exercise}")]
    ['Exercise 1']
    """
    lines = strip_comments(text.replace("\r\n", "\n").split("\n"))
    doc = TexLines(lines, [(file, k) for k in range(1, len(lines) + 1)], files=[file])
    return _extract(doc)[0]


def _package_definitions(folder: Path, text: str) -> str:
    """The text of the ``.sty``/``.cls`` files in the source folder that the document loads."""
    names: list[str] = []
    for m in re.finditer(
        r"\\(?:usepackage|RequirePackage|documentclass)\s*(?:\[[^\]]*\])?\s*\{([^{}]*)\}", text
    ):
        names += [n.strip() for n in m.group(1).split(",") if n.strip()]
    chunks = []
    for name in names:
        for suffix in (".sty", ".cls"):
            path = (folder / (name + suffix)).resolve()
            if path.is_relative_to(folder.resolve()) and path.is_file():
                chunks.append("\n".join(strip_comments(read_tex(path).split("\n"))))
    return "\n".join(chunks)


def extract_tex_folder(folder: str | os.PathLike, main: str | os.PathLike | None = None) -> TexExtraction:
    """The problems of an unpacked LaTeX source: main file found (unless given), inputs inlined, extracted."""
    folder = Path(folder).resolve()
    main_path = Path(main).resolve() if main is not None else find_main_tex(folder).resolve()
    doc = flatten_tex(main_path, folder)
    problems, warnings = _extract(doc, _package_definitions(folder, doc.text))
    return TexExtraction(
        main=main_path.relative_to(folder).as_posix(), problems=problems, warnings=warnings, files=doc.files
    )


def extract_tex_archive(
    data: bytes | str | os.PathLike,
    name: str = "source",
    *,
    max_total: int = MAX_TOTAL_BYTES,
    max_files: int = MAX_FILES,
) -> TexExtraction:
    """The problems of an arXiv-style LaTeX source: a (gzipped) tar, or one (gzipped) ``.tex`` file, which is
    called ``<name>.tex``. Raises UnsafeArchiveError or TexSourceError when there is nothing safe to read."""
    if not isinstance(data, bytes | bytearray):
        data = Path(data).read_bytes()
    kind = sniff_source(data)
    with tempfile.TemporaryDirectory(prefix="vqft-tex-") as tmp:
        folder = Path(tmp)
        if kind == "tar":
            safe_extract(data, folder, max_total=max_total, max_files=max_files)
            return extract_tex_folder(folder)
        if kind != "tex":
            raise TexSourceError(f"{name}: not a LaTeX source (a {kind} file)")
        if data[:2] == b"\x1f\x8b":
            try:
                with gzip.GzipFile(fileobj=io.BytesIO(data)) as compressed:
                    data = compressed.read(max_total + 1)
            except (OSError, EOFError, zlib.error) as exc:
                raise TexSourceError(f"{name}: a broken gzip file ({exc})") from None
            if len(data) > max_total:
                raise UnsafeArchiveError(None, f"the file unpacks to more than {max_total} bytes (the limit)")
        filename = re.sub(r"[^A-Za-z0-9._-]", "_", name) + ".tex"
        (folder / filename).write_bytes(data)
        return extract_tex_folder(folder, folder / filename)
