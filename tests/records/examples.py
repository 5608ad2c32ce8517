"""Realistic QFT records shared by the records tests: one per answer kind, plus a seed, a trace and
documents in the paper's JSON and TPBench layouts."""

from __future__ import annotations

import copy
from typing import Any

from curation.records import (
    CategoricalAnswer,
    CodeAnswer,
    CodeArgument,
    CodeTestCase,
    NumericAnswer,
    Problem,
    Response,
    Result,
    Seed,
    SeedSource,
    Source,
    SymbolicAnswer,
    Trace,
    TupleAnswer,
)
from curation.records.trace import ChatMessage

EE_MUMU_STATEMENT = (
    "Consider $e^+e^- \\to \\mu^+\\mu^-$ in QED at tree level, at a centre-of-mass energy squared $s$ far above "
    "both lepton masses, so that all masses can be neglected. Let $\\alpha$ be the fine-structure constant.\n\n"
    "Compute the total unpolarized cross section $\\sigma(s)$."
)

KALLEN_REFERENCE = '''import math


def daughter_momentum(M: float, m1: float, m2: float) -> float:
    """|p| of either daughter in the rest frame of a particle of mass M decaying to masses m1 and m2."""
    lam = M**4 + m1**4 + m2**4 - 2 * M**2 * m1**2 - 2 * M**2 * m2**2 - 2 * m1**2 * m2**2
    return math.sqrt(max(lam, 0.0)) / (2 * M)'''


def symbolic_problem() -> Problem:
    """sigma(e+e- -> mu+mu-) in the massless limit, as a closed form."""
    return Problem.create(
        statement=EE_MUMU_STATEMENT,
        answer=SymbolicAnswer(expr="4*pi*alpha**2/(3*s)", symbols={"alpha": "positive", "s": "positive"}),
        source=Source("synthetic-llm", {"model": "qwen3-235b-a22b", "prompt_sha256": "9f2c" * 16, "seed": 7}),
        solution="Summing over final spins and averaging over initial ones, "
        "$\\frac{d\\sigma}{d\\Omega} = \\frac{\\alpha^2}{4s}(1+\\cos^2\\theta)$; integrating gives "
        "$\\sigma = \\frac{4\\pi\\alpha^2}{3s}$.",
        topic="qed/tree-level-scattering",
        level="graduate",
        task_type="derivation",
        answer_text="$\\sigma = \\frac{4\\pi\\alpha^2}{3s}$",
        qc={"gpt-4.1": {"clarity": 9, "correctness": 10}},
        solver={"model": "qwen3-32b", "k": 8, "pass_at_k": 0.875},
        tags=("qed", "cross-section"),
    )


def numeric_problem() -> Problem:
    """The same cross section at sqrt(s) = 10 GeV, in nb."""
    return Problem.create(
        statement="Using $\\sigma = 4\\pi\\alpha^2/(3s)$ with $\\alpha = 1/137.036$ and "
        "$(\\hbar c)^2 = 0.3894$ mb GeV$^2$, evaluate $\\sigma(e^+e^-\\to\\mu^+\\mu^-)$ at $\\sqrt{s} = 10$ GeV.",
        answer=NumericAnswer(value=0.868544769821717, rtol=1e-3, unit="nb"),
        source=Source("synthetic-cas", {"generator": "ee_to_mumu_sigma", "parameters": {"sqrt_s_gev": 10.0}}),
        topic="qed/tree-level-scattering",
        level="undergraduate",
        task_type="numerical",
    )


def complex_numeric_problem() -> Problem:
    """A complex amplitude value, to pin the complex round trip."""
    return Problem.create(
        statement="Evaluate $i\\mathcal{M} = -i g^2/(p^2 - m^2 + i m\\Gamma)$ for $g=1$, $p^2 = m^2 = 1$, "
        "$\\Gamma = 0.5$ (all in GeV units) and give $\\mathcal{M}$.",
        answer=NumericAnswer(value=complex(0.0, 2.0), rtol=1e-9),
        source=Source("synthetic-cas", {"generator": "breit_wigner_on_peak"}),
        topic="propagators",
        level="graduate",
        task_type="numerical",
    )


