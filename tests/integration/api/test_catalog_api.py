"""The supply catalog API on each backend: admin upserts, packaged fallback, search, pages, refusals.

Each `api` test starts a server on a fresh database, so the cases of a table run in one test.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from netra.server.routes.supply_catalog import like_pattern, per_million

KEY = "openrouter/anthropic/claude-3.5-sonnet"
COLON_KEY = "bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0"
ENTRY = {"provider": "openrouter", "prices": {"input": 3.0, "output": 15.0, "cache_read": 0.3, "input_batch": 1.5},
         "quality": {"code": 0.8}}
# the packaged catalog's gpt-4o, per 1M tokens (USD 2.5e-6 and 1e-5 per token)
GPT4O = {"input": 2.5, "output": 10.0}
# body, part of the 422 message
BAD_BODIES = [
    ({"provider": "x", "prices": {"input": -1}}, "greater than or equal to 0"),
    ({"provider": "x", "prices": {"cached_input": 1}}, "unknown price class 'cached_input'"),
    ({"provider": "x", "prices": {"output": 20000}}, "less than or equal to 10000"),
    ({"provider": "x", "prices": {"input": "cheap"}}, "valid number"),
    ({"provider": "x", "quality": {"code": 1.5}}, "less than or equal to 1"),
    ({"provider": "x", "colour": "red"}, "Extra inputs are not permitted"),
    ({"prices": {"input": 1}}, "provider: Field required"),
    ({"provider": "bad\u0000name"}, "control characters"),
]
# method, path, query, status: never a 500
ODD_KEYS = [("GET", "/api/catalog/no-such-model-anywhere", None, 404), ("GET", "/api/catalog/bad%00key", None, 404),
            ("PUT", "/api/catalog/bad%00key", None, 400), ("PUT", "/api/catalog/" + "k" * 201, None, 400),
            ("GET", "/api/catalog", {"limit": 0}, 422), ("GET", "/api/catalog", {"q": "a\x01"}, 422)]
ACME = ["acme/model_x", "acme/modelAx", "acme/other%2"]
# query parameters, the stored keys answered
SEARCHES = [
    ({"q": "MODEL"}, ["acme/modelAx", "acme/model_x"]),
    ({"q": "model_x"}, ["acme/model_x"]),
    ({"q": "%"}, ["acme/other%2"]),
    ({"q": "acme", "provider": "nobody"}, []),
]


CHANGED = ENTRY | {"prices": {"input": 2.0}}
STORED = {"model_key": KEY, "provider": "openrouter", "prices": {"input": 2.0}, "quality": {"code": 0.8},
          "source": "override"}


def pick(body: dict, keys: Any) -> dict:
    """Return the fields of `body` named by `keys`."""
    return {key: body[key] for key in keys}


def refused_writers(api) -> list[tuple[httpx.Client, int]]:
    """Return clients that may not write, with the status each gets: user, developer (403), anonymous (401)."""
    return [(api.login("user@example.com"), 403), (api.login("dev@example.com", role="developer"), 403),
            (api.anonymous, 401)]


def check_refusals(api, admin: httpx.Client) -> None:
    """Bad bodies answer 422 naming the field; non-admins 403, no token 401; nothing is stored."""
    for body, message in BAD_BODIES:
        answer = admin.put(f"/api/catalog/{KEY}", json=body)
        assert (answer.status_code, message in answer.text) == (422, True), (body, answer.text)
    for client, status in refused_writers(api):
        assert client.put(f"/api/catalog/{KEY}", json=ENTRY).status_code == status
    assert admin.get(f"/api/catalog/{KEY}").status_code == 404


def check_upserts(admin: httpx.Client, alice: httpx.Client) -> None:
    """201 for a new key, 200 for a known one; any user reads the stored override; `:` keys round-trip."""
    statuses = [admin.put(f"/api/catalog/{KEY}", json=body).status_code for body in (ENTRY, CHANGED)]
    stored = alice.get(f"/api/catalog/{KEY}").json()
    assert (statuses, pick(stored, STORED), bool(stored["updated_at"])) == ([201, 200], STORED, True)
    assert admin.put(f"/api/catalog/{COLON_KEY}", json=ENTRY).status_code == 201
    assert alice.get(f"/api/catalog/{COLON_KEY}").json()["model_key"] == COLON_KEY


def check_odd_keys(admin: httpx.Client) -> None:
    """An unknown key is 404; one that cannot be stored, or a bad page, is refused: never a 500."""
    for method, path, params, status in ODD_KEYS:
        answer = admin.request(method, path, json={"provider": "x"} if method == "PUT" else None, params=params)
        assert answer.status_code == status, (method, path, answer.text)


def check_packaged(admin: httpx.Client) -> None:
    """A model only the price catalog knows answers `packaged`, per 1M tokens, with quality priors."""
    packaged = admin.get("/api/catalog/gpt-4o").json()
    assert pick(packaged, ("source", "provider", "updated_at")) == {"source": "packaged", "provider": "openai",
                                                                    "updated_at": None}
    assert pick(packaged["prices"], GPT4O) == GPT4O and packaged["quality"]
    assert admin.get("/api/catalog/openai/gpt-4o").json()["model_key"] == "gpt-4o"
    mini = admin.get("/api/catalog", params={"q": "gpt-4o-mini", "source": "packaged"}).json()["items"]
    assert "gpt-4o-mini" in [e["model_key"] for e in mini] and {e["source"] for e in mini} == {"packaged"}


def check_override_wins(admin: httpx.Client) -> None:
    """Once stored, a packaged model's key answers the override, in lists too (once)."""
    admin.put("/api/catalog/gpt-4o", json={"provider": "openai", "prices": {"input": 2.0, "output": 8.0}})
    found = admin.get("/api/catalog", params={"q": "GPT-4O", "provider": "OpenAI"}).json()["items"]
    assert [(e["model_key"], e["source"]) for e in found if e["model_key"] == "gpt-4o"] == [("gpt-4o", "override")]
    assert admin.get("/api/catalog/gpt-4o").json()["prices"] == {"input": 2.0, "output": 8.0}


