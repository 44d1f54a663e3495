import math
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bank_crm.core import model_metrics as mm
from bank_crm.core.errors import CoreValidationError

# the tiny example: negatives score 0.1 and 0.4, positives 0.35 and 0.8
Y = [0, 0, 1, 1]
P = [0.1, 0.4, 0.35, 0.8]


def test_roc_auc_known_value():
	# pairs (pos, neg): 0.35>0.1 ✓, 0.35<0.4 ✗, 0.8>0.1 ✓, 0.8>0.4 ✓ → 3/4
	assert mm.roc_auc(Y, P) == 0.75


def test_roc_auc_ties_count_half():
	# positives 0.9 and 0.5, negatives 0.5 and 0.1:
	# 0.9 beats both (2), 0.5 ties 0.5 (½) and beats 0.1 (1) → 3.5 / 4
	assert mm.roc_auc([0, 1, 1, 0], [0.5, 0.5, 0.9, 0.1]) == 0.875
	# every score equal: every pair a tie
	assert mm.roc_auc([0, 1, 0, 1], [0.3] * 4) == 0.5


def test_roc_auc_perfect_and_reversed():
	assert mm.roc_auc([0, 0, 1], [0.1, 0.2, 0.9]) == 1.0
	assert mm.roc_auc([1, 1, 0], [0.1, 0.2, 0.9]) == 0.0


@pytest.mark.parametrize("y", [[0, 0, 0], [1, 1]])
def test_roc_auc_needs_both_classes(y):
	with pytest.raises(CoreValidationError) as e:
		mm.roc_auc(y, [0.5] * len(y))
	assert e.value.field == "y"


def test_bad_input_is_refused():
	with pytest.raises(CoreValidationError):
		mm.roc_auc([0, 1], [0.5])  # lengths differ
	with pytest.raises(CoreValidationError):
		mm.roc_auc([0, 2], [0.5, 0.6])  # a label other than 0/1
	with pytest.raises(CoreValidationError):
		mm.roc_auc([0, 1], [0.5, math.nan])
	with pytest.raises(CoreValidationError):
		mm.roc_auc([], [])
	with pytest.raises(CoreValidationError):
		mm.brier([0, 1], [0.5, 1.2])  # a probability above 1


def test_pr_auc_known_value():
	# from the top: 0.8 (pos) R=½ P=1; 0.4 (neg) R=½ P=½; 0.35 (pos) R=1 P=⅔; 0.1 (neg)
	# AP = ½·1 + ½·⅔ = 0.8333…
	assert mm.pr_auc(Y, P) == pytest.approx(5 / 6)


def test_pr_auc_groups_ties():
	# one positive and one negative tied: they enter together, R=1 P=½ → AP ½ (not 1)
	assert mm.pr_auc([1, 0], [0.5, 0.5]) == 0.5
	# 0.9 (pos) R=½ P=1; the 0.5 pair (pos, neg) R=1 P=⅔ → ½ + ⅓
	assert mm.pr_auc([0, 1, 1, 0], [0.5, 0.5, 0.9, 0.1]) == pytest.approx(5 / 6)


def test_pr_auc_needs_a_positive_but_not_a_negative():
	with pytest.raises(CoreValidationError):
		mm.pr_auc([0, 0], [0.2, 0.3])
	assert mm.pr_auc([1, 1], [0.2, 0.3]) == 1.0


# ten rows by descending score, four positives (base rate 0.4)
Y10 = [1, 1, 0, 1, 0, 0, 0, 0, 1, 0]
P10 = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05]


def test_lift_and_capture_on_ten_rows():
	# top 10 % = 1 row, a hit: rate 1 / 0.4 = 2.5, caught 1 of 4
	assert mm.lift_and_capture(Y10, P10, 0.1) == pytest.approx((2.5, 0.25))
	# top 20 % = 2 rows, both hits: lift 2.5, capture ½
	assert mm.lift_and_capture(Y10, P10, 0.2) == pytest.approx((2.5, 0.5))
	# top 30 % = 3 rows (not 4: 0.3 × 10 is 3.0000000000000004), 2 hits: (⅔) / 0.4, capture ½
	assert mm.lift_and_capture(Y10, P10, 0.3) == pytest.approx((5 / 3, 0.5))
	# everyone: lift 1, capture 1
	assert mm.lift_and_capture(Y10, P10, 1.0) == pytest.approx((1.0, 1.0))
	# the order of the rows does not matter, only the scores
	shuffled = [(Y10[i], P10[i]) for i in (3, 7, 0, 9, 5, 1, 8, 2, 6, 4)]
	assert mm.lift_and_capture([y for y, _ in shuffled], [p for _, p in shuffled], 0.2) == pytest.approx(
		(2.5, 0.5)
	)


