"""The QED / Yukawa scattering families against independent routes: textbook closed forms, crossing symmetry,
numeric spin sums with explicit 4x4 Dirac matrices, spinors and physical photon polarizations at a phase-space
point, and numeric quadrature of the differential cross sections."""

import math

import numpy as np
import pytest
import sympy
from scipy import integrate

from generation.cas import get_family
from generation.cas.family import symbol


def _answer(family: str, **params):
    problem = get_family(family).build(params)
    names = {n: symbol(n, d) for n, d in problem.answer.symbols.items()}
    return sympy.sympify(problem.answer.expr, locals=names), names


def _qed(process, masses=(), variables=("s", "t"), spins="averaged"):
    return _answer(
        "qed_spin_averaged_msq",
        process=process,
        masses=list(masses),
        variables=list(variables),
        spins=spins,
        coupling="e",
    )


def _yukawa(process, coupling, massive=True, variables=("s", "t"), spins="averaged"):
    return _answer(
        "yukawa_scattering",
        process=process,
        coupling=coupling,
        mediator_massive=massive,
        variables=list(variables),
        spins=spins,
    )


# --- explicit Dirac matrices ---------------------------------------------------------------------------------

SIGMA = [np.array([[0, 1], [1, 0]]), np.array([[0, -1j], [1j, 0]]), np.array([[1, 0], [0, -1]])]
ZERO = np.zeros((2, 2))
GAMMA = [np.diag([1, 1, -1, -1]).astype(complex)] + [np.block([[ZERO, s], [-s, ZERO]]) for s in SIGMA]
GAMMA5 = 1j * GAMMA[0] @ GAMMA[1] @ GAMMA[2] @ GAMMA[3]
METRIC = np.diag([1.0, -1.0, -1.0, -1.0])
ONE = np.eye(4)


def slash(p):
    return sum(METRIC[m, m] * p[m] * GAMMA[m] for m in range(4))


def mdot(a, b):
    return a @ METRIC @ b


def spinor_u(p, m, spin):
    xi = np.eye(2)[spin]
    a = math.sqrt(p[0] + m)
    return np.concatenate([a * xi, (sum(p[i + 1] * SIGMA[i] for i in range(3)) @ xi) / a])


def spinor_v(p, m, spin):
    eta = np.eye(2)[spin]
    a = math.sqrt(p[0] + m)
    return np.concatenate([(sum(p[i + 1] * SIGMA[i] for i in range(3)) @ eta) / a, a * eta])


def bar(x):
    return x.conj() @ GAMMA[0]


def polarizations(k):
    """The two real transverse polarization four-vectors of a photon of momentum k."""
    n = k[1:] / np.linalg.norm(k[1:])
    e1 = np.cross(n, [1.0, 0.3, 0.0])
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(n, e1)
    return [np.concatenate([[0.0], e1]), np.concatenate([[0.0], e2])]


def cm_momenta(m1, m2, m3, m4, sqrt_s, theta, phi=0.7):
    def momentum(a, b):
        s = sqrt_s**2
        return math.sqrt(s**2 + a**4 + b**4 - 2 * s * a**2 - 2 * s * b**2 - 2 * a**2 * b**2) / (2 * sqrt_s)

    pi, pf = momentum(m1, m2), momentum(m3, m4)
    n = np.array([math.sin(theta) * math.cos(phi), math.sin(theta) * math.sin(phi), math.cos(theta)])
    p1 = np.array([math.hypot(pi, m1), 0, 0, pi])
    p2 = np.array([math.hypot(pi, m2), 0, 0, -pi])
    p3 = np.concatenate([[math.hypot(pf, m3)], pf * n])
    p4 = np.concatenate([[math.hypot(pf, m4)], -pf * n])
    return p1, p2, p3, p4


def current(left, gammas_between, right):
    return [left @ g @ right for g in gammas_between]


def vector_product(j1, j2):
    return sum(METRIC[m, m] * j1[m] * j2[m] for m in range(4))


def spin_sum(amplitude, photons=0):
    total = 0.0
    for spins in np.ndindex(*([2] * 4)):
        total += abs(amplitude(*spins)) ** 2
    return total


