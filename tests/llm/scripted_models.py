"""Scripted "models" for the stage tests: responders for the scripted OpenAI server that answer generation, QC
and solver prompts the way a competent (or a broken) model would."""

from __future__ import annotations

import json
import re
from typing import Any

from tests.openai_server import json_reply, reply

GOOD_CODE = "import math\n\ndef energy(p, m):\n    return math.sqrt(p * p + m * m)\n"


def last_user(body: dict[str, Any]) -> str:
    return next(m["content"] for m in reversed(body["messages"]) if m["role"] == "user")


def system(body: dict[str, Any]) -> str:
    return body["messages"][0]["content"] if body["messages"][0]["role"] == "system" else ""


def is_generation(body: dict[str, Any]) -> bool:
    return "exam problems" in system(body) or "turn human-written" in system(body)


def is_judge(body: dict[str, Any]) -> bool:
    return "referee" in system(body)


def is_solver(body: dict[str, Any]) -> bool:
    return "Solve the problem step by step" in system(body)


def code_problem(tag: str, reference: str = GOOD_CODE, inputs: list | None = None) -> dict[str, Any]:
    """A valid code-answer problem whose statement mentions ``tag`` (so every slot's problem differs)."""
    return {
        "statement": f"A free particle of mass $m$ moves with momentum $p$ ({tag}). In natural units, find its "
        "relativistic energy $E(p, m)$.",
        "short_description": f"relativistic energy of a free particle ({tag})",
        "solution": "From $p^\\mu p_\\mu = m^2$ we get $E^2 = p^2 + m^2$, so $E = \\sqrt{p^2+m^2}$.",
        "final_answer": "\\sqrt{p^2+m^2}",
        "answer": {
            "kind": "code",
            "function_name": "energy",
            "arguments": [{"name": "p", "type": "float"}, {"name": "m", "type": "float"}],
            "reference_code": reference,
            "test_inputs": inputs or [{"p": 1.0, "m": 1.0}, {"p": 3.0, "m": 4.0}, {"p": 0.5, "m": 2.0}],
            "rtol": 1e-9,
        },
    }


def topic_of(body: dict[str, Any]) -> str:
    match = re.search(r'on the topic "([^"]+)"', body["messages"][1]["content"])
    return match.group(1) if match else "seed"


def good_generator(body: dict[str, Any]):
    """Writes a fresh valid problem for each prompt (the tag is the topic and how many problems it has seen)."""
    earlier = body["messages"][1]["content"].count("\n- relativistic energy")
    seed = re.search(r"## Original problem\n(.+)", body["messages"][1]["content"])
    tag = seed.group(1)[:40] if seed else f"{topic_of(body)} #{earlier}"
    return json_reply(code_problem(tag))


def judge(scores: dict[str, int]):
    def respond(body: dict[str, Any]):
        criteria = json.loads(last_user(body).split("follows this JSON schema:\n", 1)[1])["required"]
        return json_reply(
            {c: {"score": scores.get(c, 90), "reason": f"{c} looks {scores.get(c, 90)}"} for c in criteria}
        )

    return respond


def solver(code: str = GOOD_CODE, finish_reason: str = "stop"):
    def respond(body: dict[str, Any]):
        return reply(f"<think>E^2 = p^2 + m^2</think>\n```python\n{code}```", finish_reason=finish_reason)

    return respond
