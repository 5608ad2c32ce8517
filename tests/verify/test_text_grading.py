"""Grading of symbolic, numeric, categorical and tuple answers (in-process, no pool)."""

import pytest

from curation.records.answer import answer_from_dict
from curation.verify.grade import grade_answer


def grade(answer: dict, response: str) -> str:
    return grade_answer(answer_from_dict(answer), response)[0]


def details(answer: dict, response: str) -> dict:
    return grade_answer(answer_from_dict(answer), response)[1]


EE_MUMU = {
    "kind": "symbolic",
    "expr": "4*pi*alpha**2/(3*s)",
    "symbols": {"alpha": "positive", "s": "positive"},
}


def test_equivalent_rewrite_is_correct():
    assert grade(EE_MUMU, r"\boxed{\frac{4}{3}\frac{\pi\alpha^2}{s}}") == "correct"


def test_factor_two_is_incorrect():
    assert grade(EE_MUMU, r"\boxed{\frac{2\pi\alpha^2}{3s}}") == "incorrect"


def test_equation_answer_uses_the_right_hand_side():
    assert grade(EE_MUMU, r"\boxed{\sigma(e^+e^-\to\mu^+\mu^-) = \frac{4\pi\alpha^2}{3s}}") == "correct"


def test_identity_that_needs_the_declared_domain_holds():
    spec = {"kind": "symbolic", "expr": "m", "symbols": {"m": "positive"}}
    assert grade(spec, r"\boxed{\sqrt{m^2}}") == "correct"


def test_identity_outside_the_declared_domain_does_not_hold():
    spec = {"kind": "symbolic", "expr": "m", "symbols": {"m": "real"}}
    assert grade(spec, r"\boxed{\sqrt{m^2}}") == "incorrect"


def test_undeclared_e_in_the_answer_is_eulers_number():
    spec = {"kind": "symbolic", "expr": "e**4/(8*pi*s)", "symbols": {"e": "positive", "s": "positive"}}
    assert grade(spec, r"\boxed{\frac{e^4}{8\pi s}}") == "correct"
    spec_without_e = {
        "kind": "symbolic",
        "expr": "g**4/(8*pi*s)",
        "symbols": {"g": "positive", "s": "positive"},
    }
    assert grade(spec_without_e, r"\boxed{\frac{e^4}{8\pi s}}") == "incorrect"


def test_answer_with_a_name_the_problem_never_declared_is_incorrect():
    assert grade(EE_MUMU, r"\boxed{\frac{4\pi\alpha^2}{3 Q^2}}") == "incorrect"


def test_reference_with_undeclared_name_is_invalid_problem():
    spec = {"kind": "symbolic", "expr": "4*pi*alpha**2/(3*s)", "symbols": {"alpha": "positive"}}
    assert grade(spec, r"\boxed{1}") == "invalid_problem"


@pytest.mark.parametrize("reserved", ["E", "I", "pi"])
def test_declaring_a_constant_name_is_invalid_problem(reserved):
    spec = {"kind": "symbolic", "expr": "x", "symbols": {"x": "real", reserved: "real"}}
    assert grade(spec, r"\boxed{x}") == "invalid_problem"


def test_complex_valued_expressions_compare_as_complex():
    spec = {"kind": "symbolic", "expr": "I*x/(x**2 + 1)", "symbols": {"x": "real"}}
    assert grade(spec, r"\boxed{\frac{i x}{1+x^2}}") == "correct"
    assert grade(spec, r"\boxed{\frac{-i x}{1+x^2}}") == "incorrect"


def test_dim_reg_expansion_with_order_term():
    spec = {"kind": "symbolic", "expr": "1/eps - EulerGamma + log(4*pi)", "symbols": {"eps": "positive"}}
    assert grade(spec, r"\boxed{\frac{1}{\epsilon}-\gamma_E+\ln(4\pi)+\mathcal{O}(\epsilon)}") == "correct"
    assert grade(spec, r"\boxed{\frac{2}{\epsilon}-\gamma_E+\ln(4\pi)}") == "incorrect"


def test_tolerance_is_relative_to_the_declared_rtol():
    spec = {"kind": "symbolic", "expr": "pi/4", "symbols": {}, "rtol": 1e-3}
    assert grade(spec, r"\boxed{0.7854}") == "correct"
    assert grade({**spec, "rtol": 1e-8}, r"\boxed{0.7854}") == "incorrect"


def test_garbage_in_the_box_is_unparseable():
    assert grade(EE_MUMU, r"\boxed{\frac{4\pi}{}}") == "unparseable"


def test_no_box_and_no_final_answer_is_no_answer():
    assert grade(EE_MUMU, "The cross section falls like 1/s.") == "no_answer"


def test_final_answer_line_is_graded():
    assert grade(EE_MUMU, "Thus\nFinal answer: 4*pi*alpha**2/(3*s)") == "correct"


