"""The offline vLLM engine behind the same interface as an OpenAI-compatible server (the ``vllm`` extra, GPUs).

Requests from many concurrent tasks are gathered into batches (up to ``max_batch``, or whatever arrived within
``batch_wait`` seconds) and handed to ``vllm.LLM.chat`` in one call, which is how the engine reaches its
throughput; each task gets back its own choices. A JSON schema response format becomes guided decoding.
"""

from __future__ import annotations

import asyncio
from typing import Any


class VLLMEngine:
    """``await engine.chat(params)`` -> (samples, prompt tokens, completion tokens, model), as LLMClient wants.

    ``llm`` can be given (an object with vLLM's ``chat(messages_list, sampling_params, use_tqdm=False)``);
    otherwise ``vllm.LLM(model, **engine_args)`` is created on first use.
    """

    def __init__(
        self, model: str, *, llm: Any = None, max_batch: int = 256, batch_wait: float = 0.01, **engine_args
    ):
        self.model = model
        self._llm = llm
        self._engine_args = engine_args
        self.max_batch = max_batch
        self.batch_wait = batch_wait
        self._queue: asyncio.Queue | None = None
        self._worker: asyncio.Task | None = None
        self.batches: list[int] = []  # sizes of the batches run, for tests and tuning

    def _engine(self) -> Any:
        if self._llm is None:
            try:
                from vllm import LLM
            except ImportError:
                raise RuntimeError(
                    "llm.engine: vllm needs the vllm extra on a GPU machine: pip install 'verifiable-qft[vllm]'; "
                    "or serve the model with `vllm serve` and set llm.base_url"
                ) from None
            self._llm = LLM(model=self.model, **self._engine_args)
        return self._llm

    @staticmethod
    def sampling_params(params: dict[str, Any]) -> Any:
        """vLLM SamplingParams for an OpenAI-style request."""
        from vllm import SamplingParams

        options: dict[str, Any] = {"n": params.get("n", 1)}
        for key in ("temperature", "top_p", "max_tokens", "seed", "stop"):
            if params.get(key) is not None:
                options[key] = params[key]
        response_format = params.get("response_format") or {}
        if response_format.get("type") == "json_schema":
            try:
                from vllm.sampling_params import GuidedDecodingParams

                options["guided_decoding"] = GuidedDecodingParams(
                    json=response_format["json_schema"]["schema"]
                )
            except ImportError:  # newer vLLM: structured outputs; the validator still checks every reply
                from vllm.sampling_params import StructuredOutputsParams

                options["structured_outputs"] = StructuredOutputsParams(
                    json=response_format["json_schema"]["schema"]
                )
        return SamplingParams(**options)

    async def chat(self, params: dict[str, Any]) -> tuple[list, int, int, str]:
        if self._queue is None:
            self._queue = asyncio.Queue()
            self._worker = asyncio.get_running_loop().create_task(self._run())
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        await self._queue.put((params, future))
        return await future

    async def _run(self) -> None:
        from generation.llm.client import Sample, split_reasoning

        assert self._queue is not None
        while True:
            batch = [await self._queue.get()]
            deadline = asyncio.get_running_loop().time() + self.batch_wait
            while len(batch) < self.max_batch:
                timeout = deadline - asyncio.get_running_loop().time()
                if timeout <= 0:
                    break
                try:
                    batch.append(await asyncio.wait_for(self._queue.get(), timeout))
                except TimeoutError:
                    break
            self.batches.append(len(batch))
            try:
                engine = self._engine()
                sampling = [self.sampling_params(params) for params, _ in batch]
                outputs = await asyncio.to_thread(
                    engine.chat, [params["messages"] for params, _ in batch], sampling, use_tqdm=False
                )
            except Exception as exc:  # the engine failed the whole batch: every waiting task gets the error
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), output in zip(batch, outputs, strict=True):
                samples = []
                completion_tokens = 0
                for choice in output.outputs:
                    text, reasoning = split_reasoning(choice.text)
                    samples.append(Sample(text, reasoning, choice.finish_reason))
                    completion_tokens += len(choice.token_ids)
                if not future.done():
                    future.set_result(
                        (samples, len(output.prompt_token_ids or []), completion_tokens, self.model)
                    )
