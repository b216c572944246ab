"""The PostgreSQL role the service runs as: only the privileges it needs, never TRUNCATE.

Migrations run as the schema owner (`alembic -c api/alembic.ini upgrade head`, or a start-up of the service
under the owner); the service then connects as an application role that holds
- on audit tables (`api.audit.AUDIT_TABLES`): SELECT and INSERT only — history cannot be rewritten or
  emptied even with the service's own credentials;
- on the other tables (customer facts, positions, RM assignments): SELECT, INSERT, UPDATE, DELETE;
- on `alembic_version`: SELECT (a start-up at head reads it and changes nothing);
- nowhere TRUNCATE, REFERENCES, TRIGGER or DDL.
The triggers installed by the migrations hold even against the owner; the role is the second wall.

Print the grants for a role (created beforehand by the DBA, with its own password):
    python -m api.dbrole advisor_app
"""

from __future__ import annotations

import re
import sys

from api.audit import AUDIT_TABLES
from api.models import Base

ROLE_PATTERN = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
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


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m api.dbrole ROLE   (prints the GRANT statements for the service's role)",
              file=sys.stderr)
        return 2
    try:
        statements = grant_statements(argv[0])
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(";\n".join(statements) + ";")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
