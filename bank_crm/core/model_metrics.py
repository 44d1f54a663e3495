"""Evaluation metrics (模型评估) for the churn and next-product models, in plain Python.

Every function takes labels ``y`` (0 or 1) and scores ``p`` as equally long, non-empty lists;
bad input raises ``CoreValidationError`` (field ``y``, ``p``, … and an untranslated message):

- ``roc_auc`` — the Mann–Whitney statistic: the share of (positive, negative) pairs whose
  positive scores higher, a tie counting half. Needs both classes.
- ``pr_auc`` — average precision as scikit-learn's ``average_precision_score`` computes it:
  Σ (Rₖ − Rₖ₋₁) · Pₖ over the distinct scores from the highest down, rows with equal scores
  entering together. Needs a positive.
- ``lift_and_capture`` — of the top share of rows by score: the hit rate over the base rate,
  and the share of all positives caught.
- ``brier`` and ``calibration_bins`` — how far the scores, read as probabilities, are from the
  outcomes; these two need scores in [0, 1].
- ``psi`` — population stability index of a score sample against a reference sample.
- ``fairness`` and ``largest_gap`` — the figures per group (age band, gender, branch …) and
  the widest difference of one of them between groups big enough to judge.

``roc_auc``, ``pr_auc`` and ``lift_and_capture`` use only the order of the scores, so they
accept any finite numbers.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import date
from typing import NamedTuple

from bank_crm.core.errors import CoreValidationError

PSI_EPSILON = 1e-4  # the share given to an empty bin, so that the logarithm stays finite
AGE_BANDS = ("<30", "30-44", "45-59", "60+")
UNKNOWN_AGE = "Unknown"


class LiftCapture(NamedTuple):
	lift: float
	capture: float


class CalibrationBin(NamedTuple):
	lower: float
	upper: float
	count: int
	mean_predicted: float
	observed_rate: float


class Gap(NamedTuple):
	high: Hashable  # the group with the largest value
	low: Hashable  # the group with the smallest value
	gap: float


@dataclass(frozen=True)
class GroupMetrics:
	count: int
	positives: int
	flagged: int  # rows scored at or above the threshold
	flagged_share: float
	roc_auc: float | None  # None when the group lacks one of the classes
	hit_rate: float | None  # positives among the flagged; None when nobody is flagged

	def to_dict(self) -> dict:
		"""The figures as a plain dict, for JSON."""
		return asdict(self)


GAP_KEYS = tuple(f.name for f in fields(GroupMetrics))


def _scores(p: Sequence[float], field: str = "p") -> list[float]:
	"""The scores as floats; every one finite."""
	out = [float(v) for v in p]
	if not out:
		raise CoreValidationError(field, "No scores given")
	if not all(math.isfinite(v) for v in out):
		raise CoreValidationError(field, "Every score must be a finite number")
	return out


def _checked(y: Sequence[int], p: Sequence[float]) -> tuple[list[int], list[float]]:
	"""Labels and scores validated: same length, non-empty, labels 0 or 1, scores finite."""
	if len(y) != len(p):
		raise CoreValidationError("p", "{0} labels but {1} scores", len(y), len(p))
	scores = _scores(p)
	if any(v not in (0, 1) for v in y):
		raise CoreValidationError("y", "Every label must be 0 or 1")
	return [int(v) for v in y], scores


def _probabilities(p: list[float]) -> list[float]:
	"""The scores, checked to lie in [0, 1]."""
	if any(v < 0 or v > 1 for v in p):
		raise CoreValidationError("p", "Every score must lie between 0 and 1")
	return p


def _groups_by_score(y: list[int], p: list[float], descending: bool) -> list[tuple[int, int]]:
	"""(positives, negatives) among the rows of each distinct score, in score order."""
	counts: dict[float, list[int]] = {}
	for label, score in zip(y, p, strict=True):
		pair = counts.setdefault(score, [0, 0])
		pair[0 if label else 1] += 1
	return [tuple(counts[s]) for s in sorted(counts, reverse=descending)]


def roc_auc(y: Sequence[int], p: Sequence[float]) -> float:
	"""Area under the ROC curve: P(a positive outscores a negative), ties counting half."""
	labels, scores = _checked(y, p)
	n_pos = sum(labels)
	n_neg = len(labels) - n_pos
	if n_pos == 0 or n_neg == 0:
		raise CoreValidationError("y", "ROC AUC needs both positive and negative labels")
	wins, negatives_below = 0.0, 0
	for pos, neg in _groups_by_score(labels, scores, descending=False):
		wins += pos * (negatives_below + neg / 2)
		negatives_below += neg
	return wins / (n_pos * n_neg)


def pr_auc(y: Sequence[int], p: Sequence[float]) -> float:
	"""Average precision: Σ (recall gained) × precision at each distinct score, highest first."""
	labels, scores = _checked(y, p)
	n_pos = sum(labels)
	if n_pos == 0:
		raise CoreValidationError("y", "Average precision needs at least one positive label")
	total, tp, fp = 0.0, 0, 0
	for pos, neg in _groups_by_score(labels, scores, descending=True):
		tp, fp = tp + pos, fp + neg
		if pos:
			total += (pos / n_pos) * (tp / (tp + fp))
	return total


def top_count(n: int, top_share: float) -> int:
	"""Rows in the top share of ``n``: the fewest that cover it, at least one."""
	if not (0 < top_share <= 1):
		raise CoreValidationError("top_share", "The top share must be above 0 and at most 1")
	return max(1, min(n, math.ceil(top_share * n - 1e-9)))


def lift_and_capture(y: Sequence[int], p: Sequence[float], top_share: float = 0.1) -> LiftCapture:
	"""Lift (top hit rate ÷ base rate) and capture (share of positives) of the top rows by score.

	The top is ``top_count(len(y), top_share)`` rows; rows tied at the cut are taken in their
	input order (a stable sort), so ties can move a positive in or out of the top.
	"""
	labels, scores = _checked(y, p)
	n_pos = sum(labels)
	if n_pos == 0:
		raise CoreValidationError("y", "Lift needs at least one positive label")
	k = top_count(len(labels), top_share)
	order = sorted(range(len(scores)), key=lambda i: -scores[i])
	hits = sum(labels[i] for i in order[:k])
	return LiftCapture((hits / k) / (n_pos / len(labels)), hits / n_pos)


def brier(y: Sequence[int], p: Sequence[float]) -> float:
	"""Brier score: the mean squared difference between score and outcome (0 is perfect)."""
	labels, scores = _checked(y, p)
	_probabilities(scores)
	return sum((s - t) ** 2 for t, s in zip(labels, scores, strict=True)) / len(labels)


def calibration_bins(y: Sequence[int], p: Sequence[float], bins: int = 10) -> list[CalibrationBin]:
	"""Per equal-width score bin [lower, upper): count, mean score and observed positive rate.

	The last bin also holds a score of exactly 1; bins without rows are left out.
	"""
	labels, scores = _checked(y, p)
	_probabilities(scores)
	if bins < 1:
		raise CoreValidationError("bins", "There must be at least one bin")
	edges = [i / bins for i in range(bins + 1)]
	members: dict[int, list[tuple[int, float]]] = {}
	for label, score in zip(labels, scores, strict=True):
		index = min(bisect_right(edges, score) - 1, bins - 1)
		members.setdefault(index, []).append((label, score))
	return [
		CalibrationBin(
			edges[i],
			edges[i + 1],
			len(rows),
			sum(s for _, s in rows) / len(rows),
			sum(t for t, _ in rows) / len(rows),
		)
		for i, rows in sorted(members.items())
	]


def quantile(sorted_values: Sequence[float], q: float) -> float:
	"""The q-quantile of sorted values, interpolating linearly between neighbours (numpy's default)."""
	h = (len(sorted_values) - 1) * q
	lo = math.floor(h)
	hi = min(lo + 1, len(sorted_values) - 1)
	return sorted_values[lo] + (h - lo) * (sorted_values[hi] - sorted_values[lo])


def psi_edges(expected: Sequence[float], bins: int = 10) -> list[float]:
	"""The inner bin edges of PSI: the quantiles of ``expected`` at 1/bins … (bins−1)/bins, deduplicated."""
	if bins < 2:
		raise CoreValidationError("bins", "PSI needs at least two bins")
	ordered = sorted(_scores(expected, "expected"))
	return sorted({quantile(ordered, i / bins) for i in range(1, bins)})


def _shares(values: list[float], edges: list[float]) -> list[float]:
	"""The share of values in each bin (−∞, e₁], (e₁, e₂], … (eₖ, ∞), floored at ``PSI_EPSILON``."""
	counts = [0] * (len(edges) + 1)
	for v in values:
		counts[bisect_left(edges, v)] += 1
	return [max(c / len(values), PSI_EPSILON) for c in counts]


def psi(expected: Sequence[float], actual: Sequence[float], bins: int = 10) -> float:
	"""Population stability index Σ (aᵢ − eᵢ) · ln(aᵢ / eᵢ) of ``actual`` against ``expected``.

	Bins are the quantiles of ``expected`` (deciles by default; equal quantiles merge, so heavy
	ties give fewer bins), right-closed. An empty bin's share counts as ``PSI_EPSILON`` (1e-4),
	not renormalised. Every term is ≥ 0; identical samples give 0. Rule of thumb: < 0.1
	stable, 0.1–0.25 drifting, > 0.25 shifted.
	"""
	edges = psi_edges(expected, bins)
	e = _shares(_scores(expected, "expected"), edges)
	a = _shares(_scores(actual, "actual"), edges)
	return sum((ai - ei) * math.log(ai / ei) for ai, ei in zip(a, e, strict=True))


def fairness(
	y: Sequence[int], p: Sequence[float], groups: Sequence[Hashable], threshold: float
) -> dict[Hashable, GroupMetrics]:
	"""Per group: count, positives, share flagged (score ≥ threshold), ROC AUC and hit rate among flagged."""
	labels, scores = _checked(y, p)
	if len(groups) != len(labels):
		raise CoreValidationError("groups", "{0} labels but {1} groups", len(labels), len(groups))
	if not math.isfinite(threshold):
		raise CoreValidationError("threshold", "The threshold must be a finite number")
	rows: dict[Hashable, tuple[list[int], list[float]]] = {}
	for label, score, group in zip(labels, scores, groups, strict=True):
		ys, ps = rows.setdefault(group, ([], []))
		ys.append(label)
		ps.append(score)
	out: dict[Hashable, GroupMetrics] = {}
	for group in sorted(rows, key=str):
		ys, ps = rows[group]
		positives = sum(ys)
		flagged = [t for t, s in zip(ys, ps, strict=True) if s >= threshold]
		out[group] = GroupMetrics(
			count=len(ys),
			positives=positives,
			flagged=len(flagged),
			flagged_share=len(flagged) / len(ys),
			roc_auc=roc_auc(ys, ps) if 0 < positives < len(ys) else None,
			hit_rate=sum(flagged) / len(flagged) if flagged else None,
		)
	return out


def largest_gap(
	per_group: Mapping[Hashable, GroupMetrics | Mapping], key: str, min_count: int = 30
) -> Gap | None:
	"""The two groups furthest apart on ``key`` among those with ``min_count`` rows or more and a value.

	``per_group`` is ``fairness``'s answer, or the same figures as dicts (read back from JSON).
	None when fewer than two groups qualify. Equal values: the group first by name wins.
	"""
	if key not in GAP_KEYS:
		raise CoreValidationError("key", "Unknown metric {0}", key)

	def read(m, name):
		return m[name] if isinstance(m, Mapping) else getattr(m, name)

	values = [
		(group, float(read(m, key)))
		for group, m in sorted(per_group.items(), key=lambda kv: str(kv[0]))
		if read(m, "count") >= min_count and read(m, key) is not None
	]
	if len(values) < 2:
		return None
	high = max(values, key=lambda gv: gv[1])
	low = min(values, key=lambda gv: gv[1])
	return Gap(high[0], low[0], high[1] - low[1])


def age_band(birth_date: date | None, as_of: date) -> str:
	"""The age band on ``as_of``: "<30", "30-44", "45-59", "60+"; "Unknown" without a (sane) birth date."""
	if birth_date is None or birth_date > as_of:
		return UNKNOWN_AGE
	age = as_of.year - birth_date.year - ((as_of.month, as_of.day) < (birth_date.month, birth_date.day))
	if age < 30:
		return "<30"
	if age < 45:
		return "30-44"
	if age < 60:
		return "45-59"
	return "60+"
