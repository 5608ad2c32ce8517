"""The partial-wave family against independent routes: hand-written tree amplitudes projected numerically onto
Legendre polynomials with scipy quad, the textbook phi^4 unitarity bounds, and the vanishing of higher partial
waves of a pure s-channel exchange."""

import math
import random
import time

import pytest
import sympy
from scipy import integrate
from scipy.special import eval_legendre

from generation.cas import get_family
from generation.cas.family import symbol
from generation.cas.partial_wave_unitarity import partial_wave

FAMILY = get_family("partial_wave_unitarity")


def _pole(x, m):
    return 1 / (x - m**2)


# Tree amplitudes written out by hand (massless external states), M(s, t, u, m, couplings).
AMPLITUDES = {
    ("phi4_24", "phi phi phi phi"): lambda s, t, u, m, c: -c["lamda"],
    ("phi4_4", "phi phi phi phi"): lambda s, t, u, m, c: -6 * c["lamda"],
    ("two_real_quartic", "phi1 phi1 phi2 phi2"): lambda s, t, u, m, c: -c["lamda"],
    ("two_real_quartic", "phi1 phi2 phi1 phi2"): lambda s, t, u, m, c: -c["lamda"],
    ("complex_quartic", "chi chib chi chib"): lambda s, t, u, m, c: -4 * c["lamda"],
    ("complex_quartic", "chi chi chi chi"): lambda s, t, u, m, c: -4 * c["lamda"],
    ("real_cubic", "phi phi phi phi"): lambda s, t, u, m, c: (
        -(c["g"] ** 2) * (_pole(s, m) + _pole(t, m) + _pole(u, m))
    ),
    ("two_real_cubic", "phi1 phi1 phi2 phi2"): lambda s, t, u, m, c: -c["g_1"] * c["g_2"] * _pole(s, m),
    ("two_real_cubic", "phi1 phi2 phi1 phi2"): lambda s, t, u, m, c: -c["g_1"] * c["g_2"] * _pole(t, m),
    ("mixed_cubic", "phi1 phi2 phi1 phi2"): lambda s, t, u, m, c: (
        -(c["g"] ** 2) * (_pole(s, m) + _pole(u, m))
    ),
    ("mixed_cubic", "phi1 phi1 phi2 phi2"): lambda s, t, u, m, c: (
        -(c["g"] ** 2) * (_pole(t, m) + _pole(u, m))
    ),
    ("complex_cubic", "chi chib chi chib"): lambda s, t, u, m, c: (
        -(c["g"] ** 2) * (_pole(s, m) + _pole(t, m))
    ),
    ("complex_cubic", "chi chi chi chi"): lambda s, t, u, m, c: -(c["g"] ** 2) * (_pole(t, m) + _pole(u, m)),
    ("quartic_and_cubic", "phi phi phi phi"): lambda s, t, u, m, c: (
        -c["lamda"] - c["g"] ** 2 * (_pole(s, m) + _pole(t, m) + _pole(u, m))
    ),
}


def _numeric_partial_wave(params, ell, s, m, couplings):
    process = params["process"]
    amplitude = AMPLITUDES[(params["model"], " ".join(process))]
    identical = (process[0] == process[1]) + (process[2] == process[3])
    factor = 1.0 if params["convention"] == "plain" else 2 ** (-identical / 2)

    def integrand(c):
        t, u = -s * (1 - c) / 2, -s * (1 + c) / 2
        return eval_legendre(ell, c) * amplitude(s, t, u, m, couplings)

    value, _ = integrate.quad(integrand, -1, 1, epsabs=0, epsrel=1e-10, limit=200)
    return factor * value / (32 * math.pi)


def _answer(problem):
    names = {n: symbol(n, d) for n, d in problem.answer.symbols.items()}
    return sympy.lambdify(list(names.values()), sympy.sympify(problem.answer.expr, locals=names)), list(names)


def _params(model, process, convention, quantity, k=0):
    return {
        "model": model,
        "process": process.split(),
        "convention": convention,
        "quantity": quantity,
        "k": k,
    }


