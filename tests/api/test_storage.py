"""Storage: migrations reproduce the models exactly, run twice safely, and keep audit tables append-only."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from api.db import make_engine, migrate
from api.models import Base


def test_migrations_match_the_models_and_are_idempotent(db_url):
    engine = make_engine(db_url)
    try:
        migrate(engine)
        migrate(engine)  # a second start-up finds nothing to do
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
            version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        assert diff == [], diff
        from alembic.script import ScriptDirectory

        from api.db import alembic_config

        heads = ScriptDirectory.from_config(alembic_config(engine)).get_heads()
        assert heads == [version], f"one migration head expected (set down_revision to main's head): {heads}"
        tables = set(inspect(engine).get_table_names())
        assert {"risk_assessments", "proposals", "confirmations", "mismatch_acknowledgements", "rebalance_plans",
                "rebalance_confirmations"} <= tables
    finally:
        engine.dispose()


def test_unique_constraints_that_make_confirmation_exactly_once(db_url):
    engine = make_engine(db_url)
    try:
        migrate(engine)
        uniques = {tuple(u["column_names"]) for u in inspect(engine).get_unique_constraints("confirmations")}
        assert ("proposal_id",) in uniques and ("customer_id", "idempotency_key") in uniques
    finally:
        engine.dispose()
