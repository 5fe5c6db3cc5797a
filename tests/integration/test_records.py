"""Records layer on SQLite (tmp_path) and real PostgreSQL (a fresh database per test): migrations,
CRUD, newest-first pagination, owner scoping, unit-of-work rollback, encrypted secrets."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta, timezone
from typing import Any, Awaitable, Callable, Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from netra.errors import UserInputError
from netra.persistence import migrations
from netra.persistence.crypto import cipher_from_secret
from netra.persistence.db import make_engine, make_session_factory, make_sync_engine
from netra.persistence.models import Base
from netra.persistence.repositories import NotFoundError
from netra.persistence.uow import UnitOfWork
from netra.tenancy import LOCAL_WORKSPACE, WorkspaceRequiredError
from tests.support.databases import fresh_pg, migrated_pg, migrated_sqlite

CIPHER = cipher_from_secret("records-test-secret-" + "x" * 32)
INDEXES = {("threads", ("workspace_id", "user_id", "created_at")), ("messages", ("thread_id", "created_at")),
           ("runs", ("status",)), ("runs", ("thread_id", "created_at")), ("runs", ("workspace_id", "user_id", "created_at")),
           ("agent_runs", ("run_id",)), ("agent_reports", ("run_id",)),
           ("references", ("workspace_id", "user_id", "created_at")), ("workspace_members", ("user_id",))}
# repository, parent key (filled from the seeded world), values to create, values to update
OWNED = [
    ("threads", None, {"title": "Spend review", "meta": {"source": "ui"}}, {"title": "Renamed"}),
    ("messages", "thread_id", {"role": "user", "content": "why so slow?"}, {"content": "edited"}),
    ("runs", "thread_id", {"question": "cut spend 30%?", "strategy": "parallel"}, {"strategy": "sequential"}),
    ("agent_runs", "run_id", {"agent": "triage"}, {"duration_ms": 12}),
    ("reports", "run_id", {"markdown": "# R", "structured": {"findings": [1]}, "grounded": True}, {"grounded": False}),
    ("references", None, {"name": "pricing page", "url": "https://example.com/p"}, {"content": "notes"}),
    ("user_secrets", None, {"name": "openai_api_key", "ciphertext": "token"}, {"name": "renamed"}),
]
UNOWNED = [
    ("users", {"email": "Ada@Example.com", "name": "Ada"}, {"role": "admin"}),
    ("catalog", {"model_key": "gpt-4o", "provider": "openai", "prices": {"input": 2.5}}, {"quality": {"mmlu": 0.9}}),
    ("oauth_secrets", {"provider": "google", "client_id": "c1", "client_secret_ciphertext": "t"}, {"client_id": "c2"}),
]
# repository, its list-by-parent method, parent key, values of a child
CHILDREN = [(r, f"for_{p.removesuffix('_id')}", p, v) for r, p, v, _ in OWNED if p]
Action = Callable[[UnitOfWork], Awaitable[Any]]


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path) -> Iterator[str]:
    """An empty database: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'records.db'}"
    else:
        with fresh_pg(request.getfixturevalue("postgres_url"), "netra_records") as url:
            yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path) -> Iterator[str]:
    """A database at the schema's head: a copy of the one migrated per process (SQLite file or PostgreSQL
    template); `test_upgrade_from_empty_is_idempotent` migrates an empty one itself."""
    if request.param == "sqlite":
        yield f"sqlite:///{migrated_sqlite(tmp_path / 'records.db')}"
    else:
        with migrated_pg(request.getfixturevalue("postgres_url"), "netra_records") as url:
            yield url


async def _work(engine: AsyncEngine, action: Action, commit: bool, workspace_id: str | None) -> Any:
    """Run `action` in one unit of work in `workspace_id` (None: unbound); commit when asked."""
    async with UnitOfWork(make_session_factory(engine), CIPHER, workspace_id=workspace_id) as uow:
        result = await action(uow)
        await (uow.commit() if commit else uow.rollback())
        return result


