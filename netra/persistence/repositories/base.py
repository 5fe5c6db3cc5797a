"""Generic repositories: `Repository[Model]`, the owner-scoped `OwnedRepository[Model]` and
the workspace- and owner-scoped `WorkspaceOwnedRepository[Model]`.

All create / get / list / update / delete through one `AsyncSession`; nothing commits
here (the unit of work does). Lists are paginated (`limit`, `offset`) and newest first.
An `OwnedRepository` filters every query by the owner's id: a record of another user is
"not found" (None, an empty list, False), exactly like a missing one. A
`WorkspaceOwnedRepository` filters by the owner and by the workspace its unit of work is
bound to (`Tenant`), in one place (`_owned_by`); with no workspace bound it raises
`WorkspaceRequiredError` instead of reading anything.
"""

from __future__ import annotations

from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, and_, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from netra.errors import UserInputError
from netra.persistence.models import Base
from netra.tenancy import WorkspaceRequiredError, required

M = TypeVar("M", bound=Base)
DEFAULT_LIMIT = 50
MAX_LIMIT = 500
PROTECTED = frozenset({"id", "user_id", "workspace_id", "created_at", "updated_at"})


class NotFoundError(UserInputError):
    """A record does not exist, or belongs to another user (the REST layer answers 404)."""


def page_bounds(limit: int, offset: int) -> tuple[int, int]:
    """Return `limit` clamped to 1..MAX_LIMIT and `offset` to 0 or more."""
    return max(1, min(limit, MAX_LIMIT)), max(0, offset)


class Tenant:
    """The workspace a unit of work acts in: bound once, required by workspace-owned repositories."""

    def __init__(self, workspace_id: str | None = None) -> None:
        self.workspace_id = workspace_id

    def bind(self, workspace_id: str) -> None:
        """Act in `workspace_id` from now on (binding it again is allowed; another one is not)."""
        if self.workspace_id not in (None, workspace_id):
            raise WorkspaceRequiredError("this unit of work already acts in another workspace")
        self.workspace_id = required(workspace_id, "binding a unit of work")

    def required(self) -> str:
        """Return the bound workspace; raise WorkspaceRequiredError when none is."""
        return required(self.workspace_id, "a workspace-owned record (bind the unit of work to one)")


class _Store(Generic[M]):
    """What every repository kind shares: queries over one model in one session."""

    model: ClassVar[type[Base]]
    parents: ClassVar[dict[str, type[Base]]] = {}

    def __init__(self, session: AsyncSession, tenant: Tenant | None = None) -> None:
        self.session, self.tenant = session, tenant or Tenant()

    def _columns(self) -> set[str]:
        """Return the attribute names of the model's columns."""
        return {attr.key for attr in self.model.__mapper__.column_attrs}

    def _refuse(self, values: dict[str, Any], frozen: frozenset[str]) -> None:
        """Raise UserInputError if `values` names an unknown column or one in `frozen`."""
        bad = (set(values) - self._columns()) | (set(values) & frozen)
        if bad:
            raise UserInputError(f"{self.model.__tablename__}: cannot set {sorted(bad)}")

    async def _first(self, *where: ColumnElement[bool]) -> M | None:
        """Return the one record matching `where`, or None."""
        return (await self.session.scalars(select(self.model).where(*where))).first()

    def _newest(self, *where: ColumnElement[bool]) -> Select[tuple[M]]:
        """Return the query for records matching `where`, newest first."""
        return select(self.model).where(*where).order_by(self.model.created_at.desc(), self.model.id.desc())

    async def _page(self, where: tuple[ColumnElement[bool], ...], limit: int, offset: int) -> list[M]:
        """Return one page of records matching `where`, newest first."""
        limit, offset = page_bounds(limit, offset)
        return list(await self.session.scalars(self._newest(*where).limit(limit).offset(offset)))

    async def _add(self, values: dict[str, Any]) -> M:
        """Insert a record and flush, so its id and defaults are set."""
        self._refuse(values, frozenset())
        record = self.model(**values)
        self.session.add(record)
        await self.session.flush()
        return record  # type: ignore[return-value]

    async def _change(self, record: M | None, values: dict[str, Any]) -> M | None:
        """Set `values` on `record` (if any) and flush; ids, owner and parents never change."""
        self._refuse(values, PROTECTED | frozenset(self.parents))
        if record is not None:
            for key, value in values.items():
                setattr(record, key, value)
            await self.session.flush()
        return record

    async def _remove(self, *where: ColumnElement[bool]) -> bool:
        """Delete the records matching `where`; return whether one was."""
        result = await self.session.execute(delete(self.model).where(*where))
        return bool(result.rowcount)


