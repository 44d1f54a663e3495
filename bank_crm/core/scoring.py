"""Value scoring (客户价值评分): a versioned policy turns figures and judgements into one score.

score = 100 × Σ(wᵢ × nᵢ) / Σwᵢ × risk multiplier, where nᵢ ∈ [0, 1] is each factor's
normalised value:

- quantitative metrics from the latest financial snapshot, normalised against a floor and a
  cap stated in the policy: Linear ``(v − floor) / (cap − floor)`` or Logarithmic
  ``ln(1 + v − floor) / ln(1 + cap − floor)``, clipped to [0, 1];
- qualitative factors scored 1–5 per customer (by the RM or a committee): ``(s − 1) / 4``,
  a missing score counting as 3 (neutral);
- a risk adjustment: the weighted sum is multiplied by the policy's multiplier for the
  customer's risk level.

``explain`` returns each factor's value, normalised value, weight and contribution; the
contributions and the risk adjustment add up to the score exactly.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from bank_crm.core.errors import CoreValidationError

METRICS = ("deposit_balance", "loan_balance", "aum", "fee_income", "composite_yield", "products_held")
QUALITATIVE = ("industry_influence", "cooperation_potential", "risk_rating")
LABELS = {
	"deposit_balance": "Deposit Balance",
	"loan_balance": "Loan Balance",
	"aum": "Wealth / AUM",
	"fee_income": "Fee Income (Period)",
	"composite_yield": "Composite Yield (%)",
	"products_held": "Products Held",
	"industry_influence": "Industry Influence",
	"cooperation_potential": "Cooperation Potential",
	"risk_rating": "Risk Rating",
	"risk_adjustment": "Risk Adjustment",
}
LINEAR, LOGARITHMIC = "Linear", "Logarithmic"
NORMALISATIONS = (LINEAR, LOGARITHMIC)
RISK_LEVELS = ("Low", "Medium", "High")
NEUTRAL_QUALITATIVE = 3


@dataclass(frozen=True)
class MetricWeight:
	metric: str
	weight: float
	method: str = LINEAR
	cap: float = 1.0
	floor: float = 0.0


@dataclass(frozen=True)
class FactorWeight:
	factor: str
	weight: float


@dataclass(frozen=True)
class ScoringPolicy:
	name: str
	metrics: tuple[MetricWeight, ...]
	factors: tuple[FactorWeight, ...] = ()
	risk_multipliers: Mapping[str, float] = field(
		default_factory=lambda: {"Low": 1.0, "Medium": 1.0, "High": 1.0}
	)

	@property
	def total_weight(self) -> float:
		return sum(m.weight for m in self.metrics) + sum(f.weight for f in self.factors)


@dataclass(frozen=True)
class Contribution:
	factor: str
	kind: str  # "metric", "qualitative" or "risk"
	value: float | None
	normalised: float | None
	weight: float | None
	contribution: float


def validate_policy(policy: ScoringPolicy) -> None:
	if not policy.metrics and not policy.factors:
		raise CoreValidationError("metrics", "a policy needs at least one metric or factor")
	seen = set()
	for m in policy.metrics:
		if m.metric not in METRICS:
			raise CoreValidationError("metrics", "{0} is not a known metric", m.metric)
		if m.metric in seen:
			raise CoreValidationError("metrics", "{0} is listed twice", m.metric)
		seen.add(m.metric)
		if m.weight <= 0:
			raise CoreValidationError("metrics", "the weight of {0} must be above zero", m.metric)
		if m.method not in NORMALISATIONS:
			raise CoreValidationError("metrics", "{0}: choose Linear or Logarithmic normalisation", m.metric)
		if m.cap <= m.floor:
			raise CoreValidationError("metrics", "{0}: the cap must be above the floor", m.metric)
	for f in policy.factors:
		if f.factor not in QUALITATIVE:
			raise CoreValidationError("factors", "{0} is not a known qualitative factor", f.factor)
		if f.factor in seen:
			raise CoreValidationError("factors", "{0} is listed twice", f.factor)
		seen.add(f.factor)
		if f.weight <= 0:
			raise CoreValidationError("factors", "the weight of {0} must be above zero", f.factor)
	for level in RISK_LEVELS:
		multiplier = policy.risk_multipliers.get(level, 1.0)
		if not 0 <= multiplier <= 1.5:
			raise CoreValidationError(
				"risk_adjustment", "the {0} risk multiplier must lie between 0 and 1.5", level
			)


def normalise(value: float | None, method: str, floor: float, cap: float) -> float:
	"""Monotone non-decreasing in ``value``, 0 at or below the floor, 1 at or above the cap."""
	v = float(value or 0) - floor
	span = cap - floor
	if v <= 0:
		return 0.0
	if v >= span:
		return 1.0
	if method == LOGARITHMIC:
		return math.log1p(v) / math.log1p(span)
	return v / span


def normalise_qualitative(score: float | None) -> float:
	s = NEUTRAL_QUALITATIVE if score in (None, 0, "") else min(5.0, max(1.0, float(score)))
	return (s - 1.0) / 4.0


def explain(
	policy: ScoringPolicy,
	metrics: Mapping[str, float | None],
	qualitative: Mapping[str, float | None],
	risk_level: str | None,
) -> tuple[float, list[Contribution]]:
	"""The score and the contribution of every factor (they sum to the score)."""
	total = policy.total_weight
	parts: list[Contribution] = []
	for m in policy.metrics:
		value = metrics.get(m.metric)
		n = normalise(value, m.method, m.floor, m.cap)
		parts.append(Contribution(m.metric, "metric", value, n, m.weight, 100.0 * m.weight * n / total))
	for f in policy.factors:
		value = qualitative.get(f.factor)
		n = normalise_qualitative(value)
		parts.append(Contribution(f.factor, "qualitative", value, n, f.weight, 100.0 * f.weight * n / total))
	raw = sum(p.contribution for p in parts)
	multiplier = policy.risk_multipliers.get(risk_level or "Medium", 1.0)
	adjusted = raw * multiplier
	parts.append(Contribution("risk_adjustment", "risk", multiplier, None, None, adjusted - raw))
	return round(adjusted, 2), parts


def compile_scorer(policy: ScoringPolicy):
	"""A fast scorer for batches: ``scorer(metrics_tuple, qualitative_tuple, risk_level) -> score``.

	``metrics_tuple`` follows ``METRICS`` and ``qualitative_tuple`` follows ``QUALITATIVE``;
	the result equals ``explain(...)[0]``.
	"""
	total = policy.total_weight
	metric_terms = [
		(METRICS.index(m.metric), m.method == LOGARITHMIC, m.floor, m.cap - m.floor, 100.0 * m.weight / total)
		for m in policy.metrics
	]
	factor_terms = [(QUALITATIVE.index(f.factor), 100.0 * f.weight / total) for f in policy.factors]
	multipliers = {level: policy.risk_multipliers.get(level, 1.0) for level in RISK_LEVELS}
	log_spans = {i: math.log1p(span) for i, is_log, _floor, span, _w in metric_terms if is_log}
	log1p = math.log1p

	def scorer(values, qualitative, risk_level):
		s = 0.0
		for i, is_log, floor, span, w in metric_terms:
			v = (values[i] or 0) - floor
			if v <= 0:
				continue
			if v >= span:
				s += w
			elif is_log:
				s += w * log1p(v) / log_spans[i]
			else:
				s += w * v / span
		for i, w in factor_terms:
			q = qualitative[i]
			q = 3.0 if not q else (5.0 if q > 5 else (1.0 if q < 1 else float(q)))
			s += w * (q - 1.0) / 4.0
		return round(s * multipliers.get(risk_level or "Medium", 1.0), 2)

	return scorer