CROSS_SECTION_PB = {"kind": "numeric", "value": 8.68e4, "unit": "pb", "rtol": 1e-3}


def test_number_in_another_unit_of_the_same_dimension_is_converted():
    assert grade(CROSS_SECTION_PB, r"\boxed{86.8\,\mathrm{nb}}") == "correct"
    assert grade(CROSS_SECTION_PB, r"\boxed{8.68\times 10^{-8}\ \text{b}}") == "correct"


def test_cross_section_in_inverse_gev_squared_converts_in_natural_units():
    # 1 GeV^-2 = 0.3894 mb = 3.894e8 pb
    assert grade(CROSS_SECTION_PB, r"\boxed{2.2291\times10^{-4}\,\mathrm{GeV}^{-2}}") == "correct"


def test_same_number_in_the_wrong_unit_is_incorrect():
    assert grade(CROSS_SECTION_PB, r"\boxed{86.8\,\mathrm{pb}}") == "incorrect"


def test_unit_of_another_dimension_is_incorrect():
    assert details(CROSS_SECTION_PB, r"\boxed{86.8\,\mathrm{GeV}}")["reason"].startswith("unit has dimension")


def test_bare_number_means_the_declared_unit():
    assert grade(CROSS_SECTION_PB, r"\boxed{8.68\times10^{4}}") == "correct"


def test_micro_prefix_written_with_greek_mu():
    spec = {"kind": "numeric", "value": 2.197, "unit": "us", "rtol": 1e-3}
    assert grade(spec, r"\boxed{2.197\,\mu\mathrm{s}}") == "correct"
    assert grade(spec, r"\boxed{2197\,\mathrm{ns}}") == "correct"


@pytest.mark.parametrize(
    "written", [r"1.5\times10^{-3}", "1.5e-3", r"\frac{3}{2}\times 10^{-3}", r"1.5\cdot 10^{-3}"]
)
def test_numeric_notations(written):
    assert grade({"kind": "numeric", "value": 1.5e-3}, rf"\boxed{{{written}}}") == "correct"


def test_numeric_relative_and_absolute_tolerance():
    spec = {"kind": "numeric", "value": 0.0, "atol": 1e-6}
    assert grade(spec, r"\boxed{5\times10^{-7}}") == "correct"
    assert grade(spec, r"\boxed{5\times10^{-6}}") == "incorrect"


def test_complex_numeric_answer():
    spec = {"kind": "numeric", "value": "0.5-1.5j"}
    assert grade(spec, r"\boxed{\frac{1}{2} - \frac{3}{2} i}") == "correct"
    assert grade(spec, r"\boxed{\frac{1}{2} + \frac{3}{2} i}") == "incorrect"


def test_formula_for_a_numeric_answer_is_unparseable():
    assert grade({"kind": "numeric", "value": 0.1}, r"\boxed{\frac{\alpha}{\pi}}") == "unparseable"


def test_pi_over_two_as_a_number():
    assert grade({"kind": "numeric", "value": 1.5707963}, r"\boxed{\pi/2}") == "correct"


PARITY = {
    "kind": "categorical",
    "value": "axial-vector",
    "choices": ["scalar", "pseudoscalar", "vector", "axial-vector"],
}


def test_categorical_ignores_case_wrappers_and_spacing():
    assert grade(PARITY, r"\boxed{\text{Axial-Vector}}") == "correct"
    assert grade(PARITY, r"\boxed{\mathrm{axial\ vector}}") == "correct"


def test_categorical_has_no_substring_matching():
    assert grade(PARITY, r"\boxed{\text{vector}}") == "incorrect"


def test_naming_two_choices_is_incorrect():
    assert grade(PARITY, r"\boxed{\text{vector or axial-vector}}") == "incorrect"


BETA = {
    "kind": "tuple",
    "items": [
        {
            "kind": "symbolic",
            "expr": "11*N/3 - 2*n_f/3",
            "symbols": {"N": "positive_integer", "n_f": "positive_integer"},
        },
        {
            "kind": "categorical",
            "value": "asymptotically free",
            "choices": ["asymptotically free", "infrared free"],
        },
    ],
}


def test_tuple_in_one_box():
    assert grade(BETA, r"\boxed{\left(\frac{11N - 2n_f}{3}, \text{asymptotically free}\right)}") == "correct"


def test_tuple_in_several_boxes_uses_the_last_n():
    assert (
        grade(BETA, r"\boxed{7} \boxed{\frac{11N}{3}-\frac{2n_f}{3}} and \boxed{\text{asymptotically free}}")
        == "correct"
    )


def test_tuple_with_wrong_item_count_is_incorrect():
    assert grade(BETA, r"\boxed{(1, 2, 3)}") == "incorrect"


def test_tuple_with_one_wrong_part_is_incorrect():
    assert grade(BETA, r"\boxed{\left(\frac{11N - 2n_f}{3}, \text{infrared free}\right)}") == "incorrect"
