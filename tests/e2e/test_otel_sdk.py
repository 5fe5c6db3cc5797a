"""An application instrumented with OpenTelemetry exports its OpenAI calls to a running Netra.

The application is real: the `openai` client calls the scripted OpenAI-compatible server
(`tests.support.llm_server`), `opentelemetry-instrumentation-openai-v2` makes its spans, and the
OpenTelemetry SDK exports them with the official OTLP exporters, as a deployment would:
OTLP/HTTP protobuf (plain and gzip) to `/v1/traces`, OTLP/gRPC to the receiver of the same
server. Netra must then hold one event per call with the model, the tokens the client was
told, and the cost priced from the catalog file's prices (computed here from the file).

The instrumentation emits the GenAI conventions of v1.30 by default and the latest ones with
`OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental`; both are exported. The spans are
also kept in memory, to tell what the telemetry carries: a cache read the spans do not carry
(this instrumentation records none for chat completions, though the server reported cached
tokens) is "not in the telemetry" (flagged in `missing_fields`), priced as the spans tell it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import Callable, Iterator

import grpc
import httpx
import openai
import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter
from opentelemetry.instrumentation._semconv import _OpenTelemetrySemanticConventionStability
from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2_grpc import TraceServiceStub
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from netra.config import Settings
from netra.workloads.schema import FIELD_BITS
from tests.e2e.test_live_runs_processes import Process, free_port, ready, stopped_after
from tests.integration.api.seeding import workspace_of
from tests.support.live import DEV, Live, live_server
from tests.support.llm_server import Reply, ScriptedLLM
from tests.support.servers import serving

pytestmark = pytest.mark.timeout(180)
PRICES = json.loads((Path(__file__).resolve().parents[2] / "netra" / "workloads" / "data" /
                     "price_catalog.json").read_text())["models"]
SYSTEM = "You are the support assistant of a shop. Answer in one sentence. " * 20  # a prefix worth caching
CALLS = [("gpt-4o-mini", "Where is my order?"), ("gpt-4o-mini", "Can I return it?"), ("gpt-4o", "Thanks!")]
EVENT_SQL = """SELECT length(request_id) AS id_length, provider, model, input_tokens, cached_input_tokens,
  output_tokens, cost_usd, latency_ms, workspace_id, missing_fields FROM workload_events WHERE feature = {service:String} ORDER BY timestamp"""
LATEST = "gen_ai_latest_experimental"
CACHE_READ = "gen_ai.usage.cache_read.input_tokens"
STORED = itemgetter("provider", "model", "input_tokens", "cached_input_tokens", "output_tokens", "workspace_id",
                    "id_length")
# (transport, OTEL_SEMCONV_STABILITY_OPT_IN): every exporter with the instrumentation's default conventions,
# and the latest conventions over both protocols
SETUPS = [("http-protobuf", ""), ("http-protobuf-gzip", ""), ("grpc", ""), ("http-protobuf", LATEST),
          ("grpc", LATEST)]


@pytest.fixture(scope="module")
def llm() -> Iterator[ScriptedLLM]:
    """The scripted OpenAI-compatible server the application calls."""
    scripted = ScriptedLLM()
    with serving(scripted.app):
        yield scripted


@pytest.fixture(scope="module")
def netra(session_store, catalog, tmp_path_factory) -> Iterator[Live]:
    """A running Netra: HTTP with its lifespan, and OTLP/gRPC on a free port."""
    home = tmp_path_factory.mktemp("otel-sdk")
    settings = Settings(home=home, database_url=f"sqlite:///{home / 'netra.db'}", otlp_grpc_port=0, **DEV)
    with live_server(settings, session_store, catalog) as server:
        yield server


def issued_key(url: str) -> tuple[str, str]:
    """Return a workspace ingest key and its workspace, made by a developer signed in to the Netra at `url`."""
    token = httpx.post(f"{url}/auth/dev-login", json={"email": "otel@example.com"}, timeout=30).json()
    with httpx.Client(base_url=url, timeout=30, headers={"Authorization": f"Bearer {token['access_token']}"}) as user:
        workspace = workspace_of(user)
        created = user.post(f"/api/workspaces/{workspace}/keys", json={"name": "otel-sdk"})
    return created.json()["key"], workspace


@pytest.fixture(scope="module")
def key(netra: Live) -> tuple[str, str]:
    """A workspace ingest key of the module's server, and its workspace."""
    return issued_key(netra.url)


