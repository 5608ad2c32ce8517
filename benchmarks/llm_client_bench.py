"""LLMClient throughput vs a plain sequential ``openai`` loop, against a local server that answers instantly.

    .venv/bin/python benchmarks/llm_client_bench.py [--requests 4000] [--concurrency 1,4,16,64,256]

The server (tests/openai_server.py) runs in its own process, so it does not share the client's GIL. For each
concurrency, a fresh response cache is used (every request a miss that is then written: "cache on, cold"); a
last row repeats the highest concurrency on the warm cache (every request a hit). The baseline is what a
script would do without the toolkit: ``openai.OpenAI().chat.completions.create`` in a loop. The per-request
overhead is our latency at concurrency 1 minus the baseline's.

Target (issue 6): >= 500 requests/s on 2 cores at high concurrency with the cache on.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SERVER = (
    "import sys, time\n"
    f"sys.path.insert(0, {str(ROOT)!r})\n"
    "from tests.openai_server import ScriptedOpenAIServer\n"
    "server = ScriptedOpenAIServer().start()\n"
    "print(server.url, flush=True)\n"
    "time.sleep(36000)\n"
)
TARGET = 500.0


def _messages(i: int) -> list[dict[str, str]]:
    return [{"role": "user", "content": f"Compute the tree-level amplitude number {i}."}]


def baseline(url: str, n: int) -> float:
    """Requests/s of a plain sequential openai loop."""
    import openai

    client = openai.OpenAI(base_url=url + "/v1", api_key="x", max_retries=0)
    client.chat.completions.create(model="test-model", messages=_messages(-1))
    start = time.perf_counter()
    for i in range(n):
        client.chat.completions.create(model="test-model", messages=_messages(i))
    elapsed = time.perf_counter() - start
    client.close()
    return n / elapsed


def ours(url: str, n: int, concurrency: int, cache: Path, transport: str) -> float:
    """Requests/s of LLMClient.complete at ``concurrency`` with the sqlite cache at ``cache``."""
    from generation.llm import LLMClient, LLMConfig

    config = LLMConfig(model="test-model", base_url=url + "/v1", cache=cache, max_concurrency=concurrency,
                       http_transport=transport)  # fmt: skip

    async def main() -> float:
        async with LLMClient(config) as client:
            await client.complete(_messages(-1), temperature=0.0)
            start = time.perf_counter()
            await asyncio.gather(*(client.complete(_messages(i), temperature=0.0) for i in range(n)))
            return n / (time.perf_counter() - start)

    return asyncio.run(main())


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--baseline-requests", type=int, default=1000)
    parser.add_argument("--concurrency", default="1,4,16,64,256")
    parser.add_argument("--transport", default="aiohttp", choices=("aiohttp", "httpx"))
    args = parser.parse_args()
    levels = [int(c) for c in args.concurrency.split(",")]
    server = subprocess.Popen([sys.executable, "-c", SERVER], stdout=subprocess.PIPE, text=True)
    try:
        url = server.stdout.readline().strip()
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
        base = baseline(url, args.baseline_requests)
        print(f"baseline (sequential openai loop): {base:8.0f} req/s  {1000 / base:6.2f} ms/request")
        print(f"{'concurrency':>11} {'cache':>6} {'req/s':>8} {'ms/req':>7} {'vs baseline':>11}")
        rows = []
        with tempfile.TemporaryDirectory() as tmp:
            for level in levels:
                rate = ours(url, args.requests, level, Path(tmp) / f"cold-{level}.sqlite", args.transport)
                rows.append((level, "cold", rate))
                print(f"{level:>11} {'cold':>6} {rate:8.0f} {1000 / rate:7.2f} {rate / base:10.1f}x")
            top = levels[-1]
            rate = ours(url, args.requests, top, Path(tmp) / f"cold-{top}.sqlite", args.transport)
            print(f"{top:>11} {'warm':>6} {rate:8.0f} {1000 / rate:7.2f} {rate / base:10.1f}x")
        one = next((r for level, kind, r in rows if level == 1), None)
        if one is not None:
            print(f"per-request overhead at concurrency 1: {1000 / one - 1000 / base:+.2f} ms")
        best = max(rate for level, kind, rate in rows if level >= 64) if any(c >= 64 for c in levels) else 0.0
        verdict = "PASS" if best >= TARGET else "FAIL"
        print(
            f"target >= {TARGET:.0f} req/s at concurrency >= 64 with the cache on (cold): {best:.0f} req/s {verdict}"
        )
        return 0
    finally:
        server.kill()


if __name__ == "__main__":
    sys.exit(main())
