"""PIPL article 24: an objection to automated profiling is a withdrawn consent of its own purpose."""

from datetime import datetime

from bank_crm.core.consent import ALL_CHANNELS, MARKETING, PROFILING, ConsentRecord, objects_to_profiling

T0, T1, T2 = datetime(2026, 1, 1), datetime(2026, 3, 1), datetime(2026, 6, 1)


def test_no_record_is_no_objection():
	assert not objects_to_profiling([], T2)


def test_a_withdrawn_profiling_consent_is_an_objection_from_its_withdrawal():
	rows = [ConsentRecord(PROFILING, ALL_CHANNELS, T0, withdrawn_on=T1)]
	assert not objects_to_profiling(rows, datetime(2026, 2, 1))
	assert objects_to_profiling(rows, T2)


def test_a_consent_given_again_ends_the_objection_and_other_purposes_do_not_count():
	rows = [
		ConsentRecord(PROFILING, ALL_CHANNELS, T0, withdrawn_on=T1),
		ConsentRecord(PROFILING, ALL_CHANNELS, datetime(2026, 4, 1)),
	]
	assert not objects_to_profiling(rows, T2)
	assert not objects_to_profiling([ConsentRecord(MARKETING, ALL_CHANNELS, T0, withdrawn_on=T1)], T2)
