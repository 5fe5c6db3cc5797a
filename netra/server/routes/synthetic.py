"""Synthetic data jobs: generate a scenario's workload into the analytics store, in the background.

    GET  /api/synthetic/scenarios?limit=&offset=   page of {"name", "features": {feature: share}, "planted": [kind]}
    POST /api/synthetic/jobs   (admin or developer)
         {"scenario", "events": 1..2000000, "seed": 7, "days": 14.0, "append": false}
         -> 202 {"job_id", "status": "queued", "location"}, header `Location: /api/synthetic/jobs/{job_id}`
    GET  /api/synthetic/jobs?limit=&offset=         page of my jobs, newest first
    GET  /api/synthetic/jobs/{job_id}               the job

A job is `queued`, then `running` once it holds the store (loads run one at a time:
embedded chDB serves one writer), then `done` or `failed`. It answers `events_done` of
`events_total` as chunks land, its times, `error` when it failed, and when done the
`manifest` summary: the scenario's costs, each planted inefficiency (`kind`, `feature`,
`model`, `affected_events`, `window_saving_usd`, `monthly_saving_usd`) and their totals
`planted_window_saving_usd` and `planted_monthly_saving_usd` (see docs/scenarios.md).
The events go to the request's workspace; unless `append`, that workspace's events are
deleted before the load (other workspaces keep theirs).

Every route needs a bearer token (401); starting a job needs the `admin` or `developer`
role, and a workspace role that writes (403 for a viewer). An unknown scenario or unusable
`days` answers 400 (`check_arguments`'s message), out-of-range fields 422. A job is visible
in its workspace to its creator and to admins only: any other job id answers 404. Jobs live in the process (`AppResources.jobs`): a restart forgets
them, and stops a running one, while the events already loaded stay in the store.
"""

from __future__ import annotations

import logging
import threading
import uuid
from datetime import datetime, timezone
from typing import Annotated, Any, Callable, Literal

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, Field

from netra.errors import NetraError
from netra.persistence.models.users import Role
from netra.persistence.repositories.base import NotFoundError
from netra.persistence.uow import UnitOfWork
from netra.server.deps import AppResources, get_resources, signed_in
from netra.server.membership import Member
from netra.server.owned import Body, PageQuery, SignedIn, Uow
from netra.server.pagination import Page, page_of
from netra.server.routes.admin import with_role
from netra.workloads.synthetic import FEATURES, SCENARIOS, check_arguments, generate_and_load
from netra.workloads.synthetic.specs import scenario_shares

router = APIRouter(prefix="/api/synthetic", tags=["synthetic"], dependencies=[Depends(signed_in)])
Resources = Annotated[AppResources, Depends(get_resources)]
LOG = logging.getLogger("netra.server.synthetic")
KIND = "synthetic"  # jobs of other kinds may share `AppResources.jobs`
MAX_EVENTS = 2_000_000
SUMMARY_KEYS = ("scenario", "seed", "events", "days", "start", "end", "span_days", "catalog_version",
                "total_cost_usd", "monthly_cost_usd", "features")
PLANTED_KEYS = ("kind", "feature", "model", "affected_events", "window_saving_usd", "monthly_saving_usd")
Status = Literal["queued", "running", "done", "failed"]


class JobIn(Body):
    """What to generate: a scenario, how many events, the seed, the days they span; whether to append."""

    scenario: str = Field(max_length=100)
    events: int = Field(ge=1, le=MAX_EVENTS)
    seed: int = Field(7, ge=0, le=2**63 - 1)
    days: float = Field(14.0, le=3650)
    append: bool = False


class JobAccepted(BaseModel):
    """The answer of a started job."""

    job_id: str
    status: Status
    location: str


class JobOut(BaseModel):
    """A job's state."""

    job_id: str
    status: Status
    scenario: str
    seed: int
    days: float
    append: bool
    events_done: int
    events_total: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None
    manifest: dict[str, Any] | None


class ScenarioOut(BaseModel):
    """A scenario: each feature's share of the events, and the inefficiencies it plants."""

    name: str
    features: dict[str, float]
    planted: list[str]


def now() -> datetime:
    """Return the current time in UTC."""
    return datetime.now(timezone.utc)


def scenario_out(name: str) -> ScenarioOut:
    """Return what `GET /api/synthetic/scenarios` says of one scenario."""
    shares = {feature: round(share, 6) for feature, share in scenario_shares(name).items()}
    planted = sorted({FEATURES[feature].kind for feature in shares if FEATURES[feature].kind})
    return ScenarioOut(name=name, features=shares, planted=planted)


def manifest_summary(manifest: dict[str, Any]) -> dict[str, Any]:
    """Return a manifest's costs, its planted inefficiencies and their saving totals."""
    planted = [{key: item[key] for key in PLANTED_KEYS} for item in manifest["inefficiencies"]]
    totals = {f"planted_{key}": sum(item[key] for item in planted) for key in ("window_saving_usd",
                                                                              "monthly_saving_usd")}
    return {**{key: manifest[key] for key in SUMMARY_KEYS}, **totals, "inefficiencies": planted}


