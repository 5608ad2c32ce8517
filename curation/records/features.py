"""Fixed Arrow/``datasets`` schemas for the records, and the row converters that map records onto them.

Parquet needs one schema per file, while an AnswerSpec is a tagged, recursive union with values of several
types. So ``answer`` is one flat struct holding the fields of every kind; the fields of other kinds are null:

==================  ==========================================  ==========================================
column              type                                        used by kind
==================  ==========================================  ==========================================
``kind``            string                                      all: symbolic/numeric/categorical/code/tuple
``expr``            string                                      symbolic
``symbols``         list<{name: string, domain: string}>        symbolic (declaration order kept)
``value``           string                                      numeric (``repr`` of the float, or the
                                                                complex as ``"1+2j"``), categorical (label)
``rtol``            float64                                     symbolic, numeric
``atol``            float64                                     numeric
``unit``            string                                      numeric (null: no unit)
``choices``         list<string>                                categorical
``function_name``   string                                      code
``arguments``       list<{name: string, type: string}>          code
``reference``       string                                      code
``test_cases``      list<{case_id: string, inputs_json: string, code: ``inputs``/``output`` as JSON text
                    output_json: string, rtol: float64,         because their values are heterogeneous
                    atol: float64}>                             (null ``output_json``: no cached output)
``items``           list<the scalar answer struct above: kind,  tuple (items are symbolic, numeric or
                    expr, symbols, value, rtol, atol, unit,     categorical, never code or tuple, so one
                    choices>                                    level of nesting suffices)
==================  ==========================================  ==========================================

A Problem's optional ``code_answer`` uses the same struct in a column of its own (null when absent).

Other columns follow the record fields (see the Features below). Free-form dicts whose keys vary (``Source``
provenance, ``qc``, ``solver``, ``sampling``, Result ``details``, every record's ``extra``) are JSON text in
columns named ``*_json``: null means absent, or empty for all but ``qc``/``solver`` (where ``{}``, scored by
no one, differs from never scored). Everything with a fixed shape is a real column or struct (Seed ``source``
with its ``pages``/``lines`` lists, Trace ``messages`` and ``verification``). Every ``*_from_row`` goes back through the
record's ``from_dict``, so a row is validated exactly like a JSON line, with the same field paths.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from datasets import Features, List, Value

from curation.records.answer import (
    AnswerSpec,
    CategoricalAnswer,
    CodeAnswer,
    NumericAnswer,
    SymbolicAnswer,
    TupleAnswer,
    answer_from_dict,
)
from curation.records.problem import Problem
from curation.records.result import Response, Result
from curation.records.seed import Seed
from curation.records.trace import Trace

_STRING = Value("string")
_FLOAT = Value("float64")

SCALAR_ANSWER_STRUCT = {
    "kind": _STRING,
    "expr": _STRING,
    "symbols": List({"name": _STRING, "domain": _STRING}),
    "value": _STRING,
    "rtol": _FLOAT,
    "atol": _FLOAT,
    "unit": _STRING,
    "choices": List(_STRING),
}
ANSWER_STRUCT = {
    **SCALAR_ANSWER_STRUCT,
    "function_name": _STRING,
    "arguments": List({"name": _STRING, "type": _STRING}),
    "reference": _STRING,
    "test_cases": List(
        {"case_id": _STRING, "inputs_json": _STRING, "output_json": _STRING, "rtol": _FLOAT, "atol": _FLOAT}
    ),
    "items": List(SCALAR_ANSWER_STRUCT),
}
RESULT_STRUCT = {"problem_id": _STRING, "status": _STRING, "details_json": _STRING}

PROBLEM_FEATURES = Features(
    {
        "id": _STRING,
        "statement": _STRING,
        "answer": ANSWER_STRUCT,
        "solution": _STRING,
        "topic": _STRING,
        "level": _STRING,
        "task_type": _STRING,
        "source": {"kind": _STRING, "provenance_json": _STRING},
        "answer_requirements": _STRING,
        "answer_text": _STRING,
        "code_answer": ANSWER_STRUCT,
        "code_answer_requirements": _STRING,
        "qc_json": _STRING,
        "solver_json": _STRING,
        "tags": List(_STRING),
        "extra_json": _STRING,
    }
)
SEED_FEATURES = Features(
    {
        "id": _STRING,
        "problem": _STRING,
        "solution": _STRING,
        "source": {
            "kind": _STRING,
            "arxiv_id": _STRING,
            "version": _STRING,
            "url": _STRING,
            "file": _STRING,
            "sha256": _STRING,
            "pages": List(Value("int32")),
            "lines": List(Value("int32")),
            "licence": _STRING,
            "extra_json": _STRING,
        },
        "warnings": List(_STRING),
        "extra_json": _STRING,
    }
)
TRACE_FEATURES = Features(
    {
        "id": _STRING,
        "problem_id": _STRING,
        "messages": List({"role": _STRING, "content": _STRING}),
        "reasoning": _STRING,
        "final": _STRING,
        "model": _STRING,
        "sampling_json": _STRING,
        "verification": RESULT_STRUCT,
        "num_tokens": Value("int64"),
        "tokenizer": _STRING,
        "finish_reason": _STRING,
        "extra_json": _STRING,
    }
)
RESPONSE_FEATURES = Features({"problem_id": _STRING, "response": _STRING})
RESULT_FEATURES = Features(RESULT_STRUCT)


def _to_json(value: Any) -> str | None:
    """JSON text for a free-form dict column; None for an absent or empty one."""
    return json.dumps(value, ensure_ascii=False) if value else None


def _from_json(text: str | None, empty: Any = None) -> Any:
    return empty if text is None else json.loads(text)


def _scalar_answer_row(answer: AnswerSpec) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(SCALAR_ANSWER_STRUCT)
    row["kind"] = answer.kind
    if isinstance(answer, SymbolicAnswer):
        row["expr"] = answer.expr
        row["symbols"] = [{"name": name, "domain": domain} for name, domain in answer.symbols.items()]
        row["rtol"] = answer.rtol
    elif isinstance(answer, NumericAnswer):
        value = answer.to_dict()["value"]
        # repr round-trips a float exactly; a complex is already the string answer_from_dict parses.
        row["value"] = value if isinstance(value, str) else repr(float(value))
        row["rtol"] = answer.rtol
        row["atol"] = answer.atol
        row["unit"] = answer.unit
    elif isinstance(answer, CategoricalAnswer):
        row["value"] = answer.value
        row["choices"] = list(answer.choices)
    return row


def answer_to_row(answer: AnswerSpec) -> dict[str, Any]:
    """The flat ``answer`` struct of a Problem row (layout in the module docstring)."""
    row = {**dict.fromkeys(ANSWER_STRUCT), **_scalar_answer_row(answer)}
    if isinstance(answer, CodeAnswer):
        row["function_name"] = answer.function_name
        row["arguments"] = [a.to_dict() for a in answer.arguments]
        row["reference"] = answer.reference
        row["test_cases"] = [
            {
                "case_id": case.case_id,
                "inputs_json": json.dumps(case.inputs, ensure_ascii=False),
                "output_json": None if case.output is None else json.dumps(case.output, ensure_ascii=False),
                "rtol": case.rtol,
                "atol": case.atol,
            }
            for case in answer.test_cases
        ]
    elif isinstance(answer, TupleAnswer):
        row["items"] = [_scalar_answer_row(item) for item in answer.items]
    return row


def _present(**fields: Any) -> dict[str, Any]:
    """The fields that are not null, so a missing value reads as "is required" rather than a type error."""
    return {key: value for key, value in fields.items() if value is not None}


def _answer_dict_from_row(row: Mapping[str, Any]) -> dict[str, Any]:
    kind = row.get("kind")
    if kind == "symbolic":
        symbols = {s["name"]: s["domain"] for s in row.get("symbols") or []}
        return _present(kind=kind, expr=row.get("expr"), symbols=symbols, rtol=row.get("rtol"))
    if kind == "numeric":
        return _present(
            kind=kind,
            value=row.get("value"),
            rtol=row.get("rtol"),
            atol=row.get("atol"),
            unit=row.get("unit"),
        )
    if kind == "categorical":
        return _present(kind=kind, value=row.get("value"), choices=row.get("choices") or [])
    if kind == "code":
        cases = []
        for case in row.get("test_cases") or []:
            output_json = case.get("output_json")
            cases.append(
                _present(
                    case_id=case.get("case_id"),
                    inputs=json.loads(case["inputs_json"]),
                    output=None if output_json is None else json.loads(output_json),
                    rtol=case.get("rtol"),
                    atol=case.get("atol"),
                )
            )
        return _present(
            kind=kind,
            function_name=row.get("function_name"),
            arguments=row.get("arguments") or [],
            reference=row.get("reference"),
            test_cases=cases,
        )
    if kind == "tuple":
        return {"kind": kind, "items": [_answer_dict_from_row(item) for item in row.get("items") or []]}
    # Unknown kinds fall through to answer_from_dict, which names the allowed ones.
    return _present(kind=kind)


def answer_from_row(row: Mapping[str, Any]) -> AnswerSpec:
    """The AnswerSpec in a Problem row's ``answer`` struct, validated like its JSON form."""
    return answer_from_dict(_answer_dict_from_row(row), "answer")


