"""Settings of a simulation: the policy under test (proposal and rebalancing settings) and how it is run."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from advisor.proposal import ProposalConfig
from advisor.rebalancing.settings import DEFAULT_SETTINGS, RebalanceSettings
from advisor.simulation.pointintime import DEFAULT_SILENCE_DAYS
from advisor.simulation.schedule import CADENCES
from products.errors import BadInputError

SIMULATOR_VERSION = "sim-2026.12-1"


@dataclass(frozen=True)
class SimulationConfig:
    """What is simulated and how.

    The policy is exactly the service's: `proposal` configures models, selection and construction (the
    first purchase and the rebalancing targets), `rebalance` the rebalancing engine (bands, calendar,
    costs, turnover cap). The rest describes the simulation itself:

    * `research_cadence`: how often point-in-time research is recomputed (`advisor.simulation.schedule`).
    * `execution_lag`: trading days between a decision (on that day's closing data) and its fill; 1 is
      how a fund order works (the evening's suggestion is confirmed the next day and gets that day's
      NAV); 0 fills at the NAV the decision saw (for checking fees against the engine exactly).
    * `silence_days`: trading days without a NAV after which a fund counts as gone (liquidated).
    * `drift_margin`: the simulator asks the engine about every customer whose class drift is within
      this margin of the engine's suggest band (a superset: the engine decides with its own triggers).
    * `buy_and_hold`: also simulate, for every customer, a twin who keeps the first purchase and never
      rebalances (the comparison the issue asks for).
    * `workers`: processes computing research in parallel (1 = in process); `cache_dir`: where research
      results are kept between runs (keyed by data version, settings and a fingerprint of the code).
    * `lookahead`: the longest quiet stretch (trading days) of a customer answered in one engine call;
      it changes how fast the book is stepped, never the result (1 = the plain daily loop). Longer
      stretches mean fewer calls but more evenings asked after a trade and thrown away; 10 was fastest on
      the real grid (benchmarks/README.md).
    """

    proposal: ProposalConfig = field(default_factory=ProposalConfig)
    rebalance: RebalanceSettings = DEFAULT_SETTINGS
    research_cadence: str = "quarterly"
    execution_lag: int = 1
    silence_days: int = DEFAULT_SILENCE_DAYS
    drift_margin: float = 0.001
    buy_and_hold: bool = True
    workers: int = 1
    cache_dir: Path | None = None
    lookahead: int = 10

    def __post_init__(self) -> None:
        if self.research_cadence not in CADENCES:
            raise BadInputError(f"research cadence must be one of {', '.join(CADENCES)}",
                                details={"field": "research_cadence"})
        if self.execution_lag not in (0, 1):
            raise BadInputError("execution_lag must be 0 or 1 trading day", details={"field": "execution_lag"})
        if self.silence_days < 1:
            raise BadInputError("silence_days must be at least 1", details={"field": "silence_days"})
        if not 0 <= self.drift_margin < self.rebalance.suggest_band:
            raise BadInputError("drift_margin must be in [0, suggest_band)", details={"field": "drift_margin"})
        if self.workers < 1:
            raise BadInputError("workers must be at least 1", details={"field": "workers"})
        if self.lookahead < 1:
            raise BadInputError("lookahead must be at least 1 trading day", details={"field": "lookahead"})

    @property
    def min_history_days(self) -> int:
        return int(self.proposal.selection.min_history_days)

    def research_key(self) -> tuple:
        """Everything research results depend on besides the data (and the code: `code_fingerprint`)."""
        return (SIMULATOR_VERSION, self.proposal.key(), self.silence_days)

    def key(self) -> str:
        text = repr((self.research_key(), repr(self.rebalance), self.research_cadence, self.execution_lag,
                     self.drift_margin, self.buy_and_hold))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def with_(self, **changes: object) -> SimulationConfig:
        return replace(self, **changes)  # type: ignore[arg-type]


RESEARCH_SOURCES: tuple[str, ...] = ("products", "risk", "advisor/*.py", "advisor/simulation/pointintime.py",
                                     "advisor/simulation/research.py")
POLICY_SOURCES: tuple[str, ...] = ("products", "risk", "advisor")


@lru_cache(maxsize=4)
def code_fingerprint(sources: tuple[str, ...] = POLICY_SOURCES) -> str:
    """A hash of the source files `sources` (packages, or globs under the repository root): cached
    research or records made by other code are never reused. Research is keyed by `RESEARCH_SOURCES`
    (what it runs: products, risk, the proposal modules), records by the whole policy."""
    root = Path(__file__).resolve().parents[2]
    files: set[Path] = set()
    for source in sources:
        path = root / source
        files.update(path.rglob("*.py") if path.is_dir() else root.glob(source))
    h = hashlib.sha256()
    for path in sorted(files):
        h.update(str(path.relative_to(root)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]
