"""The supply catalog: each model's provider, prices and quality, as stored overrides or packaged.

    GET /api/catalog?q=&provider=&source=&limit=&offset=   page of entries, by model key
    GET /api/catalog/{model_key}                            one entry (keys hold `/` and `:`)
    PUT /api/catalog/{model_key}   admin   {"provider", "prices": {class: USD per 1M tokens},
                                            "quality": {name: 0..1}}  -> 201 created | 200 updated

An entry answers `{"model_key", "provider", "prices", "quality", "source", "updated_at"}`.
`source` is `override` for a row of the `supply_catalog` table (written by `PUT`) and
`packaged` for a model only the price catalog in use knows (`netra catalog update` and
`price_overrides.json` apply to it): its prices are converted from USD per token to USD per
1M tokens, its quality is the published priors (`netra.workloads.quality`, 0..1 by
category). `GET /api/catalog/{model_key}` answers the stored row of exactly that key, else
the packaged model the name resolves to (as events are priced: `openai/gpt-4o-2024-08-06`
answers `gpt-4o`), else 404.

Price keys are those of the price catalog (`overrides.KEYS`): a class of `PRICE_CLASSES`,
optionally with a mode (`_batch`, `_priority`, `_flex`) and a long-context tier
(`_above_128k`, `_above_200k`, `_above_272k`); a packaged entry lists every price its model
has. Prices are 0..10,000 USD per 1M tokens. `q` is a case-insensitive substring of the model
key, `provider` an exact provider (any case), `source` one of `all`, `override`, `packaged`.
A stored row is a record only: it does not change how ingest prices events.

Every route needs a bearer token (401); `PUT` needs an admin (403; see `routes/admin.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import AfterValidator, Field
from sqlalchemy import ColumnElement, func, select
from starlette.concurrency import run_in_threadpool

from netra.errors import UserInputError
from netra.persistence.models import SupplyCatalogEntry
from netra.persistence.repositories.base import NotFoundError
from netra.persistence.uow import UnitOfWork
from netra.server.deps import AppResources, get_resources, signed_in
from netra.server.owned import Body, PageQuery, Uow
from netra.server.pagination import Page, page_of
from netra.server.routes.admin import with_role
from netra.server.routes.references import printable
from netra.server.views import View
from netra.workloads.catalog import ModelPrice, PriceCatalog
from netra.workloads.overrides import KEY_FORM, KEYS, MAX_PER_TOKEN
from netra.workloads.quality import priors_for

router = APIRouter(prefix="/api/catalog", tags=["catalog"], dependencies=[Depends(signed_in)])
Resources = Annotated[AppResources, Depends(get_resources)]
PER_MILLION = 1_000_000
MAX_PER_MILLION = MAX_PER_TOKEN * PER_MILLION  # 10,000 USD per 1M tokens
MAX_KEY = 200  # `supply_catalog.model_key` is String(200)
PRICE_KEYS: tuple[str, ...] = tuple(KEYS)  # input, ..., input_batch, ..., input_priority_above_200k, ...
Source = Literal["all", "override", "packaged"]


def price_class(value: str) -> str:
    """Return `value` if it names a price key; raise naming the valid form otherwise."""
    if value not in KEYS:
        raise ValueError(f"unknown price class {value!r}; expected a price key {KEY_FORM}")
    return value


PriceClass = Annotated[str, AfterValidator(price_class)]
PerMillion = Annotated[float, Field(ge=0, le=MAX_PER_MILLION, allow_inf_nan=False)]
QualityName = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(printable)]
Score = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]


class EntryIn(Body):
    """What `PUT` stores for a model: provider, prices per class (USD per 1M tokens), quality 0..1."""

    provider: Annotated[str, Field(min_length=1, max_length=100), AfterValidator(printable)]
    prices: dict[PriceClass, PerMillion] = Field(default_factory=dict, max_length=len(PRICE_KEYS))
    quality: dict[QualityName, Score] = Field(default_factory=dict, max_length=50)


class EntryOut(View):
    """A catalog entry; `source` says whether it is a stored override or the packaged catalog's."""

    model_key: str
    provider: str
    prices: dict[str, float]
    quality: dict[str, float]
    source: Literal["packaged", "override"] = "override"
    updated_at: datetime | None = None


def per_million(per_token: float) -> float:
    """Return a USD-per-token price as USD per 1M tokens (float noise rounded off)."""
    return round(per_token * PER_MILLION, 9)


def packaged_entry(key: str, price: ModelPrice) -> EntryOut:
    """Return the entry of a packaged model: every price it has per 1M tokens and its quality priors."""
    prices = {k: per_million(v) for k, v in sorted(price.table.items())}
    quality = {category: p.score for category, p in priors_for(key).items()}
    return EntryOut(model_key=key, provider=price.provider, prices=prices, quality=quality, source="packaged")