def categorical_problem() -> Problem:
    """The pion's intrinsic parity."""
    return Problem.create(
        statement="Under parity the neutral pion field transforms as $\\pi^0(t,\\vec x) \\to -\\pi^0(t,-\\vec x)$. "
        "Which Lorentz-and-parity type is the bilinear $\\bar\\psi \\gamma^5 \\psi$ it couples to?",
        answer=CategoricalAnswer(
            value="pseudoscalar", choices=("scalar", "pseudoscalar", "vector", "axial-vector")
        ),
        source=Source("adapted", {"arxiv_id": "hep-ph/9901234", "version": "v2", "licence": "CC-BY-4.0"}),
        topic="discrete-symmetries",
        level="undergraduate",
        task_type="conceptual",
    )


def tuple_problem() -> Problem:
    """Total cross section and forward-backward asymmetry: a two-part answer."""
    return Problem.create(
        statement=EE_MUMU_STATEMENT + " Also give the forward-backward asymmetry $A_{FB}$ in pure QED.",
        answer=TupleAnswer(
            items=(
                SymbolicAnswer(expr="4*pi*alpha**2/(3*s)", symbols={"alpha": "positive", "s": "positive"}),
                NumericAnswer(value=0.0, atol=1e-12),
            )
        ),
        source=Source("synthetic-llm", {"model": "qwen3-235b-a22b"}),
        topic="qed/tree-level-scattering",
        level="graduate",
        task_type="derivation",
    )


def code_problem() -> Problem:
    """Two-body decay momentum through the Kallen function, graded by code."""
    return Problem.create(
        statement="The Källén function is $\\lambda(x,y,z) = x^2+y^2+z^2-2xy-2yz-2zx$. A particle of mass $M$ "
        "at rest decays into two particles of masses $m_1$ and $m_2$ (natural units, $M \\ge m_1+m_2$). "
        "Find the magnitude $|\\vec p|$ of either daughter's three-momentum.",
        answer=CodeAnswer(
            function_name="daughter_momentum",
            arguments=(CodeArgument("M"), CodeArgument("m1"), CodeArgument("m2")),
            reference=KALLEN_REFERENCE,
            test_cases=(
                CodeTestCase(
                    inputs={"M": 0.13957039, "m1": 0.1056583755, "m2": 0.0}, output=0.02979214090987742
                ),
                CodeTestCase(
                    inputs={"M": 91.1876, "m1": 0.1056583755, "m2": 0.1056583755}, rtol=1e-9, case_id="z"
                ),
                CodeTestCase(inputs={"M": 1.86484, "m1": 0.493677, "m2": 0.13957039}, rtol=1e-8, atol=1e-12),
            ),
        ),
        source=Source("synthetic-cas", {"generator": "two_body_decay", "version": 2}),
        topic="relativistic-kinematics",
        level="undergraduate",
        task_type="code",
        answer_requirements="Write `daughter_momentum(M, m1, m2)` returning $|\\vec p|$ in the units of the masses.",
        extra={"review": {"status": "approved", "by": "physicist-3"}},
    )


KALLEN_SYMBOLIC_REFERENCE = """import math


def kallen(x: float, y: float, z: float) -> float:
    return x**2 - 2*x*y - 2*x*z + y**2 - 2*y*z + z**2"""


def symbolic_problem_with_code_form() -> Problem:
    """The Kallen function, graded symbolically, with the same answer in the code format as an alternative."""
    return Problem.create(
        statement="Expand the Källén function $\\lambda(x,y,z) = (x-y-z)^2 - 4yz$ as a polynomial in $x, y, z$.",
        answer=SymbolicAnswer(
            expr="x**2 - 2*x*y - 2*x*z + y**2 - 2*y*z + z**2",
            symbols={"x": "real", "y": "real", "z": "real"},
        ),
        source=Source("synthetic-cas", {"family": "kallen", "version": 1, "parameters": {}}),
        topic="relativistic-kinematics",
        level="advanced undergraduate",
        task_type="derivation",
        code_answer=CodeAnswer(
            function_name="kallen",
            arguments=(CodeArgument("x"), CodeArgument("y"), CodeArgument("z")),
            reference=KALLEN_SYMBOLIC_REFERENCE,
            test_cases=(
                CodeTestCase(inputs={"x": 1.5, "y": 0.25, "z": -2.0}, output=9.5625, rtol=1e-8, atol=0.0),
            ),
        ),
        code_answer_requirements="Write `kallen(x: float, y: float, z: float) -> float`.",
    )


