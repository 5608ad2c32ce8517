import dataclasses

import pytest

from curation.records import FieldError, Problem, Response, Result, Seed, Source, Trace, problem_id
from tests.records import examples as ex


@pytest.mark.parametrize("problem", ex.all_problems(), ids=lambda p: p.answer.kind)
def test_problem_round_trips_through_dict(problem):
    assert Problem.from_dict(problem.to_dict()) == problem


def test_problem_dict_has_contract_fields_and_extra_at_top_level():
    d = ex.code_problem().to_dict()
    for key in (
        "id",
        "statement",
        "answer",
        "solution",
        "topic",
        "level",
        "task_type",
        "source",
        "qc",
        "tags",
    ):
        assert key in d
    assert d["source"] == {"kind": "synthetic-cas", "generator": "two_body_decay", "version": 2}
    assert d["review"] == {"status": "approved", "by": "physicist-3"}


def test_unknown_problem_fields_round_trip_through_extra():
    d = ex.symbolic_problem().to_dict()
    d["difficulty_estimate"] = {"elo": 1712}
    problem = Problem.from_dict(d)
    assert problem.extra == {"difficulty_estimate": {"elo": 1712}}
    assert problem.to_dict() == d


def test_input_key_named_extra_is_kept_as_an_unknown_field():
    d = {**ex.symbolic_problem().to_dict(), "extra": {"note": "from an older exporter"}}
    problem = Problem.from_dict(d)
    assert problem.extra == {"extra": {"note": "from an older exporter"}}
    assert problem.to_dict() == d


def test_missing_id_is_filled_from_content():
    d = ex.numeric_problem().to_dict()
    del d["id"]
    assert Problem.from_dict(d).id == problem_id(d["statement"], d["answer"])


def test_id_not_matching_content_is_rejected_on_the_id_field():
    d = ex.numeric_problem().to_dict()
    d["statement"] += " Give three significant figures."
    with pytest.raises(FieldError) as caught:
        Problem.from_dict(d)
    assert caught.value.path == "id"
    assert "does not match the content" in caught.value.message


def test_id_not_matching_content_is_kept_with_check_id_false():
    d = ex.numeric_problem().to_dict()
    d["id"] = "legacy-17"
    assert Problem.from_dict(d, check_id=False).id == "legacy-17"


def test_replace_recomputes_the_id():
    problem = ex.numeric_problem()
    changed = problem.replace(statement=problem.statement + " Round to 3 digits.")
    assert changed.id == problem_id(changed.statement, changed.answer)
    assert changed.id != problem.id


def test_nested_answer_error_names_the_dotted_path():
    d = ex.tuple_problem().to_dict()
    del d["answer"]["items"][0]["expr"]
    with pytest.raises(FieldError) as caught:
        Problem.from_dict(d)
    assert caught.value.path == "answer.items.0.expr"
    assert caught.value.message == "is required"


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"statement": "   "}, "statement"),
        ({"statement": 3}, "statement"),
        ({"source": {"kind": "scraped"}}, "source.kind"),
        ({"source": "arxiv"}, "source"),
        ({"tags": ["qed", 5]}, "tags.1"),
        ({"level": 3}, "level"),
        ({"qc": [9, 10]}, "qc"),
    ],
)
def test_invalid_problem_field_is_named(change, path):
    d = {**ex.symbolic_problem().to_dict(), **change}
    with pytest.raises(FieldError) as caught:
        Problem.from_dict(d, check_id=False)
    assert caught.value.path == path


def test_problem_without_source_is_rejected():
    d = ex.symbolic_problem().to_dict()
    del d["source"]
    with pytest.raises(FieldError, match="source: is required"):
        Problem.from_dict(d)


def test_problem_that_is_not_an_object_is_rejected():
    with pytest.raises(FieldError, match="a problem must be a JSON object, got list"):
        Problem.from_dict([1, 2])


def test_extra_cannot_shadow_a_problem_field():
    with pytest.raises(FieldError) as caught:
        dataclasses.replace(ex.numeric_problem(), extra={"topic": "x"})
    assert caught.value.path == "extra"


def test_source_provenance_cannot_hold_kind():
    with pytest.raises(FieldError):
        Source("adapted", {"kind": "arxiv"})


def test_problem_text_appends_answer_requirements():
    problem = ex.code_problem()
    assert problem.problem_text() == f"{problem.statement}\n\n{problem.answer_requirements}"
    assert ex.symbolic_problem().problem_text() == ex.symbolic_problem().statement


