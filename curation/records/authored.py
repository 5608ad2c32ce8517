"""A problem as a model authors it (synthetic generation, adaptation of seeds): the JSON schema the model fills,
its conversion into a Problem, and the checks that make it verifiable before it is kept.

The model proposes test inputs; expected outputs are never taken from the model but computed by running its
reference code in the verifier's sandbox. ``check_authored`` then grades the author's own final answer (the
reference code, or the boxed LaTeX) with the verifier: a problem whose reference fails, whose tolerances are
vacuous, whose test cases cannot tell answers apart, or whose LaTeX answer disagrees with its sympy expression
is refused with the reason, which the repair loop shows to the model.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from curation.records.answer import SYMBOL_DOMAINS, CodeAnswer, FieldError, answer_from_dict
from curation.records.problem import Problem, Source

ANSWER_SCHEMAS: dict[str, dict[str, Any]] = {
    "code": {
        "type": "object",
        "required": ["kind", "function_name", "arguments", "reference_code", "test_inputs"],
        "properties": {
            "kind": {"const": "code"},
            "function_name": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
            "arguments": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["name", "type"],
                    "properties": {
                        "name": {"type": "string"},
                        "type": {"enum": ["float", "int", "complex", "bool", "str", "list"]},
                    },
                },
            },
            "reference_code": {"type": "string", "minLength": 10},
            "test_inputs": {"type": "array", "minItems": 3, "maxItems": 20, "items": {"type": "object"}},
            "rtol": {"type": "number", "exclusiveMinimum": 0},
            "answer_requirements": {"type": "string"},
        },
    },
    "symbolic": {
        "type": "object",
        "required": ["kind", "expr", "symbols"],
        "properties": {
            "kind": {"const": "symbolic"},
            "expr": {"type": "string", "minLength": 1},
            "symbols": {"type": "object", "additionalProperties": {"enum": list(SYMBOL_DOMAINS)}},
            "answer_requirements": {"type": "string"},
        },
    },
    "categorical": {
        "type": "object",
        "required": ["kind", "value", "choices"],
        "properties": {
            "kind": {"const": "categorical"},
            "value": {"type": "string"},
            "choices": {"type": "array", "minItems": 2, "items": {"type": "string"}},
            "answer_requirements": {"type": "string"},
        },
    },
}

ANSWER_HINTS = {
    "code": (
        '{"kind": "code", "function_name": "...", "arguments": [{"name": "...", "type": "float"}], '
        '"reference_code": "def ...(...):\\n    ...", "test_inputs": [{"<argument>": <value>}, ... at least 3, '
        'spread over the physically sensible range], "rtol": 1e-6, "answer_requirements": "the function '
        'signature with a docstring saying what each argument is and what to return"}'
    ),
    "symbolic": (
        '{"kind": "symbolic", "expr": "<sympy syntax, e.g. 3*m**2/(2*pi)>", "symbols": {"<every symbol in expr>": '
        '"positive|real|..."}, "answer_requirements": "in terms of which symbols to give the answer"}'
    ),
    "categorical": (
        '{"kind": "categorical", "value": "<the correct label>", "choices": ["<every allowed label, also listed in '
        'the statement>"], "answer_requirements": "which labels are allowed"}'
    ),
}


def reply_schema(answer_kinds: tuple[str, ...]) -> dict[str, Any]:
    """The JSON schema of an authored problem whose answer is one of ``answer_kinds``."""
    answers = [ANSWER_SCHEMAS[kind] for kind in answer_kinds]
    return {
        "type": "object",
        "required": ["statement", "short_description", "solution", "final_answer", "answer"],
        "properties": {
            "statement": {"type": "string", "minLength": 40},
            "short_description": {"type": "string", "minLength": 5},
            "solution": {"type": "string", "minLength": 20},
            "final_answer": {"type": "string", "minLength": 1},
            "answer": answers[0] if len(answers) == 1 else {"oneOf": answers},
        },
    }


def _skeleton(answer: dict[str, Any]) -> str:
    arguments = ", ".join(f"{a['name']}: {a['type']}" for a in answer["arguments"])
    text = (answer.get("answer_requirements") or "").strip()
    signature = f"def {answer['function_name']}({arguments}):"
    return (
        text
        if signature.split("(")[0] in text
        else f"Implement\n\n```python\n{signature}\n    ...\n```\n\n{text}".strip()
    )


def problem_from_reply(
    reply: dict[str, Any],
    source: Source,
    *,
    topic: str,
    level: str,
    task_type: str,
    outputs: list[Any] | None = None,
) -> Problem:
    """The Problem an authored reply describes (``outputs``: the expected outputs of a code answer, computed by
    the caller in the sandbox); FieldError/ValueError say what is wrong."""
    answer = dict(reply["answer"])
    kind = answer.get("kind")
    requirements = (answer.get("answer_requirements") or "").strip()
    if kind == "code":
        cases = []
        for index, inputs in enumerate(answer["test_inputs"]):
            case: dict[str, Any] = {"case_id": str(index), "inputs": inputs}
            if answer.get("rtol") is not None:
                case["rtol"] = answer["rtol"]
            if outputs is not None:
                case["output"] = outputs[index]
            cases.append(case)
        spec = answer_from_dict(
            {
                "kind": "code",
                "function_name": answer["function_name"],
                "arguments": answer["arguments"],
                "reference": answer["reference_code"],
                "test_cases": cases,
            },
            "answer",
        )
        requirements = _skeleton(answer)
    elif kind == "symbolic":
        spec = answer_from_dict(
            {"kind": "symbolic", "expr": answer["expr"], "symbols": answer["symbols"]}, "answer"
        )
        requirements = (
            requirements or "Give the final answer as a single closed-form expression in `\\boxed{...}`."
        )
    else:
        spec = answer_from_dict(
            {"kind": "categorical", "value": answer["value"], "choices": answer["choices"]}, "answer"
        )
        choices = ", ".join(answer["choices"])
        requirements = requirements or f"Give exactly one of: {choices}, in `\\boxed{{...}}`."
    return Problem.create(
        reply["statement"].strip(),
        spec,
        source,
        solution=reply["solution"].strip(),
        topic=topic,
        level=level,
        task_type=task_type,
        answer_requirements=requirements,
        answer_text=reply["final_answer"].strip(),
        extra={"short_description": reply["short_description"].strip()},
    )


def own_answer(problem: Problem) -> str:
    """The author's own answer as a response the verifier reads: the reference code, or the boxed LaTeX."""
    if isinstance(problem.answer, CodeAnswer):
        return f"```python\n{problem.answer.reference}\n```"
    return f"\\boxed{{{problem.answer_text.strip().strip('$')}}}"


