"""Everything the health check needs about the universe, computed once per universe snapshot.

A `DiagnosisContext` turns the research results (stars and quartiles, look-through industry and stock
exposures, style weights and drift, holdings overlap), the fund correlation matrix, the fee table and
the model portfolios of every level × horizon bucket into plain numpy arrays aligned on fund position.
Per-customer work is then array math against these arrays (`advisor.diagnosis.engine`).

Sources, each replaceable for tests or a bank's own feeds through `ResearchInputs` / `ModelInputs`:
- `products.research`: `leaderboard`, `fund_look_through`, `holdings_overlap`, `style_analysis`;
- `advisor.model_portfolios.model_portfolio(level, horizon)`: asset-class targets;
- `advisor.proposal.target_fund_weights(universe, level, horizon)`: the fund-level realization used for
  the model's past performance, fee drag and style. Where a source is missing the context records a note
  and the checks depending on it report "not evaluated" instead of guessing.
"""

from __future__ import annotations

import logging
import weakref
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd
import scipy.sparse as sp

from products.research.quality import quality_from_leaderboard
from products.taxonomy import ASSET_CLASSES, AssetClass
from products.universe import BENCHMARK_NAMES, Universe

log = logging.getLogger(__name__)

TRADING_DAYS = 252
HORIZON_BUCKETS: tuple[str, ...] = ("short", "medium", "long")  # < 1 year, 1–3 years, > 3 years
BUCKET_HORIZONS: tuple[float, ...] = (0.5, 2.0, 5.0)  # the horizon each bucket asks the model for
LOOK_THROUGH_SPECIAL = ("undisclosed", "HK", "overseas", "non_stock", "no_holdings_data", "cash", "bond", "other")
PERIODS_PER_YEAR = 12
PERFORMANCE_WINDOWS = {"1y": PERIODS_PER_YEAR, "3y": 3 * PERIODS_PER_YEAR}  # in months

# Used only when `advisor.model_portfolios` cannot be imported (noted in `DiagnosisContext.notes`).
# Rows C1..C5, columns cash, bond, cn_equity, global_equity, gold; medium horizon.
INTERIM_MODEL_TARGETS = np.array([
    [0.40, 0.60, 0.00, 0.00, 0.00],
    [0.15, 0.65, 0.15, 0.03, 0.02],
    [0.10, 0.45, 0.33, 0.07, 0.05],
    [0.05, 0.30, 0.48, 0.12, 0.05],
    [0.03, 0.15, 0.60, 0.17, 0.05],
])


def horizon_bucket(horizon_years: np.ndarray) -> np.ndarray:
    """0 = under 1 year, 1 = 1–3 years, 2 = over 3 years; unknown horizons count as 1–3 years."""
    h = np.asarray(horizon_years, dtype=float)
    return np.where(np.isnan(h), 1, np.where(h < 1, 0, np.where(h <= 3, 1, 2))).astype(np.int8)


@dataclass(frozen=True)
class ResearchInputs:
    """Per-fund research results (index = fund code). Empty frames mean 'not available'."""

    leaderboard: pd.DataFrame = field(default_factory=pd.DataFrame)  # stars, score, category
    industries: pd.DataFrame = field(default_factory=pd.DataFrame)  # fund × SW L1 (+ special buckets)
    stocks: pd.DataFrame = field(default_factory=pd.DataFrame)  # long: fund_code, stock_code, stock_name, weight
    overlap: pd.DataFrame = field(default_factory=pd.DataFrame)  # fund × fund, 0–1
    style: pd.DataFrame = field(default_factory=pd.DataFrame)  # fund × style names (+ r_squared, drift)
    notes: tuple[str, ...] = ()

    @classmethod
    def from_research(cls, universe: Universe) -> ResearchInputs:
        """Call `products.research`; each piece that fails is left empty with a note."""
        notes: list[str] = []
        parts: dict[str, pd.DataFrame] = {}
        try:
            import products.research as research
        except ImportError as err:
            return cls(notes=(f"fund research unavailable ({err}); look-through, style and star checks "
                              "not evaluated",))
        codes = list(universe.funds.index)
        calls = {
            "leaderboard": lambda: research.leaderboard(universe),
            "look_through": lambda: research.fund_look_through(universe, codes),
            "overlap": lambda: research.holdings_overlap(universe, codes),
            "style": lambda: research.style_analysis(universe, codes),
        }
        for name, call in calls.items():
            try:
                result = call()
            except Exception as err:  # a research failure must not stop the health check
                log.warning("research %s failed: %s", name, err)
                notes.append(f"{name} unavailable: {err}")
                continue
            if name == "look_through":
                parts["industries"], parts["stocks"] = result
            else:
                parts[name] = result
        return cls(**parts, notes=tuple(notes))


