"""Hostile text answers through the real pool: model text is parsed, never evaluated, and nothing it says runs."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from curation.verify.pool import GradingPool

MARKER = Path("/tmp") / f"vqft-pwned-{uuid.uuid4().hex}"
SYMBOLIC = {
    "kind": "symbolic",
    "expr": "4*pi*alpha**2/(3*s)",
    "symbols": {"alpha": "positive", "s": "positive"},
}
NUMERIC = {"kind": "numeric", "value": 868.5, "unit": "pb", "rtol": 1e-3}

HOSTILE_BOXES = {
    "os_system_call": (rf"\boxed{{__import__('os').system('touch {MARKER}')}}", "unparseable"),
    "eval_call": (rf"\boxed{{eval(\"open('{MARKER}', 'w')\")}}", "unparseable"),
    "lambda": (r"\boxed{(lambda: 1)()}", "unparseable"),
    "dunder_attribute": (r"\boxed{().__class__.__bases__[0].__subclasses__()}", "unparseable"),
    "tower_of_powers": (r"\boxed{10**10**10}", "unparseable"),
    "latex_tower_of_powers": (r"\boxed{10^{10^{10^{10}}}}", "unparseable"),
    "huge_factorial": (r"\boxed{(10^{6})!}", "unparseable"),
    "huge_literal": (r"\boxed{" + "9" * 3000 + "}", "unparseable"),
    "deep_nesting": (r"\boxed{" + "(" * 3000 + "s" + ")" * 3000 + "}", "unparseable"),
    "symbolic_huge_exponent": (r"\boxed{(\alpha + s)^{10^{9}}}", "unparseable"),
    "megabyte_of_text": ("x" * 1_000_000 + r" \boxed{\frac{4\pi\alpha^2}{3s}}", "correct"),
}


@pytest.fixture(scope="module")
def pool():
    with GradingPool(workers=2, timeout=5.0) as grading_pool:
        yield grading_pool


@pytest.mark.parametrize("name", sorted(HOSTILE_BOXES))
def test_hostile_box_is_graded_without_running_anything(pool, name):
    response, expected = HOSTILE_BOXES[name]
    assert pool.submit(SYMBOLIC, response).result()["status"] == expected
    assert not MARKER.exists()


def test_hostile_number_with_units_is_unparseable(pool):
    assert pool.submit(NUMERIC, r"\boxed{10^{10^{10}}\,\mathrm{pb}}").result()["status"] == "unparseable"


def test_pool_still_grades_after_hostile_text(pool):
    assert pool.submit(NUMERIC, r"\boxed{0.8685\,\mathrm{nb}}").result()["status"] == "correct"
