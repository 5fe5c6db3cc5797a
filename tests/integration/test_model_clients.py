"""The model path's HTTP clients: one TLS context per process (and CA environment), clients per model.

Building a TLS context costs its CA load (`load_verify_locations`, or `load_default_certs`
when no bundle is named): httpx, httpx2 (the openai SDK's async client) and
`ssl.create_default_context` all go through one of them, so counting their calls counts the
contexts the model path builds.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Callable, Iterator

import certifi
import pytest

from netra.config import Settings
from netra.llm import chat_model
from netra.llm.breaker import BREAKERS
from netra.llm.budget import discover
from netra.llm.cache import LLMCache
from netra.llm.clients import CONTEXTS
from netra.llm.usage import ledger, metered
from tests.support.llm_server import Reply, ScriptedLLM
from tests.support.servers import serving

DEAD = "http://127.0.0.1:9/v1"  # the discard port: nothing answers the probes
CA_LOADS = ("load_verify_locations", "load_default_certs")


@pytest.fixture
def built(monkeypatch) -> list[int]:
    """Count the CA loads (TLS contexts built) from here on; the process's shared contexts are built first."""
    discover(DEAD)
    chat_model(Settings(llm_base_url=DEAD), cache=LLMCache())
    counted = [0]
    for name in CA_LOADS:
        monkeypatch.setattr(ssl.SSLContext, name, counting(counted, getattr(ssl.SSLContext, name)))
    return counted


def counting(counted: list[int], load: Callable[..., None]) -> Callable[..., None]:
    """Return `load`, counting its calls in `counted`."""
    def counted_load(*args, **kwargs) -> None:
        counted[0] += 1
        load(*args, **kwargs)
    return counted_load


def two_models() -> None:
    """Build two chat models of one endpoint (langchain_openai keeps one async client per endpoint and timeout)."""
    for _ in range(2):
        chat_model(Settings(llm_base_url=DEAD), cache=LLMCache())


def two_probes() -> None:
    """Ask an endpoint its context twice (llama.cpp `/props`, then `/v1/models`, each time)."""
    for _ in range(2):
        assert discover(DEAD) is None


@pytest.mark.parametrize("make", [two_models, two_probes], ids=["chat-models", "context-probes"])
def test_no_call_builds_a_tls_context_of_its_own(built: list[int], make: Callable[[], None]):
    """Chat models and context probes all use the process's TLS context: none builds another."""
    make()
    assert built[0] == 0


def test_a_ca_bundle_named_in_the_environment_gets_contexts_of_its_own(built: list[int], monkeypatch):
    """`SSL_CERT_FILE` is honoured as httpx honours it: the first model builds a context for that
    bundle, the second builds none."""
    monkeypatch.setenv("SSL_CERT_FILE", certifi.where())
    monkeypatch.delitem(CONTEXTS, (certifi.where(), None), raising=False)
    two_models()
    assert built[0] == 1


def test_models_do_not_share_clients():
    """Each chat model has its own sync client (its hook counts that model's calls)."""
    first, second = (chat_model(Settings(llm_base_url=DEAD), cache=LLMCache()) for _ in range(2))
    assert first.http_client is not second.http_client


@pytest.fixture
def llm() -> Iterator[ScriptedLLM]:
    """A scripted model server answering one sync and one async call (its breaker forgotten afterwards)."""
    scripted = ScriptedLLM().script(Reply(content="sync answer"), Reply(content="async answer"))
    with serving(scripted.app):
        yield scripted
    BREAKERS.pop(scripted.base_url, None)


def test_sync_and_async_calls_answer_through_the_shared_context(llm: ScriptedLLM):
    """A model answers `invoke` (its requests counted by the usage hook) and `ainvoke`."""
    settings = Settings(llm_base_url=llm.base_url, llm_max_retries=0)
    model = chat_model(settings, cache=LLMCache())
    with ledger() as calls:
        answers = [metered(settings, "data", "report", lambda: model.invoke("one")).content,
                   asyncio.run(model.ainvoke("two")).content]
    assert answers == ["sync answer", "async answer"] and [c.attempts for c in calls] == [1]
