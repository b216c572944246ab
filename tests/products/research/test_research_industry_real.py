"""Point-in-time SW industries on the full real data: every A-share holding of every quarter."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from products.research.lookthrough import HK, OVERSEAS, UNCLASSIFIED, clean_holdings
from products.sw_crosswalk import SW2014_L2_TO_SW2021, scheme_of, sw2014_l1_name


@pytest.fixture(scope="module")
def a_shares(real_universe) -> pd.DataFrame:
    h = clean_holdings(real_universe).holdings
    rows = h[~h["bucket"].isin([HK, OVERSEAS])]
    return pd.DataFrame({"quarter": rows["quarter"].astype(str), "quarter_end": rows["quarter_end"],
                         "stock_code": rows["stock_code"].astype(str), "weight": rows["weight"],
                         "label": rows["bucket"].astype(str)})


@pytest.fixture(scope="module")
def history(shared_data: Path) -> pd.DataFrame:
    raw = pd.read_csv(shared_data / "cn_funds" / "sw_industry" / "stock_industry_history.csv", dtype=str)
    return pd.DataFrame({"stock_code": raw["股票代码"], "code": raw["行业代码"],
                         "effective": pd.to_datetime(raw["计入日期"].str[:10])})


def test_unclassified_a_share_weight_is_below_half_a_percent_in_every_quarter(a_shares) -> None:
    share = a_shares.assign(un=a_shares["label"].eq(UNCLASSIFIED) * a_shares["weight"]).groupby("quarter")[
        ["un", "weight"]].sum()
    share = share["un"] / share["weight"]
    assert len(share) >= 8
    assert share.max() < 0.005, share.sort_values().tail()


def test_no_label_comes_from_a_row_dated_after_the_quarter(a_shares, history, shared_data: Path) -> None:
    """Each (stock, quarter) label is the SW2021 L1 of the latest row effective on or before the quarter end."""
    names = pd.read_csv(shared_data / "cn_funds" / "sw_industry" / "sw2021_codes.csv", dtype=str)
    l1_of_2021 = dict(zip(names["行业代码"], names["一级行业名称"], strict=True))
    pairs = a_shares.drop_duplicates(["stock_code", "quarter_end"])
    rows = pairs.merge(history, on="stock_code", how="left")
    known = rows[rows["effective"] <= rows["quarter_end"]].sort_values("effective")
    latest = known.groupby(["stock_code", "quarter_end"]).tail(1).set_index(["stock_code", "quarter_end"])
    scheme = scheme_of(latest["code"], latest["effective"])
    expected = np.where(scheme == "sw2021", (latest["code"].str[:2] + "0000").map(l1_of_2021),
                        sw2014_l1_name(latest["code"]).where(scheme == "sw2014"))
    expected = pd.Series(expected, index=latest.index).fillna(UNCLASSIFIED)
    got = pairs.set_index(["stock_code", "quarter_end"])["label"]
    assert (got.reindex(expected.index) == expected).all()
    # a stock with no row on or before the quarter end is never labelled from a later row
    unknown = got.index.difference(expected.index)
    assert (got.loc[unknown] == UNCLASSIFIED).all()


def test_sw2014_rows_before_2014_carry_an_industry(real_universe, history) -> None:
    """Stocks whose only rows predate 2014 (SW2014 codes of the 2015 file: 美的, 格力, 万科 …) are classified."""
    only_old = history.groupby("stock_code")["effective"].max() < pd.Timestamp("2014-01-01")
    held = set(clean_holdings(real_universe).holdings["stock_code"].astype(str))
    stocks = [s for s in only_old.index[only_old] if s in held]
    industry = real_universe.stock_industry
    latest = industry[industry["stock_code"].isin(stocks)].sort_values("effective_date").groupby("stock_code").last()
    assert len(stocks) > 200
    assert latest["sw_l1"].notna().mean() > 0.99


def test_the_crosswalk_agrees_with_the_2021_revision(history, shared_data: Path) -> None:
    """For stocks with an SW2014 row and a later SW2021 row (the ones the revision touched, so the hardest
    cases), the crosswalk names the revision's level-1 industry for at least 80 %; every level-2 move it
    encodes is what at least half of that sub-industry's reclassified stocks did."""
    names = pd.read_csv(shared_data / "cn_funds" / "sw_industry" / "sw2021_codes.csv", dtype=str)
    l1_of_2021 = dict(zip(names["行业代码"], names["一级行业名称"], strict=True))
    history = history.assign(scheme=scheme_of(history["code"], history["effective"])).sort_values("effective")
    old = history[history["scheme"] == "sw2014"].groupby("stock_code")["code"].last()
    new = history[history["scheme"] == "sw2021"].groupby("stock_code")["code"].first()
    both = pd.concat({"old": old, "new": new}, axis=1, join="inner")
    mapped = sw2014_l1_name(both["old"])
    revised = (both["new"].str[:2] + "0000").map(l1_of_2021)
    assert len(both) > 2000
    assert mapped.notna().all()
    assert (mapped == revised).mean() >= 0.8
    for l2, name in SW2014_L2_TO_SW2021.items():
        moved = revised[both["old"].str[:4] == l2]
        assert len(moved) >= 3 and (moved == name).mean() >= 0.5, (l2, moved.value_counts().to_dict())
