"""Numeric answers: a number (maybe complex, maybe with a unit) within ``atol + rtol*|v|`` of the reference."""

from __future__ import annotations

from curation.records.answer import NumericAnswer
from curation.verify.evaluate import NotEvaluable, compile_expression, evaluate, magnitude, to_mp
from curation.verify.parse import ParseError, parse_math
from curation.verify.units import dimension_name, normalize_micro, parse_unit, split_quantity, unit_resolver


def grade_numeric_text(spec: NumericAnswer, text: str) -> tuple[str, dict]:
    """Grade an extracted answer string against a numeric spec, converting units of the same dimension."""
    try:
        expected_unit = parse_unit(spec.unit) if spec.unit else None
    except ParseError as exc:
        return "invalid_problem", {"reason": f"unit {spec.unit!r} cannot be read: {exc}"}
    details: dict = {"extracted": text}
    try:
        expr = parse_math(normalize_micro(text), unit_resolver())
        quantity = split_quantity(expr)
    except ParseError as exc:
        return "unparseable", {**details, "reason": str(exc)}
    stray = sorted(str(s) for s in quantity.value.free_symbols)
    if stray:
        return "unparseable", {**details, "reason": f"not a number: contains {', '.join(stray)}"}
    try:
        value = evaluate(compile_expression(quantity.value), {})
    except NotEvaluable as exc:
        return "unparseable", {**details, "reason": str(exc)}
    if value is None:
        return "unparseable", {**details, "reason": "the number is undefined or infinite"}
    expected_dimension = expected_unit.dimension if expected_unit else 0
    if quantity.has_unit:
        if quantity.dimension != expected_dimension:
            return "incorrect", {
                **details,
                "reason": f"unit has dimension {dimension_name(quantity.dimension)}, "
                f"expected {dimension_name(expected_dimension)}",
            }
        if expected_unit is not None:
            value = value / evaluate(compile_expression(expected_unit.value), {})
    # A bare number is read in the declared unit.
    reference = to_mp(spec.value)
    difference = magnitude(value - reference)
    allowed = spec.atol + spec.rtol * magnitude(reference)
    details.update({"value": _plain(value), "expected": _plain(reference), "abs_error": difference})
    if spec.unit:
        details["unit"] = spec.unit
    return ("correct" if difference <= allowed else "incorrect"), details


def _plain(value) -> float | str:
    if value.imag == 0:
        return float(value.real)
    return str(complex(float(value.real), float(value.imag)))
