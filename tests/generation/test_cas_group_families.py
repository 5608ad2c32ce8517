"""The anomaly, Lorentz-representation and Feynman-parameter families against independent routes: the Standard
Model's anomaly cancellation, explicit generator matrices, dimension counting, numeric quadrature."""

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
import sympy
from scipy import integrate

from generation.cas import get_family
from generation.cas.family import symbol


def _answer(family: str, **params) -> tuple[sympy.Expr, dict[str, sympy.Symbol]]:
    """The reference answer of the family's problem for these parameters, as a sympy expression."""
    problem = get_family(family).build(params)
    names = {n: symbol(n, d) for n, d in problem.answer.symbols.items()}
    return sympy.sympify(problem.answer.expr, locals=names), names


# --- gauge_anomaly ----------------------------------------------------------------------------------------

# One generation as left-handed Weyl fields (colour dim, isospin dim, hypercharge): Q, u^c, d^c, L, e^c.
SM = [
    (3, 2, Fraction(1, 6)),
    (3, 1, Fraction(-2, 3)),
    (3, 1, Fraction(1, 3)),
    (1, 2, Fraction(-1, 2)),
    (1, 1, 1),
]
SM_PARAMS = [["3", "2", "1/6"], ["3b", "1", "-2/3"], ["3b", "1", "1/3"], ["1", "2", "-1/2"], ["1", "1", "1"]]


def _brute_force_anomalies(fermions):
    """Tr X^3, Tr X, SU(3)^2 U(1), SU(2)^2 U(1) summed state by state (T = 1/2 per colour/isospin doublet index)."""
    cubic = sum(c * w * x**3 for c, w, x in fermions)
    linear = sum(c * w * x for c, w, x in fermions)
    su3 = sum(Fraction(1, 2) * w * x for c, w, x in fermions if c == 3)
    su2 = sum(c * Fraction(1, 2) * x for c, w, x in fermions if w == 2)
    return cubic, linear, su3, su2


def test_standard_model_hypercharges_cancel_every_anomaly():
    from generation.cas.gauge_anomaly import COEFFICIENTS, _fermions, anomaly

    assert _brute_force_anomalies(SM) == (0, 0, 0, 0)
    fermions = _fermions({"fermions": SM_PARAMS})
    assert [anomaly(q, fermions) for q in COEFFICIENTS] == [0] * len(COEFFICIENTS)


@pytest.mark.parametrize(
    ("unknown", "quantity", "charge"),
    [
        (4, "gravitational", 1),
        (0, "su2_u1", Fraction(1, 6)),
        (1, "su3_u1", Fraction(-2, 3)),
        (3, "gravitational", Fraction(-1, 2)),
    ],
)
def test_cancelling_charge_restores_the_standard_model_hypercharge(unknown, quantity, charge):
    z, _ = _answer(
        "gauge_anomaly",
        origin="sm-hypercharge",
        fermions=SM_PARAMS,
        quantity=f"cancel_{quantity}",
        unknown=unknown,
    )
    assert z == sympy.Rational(charge.numerator, charge.denominator)


def test_b_minus_l_needs_a_right_handed_neutrino_of_charge_one():
    b_minus_l = [
        ["3", "2", "1/3"],
        ["3b", "1", "-1/3"],
        ["3b", "1", "-1/3"],
        ["1", "2", "-1"],
        ["1", "1", "1"],
        ["1", "1", "1"],
    ]
    z, _ = _answer(
        "gauge_anomaly", origin="sm-B-L", fermions=b_minus_l, quantity="cancel_gravitational", unknown=5
    )
    assert z == 1
    # with it, the cubic anomaly cancels too: 6/27 - 3/27 - 3/27 - 2 + 1 + 1 = 0
    states = [
        (3, 2, Fraction(1, 3)),
        (3, 1, Fraction(-1, 3)),
        (3, 1, Fraction(-1, 3)),
        (1, 2, -1),
        (1, 1, 1),
        (1, 1, 1),
    ]
    assert _brute_force_anomalies(states)[:2] == (0, 0)