class Repository(_Store[M]):
    """CRUD over a table that no user owns (users, catalog, OAuth config)."""

    async def create(self, **values: Any) -> M:
        """Insert a record from column values; return it with its id."""
        return await self._add(values)

    async def get(self, record_id: str) -> M | None:
        """Return the record with this id, or None."""
        return await self._first(self.model.id == record_id)

    async def list(self, *, limit: int = DEFAULT_LIMIT, offset: int = 0) -> list[M]:
        """Return one page of records, newest first."""
        return await self._page((), limit, offset)

    async def update(self, record_id: str, **values: Any) -> M | None:
        """Set column values on a record; return it, or None when missing.

        Raises:
            UserInputError: a value names an unknown or protected column.
        """
        return await self._change(await self.get(record_id), values)

    async def delete(self, record_id: str) -> bool:
        """Delete the record; return whether it existed."""
        return await self._remove(self.model.id == record_id)


class OwnedRepository(_Store[M]):
    """CRUD where every query is scoped to an owner (`user_id`).

    `parents` maps a foreign-key column to the model it points at: `create` checks that
    the parent belongs to the same owner and raises `NotFoundError` otherwise.
    """

    def _owned_by(self, model: type[Base], owner_id: str) -> ColumnElement[bool]:
        """Return the condition that a record of `model` is the owner's."""
        return model.user_id == owner_id  # type: ignore[attr-defined]

    def _mine(self, owner_id: str) -> ColumnElement[bool]:
        """Return the owner filter every query carries."""
        return self._owned_by(self.model, owner_id)

    def _stamp(self, owner_id: str) -> dict[str, Any]:
        """Return the columns a new record of the owner gets."""
        return {"user_id": owner_id}

    async def _check_parents(self, owner_id: str, values: dict[str, Any]) -> None:
        """Raise NotFoundError unless every parent in `values` is the owner's."""
        for key, parent in self.parents.items():
            found = await self.session.scalar(select(parent.id).where(
                parent.id == values.get(key), self._owned_by(parent, owner_id)))
            if found is None:
                raise NotFoundError(f"{parent.__tablename__} {values.get(key)!r} not found")

    async def create(self, owner_id: str, **values: Any) -> M:
        """Insert a record owned by `owner_id`.

        Raises:
            NotFoundError: a parent (thread, run) is missing or another user's.
        """
        await self._check_parents(owner_id, values)
        return await self._add({**values, **self._stamp(owner_id)})

    async def get(self, owner_id: str, record_id: str) -> M | None:
        """Return the owner's record with this id, or None (also for another user's)."""
        return await self._first(self.model.id == record_id, self._mine(owner_id))

    async def list(self, owner_id: str, *, limit: int = DEFAULT_LIMIT, offset: int = 0) -> list[M]:
        """Return one page of the owner's records, newest first."""
        return await self._page((self._mine(owner_id),), limit, offset)

    async def update(self, owner_id: str, record_id: str, **values: Any) -> M | None:
        """Set column values on the owner's record; None when missing or another user's.

        Raises:
            UserInputError: a value names an unknown, protected or parent column.
        """
        return await self._change(await self.get(owner_id, record_id), values)

    async def delete(self, owner_id: str, record_id: str) -> bool:
        """Delete the owner's record; return whether it existed (False for another user's)."""
        return await self._remove(self.model.id == record_id, self._mine(owner_id))

    async def _children(self, owner_id: str, key: str, parent_id: str, limit: int, offset: int) -> list[M]:
        """Return one page of the owner's records whose `key` column is `parent_id`."""
        where = (getattr(self.model, key) == parent_id, self._mine(owner_id))
        return await self._page(where, limit, offset)


class WorkspaceOwnedRepository(OwnedRepository[M]):
    """CRUD where every query is scoped to an owner and to the unit of work's workspace.

    A record of another workspace, the owner's own included, is "not found"; a new record
    is created in the bound workspace whatever `values` say.
    """

    def _owned_by(self, model: type[Base], owner_id: str) -> ColumnElement[bool]:
        """Return the condition that a record of `model` is the owner's, in the bound workspace."""
        workspace = model.workspace_id == self.tenant.required()  # type: ignore[attr-defined]
        return and_(super()._owned_by(model, owner_id), workspace)

    def _stamp(self, owner_id: str) -> dict[str, Any]:
        """Return the owner and the bound workspace, the columns a new record gets."""
        return {"user_id": owner_id, "workspace_id": self.tenant.required()}