def test_every_model_process_has_a_hand_written_amplitude():
    assert {(p["model"], " ".join(p["process"])) for p in FAMILY._space} == set(AMPLITUDES)


def test_partial_waves_match_numeric_legendre_projection_of_hand_written_amplitudes():
    rng = random.Random(1)
    checked = 0
    for params in FAMILY._space:
        if not params["quantity"].startswith("a"):
            continue
        function, names = _answer(FAMILY.build(params))
        for _ in range(3):
            point = {"s": rng.uniform(0.2, 9.0), "m": rng.uniform(0.3, 2.0)}
            point |= {n: rng.uniform(0.2, 2.0) for n in ("lamda", "g", "g_1", "g_2")}
            if abs(point["s"] - point["m"] ** 2) < 0.05:
                continue
            expected = _numeric_partial_wave(
                params, int(params["quantity"][1]), point["s"], point["m"], point
            )
            assert function(*(point[n] for n in names)) == pytest.approx(expected, rel=1e-8), params
            checked += 1
    assert checked > 100


@pytest.mark.parametrize(("convention", "bound"), [("symmetrized", 16 * sympy.pi), ("plain", 8 * sympy.pi)])
def test_phi4_high_energy_bound_is_the_textbook_value(convention, bound):
    problem = FAMILY.build(_params("phi4_24", "phi phi phi phi", convention, "bound"))
    assert sympy.simplify(sympy.sympify(problem.answer.expr) - bound) == 0


def test_exchange_does_not_change_the_high_energy_quartic_bound():
    problem = FAMILY.build(_params("quartic_and_cubic", "phi phi phi phi", "symmetrized", "bound"))
    assert sympy.simplify(sympy.sympify(problem.answer.expr) - 16 * sympy.pi) == 0


def test_complex_quartic_bound_from_vertex_four_lambda():
    # M = -4 lambda for chi chibar -> chi chibar (distinct particles, S = 1): a_0 = -lambda/(4 pi), lambda <= 2 pi.
    problem = FAMILY.build(_params("complex_quartic", "chi chib chi chib", "symmetrized", "bound"))
    assert sympy.simplify(sympy.sympify(problem.answer.expr) - 2 * sympy.pi) == 0


def test_pure_s_channel_exchange_has_no_higher_partial_waves():
    process = ("phi1", "phi1", "phi2", "phi2")
    for convention in ("symmetrized", "plain"):
        assert partial_wave("two_real_cubic", process, convention, 0) != 0
        assert all(partial_wave("two_real_cubic", process, convention, ell) == 0 for ell in (1, 2, 3))
    asked = {
        p["quantity"]
        for p in FAMILY._space
        if p["model"] == "two_real_cubic" and p["process"] == list(process)
    }
    assert asked == {"a0"}


def test_t_u_symmetric_amplitude_has_no_odd_partial_waves():
    for convention in ("symmetrized", "plain"):
        assert partial_wave("complex_cubic", ("chi", "chi", "chi", "chi"), convention, 1) == 0
        assert partial_wave("complex_cubic", ("chi", "chi", "chi", "chi"), convention, 2) != 0


def test_bound_at_finite_energy_saturates_unitarity_numerically():
    for params in FAMILY._space:
        if params["quantity"] != "bound" or params["k"] == 0:
            continue
        m = 1.3
        g_max = float(sympy.sympify(FAMILY.build(params).answer.expr).subs("m", m))
        couplings = {"g": g_max}
        value = _numeric_partial_wave(params, 0, params["k"] * m**2, m, couplings)
        assert abs(value) == pytest.approx(0.5, rel=1e-9), params


def test_capacity_and_distinct_problems():
    problems = [FAMILY.build(FAMILY.parameters_at(i)) for i in range(FAMILY.capacity())]
    assert FAMILY.capacity() == len(problems) >= 80
    assert len({p.id for p in problems}) == len(problems)


def test_build_is_fast():
    start = time.perf_counter()
    for i in range(0, FAMILY.capacity(), 3):
        FAMILY.build(FAMILY.parameters_at(i))
    assert time.perf_counter() - start < 5
