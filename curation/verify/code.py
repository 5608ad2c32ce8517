"""Grade a ``code`` answer: run the response's function in the sandbox and compare with the reference's outputs.

The response's last fenced python block must define ``function_name``; it is called on every test case with the
inputs *positionally, in the declared argument order*. The reference's outputs come from the test case when it
carries one, otherwise from running ``answer.reference`` in the sandbox once (cached in this process by a hash of
reference + inputs).

Only plain data leaves a sandboxed child. Inside the child (:mod:`curation.verify.attempt`), ``to_wire``
converts results by *exact* type (``type(x) is float``; numpy scalars and numeric arrays by exact numpy type) into
JSON with explicit tags for complex numbers, NaN/inf, big ints and non-string dict keys; anything else (a float
subclass with an ``__eq__`` that always says yes, a list subclass, an arbitrary object) becomes an
``unsupported`` marker. The comparison runs here, outside the child, on values decoded by :func:`from_wire`.

Comparison (:func:`compare`): numbers (int, float, complex; an int where a float is expected is fine) match when
``|c - v| <= atol + rtol*|v|`` (complex modulus) and ``c`` is finite: NaN and inf never match. ``bool`` (numpy's
too) matches only a bool, strings and None match exactly, sequences match element-wise whatever their container
(list, tuple and ndarray are all the same), dicts match key by key. Defaults: rtol 1e-6, atol 0.

A tolerance that makes the check vacuous makes the problem ``invalid_problem``, so that ``return 0.0`` cannot pass:
``rtol >= MAX_RTOL`` (0.1), or ``atol >= ATOL_SCALE_LIMIT * scale`` (1e-3) where ``scale`` is the largest magnitude
among the case's expected numbers (or, when all of them are zero, among all cases' expected numbers). An
expected output that is None, non-finite or unsupported is ``invalid_problem`` too, as is a reference that fails,
times out, or attempts a forbidden operation.

Statuses: ``correct``; ``incorrect`` (some case wrong); ``no_answer`` (no python block); ``unparseable`` (the
block is not valid Python or does not define the function); ``timeout``; ``error`` (the code raised, including
a call with the wrong number of arguments, exited, crashed, printed more than 1 MB, or attempted a forbidden
operation, which is ``error`` even when its values would be right); ``invalid_problem``.
"""

from __future__ import annotations

import _thread
import cmath
import hashlib
import json
import math
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

# The child side (what runs in the sandbox) lives in its own small module, which is all the fork server imports.
from curation.verify.attempt import ENTRY, Unsupported, WireMap, from_wire
from curation.verify.extract import last_python_block

if TYPE_CHECKING:
    from curation.records.answer import CodeAnswer, CodeTestCase

MAX_RTOL = 0.1
ATOL_SCALE_LIMIT = 1e-3
REFERENCE_CACHE_SIZE = 4096
# Of JSON text: large reference outputs must not grow the process without bound.
REFERENCE_CACHE_BYTES = 64 << 20
SUMMARY_CHARS = 240


class InvalidProblem(ValueError):
    """The problem itself cannot grade anything: broken reference, vacuous tolerance, unusable expected output."""


class SandboxUnavailable(RuntimeError):
    """The sandbox could not run anything: a verifier failure, never the problem's or the response's fault."""


class ResultOverServerLimit(RuntimeError):
    """A child sent more result bytes than its server allows, where that server has a lower limit than the
    sandbox's own (a pool dispatcher's): the check belongs where the full limit applies (a worker)."""


# --------------------------------------------------------------------------- grader side: decode and compare


def _is_number(x: Any) -> bool:
    t = type(x)
    return t is int or t is float or t is complex


def _finite(x: Any) -> bool:
    if type(x) is int:
        return True
    return cmath.isfinite(x) if type(x) is complex else math.isfinite(x)


def _kind(x: Any) -> str:
    if isinstance(x, Unsupported):
        return repr(x)
    if type(x) is WireMap:
        return "dict"
    if type(x) is list:
        return f"sequence of {len(x)}"
    return type(x).__name__


