"""The PostgreSQL role the service runs as: only the privileges it needs, never TRUNCATE.

Migrations run as the schema owner (`alembic -c api/alembic.ini upgrade head`, or a start-up of the service
under the owner); the service then connects as an application role that holds
- on audit tables (`api.audit.AUDIT_TABLES`): SELECT and INSERT only — history cannot be rewritten or
  emptied even with the service's own credentials;
- on the other tables (customer facts, positions, RM assignments): SELECT, INSERT, UPDATE, DELETE;
- on `alembic_version`: SELECT (a start-up at head reads it and changes nothing);
- nowhere TRUNCATE, REFERENCES, TRIGGER or DDL.
The triggers installed by the migrations hold even against the owner; the role is the second wall.

Deploy (as the schema owner: migrate to the latest schema, create the role when it does not exist — its
password from the environment, never the command line — and grant exactly the above, in one transaction;
running it again changes nothing):
    ADVISOR_DATABASE_URL=postgresql://owner@db/advisor ADVISOR_APP_DB_PASSWORD=... \
        python -m api.dbrole advisor_app --apply
Print the grants only (for a DBA who creates the role and runs them by hand):
    python -m api.dbrole advisor_app
"""

from __future__ import annotations

import argparse
import os
import re
import sys

from api.audit import AUDIT_TABLES
from api.models import Base

ROLE_PATTERN = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
PASSWORD_ENV = "ADVISOR_APP_DB_PASSWORD"
AUDIT_PRIVILEGES = "SELECT, INSERT"
MUTABLE_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"


def grant_statements(role: str) -> list[str]:
    """SQL that gives `role` exactly the service's privileges on the current schema (run as the owner)."""
    if not ROLE_PATTERN.match(role):
        raise ValueError(f"role name {role!r}: lowercase letters, digits and _ only")
    tables = sorted(Base.metadata.tables)
    unknown = set(AUDIT_TABLES) - set(tables)
    if unknown:
        raise ValueError(f"audit tables missing from the models: {sorted(unknown)}")
    statements = [f"GRANT USAGE ON SCHEMA public TO {role}",
                  f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}",
                  f"GRANT SELECT ON alembic_version TO {role}"]
    for table in tables:
        privileges = AUDIT_PRIVILEGES if table in AUDIT_TABLES else MUTABLE_PRIVILEGES
        statements.append(f"GRANT {privileges} ON {table} TO {role}")
    statements.append(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}")
    return statements


def apply(owner_url: str, role: str, password: str | None = None) -> list[str]:
    """Migrate to the latest schema and install the application role on PostgreSQL, as the owner: create
    the role (LOGIN, `password`) when it does not exist, then the grants, in one transaction. Returns what it
    did, one line each. Idempotent."""
    from sqlalchemy import text

    from api.db import make_engine, migrate

    statements = grant_statements(role)  # validates the name before anything touches the database
    engine = make_engine(owner_url, statement_timeout=600.0)
    try:
        if engine.dialect.name != "postgresql":
            raise ValueError("the application role is a PostgreSQL feature; SQLite has no roles")
        migrate(engine)
        done = ["schema migrated to the latest revision"]
        with engine.begin() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first()
            if exists is None:
                if not password:
                    raise ValueError(f"role {role} does not exist: set {PASSWORD_ENV} to create it")
                conn.exec_driver_sql(f"CREATE ROLE {role} LOGIN PASSWORD {_literal(password)}")  # no binds here
                done.append(f"role {role} created (LOGIN)")
            for statement in statements:
                conn.execute(text(statement))
            done.append(f"{len(statements)} grants applied to {role}")
        return done
    finally:
        engine.dispose()


def _literal(value: str) -> str:
    """A SQL string literal (CREATE ROLE takes no bind parameters)."""
    if "\x00" in value:
        raise ValueError("the password must not contain NUL")
    return "'" + value.replace("'", "''") + "'"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m api.dbrole",
                                     description="The service's PostgreSQL role: print its grants, or --apply them.")
    parser.add_argument("role", help="role name (lowercase letters, digits, _)")
    parser.add_argument("--apply", action="store_true",
                        help="as the owner in ADVISOR_DATABASE_URL: migrate, create the role if missing "
                             f"(password from {PASSWORD_ENV}) and grant")
    args = parser.parse_args(argv)
    try:
        if not args.apply:
            print(";\n".join(grant_statements(args.role)) + ";")
            return 0
        url = os.environ.get("ADVISOR_DATABASE_URL")
        if not url:
            raise ValueError("ADVISOR_DATABASE_URL (the schema owner's URL) is not set")
        for line in apply(url, args.role, os.environ.get(PASSWORD_ENV)):
            print(line)
        return 0
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # a deploy step reports the database's reason, not a trace
        print(f"error: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