@dataclass(frozen=True)
class ModelInputs:
    """Model portfolios: class targets (level 1–5 × bucket × class) and fund weights (level × bucket × fund)."""

    class_targets: np.ndarray
    fund_weights: np.ndarray
    version: str = ""
    notes: tuple[str, ...] = ()

    @classmethod
    def from_advisor(cls, universe: Universe) -> ModelInputs:
        notes: list[str] = []
        targets = np.zeros((5, 3, len(ASSET_CLASSES)))
        version = ""
        try:
            from advisor import model_portfolios

            version = str(getattr(model_portfolios, "MODEL_VERSION", ""))
            for level in range(1, 6):
                for b, horizon in enumerate(BUCKET_HORIZONS):
                    series = model_portfolios.model_portfolio(level, horizon, universe=universe)
                    targets[level - 1, b] = [float(series.get(c.value, series.get(c, 0.0))) for c in ASSET_CLASSES]
        except ImportError as err:
            notes.append(f"advisor.model_portfolios unavailable ({err}); interim model targets used")
            targets[:] = INTERIM_MODEL_TARGETS[:, None, :]
            version = "interim"
        targets = targets / np.maximum(targets.sum(axis=2, keepdims=True), 1e-12)
        fund_weights, fund_note = _model_fund_weights(universe, targets)
        if fund_note:
            notes.append(fund_note)
        return cls(class_targets=targets, fund_weights=fund_weights, version=version, notes=tuple(notes))


def _model_fund_weights(universe: Universe, targets: np.ndarray) -> tuple[np.ndarray, str]:
    """Fund-level model weights: `advisor.proposal.target_fund_weights`, else each class target spread
    equally over the class's funds the level may hold (a transparent stand-in, noted)."""
    n = len(universe.funds)
    out = np.zeros((5, 3, n))
    try:
        from advisor.proposal import target_fund_weights

        for level in range(1, 6):
            for b, horizon in enumerate(BUCKET_HORIZONS):
                weights = target_fund_weights(universe, level, horizon)
                out[level - 1, b] = weights.reindex(universe.funds.index).fillna(0.0).to_numpy(dtype=float)
        return out / np.maximum(out.sum(axis=2, keepdims=True), 1e-12), ""
    except Exception as err:  # ImportError until proposals land; any failure falls back, noted
        note = f"fund-level model weights from class averages ({type(err).__name__}: {err})"
    classes = universe.funds["asset_class"].astype("str").to_numpy()
    levels = universe.funds["risk_level"].to_numpy(dtype=int)
    for level in range(1, 6):
        for c, asset_class in enumerate(ASSET_CLASSES):
            members = (classes == asset_class.value) & (levels <= level)
            if members.any():
                out[level - 1, :, members] = targets[level - 1, :, c][None, :] / members.sum()
    return out / np.maximum(out.sum(axis=2, keepdims=True), 1e-12), note


