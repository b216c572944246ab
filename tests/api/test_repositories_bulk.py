"""Bulk reads the worklist uses give, on both databases, exactly what the one-customer reads give."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from api import repositories
from api.db import make_engine, migrate
from api.models import Customer, Holding, RiskAssessment


def _seed(session: Session, n: int) -> list[str]:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    ids = [f"bulk-{i:03d}" for i in range(n)]
    for i, cid in enumerate(ids):
        session.add(Customer(id=cid, age=30 + i, cash=100.0 * i, deposits=0.0, wealth_products=0.0, insurance=0.0,
                             created_at=start, updated_at=start))
        for k in range(i % 4):  # 0-3 assessments; the last two share a timestamp when there are three
            at = start + timedelta(days=min(k, 1))
            session.add(RiskAssessment(id=f"{cid}-a{k}", customer_id=cid, level=1 + (i + k) % 5, score=50.0,
                                       lowest_category=k == 2, assessed_at=at, expires_on=date(2027, 1, 1 + k),
                                       questionnaire_version="v1", answers={}, facts={"age": 30 + k}, result={},
                                       created_by_role="ops", created_by="test", created_at=at))
        for k in range(i % 3):
            session.add(Holding(customer_id=cid, code=f"00000{k}", shares=None, amount=1_000.0 * (k + 1),
                                purchase_date=date(2025, 1, 1 + k)))
    session.commit()
    return ids


def test_bulk_reads_equal_the_single_reads(db_url, monkeypatch):
    monkeypatch.setattr(repositories, "IN_CHUNK", 7)  # several IN lists
    engine = make_engine(db_url)
    try:
        migrate(engine)
        with Session(engine) as session:
            ids = _seed(session, 30)
            latest = repositories.latest_assessments(session, ids)
            customers = repositories.customers_by_id(session, ids)
            lots = repositories.lots_by_customer(session, ids)
            for cid in ids:
                one = repositories.latest_assessment(session, cid)
                assert (latest[cid].id if cid in latest else None) == (one.id if one else None)
                if one is not None:
                    row = latest[cid]
                    assert (row.level, row.lowest_category, row.expires_on, row.facts) == (
                        one.level, one.lowest_category, one.expires_on, one.facts)
                assert customers[cid].age == repositories.get_customer(session, cid).age
                expected = [(h.code, h.amount, h.purchase_date) for h in repositories.holdings_of(session, [cid])]
                assert [(r.code, r.amount, r.purchase_date) for r in lots.get(cid, [])] == expected
            assert sum(1 for cid in ids if cid in latest) == sum(1 for i in range(30) if i % 4)
    finally:
        engine.dispose()
