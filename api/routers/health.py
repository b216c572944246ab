"""Liveness and readiness (no token needed)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.db import ping
from api.deps import State
from api.schemas.common import Health, Readiness

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health, summary="Liveness: the process answers")
async def health() -> Health:
    """On the event loop, touching nothing: answers even while every worker thread waits on the database."""
    return Health(status="ok")


@router.get("/ready", response_model=Readiness, summary="Readiness: data loaded and database reachable",
            responses={503: {"model": Readiness, "description": "not ready"}})
def ready(state: State) -> JSONResponse:
    database = ping(state.engine)
    loaded = state.universe is not None and len(state.universe.funds) > 0
    body = Readiness(status="ready" if database and loaded else "not_ready", database=database,
                     universe_loaded=loaded, universe_version=state.universe.version if loaded else None,
                     universe_as_of=str(state.universe.as_of) if loaded else None,
                     questionnaire_version=state.questionnaire_version)
    return JSONResponse(body.model_dump(), status_code=200 if body.status == "ready" else 503)
