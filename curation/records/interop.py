"""Import and export of the paper's per-problem JSON and of TPBench's column layout (DESIGN.md interop contract).

Both formats grade by code, so they map to a Problem with a CodeAnswer. Nothing is lost on the way in: what
has no Problem field stays in ``problem.extra`` (``"paper_json"``: the document minus what was mapped;
``"tpbench"``: the row's other columns), together with the original spelling of any mapped value whose
canonical rendering would differ (``case_id: 1`` vs ``"1"``, ``tolerance: {"rtol": 1e-6}`` vs ``1e-6``, code
not wrapped in ``\\begin{python}``). Export uses such an original only while it still means what the Problem
says, so ``export(import(doc)) == doc`` exactly, and an edited Problem exports its new content.

Mapping of the paper's JSON::

    problem_details."Problem Statement"       statement
    problem_details."Solution"                solution
    problem_details."Answer Requirements"     answer_requirements (verbatim)
    problem_details."Answer"                  answer_text (verbatim LaTeX)
    problem_details."Code"                    answer.reference (unwrapped from \\begin{python}...\\end{python})
    problem_details.test.function_name        answer.function_name
    problem_details.test.arguments            answer.arguments (types mapped, e.g. np.ndarray -> array)
    problem_details.test.test_cases[i]        answer.test_cases[i]: case_id (as a string), inputs; output when it
                                              is a real value (the paper's generator stores ``str(result)``,
                                              which is kept aside rather than used as a cached output);
                                              tolerance: a number is an rtol, an object gives rtol and atol
    problem_metadata."Domain of theoretical physics"   topic
    problem_metadata."Difficulty level"                level

A missing "Solution", "Answer Requirements" or "Answer" reads as an empty string and is written back as one.

Mapping of a TPBench row: ``problem`` -> statement, ``solution`` -> solution, ``answer`` -> answer_text,
``domain`` -> topic, ``difficulty_level`` -> level (as a string), ``code_answer_requirements`` ->
answer_requirements and the function's name and arguments (its ``def`` parsed with ``ast``, never run),
``reference_implementation`` -> answer.reference. TPBench rows carry no test cases: pass ``test_cases=`` (or
give the row a ``test_cases`` column in the paper's case format).
"""

from __future__ import annotations

import ast
import copy
import json
import math
import re
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

from curation.records.answer import (
    CODE_ARGUMENT_TYPES,
    CodeAnswer,
    CodeArgument,
    CodeTestCase,
    FieldError,
    answer_from_dict,
)
from curation.records.problem import Problem, Source

PAPER_EXTRA_KEY = "paper_json"
TPBENCH_EXTRA_KEY = "tpbench"
PAPER_DOMAIN_KEY = "Domain of theoretical physics"
PAPER_LEVEL_KEY = "Difficulty level"
TPBENCH_COLUMNS = (
    "problem_id",
    "domain",
    "difficulty_level",
    "problem",
    "solution",
    "answer",
    "code_answer_requirements",
    "reference_implementation",
)

# Type spellings seen in the wild -> CODE_ARGUMENT_TYPES; anything else is "any" (passed through unconverted).
_TYPE_ALIASES = {
    "np.ndarray": "array",
    "numpy.ndarray": "array",
    "ndarray": "array",
    "npt.NDArray": "array",
    "List": "list",
    "Sequence": "list",
    "Dict": "dict",
    "Tuple": "tuple",
    "Any": "any",
    "integer": "int",
    "number": "float",
    "real": "float",
    "boolean": "bool",
    "string": "str",
}
_LATEX_PYTHON = re.compile(r"\s*\\begin\{python\}[ \t]*\n?(.*?)\n?[ \t]*\\end\{python\}\s*", re.DOTALL)
_FENCED_PYTHON = re.compile(r"\s*```(?:python|py)?[ \t]*\n(.*?)\n?```\s*", re.DOTALL)


def _same_json(a: Any, b: Any) -> bool:
    """Equal as JSON text, so 1 and 1.0 or "1" and 1 count as different spellings."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def unwrap_python(text: str) -> str:
    """The code inside ``\\begin{python}...\\end{python}`` or a python fence; the text itself otherwise."""
    for pattern in (_LATEX_PYTHON, _FENCED_PYTHON):
        match = pattern.fullmatch(text)
        if match:
            return textwrap.dedent(match.group(1))
    return text


def wrap_python(code: str) -> str:
    """Code in the ``\\begin{python}...\\end{python}`` environment both formats use."""
    return f"\\begin{{python}}\n{code}\n\\end{{python}}"


def argument_type(spelling: str) -> str:
    """A type as written in a signature or the paper's JSON, as one of CODE_ARGUMENT_TYPES."""
    spelling = spelling.strip()
    if spelling in CODE_ARGUMENT_TYPES:
        return spelling
    base = spelling.split("[", 1)[0].strip()
    if base in CODE_ARGUMENT_TYPES:
        return base
    return _TYPE_ALIASES.get(base, "any")


