"""LaTeX sources: safe unpacking, the main file and its inputs, macros, and problem/solution extraction."""

from __future__ import annotations

import gzip
import io
import tarfile
import textwrap
from pathlib import Path

import pytest

from curation.ingest.latex import (
    TexSourceError,
    UnsafeArchiveError,
    expand_macros,
    extract_tex_archive,
    extract_tex_text,
    find_main_tex,
    flatten_tex,
    parse_heading,
    parse_macros,
    safe_extract,
    sniff_source,
    strip_comments,
)
from curation.records.seed import SeedSource


def tex(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def make_tar(files: dict[str, str | bytes], *, gz: bool = True, links: dict[str, str] | None = None) -> bytes:
    """A tarball with ``files`` (name -> text) and symlinks ``links`` (name -> target)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz" if gz else "w") as tar:
        for name, content in files.items():
            data = content.encode() if isinstance(content, str) else content
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            tar.addfile(info)
    return buffer.getvalue()


def write(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(tex(text))


def one(problems, heading):
    found = [p for p in problems if p.heading == heading]
    assert len(found) == 1, [p.heading for p in problems]
    return found[0]


# --------------------------------------------------------------------------------------------- unpacking


def test_member_with_dotdot_is_refused_by_name(tmp_path):
    archive = make_tar({"main.tex": "\\documentclass{article}", "../evil": "owned"})
    with pytest.raises(UnsafeArchiveError) as error:
        safe_extract(archive, tmp_path / "out")
    assert error.value.member == "../evil"
    assert str(error.value) == "member '../evil': path with '..' would write outside the folder"
    assert not (tmp_path / "evil").exists()
    assert not (tmp_path / "out" / "main.tex").exists()  # nothing is written from a refused archive


def test_absolute_member_is_refused(tmp_path):
    with pytest.raises(UnsafeArchiveError, match="member '/etc/passwd': absolute path"):
        safe_extract(make_tar({"/etc/passwd": "x"}), tmp_path)


def test_symlink_leaving_the_folder_is_refused(tmp_path):
    archive = make_tar({"main.tex": "x"}, links={"sub/link.tex": "../../secret"})
    with pytest.raises(UnsafeArchiveError, match="member 'sub/link.tex': link to '../../secret', outside"):
        safe_extract(archive, tmp_path)


def test_symlink_inside_becomes_a_copy(tmp_path):
    archive = make_tar({"real.tex": "content"}, links={"sub/alias.tex": "../real.tex"})
    safe_extract(archive, tmp_path)
    alias = tmp_path / "sub" / "alias.tex"
    assert not alias.is_symlink()
    assert alias.read_text() == "content"


def test_device_file_is_refused(tmp_path):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("dev/null")
        info.type = tarfile.CHRTYPE
        tar.addfile(info)
    with pytest.raises(UnsafeArchiveError, match="member 'dev/null': device file"):
        safe_extract(buffer.getvalue(), tmp_path)


def test_size_and_count_limits_are_enforced(tmp_path):
    archive = make_tar({"a.tex": "x" * 600, "b.tex": "y" * 600})
    with pytest.raises(
        UnsafeArchiveError, match="member 'b.tex': the archive unpacks to more than 1000 bytes"
    ):
        safe_extract(archive, tmp_path, max_total=1000)
    with pytest.raises(UnsafeArchiveError, match="more than 1 members"):
        safe_extract(archive, tmp_path, max_files=1)


def test_sources_are_told_apart_by_their_first_bytes():
    document = b"\\documentclass{article}\n\\begin{document}x\\end{document}\n"
    assert sniff_source(make_tar({"main.tex": "x"})) == "tar"
    assert sniff_source(make_tar({"main.tex": "x"}, gz=False)) == "tar"
    assert sniff_source(gzip.compress(document)) == "tex"
    assert sniff_source(document) == "tex"
    assert sniff_source(b"%PDF-1.5\n...") == "pdf"
    assert sniff_source(b"<html>withdrawn</html>") == "unknown"


# --------------------------------------------------------------------------------------------- main file


def test_main_file_found_and_input_chain_inlined_with_line_origins(tmp_path):
    write(
        tmp_path,
        {
            "figure.tex": r"""
                \documentclass{standalone}
                \begin{document}x\end{document}
            """,
            "macros.tex": r"\newcommand{\R}{\mathbb{R}}",
            "main.tex": r"""
                \documentclass{article}
                \input{macros}
                \begin{document}
                Intro.
                \input{sections/one}
                \end{document}
            """,
            "sections/one.tex": r"""
                One first.
                Before \input{sections/two.tex} after.
            """,
            "sections/two.tex": r"""
                Two first.
            """,
        },
    )
    assert find_main_tex(tmp_path) == tmp_path / "main.tex"
    doc = flatten_tex(tmp_path / "main.tex")
    assert doc.files == ["main.tex", "macros.tex", "sections/one.tex", "sections/two.tex"]
    pairs = [(line, origin) for line, origin in zip(doc.lines, doc.origins, strict=True) if line.strip()]
    assert pairs == [
        ("\\documentclass{article}", ("main.tex", 1)),
        ("\\newcommand{\\R}{\\mathbb{R}}", ("macros.tex", 1)),
        ("\\begin{document}", ("main.tex", 3)),
        ("Intro.", ("main.tex", 4)),
        ("One first.", ("sections/one.tex", 1)),
        ("Before ", ("sections/one.tex", 2)),
        ("Two first.", ("sections/two.tex", 1)),
        (" after.", ("sections/one.tex", 2)),
        ("\\end{document}", ("main.tex", 6)),
    ]
    assert doc.warnings == []


def test_input_cycle_and_missing_input_are_skipped_with_warnings(tmp_path):
    write(
        tmp_path,
        {
            "main.tex": r"""
                \documentclass{article}
                \begin{document}
                \input{a}
                \input{missing}
                \end{document}
            """,
            "a.tex": r"\input{main}",
        },
    )
    doc = flatten_tex(tmp_path / "main.tex")
    assert doc.warnings == [
        "a.tex, line 1: \\input{main} would include itself (a cycle); skipped",
        "main.tex, line 4: \\input{missing} names no file inside the source; skipped",
    ]


def test_input_outside_the_folder_is_not_followed(tmp_path):
    (tmp_path / "secret.tex").write_text("SECRET")
    write(tmp_path / "src", {"main.tex": "\\documentclass{article}\n\\input{../secret}\n"})
    doc = flatten_tex(tmp_path / "src" / "main.tex")
    assert "SECRET" not in doc.text
    assert doc.warnings == ["main.tex, line 2: \\input{../secret} names no file inside the source; skipped"]


def test_main_file_named_by_arxiv_readme_wins(tmp_path):
    write(tmp_path, {"a.tex": "\\documentclass{article}\n", "b.tex": "\\documentclass{article}\n"})
    (tmp_path / "00README.json").write_text('{"sources": [{"filename": "b.tex", "usage": "toplevel"}]}')
    assert find_main_tex(tmp_path) == tmp_path / "b.tex"


def test_source_without_a_main_file_is_an_error(tmp_path):
    write(tmp_path, {"notes.tex": "just text"})
    with pytest.raises(
        TexSourceError, match=r"no .tex file with \\documentclass among 1 files \(notes.tex\)"
    ):
        find_main_tex(tmp_path)


# --------------------------------------------------------------------------------------------- cleaning


def test_comments_are_stripped_but_escaped_percent_is_kept():
    lines = strip_comments(
        [
            r"50\% of $x$ % a comment",
            r"\\% a comment after a line break",
            r"\verb|%not a comment|",
            r"\begin{comment}",
            r"dropped",
            r"\end{comment}",
            r"\iffalse",
            r"\ifx a b dropped \fi",
            r"\fi",
            "kept",
        ]
    )
    assert lines == [r"50\% of $x$", r"\\", r"\verb|%not a comment|", "", "", "", "", "", "", "kept"]


def test_macros_without_arguments_are_expanded():
    macros = parse_macros(
        tex(r"""
        \newcommand{\Tr}{\mathrm{Tr}}
        \newcommand\half{\frac12}
        \def\qft{quantum field theory\xspace}
        \newcommand{\old}{x}
        \renewcommand{\old}{\mathcal{O}}
        \DeclareMathOperator{\sgn}{sgn}
        \let\eps\epsilon
        """)
    )
    text, warnings = expand_macros(
        r"In \qft, $\Tr[\gamma^\mu] = 0$, $x^\half$, $\old(\eps)$, $\sgn x$.", macros
    )
    assert text == (
        r"In quantum field theory, $\mathrm{Tr}[\gamma^\mu] = 0$, $x^{\frac12}$, $\mathcal{O}(\epsilon)$, "
        r"$\operatorname{sgn} x$."
    )
    assert warnings == []


def test_macros_with_arguments_and_a_default_are_expanded():
    macros = parse_macros(
        tex(r"""
        \newcommand{\bra}[1]{\langle #1|}
        \newcommand{\braket}[2]{\langle #1|#2\rangle}
        \newcommand{\p}[2][\mu]{p_{#1}^{#2}}
        \def\comm#1#2{[#1,#2]}
        """)
    )
    text, _ = expand_macros(r"$\bra{\psi}$ $\braket{a}{\bra b}$ $\p{2}$ $\p[\nu]{2}$ $\comm AB$", macros)
    assert text == r"$\langle \psi|$ $\langle a|\langle b|\rangle$ $p_{\mu}^{2}$ $p_{\nu}^{2}$ $[A,B]$"


def test_recursive_macro_stops_with_a_warning():
    text, warnings = expand_macros(r"\loop", parse_macros(r"\newcommand{\loop}{x\loop}"))
    assert text == "x" * 10 + r"\loop"
    assert warnings == [
        "\\loop still present after 10 expansion rounds (a recursive or very deeply nested definition?)"
    ]


def test_structural_redefinitions_are_not_expanded():
    macros = parse_macros(r"\renewcommand{\section}[1]{\textbf{#1}} \newcommand{\x}{\makeatletter\@foo}")
    assert macros == {}


# --------------------------------------------------------------------------------------------- problems


def test_theorem_like_exercises_are_numbered_as_latex_does():
    problems = extract_tex_text(
        tex(r"""
        \documentclass{article}
        \newtheorem{theorem}{Theorem}[section]
        \newtheorem{exer}[theorem]{Exercise}
        \newtheorem{prob}{Problem}
        \newtheorem*{hw}{Homework}
        \begin{document}
        \section{One}
        \begin{theorem}A theorem.\end{theorem}
        \begin{exer}[Dirac traces]
        Show that $\mathrm{tr}\,\gamma^\mu = 0$.
        \end{exer}
        \section*{Unnumbered}
        \section{Two}
        \begin{exer}Second.\end{exer}
        \begin{prob}Third.\end{prob}
        \begin{hw}Fourth.\end{hw}
        \appendix
        \section{More}
        \begin{exer}Fifth.\end{exer}
        \end{document}
        """)
    )
    assert [(p.heading, p.problem, p.lines) for p in problems] == [
        ("Exercise 1.2 (Dirac traces)", r"Show that $\mathrm{tr}\,\gamma^\mu = 0$.", (9, 11)),
        ("Exercise 2.1", "Second.", (14, 14)),
        ("Problem 1", "Third.", (15, 15)),
        ("Problem", "Fourth.", (16, 16)),
        ("Exercise A.1", "Fifth.", (19, 19)),
    ]


def test_environment_defined_with_newenvironment_counts_as_its_inner_one():
    problems = extract_tex_text(
        tex(r"""
        \newenvironment{remarks}{\itshape}{}
        \newenvironment{myex}[1][]{\begin{exercise}[#1]}{\end{exercise}}
        \begin{document}
        \begin{remarks}Not a problem.\end{remarks}
        \begin{exercise}First.\end{exercise}
        \begin{myex}Second.\end{myex}
        \end{document}
        """)
    )
    assert [(p.heading, p.problem) for p in problems] == [("Exercise 1", "First."), ("Exercise 2", "Second.")]


def test_solution_environment_belongs_to_the_problem_before_it():
    problems = extract_tex_text(
        tex(r"""
        \begin{exercise}
        Compute $Z$.
        \end{exercise}
        Some discussion.
        \begin{solution}
        $Z = 1$.
        \end{solution}
        \begin{problem}
        No solution here.
        \end{problem}
        """)
    )
    assert [(p.heading, p.problem, p.solution, p.solution_lines) for p in problems] == [
        ("Exercise 1", "Compute $Z$.", "$Z = 1$.", (5, 7)),
        ("Problem 1", "No solution here.", "", None),
    ]


def test_problem_headings_sections_paragraphs_and_bold():
    problems = extract_tex_text(
        tex(r"""
        \documentclass{article}
        \begin{document}
        \section*{Problem 3}
        Find the propagator.
        \paragraph{Hint.} Use Fourier space.
        \subsection{Exercise 2.1: Ward identity}
        Derive it.
        \paragraph{Problem 1.}
        Short one.
        \noindent\textbf{Problem 4.} Bold one,
        over two lines.
        {\bf Exercise 5} Old-style bold.
        \section{Prose}
        Not a problem.
        \end{document}
        """)
    )
    assert [(p.heading, p.problem, p.lines) for p in problems] == [
        ("Problem 3", "Find the propagator.\n\\paragraph{Hint.} Use Fourier space.", (3, 5)),
        ("Exercise 2.1 (Ward identity)", "Derive it.", (6, 7)),
        ("Problem 1", "Short one.", (8, 9)),
        ("Problem 4", "Bold one,\nover two lines.", (10, 11)),
        ("Exercise 5", "Old-style bold.", (12, 12)),
    ]


def test_prose_headings_are_not_problems():
    problems = extract_tex_text(
        tex(r"""
        \begin{document}
        \section{Problems with unitarity}
        \begin{enumerate}\item A point.\end{enumerate}
        \section{Solutions of the Dirac equation}
        \emph{Solution} of this equation is easy.
        \textbf{Problem} statement in prose.
        \end{document}
        """)
    )
    assert problems == []


def test_solutions_in_an_appendix_are_matched_by_number_and_ref():
    problems = extract_tex_text(
        tex(r"""
        \documentclass{article}
        \newtheorem{exercise}{Exercise}[section]
        \begin{document}
        \section{Fields}
        \begin{exercise}\label{ex:noether}
        Derive the Noether current.
        \end{exercise}
        \subsection*{Problem 7}
        Compute the decay rate.
        \textbf{Problem 8.} Unsolved.
        \appendix
        \section{Solutions}
        \subsection*{Solution to Problem 7}
        $\Gamma = g^2 m/(8\pi)$.
        \subsection*{Solution to Exercise \ref{ex:noether}}
        $j^\mu = \partial^\mu\phi\,\delta\phi$.
        \textbf{Solution 9.} Matches nothing.
        \end{document}
        """),
        file="notes.tex",
    )
    assert [(p.heading, p.solution, p.solution_file, p.solution_lines) for p in problems] == [
        ("Exercise 1.1", r"$j^\mu = \partial^\mu\phi\,\delta\phi$.", "notes.tex", (15, 16)),
        ("Problem 7", r"$\Gamma = g^2 m/(8\pi)$.", "notes.tex", (13, 14)),
        ("Problem 8", "", None, None),
    ]


def test_unmatched_solution_is_reported():
    folder_text = tex(r"""
        \documentclass{article}
        \begin{document}
        \textbf{Problem 1.} One.
        \section*{Solutions}
        \textbf{Solution 2.} For a problem that is not there.
        \end{document}
        """)
    extraction = extract_tex_archive(folder_text.encode(), "paper")
    assert extraction.warnings == ["paper.tex, line 5: a solution numbered 2 matches no problem; skipped"]


def test_parts_in_an_enumerate_are_kept_together_and_marked():
    [problem] = extract_tex_text(
        tex(r"""
        \begin{exercise}
        Consider a free scalar field.
        \begin{enumerate}
          \item Find the Hamiltonian
          \[ H = \int d^3x\, \tfrac12 (\pi^2 + (\nabla\phi)^2). \]
          \item Quantize it.
          \begin{enumerate}\item nested stays\end{enumerate}
        \end{enumerate}
        \end{exercise}
        \begin{problem}
        \begin{enumerate}[(i)]
        \item First.
        \item[(z)] Custom label.
        \end{enumerate}
        \end{problem}
        """)
    )[:1]
    assert (
        problem.problem
        == tex(r"""
        Consider a free scalar field.

        (a) Find the Hamiltonian
          \[ H = \int d^3x\, \tfrac12 (\pi^2 + (\nabla\phi)^2). \]
        (b) Quantize it.
          \begin{enumerate}\item nested stays\end{enumerate}
        """).strip()
    )
    assert problem.parts == ("a", "b")
    second = extract_tex_text(
        r"\begin{problem}\begin{enumerate}[(i)]\item First.\item[(z)] Custom label.\end{enumerate}\end{problem}"
    )[0]
    assert second.problem == "(i) First.\n(z) Custom label."
    assert second.parts == ("i", "z")


def test_inline_parts_move_to_their_own_lines_outside_math():
    [problem] = extract_tex_text(
        r"\begin{exercise}Let $f(a) = (b)$. (a) Show $f(a)=0$. \textbf{(b)} Find $(c)$. (c) Done.\end{exercise}"
    )
    assert problem.problem == "Let $f(a) = (b)$.\n(a) Show $f(a)=0$.\n(b) Find $(c)$.\n(c) Done."
    assert problem.parts == ("a", "b", "c")


def test_problem_list_under_an_exercises_heading():
    problems = extract_tex_text(
        tex(r"""
        \begin{document}
        \section{Scalars}
        \subsection*{Exercises}
        \begin{enumerate}
        \item Show that $\phi$ is real.
        \item Find the spectrum.
        \end{enumerate}
        \section{Answers to the exercises}
        \begin{enumerate}
        \item Take the conjugate.
        \item $\omega_k = \sqrt{k^2+m^2}$.
        \end{enumerate}
        \end{document}
        """)
    )
    assert [(p.heading, p.problem, p.solution, p.lines) for p in problems] == [
        ("Exercise 1", r"Show that $\phi$ is real.", "Take the conjugate.", (5, 5)),
        ("Exercise 2", "Find the spectrum.", r"$\omega_k = \sqrt{k^2+m^2}$.", (6, 6)),
    ]


def test_exam_class_questions_with_parts_and_solutions():
    problems = extract_tex_text(
        tex(r"""
        \documentclass{exam}
        \begin{document}
        \begin{questions}
        \question Consider QED.
        \begin{parts}
        \part Draw the vertex.
        \part Write the Feynman rule.
        \end{parts}
        \begin{solution}
        $-ie\gamma^\mu$.
        \end{solution}
        \question Second question.
        \end{questions}
        \end{document}
        """)
    )
    assert [(p.heading, p.problem, p.solution, p.parts) for p in problems] == [
        (
            "Question 1",
            "Consider QED.\n\n(a) Draw the vertex.\n(b) Write the Feynman rule.",
            r"$-ie\gamma^\mu$.",
            ("a", "b"),
        ),
        ("Question 2", "Second question.", "", ()),
    ]


def test_references_labels_and_layout_in_problem_text():
    problems = extract_tex_text(
        tex(r"""
        \begin{exercise}\label{ex:first}
        First, see \cite{Peskin:1995ev}.
        \end{exercise}
        \begin{exercise}
        \noindent Using Exercise~\ref{ex:first} and \eqref{eq:lagrangian}, show
        \begin{equation}\label{eq:own} x = 1 \end{equation}
        as in \eqref{eq:own}.\medskip
        \begin{figure}\includegraphics{f.pdf}\end{figure}
        \end{exercise}
        """)
    )
    second = problems[1]
    assert problems[0].label == "ex:first"
    assert (
        second.problem
        == tex(r"""
        Using Exercise~1 and \eqref{eq:lagrangian}, show
        \begin{equation} x = 1 \end{equation}
        as in \eqref{eq:own}.
        \begin{figure}\includegraphics{f.pdf}\end{figure}
        """).strip()
    )
    assert second.warnings == (
        "refers to \\eqref{eq:lagrangian}, which is outside this text",
        "has a figure (\\includegraphics); the text may not be complete without it",
    )
    assert problems[0].problem == r"First, see \cite{Peskin:1995ev}."


def test_macros_are_expanded_in_problems_and_environment_shortcuts_are_found():
    [problem] = extract_tex_text(
        tex(r"""
        \newcommand{\bex}{\begin{exercise}}
        \newcommand{\eex}{\end{exercise}}
        \newcommand{\be}{\begin{equation}}
        \newcommand{\ee}{\end{equation}}
        \newcommand{\slashed}[1]{#1\!\!\!/}
        \begin{document}
        \bex
        Show \be \slashed{p}\slashed{p} = p^2 \ee
        \eex
        \end{document}
        """)
    )
    assert problem.problem == r"Show \begin{equation} p\!\!\!/p\!\!\!/ = p^2 \end{equation}"
    assert problem.lines == (7, 9)


def test_headings_are_parsed_with_numbers_titles_and_refs():
    assert parse_heading("Problem 3") == parse_heading(r"\textbf{Problem~3.}")
    assert parse_heading("Exercise 2.1 (Lorentz group)").title == "Lorentz group"
    assert parse_heading(r"Solution to Exercise \ref{ex:a}").ref == "ex:a"
    assert parse_heading("Solutions to the problems").role == "solutions"
    assert parse_heading("Problem set 3") is None
    assert parse_heading("Problem formulation") is None


# --------------------------------------------------------------------------------------------- archives


def test_archive_extraction_gives_seeds_pointing_at_file_and_lines():
    archive = make_tar(
        {
            "paper.tex": tex(r"""
                \documentclass{article}
                \newcommand{\Tr}{\mathrm{Tr}}
                \begin{document}
                \input{ex}
                \end{document}
            """),
            "ex.tex": tex(r"""
                Text.
                \begin{problem}
                Show $\Tr\,\mathbb{1} = 4$.
                \end{problem}
            """),
        }
    )
    extraction = extract_tex_archive(archive, "2401.00001v2")
    assert extraction.main == "paper.tex"
    assert extraction.files == ["paper.tex", "ex.tex"]
    [problem] = extraction.problems
    seed = problem.to_seed(SeedSource(kind="arxiv", arxiv_id="2401.00001", version="v2", licence="unknown"))
    assert seed.problem == r"Show $\mathrm{Tr}\,\mathbb{1} = 4$."
    assert seed.source.file == "ex.tex"
    assert seed.source.lines == (2, 4)
    assert seed.warnings == ("no solution found in the source",)
    assert seed.extra == {"heading": "Problem 1", "format": "latex", "number": "1"}


def test_gzipped_single_file_source_is_read():
    document = tex(r"""
        \documentclass{article}
        \begin{document}
        \begin{exercise}Single file.\end{exercise}
        \end{document}
    """)
    extraction = extract_tex_archive(gzip.compress(document.encode()), "hep-th/9901001v1")
    assert extraction.main == "hep-th_9901001v1.tex"
    assert [(p.problem, p.file, p.lines) for p in extraction.problems] == [
        ("Single file.", "hep-th_9901001v1.tex", (3, 3))
    ]


def test_archive_that_is_not_latex_is_an_error():
    with pytest.raises(TexSourceError, match="x: not a LaTeX source \\(a pdf file\\)"):
        extract_tex_archive(b"%PDF-1.4 ...", "x")
