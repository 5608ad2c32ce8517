"""PDF ingestion: problems, solutions, page spans, reading order, headers, figures, bad documents, --pages; and
the plain-text segmentation rules it shares with the LaTeX path. Every PDF is made here with PyMuPDF."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import pymupdf
import pytest

from curation.ingest import pdf as pdf_module
from curation.ingest.pdf import IngestError, extract_pdf, iter_pdf_seeds, parse_page_range, reflow
from curation.ingest.segment import BREAK, FIGURE, FIGURE_WARNING, segment_problems
from curation.records.seed import Seed
from tests.ingest import pdf_factory as factory


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, factory.BuiltPdf]:
    folder = tmp_path_factory.mktemp("pdfs")
    return {
        "notes": factory.notes_pdf(folder / "notes.pdf"),
        "two_column": factory.two_column_pdf(folder / "paper.pdf"),
        "figure": factory.figure_pdf(folder / "figures.pdf"),
        "sheet": factory.problem_sheet_pdf(folder / "sheet.pdf"),
        "bench": factory.benchmark_pdf(folder / "book.pdf", pages=16, seed=3),
    }


@pytest.fixture(scope="module")
def notes(built) -> dict[str, Seed]:
    return {seed.source.extra["number"]: seed for seed in extract_pdf(built["notes"].path).seeds}


def by_number(path: Path, **options) -> dict[str, Seed]:
    return {seed.source.extra["number"]: seed for seed in extract_pdf(path, **options).seeds}


# --- what a document gives ----------------------------------------------------------------------------------


def test_numbered_problems_are_found_in_document_order(built):
    seeds = extract_pdf(built["notes"].path).seeds
    assert [seed.source.extra["number"] for seed in seeds] == ["1.1", "1.2", "1.3"]


def test_planted_phrases_are_in_the_problem_text(built, notes):
    for planted in built["notes"].planted:
        for phrase in planted.phrases:
            assert phrase in notes[planted.number].problem, (planted.number, phrase)


def test_greek_letters_math_symbols_and_scripts_survive(notes):
    assert (
        "φ(x) obeys (∂^μ∂_μ + m^2)φ = 0 when the Lagrangian is ℒ = ½∂_μφ∂^μφ − ½m^2φ^2."
        in notes["1.1"].problem
    )
    assert "ψ̄(iγ^μ∂_μ − m)ψ" in notes["1.2"].problem
    assert "Q = ∫d^3x ψ^†ψ" in notes["1.2"].problem
    assert "∑_s u^s(p)u\u0304^s(p) = γ·p + m" in notes["1.3"].problem  # u + combining macron


def test_text_set_with_insert_htmlbox_keeps_its_symbols(tmp_path):
    seeds = by_number(factory.htmlbox_pdf(tmp_path / "boxes.pdf"))
    assert seeds["1"].problem == "Show that ψ\u0304γ^μψ is a Lorentz vector and that ∂_μj^μ = 0 when α ≠ 0."
    assert seeds["2"].problem == "Evaluate ∫ d^4k / (k^2 − Δ)^2 with ε → 0 and Λ » m."


def test_ligatures_are_expanded(notes):
    assert "field" in notes["1.2"].problem and "\ufb01" not in notes["1.2"].problem


def test_problem_across_a_page_break_is_whole_and_spans_both_pages(built, notes):
    planted = built["notes"].problem("1.2")
    assert (planted.first_page, planted.last_page) == (1, 2)  # the layout puts it across the break
    assert notes["1.2"].source.pages == (1, 2)
    text = notes["1.2"].problem
    positions = [text.index(f"({part}) ") for part in "abcdef"]
    assert positions == sorted(positions)


def test_page_spans_match_the_layout(built, notes):
    assert {n: seed.source.pages for n, seed in notes.items()} == {
        p.number: tuple(range(p.first_page, p.last_page + 1)) for p in built["notes"].planted
    }


def test_parts_start_lines_of_their_own(notes):
    assert re.search(r"^\(b\) Derive the Hamiltonian", notes["1.2"].problem, re.M)


def test_heading_label_is_not_in_the_text_but_the_cited_source_is(notes):
    assert notes["1.2"].problem.startswith("Consider the free Dirac field")
    assert notes["1.3"].problem.startswith("(Peskin 3.4) A Majorana fermion")


def test_solutions_section_is_matched_by_number(notes):
    assert notes["1.1"].solution.startswith("Vary the action with respect to φ")
    assert notes["1.2"].solution.endswith("which is the spin-statistics connection.")
    assert notes["1.3"].solution == ""


def test_line_broken_hyphenated_names_are_joined(notes):
    assert "gives the Klein-Gordon equation directly" in notes["1.1"].solution


def test_running_headers_and_page_numbers_are_not_in_the_text(notes):
    for seed in notes.values():
        for text in (seed.problem, seed.solution):
            assert "Lecture Notes" not in text and "draft" not in text
            assert not re.search(r"^\s*\d+\s*$", text, re.M)  # no page number on a line of its own
    # Problem 1.2 runs across the page break and has no bare digit of its own (only γ^0, d^3x, ...)
    assert not re.search(r"(?<![\^\w])\d", notes["1.2"].problem)


def test_prose_before_the_first_problem_is_not_a_problem(notes):
    assert not any("canonical approach" in seed.problem for seed in notes.values())


def test_seed_provenance_names_the_file_its_hash_pages_and_licence(built):
    path = built["notes"].path
    seed = extract_pdf(path, licence="CC-BY-4.0").seeds[0]
    source = seed.source
    assert (source.kind, source.file, source.licence) == ("pdf", "notes.pdf", "CC-BY-4.0")
    assert source.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert source.extra == {"number": "1.1"}
    assert Seed.from_dict(seed.to_dict()) == seed  # the JSON form validates and round-trips


def test_default_licence_is_unknown(notes):
    assert notes["1.1"].source.licence == "unknown"


def test_same_document_gives_the_same_seeds(built, notes):
    assert [s.to_dict() for s in extract_pdf(built["notes"].path).seeds] == [
        s.to_dict() for s in notes.values()
    ]


# --- layout -------------------------------------------------------------------------------------------------


def test_two_column_pages_are_read_left_column_then_right(built):
    path = built["two_column"].path
    with pymupdf.open(path) as doc:
        stream = doc[0].get_text()
    assert stream.index("Sentence 20 sums") < stream.index("Exercise 1")  # the stream order is wrong
    seeds = extract_pdf(path).seeds
    assert [s.source.extra["number"] for s in seeds] == ["1", "2", "3", "4", "5"]
    text = seeds[1].problem
    assert text.startswith("SECOND-EXERCISE begins here. Sentence 1 sums the diagrams")
    assert text.index("SECOND-EXERCISE middle") < text.index("SECOND-EXERCISE ends")
    sentences = [int(n) for n in re.findall(r"Sentence (\d+) sums", text)]
    assert sentences == list(range(1, 46)) * 2
    assert seeds[2].problem.startswith("THIRD-EXERCISE Compton scattering")


def test_two_column_page_spans_follow_the_columns(built):
    seeds = by_number(built["two_column"].path)
    for planted in built["two_column"].planted:
        assert seeds[planted.number].source.pages[0] == planted.first_page
        assert seeds[planted.number].source.pages[-1] >= planted.last_page


def test_title_abstract_running_header_and_margin_stamp_stay_out_of_problems(built):
    with pymupdf.open(built["two_column"].path) as doc:
        assert "arXiv:2401.01234v1" in doc[0].get_text()  # the stamp is there, as vertical text
    for seed in extract_pdf(built["two_column"].path).seeds:
        assert "One-loop exercises" not in seed.problem
        assert "Abstract" not in seed.problem
        assert "Preprint" not in seed.problem
        assert "arXiv" not in seed.problem


# --- figures ------------------------------------------------------------------------------------------------


def test_problem_citing_a_figure_is_flagged(built):
    seeds = by_number(built["figure"].path)
    assert FIGURE_WARNING in seeds["1"].warnings
    assert "Figure 1: The one-loop vertex." in seeds["1"].problem


def test_problem_next_to_an_image_is_flagged_without_naming_it(built):
    seeds = by_number(built["figure"].path)
    assert "Figure" not in seeds["2"].problem
    assert seeds["2"].warnings == (FIGURE_WARNING,)


def test_problem_without_a_figure_is_not_flagged(built):
    assert by_number(built["figure"].path)["3"].warnings == ()


def test_vector_drawing_next_to_a_problem_is_a_figure_but_a_frame_or_a_rule_is_not(tmp_path):
    seeds = by_number(factory.vector_figure_pdf(tmp_path / "drawn.pdf"))
    assert {number: seed.warnings for number, seed in seeds.items()} == {
        "1": (FIGURE_WARNING,),
        "2": (),
        "3": (),
    }


# --- numbered-list documents --------------------------------------------------------------------------------


def test_list_numbered_sheet_gives_its_problems_and_answers(built):
    seeds = by_number(built["sheet"].path)
    assert list(seeds) == ["1", "2", "3"]
    assert "(a) at tree level," in seeds["1"].problem
    assert "2.5 GeV and compare" in seeds["2"].problem  # "2.5 GeV" starting a line is not a problem
    assert seeds["1"].solution == "The rate is Γ = g^2M/(8π) in the massless limit."
    assert seeds["2"].solution == "About 10^{−24} s."
    assert seeds["3"].solution == ""


# --- --pages ------------------------------------------------------------------------------------------------


def test_pages_option_reads_only_those_pages(built):
    book = built["bench"]
    seeds = extract_pdf(book.path, pages=range(5, 9)).seeds
    assert seeds and all(5 <= page <= 8 for seed in seeds for page in seed.source.pages)
    expected = {p.number for p in book.planted if 5 <= p.first_page <= 8}
    assert {s.source.extra["number"] for s in seeds} == expected


def test_pages_outside_the_document_name_the_file(built):
    with pytest.raises(
        IngestError, match=r"notes\.pdf: pages 40-50 are outside the document \(it has 2 pages\)"
    ):
        extract_pdf(built["notes"].path, pages=range(40, 51))


@pytest.mark.parametrize(
    ("text", "expected"),
    [("10-40", range(10, 41)), ("7", range(7, 8)), ("-5", range(1, 6)), (" 3 - 4 ", range(3, 5))],
)
def test_page_ranges_parse(text, expected):
    assert parse_page_range(text) == expected


def test_pages_past_the_end_are_read_up_to_the_end_with_a_warning(built):
    extraction = extract_pdf(built["notes"].path, pages=range(2, 11))
    assert extraction.pages == 1
    assert extraction.warnings[0] == "pages 2-10 asked for, but the document ends at page 2"
    assert "solution 1.1 (page 2): matches no problem" in extraction.warnings  # its problem is on page 1


def test_open_ended_page_range_runs_to_the_end(built):
    assert parse_page_range("2-").start == 2
    assert extract_pdf(built["notes"].path, pages=parse_page_range("2-")).pages == 1


@pytest.mark.parametrize("text", ["x", "5-3", "0-2", "-", ""])
def test_bad_page_range_says_how_to_write_one(text):
    with pytest.raises(ValueError, match="10-40"):
        parse_page_range(text)


# --- the generated book (the benchmark's document, small) ---------------------------------------------------


def test_generated_book_problems_are_found_with_their_solutions(built):
    book = built["bench"]
    seeds = by_number(book.path)
    assert len(book.planted) >= 40
    found = [p for p in book.planted if p.number in seeds and p.phrases[0] in seeds[p.number].problem]
    assert len(found) == len(book.planted)
    assert len(seeds) == len(book.planted)  # nothing spurious
    for planted in found:
        seed = seeds[planted.number]
        assert (seed.source.pages[0], seed.source.pages[-1]) == (planted.first_page, planted.last_page)
        if planted.solution_phrases:
            assert seed.solution.startswith(planted.solution_phrases[0])
        else:
            assert seed.solution == ""
        assert (FIGURE_WARNING in seed.warnings) == planted.figure


# --- bad documents ------------------------------------------------------------------------------------------


def test_encrypted_pdf_says_it_needs_a_password(tmp_path):
    path = factory.encrypted_pdf(tmp_path / "locked.pdf")
    with pytest.raises(IngestError, match=r"locked\.pdf: is encrypted and needs a password") as info:
        extract_pdf(path)
    assert info.value.level == "error"


def test_corrupt_pdf_says_it_is_not_readable(tmp_path):
    path = factory.corrupt_pdf(tmp_path / "cut.pdf")
    with pytest.raises(IngestError, match=r"cut\.pdf: is not a readable PDF .*truncated or corrupt"):
        extract_pdf(path)


def test_empty_file_says_it_is_empty(tmp_path):
    path = tmp_path / "empty.pdf"
    path.write_bytes(b"")
    with pytest.raises(IngestError, match=r"empty\.pdf: is empty \(0 bytes\)"):
        extract_pdf(path)


def test_image_only_pdf_says_to_run_ocr(tmp_path):
    path = factory.image_only_pdf(tmp_path / "scan.pdf")
    with pytest.raises(IngestError, match=r"scan\.pdf: has no extractable text; scanned\? run OCR first"):
        extract_pdf(path)


def test_pdf_without_numbered_problems_is_a_warning_naming_it(tmp_path):
    path = factory.no_problems_pdf(tmp_path / "intro.pdf").path
    with pytest.raises(IngestError, match=r"intro\.pdf: no numbered problems found") as info:
        extract_pdf(path)
    assert info.value.level == "warning"


def test_ingest_error_survives_pickling():
    import pickle

    error = pickle.loads(pickle.dumps(IngestError("a.pdf", "is empty (0 bytes)", "warning")))
    assert (str(error), error.level) == ("a.pdf: is empty (0 bytes)", "warning")


@pytest.fixture
def mixed_folder(tmp_path, built) -> Path:
    folder = tmp_path / "library"
    (folder / "more").mkdir(parents=True)
    shutil.copy(built["notes"].path, folder / "a_notes.pdf")
    factory.encrypted_pdf(folder / "b_locked.pdf")
    factory.corrupt_pdf(folder / "c_cut.pdf")
    factory.image_only_pdf(folder / "d_scan.pdf")
    factory.no_problems_pdf(folder / "e_intro.pdf")
    shutil.copy(built["figure"].path, folder / "more" / "f_figures.PDF")
    (folder / "readme.txt").write_text("not a pdf")
    return folder


def test_bad_documents_are_reported_and_the_good_ones_still_read(mixed_folder):
    items = list(iter_pdf_seeds(mixed_folder))
    seeds = [item for item in items if isinstance(item, Seed)]
    errors = {Path(item.path).name: item for item in items if isinstance(item, IngestError)}
    assert [(s.source.file, s.source.extra["number"]) for s in seeds] == [
        ("a_notes.pdf", "1.1"),
        ("a_notes.pdf", "1.2"),
        ("a_notes.pdf", "1.3"),
        ("f_figures.PDF", "1"),
        ("f_figures.PDF", "2"),
        ("f_figures.PDF", "3"),
    ]
    assert set(errors) == {"b_locked.pdf", "c_cut.pdf", "d_scan.pdf", "e_intro.pdf"}
    assert "password" in errors["b_locked.pdf"].message
    assert "not a readable PDF" in errors["c_cut.pdf"].message
    assert "run OCR first" in errors["d_scan.pdf"].message
    assert errors["e_intro.pdf"].level == "warning"
    for name, error in errors.items():
        assert str(error).startswith(str(mixed_folder / name) + ": ")


def test_seeds_come_as_each_document_is_read(mixed_folder, monkeypatch):
    calls = []
    real = pdf_module.extract_pdf

    def spy(path, *args):
        calls.append(Path(path).name)
        return real(path, *args)

    monkeypatch.setattr(pdf_module, "extract_pdf", spy)
    items = iter_pdf_seeds(mixed_folder)
    first = next(items)
    assert isinstance(first, Seed) and calls == ["a_notes.pdf"]


def test_an_unexpected_failure_costs_only_its_document(mixed_folder, monkeypatch):
    real = pdf_module.extract_pdf

    def flaky(path, *args):
        if Path(path).name == "a_notes.pdf":
            raise MemoryError("MuPDF: out of memory")
        return real(path, *args)

    monkeypatch.setattr(pdf_module, "extract_pdf", flaky)
    items = list(iter_pdf_seeds([mixed_folder / "a_notes.pdf", mixed_folder / "more"]))
    assert isinstance(items[0], IngestError)
    assert (
        str(items[0])
        == f"{mixed_folder / 'a_notes.pdf'}: could not be read (MemoryError: MuPDF: out of memory)"
    )
    assert [s.source.extra["number"] for s in items[1:]] == ["1", "2", "3"]


def test_missing_path_and_folder_without_pdfs_are_reported(tmp_path):
    (tmp_path / "empty").mkdir()
    items = list(iter_pdf_seeds([tmp_path / "nope.pdf", tmp_path / "empty"]))
    assert [str(item) for item in items] == [
        f"{tmp_path / 'nope.pdf'}: no such file or folder",
        f"{tmp_path / 'empty'}: no PDF files (*.pdf) in this folder",
    ]


# --- reflow -------------------------------------------------------------------------------------------------


def test_reflow_joins_lines_and_undoes_hyphenation():
    text = "The renormal-\nization of the non-\nrelativistic Klein-\nGordon field\n(a) first\n(b) second"
    assert (
        reflow(text)
        == "The renormalization of the non-relativistic Klein-Gordon field\n(a) first\n(b) second"
    )


def test_reflow_joins_a_paragraph_cut_mid_sentence():
    assert reflow("Compute the cross\n\nsection at tree level.\n\nThen the width.") == (
        "Compute the cross section at tree level.\n\nThen the width."
    )


# --- segmentation rules (plain text, shared with the LaTeX path) --------------------------------------------


def segment(text: str, **options):
    return segment_problems([(n, line) for n, line in enumerate(text.splitlines(), 1)], **options)


def test_reference_in_running_text_is_not_a_heading():
    [seg] = segment("Problem 1 Compute the width as in\nProblem 3.2 shows, with\nProblem 4 and 5 combined.")
    assert seg.number == "1" and "Problem 3.2 shows" in seg.text and "Problem 4 and 5" in seg.text


@pytest.mark.parametrize(
    "heading", ["Problem 3.2", "Problem 3.2.", "Problem 3.2:", "PROBLEM 3.2 -", "Exercise 3.2"]
)
def test_heading_forms(heading):
    [seg] = segment(f"{heading} Show that X.")
    assert (seg.number, seg.text) == ("3.2", "Show that X.")


def test_heading_followed_by_a_greek_letter_is_a_heading():
    [seg] = segment("Problem 2 φ^4 theory: compute the beta function.")
    assert (seg.number, seg.text) == ("2", "φ^4 theory: compute the beta function.")


def test_heading_with_a_textbook_reference_keeps_it():
    [seg] = segment("Problem 2 (Peskin 3.4) Show that X.")
    assert (seg.number, seg.text) == ("2", "(Peskin 3.4) Show that X.")


def test_numbers_written_with_a_dash_match_their_solution():
    [seg] = segment("Exercise 3-2 Show X.\nSolutions\nSolution 3.2 Because.")
    assert (seg.number, seg.solution) == ("3-2", "Because.")


def test_number_without_a_dot_is_not_a_list_heading():
    segments = segment("Problems\n1. Estimate the width of\n2.5 GeV resonances.\n2. Compute the rate.")
    assert [(s.number, s.text) for s in segments] == [
        ("1", "Estimate the width of\n2.5 GeV resonances."),
        ("2", "Compute the rate."),
    ]


def test_lone_numbered_line_is_not_a_list_of_problems():
    assert segment("Exercises\nSome prose.\n7. Then we continue.\nMore prose.") == []


def test_numbered_sections_outside_a_problem_region_are_not_problems():
    text = "GNU Free Documentation License\n1. APPLICABILITY\nThis License applies.\n2. VERBATIM COPYING\nYou may."
    assert segment(text) == []
    assert [s.number for s in segment("Homework 2\n" + text)] == ["1", "2"]  # a problem sheet's title


def test_list_problems_run_from_a_problems_heading_to_the_next_section():
    text = "1. Introduction\nProse.\nProblems\n1. Compute A.\n2. Compute B.\nChapter 2 Spinors\n1. Spinors\n2. More"
    assert [(s.number, s.text) for s in segment(text)] == [("1", "Compute A."), ("2", "Compute B.")]


def test_list_items_inside_a_keyword_problem_stay_in_it():
    [seg] = segment("Problem 1 Do both:\n1. Compute A.\n2. Compute B.")
    assert seg.text == "Do both:\n1. Compute A.\n2. Compute B."


def test_inline_solution_belongs_to_the_problem_above():
    segments = segment("Problem 1 Find x.\nSolution: x = 2.\nProblem 2 Find y.\nSolution\ny = 3.")
    assert [(s.text, s.solution) for s in segments] == [("Find x.", "x = 2."), ("Find y.", "y = 3.")]


def test_per_chapter_numbering_pairs_solutions_chapter_by_chapter():
    text = (
        "Chapter 1 Scalars\nExercise 1 First one.\nSolutions\nExercise 1 Answer one.\n"
        "Chapter 2 Spinors\nExercise 1 Second one.\nSolutions\nExercise 1 Answer two."
    )
    assert [(s.text, s.solution) for s in segment(text)] == [
        ("First one.", "Answer one."),
        ("Second one.", "Answer two."),
    ]


def test_problem_heading_in_a_solutions_section_without_its_problem_starts_a_new_problem():
    segments = segment("Problem 1 A.\nSolutions\nProblem 1 Sol A.\nProblem 2 B.")
    assert [(s.number, s.text, s.solution) for s in segments] == [("1", "A.", "Sol A."), ("2", "B.", "")]


def test_solution_matching_no_problem_is_noted():
    notes: list[str] = []
    [seg] = segment("Problem 1 A.\nSolutions\nSolution 9 Nine.\nSolution 1 One.", notes=notes, unit="line")
    assert seg.solution == "One."
    assert notes == ["solution 9 (line 3): matches no problem"]


def test_break_ends_a_problem_and_a_non_heading_after_it_is_outside():
    lines = [(1, "Problem 1 Compute A."), (1, BREAK), (2, "Renormalization"), (2, "Prose about it.")]
    [seg] = segment_problems(lines)
    assert (seg.text, seg.last_page) == ("Compute A.", 1)


def test_section_heading_ends_a_problem():
    [seg] = segment("Problem 1 Compute A.\nChapter 2: Spinors\nProse.")
    assert seg.text == "Compute A."


def test_figure_marker_flags_the_problem_it_falls_in():
    lines = [(1, "Problem 1 Compute the loop."), (1, FIGURE), (1, "Problem 2 Compute the tree.")]
    assert [s.warnings for s in segment_problems(lines)] == [(FIGURE_WARNING,), ()]


@pytest.mark.parametrize("phrase", ["in Fig. 3", "see Figure 2a", "the diagram below", "shown in the figure"])
def test_figure_citations_flag_the_problem(phrase):
    [seg] = segment(f"Problem 1 Compute the amplitude {phrase}.")
    assert seg.warnings == (FIGURE_WARNING,)


def test_figure_out_is_not_a_figure():
    [seg] = segment("Problem 1 Figure out the Feynman diagram for this decay.")
    assert seg.warnings == ()


def test_heading_without_text_is_skipped_and_noted():
    notes: list[str] = []
    segments = segment("Problem 1\nProblem 2 B.", notes=notes)
    assert [s.number for s in segments] == ["2"]
    assert notes == ["problem 1 (page 1): heading without text, skipped"]