@pytest.mark.parametrize("seed", [ex.seed(), ex.seed_without_solution()], ids=["full", "minimal"])
def test_seed_round_trips_through_dict(seed):
    assert Seed.from_dict(seed.to_dict()) == seed


def test_seed_source_unknown_keys_round_trip():
    d = ex.seed().to_dict()
    assert d["source"]["section"] == "3.2 Two-body phase space"
    assert Seed.from_dict(d).to_dict() == d


def test_seed_keeps_a_given_id():
    d = {**ex.seed().to_dict(), "id": "peskin-ex-5.2"}
    assert Seed.from_dict(d).id == "peskin-ex-5.2"


@pytest.mark.parametrize(
    ("source", "path"),
    [
        ({"kind": "arxiv", "sha256": "ABC"}, "source.sha256"),
        ({"kind": "pdf", "pages": "41-42"}, "source.pages"),
        ({"kind": "pdf", "pages": [0]}, "source.pages.0"),
        ({"kind": "latex", "lines": [168, 120]}, "source.lines"),
        ({"kind": ""}, "source.kind"),
    ],
)
def test_invalid_seed_source_field_is_named(source, path):
    with pytest.raises(FieldError) as caught:
        Seed.from_dict({"problem": "Show that x.", "source": source})
    assert caught.value.path == path


def test_trace_round_trips_through_dict():
    trace = ex.trace()
    assert Trace.from_dict(trace.to_dict()) == trace


def test_trace_messages_are_in_trl_chat_format():
    messages = ex.trace().to_dict()["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant"]
    assert all(set(m) == {"role", "content"} for m in messages)


def test_trace_without_id_round_trips():
    trace = dataclasses.replace(ex.trace(), id=None)
    assert "id" not in trace.to_dict()
    assert Trace.from_dict(trace.to_dict()) == trace


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"messages": [{"role": "robot", "content": "hi"}]}, "messages.0.role"),
        ({"messages": [{"role": "user", "content": "hi", "name": "x"}]}, "messages.0"),
        ({"messages": []}, "messages"),
        ({"verification": {"problem_id": "qft-1", "status": "almost"}}, "verification.status"),
        ({"verification": "correct"}, "verification"),
        ({"num_tokens": -1}, "num_tokens"),
        ({"num_tokens": 1.5}, "num_tokens"),
    ],
)
def test_invalid_trace_field_is_named(change, path):
    with pytest.raises(FieldError) as caught:
        Trace.from_dict({**ex.trace().to_dict(), **change})
    assert caught.value.path == path


def test_response_and_result_round_trip_through_dict():
    assert Response.from_dict(ex.response().to_dict()) == ex.response()
    assert Result.from_dict(ex.result().to_dict()) == ex.result()


def test_code_answer_does_not_enter_the_id():
    problem = ex.symbolic_problem_with_code_form()
    assert dataclasses.replace(problem, code_answer=None).replace().id == problem.id


def test_code_form_grades_by_the_code_answer_with_its_own_requirements():
    problem = ex.symbolic_problem_with_code_form()
    code = problem.code_form()
    assert code.answer == problem.code_answer
    assert code.answer_requirements == problem.code_answer_requirements
    assert code.code_answer is None and code.id != problem.id
    assert code.statement == problem.statement


def test_code_form_of_a_problem_without_one_is_an_error():
    with pytest.raises(ValueError, match="has no code_answer"):
        ex.symbolic_problem().code_form()


def test_problem_without_code_answer_writes_null():
    d = ex.symbolic_problem().to_dict()
    assert d["code_answer"] is None and d["code_answer_requirements"] == ""


def test_code_answer_of_another_kind_is_rejected():
    d = {
        **ex.symbolic_problem_with_code_form().to_dict(),
        "code_answer": ex.symbolic_problem().answer.to_dict(),
    }
    with pytest.raises(FieldError) as caught:
        Problem.from_dict(d)
    assert caught.value.path == "code_answer.kind"


def test_broken_code_answer_field_is_named():
    d = ex.symbolic_problem_with_code_form().to_dict()
    d["code_answer"]["test_cases"] = []
    with pytest.raises(FieldError) as caught:
        Problem.from_dict(d)
    assert caught.value.path == "code_answer.test_cases"