def compare(expected: Any, got: Any, rtol: float, atol: float, where: str = "") -> str | None:
    """None when ``got`` matches ``expected`` (both decoded); otherwise why not."""
    at = f" at {where}" if where else ""
    if type(expected) is bool:
        if type(got) is bool and got == expected:
            return None
        return f"expected {expected}{at}, got {_kind(got) if type(got) is not bool else got}"
    if _is_number(expected):
        if not _is_number(got):
            return f"expected a number{at}, got {_kind(got)}"
        if not _finite(got):
            return f"got a non-finite number{at}"
        try:
            diff = abs(got - expected)
        except OverflowError:
            return f"number out of range{at}"
        try:
            tolerance = atol + rtol * abs(expected)
        except OverflowError:
            return None if got == expected else f"{got!r} != {expected!r}{at}"
        if diff <= tolerance:
            return None
        return f"{_short(got)} != {_short(expected)}{at} (|difference| {float(diff):.3g} > tolerance {tolerance:.3g})"
    if type(expected) is str:
        return None if type(got) is str and got == expected else f"expected the string {expected[:50]!r}{at}"
    if expected is None:
        return None if got is None else f"expected None{at}, got {_kind(got)}"
    if type(expected) is list:
        if type(got) is not list:
            return f"expected a sequence of {len(expected)}{at}, got {_kind(got)}"
        if len(got) != len(expected):
            return f"expected {len(expected)} elements{at}, got {len(got)}"
        for i, (e, g) in enumerate(zip(expected, got, strict=True)):
            why = compare(e, g, rtol, atol, f"{where}[{i}]")
            if why:
                return why
        return None
    if type(expected) is WireMap:
        if type(got) is not WireMap:
            return f"expected a dict{at}, got {_kind(got)}"
        if set(got) != set(expected):
            missing = sorted(set(expected) - set(got))[:5]
            extra = sorted(set(got) - set(expected))[:5]
            return f"dict keys differ{at}: missing {missing}, unexpected {extra}"
        for key, e in expected.items():
            why = compare(e, got[key], rtol, atol, f"{where}[{key}]")
            if why:
                return why
        return None
    return f"expected value{at} is not comparable ({_kind(expected)})"


def _short(x: Any) -> str:
    return repr(x)[:60]


def _leaves(value: Any) -> Any:
    stack = [value]
    while stack:
        x = stack.pop()
        if type(x) is list:
            stack.extend(x)
        elif type(x) is WireMap:
            stack.extend(x.values())
        else:
            yield x


def _tolerances(case: CodeTestCase) -> tuple[float, float]:
    from curation.records.answer import DEFAULT_NUMERIC_RTOL

    rtol = case.rtol if case.rtol is not None else DEFAULT_NUMERIC_RTOL
    atol = case.atol if case.atol is not None else 0.0
    return rtol, atol


def check_problem(expected: list[Any], cases: tuple[CodeTestCase, ...]) -> str | None:
    """Why these decoded expected outputs and tolerances cannot grade anything, or None when they can."""
    scales = []
    for index, (value, case) in enumerate(zip(expected, cases, strict=True)):
        rtol, _ = _tolerances(case)
        if rtol >= MAX_RTOL:
            return f"test case {index}: rtol {rtol:g} is vacuous (must be below {MAX_RTOL:g})"
        if value is None:
            return f"test case {index}: the reference returned None"
        scale = 0.0
        for leaf in _leaves(value):
            if isinstance(leaf, Unsupported):
                return f"test case {index}: the reference returned an unsupported value {leaf!r}"
            if _is_number(leaf):
                if not _finite(leaf):
                    return f"test case {index}: the reference returned a non-finite number"
                try:
                    scale = max(scale, float(abs(leaf)))
                except OverflowError:
                    scale = math.inf
        scales.append(scale)
    problem_scale = max(scales, default=0.0)
    for index, case in enumerate(cases):
        _, atol = _tolerances(case)
        scale = scales[index] if scales[index] > 0 else problem_scale
        if atol > 0 and scale > 0 and atol >= ATOL_SCALE_LIMIT * scale:
            return (
                f"test case {index}: atol {atol:g} is not far below the expected magnitude {scale:g} "
                f"(must be below {ATOL_SCALE_LIMIT:g} x that); a constant answer could pass"
            )
    return None


# ------------------------------------------------------------------------------------------ running and judging


def _payload(source: str, answer: CodeAnswer, indices: list[int]) -> dict:
    return {
        "source": source,
        "function_name": answer.function_name,
        "arguments": [[a.name, a.type] for a in answer.arguments],
        "cases": [answer.test_cases[i].inputs for i in indices],
    }


