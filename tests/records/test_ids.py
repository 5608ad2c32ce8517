from curation.records import NumericAnswer, SymbolicAnswer, problem_id, seed_id, trace_id
from curation.records.ids import normalize_text

SIGMA = SymbolicAnswer(expr="4*pi*alpha**2/(3*s)", symbols={"alpha": "positive", "s": "positive"})
STATEMENT = "Compute the total cross section $\\sigma(e^+e^-\\to\\mu^+\\mu^-)$ at tree level."


def test_problem_id_has_prefix_and_16_hex_digits():
    pid = problem_id(STATEMENT, SIGMA)
    assert pid.startswith("qft-")
    assert len(pid) == 20
    int(pid[4:], 16)


def test_problem_id_is_pinned_for_a_known_problem():
    # Pinned: changing the id scheme silently would orphan every stored record.
    assert problem_id(STATEMENT, SIGMA) == "qft-694c22daecd521a4"


def test_whitespace_in_statement_does_not_change_id():
    rewrapped = "  Compute the total cross section\n$\\sigma(e^+e^-\\to\\mu^+\\mu^-)$ \t at tree level.\n\n"
    assert problem_id(rewrapped, SIGMA) == problem_id(STATEMENT, SIGMA)


def test_unicode_composition_does_not_change_id():
    composed = "K\u00e4ll\u00e9n function"
    decomposed = "Ka\u0308lle\u0301n function"
    assert problem_id(composed, SIGMA) == problem_id(decomposed, SIGMA)


def test_text_change_changes_id():
    assert problem_id(STATEMENT.replace("tree", "one-loop"), SIGMA) != problem_id(STATEMENT, SIGMA)


def test_answer_change_changes_id():
    other = SymbolicAnswer(
        expr="4*pi*alpha**2/(3*s)", symbols={"alpha": "positive", "s": "positive"}, rtol=1e-6
    )
    assert problem_id(STATEMENT, other) != problem_id(STATEMENT, SIGMA)


def test_answer_dict_with_defaults_left_out_gives_same_id_as_object():
    as_dict = {
        "kind": "symbolic",
        "expr": "4*pi*alpha**2/(3*s)",
        "symbols": {"s": "positive", "alpha": "positive"},
    }
    assert problem_id(STATEMENT, as_dict) == problem_id(STATEMENT, SIGMA)


def test_numeric_int_and_float_values_give_same_id():
    assert problem_id(STATEMENT, {"kind": "numeric", "value": 2}) == problem_id(
        STATEMENT, NumericAnswer(value=2.0)
    )


def test_normalize_text_collapses_whitespace_runs():
    assert normalize_text(" a \n\n b\tc ") == "a b c"


def test_seed_id_ignores_whitespace_and_depends_on_solution():
    assert seed_id("Show that  x.", "Because.") == seed_id("Show that x.\n", "Because.")
    assert seed_id("Show that x.", "Because.") != seed_id("Show that x.", "")
    assert seed_id("Show that x.", "").startswith("seed-")


def test_trace_id_depends_on_messages_and_model():
    messages = [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"}]
    tid = trace_id("qft-0000000000000000", messages, "m1")
    assert tid.startswith("trace-")
    assert tid == trace_id("qft-0000000000000000", [dict(m) for m in messages], "m1")
    assert tid != trace_id("qft-0000000000000000", messages, "m2")
