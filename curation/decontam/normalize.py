"""LaTeX-aware word tokens for overlap matching: the same problem typeset differently gives the same words.

``words`` lowercases (Unicode NFKC), drops math delimiters and sizing/styling commands (``$``, ``\\left``,
``\\mathrm``, ``\\,``), keeps other commands as words (``\\frac`` -> ``frac``) and numbers as single tokens
(``3.0e8`` is one word); ``mask_numbers`` replaces every number by ``#`` so that the same problem with other
numbers gives the same words.

>>> words(r"A mass $m = 3.5\\,\\mathrm{GeV}$ at $\\sqrt{s}$.")
['a', 'mass', 'm', '=', '3.5', 'gev', 'at', 'sqrt', 's']
>>> mask_numbers(words("Take N = 4 colours and 2 flavours"))
['take', 'n', '=', '#', 'colours', 'and', '#', 'flavours']
"""

from __future__ import annotations

import re
import unicodedata

# Commands that only change how math looks; dropped so `\left(` and `(` or `\mathrm{GeV}` and `GeV` match.
_STYLE_COMMANDS = re.compile(
    r"\\(?:left|right|big|Big|bigg|Bigg|bigl|bigr|Bigl|Bigr|displaystyle|textstyle|scriptstyle|mathrm|"
    r"mathbf|mathit|mathsf|mathcal|mathbb|boldsymbol|text|textrm|textbf|textit|operatorname|quad|qquad|"
    r"limits|nonumber)(?![a-zA-Z])"
)
_SPACING = re.compile(r"\\[,;:! ]")
_TOKEN = re.compile(r"\d+(?:\.\d+)?(?:e[+-]?\d+)?|[^\W\d_]+|[=+\-*/^<>|]")
_NUMBER = re.compile(r"\d")


def words(text: str) -> list[str]:
    """The normalized word tokens of ``text`` (prose and LaTeX alike)."""
    text = unicodedata.normalize("NFKC", text)
    text = _SPACING.sub(" ", _STYLE_COMMANDS.sub(" ", text))
    return _TOKEN.findall(text.lower())


def mask_numbers(tokens: list[str]) -> list[str]:
    """``tokens`` with every number replaced by ``#``."""
    return ["#" if _NUMBER.search(token) else token for token in tokens]
