"""Capital market assumptions (CMA) per asset class, estimated from the universe's history.

Method (documented in docs/portfolio-methodology.md):

1. **Asset-class return series.** For each class (cash, bond, cn_equity, global_equity, gold) the daily
   return is the equal-weighted average of the class's funds that have a return that day (what a
   customer can actually buy, net of the funds' running costs). A class without funds falls back to its
   style benchmark series in `universe.benchmarks` (`BENCHMARK_OF_CLASS`); a class with neither uses the
   prior only. Days on which a class has no observation (foreign holidays) count as a zero return.
2. **Covariance.** Ledoit–Wolf shrinkage toward constant correlation (PyPortfolioOpt
   `CovarianceShrinkage(...).ledoit_wolf("constant_correlation")`), which keeps each class's own variance
   (shrinking toward a constant *variance* would give money-market funds an equity-like volatility).
3. **Expected returns.** PyPortfolioOpt's arithmetic historical mean, shrunk toward a long-run prior:
   ``mu = s * prior + (1 - s) * historical`` with `return_shrinkage` s (default 0.7: ten years of daily
   data still say little about a mean).
4. **Views.** Investment-committee views (absolute, or relative "A beats B by x") enter through
   PyPortfolioOpt's `BlackLittermanModel` with the shrunk returns as the prior and Idzorek confidences.
5. **Overrides.** Configured expected returns / volatilities replace the estimate last (correlations kept).

Results are cached per universe version and configuration.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from products.errors import BadInputError
from products.taxonomy import ASSET_CLASSES, AssetClass
from products.universe import Universe

CLASSES: tuple[str, ...] = tuple(str(c) for c in ASSET_CLASSES)
TRADING_DAYS = 252

# Long-run priors (annual, arithmetic): a bank investment committee's neutral stance, roughly the
# 2010s–2020s realised averages of the class benchmarks, rounded.
DEFAULT_PRIOR_RETURNS: dict[str, float] = {
    AssetClass.CASH: 0.018, AssetClass.BOND: 0.032, AssetClass.CN_EQUITY: 0.075,
    AssetClass.GLOBAL_EQUITY: 0.070, AssetClass.GOLD: 0.045,
}
# Used only for a class with no history at all (no fund, no benchmark); correlations then zero.
DEFAULT_PRIOR_VOLATILITIES: dict[str, float] = {
    AssetClass.CASH: 0.002, AssetClass.BOND: 0.025, AssetClass.CN_EQUITY: 0.22,
    AssetClass.GLOBAL_EQUITY: 0.20, AssetClass.GOLD: 0.15,
}
BENCHMARK_OF_CLASS: dict[str, str] = {
    AssetClass.CASH: "cash", AssetClass.BOND: "cn_bond", AssetClass.CN_EQUITY: "cn_large_cap",
    AssetClass.GLOBAL_EQUITY: "us_equity", AssetClass.GOLD: "gold",
}


@dataclass(frozen=True)
class View:
    """An investment-committee view: `asset_class` returns `expected_return` a year (absolute), or
    beats `relative_to` by `expected_return` (relative). `confidence` in (0, 1] (Idzorek)."""

    asset_class: str
    expected_return: float
    confidence: float = 0.5
    relative_to: str | None = None

    def __post_init__(self) -> None:
        for name in (self.asset_class, self.relative_to):
            if name is not None and name not in CLASSES:
                raise BadInputError(f"view names unknown asset class {name!r}",
                                    details={"field": "asset_class", "allowed": list(CLASSES)})
        if not 0.0 < self.confidence <= 1.0:
            raise BadInputError("view confidence must be in (0, 1]", details={"field": "confidence"})
        if not -0.5 < self.expected_return < 1.0 or not np.isfinite(self.expected_return):
            raise BadInputError("view expected_return must be a yearly fraction in (-0.5, 1)",
                                details={"field": "expected_return"})


@dataclass(frozen=True)
class AssumptionConfig:
    lookback_years: float = 10.0
    return_shrinkage: float = 0.7
    prior_returns: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_PRIOR_RETURNS))
    views: tuple[View, ...] = ()
    tau: float = 0.05  # Black–Litterman uncertainty of the prior
    return_overrides: Mapping[str, float] = field(default_factory=dict)
    volatility_overrides: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 0.0 <= self.return_shrinkage <= 1.0:
            raise BadInputError("return_shrinkage must be in [0, 1]", details={"field": "return_shrinkage"})
        if not self.lookback_years > 0.5:
            raise BadInputError("lookback_years must exceed half a year", details={"field": "lookback_years"})
        for mapping, what in ((self.prior_returns, "prior_returns"), (self.return_overrides, "return_overrides"),
                              (self.volatility_overrides, "volatility_overrides")):
            unknown = set(mapping) - set(CLASSES)
            if unknown:
                raise BadInputError(f"{what} names unknown asset classes {sorted(unknown)}",
                                    details={"field": what})
        if any(v <= 0 for v in self.volatility_overrides.values()):
            raise BadInputError("volatility overrides must be positive", details={"field": "volatility_overrides"})

    @classmethod
    def from_dict(cls, payload: Mapping[str, object]) -> AssumptionConfig:
        """Build from JSON-like data (`views` as a list of objects); unknown keys name the field."""
        if not isinstance(payload, Mapping):
            raise BadInputError("assumptions must be an object", details={"field": "assumptions"})
        known = {"lookback_years", "return_shrinkage", "prior_returns", "views", "tau", "return_overrides",
                 "volatility_overrides"}
        unknown = sorted(set(payload) - known)
        if unknown:
            raise BadInputError(f"unknown assumption settings {unknown}", details={"field": unknown[0],
                                                                                   "allowed": sorted(known)})
        kwargs = {k: v for k, v in payload.items() if k != "views"}
        raw_views = payload.get("views") or []
        if not isinstance(raw_views, list):
            raise BadInputError("views must be a list", details={"field": "views"})
        views = []
        for i, v in enumerate(raw_views):
            if not isinstance(v, Mapping) or "asset_class" not in v or "expected_return" not in v:
                raise BadInputError(f"view {i} needs asset_class and expected_return", details={"field": "views",
                                                                                                 "row": i})
            try:
                views.append(View(str(v["asset_class"]), float(v["expected_return"]),  # type: ignore[arg-type]
                                  float(v.get("confidence", 0.5)),  # type: ignore[arg-type]
                                  None if v.get("relative_to") is None else str(v["relative_to"])))
            except (TypeError, ValueError):
                raise BadInputError(f"view {i}: numbers expected", details={"field": "views", "row": i}) from None
        try:
            return cls(**kwargs, views=tuple(views))  # type: ignore[arg-type]
        except TypeError as err:
            raise BadInputError(f"bad assumption settings: {err}", details={"field": "assumptions"}) from None

    def key(self) -> tuple:
        return (self.lookback_years, self.return_shrinkage, tuple(sorted(self.prior_returns.items())),
                self.views, self.tau, tuple(sorted(self.return_overrides.items())),
                tuple(sorted(self.volatility_overrides.items())))


@dataclass(frozen=True, eq=False)
class CapitalMarketAssumptions:
    """Annual arithmetic expected returns and covariance per asset class (order `CLASSES`)."""

    expected_returns: pd.Series
    covariance: pd.DataFrame
    history: pd.DataFrame  # daily class returns the estimate used
    sources: Mapping[str, str]  # class -> "funds:N" / "benchmark:NAME" / "prior"
    as_of: date
    views: tuple[View, ...] = ()
    stress_history: pd.DataFrame | None = None  # each class over its own record (`stress_returns`)

    @property
    def drawdown_history(self) -> pd.DataFrame:
        """The daily class returns the drawdown tolerance is checked on."""
        return self.history if self.stress_history is None else self.stress_history

    @property
    def volatilities(self) -> pd.Series:
        return pd.Series(np.sqrt(np.diag(self.covariance.to_numpy())), index=self.covariance.index)

    def to_dict(self) -> dict[str, object]:
        return {
            "as_of": self.as_of, "classes": list(CLASSES),
            "expected_returns": self.expected_returns.round(6).to_dict(),
            "volatilities": self.volatilities.round(6).to_dict(),
            "correlation": _correlation(self.covariance).round(4).to_dict(),
            "sources": dict(self.sources),
            "history": {"start": self.history.index[0] if len(self.history) else None,
                        "end": self.history.index[-1] if len(self.history) else None},
            "views": [v.__dict__ for v in self.views],
        }


def _correlation(cov: pd.DataFrame) -> pd.DataFrame:
    vol = np.sqrt(np.diag(cov.to_numpy()))
    corr = cov.to_numpy() / np.outer(vol, vol)
    return pd.DataFrame(corr, index=cov.index, columns=cov.columns)


def asset_class_returns(universe: Universe, lookback_years: float = 10.0) -> tuple[pd.DataFrame, dict[str, str]]:
    """Daily returns per asset class over the last `lookback_years` (see module docstring, step 1), on
    the days every class has started (the joint history the covariance is estimated on)."""
    frame, sources = _class_series(universe, lookback_years)
    if frame.shape[1]:
        # a class's series starts at its first observation; after that a missing day is a zero return
        started = frame.notna().cummax()
        frame = frame.where(~started | frame.notna(), 0.0)
        frame = frame.dropna(how="any")
    return frame, sources


def stress_returns(universe: Universe, lookback_years: float = 10.0) -> pd.DataFrame:
    """Daily class returns for the drawdown tolerance: every class over its OWN record in the lookback,
    not only the days all classes share. Before a class's first fund it follows its style benchmark where
    the data has one, else it counts as flat. So a young class (gold funds from 2013) does not hide an
    older crash of another (A-share funds through 2008 or 2015) from the drawdown check."""
    frame, _ = _class_series(universe, lookback_years, benchmark_fill=True)
    if not frame.shape[1]:
        return frame
    frame = frame.loc[frame.notna().any(axis=1)]
    return frame.fillna(0.0)


def _class_series(universe: Universe, lookback_years: float,
                  benchmark_fill: bool = False) -> tuple[pd.DataFrame, dict[str, str]]:
    returns = universe.returns
    if returns.empty:
        return pd.DataFrame(columns=list(CLASSES), dtype=float), dict.fromkeys(CLASSES, "prior")
    start = returns.index[-1] - pd.DateOffset(days=round(lookback_years * 365.25))
    window = returns.loc[returns.index > start]
    classes = universe.funds["asset_class"].astype(str).to_numpy()
    values = window.to_numpy(dtype=float)
    columns: dict[str, pd.Series] = {}
    sources: dict[str, str] = {}
    bench = universe.benchmarks
    for cls in CLASSES:
        mask = classes == cls
        benchmark = None
        if not bench.empty and BENCHMARK_OF_CLASS[cls] in bench.columns:
            level = bench[BENCHMARK_OF_CLASS[cls]].astype(float)
            benchmark = level.pct_change(fill_method=None).reindex(window.index)
        if mask.any():
            block = values[:, mask]
            count = np.sum(~np.isnan(block), axis=1)
            mean = pd.Series(np.where(count > 0, np.nansum(block, axis=1) / np.maximum(count, 1), np.nan),
                             index=window.index)
            if benchmark_fill and benchmark is not None:
                first = mean.first_valid_index()
                before = mean.index < first if first is not None else np.ones(len(mean), dtype=bool)
                mean = mean.where(~before, benchmark)
            columns[cls] = mean
            sources[cls] = f"funds:{int(mask.sum())}"
        elif benchmark is not None:
            columns[cls] = benchmark
            sources[cls] = f"benchmark:{BENCHMARK_OF_CLASS[cls]}"
        else:
            sources[cls] = "prior"
    return pd.DataFrame(columns, index=window.index), sources


def estimate_assumptions(universe: Universe, config: AssumptionConfig | None = None) -> CapitalMarketAssumptions:
    """The capital market assumptions for `universe` (cached per universe version and config)."""
    config = config or AssumptionConfig()
    return _estimate_cached(universe, universe.version, config.key(), config)


_CACHE: dict[tuple, CapitalMarketAssumptions] = {}


def _estimate_cached(universe: Universe, version: str, key: tuple,
                     config: AssumptionConfig) -> CapitalMarketAssumptions:
    cache_key = (version, key)
    found = _CACHE.get(cache_key)
    if found is None:
        if len(_CACHE) > 32:
            _CACHE.clear()
        found = _CACHE[cache_key] = _estimate(universe, config)
    return found


def _estimate(universe: Universe, config: AssumptionConfig) -> CapitalMarketAssumptions:
    history, sources = asset_class_returns(universe, config.lookback_years)
    prior = pd.Series({c: float(config.prior_returns.get(c, DEFAULT_PRIOR_RETURNS[c])) for c in CLASSES})
    cov = pd.DataFrame(np.diag([DEFAULT_PRIOR_VOLATILITIES[c] ** 2 for c in CLASSES]),
                       index=list(CLASSES), columns=list(CLASSES))
    mu = prior.copy()
    with_history = [c for c in CLASSES if c in history.columns]
    if with_history and len(history) >= TRADING_DAYS // 2:
        from pypfopt import expected_returns, risk_models  # loads on first use (fast cold starts)

        block = history[with_history]
        # a (near-)constant series — a money-market yield — has no correlation to shrink: it keeps its own
        # sample variance and zero covariance; the others go through Ledoit–Wolf
        sample = block.cov().to_numpy() * TRADING_DAYS
        moving = [c for i, c in enumerate(with_history) if sample[i, i] > 1e-10]
        for i, c in enumerate(with_history):
            cov.loc[c, c] = max(sample[i, i], 1e-12)
        if len(moving) > 1:
            shrunk = risk_models.CovarianceShrinkage(block[moving], returns_data=True, frequency=TRADING_DAYS)
            est_cov = shrunk.ledoit_wolf(shrinkage_target="constant_correlation")
            if np.isfinite(est_cov.to_numpy()).all():
                cov.loc[moving, moving] = est_cov.loc[moving, moving].to_numpy()
        hist_mu = expected_returns.mean_historical_return(block, returns_data=True, compounding=False,
                                                          frequency=TRADING_DAYS)
        s = config.return_shrinkage
        mu[with_history] = s * prior[with_history] + (1.0 - s) * hist_mu[with_history]
    else:
        sources = dict.fromkeys(CLASSES, "prior")
    cov = _nearest_psd(cov)
    if config.views:
        mu = _black_litterman(mu, cov, config.views, config.tau)
    if config.volatility_overrides:
        vol = np.sqrt(np.diag(cov.to_numpy())).copy()
        for cls, value in config.volatility_overrides.items():
            vol[CLASSES.index(cls)] = value
        corr = _correlation(cov).to_numpy()
        cov = pd.DataFrame(corr * np.outer(vol, vol), index=cov.index, columns=cov.columns)
    for cls, value in config.return_overrides.items():
        mu[cls] = float(value)
    return CapitalMarketAssumptions(expected_returns=mu.astype(float), covariance=cov, history=history,
                                    sources=sources, as_of=universe.as_of, views=tuple(config.views),
                                    stress_history=stress_returns(universe, config.lookback_years))


def _black_litterman(prior: pd.Series, cov: pd.DataFrame, views: tuple[View, ...], tau: float) -> pd.Series:
    """Posterior expected returns (PyPortfolioOpt `BlackLittermanModel`, Idzorek confidences)."""
    p = np.zeros((len(views), len(CLASSES)))
    q = np.zeros(len(views))
    for row, view in enumerate(views):
        p[row, CLASSES.index(view.asset_class)] = 1.0
        if view.relative_to is not None:
            p[row, CLASSES.index(view.relative_to)] = -1.0
        q[row] = view.expected_return
    from pypfopt.black_litterman import BlackLittermanModel

    model = BlackLittermanModel(cov, pi=prior, P=p, Q=q, omega="idzorek",
                                view_confidences=[v.confidence for v in views], tau=tau)
    return model.bl_returns().reindex(list(CLASSES)).astype(float)


def _nearest_psd(cov: pd.DataFrame, floor: float = 1e-10) -> pd.DataFrame:
    values = (cov.to_numpy() + cov.to_numpy().T) / 2.0
    eigval, eigvec = np.linalg.eigh(values)
    if eigval.min() >= floor:
        return pd.DataFrame(values, index=cov.index, columns=cov.columns)
    fixed = (eigvec * np.maximum(eigval, floor)) @ eigvec.T
    return pd.DataFrame((fixed + fixed.T) / 2.0, index=cov.index, columns=cov.columns)
