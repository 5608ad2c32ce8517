"""Topic taxonomies: the shipped QFT and cosmology files, lookups, and errors that name the file and line."""

import re
from collections import Counter
from pathlib import Path

import pytest

from generation.cas.family import LEVELS
from generation.topics import (
    ANSWER_KINDS,
    SHIPPED,
    Taxonomy,
    TaxonomyError,
    Topic,
    load_taxonomy,
)

GOOD = """\
area: toy
name: Toy field theory
version: "0.1"
categories:
  - id: kinematics
    description: Relativistic kinematics.
  - id: decays
    description: Decay rates.
topics:
  - id: mandelstam-sum
    category: kinematics
    level: advanced undergraduate
    description: s + t + u for given masses.
    answer_kinds: [symbolic]
    keywords: [mandelstam]
  - id: muon-width
    category: decays
    level: graduate
    description: >-
      The muon width
      in the Fermi theory.
"""


def _write(tmp_path: Path, text: str, name: str = "mine.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _line_of(text: str, fragment: str, occurrence: int = 1) -> int:
    lines = [number for number, line in enumerate(text.splitlines(), start=1) if fragment in line]
    return lines[occurrence - 1]


def _error(tmp_path: Path, text: str) -> str:
    path = _write(tmp_path, text)
    with pytest.raises(TaxonomyError) as info:
        load_taxonomy(path)
    return str(info.value)


# ---------------------------------------------------------------- the shipped taxonomies


@pytest.fixture(scope="module")
def qft() -> Taxonomy:
    return load_taxonomy("qft")


def test_shipped_names_are_qft_and_cosmology():
    assert SHIPPED == ("qft", "cosmology")


def test_qft_taxonomy_has_at_least_90_topics_and_15_per_level(qft):
    assert qft.area == "qft"
    assert len(qft.topics) >= 90
    per_level = Counter(t.level for t in qft.topics)
    assert set(per_level) == set(LEVELS)
    assert all(per_level[level] >= 15 for level in LEVELS), per_level


def test_qft_topic_ids_are_unique_and_kebab_case(qft):
    ids = [t.id for t in qft.topics]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", i) for i in ids)


def test_every_declared_qft_category_is_used(qft):
    used = {t.category for t in qft.topics}
    assert used == set(qft.categories)
    assert 12 <= len(qft.categories) <= 18


def test_shipped_topics_have_descriptions_and_valid_hints():
    for name in SHIPPED:
        for topic in load_taxonomy(name).topics:
            assert len(topic.description) >= 40, topic.id
            assert "\n" not in topic.description
            assert set(topic.answer_kinds) <= set(ANSWER_KINDS)
            assert topic.answer_kinds, f"{name}: {topic.id} gives no answer_kinds hint"
            assert topic.area == name


def test_qft_covers_the_core_syllabus(qft):
    text = " ".join(f"{t.id} {t.description} {' '.join(t.keywords)}" for t in qft.topics).lower()
    for phrase in [
        "klein-gordon", "dirac", "gamma", "fierz", "wick", "lsz", "compton", "mandelstam", "crossing",
        "optical theorem", "passarino-veltman", "dimensional regularization", "beta function", "callan-symanzik",
        "wilsonian", "euler-heisenberg", "faddeev-popov", "brst", "goldstone", "higgs", "pi0", "instanton",
        "theta", "kink", "large n", "lattice", "matsubara", "schwinger", "casimir", "wess-zumino", "central charge",
        "muon decay", "neutrino oscillation", "coleman-weinberg", "spinor helicity", "anomaly cancellation",
    ]:  # fmt: skip
        assert phrase in text, phrase


def test_cosmology_taxonomy_loads_with_every_level(qft):
    cosmology = load_taxonomy("cosmology")
    assert cosmology.area == "cosmology"
    assert 25 <= len(cosmology.topics) <= 40
    assert {t.level for t in cosmology.topics} == set(LEVELS)
    assert {t.category for t in cosmology.topics} == set(cosmology.categories)
    assert not {t.id for t in cosmology.topics} & {t.id for t in qft.topics}


# ---------------------------------------------------------------- lookups


def test_get_returns_the_topic_and_names_close_matches_when_missing(qft):
    topic = qft.get("qed-compton-scattering")
    assert isinstance(topic, Topic)
    assert topic.category == "qed-processes" and topic.level == "graduate"
    with pytest.raises(TaxonomyError, match="qed-compton-scattering"):
        qft.get("qed-compton-scatering")


def test_by_level_and_select_filter_in_file_order(qft):
    graduate = qft.by_level("graduate")
    assert graduate and all(t.level == "graduate" for t in graduate)
    order = [t.id for t in qft.topics]
    assert [t.id for t in graduate] == [i for i in order if i in {t.id for t in graduate}]

    chosen = qft.select(levels=["graduate", "post-graduate"], categories="qed-processes")
    assert chosen and {t.category for t in chosen} == {"qed-processes"}
    assert {t.level for t in chosen} <= {"graduate", "post-graduate"}

    ids = ["wick-theorem", "casimir-effect"]
    assert [t.id for t in qft.select(ids=ids)] == [i for i in order if i in ids]
    assert qft.select() == list(qft.topics)
    assert qft.select(levels="graduate", ids="casimir-effect") == [qft.get("casimir-effect")]


def test_select_with_an_unknown_name_raises_instead_of_selecting_nothing(qft):
    with pytest.raises(TaxonomyError, match="no level 'grad'"):
        qft.select(levels="grad")
    with pytest.raises(TaxonomyError, match="did you mean qed-processes"):
        qft.select(categories=["qed-process"])
    with pytest.raises(TaxonomyError, match="no topic"):
        qft.select(ids=["no-such-topic"])


def test_a_user_taxonomy_loads_from_a_path(tmp_path):
    path = _write(tmp_path, GOOD)
    for spelling in (path, str(path)):
        toy = load_taxonomy(spelling)
        assert (toy.area, toy.name, toy.version) == ("toy", "Toy field theory", "0.1")
        assert toy.categories == ("kinematics", "decays")
        assert toy.category_description("decays") == "Decay rates."
        width = toy.get("muon-width")
        assert width == Topic(
            "muon-width", "decays", "graduate", "The muon width in the Fermi theory.", area="toy"
        )
        assert toy.get("mandelstam-sum").answer_kinds == ("symbolic",)
        assert [t.id for t in toy] == ["mandelstam-sum", "muon-width"] and len(toy) == 2


def test_an_unknown_name_that_is_not_a_file_is_explained(tmp_path):
    with pytest.raises(TaxonomyError, match="neither a shipped taxonomy"):
        load_taxonomy("qcd")
    with pytest.raises(TaxonomyError, match="neither a shipped taxonomy"):
        load_taxonomy(tmp_path / "missing.yaml")


# ---------------------------------------------------------------- errors name the file and line


def test_error_for_an_unknown_level_names_file_line_and_the_levels(tmp_path):
    text = GOOD.replace("level: graduate", "level: grad")
    message = _error(tmp_path, text)
    assert message.startswith(f"{tmp_path / 'mine.yaml'}, line {_line_of(text, 'level: grad')}: ")
    assert "topic 'muon-width': level 'grad' is not one of advanced undergraduate, graduate" in message


def test_shipped_file_errors_are_named_by_their_place_in_the_repository(qft):
    from generation.topics import _label, taxonomy_path

    assert _label(taxonomy_path("qft")) == "generation/topics/qft.yaml"


def test_error_for_a_duplicate_id_names_both_lines(tmp_path):
    text = GOOD.replace("id: muon-width", "id: mandelstam-sum")
    message = _error(tmp_path, text)
    first, second = _line_of(text, "id: mandelstam-sum", 1), _line_of(text, "id: mandelstam-sum", 2)
    assert f"mine.yaml, line {second}:" in message
    assert f"already used on line {first}" in message


def test_error_for_a_missing_key_names_the_topic_line(tmp_path):
    text = GOOD.replace("    level: graduate\n", "")
    message = _error(tmp_path, text)
    assert f"mine.yaml, line {_line_of(text, 'id: muon-width')}:" in message
    assert "topic 'muon-width': missing key(s) level" in message


def test_error_for_an_unknown_key_lists_the_allowed_keys(tmp_path):
    text = GOOD.replace("    keywords: [mandelstam]\n", "    keyword: [mandelstam]\n")
    message = _error(tmp_path, text)
    assert f"mine.yaml, line {_line_of(text, 'keyword: [mandelstam]')}:" in message
    assert "unknown key 'keyword' (did you mean 'keywords'?)" in message
    assert "allowed keys are id, category, level, description, answer_kinds, keywords" in message


def test_error_for_an_empty_description(tmp_path):
    blank = 'description: "  "'
    text = GOOD.replace("description: s + t + u for given masses.", blank)
    message = _error(tmp_path, text)
    assert f"mine.yaml, line {_line_of(text, blank)}:" in message
    assert "topic 'mandelstam-sum': description is empty" in message


def test_error_for_an_unknown_answer_kind(tmp_path):
    text = GOOD.replace("answer_kinds: [symbolic]", "answer_kinds: [symbolic, formula]")
    message = _error(tmp_path, text)
    assert f"mine.yaml, line {_line_of(text, 'answer_kinds:')}:" in message
    assert "answer kind 'formula' is not one of symbolic, numeric, categorical, code, tuple" in message


def test_error_for_an_undeclared_category(tmp_path):
    text = GOOD.replace("category: decays", "category: decay-rates")
    message = _error(tmp_path, text)
    assert f"mine.yaml, line {_line_of(text, 'category: decay-rates')}:" in message
    assert (
        "category 'decay-rates' is not declared under categories:; use one of kinematics, decays" in message
    )


def test_error_for_a_duplicate_category(tmp_path):
    text = GOOD.replace("id: decays", "id: kinematics").replace("category: decays", "category: kinematics")
    message = _error(tmp_path, text)
    assert f"mine.yaml, line {_line_of(text, 'id: kinematics', 2)}:" in message
    assert f"already declared on line {_line_of(text, 'id: kinematics', 1)}" in message


def test_error_for_an_id_that_is_not_kebab_case(tmp_path):
    text = GOOD.replace("id: muon-width", "id: Muon_Width")
    message = _error(tmp_path, text)
    assert f"mine.yaml, line {_line_of(text, 'id: Muon_Width')}:" in message
    assert "is not kebab-case" in message


def test_error_for_an_unknown_or_missing_top_level_key(tmp_path):
    message = _error(tmp_path, "areas: toy\n" + GOOD)
    assert "mine.yaml, line 1: unknown key 'areas'" in message
    assert "allowed keys are area, name, version, categories, topics" in message
    message = _error(tmp_path, GOOD.replace('version: "0.1"\n', ""))
    assert "mine.yaml: missing top-level key(s) version" in message


def test_error_for_an_unquoted_numeric_version(tmp_path):
    text = GOOD.replace('version: "0.1"', "version: 0.1")
    message = _error(tmp_path, text)
    assert f"mine.yaml, line {_line_of(text, 'version:')}: version is a number; quote it" in message


def test_error_for_a_key_given_twice_in_one_topic(tmp_path):
    text = GOOD.replace("    level: graduate\n", "    level: graduate\n    level: post-graduate\n")
    message = _error(tmp_path, text)
    assert f"mine.yaml, line {_line_of(text, 'level: post-graduate')}:" in message
    assert "'level' appears twice" in message


def test_error_for_invalid_yaml_names_the_line(tmp_path):
    text = GOOD.replace("keywords: [mandelstam]", "keywords: [mandelstam")
    message = _error(tmp_path, text)
    assert re.match(rf"{re.escape(str(tmp_path / 'mine.yaml'))}, line \d+: not valid YAML", message)


def test_error_for_a_file_that_is_not_a_mapping(tmp_path):
    assert "expected a mapping" in _error(tmp_path, "- just\n- a list\n")
    assert "expected a mapping" in _error(tmp_path, "")
    assert "topics must be a non-empty list" in _error(tmp_path, GOOD.split("topics:")[0] + "topics: []\n")
