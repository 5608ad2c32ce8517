"""Text normalization for dedup: two texts that differ only in layout compare equal (decontamination tokenizes
differently, into match tokens: `curation.decontam.normalize`).

Example::

    normalize_text(r"Find $\\left( E \\right)$ for  \\,m=1")  # 'find ( e ) for m=1'
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["normalize_text", "words"]

# LaTeX spacing commands: \, \; \: \! \  \quad \qquad \hspace{..} \vspace{..} and ~ (a tie).
_SPACING = re.compile(r"\\(?:[,;:! ]|q?quad\b|[hv]space\*?\{[^}]*\})|~")
# \left( \right) \bigl[ \Bigr| ...: the size command goes, the delimiter stays.
_SIZING = re.compile(r"\\(?:left|right|middle|[bB]igg?[lrm]?)\b\s*")
# Math delimiters: $$, $, \( \), \[ \]; an escaped dollar (\$) stays.
_MATH_DELIMS = re.compile(r"(?<!\\)\$\$?|\\[()\[\]]")


def normalize_text(text: str) -> str:
    """The text as dedup sees it: Unicode NFKC, LaTeX spacing, ``\\left``/``\\right`` and math delimiters
    dropped, lowercased, whitespace runs collapsed to one space, ends stripped."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    # The regexes cost most of dedup's time on long texts: run each only when its trigger character occurs.
    if "\\" in text:
        text = _SPACING.sub(" ", text)
        text = _SIZING.sub("", text)
        text = _MATH_DELIMS.sub(" ", text)
    else:
        # Without a backslash there is no command and no escaped dollar: plain replaces do the same, faster.
        text = text.replace("~", " ").replace("$", " ")
    return " ".join(text.lower().split())


def words(normalized: str) -> list[str]:
    """The whitespace-separated words of an already normalized text."""
    return normalized.split(" ") if normalized else []
