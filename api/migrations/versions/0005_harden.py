"""harden: close append-only bypasses, idempotency keys per customer, revocable RM assignments, on-behalf acts

- every audit table: PostgreSQL refuses TRUNCATE (also cascaded); SQLite refuses INSERT OR REPLACE /
  REPLACE INTO over an existing row (api.audit)
- confirmations: the Idempotency-Key is unique per customer, not across customers
- rm_assignments: revoked by stamping revoked_at / revoked_by (history kept); one active row per RM and customer
- assessments, confirmations, mismatch acknowledgements, rebalancing confirmations, SIP plans: acting_capacity and
  assisted_session_id record in what capacity the act was performed (rows before this: 'unrecorded')

Revision ID: 0005_harden
Revises: 0004_lifecycle
Create Date: 2026-12-04
"""
from alembic import op
import sqlalchemy as sa

from api import audit

revision = "0005_harden"
down_revision = "0004_lifecycle"
branch_labels = None
depends_on = None

ON_BEHALF_TABLES = ("risk_assessments", "confirmations", "mismatch_acknowledgements", "rebalance_confirmations",
                    "sip_plans")
ACTIVE = sa.text("revoked_at IS NULL")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in ON_BEHALF_TABLES:  # plain ADD COLUMN on both databases: the tables and triggers stay as they are
        op.add_column(table, sa.Column("acting_capacity", sa.String(length=16), nullable=False,
                                       server_default="unrecorded"))
        op.add_column(table, sa.Column("assisted_session_id", sa.String(length=64), nullable=True))
    # SQLite rebuilds the table to change a constraint, which drops its triggers: they are re-created below
    with op.batch_alter_table("confirmations") as batch:
        batch.drop_constraint("uq_confirmations_idempotency_key", type_="unique")
        batch.create_unique_constraint("uq_confirmations_customer_key", ["customer_id", "idempotency_key"])
    if dialect == "sqlite":
        for statement in audit.row_guards(dialect, "confirmations"):
            op.execute(statement)
    with op.batch_alter_table("rm_assignments") as batch:
        batch.add_column(sa.Column("created_by", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("revoked_by", sa.String(length=64), nullable=True))
        batch.drop_constraint("uq_rm_assignments_rm_customer", type_="unique")
    op.create_index("uq_rm_assignments_active", "rm_assignments", ["rm_id", "customer_id"], unique=True,
                    sqlite_where=ACTIVE, postgresql_where=ACTIVE)
    for table, keys in audit.AUDIT_TABLES.items():
        for statement in [*audit.truncate_guard(dialect, table), *audit.replace_guard(dialect, table, keys)]:
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in audit.AUDIT_TABLES:
        if dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_replace")
    op.drop_index("uq_rm_assignments_active", table_name="rm_assignments")
    with op.batch_alter_table("rm_assignments") as batch:
        batch.create_unique_constraint("uq_rm_assignments_rm_customer", ["rm_id", "customer_id"])
        batch.drop_column("revoked_by")
        batch.drop_column("revoked_at")
        batch.drop_column("created_by")
    with op.batch_alter_table("confirmations") as batch:
        batch.drop_constraint("uq_confirmations_customer_key", type_="unique")
        batch.create_unique_constraint("uq_confirmations_idempotency_key", ["idempotency_key"])
    for table in ON_BEHALF_TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("assisted_session_id")
            batch.drop_column("acting_capacity")
    if dialect == "sqlite":  # batch mode rebuilt the audit tables among them without their triggers
        for table in (t for t in ON_BEHALF_TABLES if t in audit.AUDIT_TABLES):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
            for statement in audit.row_guards(dialect, table):
                op.execute(statement)