def _function_def(code: str) -> ast.FunctionDef | None:
    """The first top-level ``def`` in ``code``, parsed (never run); a bare signature without a body works too."""
    code = textwrap.dedent(code)
    try:
        tree = ast.parse(code)
    except SyntaxError:
        # A skeleton may be only the signature (and a docstring): parse the header with a stand-in body.
        header = re.search(r"^([ \t]*)def\s+\w+\s*\(.*?\)\s*(->[^:]*)?:", code, re.DOTALL | re.MULTILINE)
        if not header:
            return None
        try:
            tree = ast.parse(textwrap.dedent(header.group(0)) + "\n    ...")
        except SyntaxError:
            return None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            return node
    return None


def parse_signature(code: str, path: str) -> tuple[str, tuple[CodeArgument, ...]]:
    """``(function_name, arguments)`` of the first ``def`` in ``code`` (LaTeX/fence wrappers allowed)."""
    node = _function_def(unwrap_python(_first_python_block(code)))
    if node is None:
        raise FieldError(path, "has no Python `def name(args):` signature to take the function from")
    args = node.args
    if args.vararg or args.kwarg or args.kwonlyargs:
        raise FieldError(
            path,
            f"{node.name}() takes *args, **kwargs or keyword-only arguments; tests pass inputs by position",
        )
    arguments = tuple(
        CodeArgument(
            name=a.arg, type="any" if a.annotation is None else argument_type(ast.unparse(a.annotation))
        )
        for a in [*args.posonlyargs, *args.args]
    )
    return node.name, arguments


def _first_python_block(text: str) -> str:
    """The first ``\\begin{python}`` block or python fence in prose-plus-code text; the text if there is none."""
    for pattern in (r"\\begin\{python\}(.*?)\\end\{python\}", r"```(?:python|py)[ \t]*\n(.*?)```"):
        match = re.search(pattern, text, re.DOTALL)
        if match:
            return match.group(1)
    return text


def _check_reference(reference: str, function_name: str, path: str) -> None:
    """The reference must be Python that defines ``function_name`` at top level (checked by parsing only)."""
    try:
        tree = ast.parse(reference)
    except SyntaxError as exc:
        raise FieldError(path, f"is not valid Python ({exc.msg}, line {exc.lineno})") from None
    names = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    if function_name not in names:
        found = ", ".join(sorted(names)) or "no function"
        raise FieldError(path, f"must define {function_name}() at top level; it defines {found}")


def _parse_tolerance(raw: Any, path: str) -> tuple[float | None, float | None]:
    """A case's ``tolerance``: a number is a relative tolerance; ``{"rtol": .., "atol": ..}`` gives both."""
    if raw is None:
        return None, None
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return _tolerance_value(raw, path), None
    if isinstance(raw, dict) and raw and set(raw) <= {"rtol", "atol"}:
        values = []
        for key in ("rtol", "atol"):
            value = raw.get(key)
            values.append(None if value is None else _tolerance_value(value, f"{path}.{key}"))
        return values[0], values[1]
    raise FieldError(
        path, f'must be a number (relative tolerance) or {{"rtol": .., "atol": ..}}, got {raw!r}'
    )


def _tolerance_value(value: Any, path: str) -> float:
    if (
        not isinstance(value, (int, float))
        or isinstance(value, bool)
        or not math.isfinite(value)
        or value < 0
    ):
        raise FieldError(path, f"must be a finite number >= 0, got {value!r}")
    return float(value)


def _render_tolerance(rtol: float | None, atol: float | None) -> Any:
    if atol is None:
        return rtol
    return {"atol": atol} if rtol is None else {"rtol": rtol, "atol": atol}


def _render_case_id(case_id: str) -> Any:
    # The paper numbers its cases 1, 2, ...: digit strings go back out as numbers.
    return (
        int(case_id) if case_id.isascii() and case_id.isdigit() and str(int(case_id)) == case_id else case_id
    )


