"""Fixtures shared by the LLM tests."""

from __future__ import annotations

import pytest

from tests.openai_server import ScriptedOpenAIServer


@pytest.fixture
def server():
    """A scripted OpenAI-compatible server on 127.0.0.1; the test fails if a responder crashed."""
    with ScriptedOpenAIServer() as running:
        yield running
        assert not running.errors