def check_search(admin: httpx.Client) -> None:
    """`q` matches a key's substring in any case; `%` and `_` are literal, not wildcards."""
    for key in ACME:
        assert admin.put(f"/api/catalog/{key.replace('%', '%25')}", json={"provider": "acme-labs"}).status_code == 201
    for params, keys in SEARCHES:
        items = admin.get("/api/catalog", params={"provider": "acme-labs", **params}).json()["items"]
        assert [e["model_key"] for e in items] == keys, params


def check_pages(admin: httpx.Client) -> None:
    """Pages of 2 over 3 stored entries: next_offset 2, then null."""
    query = {"provider": "acme-labs", "source": "override", "limit": 2}
    first = admin.get("/api/catalog", params=query).json()
    last = admin.get("/api/catalog", params=query | {"offset": first["next_offset"]}).json()
    assert (len(first["items"]), first["next_offset"], len(last["items"]), last["next_offset"]) == (2, 2, 1, None)


def check_reads(admin: httpx.Client) -> None:
    """Packaged models answer until overridden; search is literal; pages follow next_offset."""
    check_packaged(admin)
    check_override_wins(admin)
    check_search(admin)
    check_pages(admin)


def test_catalog_writes_reads_search_and_refusals(api):
    """Refusals store nothing; admins' upserts answer 201 then 200 and every user reads them; reads need a token."""
    admin, alice = api.login("root@example.com", role="admin"), api.login("alice@example.com")
    assert (alice.get(f"/api/catalog/{KEY}").status_code, api.anonymous.get("/api/catalog").status_code) == (404, 401)
    check_refusals(api, admin)
    check_upserts(admin, alice)
    check_odd_keys(admin)
    check_reads(admin)


@pytest.mark.parametrize(("text", "pattern"), [("gpt", "%gpt%"), ("50%", "%50\\%%"), ("a_b", "%a\\_b%"),
                                               ("c:\\x", "%c:\\\\x%")])
def test_like_pattern_escapes_wildcards(text: str, pattern: str):
    """`%`, `_` and the escape character itself match literally."""
    assert like_pattern(text) == pattern


@pytest.mark.parametrize(("per_token", "per_1m"), [(2.5e-6, 2.5), (1.5e-7, 0.15), (0.0, 0.0), (3e-9, 0.003)])
def test_per_million(per_token: float, per_1m: float):
    """USD per token becomes USD per 1M tokens without float noise."""
    assert per_million(per_token) == per_1m