def test_every_solved_charge_cancels_its_anomaly_by_brute_force():
    family = get_family("gauge_anomaly")
    dims = {"1": 1, "3": 3, "3b": 3, "2": 2}
    checked = 0
    for params in family._space:
        if not params["quantity"].startswith("cancel_"):
            continue
        z, _ = _answer("gauge_anomaly", **params)
        states = [
            (dims[r3], dims[r2], Fraction(str(z)) if i == params["unknown"] else Fraction(q))
            for i, (r3, r2, q) in enumerate(params["fermions"])
        ]
        index = {"cancel_gravitational": 1, "cancel_su3_u1": 2, "cancel_su2_u1": 3}[params["quantity"]]
        assert _brute_force_anomalies(states)[index] == 0, params
        checked += 1
    assert checked > 20


def test_cubic_anomaly_polynomial_is_the_sum_of_cubes():
    params = {
        "origin": "random",
        "fermions": [["1", "1", "1/2"], ["3", "2", "-1/3"], ["3b", "1", "2"]],
        "quantity": "u1_cubed",
        "unknown": 0,
    }
    expr, s = _answer("gauge_anomaly", **params)
    z = s["z"]
    assert sympy.expand(expr - (z**3 + 6 * sympy.Rational(-1, 27) + 3 * 8)) == 0


def test_su3_cubed_counts_triplets_minus_antitriplets():
    params = {
        "origin": "random",
        "fermions": [["3", "2", "1"], ["3b", "1", "1"], ["3", "1", "1"], ["3", "1", "2"]],
        "quantity": "su3_cubed",
    }
    expr, _ = _answer("gauge_anomaly", **params)
    assert expr == 2 - 1 + 1 + 1


# --- lorentz_representation -------------------------------------------------------------------------------


def _spin_matrices(j: Fraction) -> list[np.ndarray]:
    """J_x, J_y, J_z for spin j in the |j, m> basis."""
    ms = [j - k for k in range(int(2 * j) + 1)]
    jp = np.zeros((len(ms), len(ms)))
    for k in range(1, len(ms)):
        m = float(ms[k])
        jp[k - 1, k] = math.sqrt(float(j) * (float(j) + 1) - m * (m + 1))
    jz = np.diag([float(m) for m in ms])
    return [(jp + jp.T) / 2, (jp - jp.T) / 2j, jz]


def _lorentz_generators(a: Fraction, b: Fraction) -> list[np.ndarray]:
    """The six generators N^+_i x 1 and 1 x N^-_i of (A, B)."""
    na, nb = _spin_matrices(a), _spin_matrices(b)
    ia, ib = np.eye(len(na[2])), np.eye(len(nb[2]))
    return [np.kron(n, ib) for n in na] + [np.kron(ia, n) for n in nb]


def _invariants(factors) -> int:
    """Dimension of the subspace of the tensor product annihilated by all generators (explicit matrices)."""
    gens = [_lorentz_generators(*f) for f in factors]
    dims = [g[0].shape[0] for g in gens]
    total = []
    for k in range(6):
        acc = 0
        for i, g in enumerate(gens):
            ops = [np.eye(d) for d in dims]
            ops[i] = g[k]
            term = ops[0]
            for op in ops[1:]:
                term = np.kron(term, op)
            acc = acc + term
        total.append(acc)
    stacked = np.vstack(total)
    return stacked.shape[1] - np.linalg.matrix_rank(stacked, tol=1e-8)


F = Fraction
VECTOR, LEFT, RIGHT, SELF_DUAL = (F(1, 2), F(1, 2)), (F(1, 2), F(0)), (F(0), F(1, 2)), (F(1), F(0))


def test_four_vectors_have_four_invariants_three_pairings_and_epsilon():
    expr, _ = _answer("lorentz_representation", factors=[["1/2", "1/2"]] * 4, quantity="multiplicity")
    assert expr == 4 == _invariants([VECTOR] * 4)


