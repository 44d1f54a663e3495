"""No input takes a batch down: every row check survives any JSON value in any field.

Hypothesis generates rows whose fields hold huge, infinite and NaN numbers, booleans, nested
objects and arrays, wrong types and odd strings; each row is either accepted with typed,
in-range values or refused with the offending field named. Nothing raises.
"""

import json
import math
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bank_crm.core import snapshots, values

TODAY = date(2026, 11, 30)
GOOD = {
	"customer": "CUST-0001",
	"as_of_date": "2026-11-27",
	"deposit_balance": 120000.5,
	"loan_balance": 0,
	"aum": 300000,
	"fee_income": 150,
	"composite_yield": 2.35,
	"products_held": 3,
	"source": "core-banking",
}

scalars = st.one_of(
	st.none(),
	st.booleans(),
	st.integers(),
	st.integers(min_value=10**300, max_value=10**500),
	st.floats(allow_nan=True, allow_infinity=True),
	st.text(max_size=30),
	st.sampled_from(["1e400", "-1e400", "NaN", "inf", "1_000", " 12 ", "", "2026-11-27", "３"]),
)
json_values = st.recursive(
	scalars,
	lambda children: (
		st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
	),
	max_leaves=8,
)


@settings(max_examples=400, deadline=None)
@given(field=st.sampled_from(sorted(GOOD)), value=json_values)
def test_any_value_in_any_field_is_typed_or_refused_with_its_field(field, value):
	row = {**GOOD, field: value}
	clean, errors = snapshots.clean_row(4, row, TODAY)
	if errors:
		assert clean is None
		assert {e.field for e in errors} <= {field}, errors
		assert all(e.index == 4 for e in errors)
		for e in errors:
			e.reason.format(*e.args)  # every message renders
	else:
		assert clean["customer"] and isinstance(clean["customer"], str)
		for name in snapshots.AMOUNTS + ("composite_yield",):
			assert isinstance(clean[name], float) and math.isfinite(clean[name])
			assert abs(clean[name]) <= values.MAX_AMOUNT
		assert (
			isinstance(clean["products_held"], int) and 0 <= clean["products_held"] <= snapshots.MAX_PRODUCTS
		)
		assert clean["source"] is None or (isinstance(clean["source"], str) and len(clean["source"]) <= 140)


@settings(max_examples=200, deadline=None)
@given(row=json_values)
def test_a_row_that_is_not_an_object_is_refused(row):
	clean, errors = snapshots.clean_row(0, row, TODAY)
	if not isinstance(row, dict):
		assert clean is None and errors[0].reason == "each row must be an object"


@settings(max_examples=200, deadline=None)
@given(extra=st.dictionaries(st.text(max_size=8), json_values, min_size=1, max_size=30))
def test_unknown_fields_are_named_never_raised(extra):
	row = {**extra, **GOOD}
	clean, errors = snapshots.clean_row(0, row, TODAY)
	unknown = set(row) - set(GOOD)
	if unknown:
		assert clean is None
		assert all(e.reason == "is not a snapshot field" for e in errors)
		assert 0 < len(errors) <= 20


def test_the_reported_case_one_e_400_in_products_held():
	# json.loads turns 1e400 into inf: it once raised OverflowError and failed the whole call
	row = json.loads(json.dumps(GOOD).replace('"products_held": 3', '"products_held": 1e400'))
	assert row["products_held"] == math.inf
	clean, errors = snapshots.clean_row(2, row, TODAY)
	assert clean is None
	assert [(e.index, e.field, e.reason) for e in errors] == [(2, "products_held", "is out of range")]


@pytest.mark.parametrize(
	"field, value, reason",
	[
		("products_held", 10**400, "is out of range"),
		("products_held", float("nan"), "is out of range"),
		("products_held", True, "must be a number"),
		("products_held", 2.5, "must be a whole number"),
		("deposit_balance", -1e400, "is out of range"),
		("deposit_balance", {"value": 1}, "must be a number"),
		("deposit_balance", [1], "must be a number"),
		("deposit_balance", "1" * 400, "must be a number"),
		("customer", 42, "must be text"),
		("customer", "x" * 141, "is longer than {0} characters"),
		("as_of_date", 20261127, "{0} is not a date (YYYY-MM-DD)"),
		("as_of_date", "20261127", "{0} is not a date (YYYY-MM-DD)"),
		("as_of_date", "0001-01-01", "is out of range"),
		("source", {"a": 1}, "must be text"),
	],
)
def test_hostile_values_get_a_named_reason(field, value, reason):
	clean, errors = snapshots.clean_row(0, {**GOOD, field: value}, TODAY)
	assert clean is None
	assert [(e.field, e.reason) for e in errors] == [(field, reason)]


def test_numeric_strings_still_load_as_data_import_sends_them():
	row = {**GOOD, "deposit_balance": "1200.50", "products_held": "3"}
	clean, errors = snapshots.clean_row(0, row, TODAY)
	assert errors == [] and clean["deposit_balance"] == 1200.5 and clean["products_held"] == 3


@settings(max_examples=300, deadline=None)
@given(value=json_values)
def test_value_readers_never_raise(value):
	for reader in (values.number, values.whole, values.text, values.iso_date, values.iso_datetime):
		result, reason = reader(value)
		assert (result is None) or reason is None
	assert isinstance(values.shown(value), str) and len(values.shown(value)) <= 40
