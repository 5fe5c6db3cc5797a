"""References of the signed-in user: documents or links the agents may cite.

    POST   /api/references                    {"name", "content"?, "url"?}   -> 201 reference
    GET    /api/references?limit=&offset=                                    -> page of my references, newest first
    GET    /api/references/{reference_id}                                    -> reference
    PATCH  /api/references/{reference_id}     {"name"?, "content"?, "url"?}  -> reference
    DELETE /api/references/{reference_id}                                    -> 204

A reference has a `name` (1..200 printable characters) and inline `content` (up to
1,000,000 characters), a `url` (http or https, up to 2,048 characters), or both. PATCH sets
the fields it names (`"url": null` removes the link); a change that would leave neither
content nor url answers 400. Every route needs a bearer token (401). A reference that is
missing or another user's answers 404 `not_found`; unknown fields and invalid values 422.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Response
from pydantic import AfterValidator, Field, model_validator

from netra.errors import UserInputError
from netra.persistence.models import Reference
from netra.persistence.repositories.base import NotFoundError
from netra.server.owned import Body, PageQuery, SignedIn, Uow, owned, plausible_id
from netra.server.pagination import Page, page_of
from netra.server.views import View

router = APIRouter(prefix="/api/references", tags=["references"])
MAX_NAME, MAX_URL, MAX_CONTENT = 200, 2048, 1_000_000
SCHEMES = frozenset({"http", "https"})


def printable(value: str) -> str:
    """Return `value` if it holds no control characters; raise otherwise."""
    if not value.isprintable():
        raise ValueError("must not hold control characters")
    return value


def without_nul(value: str) -> str:
    """Return `value` if it holds no NUL character (PostgreSQL text cannot); raise otherwise."""
    if "\x00" in value:
        raise ValueError("must not hold NUL characters")
    return value


def web_url(value: str) -> str:
    """Return `value` if it is an absolute http(s) URL with a host and no spaces; raise otherwise."""
    parts = urlsplit(value)
    if parts.scheme.lower() not in SCHEMES or not parts.hostname or not value.isprintable() or " " in value:
        raise ValueError("must be an absolute http:// or https:// URL")
    return value


Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME), AfterValidator(printable)]
Content = Annotated[str, Field(max_length=MAX_CONTENT), AfterValidator(without_nul)]
Url = Annotated[str, Field(max_length=MAX_URL), AfterValidator(web_url)]


class ReferenceIn(Body):
    """A new reference: a name, and content, a url or both."""

    name: Name
    content: Content = ""
    url: Url | None = None

    @model_validator(mode="after")
    def _something(self) -> ReferenceIn:
        if not (self.content or self.url):
            raise ValueError("send content, a url or both")
        return self


class ReferenceChange(Body):
    """A change to a reference: the fields named are set (`url: null` removes the link)."""

    name: Name | None = None
    content: Content | None = None
    url: Url | None = None

    @model_validator(mode="after")
    def _no_nulls(self) -> ReferenceChange:
        nulled = [key for key in ("name", "content") if key in self.model_fields_set and getattr(self, key) is None]
        if nulled:
            raise ValueError(f"{' and '.join(nulled)} cannot be null")
        return self

    def columns(self) -> dict[str, Any]:
        """Return the column values to set."""
        return self.model_dump(include=self.model_fields_set)


class ReferenceOut(View):
    """A reference as the API shows it."""

    id: str
    name: str
    content: str
    url: str | None
    created_at: datetime
    updated_at: datetime


def kept(reference: Reference) -> Reference:
    """Return `reference` if it still has content or a url; raise UserInputError otherwise."""
    if not (reference.content or reference.url):
        raise UserInputError("a reference needs content, a url or both: this change would leave neither")
    return reference


@router.post("", status_code=201, response_model=ReferenceOut)
async def create_reference(body: ReferenceIn, user: SignedIn, uow: Uow) -> ReferenceOut:
    """Create a reference of the signed-in user."""
    reference = await uow.references.create(user.user_id, **body.model_dump())
    await uow.commit()
    return ReferenceOut.of(reference)


@router.get("", response_model=Page[ReferenceOut])
async def list_references(page: PageQuery, user: SignedIn, uow: Uow) -> Page[ReferenceOut]:
    """List the signed-in user's references, newest first."""
    rows = await uow.references.list(user.user_id, limit=page.limit, offset=page.offset)
    return page_of([ReferenceOut.of(row) for row in rows], page)


@router.get("/{reference_id}", response_model=ReferenceOut)
async def get_reference(reference_id: str, user: SignedIn, uow: Uow) -> ReferenceOut:
    """Return one of the user's references (404 when missing or another user's)."""
    return ReferenceOut.of(await owned(uow.references, user.user_id, reference_id, "reference"))


@router.patch("/{reference_id}", response_model=ReferenceOut)
async def change_reference(reference_id: str, body: ReferenceChange, user: SignedIn, uow: Uow) -> ReferenceOut:
    """Set the named fields of one of the user's references."""
    await owned(uow.references, user.user_id, reference_id, "reference")
    reference = kept(await uow.references.update(user.user_id, reference_id, **body.columns()))
    await uow.commit()
    return ReferenceOut.of(reference)


@router.delete("/{reference_id}", status_code=204, response_class=Response)
async def delete_reference(reference_id: str, user: SignedIn, uow: Uow) -> Response:
    """Delete one of the user's references (404 when missing or another user's)."""
    if not (plausible_id(reference_id) and await uow.references.delete(user.user_id, reference_id)):
        raise NotFoundError("reference not found")
    await uow.commit()
    return Response(status_code=204)