# transport -> the exporter a deployment would configure for it (Netra's URL, gRPC port, key)
EXPORTERS: dict[str, Callable[[Live, str], SpanExporter]] = {
    "http-protobuf": lambda live, key: HttpExporter(endpoint=f"{live.url}/v1/traces",
                                                    headers={"Authorization": f"Bearer {key}"}),
    "http-protobuf-gzip": lambda live, key: HttpExporter(endpoint=f"{live.url}/v1/traces", compression=Compression.Gzip,
                                                         headers={"Authorization": f"Bearer {key}"}),
    "grpc": lambda live, key: GrpcExporter(endpoint=f"127.0.0.1:{live.app.state.otlp_grpc_port}", insecure=True,
                                           headers=(("authorization", f"Bearer {key}"),)),
}


@dataclass(frozen=True)
class Traced:
    """An application's tracer provider, exporting to Netra and to memory; instrumented while entered."""

    service: str
    provider: TracerProvider
    exported: InMemorySpanExporter

    @classmethod
    def exporting(cls, service: str, exporter: SpanExporter) -> Traced:
        """Return the tracer provider of `service`, its spans sent to `exporter` and kept in memory."""
        traced = cls(service, TracerProvider(resource=Resource.create({"service.name": service})),
                     InMemorySpanExporter())
        for each in (exporter, traced.exported):
            traced.provider.add_span_processor(SimpleSpanProcessor(each))
        return traced

    def __enter__(self) -> Traced:
        OpenAIInstrumentor().instrument(tracer_provider=self.provider)
        return self

    def __exit__(self, *exc: object) -> None:
        OpenAIInstrumentor().uninstrument()
        self.provider.shutdown()

    def cache_reads(self) -> list[int | None]:
        """Return each exported span's cache read attribute (None: the span carries none)."""
        return [span.attributes.get(CACHE_READ) for span in self.exported.get_finished_spans()]


@pytest.fixture
def traced(netra: Live, key: tuple[str, str], request, monkeypatch) -> Iterator[Traced]:
    """Instrument the OpenAI client, its spans exported to Netra over the setup's transport and conventions."""
    transport, opt_in = request.param
    monkeypatch.setenv("OTEL_SEMCONV_STABILITY_OPT_IN", opt_in)
    # the instrumentation reads the opt-in once per process; read it again for this setup
    monkeypatch.setattr(_OpenTelemetrySemanticConventionStability, "_initialized", False)
    with Traced.exporting(f"shop-{transport}-{opt_in or 'v1.30'}", EXPORTERS[transport](netra, key[0])) as traced:
        yield traced


def catalog_cost(model: str, usage: openai.types.CompletionUsage, cached: int) -> float:
    """Return the call's cost from the price file: uncached input, `cached` cache reads, output."""
    price = PRICES[model]
    return ((usage.prompt_tokens - cached) * price["input"] + cached * price.get("cache_read", price["input"])
            + usage.completion_tokens * price["output"])


def application(llm: ScriptedLLM) -> list[tuple[str, openai.types.CompletionUsage]]:
    """Run the application: its chat calls through the `openai` client; return each model and the usage it got."""
    llm.script(*[Reply(content=f"Answer {n}: your parcel ships tomorrow.") for n in range(len(CALLS))])
    client = openai.OpenAI(base_url=llm.base_url, api_key="sk-test", max_retries=0)
    messages = [{"role": "system", "content": SYSTEM}]
    answers = [client.chat.completions.create(model=model, messages=[*messages, {"role": "user", "content": text}])
               for model, text in CALLS]
    client.close()
    return [(answer.model, answer.usage) for answer in answers]