async def _act(url: str, action: Action, commit: bool, workspace_id: str | None = LOCAL_WORKSPACE) -> Any:
    """Run `action` on a fresh engine, disposed afterwards."""
    engine = make_engine(url)
    try:
        return await _work(engine, action, commit, workspace_id)
    finally:
        await engine.dispose()


def db(url: str, action: Action, commit: bool = True, workspace_id: str | None = LOCAL_WORKSPACE) -> Any:
    """Run `action(uow)` to completion in `workspace_id` (pytest-asyncio is not used)."""
    return asyncio.run(_act(url, action, commit, workspace_id))


def call(url: str, repo: str, method: str, /, *args: Any, **kwargs: Any) -> Any:
    """Return `await uow.<repo>.<method>(*args, **kwargs)`, committed."""
    return db(url, lambda uow: getattr(getattr(uow, repo), method)(*args, **kwargs))


def raw(url: str, sql: str) -> list[Any]:
    """Return the first column of every row `sql` selects, as stored."""
    return db(url, lambda uow: uow.session.scalars(text(sql))).all()


async def seed(uow: UnitOfWork) -> dict[str, str]:
    """Create user A with one thread and one run, and user B with nothing; return their ids."""
    user = await uow.users.create(email="a@example.com", name="A")
    thread = await uow.threads.create(user.id, title="t")
    run = await uow.runs.create(user.id, thread_id=thread.id, question="q")
    other = await uow.users.create(email="b@example.com", name="B")
    return {"user_id": user.id, "thread_id": thread.id, "run_id": run.id, "other": other.id}


@pytest.fixture
def world(url: str) -> dict[str, str]:
    """The ids `seed` made in the migrated database."""
    return db(url, seed)


def make_owned(url: str, world: dict[str, str], repo: str, parent: str | None, values: dict) -> str:
    """Create a record of `repo` owned by user A (under A's thread or run); return its id."""
    extra = {parent: world[parent]} if parent else {}
    return call(url, repo, "create", world["user_id"], **values, **extra).id


def on_sync(url: str, read: Callable[[Connection], Any]) -> Any:
    """Return `read(connection)` on a sync engine, disposed afterwards."""
    engine = make_sync_engine(url)
    try:
        with engine.connect() as conn:
            return read(conn)
    finally:
        engine.dispose()


def schema(conn: Connection) -> tuple[set[str], set[tuple[str, tuple[str, ...]]]]:
    """Return the table names and (table, indexed columns) pairs seen on `conn`."""
    found = inspect(conn)
    tables = set(found.get_table_names())
    return tables, {(t, tuple(i["column_names"])) for t in tables for i in found.get_indexes(t)}


def test_upgrade_from_empty_is_idempotent(db_url):
    assert migrations.current(db_url) is None and on_sync(db_url, schema) == (set(), set())
    migrations.upgrade(db_url)
    first = on_sync(db_url, schema)
    migrations.upgrade(db_url)
    assert migrations.current(db_url) == migrations.head() and on_sync(db_url, schema) == first
    assert first[0] == set(Base.metadata.tables) | {"alembic_version"} and INDEXES <= first[1]


def test_schema_matches_the_models_and_downgrades_to_empty(url):
    assert on_sync(url, lambda conn: compare_metadata(MigrationContext.configure(conn), Base.metadata)) == []
    migrations.downgrade(url)
    assert on_sync(url, schema)[0] == {"alembic_version"} and migrations.current(url) is None


@pytest.mark.parametrize(("repo", "parent", "values", "changes"), OWNED)
def test_owned_crud(url, world, repo, parent, values, changes):
    rid, owner = make_owned(url, world, repo, parent, values), world["user_id"]
    got, updated = call(url, repo, "get", owner, rid), call(url, repo, "update", owner, rid, **changes)
    assert all(getattr(got, k) == v for k, v in values.items()) and got.created_at.tzinfo is not None
    assert all(getattr(updated, k) == v for k, v in changes.items()) and updated.user_id == owner
    assert rid in [r.id for r in call(url, repo, "list", owner)]
    assert call(url, repo, "delete", owner, rid) is True and call(url, repo, "get", owner, rid) is None