def _mandelstam(p1, p2, p3, p4):
    return {"s": mdot(p1 + p2, p1 + p2), "t": mdot(p1 - p3, p1 - p3), "u": mdot(p1 - p4, p1 - p4)}


# --- qed_spin_averaged_msq ----------------------------------------------------------------------------------


def test_massless_ee_to_mumu_is_the_textbook_form():
    expr, n = _qed("ee_mumu")
    s, t, e = n["s"], n["t"], n["e"]
    u = -s - t
    assert sympy.simplify(expr - 2 * e**4 * (t**2 + u**2) / s**2) == 0


def test_ee_to_mumu_with_muon_mass_is_the_textbook_form():
    expr, n = _qed("ee_mumu", masses=("m_mu",))
    s, t, e, m = n["s"], n["t"], n["e"], n["m_mu"]
    u = 2 * m**2 - s - t
    assert sympy.simplify(expr - 2 * e**4 * ((t - m**2) ** 2 + (u - m**2) ** 2 + 2 * m**2 * s) / s**2) == 0


def test_massless_bhabha_is_the_textbook_form():
    expr, n = _qed("bhabha")
    s, t, e = n["s"], n["t"], n["e"]
    u = -s - t
    textbook = 2 * e**4 * ((s**2 + u**2) / t**2 + 2 * u**2 / (s * t) + (t**2 + u**2) / s**2)
    assert sympy.simplify(expr - textbook) == 0


def test_massless_moller_is_the_textbook_form():
    expr, n = _qed("moller", variables=("t", "u"))
    t, u, e = n["t"], n["u"], n["e"]
    s = -t - u
    textbook = 2 * e**4 * ((s**2 + u**2) / t**2 + 2 * s**2 / (t * u) + (s**2 + t**2) / u**2)
    assert sympy.simplify(expr - textbook) == 0


def test_massless_compton_is_the_textbook_form():
    expr, n = _qed("compton", variables=("s", "u"))
    s, u, e = n["s"], n["u"], n["e"]
    assert sympy.simplify(expr + 2 * e**4 * (u / s + s / u)) == 0


def test_massive_compton_is_the_klein_nishina_squared_amplitude():
    expr, n = _qed("compton", masses=("m_e",), variables=("s", "u"))
    s, u, e, m = n["s"], n["u"], n["e"], n["m_e"]
    pk, pk4 = (s - m**2) / 2, (m**2 - u) / 2  # p.k and p.k'
    peskin = 2 * e**4 * (pk4 / pk + pk / pk4 + 2 * m**2 * (1 / pk - 1 / pk4) + m**4 * (1 / pk - 1 / pk4) ** 2)
    assert sympy.simplify(expr - peskin) == 0


def test_massive_pair_annihilation_is_the_textbook_form():
    expr, n = _qed("annihilation", masses=("m_e",), variables=("t", "u"))
    t, u, e, m = n["t"], n["u"], n["e"], n["m_e"]
    k1, k2 = (m**2 - t) / 2, (m**2 - u) / 2  # p.k1, p.k2
    peskin = 2 * e**4 * (k2 / k1 + k1 / k2 + 2 * m**2 * (1 / k1 + 1 / k2) - m**4 * (1 / k1 + 1 / k2) ** 2)
    assert sympy.simplify(expr - peskin) == 0


def test_electron_muon_scattering_is_muon_pair_production_crossed():
    """Crossing p2 <-> p3 (two fermions, no sign) maps e+e- -> mu+mu- to e- mu- -> e- mu- with s <-> t."""
    pair, n = _qed("ee_mumu", masses=("m_e", "m_mu"), variables=("s", "t"))
    scattering, n2 = _qed("emu_emu", masses=("m_e", "m_mu"), variables=("s", "t"))
    swapped = pair.subs({n["s"]: n2["t"], n["t"]: n2["s"]}, simultaneous=True)
    swapped = swapped.subs({n["m_e"]: n2["m_e"], n["m_mu"]: n2["m_mu"], n["e"]: n2["e"]})
    assert sympy.simplify(swapped - scattering) == 0


