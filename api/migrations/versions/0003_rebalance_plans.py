"""rebalancing plans and their confirmations: versioned, expiring, append-only, confirmed exactly once

Revision ID: 0003_rebalance_plans
Revises: 0002
Create Date: 2026-12-04
"""
from alembic import op
import sqlalchemy as sa

revision = "0003_rebalance_plans"
down_revision = "0002"
branch_labels = None
depends_on = None

TABLES = ("rebalance_plans", "rebalance_confirmations")


def upgrade() -> None:
    op.create_table(
        "rebalance_plans",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("assessment_id", sa.String(length=36), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("lowest_category", sa.Boolean(), nullable=False),
        sa.Column("plan_status", sa.String(length=24), nullable=False),
        sa.Column("cash_flow", sa.Float(), nullable=False),
        sa.Column("holdings_source", sa.String(length=16), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("universe_version", sa.String(length=32), nullable=False),
        sa.Column("questionnaire_version", sa.String(length=32), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("created_by_role", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["assessment_id"], ["risk_assessments.id"],
                                name=op.f("fk_rebalance_plans_assessment_id_risk_assessments")),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name=op.f("fk_rebalance_plans_customer_id_customers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rebalance_plans")),
        sa.UniqueConstraint("customer_id", "version", name="uq_rebalance_plans_customer_version"),
    )
    op.create_index("ix_rebalance_plans_customer_time", "rebalance_plans", ["customer_id", "created_at"])
    op.create_table(
        "rebalance_confirmations",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("plan_id", sa.String(length=36), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("idempotency_key", sa.String(length=128), nullable=False),
        sa.Column("assessment_id", sa.String(length=36), nullable=False),
        sa.Column("universe_version", sa.String(length=32), nullable=False),
        sa.Column("orders", sa.JSON(), nullable=False),
        sa.Column("created_by_role", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"],
                                name=op.f("fk_rebalance_confirmations_customer_id_customers")),
        sa.ForeignKeyConstraint(["plan_id"], ["rebalance_plans.id"],
                                name=op.f("fk_rebalance_confirmations_plan_id_rebalance_plans")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rebalance_confirmations")),
        sa.UniqueConstraint("plan_id", name="uq_rebalance_confirmations_plan_id"),
        sa.UniqueConstraint("customer_id", "idempotency_key", name="uq_rebalance_confirmations_customer_key"),
    )
    op.create_index(op.f("ix_rebalance_confirmations_customer_id"), "rebalance_confirmations", ["customer_id"])
    dialect = op.get_bind().dialect.name
    for table in TABLES:  # append-only, as the other audit tables (0002)
        if dialect == "postgresql":
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                       "FOR EACH ROW EXECUTE FUNCTION advisor_append_only()")
        elif dialect == "sqlite":
            for action in ("UPDATE", "DELETE"):
                op.execute(f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                           f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in TABLES:
        if dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        elif dialect == "sqlite":
            for action in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{action}")
    op.drop_index(op.f("ix_rebalance_confirmations_customer_id"), table_name="rebalance_confirmations")
    op.drop_table("rebalance_confirmations")
    op.drop_index("ix_rebalance_plans_customer_time", table_name="rebalance_plans")
    op.drop_table("rebalance_plans")