def test_lift_ties_at_the_cut_follow_input_order():
	# all four tied: the top 25 % is the first row in input order
	assert mm.lift_and_capture([1, 0, 0, 0], [0.5] * 4, 0.25) == (4.0, 1.0)
	assert mm.lift_and_capture([0, 0, 0, 1], [0.5] * 4, 0.25) == (0.0, 0.0)


def test_top_count_and_bad_share():
	assert mm.top_count(10, 0.1) == 1
	assert mm.top_count(10, 0.25) == 3  # covers the share
	assert mm.top_count(5, 0.01) == 1  # at least one row
	with pytest.raises(CoreValidationError):
		mm.top_count(10, 0)
	with pytest.raises(CoreValidationError):
		mm.lift_and_capture([0, 0], [0.1, 0.2])  # no positive


def test_brier_known_value():
	# (0.1)² + (0.4)² + (0.65)² + (0.2)² = 0.01 + 0.16 + 0.4225 + 0.04 = 0.6325; / 4
	assert mm.brier(Y, P) == pytest.approx(0.158125)
	assert mm.brier([0, 1], [0.0, 1.0]) == 0.0


def test_calibration_bins_equal_width_and_empty_bins_left_out():
	y = [0, 0, 1, 1, 1]
	p = [0.05, 0.15, 0.12, 0.95, 1.0]
	bins = mm.calibration_bins(y, p, bins=10)
	# [0, 0.1): 0.05 → rate 0; [0.1, 0.2): 0.15, 0.12 → mean 0.135, rate ½; [0.9, 1]: 0.95, 1.0
	assert [(b.lower, b.upper, b.count) for b in bins] == [(0.0, 0.1, 1), (0.1, 0.2, 2), (0.9, 1.0, 2)]
	assert bins[1].mean_predicted == pytest.approx(0.135)
	assert bins[1].observed_rate == 0.5
	assert bins[2] == pytest.approx((0.9, 1.0, 2, 0.975, 1.0))


def test_calibration_bin_edges_are_lower_inclusive():
	# 0.3 and 0.7 sit on edges: they belong to the bin they start
	bins = mm.calibration_bins([0, 1], [0.3, 0.7], bins=10)
	assert [(b.lower, b.upper) for b in bins] == [(0.3, 0.4), (0.7, 0.8)]
	assert mm.calibration_bins([1], [0.5], bins=2)[0][:3] == (0.5, 1.0, 1)


def test_psi_identical_samples_is_zero():
	sample = [i / 100 for i in range(100)]
	assert mm.psi(sample, list(sample)) == pytest.approx(0.0, abs=1e-12)


def test_psi_known_value_with_two_bins():
	# the median of [1, 2, 3, 4] is 2.5: expected ½ | ½, actual [1, 1, 1, 4] ¾ | ¼
	# PSI = (¾ − ½)·ln(1.5) + (¼ − ½)·ln(0.5) = 0.101366 + 0.173287 = 0.274653
	assert mm.psi([1, 2, 3, 4], [1, 1, 1, 4], bins=2) == pytest.approx(0.274653, abs=1e-6)


def test_psi_empty_bin_takes_the_epsilon():
	# actual all in the lower bin: 1 | 0 → 1 | 1e-4
	# (1 − ½)·ln 2 + (1e-4 − ½)·ln(1e-4 / ½) = 0.346574 + 4.257745 = 4.604319
	assert mm.psi([1, 2, 3, 4], [1, 1, 1, 1], bins=2) == pytest.approx(4.604319, abs=1e-5)


def test_psi_of_a_shifted_sample_is_above_the_drift_mark():
	expected = [i / 100 for i in range(100)]
	shifted = [min(1.0, v + 0.15) for v in expected]
	assert mm.psi(expected, shifted) > 0.1
	assert mm.psi(expected, shifted) > mm.psi(expected, [min(1.0, v + 0.02) for v in expected])


def test_psi_edges_are_deciles_and_ties_merge():
	assert mm.psi_edges(list(range(11))) == pytest.approx([1, 2, 3, 4, 5, 6, 7, 8, 9])
	assert mm.psi_edges([0] * 8 + [1, 2]) == pytest.approx([0, 0.2, 1.1])


@given(
	st.lists(st.floats(0, 1), min_size=1, max_size=40),
	st.lists(st.floats(0, 1), min_size=1, max_size=40),
)
def test_psi_is_never_negative(expected, actual):
	assert mm.psi(expected, actual) >= 0


labelled = st.lists(st.tuples(st.sampled_from([0, 1]), st.integers(0, 100)), min_size=2, max_size=40).filter(
	lambda rows: len({y for y, _ in rows}) == 2
)


@given(labelled)
def test_roc_auc_is_invariant_under_a_strictly_increasing_transform(rows):
	y = [label for label, _ in rows]
	p = [s / 100 for _, s in rows]
	assert mm.roc_auc(y, p) == mm.roc_auc(y, [math.exp(3 * v) - 7 for v in p])
	assert mm.roc_auc(y, p) == mm.roc_auc(y, [v**2 for v in p])
	assert mm.roc_auc(y, p) + mm.roc_auc(y, [-v for v in p]) == pytest.approx(1.0)


