"""The ``code`` answer grader: what matches, what does not, and when the problem itself is at fault."""

from __future__ import annotations

import json
import math

import pytest

from curation.records.answer import answer_from_dict
from curation.verify import code
from curation.verify.attempt import to_wire
from curation.verify.code import (
    InvalidProblem,
    Unsupported,
    check_problem,
    compare,
    from_wire,
    grade_code,
    reference_outputs,
)
from curation.verify.grade import grade_task

TIMEOUT = 3.0


def spec(
    reference: str, cases: list[dict], arguments: list[str] | None = None, types: list[str] | None = None
):
    """A code AnswerSpec for function ``f`` with the given reference and test cases."""
    names = arguments or ["x"]
    kinds = types or ["float"] * len(names)
    return answer_from_dict(
        {
            "kind": "code",
            "function_name": "f",
            "arguments": [{"name": n, "type": t} for n, t in zip(names, kinds, strict=True)],
            "reference": reference,
            "test_cases": cases,
        }
    )


def block(source: str) -> str:
    return f"Here is my solution.\n\n```python\n{source}\n```\n"


def grade(answer, source: str) -> tuple[str, dict]:
    return grade_code(answer, block(source), timeout=TIMEOUT)


DOUBLE = spec("def f(x):\n    return 2.0 * x\n", [{"inputs": {"x": 1.5}}, {"inputs": {"x": -4.0}}])


# ------------------------------------------------------------------------------------------ values that match


def test_correct_function_is_correct():
    status, details = grade(DOUBLE, "def f(x):\n    return x + x")
    assert status == "correct"
    assert [c["ok"] for c in details["cases"]] == [True, True]
    assert details["cases"][0]["expected"] == 3.0 and details["cases"][0]["got"] == 3.0


def test_int_where_float_expected_is_correct():
    answer = spec("def f(n):\n    return float(n * n)\n", [{"inputs": {"n": 3}}], ["n"], ["int"])
    assert grade(answer, "def f(n):\n    return n * n")[0] == "correct"


def test_list_tuple_and_ndarray_are_the_same_sequence():
    answer = spec("def f(x):\n    return [x, 2 * x]\n", [{"inputs": {"x": 1.0}}])
    assert grade(answer, "def f(x):\n    return (x, 2 * x)")[0] == "correct"
    assert grade(answer, "import numpy as np\ndef f(x):\n    return np.array([x, 2 * x])")[0] == "correct"


def test_nested_structures_compare_element_wise():
    answer = spec(
        "def f(x):\n    return {'m': [[x, 0.0], [0.0, x]], 'n': (1, 'up')}\n", [{"inputs": {"x": 2.0}}]
    )
    good = "import numpy as np\ndef f(x):\n    return {'n': [1.0, 'up'], 'm': np.eye(2) * x}"
    assert grade(answer, good)[0] == "correct"


def test_dict_with_a_missing_key_is_incorrect():
    answer = spec("def f(x):\n    return {'a': x, 'b': x}\n", [{"inputs": {"x": 2.0}}])
    status, details = grade(answer, "def f(x):\n    return {'a': x}")
    assert status == "incorrect"
    assert "keys differ" in details["reason"]


def test_complex_results_compare_by_modulus():
    answer = spec("def f(x):\n    return complex(x, -x)\n", [{"inputs": {"x": 1.0}}])
    rotated = "import cmath\ndef f(x):\n    return x * cmath.sqrt(2) * cmath.exp(-1j * cmath.pi / 4)"
    assert grade(answer, rotated)[0] == "correct"
    assert grade(answer, "def f(x):\n    return complex(x, x)")[0] == "incorrect"


def test_numpy_bool_is_a_bool():
    answer = spec("def f(x):\n    return x > 0\n", [{"inputs": {"x": 1.0}}, {"inputs": {"x": -1.0}}])
    assert grade(answer, "import numpy as np\ndef f(x):\n    return np.greater(x, 0)")[0] == "correct"


