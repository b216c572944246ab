"""Holdings look-through (基金持仓透视): what funds really hold, by industry and by stock.

A fund discloses its top-10 stocks each quarter (weights as fractions of NAV) and its stock share. Per
fund and quarter we report SW level-1 industry weights of the disclosed stocks (point-in-time industry:
the latest classification effective on or before the quarter end), HK and overseas stocks as their own
buckets, the rest of the stock share as `undisclosed`, and everything that is not stock as `non_stock`,
so that each row sums to 1. Between funds: a weighted overlap of disclosed holdings; for a portfolio:
industry and stock exposures aggregated over its funds and the stocks reached through several funds.

Holdings are checked before use (`clean_holdings`): duplicate rows are dropped, fund-quarters whose
weights sum above 100% are excluded, a stock share below the top-10 sum is raised to it, and every such
fault is reported in `issues`. A universe without holdings (table empty or absent) gives empty results
and the note `NO_HOLDINGS_NOTE`, never an error. The fund × stock and stock × bucket matrices are
scipy.sparse, so a whole quarter (~8,700 funds) is one sparse product.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from scipy import sparse

from products.errors import BadInputError, NotFoundError
from products.research._common import cached, quarter_end, to_timestamp
from products.universe import Universe

UNDISCLOSED = "undisclosed"  # stock share beyond the disclosed top 10
NON_STOCK = "non_stock"  # bonds, cash and everything else that is not stock
HK = "HK"
OVERSEAS = "overseas"
UNCLASSIFIED = "unclassified"  # an A-share without a known SW industry at that date
NO_DATA = "no_holdings_data"  # an equity-type fund with no disclosed holdings at all
SPECIAL_BUCKETS = (HK, OVERSEAS, UNCLASSIFIED, UNDISCLOSED, NON_STOCK, NO_DATA)

WEIGHT_TOLERANCE = 0.005  # 0.5 percentage point of rounding in published weights
DISCLOSURE_LAG_DAYS = 21  # quarterly reports come out within 15 working days of the quarter end
NON_EQUITY_ASSET_CLASSES = ("cash", "bond", "gold")
ISSUE_COLUMNS = ["code", "quarter", "check", "severity", "message"]
NO_HOLDINGS_NOTE = ("no holdings disclosed: the data has no fund holdings, look-through unavailable / "
                    "数据未提供基金持仓披露，无法穿透")


@dataclass(frozen=True)
class CleanHoldings:
    """Holdings fit for use, plus the faults found (one row per fund-quarter or duplicate)."""

    holdings: pd.DataFrame  # HOLDING_COLUMNS + quarter_end, industry, bucket
    fund_quarters: pd.DataFrame  # one row per (fund_code, quarter): equity_share, top10_share, n_holdings
    issues: pd.DataFrame  # ISSUE_COLUMNS + found_by ("loader" or "research")


@dataclass(frozen=True)
class LookThrough:
    """Look-through of a set of funds, one quarter each."""

    industries: pd.DataFrame  # fund × bucket (SW L1 names + SPECIAL_BUCKETS), rows sum to 1
    top_stocks: pd.DataFrame  # long: code, quarter, rank, stock_code, stock_name, market, industry, weight
    summary: pd.DataFrame  # per fund: quarter, as_of, equity_share, top10_share, top10_of_stock, source
    issues: pd.DataFrame  # faults in the rows that were asked about
    notes: tuple[str, ...] = ()  # why parts are missing, e.g. NO_HOLDINGS_NOTE


def clean_holdings(universe: Universe) -> CleanHoldings:
    """Checked holdings with point-in-time industries (cached per universe)."""
    return cached("clean_holdings", universe, "all", lambda: _clean(universe))


def _clean(universe: Universe) -> CleanHoldings:
    """Integer-coded cleaning: strings become categoricals once, so 600k rows move as small ints."""
    raw = universe.holdings
    if raw is None or raw.empty:
        return _empty_clean()
    h = pd.DataFrame({col: raw[col].astype(str).astype("category")
                      for col in ("quarter", "fund_code", "stock_code", "stock_name", "market")})
    h["weight"] = pd.to_numeric(raw["weight"], errors="coerce").to_numpy(dtype=float)
    h["equity_share"] = pd.to_numeric(raw["equity_share"], errors="coerce").to_numpy(dtype=float)
    h["rank"] = raw["rank"].to_numpy() if "rank" in raw else 0
    q_ends = quarter_end(h["quarter"].cat.categories)
    h["quarter_end"] = q_ends.to_numpy()[h["quarter"].cat.codes.to_numpy()]
    issues: list[pd.DataFrame] = []

    bad_weight = ~(h["weight"] > 0)
    if bad_weight.any():
        issues.append(_issue_rows(h[bad_weight], "holding_weight_invalid", "warning",
                                  "holding weight missing or not positive: row dropped"))
        h = h[~bad_weight]
    fund_i = h["fund_code"].cat.codes.to_numpy().astype(np.int64)
    stock_i = h["stock_code"].cat.codes.to_numpy().astype(np.int64)
    q_i = h["quarter_end"].to_numpy().astype("datetime64[D]").astype(np.int64)
    fq_key = fund_i * 1_000_000 + (q_i - q_i.min())
    # a duplicate repeats fund, quarter, stock and rank; one code at several ranks (placeholders such as
    # "FUND" in mutual-recognition funds) is several positions and is kept
    rank_i = pd.to_numeric(h["rank"], errors="coerce").fillna(-1).to_numpy().astype(np.int64) + 1
    dup = pd.DataFrame({"fq": fq_key, "stock": stock_i, "rank": rank_i}).duplicated(keep="first").to_numpy()
    if dup.any():
        issues.append(_issue_rows(h[dup], "duplicate_holding", "warning",
                                  "duplicate holding row (same fund, quarter, stock): kept the first"))
        h = h[~dup]
        fq_key = fq_key[~dup]
    fq_id, fq_first = pd.factorize(fq_key)[0], None
    h["fq_id"] = fq_id
    grouped = h.groupby("fq_id", sort=True)
    fq = pd.DataFrame({
        "fund_code": _decode(grouped["fund_code"].first()), "quarter": _decode(grouped["quarter"].first()),
        "quarter_end": grouped["quarter_end"].first(), "equity_share": grouped["equity_share"].max(),
        "top10_share": grouped["weight"].sum(), "n_holdings": grouped["weight"].size()})
    fq.index.name = "fq_id"
    del fq_first
    over = fq["top10_share"] > 1.0 + WEIGHT_TOLERANCE
    if over.any():
        bad = fq[over]
        issues.append(pd.DataFrame({
            "code": bad["fund_code"], "quarter": bad["quarter"], "check": "holdings_sum_above_100",
            "severity": "error",
            "message": [f"top-10 weights sum to {s:.1%} of NAV (> 100%): fund-quarter excluded"
                        for s in bad["top10_share"]]}))
        h = h[~over.to_numpy()[h["fq_id"].to_numpy()]]
    share = fq["equity_share"]
    missing_share = share.isna() | (share <= 0)
    below = ~missing_share & (share + WEIGHT_TOLERANCE < fq["top10_share"])
    above_one = share > 1.0 + WEIGHT_TOLERANCE
    for mask, check, message in (
        (missing_share & ~over, "equity_share_missing", "stock share missing: taken as the top-10 sum"),
        (below & ~over, "equity_share_below_top10", "stock share below the top-10 sum: raised to the top-10 sum"),
        (above_one & ~over, "equity_share_above_100", "stock share above 100%: capped at 100%"),
    ):
        if mask.any():
            issues.append(pd.DataFrame({"code": fq.loc[mask, "fund_code"], "quarter": fq.loc[mask, "quarter"],
                                        "check": check, "severity": "warning", "message": message}))
    fixed = share.where(~missing_share, fq["top10_share"]).clip(upper=1.0)
    fq["equity_share"] = np.maximum(fixed, np.minimum(fq["top10_share"], 1.0))
    fq = fq[~over]
    h["equity_share"] = fq["equity_share"].reindex(h["fq_id"]).to_numpy()

    industry = _point_in_time_industry(h, universe.stock_industry)
    market = h["market"].cat.categories.astype(str)
    cat_hk = market.str.contains("港") | (market.str.upper() == "HK")
    cat_a = (market.str.contains("A") | market.str.contains("沪") | market.str.contains("深")) & ~cat_hk
    codes = h["market"].cat.codes.to_numpy()
    is_hk = np.asarray(cat_hk)[codes]
    is_a = np.asarray(cat_a)[codes]
    bucket = np.where(is_hk, HK, np.where(is_a, pd.Series(industry).fillna(UNCLASSIFIED).to_numpy(), OVERSEAS))
    h["bucket"] = pd.Categorical(bucket)
    h["industry"] = pd.Categorical(np.where(is_a, industry, bucket))
    h = h.sort_values(["fq_id", "weight"], ascending=[True, False], ignore_index=True)
    issues.insert(0, _loader_issues(universe))
    all_issues = pd.concat([i for i in issues if len(i)], ignore_index=True) if any(len(i) for i in issues) \
        else pd.DataFrame(columns=[*ISSUE_COLUMNS, "found_by"])
    all_issues["found_by"] = all_issues["found_by"].fillna("research") if "found_by" in all_issues else "research"
    return CleanHoldings(h, fq.reset_index(), all_issues[[*ISSUE_COLUMNS, "found_by"]])


def _empty_clean() -> CleanHoldings:
    """No holdings in the universe: typed empty tables, so every look-through answers "none disclosed"."""
    text = pd.Series(dtype=object)
    holdings = pd.DataFrame({
        **{c: pd.Categorical([]) for c in ("quarter", "fund_code", "stock_code", "stock_name", "market")},
        "weight": pd.Series(dtype=float), "equity_share": pd.Series(dtype=float), "rank": pd.Series(dtype="int64"),
        "quarter_end": pd.Series(dtype="datetime64[ns]"), "industry": pd.Categorical([]),
        "bucket": pd.Categorical([]), "fq_id": pd.Series(dtype="int64")})
    fund_quarters = pd.DataFrame({
        "fq_id": pd.Series(dtype="int64"), "fund_code": text, "quarter": text,
        "quarter_end": pd.Series(dtype="datetime64[ns]"), "equity_share": pd.Series(dtype=float),
        "top10_share": pd.Series(dtype=float), "n_holdings": pd.Series(dtype="int64")})
    issues = pd.DataFrame({c: pd.Series(dtype=object) for c in [*ISSUE_COLUMNS, "found_by"]})
    return CleanHoldings(holdings, fund_quarters, issues)


def _loader_issues(universe: Universe) -> pd.DataFrame:
    """Holdings faults the loader already handled (so a look-through can say why a quarter is missing)."""
    found = universe.issues
    if found is None or found.empty or not {"code", "check", "message"} <= set(found.columns):
        return pd.DataFrame(columns=[*ISSUE_COLUMNS, "found_by"])
    source = found["source"].astype(str) if "source" in found else pd.Series("", index=found.index)
    mask = source.str.contains("holding") & found["code"].astype(str).str.len().gt(0)
    rows = found[mask]
    message = rows["message"].astype(str)
    return pd.DataFrame({
        "code": rows["code"].astype(str).to_numpy(), "quarter": message.str.extract(r"^(\d{4}-Q\d)")[0].to_numpy(),
        "check": rows["check"].astype(str).to_numpy(),
        "severity": rows["severity"].astype(str).to_numpy() if "severity" in rows else "warning",
        "message": message.to_numpy(), "found_by": "loader"})


def _decode(values: pd.Series) -> pd.Series:
    """Categorical → plain object strings without a round trip through Arrow (fast on 100k rows)."""
    cat = values.astype("category")
    labels = np.asarray(cat.cat.categories.astype(object), dtype=object)
    codes = cat.cat.codes.to_numpy()
    out = np.where(codes >= 0, labels[np.maximum(codes, 0)], None)
    return pd.Series(out, index=values.index, dtype=object)


def _issue_rows(rows: pd.DataFrame, check: str, severity: str, message: str) -> pd.DataFrame:
    return pd.DataFrame({"code": rows["fund_code"].astype(str).to_numpy(),
                         "quarter": rows["quarter"].astype(str).to_numpy(), "check": check, "severity": severity,
                         "message": [f"{message} (stock {s})" for s in rows["stock_code"].astype(str)]})


def _point_in_time_industry(h: pd.DataFrame, stock_industry: pd.DataFrame) -> np.ndarray:
    """SW L1 of each holding row: the classification with the latest effective date on or before the
    quarter end — never a row dated after it (no look-ahead). SW2014 codes already carry their SW2021
    level-1 name (`products.sw_crosswalk`). Solved on the distinct (stock, quarter) pairs, then spread
    back to the rows.
    """
    if stock_industry is None or stock_industry.empty:
        return np.full(len(h), None, dtype=object)
    stock_i = h["stock_code"].cat.codes.to_numpy().astype(np.int64)
    stocks = h["stock_code"].cat.categories.astype(str)
    q_days = h["quarter_end"].to_numpy().astype("datetime64[D]").astype(np.int64)
    quarters, q_i = np.unique(q_days, return_inverse=True)
    pair = stock_i * len(quarters) + q_i
    uniq = np.unique(pair)
    left = pd.DataFrame({"stock_code": np.asarray(stocks)[uniq // len(quarters)],
                         "quarter_end": quarters[uniq % len(quarters)].astype("datetime64[D]")
                         .astype("datetime64[ns]"), "pair": uniq}).sort_values("quarter_end")
    si = stock_industry[["stock_code", "effective_date", "sw_l1"]].copy()
    si["stock_code"] = si["stock_code"].astype(str)
    si["effective_date"] = pd.to_datetime(si["effective_date"], errors="coerce").astype("datetime64[ns]")
    si = si.dropna(subset=["effective_date"]).sort_values("effective_date")
    si = si[si["stock_code"].isin(left["stock_code"].unique())]
    back = pd.merge_asof(left, si, left_on="quarter_end", right_on="effective_date", by="stock_code",
                         direction="backward")
    found = back["sw_l1"].where(back["sw_l1"].notna() & (back["sw_l1"].astype(str) != "None"))
    lookup = pd.Series(found.to_numpy(dtype=object), index=left["pair"].to_numpy())
    return lookup.reindex(pair).to_numpy(dtype=object)


def _select(universe: Universe, clean: CleanHoldings, codes: list[str] | None, quarter: object,
            as_of: pd.Timestamp | None) -> pd.DataFrame:
    """One quarter per fund: the given quarter, else the latest known at `as_of` (disclosure lag)."""
    fq = clean.fund_quarters
    if quarter is not None:
        q_end = quarter_end(pd.Series([quarter])).iloc[0]
        fq = fq[fq["quarter_end"] == q_end]
    elif as_of is not None:
        fq = fq[fq["quarter_end"] + pd.Timedelta(days=DISCLOSURE_LAG_DAYS) <= as_of]
    if codes is not None:
        fq = fq[fq["fund_code"].isin(codes)]
    return fq.sort_values("quarter_end").drop_duplicates("fund_code", keep="last")


def look_through(universe: Universe, codes: list[str] | None = None, quarter: object = None,
                 as_of: date | str | pd.Timestamp | None = None) -> LookThrough:
    """Look through `codes` (all funds with holdings if None) at `quarter`, or the latest known at `as_of`.

    Codes may be universe funds or any fund in the holdings table. A universe fund without holdings of
    its own borrows a sibling share class's (A/C classes hold the same portfolio); one with none at all
    is `non_stock` (cash / bond / gold funds) or `no_holdings_data` (equity-type funds).
    """
    clean = clean_holdings(universe)
    ts = to_timestamp(as_of)
    code_list = None if codes is None else [str(c) for c in codes]
    if code_list is not None:
        unknown = [c for c in code_list if c not in universe.code_index
                   and not (clean.fund_quarters["fund_code"] == c).any()]
        if unknown:
            raise NotFoundError(f"fund(s) {unknown} are neither in the universe nor in the holdings data",
                                code="fund_not_found", details={"codes": unknown})
        search = sorted(set(code_list) | set(_siblings(universe, code_list).values()))
    else:
        search = None
    latest = _select(universe, clean, search, quarter, ts)
    holdings = clean.holdings
    wanted = list(dict.fromkeys(code_list)) if code_list is not None else sorted(latest["fund_code"])
    if quarter is not None and latest.empty:
        raise NotFoundError(f"no holdings for quarter {quarter!r}", code="quarter_not_found",
                            details={"quarter": str(quarter)})
    # each wanted fund → the fund-quarter that speaks for it (its own, else a sibling's)
    own = dict(zip(latest["fund_code"], latest["fq_id"], strict=True))
    source = {c: c for c in wanted if c in own}
    for code, sib in _siblings(universe, [c for c in wanted if c not in own]).items():
        if sib in own:
            source[code] = sib
    with_data = [c for c in wanted if c in source]
    src_fq = np.array([own[source[c]] for c in with_data], dtype=np.int64)

    # rows of the selected fund-quarters, repeated for every fund they speak for (a shared sibling)
    fq_ids = holdings["fq_id"].to_numpy()
    n_fq = len(clean.fund_quarters)
    first_target = np.full(n_fq + 1, -1, dtype=np.int64)
    first_target[src_fq[::-1]] = np.arange(len(src_fq))[::-1]
    picked = first_target[fq_ids] >= 0
    rows = holdings[picked]
    rows_target = first_target[fq_ids[picked]]
    repeated = pd.Series(src_fq).duplicated(keep="first").to_numpy()
    if repeated.any():
        extra_rows, extra_targets = [rows], [rows_target]
        for i in np.flatnonzero(repeated):
            sub = rows[rows["fq_id"].to_numpy() == src_fq[i]]
            extra_rows.append(sub)
            extra_targets.append(np.full(len(sub), i, dtype=np.int64))
        rows = pd.concat(extra_rows, ignore_index=True)
        rows_target = np.concatenate(extra_targets)

    fq = clean.fund_quarters.set_index("fq_id")
    eq_share = fq["equity_share"].reindex(src_fq).to_numpy(dtype=float)
    top10 = fq["top10_share"].reindex(src_fq).to_numpy(dtype=float)
    src_q = fq["quarter_end"].reindex(src_fq).to_numpy()

    industries = _industry_matrix(rows, rows_target, len(with_data), eq_share, top10)
    industries.index = pd.Index(with_data, name="code")
    no_data = [c for c in wanted if c not in source]
    if no_data:
        extra = pd.DataFrame(0.0, index=pd.Index(no_data, name="code"), columns=industries.columns)
        asset = universe.funds["asset_class"].astype(str).reindex(no_data)
        extra[NON_STOCK] = np.where(asset.isin(NON_EQUITY_ASSET_CLASSES), 1.0, 0.0)
        extra[NO_DATA] = 1.0 - extra[NON_STOCK]
        industries = pd.concat([industries, extra]).fillna(0.0)
    industries = industries.reindex(wanted).fillna(0.0)
    industries = industries[_bucket_order(industries.columns)]

    columns = {"code": pd.Series(np.asarray(with_data, dtype=object)[rows_target], dtype=object)}
    for col in ("quarter", "rank", "stock_code", "stock_name", "market", "industry"):
        values = rows[col]
        columns[col] = _decode(values) if isinstance(values.dtype, pd.CategoricalDtype) else \
            pd.Series(values.to_numpy())
    weight = rows["weight"].to_numpy()
    columns["weight"] = pd.Series(weight)
    columns["share_of_stock"] = pd.Series(weight / rows["equity_share"].to_numpy())
    order = np.lexsort((-weight, rows_target))  # by fund in the requested order, heaviest first
    top = pd.DataFrame({k: pd.Series(v.to_numpy()[order], dtype=v.dtype) for k, v in columns.items()})

    summary = pd.DataFrame({
        "quarter": pd.Series(fq["quarter"].reindex(src_fq).to_numpy(), index=with_data, dtype=object),
        "as_of": pd.to_datetime(src_q),
        "equity_share": eq_share, "top10_share": top10,
        "top10_of_stock": np.divide(top10, eq_share, out=np.full(len(top10), np.nan), where=eq_share > 0),
        "source": [("own" if source[c] == c else f"sibling {source[c]}") for c in with_data],
    }, index=pd.Index(with_data, name="code")).reindex(wanted)
    summary["source"] = summary["source"].astype(object).where(summary["source"].notna(), "none")
    issues = clean.issues
    if codes is not None:
        issues = issues[issues["code"].isin(search or [])]
    return LookThrough(industries, top, summary, issues.reset_index(drop=True), _notes(clean, no_data))


def _notes(clean: CleanHoldings, no_data: list[str]) -> tuple[str, ...]:
    """Why a look-through is empty: no holdings in the data at all, or none for some of the funds."""
    if clean.fund_quarters.empty:
        return (NO_HOLDINGS_NOTE,)
    if not no_data:
        return ()
    shown = ", ".join(no_data[:10]) + (f" and {len(no_data) - 10} more" if len(no_data) > 10 else "")
    return (f"no holdings disclosed for {shown} / 未披露持仓",)


def _industry_matrix(rows: pd.DataFrame, rows_target: np.ndarray, n_funds: int, eq_share: np.ndarray,
                     top10: np.ndarray) -> pd.DataFrame:
    """Fund × bucket weights: (fund × stock-row) summed into buckets with one sparse product."""
    bucket_cat = rows["bucket"].astype("category")
    bucket_codes, used = pd.factorize(bucket_cat.cat.codes.to_numpy(), sort=True)
    buckets = [str(b) for b in np.asarray(bucket_cat.cat.categories, dtype=object)[used]]
    names = [*buckets, UNDISCLOSED, NON_STOCK]
    matrix = sparse.coo_matrix((rows["weight"].to_numpy(dtype=float), (rows_target, bucket_codes)),
                               shape=(n_funds, len(buckets))).tocsr()
    dense = np.zeros((n_funds, len(names)))
    dense[:, : len(buckets)] = matrix.toarray()
    dense[:, len(buckets)] = np.clip(eq_share - top10, 0.0, None)
    dense[:, len(buckets) + 1] = np.clip(1.0 - eq_share, 0.0, None)
    return pd.DataFrame(dense, columns=names)


def _bucket_order(columns: pd.Index) -> list[str]:
    industries = sorted(c for c in columns if c not in SPECIAL_BUCKETS)
    return industries + [c for c in SPECIAL_BUCKETS if c in columns]


def _siblings(universe: Universe, codes: list[str]) -> dict[str, str]:
    """code → its first listed sibling share class (only for universe funds that have siblings)."""
    if "sibling_codes" not in universe.funds:
        return {}
    sib = universe.funds["sibling_codes"].reindex([c for c in codes if c in universe.code_index])
    out = {}
    for code, text in sib.items():
        others = str(text or "").split()
        if others and others[0] != "nan":
            out[code] = others[0]
    return out


def fund_look_through(universe: Universe, codes: list[str] | None = None, quarter: object = None,
                      as_of: date | str | pd.Timestamp | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(industry weights fund × bucket, top stock exposures long) — see `look_through` for details."""
    result = look_through(universe, codes, quarter, as_of)
    return result.industries, result.top_stocks