@given(labelled)
def test_roc_auc_matches_counting_pairs(rows):
	y = [label for label, _ in rows]
	p = [float(s) for _, s in rows]
	pos = [s for label, s in zip(y, p, strict=True) if label]
	neg = [s for label, s in zip(y, p, strict=True) if not label]
	pairs = sum(1.0 if a > b else 0.5 if a == b else 0.0 for a in pos for b in neg)
	assert mm.roc_auc(y, p) == pytest.approx(pairs / (len(pos) * len(neg)))


def test_matches_scikit_learn():
	metrics = pytest.importorskip("sklearn.metrics")
	y = [0, 1, 1, 0, 1, 0, 0, 1, 1, 0, 0, 1]
	p = [0.2, 0.7, 0.7, 0.7, 0.1, 0.3, 0.3, 0.9, 0.5, 0.5, 0.05, 0.3]
	assert mm.roc_auc(y, p) == pytest.approx(metrics.roc_auc_score(y, p))
	assert mm.pr_auc(y, p) == pytest.approx(metrics.average_precision_score(y, p))
	assert mm.brier(y, p) == pytest.approx(metrics.brier_score_loss(y, p))


# fairness: group A is scored well, group B at random
FY = [0, 0, 1, 1, 0, 1, 0, 1]
FP = [0.1, 0.2, 0.8, 0.9, 0.7, 0.6, 0.3, 0.2]
FG = ["A", "A", "A", "A", "B", "B", "B", "B"]


def test_fairness_per_group():
	per = mm.fairness(FY, FP, FG, threshold=0.5)
	a, b = per["A"], per["B"]
	# A: 4 rows, 2 positives, flagged 0.8 and 0.9 (both hits), AUC 1
	assert a == mm.GroupMetrics(count=4, positives=2, flagged=2, flagged_share=0.5, roc_auc=1.0, hit_rate=1.0)
	# B: flagged 0.7 (neg) and 0.6 (pos) → hit rate ½;
	# AUC: pos 0.6 beats 0.3, loses to 0.7; pos 0.2 loses to both → 1/4
	assert b == mm.GroupMetrics(
		count=4, positives=2, flagged=2, flagged_share=0.5, roc_auc=0.25, hit_rate=0.5
	)
	assert a.to_dict()["roc_auc"] == 1.0


def test_fairness_one_class_group_and_nobody_flagged():
	per = mm.fairness([0, 0, 1, 0], [0.1, 0.2, 0.9, 0.4], ["x", "x", "y", "y"], threshold=0.95)
	assert per["x"].roc_auc is None and per["x"].hit_rate is None and per["x"].flagged_share == 0
	assert per["y"].roc_auc == 1.0
	with pytest.raises(CoreValidationError):
		mm.fairness([0, 1], [0.1, 0.9], ["x"], threshold=0.5)


def test_largest_gap_between_groups_big_enough():
	per = mm.fairness(FY, FP, FG, threshold=0.5)
	assert mm.largest_gap(per, "roc_auc", min_count=4) == ("A", "B", 0.75)
	assert mm.largest_gap(per, "hit_rate", min_count=4) == ("A", "B", 0.5)
	# equal values: the first group by name on both sides, gap 0
	assert mm.largest_gap(per, "flagged_share", min_count=4) == ("A", "A", 0.0)
	# too few rows in every group → nothing to compare
	assert mm.largest_gap(per, "roc_auc", min_count=5) is None
	# dicts read back from JSON work the same; a group without a value is left out
	stored = {g: m.to_dict() for g, m in per.items()}
	stored["C"] = {**stored["A"], "roc_auc": None, "count": 100}
	stored["D"] = {**stored["B"], "count": 2}
	assert mm.largest_gap(stored, "roc_auc", min_count=4) == ("A", "B", 0.75)
	with pytest.raises(CoreValidationError):
		mm.largest_gap(per, "accuracy")


@pytest.mark.parametrize(
	"birth, band",
	[
		(date(1995, 6, 2), "<30"),  # 29 on 2025-06-01: the birthday is tomorrow
		(date(1995, 6, 1), "30-44"),  # 30 today
		(date(1980, 6, 2), "30-44"),  # 44
		(date(1980, 6, 1), "45-59"),  # 45
		(date(1965, 6, 2), "45-59"),  # 59
		(date(1965, 6, 1), "60+"),  # 60
		(None, "Unknown"),
		(date(2030, 1, 1), "Unknown"),  # born after the as-of date: bad data
	],
)
def test_age_band(birth, band):
	assert mm.age_band(birth, date(2025, 6, 1)) == band