@pytest.mark.parametrize(("repo", "values", "changes"), UNOWNED)
def test_unowned_crud(url, repo, values, changes):
    rid = call(url, repo, "create", **values).id
    got, updated = call(url, repo, "get", rid), call(url, repo, "update", rid, **changes)
    assert got.created_at.tzinfo is not None and all(getattr(updated, k) == v for k, v in changes.items())
    assert rid in [r.id for r in call(url, repo, "list")]
    assert call(url, repo, "delete", rid) is True and call(url, repo, "get", rid) is None


@pytest.mark.parametrize(("offset", "expected"), [(0, [4, 3]), (2, [2, 1]), (4, [0]), (6, [])])
def test_pagination_is_newest_first(url, world, offset, expected):
    owner, start = world["other"], datetime(2025, 1, 1, tzinfo=timezone.utc)
    ids = [call(url, "threads", "create", owner, title=str(i), created_at=start + timedelta(minutes=i)).id
           for i in range(5)]
    page = call(url, "threads", "list", owner, limit=2, offset=offset)
    assert [t.id for t in page] == [ids[i] for i in expected]


@pytest.mark.parametrize(("repo", "parent", "values", "changes"), OWNED)
def test_another_users_record_is_not_found(url, world, repo, parent, values, changes):
    rid, other = make_owned(url, world, repo, parent, values), world["other"]
    assert call(url, repo, "get", other, rid) is None and call(url, repo, "list", other) == []
    assert call(url, repo, "update", other, rid, **changes) is None
    assert call(url, repo, "delete", other, rid) is False
    assert call(url, repo, "get", world["user_id"], rid).id == rid


@pytest.mark.parametrize(("repo", "method", "parent", "values"), CHILDREN)
def test_children_of_another_users_parent_are_hidden(url, world, repo, method, parent, values):
    rid = make_owned(url, world, repo, parent, values)
    assert rid in [r.id for r in call(url, repo, method, world["user_id"], world[parent])]
    assert call(url, repo, method, world["other"], world[parent]) == []


@pytest.mark.parametrize(("repo", "method", "parent", "values"), CHILDREN)
def test_cannot_attach_to_another_users_parent(url, world, repo, method, parent, values):
    with pytest.raises(NotFoundError):
        call(url, repo, "create", world["other"], **values, **{parent: world[parent]})


@pytest.mark.parametrize("field", ["user_id", "id", "thread_id", "no_such_column"])
def test_update_refuses_owner_parent_and_unknown_fields(url, world, field):
    with pytest.raises(UserInputError):
        call(url, "runs", "update", world["user_id"], world["run_id"], **{field: "x"})


async def seed_then_fail(uow: UnitOfWork) -> None:
    """Write users, a thread and a run, then fail inside the unit of work."""
    await seed(uow)
    raise RuntimeError("boom")


@pytest.mark.parametrize(("action", "commit"), [(seed_then_fail, True), (seed, False)])
def test_unit_of_work_keeps_nothing_on_exception_or_without_commit(url, action, commit):
    with pytest.raises(RuntimeError, match="boom") if commit else contextlib.nullcontext():
        db(url, action, commit)
    assert raw(url, "SELECT count(*) FROM users") == raw(url, "SELECT count(*) FROM runs") == [0]


def test_deleting_a_thread_deletes_its_messages_and_runs(url, world):
    make_owned(url, world, "messages", "thread_id", {"role": "user"})
    assert call(url, "threads", "delete", world["user_id"], world["thread_id"]) is True
    assert raw(url, "SELECT count(*) FROM messages") == raw(url, "SELECT count(*) FROM runs") == [0]


