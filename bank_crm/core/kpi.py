"""Tier goal KPIs: the actual values from portfolio figures and whether each target is met."""

from __future__ import annotations

from dataclasses import dataclass

CONTACT_COVERAGE = "Contact Coverage (%)"
RETENTION = "Retention Rate (%)"
PRODUCT_DEPTH = "Product Depth"
AUM_GROWTH = "AUM Growth (%)"
SATISFACTION = "Satisfaction (1–5)"
KPIS = (CONTACT_COVERAGE, RETENTION, PRODUCT_DEPTH, AUM_GROWTH, SATISFACTION)
FIELD = {
	CONTACT_COVERAGE: "coverage",
	RETENTION: "retention",
	PRODUCT_DEPTH: "depth",
	AUM_GROWTH: "aum_growth",
	SATISFACTION: "satisfaction",
}


@dataclass(frozen=True)
class Attainment:
	met: int
	total: int
	missed: tuple[str, ...]


def actuals(
	customers: int,
	contacted: int,
	retained: int,
	depth: float | None,
	aum_now: float | None,
	aum_then: float | None,
	satisfaction: float | None,
) -> dict[str, float | None]:
	"""KPI values of a group of customers; None where there is nothing to measure."""
	return {
		CONTACT_COVERAGE: round(100.0 * contacted / customers, 1) if customers else None,
		RETENTION: round(100.0 * retained / customers, 1) if customers else None,
		PRODUCT_DEPTH: round(float(depth), 2) if depth is not None else None,
		AUM_GROWTH: round(100.0 * (float(aum_now) - float(aum_then)) / float(aum_then), 1)
		if aum_now is not None and aum_then
		else None,
		SATISFACTION: round(float(satisfaction), 2) if satisfaction is not None else None,
	}


def attainment(values: dict[str, float | None], targets: dict[str, float]) -> Attainment:
	"""Targets met (higher is better for every KPI); an unmeasured KPI counts as missed."""
	missed = tuple(k for k, target in targets.items() if values.get(k) is None or values[k] < float(target))
	return Attainment(len(targets) - len(missed), len(targets), missed)