def _qed_numeric(process, p, m):
    p1, p2, p3, p4 = p
    g = GAMMA

    def amplitude(a, b, c, d):
        if process == "bhabha":
            u1, v2, u3, v4 = spinor_u(p1, m, a), spinor_v(p2, m, b), spinor_u(p3, m, c), spinor_v(p4, m, d)
            t_ch = vector_product(current(bar(u3), g, u1), current(bar(v2), g, v4)) / mdot(p1 - p3, p1 - p3)
            s_ch = vector_product(current(bar(v2), g, u1), current(bar(u3), g, v4)) / mdot(p1 + p2, p1 + p2)
            return t_ch - s_ch
        if process == "moller":
            u1, u2, u3, u4 = (spinor_u(q, m, x) for q, x in zip(p, (a, b, c, d), strict=True))
            t_ch = vector_product(current(bar(u3), g, u1), current(bar(u4), g, u2)) / mdot(p1 - p3, p1 - p3)
            u_ch = vector_product(current(bar(u4), g, u1), current(bar(u3), g, u2)) / mdot(p1 - p4, p1 - p4)
            return t_ch - u_ch
        if process == "compton":
            e2, e4 = polarizations(p2)[b], polarizations(p4)[d]
            u1, u3 = spinor_u(p1, m, a), spinor_u(p3, m, c)
            s_ch = slash(e4) @ (slash(p1 + p2) + m * ONE) @ slash(e2) / (mdot(p1 + p2, p1 + p2) - m**2)
            u_ch = slash(e2) @ (slash(p1 - p4) + m * ONE) @ slash(e4) / (mdot(p1 - p4, p1 - p4) - m**2)
            return bar(u3) @ (s_ch + u_ch) @ u1
        e3, e4 = polarizations(p3)[c], polarizations(p4)[d]
        u1, v2 = spinor_u(p1, m, a), spinor_v(p2, m, b)
        t_ch = slash(e4) @ (slash(p1 - p3) + m * ONE) @ slash(e3) / (mdot(p1 - p3, p1 - p3) - m**2)
        u_ch = slash(e3) @ (slash(p1 - p4) + m * ONE) @ slash(e4) / (mdot(p1 - p4, p1 - p4) - m**2)
        return bar(v2) @ (t_ch + u_ch) @ u1

    return spin_sum(amplitude)


@pytest.mark.parametrize("process", ["bhabha", "moller", "compton", "annihilation"])
def test_massive_spin_sum_matches_explicit_dirac_matrices(process):
    m = 0.7
    masses = {
        "bhabha": (m, m, m, m),
        "moller": (m, m, m, m),
        "compton": (m, 0, m, 0),
        "annihilation": (m, m, 0, 0),
    }[process]
    p = cm_momenta(*masses, sqrt_s=3.1, theta=1.1)
    numeric = _qed_numeric(process, p, m)
    expr, n = _qed(process, masses=("m_e",), variables=("s", "t"), spins="summed")
    mand = _mandelstam(*p)
    value = float(expr.subs({n["s"]: mand["s"], n["t"]: mand["t"], n["e"]: 1, n["m_e"]: m}))
    assert value == pytest.approx(numeric, rel=1e-10)


def test_spin_average_is_a_quarter_of_the_spin_sum():
    averaged, n = _qed("bhabha", masses=("m_e",), variables=("t", "u"))
    summed, _ = _qed("bhabha", masses=("m_e",), variables=("t", "u"), spins="summed")
    assert sympy.simplify(4 * averaged - summed) == 0


def test_alpha_form_equals_e_form_with_e_squared_four_pi_alpha():
    in_e, n = _qed("compton", masses=("m_e",))
    in_alpha, n2 = _answer(
        "qed_spin_averaged_msq",
        process="compton",
        masses=["m_e"],
        variables=["s", "t"],
        spins="averaged",
        coupling="alpha",
    )
    alpha = n2["alpha"]
    converted = in_e.subs(n["e"], sympy.sqrt(4 * sympy.pi * alpha)).subs(
        {n["s"]: n2["s"], n["t"]: n2["t"], n["m_e"]: n2["m_e"]}
    )
    assert sympy.simplify(converted - in_alpha) == 0


# --- cm_cross_section --------------------------------------------------------------------------------------


def _xsec(species, massive, quantity, coupling="alpha"):
    return _answer("cm_cross_section", species=species, massive=massive, quantity=quantity, coupling=coupling)