def _stock_matrix(universe: Universe, codes: list[str], as_of: pd.Timestamp | None
                  ) -> tuple[sparse.csr_matrix, pd.DataFrame, LookThrough]:
    """Fund × stock sparse weights (fractions of NAV) of the latest disclosed quarter of each fund."""
    result = look_through(universe, codes, None, as_of)
    top = result.top_stocks
    stock_codes, stocks = pd.factorize(top["stock_code"], sort=True)
    fund_pos = pd.Index(codes).get_indexer(top["code"])
    matrix = sparse.coo_matrix((top["weight"].to_numpy(dtype=float), (fund_pos, stock_codes)),
                               shape=(len(codes), len(stocks))).tocsr()
    info = top.drop_duplicates("stock_code").set_index("stock_code").reindex(stocks)[
        ["stock_name", "market", "industry"]]
    return matrix, info, result


def holdings_overlap(universe: Universe, codes: list[str],
                     as_of: date | str | pd.Timestamp | None = None) -> pd.DataFrame:
    """Pairwise weighted overlap (0–1) of the funds' disclosed holdings, latest quarter of each fund.

    overlap(a, b) = Σ_s min(ŵ_a,s, ŵ_b,s), where ŵ are top-10 weights rescaled to sum to 1: identical
    portfolios overlap 1, disjoint ones 0. Sibling share classes (A/C) are the same portfolio: 1 by
    definition. Funds without disclosed stocks give NaN; `attrs["notes"]` says why (e.g. no holdings
    in the data at all: an all-NaN matrix, siblings aside).
    """
    code_list = list(dict.fromkeys(str(c) for c in codes))
    if not code_list:
        raise BadInputError("holdings_overlap needs at least one fund code", details={"codes": []})
    matrix, _, result = _stock_matrix(universe, code_list, to_timestamp(as_of))
    totals = np.asarray(matrix.sum(axis=1)).ravel()
    scale = np.divide(1.0, totals, out=np.zeros_like(totals), where=totals > 0)
    normalized = sparse.diags(scale) @ matrix
    k = len(code_list)
    out = _pairwise_min_sum(normalized.tocsc(), k)
    has = totals > 0
    out[~has, :] = np.nan
    out[:, ~has] = np.nan
    siblings = universe.funds.get("sibling_codes")
    if siblings is not None:
        pos = {c: i for i, c in enumerate(code_list)}
        for c in code_list:
            if c in universe.code_index:
                for s in str(siblings.get(c, "") or "").split():
                    if s in pos:
                        out[pos[c], pos[s]] = out[pos[s], pos[c]] = 1.0
    frame = pd.DataFrame(out, index=pd.Index(code_list, name="code"), columns=code_list)
    frame.attrs["notes"] = list(result.notes)
    return frame


