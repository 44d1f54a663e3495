"""zh.csv is well formed, and every string of our own wording has a Chinese translation.

Single words and short labels Frappe or ERPNext already translate ("Title", "Date" …) are
checked against the host's translations on a real site, by ``bank_crm.tests.test_translations``.
"""

from collections import Counter

from bank_crm.tests import strings


def test_every_row_has_a_translation_with_the_same_placeholders():
	for row in strings.rows():
		assert len(row) in (2, 3), row
		source, target = row[0], row[1]
		assert target.strip(), f"empty translation of {source!r}"
		assert strings.placeholders(source) == strings.placeholders(target), row


def test_no_source_is_translated_twice_in_the_same_context():
	twice = [
		k for k, n in Counter((r[0], r[2] if len(r) > 2 else "") for r in strings.rows()).items() if n > 1
	]
	assert twice == []


def test_our_sentences_are_translated():
	"""Anything with a placeholder or of four words or more is our wording: Frappe cannot have it."""
	ours = strings.translations()
	missing = {
		text: path
		for text, path in strings.user_facing().items()
		if text not in ours and (strings.placeholders(text) or len(text.split()) >= 4)
	}
	assert missing == {}