def _sandbox_run(payload: dict, timeout: float, server: Any = None) -> Any:
    """Run the payload in a child of ``server`` (a ``SandboxServer`` or ``ServerPair``), or of this process's
    default one. Raises :class:`ResultOverServerLimit` when a server with a lowered result limit hit it."""
    from curation.verify import sandbox

    if server is None:
        return sandbox.run(ENTRY, payload, timeout)
    result = server.run(ENTRY, payload, timeout)
    if result.status == "result_limit" and server.result_limit < sandbox.RESULT_LIMIT_BYTES:
        raise ResultOverServerLimit(f"more than {server.result_limit} bytes of results")
    return result


def _read_frames(frames: list[str], count: int) -> tuple[dict[str, Any], list[dict | None], str | None]:
    """(stage frame or {}, per-case frames, tampering reason)."""
    stage: dict[str, Any] = {}
    cases: list[dict | None] = [None] * count
    for text in frames:
        try:
            frame = json.loads(text)
        except (ValueError, RecursionError):
            return stage, cases, "a result frame is not valid JSON"
        if type(frame) is not dict:
            return stage, cases, "a result frame is not an object"
        if "case" in frame:
            index = frame["case"]
            if type(index) is not int or not 0 <= index < count or cases[index] is not None:
                return stage, cases, "the result stream was tampered with"
            cases[index] = frame
        else:
            stage = frame
    return stage, cases, None


# key -> JSON text of the outputs (a list) or of a failure (a str)
_CACHE: OrderedDict[str, str] = OrderedDict()
_CACHE_BYTES = 0
_CACHE_LOCK = _thread.allocate_lock()


def _cache_key(answer: CodeAnswer, indices: list[int]) -> str:
    blob = json.dumps(
        [
            answer.reference,
            answer.function_name,
            [[a.name, a.type] for a in answer.arguments],
            [answer.test_cases[i].inputs for i in indices],
        ],
        sort_keys=True,
        default=repr,
    )
    return hashlib.sha256(blob.encode()).hexdigest()


def reference_outputs(answer: CodeAnswer, timeout: float = 10.0, server: Any = None) -> list[Any]:
    """Expected outputs (plain JSON, storable as ``CodeTestCase.output``): given ones kept, the rest computed by
    running the reference in the sandbox once and cached. Raises :class:`InvalidProblem` if the reference fails."""
    outputs: list[Any] = [case.output for case in answer.test_cases]
    missing = [i for i, out in enumerate(outputs) if out is None]
    if not missing:
        return outputs
    global _CACHE_BYTES
    key = _cache_key(answer, missing)
    with _CACHE_LOCK:
        text = _CACHE.get(key)
        if text is not None:
            _CACHE.move_to_end(key)
    if text is not None:
        cached = json.loads(text)
    else:
        cached, cacheable = _run_reference(answer, missing, timeout, server)
        # Kept as JSON text: every caller gets values of its own (a caller that edits its details must not
        # change what later checks compare against), and the byte budget is exact.
        if cacheable:
            text = json.dumps(cached, separators=(",", ":"))
            with _CACHE_LOCK:
                if key not in _CACHE:
                    _CACHE[key] = text
                    _CACHE_BYTES += len(text)
                while _CACHE and (len(_CACHE) > REFERENCE_CACHE_SIZE or _CACHE_BYTES > REFERENCE_CACHE_BYTES):
                    _CACHE_BYTES -= len(_CACHE.popitem(last=False)[1])
    if isinstance(cached, str):
        raise InvalidProblem(cached)
    for i, value in zip(missing, cached, strict=True):
        outputs[i] = value
    return outputs


def _run_reference(
    answer: CodeAnswer, indices: list[int], timeout: float, server: Any = None
) -> tuple[list[Any] | str, bool]:
    """(outputs or failure reason, whether to cache it); a timeout may be load, so it is not cached."""
    result = _sandbox_run(_payload(answer.reference, answer, indices), timeout, server)
    if result.status == "timeout":
        return f"the reference did not finish within {timeout:g} s", False
    if result.status == "unavailable":
        raise SandboxUnavailable(f"the sandbox could not run the reference: {result.reason}")
    if result.status != "ok":
        return f"the reference failed: {result.reason}", True
    stage, cases, tampered = _read_frames(result.frames, len(indices))
    if tampered:
        return f"the reference's result stream is unusable: {tampered}", True
    if stage:
        why = stage.get("syntax_error") or stage.get("load_error") or stage.get("missing") or "unknown"
        return f"the reference does not run: {why}", True
    values = []
    for index, frame in zip(indices, cases, strict=True):
        if frame is None:
            return f"the reference produced no result for test case {index}", True
        if "error" in frame:
            return f"the reference raised on test case {index}: {frame['error']}", True
        values.append(frame.get("value"))
    return values, True