def _pairwise_min_sum(matrix: sparse.csc_matrix, k: int) -> np.ndarray:
    """out[i, j] = Σ_s min(W[i, s], W[j, s]) for a sparse fund × stock W, without a loop over funds.

    Every stock contributes only to the pairs of funds that hold it: the (fund, fund) pairs are generated
    per stock column in one vectorized self-join and summed with `np.bincount`.
    """
    matrix.sort_indices()
    counts = np.diff(matrix.indptr)
    if counts.size == 0 or counts.max(initial=0) == 0:
        return np.zeros((k, k))
    rows, vals = matrix.indices, matrix.data
    # for every stock: all ordered pairs (a, b) of its entries; entry positions start at indptr[s]
    pair_counts = counts * counts
    stock_of_pair = np.repeat(np.arange(len(counts)), pair_counts)
    offset = np.arange(pair_counts.sum()) - np.repeat(np.cumsum(pair_counts) - pair_counts, pair_counts)
    n = counts[stock_of_pair]
    a = matrix.indptr[stock_of_pair] + offset // n
    b = matrix.indptr[stock_of_pair] + offset % n
    mins = np.minimum(vals[a], vals[b])
    return np.bincount(rows[a] * k + rows[b], weights=mins, minlength=k * k).reshape(k, k)