def test_massive_muon_pair_cross_section_is_the_textbook_formula():
    expr, n = _xsec("lepton", True, "sigma")
    s, m, alpha = n["s"], n["m_f"], n["alpha"]
    beta = sympy.sqrt(1 - 4 * m**2 / s)
    textbook = 4 * sympy.pi * alpha**2 / (3 * s) * beta * (3 - beta**2) / 2
    assert sympy.simplify(expr - textbook) == 0


def test_massless_quark_pair_cross_section_is_nc_q_squared_times_the_point_cross_section():
    up, n = _xsec("up_quark", False, "sigma")
    assert sympy.simplify(up - 3 * sympy.Rational(4, 9) * 4 * sympy.pi * n["alpha"] ** 2 / (3 * n["s"])) == 0


def test_scalar_pair_cross_section_rises_as_beta_cubed():
    expr, n = _xsec("scalar", True, "sigma")
    s, m, alpha = n["s"], n["m_phi"], n["alpha"]
    beta = sympy.sqrt(1 - 4 * m**2 / s)
    assert sympy.simplify(expr - sympy.pi * alpha**2 * beta**3 / (3 * s)) == 0


@pytest.mark.parametrize("species", ["down_quark", "scalar", "lepton"])
def test_total_cross_section_is_the_numeric_integral_of_dsigma_domega(species):
    differential, n = _xsec(species, True, "dsigma_dOmega")
    total, n2 = _xsec(species, True, "sigma")
    mass = "m_f" if "m_f" in n else "m_phi"
    point = {"s": 7.3, mass: 0.9, "alpha": 0.03}
    f = sympy.lambdify(n["theta"], differential.subs({n[k]: v for k, v in point.items()}), "math")
    numeric, _ = integrate.quad(
        lambda th: 2 * math.pi * math.sin(th) * f(th), 0, math.pi, epsabs=0, epsrel=1e-12
    )
    assert float(total.subs({n2[k]: v for k, v in point.items()})) == pytest.approx(numeric, rel=1e-10)


def test_dsigma_dt_and_dsigma_dcos_agree_through_the_jacobian():
    """t = m^2 - s(1 - beta cos)/2, so dsigma/dcos = (s beta / 2) dsigma/dt at the same angle."""
    per_t, n = _xsec("fermion_symbolic", True, "dsigma_dt", coupling="e")
    per_cos, n2 = _xsec("fermion_symbolic", True, "dsigma_dcos", coupling="e")
    values = {"s": 5.0, "m_f": 0.6, "e": 0.4, "Q_f": 0.7, "N_c": 3}
    theta = 0.8
    beta = math.sqrt(1 - 4 * 0.36 / 5.0)
    t = 0.36 - 5.0 * (1 - beta * math.cos(theta)) / 2
    a = float(per_t.subs({**{n[k]: v for k, v in values.items()}, n["t"]: t}))
    b = float(per_cos.subs({**{n2[k]: v for k, v in values.items()}, n2["theta"]: theta}))
    assert b == pytest.approx(5.0 * beta / 2 * a, rel=1e-12)


# --- yukawa_scattering -------------------------------------------------------------------------------------


def test_pseudoscalar_exchange_between_distinct_fermions_is_t_squared():
    """tr[(p3+m) g5 (p1+m) g5] = 2t: the spin-flip coupling is independent of the fermion masses."""
    expr, n = _yukawa("psi_chi", "pseudoscalar")
    t, g, mass = n["t"], n["g"], n["M"]
    assert sympy.simplify(expr - g**4 * t**2 / (t - mass**2) ** 2) == 0


def test_scalar_exchange_reduces_to_the_yukawa_potential_in_the_nonrelativistic_limit():
    expr, n = _yukawa("psi_chi", "scalar")
    t, g, mass, m, mc = n["t"], n["g"], n["M"], n["m"], n["m_chi"]
    assert sympy.simplify(expr - g**4 * (4 * m**2 - t) * (4 * mc**2 - t) / (t - mass**2) ** 2) == 0
    # at t -> 0 the amplitude is (2m)(2m_chi) g^2/(|q|^2 + M^2): the attractive Yukawa potential
    assert sympy.limit(expr, t, 0) == 16 * m**2 * mc**2 * g**4 / mass**4