@pytest.mark.parametrize("traced", SETUPS, indirect=True, ids=[f"{t}-{o or 'v1.30'}" for t, o in SETUPS])
def test_instrumented_calls_land_with_model_tokens_and_cost(traced: Traced, llm, key, store):
    """Store one event per call: the provider, model and tokens the client saw, the catalog's cost."""
    calls, cached = application(llm), [n or 0 for n in traced.cache_reads()]
    rows = store.rows(EVENT_SQL, {"service": traced.service})
    assert [STORED(r) for r in rows] == [("openai", model, usage.prompt_tokens, n, usage.completion_tokens, key[1], 16)
                                         for (model, usage), n in zip(calls, cached)]
    assert [r["cost_usd"] for r in rows] == pytest.approx(
        [catalog_cost(model, usage, n) for (model, usage), n in zip(calls, cached)])


@pytest.mark.parametrize("traced", [("http-protobuf", ""), ("grpc", LATEST)], indirect=True, ids=["v1.30", "latest"])
def test_cache_reads_the_spans_lack_are_not_in_the_telemetry(traced: Traced, llm, store):
    """Flag cached tokens as missing exactly on the events whose spans carry no cache read (never a 0 measured)."""
    calls = application(llm)
    assert any(usage.prompt_tokens_details and usage.prompt_tokens_details.cached_tokens for _, usage in calls)
    rows = store.rows(EVENT_SQL, {"service": traced.service})
    flagged = [bool(r["missing_fields"] & FIELD_BITS["cached_input_tokens"]) for r in rows]
    assert flagged == [n is None for n in traced.cache_reads()]


SECRET = "otlp-serve-test-secret-0123456789-abcdefgh"


def serve_env(home: Path) -> dict[str, str]:
    """Return the environment of a `netra serve` of `home` (no developer NETRA_*, OPENAI_*, OTEL_* leak in)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NETRA_", "OPENAI_", "OTEL_"))}
    return env | {"NETRA_HOME": str(home), "NETRA_SECRET_KEY": SECRET, "NETRA_AUTH_MODE": "dev", "NETRA_LOG_JSON": "0"}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, int]]:
    """A `netra serve --otlp-grpc-port` process (NETRA_HOME of this test); its URL and gRPC port."""
    http, rpc = free_port(), free_port()
    command = [str(Path(sys.executable).with_name("netra")), "serve", "--port", str(http), "--otlp-grpc-port", str(rpc)]
    with (tmp_path / "serve.log").open("wb") as log:
        proc = subprocess.Popen(command, env=serve_env(tmp_path), stdout=log, stderr=subprocess.STDOUT)
        with stopped_after(proc):
            yield ready(Process(f"http://127.0.0.1:{http}", proc=proc, output=tmp_path / "serve.log")).url, rpc


def export_status(stub: TraceServiceStub, metadata: list[tuple[str, str]] | None = None) -> grpc.StatusCode:
    """Return the status of an empty export: OK, or the code it was refused with."""
    try:
        stub.Export(ExportTraceServiceRequest(), metadata=metadata, timeout=30)
    except grpc.RpcError as failed:
        return failed.code()
    return grpc.StatusCode.OK


def test_netra_serve_flag_serves_otlp_grpc(served: tuple[str, int]):
    """Serve OTLP/gRPC from `netra serve --otlp-grpc-port`: a key's export is taken, a call without one refused."""
    url, port = served
    key, _ = issued_key(url)
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = TraceServiceStub(channel)
        codes = [export_status(stub, [("authorization", f"Bearer {key}")]), export_status(stub)]
    assert codes == [grpc.StatusCode.OK, grpc.StatusCode.UNAUTHENTICATED]
