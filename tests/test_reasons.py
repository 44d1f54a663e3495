import json
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bank_crm.core import reasons
from bank_crm.core.reasons import REASONS, Reason, render, top_reasons

ZH = {
	"Balance fell {pct}% in {days} days": "存款余额{days}天内下降{pct}%",
	"Holds only {count} product(s)": "仅持有{count}个产品",
}


def zh(template):
	return ZH.get(template, template)


def placeholders(template):
	return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_registry_keys_and_templates():
	assert len(REASONS) >= 15
	for key, template in REASONS.items():
		assert key.isidentifier() and key == key.lower(), key
		# named placeholders only, each with a known formatting rule or kept as is
		assert placeholders(template) <= {"pct", "count", "days", "months", "amount"}, template
	assert REASONS["balance_fell"] == "Balance fell {pct}% in {days} days"


def test_every_template_renders_with_its_values():
	sample = {"pct": 42.5, "count": 3, "days": 90, "months": 5, "amount": 250000}
	for key, template in REASONS.items():
		values = {name: sample[name] for name in placeholders(template)}
		text = render(Reason(key, values))
		assert "{" not in text and text != key, key


def test_values_are_sorted_and_the_reason_is_hashable():
	a = Reason("balance_fell", {"pct": 40, "days": 90}, 0.3)
	b = Reason("balance_fell", [("days", 90), ("pct", 40)], 0.3)
	assert a.values == (("days", 90), ("pct", 40))
	assert a == b and hash(a) == hash(b)


def test_json_round_trip():
	r = Reason("complaints", {"count": 2, "days": 30}, 0.125)
	stored = json.dumps(r.to_dict())
	assert json.loads(stored) == {"key": "complaints", "values": {"count": 2, "days": 30}, "weight": 0.125}
	assert Reason.from_dict(json.loads(stored)) == r
	assert Reason.from_dict({"key": "products_few"}) == Reason("products_few", (), 0.0)


def test_render_in_english_and_through_a_translation():
	r = Reason("balance_fell", {"pct": 42.456, "days": 90.0})
	assert render(r) == "Balance fell 42.5% in 90 days"
	assert render(r, zh) == "存款余额90天内下降42.5%"
	assert render(Reason("products_few", {"count": 1.0}), zh) == "仅持有1个产品"


@pytest.mark.parametrize(
	"name, value, shown",
	[
		("pct", 50, "50"),
		("pct", 33.333, "33.3"),
		("pct", 12.96, "13"),
		("pct", -0.04, "0"),
		("count", 2.6, "3"),
		("days", 30.0, "30"),
		("months", 7, "7"),
		("amount", 1234567.8, "1,234,568"),
		("other", 0.123456, "0.12"),
		("other", "Fund", "Fund"),
		("count", float("nan"), "nan"),
		("count", True, "True"),
	],
)
def test_numbers_formatted_by_name(name, value, shown):
	assert reasons.format_value(name, value) == shown


def test_render_never_raises():
	assert render(Reason("no_such_reason", {"x": 1})) == "no_such_reason"
	# a missing value leaves its placeholder showing
	assert render(Reason("balance_fell", {"pct": 10})) == "Balance fell 10% in {days} days"
	# a broken translation falls back to English; so does an empty one
	r = Reason("tenure_short", {"months": 4})
	assert render(r, lambda s: "在行{months:.1f}个月") == "Customer for only 4 months"
	assert render(r, lambda s: "在行{0}个月") == "Customer for only 4 months"
	assert render(r, lambda s: "") == "Customer for only 4 months"


@given(
	st.text(max_size=40),
	st.dictionaries(st.text(max_size=8), st.one_of(st.integers(), st.floats(), st.text())),
)
def test_render_never_raises_whatever_the_translation_and_values(translated, values):
	for key in ("balance_fell", "idle_cash", "unknown"):
		assert isinstance(render(Reason(key, values), lambda s, t=translated: t), str)


SENTENCES = {
	"balance_drop_90d": ("balance_fell", {"pct": 55.0, "days": 90}),
	"logins_30d": ("no_app_login", {"days": 30}),
	"complaints_90d": ("complaints", {"count": 2, "days": 90}),
	"tenure_months": ("tenure_short", {"months": 4}),
	"duplicate_of_logins": ("no_app_login", {"days": 30}),
}


def test_top_reasons_takes_the_largest_positive_contributions():
	contributions = {
		"balance_drop_90d": 0.40,
		"branch_code": 0.35,  # no sentence: skipped for the next one
		"complaints_90d": 0.10,
		"logins_30d": 0.20,
		"tenure_months": -0.50,  # pushes away from churn: never a reason
		"age": 0.0,
	}
	got = top_reasons(contributions, SENTENCES.get, n=3)
	assert [r.key for r in got] == ["balance_fell", "no_app_login", "complaints"]
	assert [r.weight for r in got] == [0.40, 0.20, 0.10]
	assert got[0] == Reason("balance_fell", {"days": 90, "pct": 55.0}, 0.40)
	assert top_reasons(contributions, SENTENCES.get, n=1) == got[:1]
	assert top_reasons(contributions, SENTENCES.get, n=0) == []
	assert top_reasons({"tenure_months": -1.0}, SENTENCES.get) == []


def test_top_reasons_does_not_repeat_a_sentence():
	got = top_reasons({"logins_30d": 0.3, "duplicate_of_logins": 0.2, "complaints_90d": 0.1}, SENTENCES.get)
	assert [(r.key, r.weight) for r in got] == [("no_app_login", 0.3), ("complaints", 0.1)]


def test_top_reasons_ignores_non_finite_and_breaks_ties_by_name():
	got = top_reasons(
		{"tenure_months": 0.2, "complaints_90d": 0.2, "logins_30d": float("nan")}, SENTENCES.get, n=5
	)
	assert [r.key for r in got] == ["complaints", "tenure_short"]