@pytest.mark.parametrize("coupling", ["scalar", "pseudoscalar"])
def test_fermion_antifermion_scattering_is_fermion_fermion_crossed(coupling):
    """Crossing p2 <-> p4 (two fermions, no sign) takes psi psi -> psi psi to psi psibar -> psi psibar, s <-> u."""
    same, n = _yukawa("psi_psi", coupling, variables=("s", "u"), spins="summed")
    mixed, n2 = _yukawa("psi_psibar", coupling, variables=("s", "u"), spins="summed")
    crossed = same.subs({n["s"]: n2["u"], n["u"]: n2["s"]}, simultaneous=True)
    crossed = crossed.subs({n["m"]: n2["m"], n["M"]: n2["M"], n["g"]: n2["g"]})
    assert sympy.simplify(crossed - mixed) == 0


def _yukawa_numeric(process, coupling, p, m, mass):
    p1, p2, p3, p4 = p
    gamma = ONE if coupling == "scalar" else GAMMA5

    def amplitude(a, b, c, d):
        if process == "psi_psi":
            u1, u2, u3, u4 = (spinor_u(q, m, x) for q, x in zip(p, (a, b, c, d), strict=True))
            return (bar(u3) @ gamma @ u1) * (bar(u4) @ gamma @ u2) / (mdot(p1 - p3, p1 - p3) - mass**2) - (
                bar(u4) @ gamma @ u1
            ) * (bar(u3) @ gamma @ u2) / (mdot(p1 - p4, p1 - p4) - mass**2)
        if process == "psi_psibar":
            u1, v2, u3, v4 = spinor_u(p1, m, a), spinor_v(p2, m, b), spinor_u(p3, m, c), spinor_v(p4, m, d)
            return (bar(u3) @ gamma @ u1) * (bar(v2) @ gamma @ v4) / (mdot(p1 - p3, p1 - p3) - mass**2) - (
                bar(v2) @ gamma @ u1
            ) * (bar(u3) @ gamma @ v4) / (mdot(p1 + p2, p1 + p2) - mass**2)
        if process == "annihilation":
            if c or d:
                return 0.0  # scalars: one state
            u1, v2 = spinor_u(p1, m, a), spinor_v(p2, m, b)
            t_ch = gamma @ (slash(p1 - p3) + m * ONE) @ gamma / (mdot(p1 - p3, p1 - p3) - m**2)
            u_ch = gamma @ (slash(p1 - p4) + m * ONE) @ gamma / (mdot(p1 - p4, p1 - p4) - m**2)
            return bar(v2) @ (t_ch + u_ch) @ u1
        if b or d:
            return 0.0
        u1, u3 = spinor_u(p1, m, a), spinor_u(p3, m, c)
        s_ch = gamma @ (slash(p1 + p2) + m * ONE) @ gamma / (mdot(p1 + p2, p1 + p2) - m**2)
        u_ch = gamma @ (slash(p1 - p4) + m * ONE) @ gamma / (mdot(p1 - p4, p1 - p4) - m**2)
        return bar(u3) @ (s_ch + u_ch) @ u1

    return spin_sum(amplitude)


@pytest.mark.parametrize("coupling", ["scalar", "pseudoscalar"])
@pytest.mark.parametrize("process", ["psi_psi", "psi_psibar", "annihilation", "compton"])
def test_yukawa_spin_sum_matches_explicit_dirac_matrices(process, coupling):
    m, mass = 0.8, 0.5
    masses = {
        "psi_psi": (m, m, m, m),
        "psi_psibar": (m, m, m, m),
        "annihilation": (m, m, mass, mass),
        "compton": (m, mass, m, mass),
    }[process]
    p = cm_momenta(*masses, sqrt_s=3.7, theta=2.2)
    numeric = _yukawa_numeric(process, coupling, p, m, mass)
    expr, n = _yukawa(process, coupling, variables=("t", "u"), spins="summed")
    mand = _mandelstam(*p)
    value = float(expr.subs({n["t"]: mand["t"], n["u"]: mand["u"], n["g"]: 1, n["m"]: m, n["M"]: mass}))
    assert value == pytest.approx(numeric, rel=1e-10)