def test_user_secret_is_encrypted_at_rest_and_decrypts(url, world):
    owner = world["user_id"]
    record = call(url, "user_secrets", "put", owner, "openai_api_key", "sk-plain-123")
    stored = raw(url, "SELECT ciphertext FROM user_secrets")
    assert len(stored) == 1 and "sk-plain-123" not in stored[0] and "sk-plain-123" not in repr(record)
    revealed = call(url, "user_secrets", "reveal", owner, "openai_api_key")
    assert revealed.get_secret_value() == "sk-plain-123" and "sk-plain" not in repr(revealed)
    assert call(url, "user_secrets", "reveal", world["other"], "openai_api_key") is None


def test_user_secret_put_replaces_and_remove_deletes(url, world):
    call(url, "user_secrets", "put", world["user_id"], "k", "first")
    call(url, "user_secrets", "put", world["user_id"], "k", "second")
    assert call(url, "user_secrets", "reveal", world["user_id"], "k").get_secret_value() == "second"
    assert call(url, "user_secrets", "remove", world["other"], "k") is False
    assert call(url, "user_secrets", "remove", world["user_id"], "k") is True
    assert raw(url, "SELECT ciphertext FROM user_secrets") == []


def test_oauth_client_secret_is_encrypted_at_rest(url):
    call(url, "oauth_secrets", "put", "google", "client-1", "oauth-plain-456")
    assert "oauth-plain-456" not in raw(url, "SELECT client_secret_ciphertext FROM oauth_secrets")[0]
    client_id, secret = call(url, "oauth_secrets", "reveal", "google")
    assert (client_id, secret.get_secret_value()) == ("client-1", "oauth-plain-456")
    assert call(url, "oauth_secrets", "reveal", "github") is None


def test_status_moves_set_start_finish_and_duration(url, world):
    rid = make_owned(url, world, "agent_runs", "run_id", {"agent": "triage"})
    started = call(url, "agent_runs", "set_status", world["user_id"], rid, "running")
    done = call(url, "agent_runs", "set_status", world["user_id"], rid, "error", "timeout")
    assert started.started_at is not None and started.finished_at is None and done.duration_ms >= 0
    assert (done.status, done.error, done.finished_at >= done.started_at) == ("error", "timeout", True)
    with pytest.raises(UserInputError, match="expected one of"):
        call(url, "runs", "set_status", world["user_id"], world["run_id"], "exploded")


def test_runs_by_status_spans_users_oldest_first(url, world):
    thread = call(url, "threads", "create", world["other"], title="b").id
    other_run = call(url, "runs", "create", world["other"], thread_id=thread, question="b?").id
    assert [r.id for r in call(url, "runs", "by_status", "pending")] == [world["run_id"], other_run]
    call(url, "runs", "set_status", world["user_id"], world["run_id"], "running")
    assert [r.id for r in call(url, "runs", "by_status", "running")] == [world["run_id"]]


def test_users_by_email_and_get_or_create(url):
    created = call(url, "users", "get_or_create", "Ada@Example.com", name="Ada", role="developer")
    again = call(url, "users", "get_or_create", "ada@example.com ", name="Other")
    assert (again.id, again.name, again.role, again.email) == (created.id, "Ada", "developer", "ada@example.com")
    assert call(url, "users", "by_email", "ADA@example.com").id == created.id


def test_catalog_upsert_by_model_key(url):
    call(url, "catalog", "upsert", "gpt-4o-mini", provider="openai", prices={"input": 0.15})
    call(url, "catalog", "upsert", "gpt-4o-mini", prices={"input": 0.1})
    entry = call(url, "catalog", "by_key", "gpt-4o-mini")
    assert (entry.provider, entry.prices) == ("openai", {"input": 0.1})
    assert len(call(url, "catalog", "list")) == 1


def test_records_are_kept_per_workspace_and_need_one(url, world):
    def thread(uow: UnitOfWork) -> Any:
        return uow.threads.get(world["user_id"], world["thread_id"])
    assert db(url, thread).id == world["thread_id"] and db(url, thread, workspace_id="another") is None
    with pytest.raises(WorkspaceRequiredError):
        db(url, thread, workspace_id=None)
