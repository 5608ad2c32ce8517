"""Answer extraction from model text, exactly as DESIGN.md fixes it.

Pure string work, no evaluation: safe on hostile text, linear in its length.
"""

from __future__ import annotations

import re

_THINK_CLOSE = "</think>"
_THINK_OPEN = "<think>"
_FINAL_ANSWER = re.compile(
    r"^\s*(?:\*\*)?final\s+answer(?:\*\*)?\s*[:：]\s*(?:\*\*)?\s*(.*?)\s*(?:\*\*)?\s*$", re.I
)
# Possessive quantifiers: with plain ones the two space runs backtrack against each other, quadratic in a run of
# spaces after a fence (60 KB of them took 5.6 s), and this runs on hostile text.
_PYTHON_FENCE = re.compile(r"```[ \t]*+(?:python3|python|py)?+[ \t]*+\n(.*?)```", re.S | re.I)
_BOX_COMMANDS = ("\\boxed", "\\fbox")


def final_segment(text: str) -> str | None:
    """The text that counts: after the last ``</think>``; None when a ``<think>`` is left open."""
    close = text.rfind(_THINK_CLOSE)
    if close >= 0:
        return text[close + len(_THINK_CLOSE) :]
    if _THINK_OPEN in text:
        return None
    return text


def _matching_brace(text: str, open_index: int) -> int:
    """Index of the ``}`` matching the ``{`` at ``open_index``; -1 if unbalanced. ``\\{`` does not count."""
    depth = 0
    i = open_index
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def boxed_contents(text: str) -> list[str]:
    """Contents of every balanced ``\\boxed{...}`` (and ``\\fbox``), in order of appearance."""
    found: list[tuple[int, str]] = []
    for command in _BOX_COMMANDS:
        start = 0
        while True:
            at = text.find(command, start)
            if at < 0:
                break
            j = at + len(command)
            while j < len(text) and text[j] in " \t":
                j += 1
            if j < len(text) and text[j] == "{":
                end = _matching_brace(text, j)
                if end >= 0:
                    found.append((at, text[j + 1 : end]))
                    start = end + 1
                    continue
            start = at + len(command)
    # A box nested inside another box is part of the outer one's content, not a separate answer.
    found.sort()
    result: list[str] = []
    outer_end = -1
    for at, content in found:
        if at < outer_end:
            continue
        result.append(content)
        outer_end = at + len(content)
    return result


