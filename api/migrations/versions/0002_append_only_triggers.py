"""append-only audit tables: the database itself refuses UPDATE and DELETE on them

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

AUDIT_TABLES = ("risk_assessments", "proposals", "confirmations", "mismatch_acknowledgements")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION advisor_append_only() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION 'table % is append-only', TG_TABLE_NAME; END; $$ LANGUAGE plpgsql"
        )
        for table in AUDIT_TABLES:
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                       "FOR EACH ROW EXECUTE FUNCTION advisor_append_only()")
    elif dialect == "sqlite":
        for table in AUDIT_TABLES:
            for action in ("UPDATE", "DELETE"):
                op.execute(f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                           f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in AUDIT_TABLES:
        if dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        elif dialect == "sqlite":
            for action in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{action}")
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS advisor_append_only()")
