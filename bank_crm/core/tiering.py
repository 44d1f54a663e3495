"""Tiers (客户分层) with hard floors, hysteresis and approved overrides.

Tiers are ranked (1 = best). A customer's eligible tier is the best one whose minimum score
and hard floors (minimum AUM, minimum deposit balance) they meet; the lowest-ranked tier takes
everyone. Upgrades happen at once. A downgrade happens only after the customer has been below
their current tier's boundary minus the policy's margin (or below a hard floor) for N
consecutive runs: no flapping at a boundary. An approved, unexpired manual override wins.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from bank_crm.core.errors import CoreValidationError

INITIAL = "initial"
UPGRADE = "upgrade"
DOWNGRADE = "downgrade"
OVERRIDE = "override"
POLICY_CHANGE = "tier not in policy"


@dataclass(frozen=True)
class TierRule:
	tier: str
	rank: int
	min_score: float
	min_aum: float | None = None
	min_deposit: float | None = None

	def qualifies(self, score: float, aum: float, deposit: float, margin: float = 0.0) -> bool:
		if score < self.min_score - margin:
			return False
		if self.min_aum and aum < self.min_aum:
			return False
		return not (self.min_deposit and deposit < self.min_deposit)


@dataclass(frozen=True)
class TierPolicy:
	tiers: tuple[TierRule, ...]  # best first
	downgrade_margin: float = 5.0
	downgrade_runs: int = 2

	@classmethod
	def build(
		cls, tiers: Iterable[TierRule], downgrade_margin: float = 5.0, downgrade_runs: int = 2
	) -> TierPolicy:
		ordered = tuple(sorted(tiers, key=lambda t: t.rank))
		validate_tiers(ordered, downgrade_margin, downgrade_runs)
		return cls(ordered, float(downgrade_margin), int(downgrade_runs))

	def rule(self, tier: str | None) -> TierRule | None:
		for t in self.tiers:
			if t.tier == tier:
				return t
		return None

	def eligible(self, score: float, aum: float = 0.0, deposit: float = 0.0) -> TierRule:
		for t in self.tiers:
			if t.qualifies(score, aum, deposit):
				return t
		return self.tiers[-1]


def validate_tiers(tiers: tuple[TierRule, ...], margin: float, runs: int) -> None:
	if not tiers:
		raise CoreValidationError("tiers", "a policy needs at least one tier")
	names = [t.tier for t in tiers]
	if len(set(names)) != len(names):
		raise CoreValidationError("tiers", "each tier may appear only once")
	ranks = [t.rank for t in tiers]
	if len(set(ranks)) != len(ranks):
		raise CoreValidationError("tiers", "two tiers have the same rank")
	for better, worse in zip(tiers, tiers[1:], strict=False):
		if better.min_score <= worse.min_score:
			raise CoreValidationError(
				"tiers", "{0} ranks above {1}, so it needs a higher minimum score", better.tier, worse.tier
			)
	last = tiers[-1]
	if last.min_score > 0 or last.min_aum or last.min_deposit:
		raise CoreValidationError(
			"tiers", "the lowest tier ({0}) must take everyone: minimum score 0 and no floors", last.tier
		)
	if margin < 0:
		raise CoreValidationError("downgrade_margin", "cannot be negative")
	if runs < 1:
		raise CoreValidationError("downgrade_runs", "must be at least 1")


class TierDecision(NamedTuple):
	tier: str
	below_runs: int
	reason: str | None  # None when the tier did not change


def decide(
	policy: TierPolicy,
	current: str | None,
	below_runs: int,
	score: float,
	aum: float = 0.0,
	deposit: float = 0.0,
	override: str | None = None,
) -> TierDecision:
	"""The customer's tier after this run, and the new count of runs spent below the boundary."""
	if override:
		return TierDecision(override, 0, None if override == current else OVERRIDE)
	eligible = policy.eligible(score, aum, deposit)
	rule = policy.rule(current)
	if rule is None:
		return TierDecision(eligible.tier, 0, INITIAL if current is None else POLICY_CHANGE)
	if eligible.rank < rule.rank:
		return TierDecision(eligible.tier, 0, UPGRADE)
	if eligible.rank == rule.rank or rule.qualifies(score, aum, deposit, policy.downgrade_margin):
		return TierDecision(current, 0, None)
	below = (below_runs or 0) + 1
	if below >= policy.downgrade_runs:
		return TierDecision(eligible.tier, 0, DOWNGRADE)
	return TierDecision(current, below, None)


def risk_rating_from_level(risk_level: str | None) -> int:
	"""The default qualitative risk rating (5 = best) when no committee score is recorded."""
	return {"Low": 5, "Medium": 3, "High": 1}.get(risk_level or "Medium", 3)