def test_int_is_not_a_bool():
    answer = spec("def f(x):\n    return x > 0\n", [{"inputs": {"x": 1.0}}])
    assert grade(answer, "def f(x):\n    return 1")[0] == "incorrect"


def test_numpy_scalars_are_numbers():
    answer = spec("def f(x):\n    return 2 * x\n", [{"inputs": {"x": 1.25}}])
    assert grade(answer, "import numpy as np\ndef f(x):\n    return np.float32(2 * x)")[0] == "correct"


def test_inputs_are_passed_positionally_in_declared_order():
    answer = spec("def f(a, b):\n    return a - b\n", [{"inputs": {"b": 1.0, "a": 5.0}}], ["a", "b"])
    assert grade(answer, "def f(first, second):\n    return first - second")[0] == "correct"


def test_strings_match_exactly():
    answer = spec("def f(x):\n    return 'pseudoscalar'\n", [{"inputs": {"x": 0.0}}])
    assert grade(answer, "def f(x):\n    return 'pseudoscalar'")[0] == "correct"
    assert grade(answer, "def f(x):\n    return 'scalar'")[0] == "incorrect"


# ---------------------------------------------------------------------------------------- values that do not


def test_nan_never_matches():
    status, details = grade(DOUBLE, "def f(x):\n    return float('nan')")
    assert status == "incorrect"
    assert "non-finite" in details["reason"]


def test_infinity_never_matches():
    assert grade(DOUBLE, "def f(x):\n    return float('inf')")[0] == "incorrect"


def test_value_outside_default_tolerance_is_incorrect():
    assert grade(DOUBLE, "def f(x):\n    return 2.0 * x * (1 + 1e-5)")[0] == "incorrect"


def test_per_case_rtol_widens_only_that_case():
    answer = spec(
        "def f(x):\n    return 2.0 * x\n",
        [{"inputs": {"x": 1.0}, "rtol": 0.01}, {"inputs": {"x": 2.0}}],
    )
    status, details = grade(answer, "def f(x):\n    return 2.0 * x * 1.005")
    assert status == "incorrect"
    assert [c["ok"] for c in details["cases"]] == [True, False]


def test_per_case_atol_accepts_roundoff_near_zero():
    answer = spec(
        "import math\ndef f(x):\n    return math.sin(x)\n",
        [{"inputs": {"x": 1.0}, "atol": 1e-12}, {"inputs": {"x": 0.0}, "atol": 1e-12}],
    )
    assert grade(answer, "import math\ndef f(x):\n    return math.sin(x) + 1e-14")[0] == "correct"


def test_sequence_of_wrong_length_is_incorrect():
    answer = spec("def f(x):\n    return [x, x]\n", [{"inputs": {"x": 1.0}}])
    assert grade(answer, "def f(x):\n    return [x, x, x]")[0] == "incorrect"


def test_object_with_always_true_eq_is_incorrect():
    source = "class Yes:\n    def __eq__(self, other):\n        return True\ndef f(x):\n    return Yes()"
    status, details = grade(DOUBLE, source)
    assert status == "incorrect"
    assert details["cases"][0]["got"] == {"__unsupported__": "Yes"}


def test_float_subclass_with_always_true_eq_is_incorrect():
    source = (
        "class F(float):\n    def __eq__(self, o): return True\n    def __sub__(self, o): return 0.0\n"
        "    def __abs__(self): return 0.0\ndef f(x):\n    return F(0.0)"
    )
    assert grade(DOUBLE, source)[0] == "incorrect"


def test_list_subclass_is_unsupported():
    source = "class L(list):\n    def __eq__(self, o): return True\ndef f(x):\n    return L([3.0])"
    answer = spec("def f(x):\n    return [3.0]\n", [{"inputs": {"x": 1.0}}])
    assert grade(answer, source)[0] == "incorrect"


# ------------------------------------------------------------------------------------------ broken responses


def test_no_python_block_is_no_answer():
    assert grade_code(DOUBLE, "The answer is 2x.", timeout=TIMEOUT)[0] == "no_answer"


