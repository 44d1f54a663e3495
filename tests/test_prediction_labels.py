from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bank_crm.core import prediction_labels as pl
from bank_crm.core.errors import CoreValidationError

AS_OF = date(2025, 3, 31)
END = date(2025, 6, 29)  # AS_OF + 90 days


def test_horizon_end():
	assert pl.horizon_end(AS_OF, 90) == END
	with pytest.raises(CoreValidationError):
		pl.horizon_end(AS_OF, 0)


@pytest.mark.parametrize(
	"ended, expected",
	[
		(AS_OF, False),  # the as-of day itself is excluded
		(AS_OF + timedelta(days=1), True),
		(END, True),  # the horizon's last day is included
		(END + timedelta(days=1), False),
		(AS_OF - timedelta(days=30), False),  # already gone: not in the window
		(None, False),
	],
)
def test_churned_by_ending_the_relationship(ended, expected):
	assert pl.churned(AS_OF, 90, ended, 100_000, [], 0.5) is expected


@pytest.mark.parametrize(
	"day, total, expected",
	[
		(AS_OF, 10_000, False),  # a fall on the as-of day is a feature, not the label
		(AS_OF + timedelta(days=1), 50_000, True),  # exactly half: at least the drop share
		(END, 49_999, True),
		(END, 50_001, False),  # not quite half
		(END + timedelta(days=1), 0, False),  # after the horizon
	],
)
def test_churned_by_balance_drop(day, total, expected):
	assert pl.churned(AS_OF, 90, None, 100_000, [(day, total)], 0.5) is expected


def test_churned_any_snapshot_in_the_window_counts():
	series = [(date(2025, 4, 30), 90_000), (date(2025, 5, 31), 20_000), (date(2025, 6, 29), 95_000)]
	assert pl.churned(AS_OF, 90, None, 100_000, series, 0.5)
	assert not pl.churned(AS_OF, 90, None, 100_000, series, 0.85)
	# a drop share of 0.3 is met by a 30 % fall despite float rounding (1 − 0.3 ≠ 0.7 exactly)
	assert pl.churned(AS_OF, 90, None, 100.0, [(END, 70.0)], 0.3)
	# snapshots without a total are skipped
	assert not pl.churned(AS_OF, 90, None, 100.0, [(END, None)], 0.3)


def test_no_balance_before_only_ending_counts():
	assert not pl.churned(AS_OF, 90, None, 0, [(END, -10)], 0.5)
	assert not pl.churned(AS_OF, 90, None, None, [(END, 0)], 0.5)
	assert pl.churned(AS_OF, 90, END, 0, [], 0.5)


def test_churned_refuses_a_bad_drop_share():
	with pytest.raises(CoreValidationError):
		pl.churned(AS_OF, 90, None, 100, [], 0)
	with pytest.raises(CoreValidationError):
		pl.churned(AS_OF, 90, None, 100, [], 1.5)


def test_opened_category_window_boundaries():
	openings = [(AS_OF, "Fund"), (END + timedelta(days=1), "Fund"), (date(2025, 5, 1), "Deposit")]
	assert not pl.opened_category(AS_OF, 90, openings, "Fund")
	assert pl.opened_category(AS_OF, 90, openings, "Deposit")
	assert pl.opened_category(AS_OF, 90, [(AS_OF + timedelta(days=1), "Fund")], "Fund")
	assert pl.opened_category(AS_OF, 90, [(END, "Fund")], "Fund")
	assert not pl.opened_category(AS_OF, 90, [(None, "Fund")], "Fund")
	assert not pl.opened_category(AS_OF, 90, [], "Fund")


# property: data at or before the as-of date (or after the horizon) never changes a label
BASE = date(2024, 1, 1)
offsets = st.integers(-400, 400)  # days from BASE
horizons = st.integers(1, 365)


def _day(offset):
	return BASE + timedelta(days=offset)


def _outside(as_of, horizon):
	"""Dates at or before as_of, or after the horizon."""
	end = as_of + timedelta(days=horizon)
	return st.one_of(
		st.integers(0, 800).map(lambda k: as_of - timedelta(days=k)),
		st.integers(1, 800).map(lambda k: end + timedelta(days=k)),
	)


@given(st.data(), offsets, horizons, st.floats(0.05, 1))
def test_churned_ignores_data_outside_the_window(data, as_of_offset, horizon, drop):
	as_of = _day(as_of_offset)
	inside = st.integers(1, horizon).map(lambda k: as_of + timedelta(days=k))
	totals = st.floats(-1_000, 1_000_000, allow_nan=False)
	series = data.draw(st.lists(st.tuples(inside, totals), max_size=5))
	ended = data.draw(st.one_of(st.none(), inside))
	before = data.draw(st.one_of(st.none(), totals))
	label = pl.churned(as_of, horizon, ended, before, series, drop)

	noise = data.draw(st.lists(st.tuples(_outside(as_of, horizon), totals), max_size=5))
	mixed = data.draw(st.permutations(series + noise))
	assert pl.churned(as_of, horizon, ended, before, mixed, drop) is label
	if ended is None:
		# an end date at or before as_of (or after the horizon) counts as no end date
		outside_end = data.draw(_outside(as_of, horizon))
		assert pl.churned(as_of, horizon, outside_end, before, mixed, drop) is label


@given(st.data(), offsets, horizons)
def test_opened_category_ignores_data_outside_the_window(data, as_of_offset, horizon):
	as_of = _day(as_of_offset)
	inside = st.integers(1, horizon).map(lambda k: as_of + timedelta(days=k))
	categories = st.sampled_from(["Deposit", "Fund", "Insurance", "Loan"])
	openings = data.draw(st.lists(st.tuples(inside, categories), max_size=5))
	label = pl.opened_category(as_of, horizon, openings, "Fund")

	noise = data.draw(st.lists(st.tuples(_outside(as_of, horizon), categories), max_size=5))
	mixed = data.draw(st.permutations(openings + noise))
	assert pl.opened_category(as_of, horizon, mixed, "Fund") is label


def test_someone_who_became_a_customer_after_the_as_of_date_is_no_training_row():
	as_of = date(2026, 3, 1)
	assert pl.customer_on(as_of, date(2020, 1, 1))
	assert pl.customer_on(as_of, as_of)
	assert pl.customer_on(as_of, None)
	assert not pl.customer_on(as_of, date(2026, 3, 2))