def _summary(wire: Any) -> Any:
    if _surely_short(wire):
        return wire
    text = json.dumps(wire, separators=(",", ":"))
    return wire if len(text) <= SUMMARY_CHARS else text[:SUMMARY_CHARS] + "..."


def _surely_short(wire: Any) -> bool:
    """Whether ``wire``'s JSON is within SUMMARY_CHARS without writing it: a number, or a list of up to nine
    (a float is at most 24 characters), which is what most test cases return."""
    if type(wire) is list:
        if len(wire) > 9:
            return False
        for item in wire:
            if not _short_scalar(item):
                return False
        return True
    return _short_scalar(wire)


def _short_scalar(x: Any) -> bool:
    t = type(x)
    return x is None or t is float or t is bool or (t is int and -(1 << 63) < x < 1 << 63)


def grade_code(
    answer: CodeAnswer, final_text: str, timeout: float = 10.0, server: Any = None
) -> tuple[str, dict[str, Any]]:
    """(status, details) for one response's final text against a code answer; never raises on hostile text
    (only :class:`SandboxUnavailable` when the sandbox itself is broken, which the worker reports as ``error``).
    The code runs in children of ``server`` (a ``SandboxServer``), by default this process's fork server."""
    source = last_python_block(final_text)
    if source is None:
        return "no_answer", {"reason": "no fenced python block in the final answer"}
    try:
        expected_wire = reference_outputs(answer, timeout, server)
    except InvalidProblem as exc:
        return "invalid_problem", {"reason": str(exc)}
    expected = [from_wire(value) for value in expected_wire]
    problem = check_problem(expected, answer.test_cases)
    if problem:
        return "invalid_problem", {"reason": problem}
    count = len(answer.test_cases)
    result = _sandbox_run(_payload(source, answer, list(range(count))), timeout, server)
    if result.status == "unavailable":
        raise SandboxUnavailable(f"the sandbox could not run the response: {result.reason}")
    stage, frames, tampered = _read_frames(result.frames, count)
    details: dict[str, Any] = {"cases": _case_details(answer, expected_wire, expected, frames)}
    if result.output_tail and result.status != "ok":
        details["output_tail"] = result.output_tail[-500:]
    if result.status == "forbidden":
        return "error", {**details, "reason": result.reason, "violations": result.violations}
    if result.status == "timeout":
        return "timeout", {**details, "reason": result.reason}
    if result.status != "ok":
        return "error", {**details, "reason": result.reason}
    if tampered:
        return "error", {**details, "reason": tampered}
    if "syntax_error" in stage:
        return "unparseable", {**details, "reason": f"not valid Python: {stage['syntax_error']}"}
    if "missing" in stage:
        return "unparseable", {**details, "reason": stage["missing"]}
    if "load_error" in stage:
        return "error", {**details, "reason": f"the code raised while loading: {stage['load_error']}"}
    cases = details["cases"]
    errors = [c for c in cases if c["error"]]
    if errors:
        first = errors[0]
        return "error", {**details, "reason": f"test case {first['index']} raised {first['error']}"}
    wrong = [c for c in cases if not c["ok"]]
    if wrong:
        first = wrong[0]
        return "incorrect", {**details, "reason": f"test case {first['index']}: {first['mismatch']}"}
    return "correct", {**details, "reason": f"all {count} test cases match"}


def _case_details(
    answer: CodeAnswer, expected_wire: list[Any], expected: list[Any], frames: list[dict | None]
) -> list[dict[str, Any]]:
    out = []
    for index, (case, frame) in enumerate(zip(answer.test_cases, frames, strict=True)):
        entry: dict[str, Any] = {
            "index": index,
            "case_id": case.case_id,
            "expected": _summary(expected_wire[index]),
            "got": None,
            "ok": False,
            "error": None,
        }
        if frame is None:
            entry["error"] = "no result"
        elif "error" in frame:
            entry["error"] = str(frame["error"])[:300]
        else:
            got_wire = frame.get("value")
            entry["got"] = _summary(got_wire)
            rtol, atol = _tolerances(case)
            try:
                why = compare(expected[index], from_wire(got_wire), rtol, atol)
            except RecursionError:
                why = "result nested too deeply"
            entry["ok"] = why is None
            if why:
                entry["mismatch"] = why
        out.append(entry)
    return out