@dataclass(frozen=True, eq=False)
class DiagnosisContext:
    """Fund-level arrays (length F = number of funds in the universe) and model-portfolio tables."""

    universe: Universe
    codes: np.ndarray
    names: np.ndarray
    risk_level: np.ndarray  # int8, 1–5
    asset_class: np.ndarray  # int8, index into ASSET_CLASSES
    money_market: np.ndarray  # bool
    is_c_class: np.ndarray  # bool
    a_sibling: np.ndarray  # int, position of the A class of a C class fund (-1 none)
    family: np.ndarray  # int, share classes of one fund share a family id
    company: np.ndarray  # int codes into company_names
    company_names: np.ndarray
    manager: np.ndarray  # int codes into manager_names (first listed manager)
    manager_names: np.ndarray
    running_cost: np.ndarray  # yearly fraction
    stars: np.ndarray  # float, NaN unrated
    bottom_quartile: np.ndarray  # bool, bottom share of the rated peer group
    weak: np.ndarray  # bool, `products.research.quality` (the rule selection and rebalancing use too)
    category: np.ndarray  # leaderboard peer group ("" unknown), for `advisor funds rank --category`
    industry: np.ndarray  # F × I fractions of NAV (named industries only)
    industry_names: np.ndarray
    stock_exposure: sp.csr_array  # F × S fractions of NAV
    stock_names: np.ndarray
    overlap: np.ndarray  # F × F, 0–1
    correlation: np.ndarray  # F × F, NaN where too little shared history
    style: np.ndarray  # F × K, NaN rows unknown
    style_names: np.ndarray
    style_drift: np.ndarray  # F, NaN unknown
    returns: np.ndarray  # F × M float32 monthly returns (fund rows), last 3 years, missing days as 0
    return_dates: np.ndarray
    model: ModelInputs
    model_metrics: dict[str, np.ndarray]  # name → (5, 3) arrays
    model_style: np.ndarray  # (5, 3, K)
    model_fee: np.ndarray  # (5, 3)
    has_look_through: bool
    has_style: bool
    has_stars: bool
    notes: tuple[str, ...] = ()

    @property
    def n_funds(self) -> int:
        return len(self.codes)

    @property
    def as_of(self) -> date:
        return self.universe.as_of

    @property
    def version(self) -> str:
        return self.universe.version


_CONTEXTS: weakref.WeakKeyDictionary[Universe, DiagnosisContext] = weakref.WeakKeyDictionary()


def diagnosis_context(universe: Universe, research: ResearchInputs | None = None,
                      model: ModelInputs | None = None) -> DiagnosisContext:
    """The context of `universe`, built on first use and cached for the universe's lifetime
    (only when built from the default sources)."""
    if research is None and model is None and universe in _CONTEXTS:
        return _CONTEXTS[universe]
    context = build_context(universe, research, model)
    if research is None and model is None:
        _CONTEXTS[universe] = context
    return context


