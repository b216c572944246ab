"""The application factory: `create_app(settings)` wires settings, database, universe and routers.

Start-up (lifespan) migrates the database, loads the universe and the questionnaire once, and compiles
the proposal optimizers, so requests only read shared, immutable state.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from starlette.middleware.gzip import GZipMiddleware

from api import core
from api.db import engine_for, make_session_factory, migrate
from api.errors import document_common_errors, install_error_handlers
from api.middleware import BodySizeLimit
from api.negotiation import ContentNegotiation
from api.routers import (
    alerts,
    customers,
    funds,
    goals,
    health,
    ledger,
    mismatch,
    portfolio,
    proposals,
    rebalance,
    risk,
    rm,
    sip_plans,
)
from api.settings import Settings, load_settings
from api.state import AppState
from api.web import install_pages
from products.universe import Universe

log = logging.getLogger("api")

DESCRIPTION = """Robo-advisory service (智能投顾) for retail banks: risk assessment, one-click fund proposals,
health checks, rebalancing and the relationship managers' worklist.

Every route under `/v1` needs `Authorization: Bearer <JWT>` with claims `sub` and `role`
(`customer` — own records only; `rm` — assigned customers; `ops` — everything). Errors always have the
shape `{code, message, details}`; `details.field` names the offending input."""


def build_state(settings: Settings, universe: Universe | None = None) -> AppState:
    from advisor.context_cache import warm_universe

    universe_given = universe
    engine = engine_for(settings)
    migrate(engine)
    # the universe with its research context from the context cache; with warm_up, a missing cache is built
    # and stored, so the next worker (and every CLI command, nightly worker) starts in about a second
    universe = universe if universe is not None else warm_universe(settings.data_dir, build=settings.warm_up)
    state = AppState(settings=settings, engine=engine, sessions=make_session_factory(engine), universe=universe,
                     questionnaire=core.load_questionnaire(), model_version=core.model_version())
    if universe_given is None:  # the served data: its simulated records are computed now if missing
        from advisor.simulation.record import prepare_records

        prepare_records(universe, settings.data_dir)
    if settings.warm_up:
        core.warm_up(universe)
        core.warm_diagnosis(universe)
    return state


def create_app(settings: Settings | None = None, universe: Universe | None = None) -> FastAPI:
    """The FastAPI app; `universe` overrides the data directory (tests)."""
    settings = settings or load_settings()
    settings.verification_key  # noqa: B018 - fail fast on a missing key

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if getattr(app.state, "advisor", None) is not None:  # built ahead (tests run many short clients)
            yield
            return
        app.state.advisor = build_state(settings, universe)
        log.info("ready: universe %s as of %s, questionnaire %s", app.state.advisor.universe.version,
                 app.state.advisor.universe.as_of, app.state.advisor.questionnaire_version)
        try:
            yield
        finally:
            app.state.advisor.engine.dispose()

    # Swagger UI and ReDoc from assets packaged with the service (fastapi-offline): no CDN on a bank network
    app = FastAPIOffline(title="Robo-advisor API", version="1.0.0", description=DESCRIPTION, lifespan=lifespan,
                         docs_url="/docs", redoc_url="/redoc", openapi_url="/openapi.json",
                         static_url="/docs-assets")
    install_error_handlers(app)
    for module in (health, risk, funds, proposals, mismatch, portfolio, rebalance, rm, customers, ledger, goals,
                   sip_plans, alerts):
        app.include_router(module.router)
    install_pages(app)
    document_common_errors(app)
    app.add_middleware(ContentNegotiation)  # language of texts, ETag / 304 for reference data
    app.add_middleware(GZipMiddleware, minimum_size=1024)  # large answers (fund lists, health checks)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    return app
