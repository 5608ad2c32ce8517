"""The CAS generation framework: registry, determinism, distinct ids, capacity, the code form helper."""

import json
import random

import pytest
import sympy

from generation.cas import FAMILIES, LEVELS, CapacityError, generate, get_family, resolve_families
from generation.cas.family import CODE_RTOL, code_answer_from_expr, symbol


def test_registry_has_families_at_every_level():
    assert len(FAMILIES) >= 8
    assert {f.level for f in FAMILIES.values()} == set(LEVELS)


def test_every_family_reports_a_positive_capacity_of_distinct_parameters():
    for family in FAMILIES.values():
        space = [json.dumps(family.parameters_at(i), sort_keys=True) for i in range(family.capacity())]
        assert family.capacity() > 0
        assert len(set(space)) == len(space), family.name


def test_generation_is_deterministic_for_a_seed():
    first = [p.to_dict() for p in generate(["colour_factor", "mass_dimension"], n=12, seed=3)]
    second = [p.to_dict() for p in generate(["colour_factor", "mass_dimension"], n=12, seed=3)]
    assert first == second


def test_another_seed_gives_other_problems():
    a = {p.id for p in generate(["colour_factor"], n=10, seed=1)}
    b = {p.id for p in generate(["colour_factor"], n=10, seed=2)}
    assert a != b


def test_a_family_draws_the_same_problems_whatever_else_is_chosen():
    alone = [p.id for p in generate(["symmetry_factor"], n=5, seed=0)]
    mixed = [p.id for p in generate(["symmetry_factor", "mass_dimension"], n=10, seed=0)]
    assert [i for i in mixed if i in set(alone)] == alone


def test_a_whole_family_generates_without_a_repeated_id():
    family = get_family("symmetry_factor")
    ids = [p.id for p in generate([family.name], n=family.capacity(), seed=0)]
    assert len(ids) == len(set(ids)) == family.capacity()


def test_generation_is_round_robin_over_families():
    names = [
        p.source.provenance["family"] for p in generate(["mass_dimension", "colour_factor"], n=6, seed=0)
    ]
    assert names == ["mass_dimension", "colour_factor"] * 3


def test_asking_for_more_than_the_capacity_is_an_error_naming_it():
    family = get_family("symmetry_factor")
    with pytest.raises(CapacityError, match=f"only {family.capacity()} distinct"):
        next(generate([family.name], n=family.capacity() + 1, seed=0))


def test_a_small_family_leaves_its_share_to_the_others():
    small = get_family("symmetry_factor").capacity()
    problems = list(generate(["symmetry_factor", "mass_dimension"], n=small + 100, seed=0))
    names = [p.source.provenance["family"] for p in problems]
    assert names.count("symmetry_factor") == small and names.count("mass_dimension") == 100


def test_unknown_family_error_lists_the_valid_ones():
    with pytest.raises(KeyError, match="choose from two_body_decay"):
        resolve_families("two_body_decay,nope")


def test_level_filter_keeps_only_that_level():
    chosen = resolve_families("all", level="post-graduate")
    assert chosen and all(f.level == "post-graduate" for f in chosen)


def test_problem_provenance_names_family_version_and_parameters():
    problem = next(generate(["dirac_trace"], n=1, seed=0))
    provenance = problem.source.provenance
    assert problem.source.kind == "synthetic-cas"
    assert provenance["family"] == "dirac_trace" and provenance["version"] == 1
    assert get_family("dirac_trace").build(provenance["parameters"]) == problem


def test_code_form_outputs_are_the_exact_expression_values():
    x, n = symbol("x", "positive"), symbol("n", "positive_integer")
    expr = sympy.sqrt(x) * n / 3 + sympy.EulerGamma
    code = code_answer_from_expr(expr, {"x": "positive", "n": "positive_integer"}, "f", seed="s")
    assert [a.type for a in code.arguments] == ["float", "int"]
    for case in code.test_cases:
        exact = expr.subs({x: sympy.Rational(case.inputs["x"]), n: case.inputs["n"]})
        assert case.output == pytest.approx(float(exact.evalf(30)), rel=1e-15)
        assert case.rtol == CODE_RTOL and case.atol == 0.0
        assert isinstance(case.inputs["n"], int)


def test_code_form_skips_points_where_the_answer_vanishes():
    x = symbol("x", "integer")
    code = code_answer_from_expr(x * (x - 1), {"x": "integer"}, "f", seed="s")
    assert all(case.output != 0 for case in code.test_cases)


def test_code_form_of_a_constant_has_no_arguments_and_one_case():
    code = code_answer_from_expr(sympy.Rational(22, 3), {}, "b0", seed="s")
    assert code.arguments == () and len(code.test_cases) == 1
    assert code.test_cases[0].output == pytest.approx(22 / 3, rel=1e-15)


def test_default_points_lie_inside_the_domains():
    from generation.cas.family import default_point

    rng = random.Random(0)
    for _ in range(50):
        point = default_point({"a": "positive", "b": "negative", "c": "nonnegative_integer"}, rng)
        assert point["a"] > 0 and point["b"] < 0 and point["c"] >= 0 and isinstance(point["c"], int)