def _optional_answer_dict(row: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The answer dict of an optional answer struct; None for a null struct (or one read back as all nulls)."""
    if row is None or row.get("kind") is None:
        return None
    return _answer_dict_from_row(row)


def problem_to_row(problem: Problem) -> dict[str, Any]:
    """A Problem as a row of PROBLEM_FEATURES."""
    return {
        "id": problem.id,
        "statement": problem.statement,
        "answer": answer_to_row(problem.answer),
        "solution": problem.solution,
        "topic": problem.topic,
        "level": problem.level,
        "task_type": problem.task_type,
        "source": {"kind": problem.source.kind, "provenance_json": _to_json(problem.source.provenance)},
        "answer_requirements": problem.answer_requirements,
        "answer_text": problem.answer_text,
        "code_answer": None if problem.code_answer is None else answer_to_row(problem.code_answer),
        "code_answer_requirements": problem.code_answer_requirements,
        # qc/solver: None (never scored) and {} (scored by no one) differ, so they are always JSON when set.
        "qc_json": None if problem.qc is None else json.dumps(problem.qc, ensure_ascii=False),
        "solver_json": None if problem.solver is None else json.dumps(problem.solver, ensure_ascii=False),
        "tags": list(problem.tags),
        "extra_json": _to_json(problem.extra),
    }


def problem_from_row(row: Mapping[str, Any], *, check_id: bool = True) -> Problem:
    """The Problem in a row of PROBLEM_FEATURES (validated, id checked unless ``check_id=False``)."""
    source = row["source"] or {}
    d = {
        "id": row["id"],
        "statement": row["statement"],
        "answer": _answer_dict_from_row(row["answer"] or {}),
        "solution": row["solution"],
        "topic": row["topic"],
        "level": row["level"],
        "task_type": row["task_type"],
        "source": {"kind": source.get("kind"), **_from_json(source.get("provenance_json"), {})},
        "answer_requirements": row["answer_requirements"],
        "answer_text": row["answer_text"],
        "code_answer": _optional_answer_dict(row.get("code_answer")),
        "code_answer_requirements": row.get("code_answer_requirements") or "",
        "qc": _from_json(row["qc_json"]),
        "solver": _from_json(row["solver_json"]),
        "tags": row["tags"],
        **_from_json(row["extra_json"], {}),
    }
    return Problem.from_dict(d, check_id=check_id)


def seed_to_row(seed: Seed) -> dict[str, Any]:
    """A Seed as a row of SEED_FEATURES."""
    source = seed.source
    return {
        "id": seed.id,
        "problem": seed.problem,
        "solution": seed.solution,
        "source": {
            "kind": source.kind,
            "arxiv_id": source.arxiv_id,
            "version": source.version,
            "url": source.url,
            "file": source.file,
            "sha256": source.sha256,
            "pages": None if source.pages is None else list(source.pages),
            "lines": None if source.lines is None else list(source.lines),
            "licence": source.licence,
            "extra_json": _to_json(source.extra),
        },
        "warnings": list(seed.warnings),
        "extra_json": _to_json(seed.extra),
    }


def seed_from_row(row: Mapping[str, Any]) -> Seed:
    """The Seed in a row of SEED_FEATURES (validated)."""
    source = dict(row["source"] or {})
    source_extra = _from_json(source.pop("extra_json", None), {})
    source = {k: v for k, v in source.items() if v is not None}
    d = {
        "id": row["id"],
        "problem": row["problem"],
        "solution": row["solution"],
        "source": {**source, **source_extra},
        "warnings": row["warnings"],
        **_from_json(row["extra_json"], {}),
    }
    return Seed.from_dict(d)


def result_to_row(result: Result) -> dict[str, Any]:
    """A Result as a row of RESULT_FEATURES."""
    return {
        "problem_id": result.problem_id,
        "status": result.status,
        "details_json": _to_json(result.details),
    }


def _result_dict_from_row(row: Mapping[str, Any]) -> dict[str, Any]:
    return _present(
        problem_id=row.get("problem_id"),
        status=row.get("status"),
        details=_from_json(row.get("details_json"), {}),
    )


def result_from_row(row: Mapping[str, Any]) -> Result:
    """The Result in a row of RESULT_FEATURES (validated)."""
    return Result.from_dict(_result_dict_from_row(row))


def response_to_row(response: Response) -> dict[str, Any]:
    """A Response as a row of RESPONSE_FEATURES."""
    return response.to_dict()


def response_from_row(row: Mapping[str, Any]) -> Response:
    """The Response in a row of RESPONSE_FEATURES (validated)."""
    return Response.from_dict(dict(row))


def trace_to_row(trace: Trace) -> dict[str, Any]:
    """A Trace as a row of TRACE_FEATURES."""
    return {
        "id": trace.id,
        "problem_id": trace.problem_id,
        "messages": trace.chat(),
        "reasoning": trace.reasoning,
        "final": trace.final,
        "model": trace.model,
        "sampling_json": _to_json(trace.sampling),
        "verification": result_to_row(trace.verification),
        "num_tokens": trace.num_tokens,
        "tokenizer": trace.tokenizer,
        "finish_reason": trace.finish_reason,
        "extra_json": _to_json(trace.extra),
    }


def trace_from_row(row: Mapping[str, Any]) -> Trace:
    """The Trace in a row of TRACE_FEATURES (validated)."""
    d = {
        "id": row["id"],
        "problem_id": row["problem_id"],
        "messages": row["messages"],
        "reasoning": row["reasoning"],
        "final": row["final"],
        "model": row["model"],
        "sampling": _from_json(row["sampling_json"], {}),
        "verification": _result_dict_from_row(row["verification"] or {}),
        "num_tokens": row["num_tokens"],
        "tokenizer": row["tokenizer"],
        "finish_reason": row["finish_reason"],
        **_from_json(row["extra_json"], {}),
    }
    return Trace.from_dict(d)