def portfolio_look_through(universe: Universe, weights: pd.Series,
                           as_of: date | str | pd.Timestamp | None = None
                           ) -> dict[str, pd.DataFrame | pd.Series | list[str]]:
    """Industry and stock exposures of a fund portfolio (weights code → fraction, rescaled to sum 1).

    Returns `industries` (bucket → share of the portfolio, sums to 1), `stocks` (stock_code, stock_name,
    industry, exposure as share of the portfolio, n_funds, funds) and `shared_stocks` (stocks reached
    through two or more funds), plus `funds` (per-fund quarter and source), `issues` and `notes` (why
    exposures are missing: no holdings disclosed).
    """
    w = pd.Series(weights, dtype=float)
    w.index = w.index.astype(str)
    if w.empty or (w < 0).any() or not np.isfinite(w).all() or w.sum() <= 0:
        raise BadInputError("portfolio weights must be non-negative, finite and not all zero",
                            details={"weights": {k: float(v) for k, v in w.items()}})
    w = w.groupby(level=0).sum()
    w = w / w.sum()
    codes = list(w.index)
    matrix, info, result = _stock_matrix(universe, codes, to_timestamp(as_of))
    wv = w.reindex(codes).to_numpy()
    industries = pd.Series(wv @ result.industries.reindex(codes).to_numpy(), index=result.industries.columns)
    industries = industries[industries > 0].sort_values(ascending=False)
    exposure = matrix.T @ wv  # stock → share of the portfolio
    held = (matrix > 0).astype(np.int64)
    n_funds = np.asarray(held.sum(axis=0)).ravel()
    coo = matrix.tocoo()
    via = pd.DataFrame({"stock": coo.col, "code": np.asarray(codes, dtype=object)[coo.row]}) \
        .sort_values(["stock", "code"]).groupby("stock")["code"].agg(" ".join)
    stocks = pd.DataFrame({
        "stock_code": info.index, "stock_name": info["stock_name"].to_numpy(),
        "industry": info["industry"].to_numpy(), "exposure": exposure, "n_funds": n_funds,
        "funds": via.reindex(range(len(info))).to_numpy(),
    }).sort_values("exposure", ascending=False, ignore_index=True)
    shared = stocks[stocks["n_funds"] >= 2].reset_index(drop=True)
    return {"industries": industries, "stocks": stocks, "shared_stocks": shared, "funds": result.summary,
            "issues": result.issues, "notes": list(result.notes)}
