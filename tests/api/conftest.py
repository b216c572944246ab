"""API test fixtures: the app on SQLite and (when `ADVISOR_TEST_POSTGRES_URL` is set) on PostgreSQL.

Each backend gets a fresh database per test module; tests use distinct customer ids so they can share it.
Under CI (`CI` set) a missing PostgreSQL URL fails the PostgreSQL half instead of skipping it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from api.app import create_app
from api.auth import Role, mint_token
from api.settings import Settings

POSTGRES_ENV = "ADVISOR_TEST_POSTGRES_URL"
BACKENDS = ["sqlite", "postgres"]

# Functional tests write far faster than a person; the rate limits have their own tests.
UNLIMITED = {"write_rate_per_minute": 0, "ops_write_rate_per_minute": 0}

# Answers that the v1 questionnaire scores as a mid-level investor; tests read the level from the answer.
MODERATE = "C"


def postgres_url() -> str | None:
    return os.environ.get(POSTGRES_ENV) or None


def fresh_postgres_database(base_url: str) -> str:
    """A new, empty database on the test server (dropped by `drop_postgres_database`)."""
    from sqlalchemy.engine import make_url

    url = make_url(base_url)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    name = f"advisor_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(db_url: str) -> None:
    from sqlalchemy.engine import make_url

    url = make_url(db_url)
    name = url.database
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def database_url(backend: str, tmp_dir: Path) -> tuple[str, bool]:
    """(url, needs_drop) for `backend`; skips or fails the PostgreSQL half when no server is configured."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_dir / 'advisor.db'}", False
    base = postgres_url()
    if base is None:
        message = f"PostgreSQL tests need {POSTGRES_ENV} (scripts/postgres.sh starts a server)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return fresh_postgres_database(base), True


@pytest.fixture(scope="module", params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url, drop = database_url(request.param, tmp_path_factory.mktemp(f"db_{request.param}"))
    yield url
    if drop:
        drop_postgres_database(url)


@pytest.fixture(scope="module")
def settings(db_url: str) -> Settings:
    return Settings(database_url=db_url, demo=True, jwt_secret="test-secret-0123456789abcdef0123456789",
                    proposal_ttl_minutes=30, data_dir=None, **UNLIMITED)


@pytest.fixture(scope="module")
def client(settings: Settings, demo_universe) -> Iterator[TestClient]:
    app = create_app(settings, universe=demo_universe)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


class Tokens:
    """Bearer headers for each role."""

    def __init__(self, settings: Settings):
        self.settings = settings

    def headers(self, role: Role | str, sub: str, **kw: object) -> dict[str, str]:
        return {"Authorization": f"Bearer {mint_token(self.settings, role, sub, **kw)}"}

    def customer(self, cid: str) -> dict[str, str]:
        return self.headers(Role.CUSTOMER, cid)

    def rm(self, rm_id: str) -> dict[str, str]:
        return self.headers(Role.RM, rm_id)

    def ops(self) -> dict[str, str]:
        return self.headers(Role.OPS, "ops-1")


@pytest.fixture(scope="module")
def tokens(settings: Settings) -> Tokens:
    return Tokens(settings)


def new_customer_id(prefix: str = "c") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def answers_for(client: TestClient, headers: dict[str, str], pick: str = MODERATE) -> dict[str, str]:
    """A complete answer set choosing option `pick` where it exists (else the last option)."""
    qn = client.get("/v1/risk/questionnaire", headers=headers).json()
    out = {}
    for q in qn["questions"]:
        ids = [o["id"] for o in q["options"]]
        out[q["id"]] = pick if pick in ids else ids[-1]
    return out


def assess(client: TestClient, tokens: Tokens, cid: str, pick: str = MODERATE) -> dict:
    headers = tokens.customer(cid)
    response = client.post(f"/v1/customers/{cid}/risk-assessments", headers=headers,
                           json={"answers": answers_for(client, headers, pick)})
    assert response.status_code == 201, response.text
    return response.json()


def insert_expired_assessment(db_url: str, cid: str, level: int = 3) -> None:
    """An assessment that expired yesterday, written straight to the database (as an old record would be)."""
    from api.db import make_engine
    from api.models import Customer, RiskAssessment

    engine = make_engine(db_url)
    from sqlalchemy.orm import Session

    now = datetime.now(UTC) - timedelta(days=400)
    with Session(engine) as session:
        if session.get(Customer, cid) is None:
            session.add(Customer(id=cid, cash=0.0, deposits=0.0, wealth_products=0.0, insurance=0.0,
                                 created_at=now, updated_at=now))
        session.add(RiskAssessment(id=str(uuid.uuid4()), customer_id=cid, level=level, score=50.0,
                                   lowest_category=False, assessed_at=now, expires_on=date.today() - timedelta(days=1),
                                   questionnaire_version="v1", answers={}, facts={}, result={"level": f"C{level}"},
                                   created_by_role="customer", created_by=cid, created_at=now))
        session.commit()
    engine.dispose()
