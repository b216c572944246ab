"""Append-only audit tables: the one definition of what the database enforces on them.

Every audit table (a model that records who created it: `api.models.Actor`) gets, from its migration:
- PostgreSQL: a row trigger refusing UPDATE and DELETE (also the UPDATE half of `INSERT … ON CONFLICT DO
  UPDATE`) and a statement trigger refusing TRUNCATE — which also stops `TRUNCATE customers CASCADE`,
  since a cascaded truncate fires the triggers of every table it reaches;
- SQLite: triggers refusing UPDATE and DELETE, and an INSERT trigger refusing a row that collides with an
  existing one on any unique key: `INSERT OR REPLACE` / `REPLACE INTO` would otherwise delete the old row
  without firing the DELETE trigger. (The service's connections also set `recursive_triggers`, which makes
  that hidden delete fire the DELETE trigger; the INSERT trigger does not depend on a connection setting.)
A colliding insert is refused with a constraint error, exactly as the unique constraint itself would.

The application's PostgreSQL role should hold only SELECT and INSERT on these tables (`api.dbrole`), so
even a compromised service cannot rewrite history; the triggers also hold against the tables' owner.
New audit tables call `append_only(...)` in their migration and are listed in `AUDIT_TABLES`.
"""

from __future__ import annotations

from collections.abc import Sequence

# table → its unique keys besides `id` (each a column list); the replace guard checks every one of them
AUDIT_TABLES: dict[str, tuple[tuple[str, ...], ...]] = {
    "risk_assessments": (),
    "proposals": (),
    "confirmations": (("proposal_id",), ("customer_id", "idempotency_key")),
    "mismatch_acknowledgements": (),
    "rebalance_plans": (("customer_id", "version"),),
    "rebalance_confirmations": (("plan_id",), ("customer_id", "idempotency_key")),
    "ledger_transactions": (("customer_id", "txn_id"),),  # row triggers since 0004_lifecycle
}

PG_FUNCTION = ("CREATE OR REPLACE FUNCTION advisor_append_only() RETURNS trigger AS $$ "
               "BEGIN RAISE EXCEPTION 'table % is append-only', TG_TABLE_NAME; END; $$ LANGUAGE plpgsql")


def row_guards(dialect: str, table: str) -> list[str]:
    """Refuse UPDATE and DELETE of any row."""
    if dialect == "postgresql":
        return [PG_FUNCTION, f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                             "FOR EACH ROW EXECUTE FUNCTION advisor_append_only()"]
    return [f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END" for action in ("UPDATE", "DELETE")]


def truncate_guard(dialect: str, table: str) -> list[str]:
    """PostgreSQL: refuse TRUNCATE (directly or cascaded). SQLite has no TRUNCATE."""
    if dialect != "postgresql":
        return []
    return [PG_FUNCTION, f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                         "FOR EACH STATEMENT EXECUTE FUNCTION advisor_append_only()"]


def replace_guard(dialect: str, table: str, unique_keys: Sequence[Sequence[str]] = ()) -> list[str]:
    """SQLite: refuse an insert colliding with an existing row on `id` or any of `unique_keys`."""
    if dialect != "sqlite":
        return []
    keys = [("id",), *(tuple(k) for k in unique_keys)]
    clash = " OR ".join("(" + " AND ".join(f"{c} = NEW.{c}" for c in key) + ")" for key in keys)
    return [f"CREATE TRIGGER {table}_no_replace BEFORE INSERT ON {table} "
            f"WHEN EXISTS (SELECT 1 FROM {table} WHERE {clash}) "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: a row with this key exists'); END"]


def append_only(dialect: str, table: str, unique_keys: Sequence[Sequence[str]] = ()) -> list[str]:
    """Everything a new audit table needs (run each statement with `op.execute`)."""
    return [*row_guards(dialect, table), *truncate_guard(dialect, table), *replace_guard(dialect, table, unique_keys)]


def drop_statements(dialect: str, table: str) -> list[str]:
    if dialect == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {table}_{name} ON {table}" for name in ("append_only", "no_truncate")]
    return [f"DROP TRIGGER IF EXISTS {table}_{name}" for name in ("no_update", "no_delete", "no_replace")]
