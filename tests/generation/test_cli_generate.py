"""`vqft generate cas`: writes valid problems, summarizes per family, lists families, reports user errors."""

from curation.records import Problem, read_records
from release.cli import main


def test_generate_writes_the_requested_problems(tmp_path, capsys):
    out = tmp_path / "cas.jsonl"
    assert (
        main(["generate", "cas", "--families", "colour_factor,mass_dimension", "--n", "6", "-o", str(out)])
        == 0
    )
    problems = list(read_records(out, Problem))
    assert len(problems) == 6 and all(p.code_answer is not None for p in problems)
    summary = capsys.readouterr().out
    assert "colour_factor" in summary and "problems/s" in summary


def test_level_restricts_the_families(tmp_path):
    out = tmp_path / "cas.jsonl"
    assert main(["generate", "cas", "--n", "3", "--level", "post-graduate", "-o", str(out)]) == 0
    assert {p.level for p in read_records(out, Problem)} == {"post-graduate"}


def test_list_shows_every_family_with_capacity(capsys):
    assert main(["generate", "cas", "--list"]) == 0
    out = capsys.readouterr().out
    assert "symmetry_factor" in out and "capacity" in out


def test_unknown_family_is_a_user_error(tmp_path, capsys):
    assert main(["generate", "cas", "--families", "nope", "-o", str(tmp_path / "x.jsonl")]) == 2
    assert "unknown family 'nope'; choose from" in capsys.readouterr().err


def test_too_many_problems_is_a_user_error_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "x.jsonl"
    assert main(["generate", "cas", "--families", "symmetry_factor", "--n", "100000", "-o", str(out)]) == 2
    assert "distinct" in capsys.readouterr().err and not out.exists()