def test_syntax_error_is_unparseable():
    status, details = grade(DOUBLE, "def f(x):\n    return (x +")
    assert status == "unparseable"
    assert "SyntaxError" in details["reason"]


def test_missing_function_is_unparseable():
    status, details = grade(DOUBLE, "def g(x):\n    return 2 * x")
    assert status == "unparseable"
    assert "'f'" in details["reason"]


def test_wrong_arity_is_error():
    status, details = grade(DOUBLE, "def f(x, y):\n    return 2 * x")
    assert status == "error"
    assert "TypeError" in details["reason"]


def test_exception_in_the_function_is_error():
    status, details = grade(DOUBLE, "def f(x):\n    return 1 / (x - x)")
    assert status == "error"
    assert "ZeroDivisionError" in details["reason"]


def test_exception_on_one_case_is_error():
    status, details = grade(DOUBLE, "def f(x):\n    assert x > 0\n    return 2 * x")
    assert status == "error"
    assert [c["ok"] for c in details["cases"]] == [True, False]


def test_exception_while_loading_is_error():
    assert grade(DOUBLE, "import no_such_module_xyz\ndef f(x):\n    return 2 * x")[0] == "error"


def test_main_guard_does_not_run():
    source = "def f(x):\n    return 2 * x\nif __name__ == '__main__':\n    raise SystemExit(1)"
    assert grade(DOUBLE, source)[0] == "correct"


def test_last_python_block_wins():
    text = block("def f(x):\n    return 0") + "Actually:\n" + block("def f(x):\n    return 2 * x")
    assert grade_code(DOUBLE, text, timeout=TIMEOUT)[0] == "correct"


def test_block_inside_unclosed_think_is_no_answer():
    result = grade_task(DOUBLE.to_dict(), "<think>\n" + block("def f(x):\n    return 2 * x"), timeout=TIMEOUT)
    assert result["status"] == "no_answer"


def test_only_the_text_after_think_counts():
    response = "<think>" + block("def f(x):\n    return 2 * x") + "</think>\nNo code here."
    assert grade_task(DOUBLE.to_dict(), response, timeout=TIMEOUT)["status"] == "no_answer"


# ------------------------------------------------------------------------------------------- broken problems


def test_vacuous_atol_is_invalid_problem():
    answer = spec("def f(x):\n    return 1e-10 * x\n", [{"inputs": {"x": 1.0}, "atol": 1e-3}])
    status, details = grade(answer, "def f(x):\n    return 0.0")
    assert status == "invalid_problem"
    assert "atol" in details["reason"]


def test_vacuous_rtol_is_invalid_problem():
    answer = spec("def f(x):\n    return 2 * x\n", [{"inputs": {"x": 1.0}, "rtol": 0.5}])
    assert grade(answer, "def f(x):\n    return 2 * x")[0] == "invalid_problem"


def test_reference_raising_is_invalid_problem():
    answer = spec("def f(x):\n    raise ValueError('broken')\n", [{"inputs": {"x": 1.0}}])
    status, details = grade(answer, "def f(x):\n    return 2 * x")
    assert status == "invalid_problem"
    assert "broken" in details["reason"]


def test_reference_returning_nan_is_invalid_problem():
    answer = spec("def f(x):\n    return float('nan')\n", [{"inputs": {"x": 1.0}}])
    assert grade(answer, "def f(x):\n    return float('nan')")[0] == "invalid_problem"


def test_reference_timing_out_is_invalid_problem():
    answer = spec("def f(x):\n    while True:\n        pass\n", [{"inputs": {"x": 1.0}}])
    status, details = grade_code(answer, block("def f(x):\n    return 1.0"), timeout=1.0)
    assert status == "invalid_problem"
    assert "did not finish" in details["reason"]


def test_reference_without_the_function_is_invalid_problem():
    answer = spec("def g(x):\n    return x\n", [{"inputs": {"x": 1.0}}])
    assert grade(answer, "def f(x):\n    return x")[0] == "invalid_problem"