def undiscriminating(outputs: list[Any]) -> str | None:
    """Why a code answer's test cases cannot tell answers apart (every expected output equal), or None."""
    if len(outputs) >= 2 and all(
        json.dumps(o, sort_keys=True) == json.dumps(outputs[0], sort_keys=True) for o in outputs
    ):
        return f"every test case expects the same output {json.dumps(outputs[0])[:60]}, so a constant function passes; choose inputs that change the answer"
    return None


async def author_problem(
    client: Any,
    messages: list[dict[str, str]],
    answer_kind: str,
    build: Callable[[dict[str, Any], list[Any] | None], Problem],
    *,
    stage: str,
    repair_prompt: Callable[[str], str],
    max_repairs: int = 2,
    verify_timeout: float = 10.0,
    **options: Any,
) -> dict[str, Any]:
    """Ask ``client`` (LLMClient's ``complete_json``) for a problem, build it (``build(reply, outputs)``), run its
    reference in the sandbox and grade the author's own answer; repair with the reason up to ``max_repairs`` times.

    Returns ``{"status": "accepted", "problem": ...}``, ``{"status": "rejected", "reason": ...}`` (the model could
    not make a usable problem) or ``{"status": "failed", "error": ...}`` (requests failed for good: retry later).
    """
    import asyncio

    from curation.verify import averify
    from curation.verify.code import InvalidProblem, reference_outputs

    schema = reply_schema((answer_kind,))
    reason = ""
    attempts = 0
    for attempt in range(max_repairs + 1):
        attempts = attempt + 1
        try:
            reply, completion = await client.complete_json(
                messages, schema, stage=stage, name="problem", **options
            )
        except Exception as exc:
            kind = getattr(exc, "kind", None)
            if kind is None:
                raise
            if kind == "structured":
                return {"status": "rejected", "reason": str(exc), "attempts": attempts}
            return {"status": "failed", "error": exc.to_dict(), "attempts": attempts}
        try:
            problem = build(reply, None)
            if isinstance(problem.answer, CodeAnswer):
                outputs = await asyncio.to_thread(reference_outputs, problem.answer, verify_timeout)
                reason = undiscriminating(outputs) or ""
                if not reason:
                    problem = build(reply, outputs)
            if not reason:
                result = await averify(problem, own_answer(problem), verify_timeout)
                if result.status == "correct":
                    return {"status": "accepted", "problem": problem.to_dict(), "attempts": attempts}
                detail = result.details.get("reason") or result.details
                reason = f"the verifier grades your own final answer {result.status}: {str(detail)[:400]}"
        except (FieldError, ValueError, KeyError, TypeError, InvalidProblem) as exc:
            reason = f"the answer spec is not usable: {exc}"
        messages = [
            *messages,
            {"role": "assistant", "content": completion.text[:20000]},
            {"role": "user", "content": repair_prompt(reason)},
        ]
    return {"status": "rejected", "reason": reason, "attempts": attempts}