def final_answer_line(text: str) -> str | None:
    """``Final answer: X`` when it is the last non-empty line (trailing period dropped)."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return None
    match = _FINAL_ANSWER.match(lines[-1])
    if not match:
        return None
    answer = match.group(1).strip()
    if answer.endswith(".") and not answer.endswith(".."):
        answer = answer[:-1].rstrip()
    answer = _strip_math_delimiters(answer)
    return answer or None


def _strip_math_delimiters(text: str) -> str:
    text = text.strip()
    for left, right in (("$$", "$$"), ("\\[", "\\]"), ("\\(", "\\)"), ("$", "$")):
        if text.startswith(left) and text.endswith(right) and len(text) >= len(left) + len(right):
            return text[len(left) : len(text) - len(right)].strip()
    return text


def answer_candidates(text: str) -> list[str]:
    """Every box in order, or else the ``Final answer:`` line; empty when there is no answer."""
    boxes = boxed_contents(text)
    if boxes:
        return boxes
    line = final_answer_line(text)
    return [line] if line is not None else []


_RELATIONS = ("\\approx", "\\simeq", "\\equiv", "\\cong", "\\sim", "\\to", "\\rightarrow", "==", "≈", "=")
_OPENERS = "([{"
_CLOSERS = ")]}"


def _top_level_positions(text: str, needles: tuple[str, ...]) -> list[tuple[int, str]]:
    """Positions of any needle at bracket depth 0 (LaTeX ``\\left(``/``\\right)`` count as brackets)."""
    out = []
    depth = 0
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "\\" and text.startswith("\\left", i) and not text[i + 5 : i + 6].isalpha():
            depth += 1
            i += 6
            continue
        if ch == "\\" and text.startswith("\\right", i) and not text[i + 6 : i + 7].isalpha():
            depth -= 1
            i += 7
            continue
        if ch == "\\" and i + 1 < n and text[i + 1] in "{}()[]":
            i += 2
            continue
        if ch in _OPENERS:
            depth += 1
        elif ch in _CLOSERS:
            depth -= 1
        elif depth == 0:
            for needle in needles:
                if text.startswith(needle, i):
                    if needle[0] == "\\" and text[i + len(needle) : i + len(needle) + 1].isalpha():
                        continue
                    out.append((i, needle))
                    i += len(needle) - 1
                    break
        i += 1
    return out


def after_last_relation(text: str) -> str:
    """``lhs = rhs`` (also ``\\approx``, ``\\simeq``) -> ``rhs``; text without a top-level relation is unchanged."""
    positions = [
        (i, r) for i, r in _top_level_positions(text, _RELATIONS) if r not in ("\\to", "\\rightarrow")
    ]
    # `<=`/`>=` are inequalities, not definitions: keep them whole.
    positions = [(i, r) for i, r in positions if not (r == "=" and i > 0 and text[i - 1] in "<>!")]
    if not positions:
        return text.strip()
    i, relation = positions[-1]
    return text[i + len(relation) :].strip()


_BIG_O = re.compile(
    r"(?:\\mathcal\s*\{\s*O\s*\}|\\mathcal\s*O|\\mathrm\s*\{\s*O\s*\}|\\operatorname\s*\{\s*O\s*\}|\bO)\s*(?:\\left\s*)?\("
)


def drop_order_term(text: str) -> str:
    """Drop a trailing ``+ O(...)`` / ``+ \\mathcal{O}(...)``: the reference is the truncated series."""
    for match in reversed(list(_BIG_O.finditer(text))):
        head = text[: match.start()].rstrip()
        if not head or head[-1] not in "+-":
            continue
        # The O-term must run to the end of the answer.
        open_at = match.end() - 1
        depth = 0
        end = -1
        for k in range(open_at, len(text)):
            if text[k] == "(":
                depth += 1
            elif text[k] == ")":
                depth -= 1
                if depth == 0:
                    end = k
                    break
        if end < 0:
            continue
        tail = text[end + 1 :].strip()
        if tail in ("", "\\right)", ")") or re.fullmatch(r"(?:\\right\s*\))?\s*", tail):
            return head[:-1].rstrip()
    return text


def split_top_level_commas(text: str) -> list[str]:
    """``(a, b, c)`` / ``\\left(a, b\\right)`` / ``a, b`` -> ``["a", "b", "c"]``; ``\\,`` is spacing, not a comma."""
    body = strip_outer_brackets(text.strip())
    cleaned = body.replace("\\,", "\u2009")
    cuts = [i for i, _ in _top_level_positions(cleaned, (",", ";"))]
    parts = []
    last = 0
    for cut in cuts:
        parts.append(cleaned[last:cut])
        last = cut + 1
    parts.append(cleaned[last:])
    return [part.replace("\u2009", "\\,").strip() for part in parts]


def strip_outer_brackets(text: str) -> str:
    """Remove one pair of brackets that encloses the whole text."""
    t = text.strip()
    pairs = (
        ("\\left(", "\\right)"),
        ("\\left[", "\\right]"),
        ("\\left\\{", "\\right\\}"),
        ("(", ")"),
        ("[", "]"),
    )
    for left, right in pairs:
        if t.startswith(left) and t.endswith(right):
            inner = t[len(left) : len(t) - len(right)]
            if _balanced(inner):
                return inner.strip()
    return t


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        if ch in _OPENERS:
            depth += 1
        elif ch in _CLOSERS:
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


def last_python_block(text: str) -> str | None:
    """The last fenced ```python block (an untagged fence counts too), or None."""
    blocks = _PYTHON_FENCE.findall(text)
    return blocks[-1] if blocks else None