async def price_catalog(resources: AppResources) -> PriceCatalog:
    """Return the app's price catalog (opened in a worker thread when it is not open yet)."""
    return resources.catalog or (await run_in_threadpool(resources.opened))[1]


def like_pattern(text: str) -> str:
    """Return the LIKE pattern 'contains `text`', its `%`, `_` and `\\` escaped (escape char `\\`)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@dataclass(frozen=True)
class Search:
    """A list's filters: key substring `q`, exact `provider` (any case), and `source`."""

    q: str = ""
    provider: str = ""
    source: Source = "all"

    def filters(self) -> list[ColumnElement[bool]]:
        """Return the SQL conditions on stored rows (bound parameters only)."""
        where = [SupplyCatalogEntry.model_key.ilike(like_pattern(self.q), escape="\\")] if self.q else []
        if self.provider:
            where.append(func.lower(SupplyCatalogEntry.provider) == self.provider.lower())
        return where

    def matches(self, key: str, price: ModelPrice) -> bool:
        """Return whether a packaged model passes the filters."""
        by_key = self.q.lower() in key.lower()
        return by_key and (not self.provider or price.provider.lower() == self.provider.lower())


async def stored_keys(uow: UnitOfWork, search: Search) -> tuple[set[str], set[str]]:
    """Return every stored model key, and those that pass `search`."""
    column = SupplyCatalogEntry.model_key
    every = set(await uow.session.scalars(select(column)))
    if search.source == "packaged":
        return every, set()
    return every, set(await uow.session.scalars(select(column).where(*search.filters())))


def packaged_keys(catalog: PriceCatalog, search: Search, stored: set[str]) -> set[str]:
    """Return the packaged model keys that pass `search` and have no stored row."""
    if search.source == "override":
        return set()
    return {key for key, price in catalog.models.items() if key not in stored and search.matches(key, price)}


async def window_entries(uow: UnitOfWork, catalog: PriceCatalog, keys: list[str]) -> list[EntryOut]:
    """Return the entries of `keys`, in order: the stored row of a key, else its packaged model."""
    query = select(SupplyCatalogEntry).where(SupplyCatalogEntry.model_key.in_(keys))
    rows = {row.model_key: row for row in await uow.session.scalars(query)} if keys else {}
    return [EntryOut.of(rows[k]) if k in rows else packaged_entry(k, catalog.models[k]) for k in keys]


def plausible_key(model_key: str) -> bool:
    """Return whether `model_key` could be stored: 1..200 printable characters."""
    return 0 < len(model_key) <= MAX_KEY and model_key.isprintable()


def checked_key(model_key: str) -> str:
    """Return a model key a client sent; raise UserInputError for one that cannot be stored."""
    if not plausible_key(model_key):
        raise UserInputError(f"a model key is 1..{MAX_KEY} printable characters")
    return model_key


def packaged_model(catalog: PriceCatalog, model_key: str) -> EntryOut:
    """Return the packaged model `model_key` resolves to; raise NotFoundError when none does."""
    key = catalog.resolve(model_key) if plausible_key(model_key) else None
    if key is None:
        raise NotFoundError(f"model {model_key!r} is neither in the supply catalog nor in the price catalog")
    return packaged_entry(key, catalog.models[key])


@router.get("", response_model=Page[EntryOut])
async def list_entries(page: PageQuery, uow: Uow, resources: Resources,
                       q: Annotated[str, Query(max_length=MAX_KEY), AfterValidator(printable)] = "",
                       provider: Annotated[str, Query(max_length=100), AfterValidator(printable)] = "",
                       source: Source = "all") -> Page[EntryOut]:
    """List stored and packaged entries matching the filters, by model key."""
    search, catalog = Search(q, provider, source), await price_catalog(resources)
    every, stored = await stored_keys(uow, search)
    keys = sorted(stored | packaged_keys(catalog, search, every))[page.offset:page.offset + page.limit]
    return page_of(await window_entries(uow, catalog, keys), page)


@router.get("/{model_key:path}", response_model=EntryOut)
async def get_entry(model_key: str, uow: Uow, resources: Resources) -> EntryOut:
    """Return the stored entry of `model_key`, else the packaged model it resolves to (404 when neither)."""
    row = await uow.catalog.by_key(model_key) if plausible_key(model_key) else None
    if row is not None:
        return EntryOut.of(row)
    return packaged_model(await price_catalog(resources), model_key)


@router.put("/{model_key:path}", response_model=EntryOut, dependencies=with_role("admin"),
            responses={201: {"model": EntryOut, "description": "created"}})
async def put_entry(model_key: str, body: EntryIn, uow: Uow, response: Response) -> EntryOut:
    """Create (201) or replace (200) the stored entry of `model_key` (admin only)."""
    created = await uow.catalog.by_key(checked_key(model_key)) is None
    row = await uow.catalog.upsert(model_key, **body.model_dump())
    await uow.commit()
    response.status_code = 201 if created else 200
    return EntryOut.of(row)

