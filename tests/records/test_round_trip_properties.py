"""Property tests: any valid Problem survives dict, row and Arrow round trips unchanged."""

import math

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from curation.records import (
    PROBLEM_FEATURES,
    CategoricalAnswer,
    CodeAnswer,
    CodeArgument,
    CodeTestCase,
    NumericAnswer,
    Problem,
    Source,
    SymbolicAnswer,
    TupleAnswer,
    problem_from_row,
    problem_to_row,
)

# Valid UTF-8 text only: lone surrogates cannot be written to a file at all.
text = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
names = st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True)
finite = st.floats(allow_nan=False, allow_infinity=False)
tolerance = st.floats(min_value=0, max_value=1, allow_nan=False)
json_scalar = st.one_of(st.none(), st.booleans(), st.integers(), finite, text)
json_value = st.recursive(
    json_scalar,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=8,
)

symbolic = st.builds(
    SymbolicAnswer,
    expr=st.sampled_from(["4*pi*alpha**2/(3*s)", "m**2 - t", "g**2/(16*pi**2)"]),
    symbols=st.dictionaries(names, st.sampled_from(["real", "positive", "complex"]), max_size=3),
    rtol=tolerance,
)
numeric = st.builds(
    NumericAnswer,
    value=finite | st.builds(complex, finite, finite.filter(lambda x: x != 0)),
    rtol=tolerance,
    atol=tolerance,
    unit=st.none() | st.sampled_from(["pb", "nb", "GeV"]),
)
categorical = st.builds(CategoricalAnswer, value=text, choices=st.lists(text, max_size=4).map(tuple))


@st.composite
def code(draw):
    arg_names = draw(st.lists(names, min_size=1, max_size=3, unique=True))
    cases = draw(
        st.lists(
            st.builds(
                CodeTestCase,
                inputs=st.fixed_dictionaries({name: json_value for name in arg_names}),
                output=json_value,
                rtol=st.none() | tolerance,
                atol=st.none() | tolerance,
                case_id=st.none() | text,
            ),
            min_size=1,
            max_size=3,
        )
    )
    return CodeAnswer(
        "f", tuple(CodeArgument(n, "any") for n in arg_names), "def f(*a):\n    return 0", tuple(cases)
    )


answers = st.one_of(
    symbolic,
    numeric,
    categorical,
    code(),
    st.builds(TupleAnswer, st.lists(symbolic | numeric, min_size=1, max_size=3).map(tuple)),
)


@st.composite
def problems(draw):
    statement = draw(text.filter(lambda s: s.strip()))
    return Problem.create(
        statement=statement,
        answer=draw(answers),
        source=Source(
            draw(st.sampled_from(["synthetic-llm", "synthetic-cas", "adapted"])),
            draw(st.dictionaries(names, json_value, max_size=2)),
        ),
        solution=draw(text),
        topic=draw(text),
        level=draw(text),
        tags=tuple(draw(st.lists(text, max_size=3))),
        qc=draw(st.none() | st.dictionaries(text, json_value, max_size=2)),
        code_answer=draw(st.none() | code()),
        code_answer_requirements=draw(text),
        extra=draw(st.dictionaries(names.map(lambda n: "x_" + n), json_value, max_size=2)),
    )


def _same(a: Problem, b: Problem) -> bool:
    # NaN cannot appear (finite floats only), so == is exact; -0.0 == 0.0 is checked by sign below.
    if a != b:
        return False
    if isinstance(a.answer, NumericAnswer) and isinstance(a.answer.value, float):
        return math.copysign(1, a.answer.value) == math.copysign(1, b.answer.value)
    return True


@settings(max_examples=60, deadline=None)
@given(problems())
def test_any_problem_round_trips_through_dict(problem):
    assert _same(Problem.from_dict(problem.to_dict()), problem)


@settings(max_examples=60, deadline=None)
@given(problems())
def test_any_problem_round_trips_through_an_arrow_row(problem):
    table = pa.Table.from_pylist([problem_to_row(problem)], schema=PROBLEM_FEATURES.arrow_schema)
    assert _same(problem_from_row(table.to_pylist()[0]), problem)
