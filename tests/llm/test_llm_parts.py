"""The LLM client's parts that need no server: reasoning split, JSON extraction, cache, config, usage, the
offline engine's batching (with a stand-in for vllm.LLM)."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass

import pytest

from generation.llm import ConfigError, LLMConfig, ResponseCache, UsageMeter, request_key, split_reasoning
from generation.llm.client import _extract_json
from generation.llm.vllm_engine import VLLMEngine


def test_reasoning_field_wins_over_think_tags():
    assert split_reasoning("The answer is 4.", "2+2 is 4") == ("The answer is 4.", "2+2 is 4")


def test_think_tags_split_reasoning_from_answer():
    assert split_reasoning("<think>add them</think>\n\\boxed{4}") == ("\\boxed{4}", "add them")


def test_everything_before_the_last_close_tag_is_reasoning():
    assert split_reasoning("<think>a</think> b </think> c") == ("c", "a</think> b")


def test_an_orphan_close_tag_still_splits():
    assert split_reasoning("thinking...</think>42") == ("42", "thinking...")


def test_an_unclosed_think_leaves_no_answer():
    assert split_reasoning("<think>still going") == ("", "still going")


def test_json_is_found_in_fences_and_prose():
    assert _extract_json('{"a": 1}') == {"a": 1}
    assert _extract_json('Here:\n```json\n{"a": 2}\n```\n') == {"a": 2}
    assert _extract_json('Sure! {"a": 3} Hope it helps.') == {"a": 3}


def test_cut_off_json_is_an_error():
    with pytest.raises(ValueError):
        _extract_json('{"statement": "abc')


def test_request_keys_ignore_key_order_but_not_content():
    a = request_key({"model": "m", "messages": [{"role": "user", "content": "x"}], "temperature": 0.5})
    b = request_key({"temperature": 0.5, "messages": [{"content": "x", "role": "user"}], "model": "m"})
    c = request_key({"model": "m", "messages": [{"role": "user", "content": "y"}], "temperature": 0.5})
    assert a == b != c


def test_the_cache_survives_reopening(tmp_path):
    cache = ResponseCache(tmp_path / "c.sqlite")
    cache.put("k", {"samples": [1, 2]})
    cache.close()
    again = ResponseCache(tmp_path / "c.sqlite")
    assert again.get("k") == {"samples": [1, 2]} and again.get("other") is None and len(again) == 1


def test_config_from_yaml_block_over_the_environment(monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", "http://env:1/v1")
    config = LLMConfig.from_mapping({"model": "m", "max_concurrency": 8, "cache": "off"})
    assert (config.base_url, config.max_concurrency, config.cache) == ("http://env:1/v1", 8, None)
    assert LLMConfig.from_mapping({"model": "m", "base_url": "http://yaml/v1"}).base_url == "http://yaml/v1"


def test_an_api_key_in_a_config_file_is_refused():
    with pytest.raises(ConfigError, match="do not put the API key in a file; set OPENAI_API_KEY"):
        LLMConfig.from_mapping({"model": "m", "api_key": "sk-secret"})


def test_unknown_config_keys_are_named():
    with pytest.raises(ConfigError, match="unknown key\\(s\\) concurency"):
        LLMConfig.from_mapping({"model": "m", "concurency": 3})


def test_the_key_is_read_from_the_environment_and_never_shown(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-very-secret")
    config = LLMConfig(model="m")
    assert config.api_key == "sk-very-secret"
    assert "sk-very-secret" not in repr(config)
    assert os.environ["OPENAI_API_KEY"] not in str(config)


def test_missing_model_says_how_to_set_it():
    with pytest.raises(ConfigError, match="pass --model NAME or set llm.model"):
        LLMConfig().require_model()


def test_usage_counts_cost_but_not_for_cache_hits():
    meter = UsageMeter({"input": 1.0, "output": 2.0})
    meter.record("generate", 1_000_000, 500_000, cached=False)
    meter.record("generate", 1_000_000, 500_000, cached=True)
    usage = meter.to_dict()["generate"]
    assert (usage["requests"], usage["cache_hits"], usage["prompt_tokens"]) == (2, 1, 1_000_000)
    assert usage["cost_usd"] == pytest.approx(2.0)


@dataclass
class _Choice:
    text: str
    finish_reason: str
    token_ids: list


@dataclass
class _Output:
    outputs: list
    prompt_token_ids: list


class _FakeLLM:
    """Stands in for vllm.LLM.chat: answers each conversation with its last message reversed."""

    def __init__(self):
        self.calls = []

    def chat(self, conversations, sampling, use_tqdm=False):
        self.calls.append(len(conversations))
        return [
            _Output([_Choice(f"<think>r</think>{c[-1]['content'][::-1]}", "stop", [1, 2, 3])], [0] * 5)
            for c in conversations
        ]


def test_the_offline_engine_batches_concurrent_requests(monkeypatch):
    fake = _FakeLLM()
    engine = VLLMEngine("m", llm=fake, max_batch=64, batch_wait=0.05)
    monkeypatch.setattr(VLLMEngine, "sampling_params", staticmethod(lambda params: params))

    async def main():
        requests = [{"messages": [{"role": "user", "content": f"q{i}"}]} for i in range(20)]
        return await asyncio.gather(*(engine.chat(r) for r in requests))

    results = asyncio.run(main())
    assert fake.calls == [20]
    samples, prompt_tokens, completion_tokens, model = results[7]
    assert (samples[0].text, samples[0].reasoning, prompt_tokens, completion_tokens) == ("7q", "r", 5, 3)