def all_problems() -> list[Problem]:
    """One problem of each answer kind (numeric twice: real and complex), and one with a code form."""
    return [
        symbolic_problem(),
        numeric_problem(),
        complex_numeric_problem(),
        categorical_problem(),
        tuple_problem(),
        code_problem(),
        symbolic_problem_with_code_form(),
    ]


def seed() -> Seed:
    """A textbook-style exercise taken from an arXiv lecture-notes PDF."""
    return Seed.create(
        problem="Show that in the centre-of-mass frame the three-momentum of either particle in a two-body "
        "final state is $|\\vec p| = \\lambda^{1/2}(s, m_1^2, m_2^2)/(2\\sqrt{s})$.",
        solution="Write $E_1 = (s + m_1^2 - m_2^2)/(2\\sqrt s)$ and use $|\\vec p|^2 = E_1^2 - m_1^2$.",
        source=SeedSource(
            kind="arxiv",
            arxiv_id="1702.00000",
            version="v3",
            url="https://arxiv.org/abs/1702.00000v3",
            file="lecture-notes.pdf",
            sha256="3b" * 32,
            pages=(41, 42),
            lines=(120, 168),
            licence="CC-BY-4.0",
            extra={"section": "3.2 Two-body phase space"},
        ),
        warnings=("solution is a sketch",),
    )


def seed_without_solution() -> Seed:
    """A seed with only a problem (solutions are optional) and minimal provenance."""
    return Seed.create(
        problem="Compute the one-loop beta function of $\\lambda\\phi^4$ theory in four dimensions.",
        source=SeedSource(kind="textbook", file="srednicki-ch28.tex"),
    )


def trace() -> Trace:
    """A verified teacher sample for the symbolic problem."""
    problem = symbolic_problem()
    reasoning = "Spin-averaged |M|^2 = 2e^4 (t^2+u^2)/s^2 ... integrate over the solid angle."
    final = "$$\\sigma = \\boxed{\\frac{4\\pi\\alpha^2}{3s}}$$"
    return Trace(
        problem_id=problem.id,
        messages=(
            ChatMessage("system", "You are a careful theoretical physicist."),
            ChatMessage("user", problem.problem_text()),
            ChatMessage("assistant", f"<think>{reasoning}</think>\n{final}"),
        ),
        reasoning=reasoning,
        final=final,
        model="deepseek-r1-0528",
        sampling={
            "temperature": 0.6,
            "top_p": 0.95,
            "max_tokens": 32768,
            "seed": 1234,
            "stop": ["</answer>"],
        },
        verification=Result(
            problem.id, "correct", {"verifier_version": "0.1.0", "matched": "4*pi*alpha**2/(3*s)"}
        ),
        num_tokens=1873,
        tokenizer="deepseek-ai/DeepSeek-R1-0528",
        finish_reason="stop",
        id="trace-run3-0007",
    )


def response() -> Response:
    """A model answer to grade."""
    return Response(symbolic_problem().id, "<think>...</think>\nFinal answer: $\\frac{4\\pi\\alpha^2}{3s}$")


def result() -> Result:
    """A verdict with nested details."""
    return Result(
        code_problem().id, "incorrect", {"cases": [{"case_id": "z", "passed": False}], "elapsed_s": 0.12}
    )


