"""LaTeX and sympy-syntax math -> sympy, without ``eval``.

A hand-written tokenizer and precedence-climbing parser that builds sympy objects directly, so model text
never reaches Python's ``eval``/``sympify``: only the node types built here can appear in the result.
It reads both notations because models mix them (``\\frac{e^4}{8\\pi s}`` and ``e**4/(8*pi*s)``).

Names resolve as DESIGN.md fixes: declared symbols win over sympy's names; ``X_{Y}``/``X_Y``/``X_\\Y`` mean
the declared ``X_Y``; undeclared ``e`` is Euler's number and undeclared ``i`` the imaginary unit;
``\\gamma_E`` is EulerGamma; ``\\ln`` and ``\\log`` are natural logs; ``\\cos 2\\theta`` takes its argument up to
the next ``+``/``-`` (or the next explicit operator or function).

Guards keep hostile input cheap: integer literals, exponents and factorials are bounded so nothing like
``10**10**10`` is ever computed exactly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import sympy

MAX_INPUT_CHARS = 4000
MAX_INTEGER_DIGITS = 400
MAX_RESULT_DIGITS = 2000
MAX_SYMBOLIC_EXPONENT = 400
MAX_FACTORIAL = 300
MAX_DEPTH = 200


class ParseError(ValueError):
    """The text is not a readable math expression; the message says why."""


GREEK = {
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda", "mu",
    "nu", "xi", "omicron", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega",
    "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega",
}  # fmt: skip
GREEK_VARIANTS = {
    "varepsilon": "epsilon",
    "vartheta": "theta",
    "varphi": "phi",
    "varrho": "rho",
    "varsigma": "sigma",
}
# Spellings a model may use for a declared name: tried in order after the exact name.
NAME_ALIASES = {
    "epsilon": ("eps", "varepsilon"),
    "eps": ("epsilon", "varepsilon"),
    "lambda": ("lam", "lamda"),
}

_UNICODE = {
    "−": "-", "–": "-", "×": "\\times ", "·": "\\cdot ", "⋅": "\\cdot ", "√": "\\sqrt ", "∞": "\\infty ",
    "π": "\\pi ", "α": "\\alpha ", "β": "\\beta ", "γ": "\\gamma ", "δ": "\\delta ", "ε": "\\epsilon ",
    "ζ": "\\zeta ", "η": "\\eta ", "θ": "\\theta ", "λ": "\\lambda ", "μ": "\\mu ", "µ": "\\mu ", "ν": "\\nu ",
    "ξ": "\\xi ", "ρ": "\\rho ", "σ": "\\sigma ", "τ": "\\tau ", "φ": "\\phi ", "χ": "\\chi ", "ψ": "\\psi ",
    "ω": "\\omega ", "Γ": "\\Gamma ", "Δ": "\\Delta ", "Λ": "\\Lambda ", "Σ": "\\Sigma ", "Ω": "\\Omega ",
    "²": "^2", "³": "^3", "⁴": "^4", "≈": "\\approx ", "\u2009": " ", "\u00a0": " ",
}  # fmt: skip

# Function name (as written after a backslash or in sympy syntax) -> sympy callable and arity.
_ONE_ARG = {
    "sin": sympy.sin, "cos": sympy.cos, "tan": sympy.tan, "cot": sympy.cot, "sec": sympy.sec, "csc": sympy.csc,
    "arcsin": sympy.asin, "arccos": sympy.acos, "arctan": sympy.atan, "arccot": sympy.acot,
    "asin": sympy.asin, "acos": sympy.acos, "atan": sympy.atan, "acot": sympy.acot,
    "sinh": sympy.sinh, "cosh": sympy.cosh, "tanh": sympy.tanh, "coth": sympy.coth, "sech": sympy.sech,
    "csch": sympy.csch, "arsinh": sympy.asinh, "arcosh": sympy.acosh, "artanh": sympy.atanh,
    "arcsinh": sympy.asinh, "arccosh": sympy.acosh, "arctanh": sympy.atanh,
    "asinh": sympy.asinh, "acosh": sympy.acosh, "atanh": sympy.atanh,
    "exp": sympy.exp, "log": sympy.log, "ln": sympy.log, "sqrt": sympy.sqrt,
    "abs": sympy.Abs, "Abs": sympy.Abs, "gamma": sympy.gamma, "Gamma": sympy.gamma, "zeta": sympy.zeta,
    "sgn": sympy.sign, "sign": sympy.sign, "re": sympy.re, "im": sympy.im, "Re": sympy.re, "Im": sympy.im,
    "conjugate": sympy.conjugate, "erf": sympy.erf, "erfc": sympy.erfc, "factorial": None,
    "digamma": sympy.digamma, "loggamma": sympy.loggamma, "cbrt": sympy.cbrt, "Heaviside": sympy.Heaviside,
}  # fmt: skip
_TWO_ARG = {"polylog": sympy.polylog, "binomial": sympy.binomial, "atan2": sympy.atan2, "beta": sympy.beta,
            "Beta": sympy.beta, "log": sympy.log, "root": None, "Min": sympy.Min, "Max": sympy.Max,
            "min": sympy.Min, "max": sympy.Max, "besselj": sympy.besselj, "besselk": sympy.besselk,
            "uppergamma": sympy.uppergamma, "lowergamma": sympy.lowergamma}  # fmt: skip
_TRIG_INVERSE = {"sin": sympy.asin, "cos": sympy.acos, "tan": sympy.atan, "sinh": sympy.asinh,
                 "cosh": sympy.acosh, "tanh": sympy.atanh, "cot": sympy.acot}  # fmt: skip
# Functions whose LaTeX form may be used without parentheses (``\sin x``).
_LATEX_OPERATOR_FUNCS = {
    "sin", "cos", "tan", "cot", "sec", "csc", "arcsin", "arccos", "arctan", "arccot", "sinh", "cosh", "tanh",
    "coth", "exp", "log", "ln", "lg", "arsinh", "arcosh", "artanh", "arcsinh", "arccosh", "arctanh", "sgn",
}  # fmt: skip
_CONSTANT_WORDS = {"pi": sympy.pi, "oo": sympy.oo, "infty": sympy.oo, "EulerGamma": sympy.EulerGamma,
                   "Catalan": sympy.Catalan, "E": sympy.E, "I": sympy.I}  # fmt: skip
_SPACING_COMMANDS = {",", ";", ":", "!", " ", "quad", "qquad", "displaystyle", "textstyle", "scriptstyle",
                     "limits", "nolimits", "left.", "right.", "big", "Big", "bigg", "Bigg", "bigl", "bigr",
                     "Bigl", "Bigr", "biggl", "biggr", "Biggl", "Biggr", "middle", "mathstrut", "strut",
                     "hspace", "vphantom", "phantom", "nonumber", "notag"}  # fmt: skip
_WRAPPERS = {"mathrm", "text", "textrm", "mathit", "mathbf", "boldsymbol", "bm", "mathsf", "mathnormal",
             "textit", "textbf", "operatorname", "mbox", "rm", "mathcal", "mathbb", "textup", "emph"}  # fmt: skip
_DECORATIONS = {"bar": "bar", "overline": "bar", "hat": "hat", "tilde": "tilde", "widetilde": "tilde",
                "widehat": "hat", "vec": "vec", "dot": "dot", "ddot": "ddot"}  # fmt: skip
_UNREADABLE = {"sum", "prod", "int", "oint", "iint", "lim", "partial", "nabla", "ldots", "cdots", "dots",
               "vdots", "ddots", "forall", "exists", "in", "subset", "cup", "cap", "mid", "wedge", "otimes",
               "oplus", "langle", "rangle", "begin", "end", "leq", "geq", "le", "ge", "neq", "ne", "pm", "mp",
               "lt", "gt", "sqsubset"}  # fmt: skip


@dataclass(frozen=True)
class Token:
    kind: str  # "num", "word", "cmd", "op", "end"
    text: str
    pos: int


_TOKEN = re.compile(
    r"(?P<ws>\s+)"
    r"|(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+(?![A-Za-z_]))?)"
    r"|(?P<cmd>\\(?:[A-Za-z]+|.))"
    r"|(?P<word>[A-Za-z][A-Za-z0-9]*)"
    r"|(?P<op>\*\*|[-+*/^_(){}\[\]|!,=<>'&~;:.])",
    re.S,
)


def normalize_unicode(text: str) -> str:
    """Map Unicode math glyphs a model may print to their LaTeX commands."""
    if text.isascii():
        return text
    return "".join(_UNICODE.get(ch, ch) for ch in text)


def tokenize(text: str) -> list[Token]:
    """Split math text into tokens; raises ParseError on characters that are never math."""
    if len(text) > MAX_INPUT_CHARS:
        raise ParseError(f"expression is {len(text)} characters long; at most {MAX_INPUT_CHARS} are read")
    text = normalize_unicode(text)
    tokens: list[Token] = []
    pos = 0
    n = len(text)
    while pos < n:
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ParseError(f"unexpected character {text[pos]!r} at position {pos}")
        kind = m.lastgroup
        value = m.group()
        if kind == "num":
            # `86.8.2` is a typo, not 86.8 times 0.2.
            if tokens and tokens[-1].kind == "num" and tokens[-1].pos + len(tokens[-1].text) == pos:
                raise ParseError(f"malformed number at position {tokens[-1].pos}")
            tokens.append(Token("num", value, pos))
        elif kind == "cmd":
            tokens.append(Token("cmd", value[1:], pos))
        elif kind == "word":
            tokens.append(Token("word", value, pos))
        elif kind == "op":
            tokens.append(Token("op", value, pos))
        pos = m.end()
    tokens.append(Token("end", "", n))
    return tokens


@dataclass
class NameResolver:
    """How names in text become sympy objects for one problem.

    ``declared`` maps declared names to their Symbols. ``strict`` (used for reference answers) forbids
    undeclared names and implicit splitting of multi-letter words; ``units`` maps unit words to Symbols
    (numeric answers) so the caller can convert them.
    """

    declared: dict[str, sympy.Symbol] = field(default_factory=dict)
    strict: bool = False
    units: dict[str, sympy.Symbol] | None = None
    undeclared: set[str] = field(default_factory=set)

    def declared_symbol(self, name: str) -> sympy.Symbol | None:
        if name in self.declared:
            return self.declared[name]
        for alias in NAME_ALIASES.get(name, ()):
            if alias in self.declared:
                return self.declared[alias]
        if "_" in name:
            glued = name.replace("_", "")
            if glued in self.declared:
                return self.declared[glued]
        return None

    def unit(self, name: str) -> sympy.Symbol | None:
        if self.units is None:
            return None
        return self.units.get(name)

    def undeclared_symbol(self, name: str) -> sympy.Expr:
        if self.strict:
            raise ParseError(f"name {name!r} is not declared in the answer's symbols")
        self.undeclared.add(name)
        return sympy.Symbol(name)

    def atom(self, name: str) -> sympy.Expr:
        """A whole name (no implicit splitting): declared, constant, unit, or undeclared."""
        symbol = self.declared_symbol(name)
        if symbol is not None:
            return symbol
        unit = self.unit(name)
        if unit is not None:
            return unit
        if name == "e":
            return sympy.E
        if name == "i":
            return sympy.I
        if name in _CONSTANT_WORDS:
            return _CONSTANT_WORDS[name]
        if name in ("gamma_E", "gammaE"):
            return sympy.EulerGamma
        return self.undeclared_symbol(name)


class _Parser:
    def __init__(self, tokens: list[Token], resolver: NameResolver, text: str):
        self.tokens = tokens
        self.i = 0
        self.resolver = resolver
        self.text = text
        self.depth = 0
        # Inside |...| a bar closes; outside it opens (`f|V|^2` is f * |V|^2).
        self.open_bars = 0

    # -- token helpers -------------------------------------------------------------------------------
    def peek(self, k: int = 0) -> Token:
        j = self.i
        skipped = 0
        while True:
            tok = self.tokens[min(j, len(self.tokens) - 1)]
            if tok.kind == "cmd" and tok.text in _SPACING_COMMANDS:
                j += 1
                continue
            if tok.kind == "op" and tok.text == "~":
                j += 1
                continue
            if skipped == k:
                return tok
            skipped += 1
            j += 1

    def next(self) -> Token:
        while True:
            tok = self.tokens[self.i]
            self.i = min(self.i + 1, len(self.tokens) - 1)
            if tok.kind == "cmd" and tok.text in _SPACING_COMMANDS:
                continue
            if tok.kind == "op" and tok.text == "~":
                continue
            return tok

    def at_op(self, *ops: str) -> bool:
        tok = self.peek()
        return tok.kind == "op" and tok.text in ops

    def at_cmd(self, *names: str) -> bool:
        tok = self.peek()
        return tok.kind == "cmd" and tok.text in names

    def expect_op(self, op: str) -> None:
        tok = self.next()
        if tok.kind != "op" or tok.text != op:
            raise ParseError(f"expected {op!r} at position {tok.pos}, found {tok.text or 'the end'!r}")

    # -- grammar ---------------------------------------------------------------------------------------
    def parse(self) -> sympy.Expr:
        expr = self.expression()
        tok = self.peek()
        if tok.kind != "end":
            raise ParseError(f"unexpected {tok.text!r} at position {tok.pos}")
        return expr

    def expression(self) -> sympy.Expr:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ParseError("expression is nested too deeply")
        try:
            terms = [self.signed_term()]
            while True:
                if self.at_op("+"):
                    self.next()
                    terms.append(self.signed_term())
                elif self.at_op("-"):
                    self.next()
                    terms.append(-self.signed_term())
                else:
                    break
            return terms[0] if len(terms) == 1 else sympy.Add(*terms)
        finally:
            self.depth -= 1

    def signed_term(self) -> sympy.Expr:
        if self.at_op("-"):
            self.next()
            return -self.signed_term()
        if self.at_op("+"):
            self.next()
            return self.signed_term()
        return self.term()

    def term(self) -> sympy.Expr:
        """Products and quotients; juxtaposition binds tighter than an explicit ``/`` (``1/2m`` is 1/(2m))."""
        value = self.implicit_product()
        while True:
            if self.at_op("*") or self.at_cmd("cdot", "times", "ast"):
                self.next()
                value = value * self.implicit_product()
            elif self.at_op("/") or self.at_cmd("div"):
                self.next()
                value = value / self.implicit_product()
            else:
                return value

    def starts_factor(self) -> bool:
        tok = self.peek()
        if tok.kind in ("num", "word"):
            return True
        if tok.kind == "op":
            return tok.text in ("(", "[", "{") or (tok.text == "|" and self.open_bars == 0)
        if tok.kind == "cmd":
            name = tok.text
            if name in (
                "cdot",
                "times",
                "div",
                "ast",
                "right",
                "approx",
                "simeq",
                "to",
                "rightarrow",
                "rbrace",
            ):
                return False
            return name not in ("}", ")", "]", "|", "rvert", "rVert")
        return False

    def implicit_product(self) -> sympy.Expr:
        value = self.signed_power()
        while self.starts_factor():
            value = value * self.power()
        return value

    def signed_power(self) -> sympy.Expr:
        # `2*-3` and `a/-b` are read as sympy reads them.
        if self.at_op("-"):
            self.next()
            return -self.signed_power()
        return self.power()

    def power(self) -> sympy.Expr:
        base = self.postfix(self.atom())
        if self.at_op("^", "**"):
            op = self.next().text
            exponent = self.exponent(op)
            base = safe_pow(base, exponent)
            base = self.postfix(base)
        return base

    def exponent(self, op: str) -> sympy.Expr:
        if op == "**":
            if self.at_op("-"):
                self.next()
                return -self.exponent(op)
            if self.at_op("+"):
                self.next()
            return self.power()
        return self.latex_script_argument()

    def latex_script_argument(self) -> sympy.Expr:
        """The argument of ``^``: a braced group, or a single token (``x^2``, ``x^\\alpha``, ``10^-3``)."""
        tok = self.peek()
        if tok.kind == "op" and tok.text == "{":
            self.next()
            value = self.expression()
            self.expect_op("}")
            return value
        if tok.kind == "op" and tok.text == "-":
            self.next()
            return -self.latex_script_argument()
        if tok.kind == "num":
            self.next()
            # `x^23` is x^2 * 3 in TeX; but models write `10^23` and mean it. Keep the whole number.
            return number(tok.text)
        if tok.kind == "word" and len(tok.text) > 1 and not self.is_whole_name(tok.text):
            # `x^ab` in TeX is x^a b: take the first letter only.
            self.next()
            first, rest = tok.text[0], tok.text[1:]
            self.tokens.insert(self.i, Token("word", rest, tok.pos + 1))
            return self.resolver.atom(first)
        return self.postfix(self.atom())

    def is_whole_name(self, word: str) -> bool:
        resolver = self.resolver
        return (
            resolver.declared_symbol(word) is not None
            or word in GREEK
            or word in _CONSTANT_WORDS
            or resolver.unit(word) is not None
        )

    def postfix(self, value: sympy.Expr) -> sympy.Expr:
        while True:
            if self.at_op("!"):
                self.next()
                value = safe_factorial(value)
            elif self.at_op("'"):
                raise ParseError("primes (x') are not supported; name the quantity")
            else:
                return value

    def group(self, open_: str, close: str) -> sympy.Expr:
        self.expect_op(open_)
        value = self.expression()
        self.expect_op(close)
        return value

    def braced_or_token(self) -> sympy.Expr:
        """A TeX macro argument: ``{...}`` or a single token (``\\frac12``, ``\\sqrt2``, ``\\frac\\pi2``)."""
        tok = self.peek()
        if tok.kind == "op" and tok.text == "{":
            return self.group("{", "}")
        if tok.kind == "num":
            self.next()
            # `\frac12` is \frac{1}{2}: a single digit each.
            if len(tok.text) > 1 and tok.text.isdigit():
                self.tokens.insert(self.i, Token("num", tok.text[1:], tok.pos + 1))
                return number(tok.text[0])
            return number(tok.text)
        if tok.kind == "word":
            self.next()
            if len(tok.text) > 1:
                self.tokens.insert(self.i, Token("word", tok.text[1:], tok.pos + 1))
            return self.resolver.atom(tok.text[0])
        if tok.kind == "cmd":
            return self.atom()
        raise ParseError(f"expected an argument at position {tok.pos}")

    def atom(self) -> sympy.Expr:
        tok = self.peek()
        if tok.kind == "end":
            raise ParseError("expression ends too early")
        if tok.kind == "num":
            self.next()
            return number(tok.text)
        if tok.kind == "word":
            self.next()
            return self.word(tok.text)
        if tok.kind == "op":
            if tok.text == "(":
                return self.group("(", ")")
            if tok.text == "[":
                return self.group("[", "]")
            if tok.text == "{":
                return self.group("{", "}")
            if tok.text == "|":
                self.next()
                self.open_bars += 1
                try:
                    value = self.expression()
                finally:
                    self.open_bars -= 1
                self.expect_op("|")
                return sympy.Abs(value)
            raise ParseError(f"unexpected {tok.text!r} at position {tok.pos}")
        return self.command()

    # -- names ----------------------------------------------------------------------------------------
    def subscript_text(self) -> str:
        """The text of a ``_`` subscript as a name fragment: ``_{\\mu}`` -> ``mu``, ``_{e}`` -> ``e``, ``_F`` -> ``F``."""
        tok = self.next()
        if tok.kind == "op" and tok.text == "{":
            parts = []
            depth = 1
            while True:
                inner = self.tokens[self.i]
                self.i += 1
                if inner.kind == "end":
                    raise ParseError("unclosed subscript")
                if inner.kind == "op" and inner.text == "{":
                    depth += 1
                    continue
                if inner.kind == "op" and inner.text == "}":
                    depth -= 1
                    if depth == 0:
                        break
                    continue
                if inner.kind == "cmd" and (inner.text in _SPACING_COMMANDS or inner.text in _WRAPPERS):
                    continue
                parts.append(inner.text)
            return "".join(parts)
        if tok.kind == "num":
            # `m_12` in TeX is m_1 2; but `m_12` in sympy syntax is one name. Models mean the name.
            return tok.text
        if tok.kind in ("word", "cmd"):
            return GREEK_VARIANTS.get(tok.text, tok.text)
        raise ParseError(f"expected a subscript at position {tok.pos}")

    def with_subscript(self, base: str) -> str:
        if self.at_op("_"):
            self.next()
            return f"{base}_{self.subscript_text()}"
        return base

    def word(self, text: str) -> sympy.Expr:
        resolver = self.resolver
        start = self.i
        if self.at_op("_"):
            # Sympy-syntax names (`m_mu`, `m_1`) and TeX subscripts (`m_{\mu}`) both make `base_sub`.
            name = text
            while self.at_op("_") and self.peek(1).kind in ("word", "num"):
                self.next()
                name = f"{name}_{self.next().text}"
            if self.at_op("_"):
                name = self.with_subscript(name)
            if (
                len(text) == 1
                or resolver.strict
                or self.is_whole_name(text)
                or resolver.declared_symbol(name)
            ):
                return self.name_value(name)
            # `sm_e` is s*m_e when s and m_e are declared: read the word again, letter by letter.
            self.i = start
            return self.peel(text)
        if self.at_op("(") and resolver.declared_symbol(text) is None:
            if text in _ONE_ARG or text in _TWO_ARG:
                return self.call(text)
        if self.is_whole_name(text) or text in ("e", "i"):
            return self.name_value(GREEK_VARIANTS.get(text, text))
        if text in _ONE_ARG and text in _LATEX_OPERATOR_FUNCS:
            return self.function_application(text)
        if text in GREEK_VARIANTS or len(text) == 1 or resolver.strict:
            return resolver.atom(GREEK_VARIANTS.get(text, text))
        return self.peel(text)

    def peel(self, word: str) -> sympy.Expr:
        """Implicit multiplication inside a word: ``mc`` with declared m, c is m*c.

        Takes the longest declared (or Greek) prefix, else one letter or a run of digits, and puts the
        rest of the word back as the next token, so ``mc^2`` is m*c**2 and ``sm_e`` is s*m_e.
        """
        if word[0].isdigit():
            end = 1
            while end < len(word) and word[end].isdigit():
                end += 1
            piece_value = number(word[:end])
        else:
            end = 1
            for candidate_end in range(len(word), 1, -1):
                piece = word[:candidate_end]
                if self.is_whole_name(piece):
                    end = candidate_end
                    break
            piece_value = None
        rest = word[end:]
        if rest:
            self.tokens.insert(self.i, Token("word", rest, -1))
            return piece_value if piece_value is not None else self.name_value(word[:end])
        return piece_value if piece_value is not None else self.name_value(word)

    def name_value(self, name: str) -> sympy.Expr:
        if name in ("gamma_E", "gamma_{E}") and self.resolver.declared_symbol(name) is None:
            return sympy.EulerGamma
        return self.resolver.atom(name)

    def call(self, name: str) -> sympy.Expr:
        """Sympy-syntax call ``f(a)`` / ``f(a, b)``."""
        self.expect_op("(")
        args = [self.expression()]
        while self.at_op(","):
            self.next()
            args.append(self.expression())
        self.expect_op(")")
        return apply_function(name, args)

    def function_application(
        self, name: str, power: sympy.Expr | None = None, base: sympy.Expr | None = None
    ):
        """``\\sin x``, ``\\sin^2 x``, ``\\log_{10} x``, ``\\cos(2\\theta)``, ``\\cos 2\\theta``."""
        if name == "log" and self.at_op("_") and base is None:
            self.next()
            base = self.latex_script_argument()
        if self.at_op("^") and power is None:
            self.next()
            power = self.latex_script_argument()
        if self.at_op("(") or self.at_cmd("left", "bigl", "Bigl", "big", "Big"):
            argument = self.parenthesized()
            args = [argument]
        elif self.at_op("["):
            args = [self.group("[", "]")]
        else:
            args = [self.operator_argument()]
        if name == "lg":
            name, base = "log", sympy.Integer(10)
        if name == "log" and base is not None:
            args = [args[0], base]
        if power is not None and power == -1 and name in _TRIG_INVERSE:
            return _TRIG_INVERSE[name](args[0])
        value = apply_function(name, args)
        return safe_pow(value, power) if power is not None else value

    def parenthesized(self) -> sympy.Expr:
        if self.at_cmd("left", "bigl", "Bigl", "big", "Big"):
            return self.command()
        return self.group("(", ")")

    def operator_argument(self) -> sympy.Expr:
        """Argument of ``\\cos 2\\theta``: juxtaposed factors up to the next +/-, explicit operator or function."""
        value = self.power()
        while self.starts_factor() and not self.at_function_start():
            value = value * self.power()
        return value

    def at_function_start(self) -> bool:
        tok = self.peek()
        if tok.kind == "cmd":
            return tok.text in _LATEX_OPERATOR_FUNCS or tok.text in (
                "frac",
                "dfrac",
                "tfrac",
                "sqrt",
                "operatorname",
            )
        if tok.kind == "word":
            return tok.text in _LATEX_OPERATOR_FUNCS and self.resolver.declared_symbol(tok.text) is None
        return False

    # -- commands -------------------------------------------------------------------------------------
    def command(self) -> sympy.Expr:
        tok = self.next()
        name = tok.text
        resolver = self.resolver
        if name in ("frac", "dfrac", "tfrac", "cfrac"):
            numerator = self.braced_or_token()
            denominator = self.braced_or_token()
            return numerator / denominator
        if name == "sqrt":
            if self.at_op("["):
                degree = self.group("[", "]")
                radicand = self.braced_or_token()
                return safe_pow(radicand, 1 / degree)
            return sympy.sqrt(self.braced_or_token())
        if name == "binom":
            n = self.braced_or_token()
            k = self.braced_or_token()
            return sympy.binomial(n, k)
        if name in ("left", "bigl", "Bigl", "biggl", "Biggl", "big", "Big"):
            return self.left_delimited(tok)
        if name in ("{", "lbrace"):
            value = self.expression()
            closing = self.next()
            if not (closing.kind == "cmd" and closing.text in ("}", "rbrace")):
                raise ParseError(f"expected \\}} at position {closing.pos}")
            return value
        if name in ("lvert", "vert", "|", "lVert"):
            value = self.expression()
            closing = self.next()
            if not (closing.kind == "cmd" and closing.text in ("rvert", "vert", "|", "rVert")) and not (
                closing.kind == "op" and closing.text == "|"
            ):
                raise ParseError(f"expected a closing | at position {closing.pos}")
            return sympy.Abs(value)
        if name in _WRAPPERS:
            return self.wrapped(name)
        if name in _DECORATIONS:
            inner = self.decorated_name()
            return self.name_value(self.with_subscript(f"{inner}{_DECORATIONS[name]}"))
        if name in ("infty", "infin"):
            return sympy.oo
        if name == "%":
            return sympy.Rational(1, 100)
        if name in ("hbar",):
            return self.name_value(self.with_subscript(name))
        if name in _UNREADABLE:
            raise ParseError(f"\\{name} cannot be graded as a closed-form answer")
        canonical = GREEK_VARIANTS.get(name, name)
        if canonical in GREEK or canonical == "ell":
            full = self.with_subscript(canonical)
            if full != canonical:
                if resolver.declared_symbol(full) is not None:
                    return resolver.declared_symbol(full)
                if canonical == "gamma" and full in ("gamma_E", "gamma_e"):
                    return sympy.EulerGamma
                return resolver.atom(full)
            if resolver.declared_symbol(canonical) is not None:
                return resolver.declared_symbol(canonical)
            if canonical == "pi":
                return sympy.pi
            # Undeclared \Gamma( and \zeta( are functions; \zeta without a call is a name.
            if canonical in ("Gamma", "zeta", "psi") and (self.at_op("(") or self.at_cmd("left")):
                func = {"Gamma": "gamma", "zeta": "zeta", "psi": "digamma"}[canonical]
                return apply_function(func, [self.parenthesized()])
            return resolver.atom(canonical)
        if name in _ONE_ARG or name == "lg":
            if resolver.declared_symbol(name) is not None:
                return resolver.declared_symbol(name)
            return self.function_application(name)
        if name in ("min", "max"):
            return self.call(name)
        if name in ("approx", "simeq", "to", "rightarrow"):
            raise ParseError(f"unexpected relation \\{name} at position {tok.pos}")
        raise ParseError(f"unknown command \\{name} at position {tok.pos}")

    def left_delimited(self, tok: Token) -> sympy.Expr:
        opener = self.tokens[self.i]
        self.i += 1
        if opener.kind == "op" and opener.text == ".":
            close = None
        elif opener.kind == "op" and opener.text in "([|":
            close = {"(": ")", "[": "]", "|": "|"}[opener.text]
        elif opener.kind == "cmd" and opener.text in ("{", "lbrace", "langle", "lvert", "|", "vert"):
            close = {
                "{": "}",
                "lbrace": "rbrace",
                "langle": "rangle",
                "lvert": "rvert",
                "|": "|",
                "vert": "vert",
            }[opener.text]
            if opener.text == "langle":
                raise ParseError("angle brackets cannot be graded as a closed-form answer")
        else:
            raise ParseError(f"unexpected delimiter after \\{tok.text} at position {tok.pos}")
        value = self.expression()
        right = self.next()
        if right.kind != "cmd" or right.text not in ("right", "bigr", "Bigr", "biggr", "Biggr", "big", "Big"):
            raise ParseError(f"expected \\right at position {right.pos}")
        closer = self.tokens[self.i]
        self.i += 1
        if close is not None and closer.text != close and not (closer.text == "." and close in (")", "]")):
            if not (close in ("|", "vert", "rvert") and closer.text in ("|", "vert", "rvert")):
                raise ParseError(f"mismatched \\right{closer.text} at position {closer.pos}")
        if close in ("|", "rvert", "vert"):
            return sympy.Abs(value)
        return value

    def decorated_name(self) -> str:
        tok = self.next()
        if tok.kind == "op" and tok.text == "{":
            inner = self.next()
            self.expect_op("}")
            return GREEK_VARIANTS.get(inner.text, inner.text)
        return GREEK_VARIANTS.get(tok.text, tok.text)

    def wrapped(self, wrapper: str) -> sympy.Expr:
        """``\\mathrm{e}``, ``\\text{GeV}``, ``\\operatorname{Li}_2(x)``: the braced content read as a name or math."""
        if not self.at_op("{"):
            return self.atom()
        start = self.i
        self.next()
        inner = []
        depth = 1
        while True:
            tok = self.tokens[self.i]
            self.i += 1
            if tok.kind == "end":
                raise ParseError(f"unclosed \\{wrapper}{{")
            if tok.kind == "op" and tok.text == "{":
                depth += 1
            elif tok.kind == "op" and tok.text == "}":
                depth -= 1
                if depth == 0:
                    break
            inner.append(tok)
        words = [t for t in inner if t.kind not in ("cmd",) or t.text not in _SPACING_COMMANDS]
        if words and all(t.kind == "word" for t in words):
            name = "".join(t.text for t in words)
            if name in ("Li", "Li2") and (self.at_op("_") or name == "Li2"):
                order: sympy.Expr = sympy.Integer(2)
                if self.at_op("_"):
                    self.next()
                    order = self.latex_script_argument()
                return apply_function("polylog", [order, self.parenthesized()])
            if wrapper == "operatorname" or name in _ONE_ARG:
                if name in _ONE_ARG and self.resolver.declared_symbol(name) is None:
                    if (
                        self.at_op("(")
                        or self.at_cmd("left")
                        or name in _LATEX_OPERATOR_FUNCS
                        or self.at_op("^")
                    ):
                        return self.function_application(name)
            if name in ("e", "i", "d") or len(name) == 1:
                return self.word(name)
            return self.name_value(self.with_subscript(name))
        # Not a plain name: parse the wrapped tokens as math in place.
        self.i = start
        return self.group("{", "}")


def number(text: str) -> sympy.Expr:
    """A decimal literal as an exact sympy number (``0.5`` -> 1/2), bounded in size."""
    mantissa = text.lower().split("e")[0]
    digits = len(mantissa.replace(".", "").lstrip("0"))
    if digits > MAX_INTEGER_DIGITS:
        raise ParseError(f"number with {digits} digits is too long")
    if "e" in text.lower():
        exp = int(text.lower().split("e")[1])
        if abs(exp) > MAX_RESULT_DIGITS:
            raise ParseError(f"exponent {exp} is out of range")
    if text.isdigit():
        return sympy.Integer(int(text))
    return sympy.Rational(text)


def _magnitude_digits(value: sympy.Expr) -> float:
    try:
        if value.is_Integer:
            return len(str(abs(int(value))))
        if value.is_Rational:
            return max(len(str(abs(value.p))), len(str(value.q)))
    except (TypeError, ValueError):
        pass
    return 0.0


def safe_pow(base: sympy.Expr, exponent: sympy.Expr) -> sympy.Expr:
    """``base**exponent`` unless evaluating it exactly would be huge (``10**10**10``)."""
    if exponent.is_Number:
        if not exponent.is_finite:
            raise ParseError("infinite exponent")
        if abs(exponent) > MAX_SYMBOLIC_EXPONENT and not base.is_Number:
            raise ParseError(f"exponent {exponent} is too large to grade")
        if base.is_Number and base.is_Rational and exponent.is_Rational and base != 0:
            size = max(_magnitude_digits(base), 1.0) * float(abs(exponent))
            if size > MAX_RESULT_DIGITS:
                raise ParseError("number is too large to grade")
    elif base.is_Number and base.is_Rational and abs(base) != 1 and exponent.is_number:
        # A numeric but non-literal exponent (e.g. 10^(10^3)) has been evaluated already; check its size.
        try:
            magnitude = float(abs(exponent))
        except (TypeError, ValueError):
            magnitude = 0.0
        if magnitude * max(_magnitude_digits(base), 1.0) > MAX_RESULT_DIGITS:
            raise ParseError("number is too large to grade")
    return sympy.Pow(base, exponent)


def safe_factorial(value: sympy.Expr) -> sympy.Expr:
    if value.is_Number and (not value.is_Integer or value < 0 or value > MAX_FACTORIAL):
        raise ParseError(f"factorial of {value} is not graded")
    return sympy.factorial(value)


def apply_function(name: str, args: list[sympy.Expr]) -> sympy.Expr:
    """Apply a whitelisted function by name; wrong arity is a ParseError."""
    if name == "factorial":
        if len(args) != 1:
            raise ParseError("factorial takes one argument")
        return safe_factorial(args[0])
    if name == "root":
        if len(args) != 2:
            raise ParseError("root takes two arguments")
        return safe_pow(args[0], 1 / args[1])
    if len(args) == 1 and name in _ONE_ARG:
        return _ONE_ARG[name](args[0])
    if len(args) == 2 and name in _TWO_ARG:
        if name == "binomial":
            for arg in args:
                if arg.is_Number and abs(arg) > MAX_FACTORIAL:
                    raise ParseError("binomial argument too large")
        return _TWO_ARG[name](*args)
    raise ParseError(f"{name} does not take {len(args)} argument(s)")


def symbol_for(name: str, domain: str) -> sympy.Symbol:
    """A sympy Symbol carrying the assumptions of a declared domain (``positive`` -> positive=True)."""
    assumptions = {
        "complex": {},
        "real": {"real": True},
        "positive": {"positive": True},
        "negative": {"negative": True},
        "nonnegative": {"nonnegative": True},
        "nonpositive": {"nonpositive": True},
        "integer": {"integer": True},
        "positive_integer": {"integer": True, "positive": True},
        "nonnegative_integer": {"integer": True, "nonnegative": True},
    }[domain]
    return sympy.Symbol(name, **assumptions)


def parse_math(text: str, resolver: NameResolver | None = None) -> sympy.Expr:
    """Parse LaTeX or sympy-syntax math into a sympy expression, e.g. ``parse_math(r"\\frac{\\pi}{2}")``."""
    resolver = resolver or NameResolver()
    stripped = text.strip()
    if not stripped:
        raise ParseError("empty expression")
    tokens = tokenize(stripped)
    try:
        return _Parser(tokens, resolver, stripped).parse()
    except RecursionError:
        raise ParseError("expression is nested too deeply") from None
    except (TypeError, ValueError, ZeroDivisionError, OverflowError, AttributeError, IndexError) as exc:
        if isinstance(exc, ParseError):
            raise
        raise ParseError(f"cannot read expression: {exc}") from None
