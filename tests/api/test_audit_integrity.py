"""Audit history cannot be rewritten or emptied behind the API's back, on SQLite and PostgreSQL.

Regression tests for #15 item 3: SQLite `INSERT OR REPLACE` / `REPLACE INTO` rewrote audit rows (the
hidden delete fired no trigger) and PostgreSQL `TRUNCATE … CASCADE` emptied every audit table.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from api import dbrole
from api.audit import AUDIT_TABLES
from api.db import make_engine
from tests.api.conftest import (
    assess,
    drop_postgres_database,
    fresh_postgres_database,
    new_customer_id,
    postgres_url,
)


@pytest.fixture(scope="module")
def history(client, tokens) -> dict[str, str]:
    """A customer with an assessment, a proposal and its confirmation: rows in three audit tables."""
    cid = new_customer_id("audit")
    assess(client, tokens, cid)
    proposal = client.post(f"/v1/customers/{cid}/proposals", headers=tokens.customer(cid),
                           json={"amount": 50_000, "horizon_years": 3})
    assert proposal.status_code == 201, proposal.text
    confirmed = client.post(f"/v1/proposals/{proposal.json()['id']}/confirm",
                            headers={**tokens.customer(cid), "Idempotency-Key": "audit-" + cid})
    assert confirmed.status_code == 201, confirmed.text
    return {"customer_id": cid}


def counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in AUDIT_TABLES}


def rewrite_of_first_row(engine, table: str, dialect: str) -> str:
    """An upsert that writes the table's first row again with another author."""
    columns = [c["name"] for c in inspect(engine).get_columns(table)]
    listed = ", ".join(columns)
    chosen = ", ".join("'intruder'" if c == "created_by" else c for c in columns)
    first = f"SELECT {chosen} FROM {table} ORDER BY id LIMIT 1"
    if dialect == "sqlite":
        return f"INSERT OR REPLACE INTO {table} ({listed}) {first}"
    return f"INSERT INTO {table} ({listed}) {first} ON CONFLICT (id) DO UPDATE SET created_by = 'intruder'"