@pytest.mark.parametrize(
    "factors",
    [
        [LEFT, LEFT, RIGHT, RIGHT],
        [LEFT, LEFT, LEFT, LEFT],
        [VECTOR, VECTOR, SELF_DUAL],
        [LEFT, RIGHT, VECTOR],
    ],
    ids=["psi-psi-chibar-chibar", "four-left", "vv-selfdual", "left-right-vector"],
)
def test_invariant_count_matches_the_kernel_of_explicit_generators(factors):
    from generation.cas.lorentz_representation import decompose

    assert decompose(tuple(factors))[(F(0), F(0))] == _invariants(factors)


def test_decompositions_conserve_dimension():
    from generation.cas.lorentz_representation import FACTORS, decompose, dimension

    for pair in itertools.combinations_with_replacement(FACTORS, 3):
        parts = decompose(pair)
        assert sum(m * dimension(r) for r, m in parts.items()) == math.prod(dimension(f) for f in pair)


def test_four_vector_is_one_scalar_and_one_vector_under_rotations():
    from generation.cas.lorentz_representation import spin_content

    assert spin_content((VECTOR,)) == {F(0): 1, F(1): 1}
    # the field strength (1,0) + (0,1) has 6 components: two spin-1 triplets (E and B)
    assert spin_content((SELF_DUAL,)) + spin_content(((F(0), F(1)),)) == {F(1): 2}


def test_vector_times_vector_has_four_components():
    expr, _ = _answer("lorentz_representation", factors=[["1/2", "1/2"]] * 2, quantity="components")
    assert expr == 4  # symmetric traceless (1,1), trace (0,0), and the antisymmetric (1,0) + (0,1)


# --- feynman_parameter_integral ---------------------------------------------------------------------------


def _delta(kinematics: str, x: float, values: dict[str, float]) -> float:
    m1, m2, p2 = {
        "forward": (values.get("M"), values.get("m"), 0.0),
        "spacelike": (values.get("m"), 0.0, -(values.get("Q", 0.0) ** 2)),
        "massless": (0.0, 0.0, -(values.get("Q", 0.0) ** 2)),
        "on_shell": (values.get("m"), 0.0, values.get("m", 0.0) ** 2),
    }[kinematics]
    return x * m1**2 + (1 - x) * m2**2 - x * (1 - x) * p2


@pytest.mark.parametrize("index", range(0, 90, 7))
def test_feynman_integrals_match_numeric_quadrature(index):
    family = get_family("feynman_parameter_integral")
    params = family.parameters_at(index % family.capacity())
    expr, s = _answer("feynman_parameter_integral", **params)
    values = {"M": 2.3, "m": 0.7, "Q": 1.9, "mu": 1.3}
    a, b, n = params["a"], params["b"], params["n"]

    def integrand(x):
        d = _delta(params["kinematics"], x, values)
        weight = x**a * (1 - x) ** b
        return weight * math.log(d / values["mu"] ** 2) if n == 0 else weight / d**n

    numeric, _ = integrate.quad(integrand, 0, 1, epsabs=0, epsrel=1e-12, limit=200)
    exact = float(expr.subs({s[k]: v for k, v in values.items() if k in s}))
    assert exact == pytest.approx(numeric, rel=1e-9)


def test_forward_integral_tends_to_the_equal_mass_value():
    expr, s = _answer("feynman_parameter_integral", kinematics="forward", a=1, b=1, n=2)
    limit = sympy.limit(expr.subs(s["M"], s["m"] * (1 + symbol("t", "positive"))), symbol("t", "positive"), 0)
    assert sympy.simplify(limit - sympy.Rational(1, 6) / s["m"] ** 4) == 0  # B(2,2) / m^4


def test_massless_log_integral_is_the_textbook_bubble_finite_part():
    expr, s = _answer("feynman_parameter_integral", kinematics="massless", a=0, b=0, n=0)
    assert sympy.simplify(expr - (sympy.log(s["Q"] ** 2 / s["mu"] ** 2) - 2)) == 0
