"""A stored lifecycle reason is read back as its template and values, to be shown in any language."""

from bank_crm.core import lifecycle


def test_every_reason_the_rules_give_is_read_back():
	for template in lifecycle.REASONS:
		values = tuple(str(10 * (i + 1)) for i in range(template.count("{")))
		assert lifecycle.parse_reason(template.format(*values)) == (template, values)


def test_a_real_reason_and_other_text():
	assert lifecycle.parse_reason("balance fell 79.8% in 90 days") == (
		"balance fell {0}% in {1} days",
		("79.8", "90"),
	)
	assert lifecycle.parse_reason("余额在 90 天内下降 79.8%") is None
	assert lifecycle.parse_reason(None) is None
