"""Property tests: no input string crashes the parser or the text graders."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curation.records.answer import answer_from_dict
from curation.records.result import STATUSES
from curation.verify.parse import NameResolver, ParseError, parse_math, symbol_for
from curation.verify.text import grade_text

PIECES = [
    "\\frac", "\\sqrt", "\\left(", "\\right)", "{", "}", "(", ")", "[", "]", "^", "_", "**", "*", "/", "+", "-",
    "=", ",", "!", "|", "\\cdot", "\\times", "\\pi", "\\alpha", "\\mu", "\\gamma_E", "\\ln", "\\log", "\\sin",
    "\\cos^2", "\\exp", "\\Gamma", "\\zeta", "\\mathrm{", "\\text{", "\\,", "\\boxed{", "e", "i", "x", "s", "m_e",
    "alpha", "sqrt(", "log(", "10", "2", "0", "1.5e-3", "9999", "\\infty", "O(", "\\approx", "\\%", "GeV", "nb",
    " ", "\\", "'", "$", "\\operatorname{Li}_2", "\\binom", "&", "\\\\", "π", "−", "⁴",
]  # fmt: skip
math_text = st.lists(st.sampled_from(PIECES), max_size=30).map("".join)
SYMBOLS = {
    "x": symbol_for("x", "real"),
    "s": symbol_for("s", "positive"),
    "m_e": symbol_for("m_e", "positive"),
}
SPECS = [
    answer_from_dict(
        {
            "kind": "symbolic",
            "expr": "x**2 + s/m_e",
            "symbols": {"x": "real", "s": "positive", "m_e": "positive"},
        }
    ),
    answer_from_dict({"kind": "numeric", "value": 86.8, "unit": "nb"}),
    answer_from_dict({"kind": "categorical", "value": "vector", "choices": ["vector", "scalar"]}),
    answer_from_dict(
        {
            "kind": "tuple",
            "items": [
                {"kind": "numeric", "value": 1},
                {"kind": "symbolic", "expr": "x", "symbols": {"x": "real"}},
            ],
        }
    ),
]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(math_text)
def test_parser_returns_an_expression_or_a_parse_error(text):
    try:
        parse_math(text, NameResolver(declared=SYMBOLS))
    except ParseError:
        pass


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=200))
def test_parser_survives_arbitrary_unicode(text):
    try:
        parse_math(text, NameResolver(declared=SYMBOLS))
    except ParseError:
        pass


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(math_text, st.sampled_from(SPECS))
def test_every_text_grader_returns_a_status(text, spec):
    status, details = grade_text(spec, "\\boxed{" + text + "}")
    assert status in STATUSES
    assert isinstance(details, dict)
