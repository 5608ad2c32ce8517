"""LaTeX and sympy syntax read into the same sympy expressions, with DESIGN.md's naming rules."""

import pytest
import sympy

from curation.verify.parse import NameResolver, ParseError, parse_math, symbol_for

DECLARED = {
    name: symbol_for(name, domain)
    for name, domain in {
        "s": "positive", "t": "real", "m": "positive", "m_e": "positive", "m_mu": "positive", "e": "positive",
        "alpha": "positive", "theta": "real", "G_F": "positive", "N": "positive_integer", "beta": "real",
        "eps": "positive", "c": "positive",
    }.items()
}  # fmt: skip
S = DECLARED


def read(text: str) -> sympy.Expr:
    return parse_math(text, NameResolver(declared=DECLARED))


@pytest.mark.parametrize(
    "latex, sympy_text",
    [
        (r"\frac{e^4}{8\pi s}", "e**4/(8*pi*s)"),
        (r"\dfrac{G_F^2 m_\mu^5}{192\pi^3}", "G_F**2*m_mu**5/(192*pi**3)"),
        (r"2\pi\alpha", "2*pi*alpha"),
        (r"\sqrt{1-\frac{4m_{e}^2}{s}}", "sqrt(1 - 4*m_e**2/s)"),
        (r"\frac12 m^2", "m**2/2"),
        (r"\left(\frac{s}{m^2}\right)^{3/2}", "(s/m**2)**(3/2)"),
        (r"\alpha \cdot s \times t", "alpha*s*t"),
        (r"\sqrt[3]{s}", "s**(1/3)"),
    ],
)
def test_latex_and_sympy_syntax_agree(latex, sympy_text):
    assert read(latex) == read(sympy_text)


def test_function_power_applies_to_the_value():
    assert read(r"\cos^2\theta") == sympy.cos(S["theta"]) ** 2


def test_function_argument_runs_to_the_next_plus_or_minus():
    assert read(r"\cos 2\theta + 1") == sympy.cos(2 * S["theta"]) + 1


def test_function_argument_stops_at_the_next_function():
    assert read(r"\sin\theta\cos\theta") == sympy.sin(S["theta"]) * sympy.cos(S["theta"])


def test_ln_and_log_are_natural_logs():
    assert read(r"\ln s") == read(r"\log s") == sympy.log(S["s"])


def test_log_with_base():
    assert read(r"\log_{10} 1000") == 3


def test_subscript_forms_mean_the_declared_name():
    assert read("m_e") == read("m_{e}") == S["m_e"]
    assert read(r"m_\mu") == read(r"m_{\mu}") == read("m_mu") == S["m_mu"]


def test_declared_e_is_the_charge_not_eulers_number():
    assert read("e^4") == S["e"] ** 4


def test_undeclared_e_is_eulers_number_and_i_the_imaginary_unit():
    assert parse_math("e^{i\\pi}") == -1


def test_gamma_e_is_euler_gamma():
    assert read(r"\gamma_E") == read(r"\gamma_{E}") == sympy.EulerGamma


def test_declared_beta_wins_over_the_beta_function():
    assert read("beta(2)") == 2 * S["beta"]


def test_undeclared_zeta_call_is_the_zeta_function():
    assert read(r"\zeta(3)") == sympy.zeta(3)


def test_implicit_multiplication_splits_words_into_declared_names():
    assert read("mc^2") == S["m"] * S["c"] ** 2
    assert read("sm_e^2") == S["s"] * S["m_e"] ** 2


def test_decimal_and_scientific_numbers_are_exact():
    assert read("1.5e-3") == read(r"1.5\times10^{-3}") == sympy.Rational(3, 2000)


def test_unicode_glyphs_are_read():
    assert read("2πα·s") == 2 * sympy.pi * S["alpha"] * S["s"]


def test_absolute_value_bars():
    assert read(r"\left|t\right|") == sympy.Abs(S["t"])


def test_strict_mode_rejects_undeclared_names():
    with pytest.raises(ParseError, match="not declared"):
        parse_math("g*x", NameResolver(declared={"x": sympy.Symbol("x")}, strict=True))


def test_lenient_mode_records_undeclared_names():
    resolver = NameResolver(declared=DECLARED)
    parse_math("g^2 s", resolver)
    assert resolver.undeclared == {"g"}


@pytest.mark.parametrize(
    "text",
    [
        "10**10**10",
        r"10^{10^{10}}",
        "2^{2^{2^{2^{2^{2}}}}}",
        "x^{100000000}",
        "99999!",
        "9" * 1000,
    ],
)
def test_huge_numbers_are_refused_not_computed(text):
    with pytest.raises(ParseError):
        read(text)


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('ls')",
        "lambda: 1",
        r"\frac{1}{",
        r"\sum_{n=1}^\infty n",
        r"\int_0^1 x\,dx",
        "",
        ")(",
    ],
)
def test_code_and_garbage_are_parse_errors(text):
    with pytest.raises(ParseError):
        read(text)


def test_nesting_depth_is_bounded():
    with pytest.raises(ParseError):
        read("(" * 5000 + "1" + ")" * 5000)