def test_given_outputs_are_used_without_running_the_reference():
    answer = spec("this is not python", [{"inputs": {"x": 1.0}, "output": 2.0}])
    assert grade(answer, "def f(x):\n    return 2 * x")[0] == "correct"


def test_reference_is_run_once_per_problem(monkeypatch):
    answer = spec("def f(x):\n    return 3.0 * x  # unique-7f3a\n", [{"inputs": {"x": 1.0}}])
    calls = []
    real = code._sandbox_run

    def counting(payload, timeout, server=None):
        calls.append(payload["source"])
        return real(payload, timeout, server)

    monkeypatch.setattr(code, "_sandbox_run", counting)
    for _ in range(3):
        assert grade(answer, "def f(x):\n    return 3 * x")[0] == "correct"
    assert calls.count(answer.reference) == 1


def test_reference_outputs_are_plain_json():
    answer = spec("def f(x):\n    return complex(x, 1.0)\n", [{"inputs": {"x": 2.0}}, {"inputs": {"x": 3.0}}])
    assert reference_outputs(answer, TIMEOUT) == [{"__complex__": [2.0, 1.0]}, {"__complex__": [3.0, 1.0]}]


def test_reference_outputs_raise_invalid_problem():
    answer = spec("def f(x):\n    return 1 / 0\n", [{"inputs": {"x": 2.0}}])
    with pytest.raises(InvalidProblem):
        reference_outputs(answer, TIMEOUT)


# ---------------------------------------------------------------------------------- the pure comparison rules


def test_compare_uses_absolute_plus_relative_tolerance():
    assert compare(100.0, 100.05, rtol=1e-4, atol=0.04) is None
    assert compare(100.0, 100.06, rtol=1e-4, atol=0.04) is not None


def test_compare_big_ints_exactly():
    assert compare(10**30, 10**30, rtol=0.0, atol=0.0) is None
    assert compare(10**30, 10**30 + 1, rtol=0.0, atol=0.0) is not None


def test_wire_round_trip_keeps_types_that_matter():
    value = {"c": 1 - 2j, "n": [float("nan"), float("-inf")], 3: (True, None), "big": 2**70}
    decoded = from_wire(to_wire(value))
    assert decoded["'c'"] == 1 - 2j
    assert math.isnan(decoded["'n'"][0]) and decoded["'n'"][1] == -math.inf
    assert decoded["3"] == [True, None]
    assert decoded["'big'"] == 2**70


def test_to_wire_marks_subclasses_unsupported():
    class Sneaky(float):
        pass

    assert to_wire(Sneaky(1.0))["__unsupported__"].endswith("<locals>.Sneaky")
    assert isinstance(from_wire(to_wire(Sneaky(1.0))), Unsupported)


def test_check_problem_rejects_atol_near_the_expected_scale():
    cases = spec("def f(x):\n    return x\n", [{"inputs": {"x": 1.0}, "atol": 1e-3}]).test_cases
    assert check_problem([1.0], cases) is not None
    assert check_problem([1e3], cases) is None


def test_check_problem_judges_an_all_zero_case_by_the_other_cases():
    cases = spec(
        "def f(x):\n    return x\n",
        [{"inputs": {"x": 0.0}, "atol": 0.5}, {"inputs": {"x": 1.0}, "atol": 1e-9}],
    ).test_cases
    assert check_problem([0.0, 1.0], cases) is not None


@pytest.mark.parametrize(
    "wire",
    [
        1.5,
        -1.2345678901234567e-308,
        [-1.2345678901234567e-308] * 9,
        [1e300] * 10,
        [2**63 - 1] * 9,
        10**300,
        "x" * 300,
        [1, None, True],
        {"__complex__": [1.0, 2.0]},
    ],
)
def test_a_case_summary_is_the_value_when_short_and_its_json_cut_at_240_characters_otherwise(wire):
    text = json.dumps(wire, separators=(",", ":"))
    assert code._summary(wire) == (wire if len(text) <= 240 else text[:240] + "...")
