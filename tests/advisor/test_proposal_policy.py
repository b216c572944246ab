"""What an investment committee signs, over every level × horizon × a ladder of amounts: the glide path,
sector / theme caps, the shared quality rule, company limits and line sizes (no dust)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from advisor.model_portfolios import RISK_CLASSES, build_model_portfolios, horizon_bucket
from advisor.proposal import ProposalConfig, propose
from products.research.mandate import fund_mandates
from products.research.quality import weak_mask
from tests.advisor.proposals_synthetic import cached_universe

LEVELS = (1, 2, 3, 4, 5)
YEARS = (0.5, 2.0, 5.0, 10.0)
LADDER = (1_000.0, 1_500.0, 2_400.0, 4_000.0, 7_500.0, 10_000.0, 15_000.0, 40_000.0, 100_000.0, 120_000.0,
          600_000.0, 1_000_000.0)


def _cents(x: float) -> int:
    return round(x * 100)


class Committee:
    """The checks, with what they need about one universe computed once."""

    def __init__(self, universe, config: ProposalConfig | None = None, *, health_check: bool = False):
        self.universe = universe
        self.config = config or ProposalConfig()
        self.focused = fund_mandates(universe)["focus"].isin(["sector", "theme"])
        self.weak = dict(zip(universe.funds.index, weak_mask(universe), strict=True))
        if health_check:  # the flag the health check itself raises on the same data (not only the rule)
            from advisor.diagnosis.context import diagnosis_context

            flagged = diagnosis_context(universe).weak
            self.weak = {c: bool(w or flagged[universe.code_index[c]]) for c, w in self.weak.items()}
        self.models = build_model_portfolios(universe, policy=self.config.model,
                                             eligibility=self.config.selection.eligibility)

    def check(self, proposal, level: int, amount: float, years: float) -> float:
        """Assert every rule on one proposal; return its share of risk assets (of the amount)."""
        funds, sel, lines_cfg = self.universe.funds, self.config.selection, self.config.lines
        lines = proposal.lines
        total = sum(_cents(x.amount) + _cents(x.fee) for x in lines) + _cents(proposal.cash_remainder)
        assert total == _cents(amount)
        for line in lines:
            row = funds.loc[line.code]
            assert line.risk_level <= level  # suitability
            assert not self.weak[line.code], f"{line.code} is weak by the one quality rule"
            paid = line.amount + line.fee
            assert paid >= row["min_purchase"] - 1e-9
            if amount >= self.config.small_amount:  # no dust: a line is worth holding
                floor = max(lines_cfg.min_line_share * amount, lines_cfg.min_line_amount)
                assert paid >= floor - row["purchase_increment"] - 0.01, (line.code, paid, floor)
        if amount >= self.config.small_amount:
            assert len(lines) <= max(1, math.floor(amount / lines_cfg.min_line_amount))
        # sector and theme funds: capped per fund and in total (one increment of rounding allowed)
        slack = 2.0 / amount
        focused = [x for x in lines if self.focused.get(x.code, False)]
        assert all(x.weight <= sel.focused_fund_cap + slack for x in focused)
        assert sum(x.weight for x in focused) <= sel.focused_total_cap + slack * max(len(focused), 1)
        # at most two funds per company
        companies = funds.loc[[x.code for x in lines], "company"]
        assert companies.value_counts().max() <= sel.max_per_company if len(lines) else True
        # never more risk than the model of the level and horizon
        invested = sum(x.amount for x in lines)
        risk = sum(x.amount for x in lines if x.asset_class in RISK_CLASSES) / amount
        model = self.models[(level, horizon_bucket(years))]
        assert risk <= model.risk_assets + 0.01, (level, years, amount, risk, model.risk_assets)
        assert invested <= proposal.amount + 1e-6
        return risk

    def grid(self, levels=LEVELS, years=YEARS, amounts=LADDER) -> dict[tuple[int, float, float], float]:
        risk = {}
        for level, y, amount in itertools.product(levels, years, amounts):
            p = propose(self.universe, level, amount, y, config=self.config)
            risk[(level, y, amount)] = self.check(p, level, amount, y)
        # the glide path in the proposals too: for a given amount, risk never falls as the horizon grows
        for level, amount in itertools.product(levels, amounts):
            by_horizon = [risk[(level, y, amount)] for y in sorted(years)]
            assert all(b >= a - 0.01 for a, b in itertools.pairwise(by_horizon)), (level, amount, by_horizon)
        return risk


def test_small_amounts_use_few_funds_and_large_ones_carry_no_token_line(demo_universe):
    for level, years in itertools.product(LEVELS, YEARS):
        assert len(propose(demo_universe, level, 1_500, years).lines) <= 3
        big = propose(demo_universe, level, 600_000, years)
        assert min(x.amount + x.fee for x in big.lines) >= 0.03 * 600_000 - 1


def test_committee_rules_on_the_demo_universe(demo_universe):
    committee = Committee(demo_universe, health_check=True)
    risk = committee.grid()
    # the full model's risk is reached once the amount allows it (not only rounding down)
    for level in (3, 4, 5):
        assert risk[(level, 5.0, 600_000.0)] >= committee.models[(level, "long")].risk_assets - 0.02


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 3), level=st.sampled_from(LEVELS), years=st.sampled_from((0.3, 0.9, 1.5, 3.0, 8.0)),
       amount=st.one_of(st.floats(1_000, 5_000), st.floats(5_000, 2_000_000)),
       share=st.sampled_from((0.0, 0.02, 0.05)), floor=st.sampled_from((100.0, 500.0, 1_000.0)))
def test_committee_rules_hold_for_any_line_policy_on_random_universes(seed, level, years, amount, share, floor):
    from advisor.lines import LinePolicy

    amount = round(amount, 2)  # money is whole fen
    config = ProposalConfig(lines=LinePolicy(min_line_share=share, min_line_amount=floor))
    committee = Committee(cached_universe(seed), config)
    p = propose(committee.universe, level, amount, years, config=config)
    committee.check(p, level, amount, years)


def test_a_fund_selected_today_is_not_weak_in_the_health_check(demo_universe):
    from advisor.diagnosis.context import diagnosis_context

    ctx = diagnosis_context(demo_universe)
    codes = {x.code for level, y in itertools.product(LEVELS, YEARS)
             for x in propose(demo_universe, level, 200_000, y).lines}
    position = demo_universe.code_index
    assert codes and not any(ctx.weak[position[c]] for c in codes)


def test_committee_rules_on_the_real_universe(real_universe):
    committee = Committee(real_universe, health_check=True)
    risk = committee.grid()
    # a level holds at least the risk of the level below it, once the amount allows the full model
    for years in YEARS:
        by_level = [risk[(level, years, 600_000.0)] for level in LEVELS]
        assert all(b >= a - 0.01 for a, b in itertools.pairwise(by_level)), (years, by_level)


@pytest.mark.parametrize("amount", [1_500.0])
def test_a_1500_yuan_proposal_holds_at_most_three_funds_on_real_data(real_universe, amount):
    for level, years in itertools.product(LEVELS, YEARS):
        lines = propose(real_universe, level, amount, years).lines
        assert 1 <= len(lines) <= 3
        assert min(x.amount + x.fee for x in lines) >= 500 - 1
        assert np.isclose(sum(x.weight for x in lines), 1.0, atol=1e-5)


def test_the_fund_level_target_is_what_a_reference_proposal_buys(demo_universe):
    """Health check and rebalancing aim at `target_fund_weights`: the funds of a ¥100,000 proposal (its
    line plan, no dust), so a customer who bought a proposal is not told to split a sleeve into more funds."""
    from advisor.proposal import target_fund_weights

    for level, years in itertools.product(LEVELS, YEARS):
        target = target_fund_weights(demo_universe, level, years)
        bought = propose(demo_universe, level, 100_000, years)
        weights = {x.code: x.weight for x in bought.lines}
        assert set(target.index) == set(weights), (level, years)
        for code, w in weights.items():
            assert abs(target[code] - w) < 0.002, (level, years, code)
