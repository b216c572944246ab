"""after the purchase: ledger transactions (append-only), goals, SIP plans, alerts, opt-outs, RM tasks

Revision ID: 0004_lifecycle
Revises: 0003_rebalance_plans
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = "0004_lifecycle"
down_revision = "0003_rebalance_plans"
branch_labels = None
depends_on = None


def _actor() -> list[sa.Column]:
    return [sa.Column("created_by_role", sa.String(16), nullable=False),
            sa.Column("created_by", sa.String(64), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False)]


def _message() -> list[sa.Column]:
    return [sa.Column("kind", sa.String(32), nullable=False), sa.Column("severity", sa.String(16), nullable=False),
            sa.Column("dedupe_key", sa.String(160), nullable=False), sa.Column("as_of", sa.Date(), nullable=False),
            sa.Column("title_zh", sa.Text(), nullable=False), sa.Column("text_zh", sa.Text(), nullable=False),
            sa.Column("title_en", sa.Text(), nullable=False), sa.Column("text_en", sa.Text(), nullable=False),
            sa.Column("details", sa.JSON(), nullable=False)]


def upgrade() -> None:
    op.create_table(
        "ledger_transactions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("txn_id", sa.String(64), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("code", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("amount", sa.Float(), nullable=True),
        sa.Column("shares", sa.Float(), nullable=True),
        sa.Column("fee", sa.Float(), nullable=False),
        sa.Column("nav", sa.Float(), nullable=True),
        sa.Column("plan_id", sa.String(64), nullable=True),
        *_actor(),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name=op.f("fk_ledger_transactions_customer_id_customers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_transactions")),
        sa.UniqueConstraint("customer_id", "txn_id", name="uq_ledger_transactions_customer_txn"),
    )
    op.create_index("ix_ledger_transactions_customer_date", "ledger_transactions", ["customer_id", "date"])
    op.create_table(
        "goals",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("level", sa.Integer(), nullable=True),
        sa.Column("target_amount", sa.Float(), nullable=False),
        sa.Column("target_date", sa.Date(), nullable=False),
        sa.Column("current_amount", sa.Float(), nullable=False),
        sa.Column("monthly_contribution", sa.Float(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("last_probability", sa.Float(), nullable=True),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name=op.f("fk_goals_customer_id_customers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_goals")),
    )
    op.create_index("ix_goals_customer", "goals", ["customer_id", "status"])
    op.create_table(
        "sip_plans",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("assessment_id", sa.String(36), nullable=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("amount", sa.Float(), nullable=False),
        sa.Column("frequency", sa.String(16), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("legs", sa.JSON(), nullable=False),
        sa.Column("target_return", sa.Float(), nullable=True),
        sa.Column("on_target", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("cycle_start", sa.Date(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name=op.f("fk_sip_plans_customer_id_customers")),
        sa.ForeignKeyConstraint(["assessment_id"], ["risk_assessments.id"],
                                name=op.f("fk_sip_plans_assessment_id_risk_assessments")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sip_plans")),
    )
    op.create_index("ix_sip_plans_customer", "sip_plans", ["customer_id", "status"])
    op.create_table(
        "alerts",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        *_message(),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name=op.f("fk_alerts_customer_id_customers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
        sa.UniqueConstraint("customer_id", "dedupe_key", name="uq_alerts_customer_dedupe_key"),
    )
    op.create_index("ix_alerts_customer_time", "alerts", ["customer_id", "as_of"])
    op.create_table(
        "alert_preferences",
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("opted_out", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"],
                                name=op.f("fk_alert_preferences_customer_id_customers")),
        sa.PrimaryKeyConstraint("customer_id", "kind", name=op.f("pk_alert_preferences")),
    )
    op.create_table(
        "rm_tasks",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("rm_id", sa.String(64), nullable=True),
        sa.Column("customer_id", sa.String(64), nullable=False),
        *_message(),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_by", sa.String(64), nullable=True),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name=op.f("fk_rm_tasks_customer_id_customers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rm_tasks")),
        sa.UniqueConstraint("customer_id", "dedupe_key", name="uq_rm_tasks_customer_dedupe_key"),
    )
    op.create_index("ix_rm_tasks_rm_status", "rm_tasks", ["rm_id", "status"])
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":  # the function exists since 0002
        op.execute("CREATE TRIGGER ledger_transactions_append_only BEFORE UPDATE OR DELETE ON ledger_transactions "
                   "FOR EACH ROW EXECUTE FUNCTION advisor_append_only()")
    elif dialect == "sqlite":
        for action in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER ledger_transactions_no_{action.lower()} BEFORE {action} ON ledger_transactions "
                       "BEGIN SELECT RAISE(ABORT, 'ledger_transactions is append-only'); END")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS ledger_transactions_append_only ON ledger_transactions")
    elif dialect == "sqlite":
        for action in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS ledger_transactions_no_{action}")
    for table in ("rm_tasks", "alert_preferences", "alerts", "sip_plans", "goals", "ledger_transactions"):
        op.drop_table(table)