def test_every_audit_table_carries_its_guards(db_url, history):
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                names = {r[0] for r in conn.execute(text("SELECT name FROM sqlite_master WHERE type='trigger'"))}
                wanted = {f"{t}_{g}" for t in AUDIT_TABLES for g in ("no_update", "no_delete", "no_replace")}
            else:
                names = {r[0] for r in conn.execute(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"))}
                wanted = {f"{t}_{g}" for t in AUDIT_TABLES for g in ("append_only", "no_truncate")}
        assert wanted <= names, sorted(wanted - names)
    finally:
        engine.dispose()


def test_upserts_cannot_rewrite_audit_rows(db_url, history):
    engine = make_engine(db_url)
    try:
        before = counts(engine)
        filled = [t for t, n in before.items() if n]
        assert {"risk_assessments", "proposals", "confirmations"} <= set(filled)
        for table in filled:
            with pytest.raises(DBAPIError), engine.begin() as conn:
                conn.execute(text(rewrite_of_first_row(engine, table, engine.dialect.name)))
            if engine.dialect.name == "sqlite":
                with pytest.raises(DBAPIError), engine.begin() as conn:
                    conn.execute(text(rewrite_of_first_row(engine, table, "sqlite").replace(
                        "INSERT OR REPLACE INTO", "REPLACE INTO")))
        assert counts(engine) == before
        with engine.connect() as conn:
            for table in filled:
                assert not conn.execute(text(f"SELECT count(*) FROM {table} WHERE created_by = 'intruder'")
                                        ).scalar_one(), table
    finally:
        engine.dispose()


def test_truncate_is_refused_even_cascaded(db_url, history):
    engine = make_engine(db_url)
    if engine.dialect.name != "postgresql":
        engine.dispose()
        pytest.skip("SQLite has no TRUNCATE (DELETE is refused by the row triggers)")
    try:
        before = counts(engine)
        for statement in ["TRUNCATE customers CASCADE", *(f"TRUNCATE {t} CASCADE" for t in AUDIT_TABLES)]:
            with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
                conn.execute(text(statement))
        assert counts(engine) == before
    finally:
        engine.dispose()


def test_the_application_role_works_and_cannot_rewrite_history(demo_universe):
    """The service runs under the role of `api.dbrole` (SELECT + INSERT on audit tables); as that role,
    TRUNCATE / DELETE / UPDATE of history are refused by the database's privileges, whatever the triggers."""
    base = postgres_url()
    if base is None:
        pytest.skip("needs ADVISOR_TEST_POSTGRES_URL")
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.settings import Settings
    from tests.api.conftest import UNLIMITED, Tokens

    role = f"advisor_app_{uuid.uuid4().hex[:8]}"
    password = "pw:'quoted' %s " + uuid.uuid4().hex  # quotes, a colon and a percent survive the deploy step
    owner_url = fresh_postgres_database(base)
    owner = make_engine(owner_url)
    admin = create_engine(make_url(owner_url), isolation_level="AUTOCOMMIT")
    try:
        done = dbrole.apply(owner_url, role, password)  # the deploy step: migrate, create the role, grant
        assert done[0].startswith("schema migrated") and f"role {role} created (LOGIN)" in done
        again = dbrole.apply(owner_url, role, None)  # idempotent: the role exists, no password needed
        assert not any("created" in line for line in again)
        app_url = make_url(owner_url).set(username=role, password=password).render_as_string(hide_password=False)
        settings = Settings(database_url=app_url, demo=True, jwt_secret="role-secret-0123456789abcdef0123456789",
                            data_dir=None, **UNLIMITED)
        tokens = Tokens(settings)
        with TestClient(create_app(settings, universe=demo_universe)) as client:  # start-up at head: no DDL
            cid = new_customer_id("role")
            assert client.put(f"/v1/customers/{cid}", headers=tokens.ops(),
                              json={"rm_ids": ["rm-role"], "age": 40}).status_code == 200
            assess(client, tokens, cid)
            proposal = client.post(f"/v1/customers/{cid}/proposals", headers=tokens.customer(cid),
                                   json={"amount": 20_000, "horizon_years": 2})
            assert proposal.status_code == 201, proposal.text
            assert client.post(f"/v1/proposals/{proposal.json()['id']}/confirm",
                               headers={**tokens.customer(cid), "Idempotency-Key": "role-" + cid}
                               ).status_code == 201
            assert client.delete(f"/v1/customers/{cid}/rm-assignments/rm-role", headers=tokens.ops()
                                 ).status_code == 204
        as_app = make_engine(app_url)
        try:
            for statement in ("TRUNCATE risk_assessments", "TRUNCATE customers CASCADE",
                              "DELETE FROM confirmations", "UPDATE proposals SET created_by = 'x'"):
                with pytest.raises(DBAPIError, match="permission denied"), as_app.begin() as conn:
                    conn.execute(text(statement))
        finally:
            as_app.dispose()
    finally:
        owner.dispose()
        admin.dispose()
        drop_postgres_database(owner_url)
        cleanup = create_engine(make_url(owner_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
        with cleanup.connect() as conn:
            conn.execute(text(f"DROP ROLE IF EXISTS {role}"))
        cleanup.dispose()


def test_the_role_command_prints_grants_and_refuses_what_it_cannot_do(capsys, monkeypatch, tmp_path):
    """`python -m api.dbrole ROLE` prints the grants; `--apply` needs the owner's URL, a PostgreSQL one, and
    says so in one line (exit 2), never with a trace."""
    assert dbrole.main(["advisor_app"]) == 0
    printed = capsys.readouterr().out
    assert "GRANT SELECT, INSERT ON confirmations TO advisor_app" in printed and "TRUNCATE" not in printed
    assert dbrole.main(["Robert'); DROP TABLE x"]) == 2
    assert "role name" in capsys.readouterr().err
    monkeypatch.delenv("ADVISOR_DATABASE_URL", raising=False)
    assert dbrole.main(["advisor_app", "--apply"]) == 2
    assert "ADVISOR_DATABASE_URL" in capsys.readouterr().err
    monkeypatch.setenv("ADVISOR_DATABASE_URL", f"sqlite:///{tmp_path / 'a.db'}")
    assert dbrole.main(["advisor_app", "--apply"]) == 2
    assert "PostgreSQL" in capsys.readouterr().err