PAPER_DOC: dict[str, Any] = {
    "problem_id": "p17",
    "problem_metadata": {
        "Public problem": "yes",
        "Auto-verifiable": "no",
        "Domain of theoretical physics": "QFT",
        "Difficulty level": "",
        "Topic Entry ID": "",
        "Problem ID": "Problem 17",
        "Problem origin": "gemini-2.5-pro (semi-synthetic)",
        "Date problem was added to the data set": "2025-06-02",
        "Source": "hep-ph/0409146",
        "Seed Pair Hash": "5d41402abc4b2a76b9719d911017c592",
    },
    "problem_details": {
        "Problem Statement": "In QED at tree level and neglecting all lepton masses, the cross section for "
        "$e^+e^-\\to\\mu^+\\mu^-$ is $\\sigma = 4\\pi\\alpha^2/(3s)$. Using $\\alpha = 1/137.035999$ and "
        "$(\\hbar c)^2 = 0.3893793721$ mb GeV$^2$, write a function of $\\sqrt{s}$ (GeV) returning $\\sigma$ in nb.",
        "Solution": "Convert $1\\,\\mathrm{GeV}^{-2} = 0.3893793721\\times 10^{6}$ nb and evaluate.",
        "Answer Requirements": "\\begin{python}\ndef sigma_ee_mumu(sqrt_s: float) -> float:\n"
        '    """Total cross section in nb."""\n\\end{python}',
        "Answer": "$\\sigma = \\frac{4\\pi\\alpha^2}{3s}\\times 0.3894\\,\\mathrm{mb\\,GeV^2}$",
        "Code": "\\begin{python}\nimport math\n\n\ndef sigma_ee_mumu(sqrt_s: float) -> float:\n"
        "    alpha = 1 / 137.035999\n"
        "    return 4 * math.pi * alpha**2 / (3 * sqrt_s**2) * 0.3893793721e6\n\\end{python}",
        "test": {
            "function_name": "sigma_ee_mumu",
            "arguments": [{"name": "sqrt_s", "type": "float"}],
            "test_cases": [
                {
                    "case_id": 1,
                    "inputs": {"sqrt_s": 10.0},
                    "output": "0.868544769821717",
                    "output_type": "float",
                },
                {"case_id": 2, "inputs": {"sqrt_s": 29.0}, "output": 0.10327524016905078, "tolerance": 1e-06},
                {"case_id": 3, "inputs": {"sqrt_s": 91.0}, "tolerance": {"rtol": 1e-06, "atol": 1e-12}},
                {"case_id": 4, "inputs": {"sqrt_s": 200.0}, "tolerance": {"rtol": 0.001}},
            ],
            "tests_passed": True,
        },
    },
    "original_seed": {"seed_type": "matched", "arxiv_id": "hep-ph/0409146", "seed_data": {"problem": "..."}},
    "qc_gradings": {"gemini-2.5-pro": {"Correctness": 95, "Test cases": 90}},
}


def paper_doc() -> dict[str, Any]:
    """A fresh copy of the paper-format document (tests may mutate it)."""
    return copy.deepcopy(PAPER_DOC)


TPBENCH_ROW: dict[str, Any] = {
    "problem_id": "qft_7",
    "domain": "High Energy Theory",
    "difficulty_level": 2,
    "problem": "The Källén function $\\lambda(x,y,z)$ governs two-body kinematics: for a decay $M \\to m_1 m_2$ the "
    "daughter momentum is $|\\vec p| = \\lambda^{1/2}(M^2,m_1^2,m_2^2)/(2M)$. Give $\\lambda(x,y,z)$ as a "
    "polynomial.",
    "solution": "Expanding $[x-(\\sqrt y+\\sqrt z)^2][x-(\\sqrt y-\\sqrt z)^2]$ gives the symmetric polynomial.",
    "answer": "$\\lambda(x,y,z) = x^2+y^2+z^2-2xy-2yz-2zx$",
    "code_answer_requirements": "Provide the answer as a Python function with this signature:\n\n"
    "\\begin{python}\ndef kallen(x: float, y: float, z: float) -> float:\n"
    '    r"""Return lambda(x, y, z)."""\n    pass\n\\end{python}',
    "reference_implementation": "\\begin{python}\ndef kallen(x: float, y: float, z: float) -> float:\n"
    "    return x**2 + y**2 + z**2 - 2 * x * y - 2 * y * z - 2 * z * x\n\\end{python}",
}

TPBENCH_CASES = [
    {"inputs": {"x": 4.0, "y": 1.0, "z": 1.0}, "output": 0.0},
    {"inputs": {"x": 0.019479893, "y": 0.011163692, "z": 0.0}, "rtol": 1e-9},
]


def tpbench_row() -> dict[str, Any]:
    """A fresh copy of the TPBench-layout row."""
    return copy.deepcopy(TPBENCH_ROW)
