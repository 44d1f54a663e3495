"""Point-in-time features: what a model may know of a customer on an as-of date."""

from datetime import date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bank_crm.core import prediction_features as pf
from bank_crm.core.prediction_features import Event, History, Holding, Snapshot

AS_OF = date(2026, 6, 1)
START = datetime(2026, 6, 1)


def at(days_before: float) -> datetime:
	return START - timedelta(days=days_before)


def history(**changes) -> History:
	base = {
		"relationship_since": date(2024, 6, 1),
		"snapshots": (
			Snapshot(date(2026, 2, 28), deposit_balance=100_000, aum=100_000, products_held=4),
			Snapshot(date(2026, 4, 30), deposit_balance=80_000, aum=70_000, products_held=3),
			Snapshot(date(2026, 5, 31), deposit_balance=50_000, aum=50_000, products_held=2),
		),
		"events": (
			Event(at(5), pf.APP_LOGIN),
			Event(at(40), pf.APP_LOGIN),
			Event(at(41), pf.APP_LOGIN),
			Event(at(10), pf.SALARY_CREDIT, 9_000),
			Event(at(20), pf.LARGE_TRANSFER_OUT, 60_000),
			Event(at(3), pf.FX_QUERY),
			Event(at(2), pf.CARD_SPENDING, 300),
			Event(at(35), pf.CARD_SPENDING, 100),
		),
		"holdings": (
			Holding("Wealth", date(2025, 1, 1), date(2026, 6, 20)),
			Holding("Deposit", date(2024, 6, 1)),
			Holding("Fund", date(2025, 1, 1), date(2026, 1, 1)),  # matured before the as-of date
		),
		"contacts": (at(70),),
		"requests": (at(30),),
		"complaints": (at(15), at(200)),
		"tiers": ((date(2025, 1, 1), "VIP"), (date(2026, 5, 1), "High-end")),
		"stages": ((date(2025, 1, 1), "Mature"),),
	}
	return History(**{**base, **changes})


def test_the_features_of_a_known_history():
	f = pf.features(history(), AS_OF)
	assert f["total_balance"] == 100_000
	assert f["balance_change_30d_pct"] == round(100 * (100_000 - 150_000) / 150_000, 4)  # -33.3333
	assert f["balance_change_90d_pct"] == -50.0
	assert f["products_change_90d"] == -2
	assert (f["logins_30d"], f["logins_prev_30d"], f["days_since_login"]) == (1, 2, 5)
	assert (f["salary_credits_90d"], f["large_outflows_90d"], f["fx_queries_30d"]) == (1, 1, 1)
	assert f["large_outflow_share_90d"] == 0.6
	assert (f["card_spend_30d"], f["card_spend_change_pct"]) == (300, 200.0)
	assert (f["holdings_open"], f["maturing_30d"]) == (2, 1)
	assert (f["holds_wealth"], f["holds_deposit"], f["holds_fund"]) == (1, 1, 0)
	assert (f["days_since_contact"], f["contacts_90d"]) == (70, 1)
	assert (f["requests_180d"], f["complaints_180d"]) == (1, 1)
	assert f["tenure_months"] == 24
	assert (f["tier_rank"], f["stage_rank"]) == (1, 3)
	assert list(f) == list(pf.FEATURES)


def test_a_customer_with_nothing_on_file():
	f = pf.features(History(), AS_OF)
	assert f["has_snapshot"] == 0 and f["total_balance"] == 0
	assert f["days_since_login"] == pf.NO_LOGIN_DAYS
	assert f["tier_rank"] == -1 and f["stage_rank"] == -1
	assert pf.is_finite_vector(list(f.values()))


def test_rows_dated_on_the_as_of_date_are_not_yet_known():
	today = history(
		snapshots=(Snapshot(AS_OF, deposit_balance=1),),
		events=(Event(START, pf.APP_LOGIN),),
		complaints=(START,),
		tiers=((AS_OF, "VIP"),),
	)
	f = pf.features(today, AS_OF)
	assert f["has_snapshot"] == 0 and f["logins_30d"] == 0 and f["complaints_180d"] == 0
	assert f["tier_rank"] == -1


def test_a_holding_is_read_by_its_dates_never_by_its_status():
	opened_later = history(holdings=(Holding("Loan", AS_OF),))
	assert pf.features(opened_later, AS_OF)["holds_loan"] == 0
	assert pf.features(opened_later, AS_OF + timedelta(days=1))["holds_loan"] == 1


DAYS_AFTER = st.integers(min_value=0, max_value=400)


@settings(max_examples=200, deadline=None)
@given(
	extra_events=st.lists(
		st.tuples(
			DAYS_AFTER, st.sampled_from([pf.APP_LOGIN, pf.SALARY_CREDIT, pf.LARGE_TRANSFER_OUT, pf.FX_QUERY])
		),
		max_size=8,
	),
	extra_snapshots=st.lists(st.tuples(DAYS_AFTER, st.floats(0, 1e7)), max_size=4),
	extra_holdings=st.lists(st.tuples(DAYS_AFTER, st.sampled_from(pf.CATEGORIES)), max_size=3),
	extra_dates=st.lists(DAYS_AFTER, max_size=3),
	new_tier=st.tuples(DAYS_AFTER, st.sampled_from(list(pf.TIER_RANK))),
)
def test_nothing_dated_on_or_after_the_as_of_date_changes_any_feature(
	extra_events, extra_snapshots, extra_holdings, extra_dates, new_tier
):
	"""The leakage property: the future (the as-of date included) adds or changes nothing."""
	base = history()
	later = history(
		events=base.events
		+ tuple(Event(START + timedelta(days=d, hours=1), t, 1e6) for d, t in extra_events),
		snapshots=base.snapshots
		+ tuple(Snapshot(AS_OF + timedelta(days=d), deposit_balance=v) for d, v in extra_snapshots),
		holdings=base.holdings + tuple(Holding(c, AS_OF + timedelta(days=d)) for d, c in extra_holdings),
		contacts=base.contacts + tuple(START + timedelta(days=d) for d in extra_dates),
		requests=base.requests + tuple(START + timedelta(days=d) for d in extra_dates),
		complaints=base.complaints + tuple(START + timedelta(days=d) for d in extra_dates),
		tiers=base.tiers + ((AS_OF + timedelta(days=new_tier[0]), new_tier[1]),),
	)
	assert pf.features(later, AS_OF) == pf.features(base, AS_OF)


def test_describe_gives_reasons_of_the_registry():
	from bank_crm.core.reasons import REASONS

	f = pf.features(history(), AS_OF)
	described = [pf.describe(name, f) for name in pf.FEATURES]
	keys = {d[0] for d in described if d}
	assert keys <= set(REASONS)
	assert pf.describe("balance_change_90d_pct", f) == ("balance_fell", {"pct": 50.0, "days": 90})
	assert pf.describe("complaints_180d", f) == ("complaints", {"count": 1, "days": 180})
	assert pf.describe("total_balance", f) is None


def test_every_feature_has_a_label_for_the_model_card_and_the_drift_table():
	assert set(pf.LABELS) == set(pf.FEATURES)
	assert all(label and label[0].isupper() for label in pf.LABELS.values())


def test_every_feature_label_has_a_chinese_translation():
	from bank_crm.tests import strings

	ours = strings.translations()
	assert [label for label in pf.LABELS.values() if label not in ours and label != "Tier"] == []