def _cases_from_paper(raw_cases: Any, path: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Paper test cases -> (our test-case dicts, the leftovers of each case kept for export)."""
    if not isinstance(raw_cases, list):
        raise FieldError(path, f"must be a list of test cases, got {type(raw_cases).__name__}")
    cases, leftovers = [], []
    for i, raw in enumerate(raw_cases):
        where = f"{path}.{i}"
        if not isinstance(raw, dict):
            raise FieldError(where, "must be an object with 'inputs'")
        case: dict[str, Any] = {"inputs": raw.get("inputs")}
        left = {k: v for k, v in raw.items() if k not in ("inputs", "output", "tolerance")}
        if raw.get("case_id") is not None:
            case["case_id"] = str(raw["case_id"])
        output = raw.get("output")
        # The paper's generator caches str(result) next to output_type: a string is a value only for "str".
        if output is not None and (not isinstance(output, str) or raw.get("output_type") == "str"):
            case["output"] = output
        elif "output" in raw:
            left["output"] = output
        rtol, atol = _parse_tolerance(raw.get("tolerance"), f"{where}.tolerance")
        case.update({k: v for k, v in (("rtol", rtol), ("atol", atol)) if v is not None})
        if "tolerance" in raw and (
            raw["tolerance"] is None or not _same_json(_render_tolerance(rtol, atol), raw["tolerance"])
        ):
            left["tolerance"] = raw["tolerance"]
        cases.append(case)
        leftovers.append(left)
    return cases, leftovers


def _leftover_for(case: CodeTestCase, index: int, leftovers: list[dict[str, Any]]) -> dict[str, Any]:
    """The leftovers imported with this case: matched by case_id, else by position when neither has an id."""
    if case.case_id is not None:
        for left in leftovers:
            if "case_id" in left and str(left["case_id"]) == case.case_id:
                return left
        return {}
    if index < len(leftovers) and "case_id" not in leftovers[index]:
        return leftovers[index]
    return {}


def _case_to_paper(case: CodeTestCase, left: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if case.case_id is not None:
        out["case_id"] = left["case_id"] if "case_id" in left else _render_case_id(case.case_id)
    out["inputs"] = dict(case.inputs)
    if case.output is not None:
        out["output"] = case.output
    elif "output" in left:
        out["output"] = left["output"]
    tolerance = _render_tolerance(case.rtol, case.atol)
    if "tolerance" in left and _parse_tolerance(left["tolerance"], "tolerance") == (case.rtol, case.atol):
        out["tolerance"] = left["tolerance"]
    elif tolerance is not None:
        out["tolerance"] = tolerance
    out.update({k: v for k, v in left.items() if k not in ("case_id", "output", "tolerance")})
    return out


def _arguments_from(raw: Any, path: str) -> list[dict[str, Any]]:
    if not isinstance(raw, list):
        raise FieldError(path, f"must be a list of {{name, type}}, got {type(raw).__name__}")
    out = []
    for i, arg in enumerate(raw):
        if not isinstance(arg, dict):
            raise FieldError(f"{path}.{i}", "must be an object with 'name' and 'type'")
        spelling = arg.get("type")
        # Only name and type: other keys (descriptions...) make the raw list differ, so it is kept as is.
        name = {"name": arg["name"]} if "name" in arg else {}
        out.append({**name, "type": "float" if spelling is None else argument_type(str(spelling))})
    return out


def _code_answer(problem: Problem, fmt: str) -> CodeAnswer:
    if not isinstance(problem.answer, CodeAnswer):
        raise FieldError(
            "answer.kind", f"{fmt} grades by code; this problem's answer is {problem.answer.kind}"
        )
    return problem.answer


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def problem_from_paper_json(
    doc: Mapping[str, Any], *, source: Source | None = None, task_type: str = ""
) -> Problem:
    """A Problem from one of the paper's per-problem JSON documents; errors name the paper's field path."""
    if not isinstance(doc, Mapping):
        raise FieldError("", f"a paper problem must be a JSON object, got {type(doc).__name__}")
    residue: dict[str, Any] = copy.deepcopy(dict(doc))
    details = residue.get("problem_details")
    if not isinstance(details, dict):
        raise FieldError(
            "problem_details", "is required: an object with 'Problem Statement', 'Code' and 'test'"
        )
    texts = {}
    for key in ("Problem Statement", "Solution", "Answer Requirements", "Answer"):
        value = details.pop(key, "")
        if not isinstance(value, str):
            raise FieldError(f"problem_details.{key}", f"must be a string, got {type(value).__name__}")
        texts[key] = value
    if not texts["Problem Statement"].strip():
        raise FieldError("problem_details.Problem Statement", "is required and must not be empty")
    code = details.pop("Code", None)
    if not isinstance(code, str):
        raise FieldError("problem_details.Code", "is required: the reference implementation")
    reference = unwrap_python(code)
    if wrap_python(reference) != code:
        details["Code"] = code
    test = details.get("test")
    if not isinstance(test, dict):
        raise FieldError("problem_details.test", "is required: {function_name, arguments, test_cases}")
    function_name = test.pop("function_name", None)
    raw_arguments = test.pop("arguments", None)
    arguments = _arguments_from(raw_arguments, "problem_details.test.arguments")
    if not _same_json(arguments, raw_arguments):
        test["arguments"] = raw_arguments
    cases, leftovers = _cases_from_paper(test.pop("test_cases", None), "problem_details.test.test_cases")
    test["test_cases"] = leftovers
    answer = answer_from_dict(
        {
            "kind": "code",
            "function_name": function_name,
            "arguments": arguments,
            "reference": reference,
            "test_cases": cases,
        },
        "problem_details.test",
    )
    _check_reference(reference, answer.function_name, "problem_details.Code")
    metadata = residue.get("problem_metadata")
    metadata = metadata if isinstance(metadata, dict) else {}
    return Problem.create(
        statement=texts["Problem Statement"],
        answer=answer,
        source=source or Source("adapted", {"format": "paper-json"}),
        solution=texts["Solution"],
        topic=_text(metadata.get(PAPER_DOMAIN_KEY)),
        level=_text(metadata.get(PAPER_LEVEL_KEY)),
        task_type=task_type,
        answer_requirements=texts["Answer Requirements"],
        answer_text=texts["Answer"],
        extra={PAPER_EXTRA_KEY: residue},
    )


def problem_to_paper_json(problem: Problem) -> dict[str, Any]:
    """The paper's per-problem JSON for a Problem with a code answer (exactly the imported one, if unchanged)."""
    answer = _code_answer(problem, "the paper's JSON")
    doc: dict[str, Any] = copy.deepcopy(problem.extra.get(PAPER_EXTRA_KEY) or {})
    doc.setdefault("problem_id", problem.id)
    metadata = doc.get("problem_metadata")
    if metadata is None and (problem.topic or problem.level):
        metadata = doc["problem_metadata"] = {}
    if isinstance(metadata, dict):
        for key, value in ((PAPER_DOMAIN_KEY, problem.topic), (PAPER_LEVEL_KEY, problem.level)):
            if (key in metadata and _text(metadata[key]) != value) or (key not in metadata and value):
                metadata[key] = value
    old_details = doc.get("problem_details") or {}
    old_test = old_details.get("test") or {}
    raw_code = old_details.get("Code")
    raw_arguments = old_test.get("arguments")
    arguments = [a.to_dict() for a in answer.arguments]
    leftovers = old_test.get("test_cases") or []
    test = {
        "function_name": answer.function_name,
        "arguments": raw_arguments
        if raw_arguments is not None and _same_json(_arguments_from(raw_arguments, "arguments"), arguments)
        else arguments,
        "test_cases": [
            _case_to_paper(c, _leftover_for(c, i, leftovers)) for i, c in enumerate(answer.test_cases)
        ],
        **{k: v for k, v in old_test.items() if k not in ("function_name", "arguments", "test_cases")},
    }
    doc["problem_details"] = {
        "Problem Statement": problem.statement,
        "Solution": problem.solution,
        "Answer Requirements": problem.answer_requirements,
        "Answer": problem.answer_text,
        "Code": raw_code
        if isinstance(raw_code, str) and unwrap_python(raw_code) == answer.reference
        else wrap_python(answer.reference),
        **{k: v for k, v in old_details.items() if k not in ("Code", "test")},
        "test": test,
    }
    return doc


def _test_cases_from_column(raw: Any) -> list[dict[str, Any]]:
    """A ``test_cases`` column in the paper's case format (a list, or its JSON text) as our case dicts."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise FieldError("test_cases", f"is not valid JSON ({exc.msg})") from None
    return _cases_from_paper(raw, "test_cases")[0]


def problem_from_tpbench_row(
    row: Mapping[str, Any],
    *,
    test_cases: Sequence[CodeTestCase | Mapping[str, Any]] | None = None,
    source: Source | None = None,
    task_type: str = "",
) -> Problem:
    """A Problem from one TPBench row; ``test_cases`` (inputs by argument name) must be given unless the row
    has a ``test_cases`` column, since a CodeAnswer is checked on at least one case."""
    if not isinstance(row, Mapping):
        raise FieldError("", f"a TPBench row must be a mapping of columns, got {type(row).__name__}")
    for column in ("problem", "code_answer_requirements", "reference_implementation"):
        if not isinstance(row.get(column), str) or not row[column].strip():
            raise FieldError(column, "is required and must be a non-empty string")
    residue = {k: copy.deepcopy(v) for k, v in row.items() if k not in TPBENCH_COLUMNS or k == "problem_id"}
    requirements = row["code_answer_requirements"]
    function_name, arguments = parse_signature(requirements, "code_answer_requirements")
    raw_reference = row["reference_implementation"]
    reference = unwrap_python(raw_reference)
    if wrap_python(reference) != raw_reference:
        residue["reference_implementation"] = raw_reference
    _check_reference(reference, function_name, "reference_implementation")
    if test_cases is not None:
        cases = [c.to_dict() if isinstance(c, CodeTestCase) else dict(c) for c in test_cases]
    elif row.get("test_cases") is not None:
        cases = _test_cases_from_column(row["test_cases"])
    else:
        cases = []
    if not cases:
        label = row.get("problem_id", "?")
        raise FieldError(
            "test_cases",
            f"TPBench row {label!r} has no test cases, and a code answer needs at least one; pass "
            f"test_cases=[{{'inputs': {{...}}}}] with inputs for {function_name}"
            f"({', '.join(a.name for a in arguments)})",
        )
    answer = answer_from_dict(
        {
            "kind": "code",
            "function_name": function_name,
            "arguments": [a.to_dict() for a in arguments],
            "reference": reference,
            "test_cases": cases,
        },
        "answer",
    )
    level = row.get("difficulty_level")
    if level is not None and not (isinstance(level, int) and not isinstance(level, bool)):
        residue["difficulty_level"] = level
    for column in ("domain", "solution", "answer"):
        if row.get(column) is not None and not isinstance(row[column], str):
            raise FieldError(column, f"must be a string, got {type(row[column]).__name__}")
    return Problem.create(
        statement=row["problem"],
        answer=answer,
        source=source or Source("adapted", {"format": "tpbench"}),
        solution=row.get("solution") or "",
        topic=row.get("domain") or "",
        level=_text(level),
        task_type=task_type,
        answer_requirements=requirements,
        answer_text=row.get("answer") or "",
        extra={TPBENCH_EXTRA_KEY: residue},
    )


def _skeleton(answer: CodeAnswer) -> str:
    """The function skeleton to complete, in the ``\\begin{python}`` environment."""
    annotations = {"any": "", "array": ": np.ndarray"}
    args = ", ".join(a.name + annotations.get(a.type, f": {a.type}") for a in answer.arguments)
    return wrap_python(f"def {answer.function_name}({args}):\n    ...")


def _requirements_with_signature(requirements: str, answer: CodeAnswer) -> str:
    """The requirements, with the function skeleton appended when they do not show its ``def``: TPBench
    solvers learn the signature from this column."""
    try:
        if parse_signature(requirements, "code_answer_requirements")[0] == answer.function_name:
            return requirements
    except FieldError:
        pass
    return f"{requirements.rstrip()}\n\n{_skeleton(answer)}" if requirements.strip() else _skeleton(answer)


def problem_to_tpbench_row(problem: Problem) -> dict[str, Any]:
    """A TPBench row for a Problem with a code answer (exactly the imported row, if unchanged).

    The TPBench layout has no place for test cases; they are exported only where the row had a
    ``test_cases`` column."""
    answer = _code_answer(problem, "TPBench")
    residue = problem.extra.get(TPBENCH_EXTRA_KEY) or {}
    raw_reference = residue.get("reference_implementation")
    if "difficulty_level" in residue and _text(residue["difficulty_level"]) == problem.level:
        level = residue["difficulty_level"]
    else:  # TPBench levels are numbers 1-5
        level = (
            int(problem.level)
            if problem.level.isascii() and problem.level.isdigit()
            else problem.level or None
        )
    row: dict[str, Any] = {
        "problem_id": residue.get("problem_id", problem.id),
        "domain": problem.topic,
        "difficulty_level": level,
        "problem": problem.statement,
        "solution": problem.solution,
        "answer": problem.answer_text,
        "code_answer_requirements": _requirements_with_signature(problem.answer_requirements, answer),
        "reference_implementation": raw_reference
        if isinstance(raw_reference, str) and unwrap_python(raw_reference) == answer.reference
        else wrap_python(answer.reference),
    }
    for key, value in residue.items():
        if key not in TPBENCH_COLUMNS:
            row[key] = copy.deepcopy(value)
    if "test_cases" in residue and _test_cases_from_column(residue["test_cases"]) != [
        c.to_dict() for c in answer.test_cases
    ]:
        row["test_cases"] = [_case_to_paper(c, {}) for c in answer.test_cases]
    return row