def _codes_of(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    codes, uniques = pd.factorize(values.fillna("").astype("str"))
    return codes.astype(np.int32), np.asarray(uniques, dtype=object)


def _siblings(funds: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(family id per fund, position of the A sibling for C-class funds or -1): `products.taxonomy`'s rule."""
    from products.taxonomy import share_class_families

    return share_class_families(funds)


def _correlation(returns: pd.DataFrame, min_days: int = 120) -> np.ndarray:
    """Pairwise correlation of daily returns over the window, NaN where two funds share < min_days."""
    values = returns.to_numpy(dtype=float)
    mask = np.isfinite(values).astype(float)
    x = np.nan_to_num(values)
    n_pair = mask.T @ mask
    sx = x.T @ mask
    sxx = (x * x).T @ mask
    sxy = x.T @ x
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = sxy - sx * sx.T / n_pair
        var_i = sxx - sx * sx / n_pair
        corr = cov / np.sqrt(var_i * var_i.T)
    corr[n_pair < min_days] = np.nan
    np.fill_diagonal(corr, 1.0)
    return np.clip(corr, -1.0, 1.0)


def _aligned(frame: pd.DataFrame, codes: pd.Index) -> pd.DataFrame:
    if frame is None or frame.empty:
        return pd.DataFrame(index=codes)
    if "code" in frame.columns and frame.index.name != "code":
        frame = frame.set_index("code")
    return frame.reindex(codes)


def _categories(leaderboard: pd.DataFrame, codes: pd.Index) -> np.ndarray:
    board = _aligned(leaderboard, codes)
    if "category" not in board.columns:
        return np.full(len(codes), "", dtype=object)
    return board["category"].fillna("").astype("str").to_numpy(dtype=object)


def _quality(leaderboard: pd.DataFrame, codes: pd.Index) -> pd.DataFrame:
    """Stars, bottom-share flag and `weak` from the one quality rule (`products.research.quality`)."""
    return quality_from_leaderboard(leaderboard, codes)


def _industry_matrix(industries: pd.DataFrame, codes: pd.Index) -> tuple[np.ndarray, np.ndarray]:
    frame = _aligned(industries, codes)
    named = [c for c in frame.columns if str(c) not in LOOK_THROUGH_SPECIAL]
    matrix = frame[named].fillna(0.0).to_numpy(dtype=float) if named else np.zeros((len(codes), 0))
    if matrix.size and np.nanmax(matrix) > 1.5:  # percentages
        matrix = matrix / 100.0
    return matrix, np.asarray([str(c) for c in named], dtype=object)


def _stock_matrix(stocks: pd.DataFrame, codes: pd.Index) -> tuple[sp.csr_array, np.ndarray]:
    n = len(codes)
    if stocks is None or stocks.empty:
        return sp.csr_array((n, 0)), np.array([], dtype=object)
    fund_col = "fund_code" if "fund_code" in stocks.columns else "code"
    frame = stocks[[fund_col, "stock_code", "weight"] + (["stock_name"] if "stock_name" in stocks.columns else [])]
    frame = frame.dropna(subset=["weight"])
    rows = codes.get_indexer(frame[fund_col].astype("str"))
    keep = rows >= 0
    frame = frame.loc[keep]
    rows = rows[keep]
    stock_ids, stock_codes = pd.factorize(frame["stock_code"].astype("str"))
    weights = frame["weight"].to_numpy(dtype=float)
    if weights.size and weights.max() > 1.5:
        weights = weights / 100.0
    matrix = sp.csr_array((weights, (rows, stock_ids)), shape=(n, len(stock_codes)))
    matrix.sum_duplicates()
    if "stock_name" in frame.columns:
        name_of = frame.assign(_id=stock_ids).drop_duplicates("_id").set_index("_id")["stock_name"]
        names = name_of.reindex(range(len(stock_codes))).fillna("").astype("str").to_numpy(dtype=object)
        names = np.where(names == "", np.asarray(stock_codes, dtype=object), names)
    else:
        names = np.asarray(stock_codes, dtype=object)
    return matrix, names.astype(object)


def _style(style: pd.DataFrame, codes: pd.Index) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    frame = _aligned(style, codes)
    names = [c for c in frame.columns if str(c) in BENCHMARK_NAMES]
    # a style series the universe lacks (e.g. the Hang Seng) is in no fund's basis: leave it out
    names = [c for c in names if frame[c].notna().any()]
    weights = frame[names].to_numpy(dtype=float, copy=True) if names else np.full((len(codes), 0), np.nan)
    # a fund fitted without an optional series (its window misses it) holds none of it
    fitted = np.isfinite(weights).any(axis=1)
    weights[fitted] = np.nan_to_num(weights[fitted], nan=0.0)
    drift = frame["drift"].to_numpy(dtype=float) if "drift" in frame.columns else np.full(len(codes), np.nan)
    return weights, np.asarray([str(c) for c in names], dtype=object), drift


def monthly_returns(daily: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(F × M float32 monthly returns compounded from daily ones (NaN days count as 0), month-end dates)."""
    months = daily.index.to_period("M")
    growth = (1.0 + daily.fillna(0.0)).groupby(months).prod() - 1.0
    ends = daily.index.to_series().groupby(months).max().to_numpy()
    return np.ascontiguousarray(growth.to_numpy(dtype=np.float32).T), ends


def path_metrics(returns: np.ndarray) -> dict[str, np.ndarray]:
    """Return (annualized beyond one year), volatility and max drawdown over the last 1 and 3 years of
    each row of monthly returns (rows = portfolios, columns = months; up to 36).

    Monthly, as Morningstar computes its risk statistics: month-end closes understate intra-month
    drawdowns somewhat, and the model portfolio is measured the same way, so comparisons are fair.
    One cumulative product serves both windows; the 1-year drawdown restarts its peak at the window's
    start.
    """
    r = np.asarray(returns, dtype=np.float32)
    n, weeks = r.shape
    out: dict[str, np.ndarray] = {}
    if weeks == 0:
        nan = np.full(n, np.nan)
        return {f"{m}_{label}": nan for m in ("return", "volatility", "max_drawdown") for label in PERFORMANCE_WINDOWS}
    growth = np.cumprod(1.0 + r, axis=1)
    for label, window in PERFORMANCE_WINDOWS.items():
        w = min(window, weeks)
        start = growth[:, weeks - w - 1] if weeks > w else np.ones(n, dtype=np.float32)
        part = growth[:, weeks - w:] / start[:, None]
        total = part[:, -1].astype(np.float64) - 1.0
        years = w / PERIODS_PER_YEAR
        out[f"return_{label}"] = np.power(1.0 + total, 1.0 / years) - 1.0 if years > 1.0 + 1e-9 else total
        out[f"volatility_{label}"] = (r[:, weeks - w:].std(axis=1, ddof=1, dtype=np.float64) * np.sqrt(PERIODS_PER_YEAR)
                                      if w > 1 else np.zeros(n))
        peak = np.maximum.accumulate(np.maximum(part, 1.0), axis=1)
        out[f"max_drawdown_{label}"] = (part / peak - 1.0).min(axis=1).astype(np.float64)
    return out


def build_context(universe: Universe, research: ResearchInputs | None = None,
                  model: ModelInputs | None = None) -> DiagnosisContext:
    """Compute the per-universe arrays (seconds for the real universe; done once per snapshot)."""
    funds = universe.funds
    codes = funds.index
    research = research if research is not None else ResearchInputs.from_research(universe)
    model = model if model is not None else ModelInputs.from_advisor(universe)

    class_pos = {c.value: i for i, c in enumerate(ASSET_CLASSES)}
    asset_class = funds["asset_class"].astype("str").map(class_pos).fillna(class_pos[AssetClass.CN_EQUITY.value])
    share_class = funds.get("share_class", pd.Series("", index=codes)).fillna("").astype("str").to_numpy()
    family, a_sibling = _siblings(funds)
    company, company_names = _codes_of(funds.get("company", pd.Series("", index=codes)))
    first_manager = funds.get("managers", pd.Series("", index=codes)).fillna("").astype("str").str.split().str[0]
    manager, manager_names = _codes_of(first_manager)

    quality = _quality(research.leaderboard, codes)
    stars = quality["stars"].to_numpy(dtype=float)
    industry, industry_names = _industry_matrix(research.industries, codes)
    stock_exposure, stock_names = _stock_matrix(research.stocks, codes)
    overlap_frame = research.overlap
    if overlap_frame is not None and not overlap_frame.empty:
        overlap = overlap_frame.reindex(index=codes, columns=codes).fillna(0.0).to_numpy(dtype=float)
    else:
        overlap = np.zeros((len(codes), len(codes)))
    style, style_names, style_drift = _style(research.style, codes)

    window = universe.returns.iloc[-3 * TRADING_DAYS:]
    correlation = _correlation(window)
    returns, month_ends = monthly_returns(window)
    returns = np.ascontiguousarray(returns[:, -PERFORMANCE_WINDOWS["3y"]:])
    month_ends = month_ends[-PERFORMANCE_WINDOWS["3y"]:]

    flat_weights = model.fund_weights.reshape(-1, len(codes))
    metrics = path_metrics(flat_weights @ returns.astype(np.float64))
    model_metrics = {k: v.reshape(5, 3) for k, v in metrics.items()}
    style_known = np.nan_to_num(style)
    model_style = (flat_weights @ style_known).reshape(5, 3, -1) if style.shape[1] else np.zeros((5, 3, 0))
    model_fee = (flat_weights @ universe.fees.running_cost).reshape(5, 3)

    return DiagnosisContext(
        universe=universe, codes=codes.to_numpy(dtype=object),
        names=funds["name"].fillna("").astype("str").to_numpy(dtype=object),
        risk_level=funds["risk_level"].to_numpy(dtype=np.int8),
        asset_class=asset_class.to_numpy(dtype=np.int8),
        money_market=funds["fund_type"].astype("str").to_numpy() == "money_market",
        is_c_class=share_class == "C", a_sibling=a_sibling, family=family,
        company=company, company_names=company_names, manager=manager, manager_names=manager_names,
        running_cost=np.asarray(universe.fees.running_cost, dtype=float),
        stars=stars, bottom_quartile=quality["bottom"].to_numpy(dtype=bool),
        weak=quality["weak"].to_numpy(dtype=bool), category=_categories(research.leaderboard, codes),
        industry=industry, industry_names=industry_names,
        stock_exposure=stock_exposure, stock_names=stock_names,
        overlap=overlap, correlation=correlation,
        style=style, style_names=style_names, style_drift=style_drift,
        returns=returns, return_dates=month_ends,
        model=model, model_metrics=model_metrics, model_style=model_style, model_fee=model_fee,
        has_look_through=industry.shape[1] > 0, has_style=style.shape[1] > 0,
        has_stars=bool(np.isfinite(stars).any()),
        notes=research.notes + model.notes,
    )