def new_job(body: JobIn, user: Member) -> dict[str, Any]:
    """Return the record of a job just queued by `user`, in their workspace."""
    return {"job_id": uuid.uuid4().hex, "kind": KIND, "owner_id": user.user_id, "workspace_id": user.workspace_id,
            "status": "queued",
            **body.model_dump(), "events_done": 0, "events_total": body.events, "created_at": now(),
            "started_at": None, "finished_at": None, "error": None, "manifest": None}


def progress_of(job: dict[str, Any]) -> Callable[[int, int], None]:
    """Return the progress callback that records loaded events on `job`."""
    return lambda done, total: job.update(events_done=done, events_total=total)


def load_workload(resources: AppResources, job: dict[str, Any], body: JobIn) -> dict[str, Any]:
    """Hold the store, empty the job's workspace unless appending, generate and load; return the manifest."""
    store, catalog = resources.opened()
    with resources.lock:
        job.update(status="running", started_at=now())
        if not body.append:
            store.delete_workspace(job["workspace_id"])
        return generate_and_load(store, catalog, body.scenario, body.events, body.seed, body.days,
                                 progress=progress_of(job), workspace_id=job["workspace_id"])


def failure(job: dict[str, Any], exc: Exception) -> str:
    """Return what a failed job says of its cause: Netra's message, else only the exception's type."""
    if isinstance(exc, NetraError):
        return str(exc)
    LOG.error("synthetic job %s failed: %s", job["job_id"], type(exc).__name__)
    return f"internal error ({type(exc).__name__}); the server log has the job id"


def run_job(resources: AppResources, job: dict[str, Any], body: JobIn) -> None:
    """Run a job to its end in this thread; every outcome lands on the job record."""
    try:
        manifest = load_workload(resources, job, body)
        job.update(status="done", manifest=manifest_summary(manifest), finished_at=now())
    except Exception as exc:  # a background thread: no caller to raise to
        job.update(status="failed", error=failure(job, exc), finished_at=now())


def start(resources: AppResources, job: dict[str, Any], body: JobIn) -> None:
    """Register `job` and run it in a background thread."""
    resources.jobs[job["job_id"]] = job
    threading.Thread(target=run_job, args=(resources, job, body), name=f"synthetic-{job['job_id'][:8]}",
                     daemon=True).start()


async def visible(job: Any, user: Member, uow: UnitOfWork) -> bool:
    """Return whether `job` is a synthetic job of `user`'s workspace they may see: its creator, or an admin now."""
    if not isinstance(job, dict) or job.get("kind") != KIND or job.get("workspace_id") != user.workspace_id:
        return False
    if job["owner_id"] == user.user_id:
        return True
    stored = await uow.users.get(user.user_id)
    return stored is not None and stored.role == Role.ADMIN.value


def jobs_of(resources: AppResources, user: Member) -> list[dict[str, Any]]:
    """Return the synthetic jobs `user` created in their workspace, newest first."""
    mine = [job for job in list(resources.jobs.values()) if isinstance(job, dict) and job.get("kind") == KIND
            and job["owner_id"] == user.user_id and job.get("workspace_id") == user.workspace_id]
    return sorted(mine, key=lambda job: (job["created_at"], job["job_id"]), reverse=True)


@router.get("/scenarios", response_model=Page[ScenarioOut])
def list_scenarios(page: PageQuery) -> Page[ScenarioOut]:
    """List the scenarios a job can generate."""
    names = SCENARIOS[page.offset:page.offset + page.limit]
    return page_of([scenario_out(name) for name in names], page)


@router.post("/jobs", status_code=202, response_model=JobAccepted, dependencies=with_role("admin", "developer"))
async def start_job(body: JobIn, user: SignedIn, resources: Resources, response: Response) -> JobAccepted:
    """Check the arguments, queue the job and start it; answer where to poll it."""
    check_arguments(body.scenario, body.events, body.days)
    job = new_job(body, user)
    start(resources, job, body)
    response.headers["Location"] = location = f"/api/synthetic/jobs/{job['job_id']}"
    return JobAccepted(job_id=job["job_id"], status="queued", location=location)


@router.get("/jobs", response_model=Page[JobOut])
async def list_jobs(page: PageQuery, user: SignedIn, resources: Resources) -> Page[JobOut]:
    """List the signed-in user's jobs, newest first."""
    window = jobs_of(resources, user)[page.offset:page.offset + page.limit]
    return page_of([JobOut.model_validate(job) for job in window], page)


@router.get("/jobs/{job_id}", response_model=JobOut)
async def get_job(job_id: str, user: SignedIn, resources: Resources, uow: Uow) -> JobOut:
    """Return a job (404 when unknown, or neither the caller's nor asked for by an admin)."""
    job = resources.jobs.get(job_id)
    if not await visible(job, user, uow):
        raise NotFoundError("job not found")
    return JobOut.model_validate(job)
