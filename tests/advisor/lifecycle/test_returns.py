"""Returns from the ledger against hand-chained sub-periods and scipy's brentq (independent references)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from advisor.lifecycle.book import load_book
from advisor.lifecycle.returns import compute_returns
from tests.advisor.lifecycle.lifecycle_helpers import brentq_xirr, customers, ledger, tiny_universe

NAVS = {"100001": {"2024-01-02": 1.00, "2024-03-01": 1.10, "2024-06-03": 0.99, "2024-12-31": 1.05,
                   "2025-02-14": 1.08}}
AS_OF = date(2025, 2, 14)


def returns_of(universe, frame, ids=("a",)):
    book = load_book(universe, customers(*ids), ledger=frame, as_of=AS_OF)
    assert book.rejects.empty, book.rejects
    result = compute_returns(book.events, book.n, book.prices, AS_OF)
    return result.customer_frame(book.customer_id).set_index("customer_id"), result


def test_fees_and_a_partial_redemption_chain_by_hand():
    universe = tiny_universe(NAVS)
    # amount = money invested at the NAV; the customer pays amount + fee (1,000 for the first)
    frame = ledger(("a", "2024-01-02", "100001", "subscription", 990.0, None, 10.0),
                   ("a", "2024-03-01", "100001", "subscription", 1100.0, None, 0.0),
                   ("a", "2024-06-03", "100001", "redemption", None, 500.0, 2.475))
    out, _ = returns_of(universe, frame)
    row = out.loc["a"]
    shares = 990.0 + 1000.0 - 500.0
    # sub-periods: the first fee is lost in period 1, the redemption fee at the end of period 2
    r1 = 990 * 1.10 / 1000.0
    r2 = (1990 * 0.99 - 2.475) / (1990 * 1.10)
    r3 = 1.08 / 0.99
    assert row["twr_inception"] == pytest.approx(r1 * r2 * r3 - 1.0, abs=1e-12)
    assert row["market_value"] == pytest.approx(shares * 1.08)
    assert row["fees"] == pytest.approx(12.475)
    cash_back = 500 * 0.99 - 2.475
    assert row["total_gain"] == pytest.approx(shares * 1.08 + cash_back - 2100.0)
    # FIFO: the redemption took 500 of the first lot's 990 shares (cost 1000 incl. its fee)
    cost = 1000.0 * 490 / 990 + 1100.0
    assert row["cost_basis"] == pytest.approx(cost)
    assert row["holding_gain"] == pytest.approx(shares * 1.08 - cost)
    expected = brentq_xirr([0, 59, 153, 409], [-1000.0, -1100.0, cash_back, shares * 1.08])
    assert row["xirr_inception"] == pytest.approx(expected, abs=1e-9)


def test_year_to_date_and_one_year_windows_start_after_the_boundary_close():
    universe = tiny_universe(NAVS)
    frame = ledger(("a", "2024-01-02", "100001", "subscription", 1000.0, None, 0.0),
                   ("a", "2024-06-03", "100001", "subscription", 990.0, None, 0.0))
    out, _ = returns_of(universe, frame)
    row = out.loc["a"]
    # YTD: from the 2024-12-31 close (2000 shares at 1.05) to 1.08
    assert row["twr_ytd"] == pytest.approx(1.08 / 1.05 - 1.0)
    assert row["start_value_ytd"] == pytest.approx(2000 * 1.05)
    assert row["gain_ytd"] == pytest.approx(2000 * (1.08 - 1.05))
    # 45 days of +2.86% would be "+25.67% a year": no annual rate under a year (GIPS)
    assert np.isnan(row["xirr_ytd"]) and brentq_xirr([0, 45], [-2100.0, 2160.0]) > 0.25
    # one year back (2024-02-14) the position was 1000 shares at 1.00: the window starts there
    assert row["twr_1y"] == pytest.approx(1.08 - 1.0)
    assert row["xirr_1y"] == pytest.approx(brentq_xirr([0, 110, 366], [-1000.0, -990.0, 2160.0]), abs=1e-9)
    # since inception with no fee the TWR is the fund's own return, whatever the flows
    assert row["twr_inception"] == pytest.approx(0.08)


@pytest.mark.parametrize("kind", ["dividend_cash", "dividend_reinvest"])
def test_a_dividend_counts_as_return_whether_paid_or_reinvested(kind):
    navs = {"100001": {"2024-01-02": 1.00, "2024-06-03": 1.20, "2024-06-04": 1.10, "2025-02-14": 1.21}}
    universe = tiny_universe(navs, distributions={"100001": {"2024-06-04": 0.10}})
    per_share, nav_after = 0.10, 1.10
    dividend = 1000 * per_share
    frame = ledger(("a", "2024-01-02", "100001", "subscription", 1000.0, None, 0.0),
                   ("a", "2024-06-04", "100001", kind, dividend,
                    dividend / nav_after if kind == "dividend_reinvest" else None, 0.0))
    out, _ = returns_of(universe, frame)
    row = out.loc["a"]
    total_return = (1.20 / 1.00) * ((1.10 + 0.10) / 1.20) * (1.21 / 1.10) - 1.0  # the adjusted-return chain
    assert row["twr_inception"] == pytest.approx(total_return, abs=1e-12)
    assert row["dividends"] == pytest.approx(dividend)
    if kind == "dividend_cash":
        assert row["market_value"] == pytest.approx(1000 * 1.21)
        assert row["total_gain"] == pytest.approx(1000 * 1.21 + dividend - 1000)
        expected = brentq_xirr([0, 154, 409], [-1000.0, dividend, 1210.0])
    else:
        shares = 1000 + dividend / nav_after
        assert row["market_value"] == pytest.approx(shares * 1.21)
        # reinvested shares cost nothing: the holding gain is the whole gain, as the customer's app shows it
        assert row["cost_basis"] == pytest.approx(1000.0)
        assert row["holding_gain"] == pytest.approx(row["total_gain"]) == pytest.approx(shares * 1.21 - 1000)
        expected = brentq_xirr([0, 409], [-1000.0, shares * 1.21])
    assert row["xirr_inception"] == pytest.approx(expected, abs=1e-9)


def test_switch_is_internal_for_the_customer_and_a_flow_for_each_fund():
    navs = {"100001": {"2024-01-02": 1.0, "2024-06-03": 1.2, "2025-02-14": 1.5},
            "100002": {"2024-01-02": 2.0, "2024-06-03": 2.0, "2025-02-14": 2.2}}
    universe = tiny_universe(navs)
    frame = ledger(("a", "2024-01-02", "100001", "subscription", 1000.0, None, 0.0),
                   ("a", "2024-06-03", "100001", "switch_out", 600.0, 500.0, 6.0),  # 594 moves on
                   ("a", "2024-06-03", "100002", "switch_in", 590.0, None, 4.0))  # 594 arrived, 4 fee
    out, result = returns_of(universe, frame)
    row = out.loc["a"]
    # customer: period 1 ends at 1200 less the switch-out fee; the switch-in fee is lost in period 2
    r1 = (1000 * 1.2 - 6.0) / 1000.0
    r2 = (500 * 1.5 + 295 * 2.2) / (1000 * 1.2 - 6.0)
    assert row["twr_inception"] == pytest.approx(r1 * r2 - 1.0, abs=1e-12)
    assert row["invested"] - row["withdrawn"] == pytest.approx(1000.0)  # the switch nets out
    assert row["fees"] == pytest.approx(10.0)
    funds = result.position_frame(np.array(["a"], dtype=object), universe.funds.index.to_numpy(),
                                  universe.funds["name"].to_numpy()).set_index("code")
    assert funds.loc["100002", "twr_inception"] == pytest.approx(295 * 2.2 / 594.0 - 1.0)
    assert funds.loc["100001", "twr_inception"] == pytest.approx((1200 - 6.0) / 1000 * 1.5 / 1.2 - 1.0)
    assert np.isnan(funds.loc["100002", "xirr_inception"])  # 256 days: no annual rate under a year (GIPS)
    assert funds.loc["100001", "xirr_inception"] == pytest.approx(  # 409 days
        brentq_xirr([0, 153, 409], [-1000.0, 594.0, 500 * 1.5]), abs=1e-9)


def test_full_redemption_then_buying_again_skips_the_empty_stretch():
    universe = tiny_universe(NAVS)
    frame = ledger(("a", "2024-01-02", "100001", "subscription", 1000.0, None, 0.0),
                   ("a", "2024-03-01", "100001", "redemption", None, 1000.0, 0.0),
                   ("a", "2024-12-31", "100001", "subscription", 1050.0, None, 0.0))
    out, _ = returns_of(universe, frame)
    row = out.loc["a"]
    assert row["twr_inception"] == pytest.approx(1.10 * (1.08 / 1.05) - 1.0)
    assert row["market_value"] == pytest.approx(1000 * 1.08)
    assert row["twr_ytd"] == pytest.approx(1.08 / 1.05 - 1.0)


def test_bad_rows_are_rejected_with_the_field_and_the_rest_goes_on():
    universe = tiny_universe(NAVS)
    frame = ledger(("a", "2024-01-02", "100001", "subscription", 1000.0, None, 0.0),
                   ("a", "2024-03-01", "100001", "redemption", None, 5000.0, 0.0),  # more than held
                   ("a", "2024-03-01", "999999", "subscription", 100.0, None, 0.0),  # unknown fund
                   ("a", "2024-03-01", "100001", "purchase", 100.0, None, 0.0),  # unknown kind
                   ("a", "2026-01-01", "100001", "subscription", 100.0, None, 0.0),  # after as-of
                   ("a", "2024-03-01", "100001", "subscription", 100.0, None, 200.0),  # fee above amount
                   ("zz", "2024-03-01", "100001", "subscription", 100.0, None, 0.0))  # unknown customer
    book = load_book(universe, customers("a"), ledger=frame, as_of=AS_OF)
    reasons = dict(zip(book.rejects["row"], book.rejects["field"], strict=True))
    assert reasons == {1: "shares", 2: "code", 3: "kind", 4: "date", 5: "fee", 6: "customer_id"}
    assert len(book.events) == 1


def test_repeated_txn_id_is_counted_once():
    universe = tiny_universe(NAVS)
    frame = ledger(("a", "2024-01-02", "100001", "subscription", 1000.0, None, 0.0),
                   ("a", "2024-01-02", "100001", "subscription", 1000.0, None, 0.0))
    frame["txn_id"] = ["t1", "t1"]
    book = load_book(universe, customers("a"), ledger=frame, as_of=AS_OF)
    assert list(book.rejects["reason"]) == ["duplicate txn_id for this customer (first row kept)"]
    assert len(book.events) == 1


def test_lots_only_customers_get_an_estimated_cost_from_the_total_return():
    universe = tiny_universe(NAVS)
    holdings = [{"customer_id": "a", "code": "100001", "shares": 1000.0, "purchase_date": "2024-03-01"}]
    import pandas as pd

    book = load_book(universe, customers("a"), holdings=pd.DataFrame(holdings), as_of=AS_OF)
    result = compute_returns(book.events, book.n, book.prices, AS_OF)
    row = result.customer_frame(book.customer_id).iloc[0]
    assert bool(row["cost_basis_estimated"])
    assert row["market_value"] == pytest.approx(1080.0)
    rate = universe.fees.subscription_rate(np.array([0]), np.array([1100.0]), universe.fee_discount)[0][0]
    assert row["cost_basis"] == pytest.approx(1100.0 * (1 + rate))
    assert row["twr_inception"] == pytest.approx(1080.0 / (1100.0 * (1 + rate)) - 1.0)


def test_customers_without_any_event_get_empty_results():
    from advisor.lifecycle.ledger import Events
    from advisor.lifecycle.prices import price_table

    universe = tiny_universe(NAVS)
    result = compute_returns(Events.empty(), 2, price_table(universe), AS_OF)
    assert result.customer["market_value"].tolist() == [0.0, 0.0]
    assert np.isnan(result.customer["twr_inception"]).all()
    assert len(result.position["fund"]) == 0


def plain_daily_returns(navs: pd.DataFrame, frame: pd.DataFrame, as_of: date) -> dict[str, float]:
    """The independent reference: every calendar day from the first flow, shares held per fund, values at the
    last NAV on or before the day, TWR chained day by day (fees in the day they are paid), XIRR by brentq."""
    days = pd.date_range(pd.Timestamp(frame["date"].min()), pd.Timestamp(as_of), freq="D")
    px = navs.reindex(navs.index.union(days)).ffill().reindex(days)
    rows = frame.assign(date=pd.to_datetime(frame["date"]))
    price = np.array([px.at[d, c] for d, c in zip(rows["date"], rows["code"], strict=True)])
    buy, sell, cash_div = (rows["kind"] == k for k in ("subscription", "redemption", "dividend_cash"))
    delta = np.where(buy, rows["amount"] / price, np.where(sell, -rows["shares"], 0.0))
    received = np.where(sell, rows["shares"].fillna(0.0) * price - rows["fee"], 0.0)
    paid = np.where(buy, rows["amount"] + rows["fee"], 0.0)
    held = pd.DataFrame(0.0, index=days, columns=navs.columns)
    moved = held.copy()
    for d, c, x in zip(rows["date"], rows["code"], delta, strict=True):
        moved.at[d, c] += x
    held = moved.cumsum()
    after = (held * px).sum(axis=1)
    before = ((held - moved) * px).sum(axis=1)
    per_day = lambda values: pd.Series(values, index=rows["date"]).groupby(level=0).sum().reindex(days, fill_value=0.0)  # noqa: E731
    fee_in, fee_out = per_day(np.where(buy, rows["fee"], 0.0)), per_day(np.where(sell, rows["fee"], 0.0))
    income = per_day(np.where(cash_div, rows["amount"], 0.0))
    start = (after + fee_in).shift(1)
    ratio = ((before + income - fee_out) / start).where(start > 1e-9, 1.0)
    last = after.iloc[-1] / (after.iloc[-1] + fee_in.iloc[-1])
    flows = per_day(received + np.where(cash_div, rows["amount"], 0.0) - paid)
    flows = flows[flows != 0]
    offsets = [*(flows.index - days[0]).days, (days[-1] - days[0]).days]
    return {"market_value": float(after.iloc[-1]), "twr": float(ratio.prod() * last - 1.0),
            "xirr": brentq_xirr(offsets, [*flows.to_numpy(), after.iloc[-1]]),
            "fees": float(rows["fee"].sum()), "total_gain": float(after.iloc[-1] + flows.sum())}


@pytest.mark.parametrize("seed", range(6))
def test_random_ledgers_agree_with_a_plain_day_by_day_computation(seed):
    """Three funds on a random walk of business days; subscriptions, partial redemptions and cash dividends
    on any calendar day (weekends too), with fees; the batch engine against `plain_daily_returns`."""
    rng = np.random.default_rng(seed)
    days = pd.bdate_range("2024-01-02", "2025-02-14")
    navs = pd.DataFrame(np.cumprod(1.0 + rng.normal(0.0004, 0.012, (len(days), 3)), axis=0),
                        index=days, columns=["100001", "100002", "100003"])
    universe = tiny_universe({c: {d.date().isoformat(): float(v) for d, v in navs[c].items()} for c in navs})
    rows, held = [], dict.fromkeys(navs.columns, 0.0)
    for when in sorted(rng.choice(pd.date_range("2024-01-02", "2025-02-14"), 14, replace=False)):
        code = str(rng.choice(navs.columns))
        when = pd.Timestamp(when)
        nav = float(navs[code].asof(when))
        if held[code] > 0 and rng.random() < 0.3:
            shares = round(held[code] * float(rng.uniform(0.1, 0.9)), 2)
            fee = round(shares * nav * 0.005, 2)
            rows.append(("a", when.date().isoformat(), code, "redemption", None, shares, fee))
            held[code] -= shares
        elif held[code] > 0 and rng.random() < 0.2:
            rows.append(("a", when.date().isoformat(), code, "dividend_cash", round(held[code] * 0.01, 2), None, 0.0))
        else:
            amount = round(float(rng.uniform(500, 20_000)), 2)
            rows.append(("a", when.date().isoformat(), code, "subscription", amount, None, round(amount * 0.0015, 2)))
            held[code] += amount / nav
    frame = ledger(*rows)
    out, _ = returns_of(universe, frame)
    reference = plain_daily_returns(navs, frame, AS_OF)
    row = out.loc["a"]
    assert row["market_value"] == pytest.approx(reference["market_value"], rel=1e-9)
    assert row["fees"] == pytest.approx(reference["fees"], abs=1e-9)
    assert row["total_gain"] == pytest.approx(reference["total_gain"], abs=1e-6)
    assert row["twr_inception"] == pytest.approx(reference["twr"], abs=1e-9)
    span = (pd.Timestamp(AS_OF) - pd.Timestamp(frame["date"].min())).days
    if span >= 365:
        assert row["xirr_inception"] == pytest.approx(reference["xirr"], abs=1e-8)
    else:  # no annual rate under a year (GIPS)
        assert np.isnan(row["xirr_inception"])
