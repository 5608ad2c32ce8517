"""Answer extraction follows DESIGN.md's contract exactly."""

from curation.verify.extract import (
    after_last_relation,
    answer_candidates,
    boxed_contents,
    drop_order_term,
    final_answer_line,
    final_segment,
    last_python_block,
    split_top_level_commas,
)


def test_only_text_after_the_last_think_close_counts():
    assert final_segment("<think>\\boxed{1}</think> so \\boxed{2}") == " so \\boxed{2}"


def test_orphan_think_close_still_splits():
    assert final_segment("draft \\boxed{1}</think>\\boxed{2}") == "\\boxed{2}"


def test_unclosed_think_is_no_answer():
    assert final_segment("<think> \\boxed{1} still thinking") is None


def test_last_box_wins_and_nested_braces_survive():
    assert boxed_contents(r"\boxed{1} then \boxed{\frac{a}{b^{2}}}") == ["1", r"\frac{a}{b^{2}}"]


def test_escaped_braces_do_not_close_a_box():
    assert boxed_contents(r"\boxed{\{x\}}") == [r"\{x\}"]


def test_unbalanced_box_is_ignored():
    assert boxed_contents(r"\boxed{\frac{1}{2}") == []


def test_box_inside_box_is_one_answer():
    assert boxed_contents(r"\boxed{a + \boxed{b}}") == [r"a + \boxed{b}"]


def test_final_answer_line_must_be_the_last_non_empty_line():
    assert final_answer_line("Final answer: 42.\n\n") == "42"
    assert final_answer_line("Final answer: 42\nmore text") is None


def test_final_answer_line_strips_math_delimiters_and_bold():
    assert final_answer_line("**Final answer:** $\\frac{1}{2}$") == "\\frac{1}{2}"


def test_box_beats_final_answer_line():
    assert answer_candidates("\\boxed{1}\nFinal answer: 2") == ["1"]


def test_relation_keeps_text_after_last_top_level_relation():
    assert after_last_relation(r"\sigma = \frac{4\pi\alpha^2}{3s} \approx 86.8") == "86.8"


def test_relation_inside_brackets_is_not_top_level():
    assert after_last_relation(r"f(x=1) + 2") == r"f(x=1) + 2"


def test_inequalities_are_not_definitions():
    assert after_last_relation("x <= 3") == "x <= 3"


def test_trailing_big_o_term_is_dropped():
    assert (
        drop_order_term(r"\frac{1}{\epsilon} - \gamma_E + \mathcal{O}(\epsilon)")
        == r"\frac{1}{\epsilon} - \gamma_E"
    )
    assert drop_order_term(r"1 + x + O(x^2)") == "1 + x"


def test_big_o_that_is_not_trailing_stays():
    assert drop_order_term("O(x) + 1") == "O(x) + 1"


def test_tuple_split_on_top_level_commas_only():
    assert split_top_level_commas(r"\left(\frac{1}{2}, f(a, b)\right)") == [r"\frac{1}{2}", "f(a, b)"]


def test_thin_space_is_not_a_tuple_separator():
    assert split_top_level_commas(r"(86.8\,\mathrm{nb}, 3)") == [r"86.8\,\mathrm{nb}", "3"]


def test_last_python_block_wins():
    text = "```python\ndef f():\n    return 1\n```\ntext\n```python\ndef f():\n    return 2\n```"
    assert last_python_block(text) == "def f():\n    return 2\n"
