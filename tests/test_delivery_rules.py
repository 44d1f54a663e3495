"""Retry backoff, webhook signatures and header checks of outbound delivery (bank_crm.core.delivery)."""

import hashlib
import hmac
from datetime import datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bank_crm.core.delivery import (
	DEAD,
	FAILED,
	after_failure,
	header_problem,
	retry_delay,
	sign,
)

NOW = datetime(2026, 11, 28, 10, 0)


def test_backoff_doubles_from_the_first_delay():
	assert [retry_delay(n, 5) for n in (1, 2, 3, 4)] == [timedelta(minutes=m) for m in (5, 10, 20, 40)]


def test_failures_retry_until_max_attempts_then_dead():
	outcome = after_failure(0, NOW, max_attempts=3, first_delay_minutes=2)
	assert (outcome.status, outcome.attempts, outcome.next_attempt_at) == (
		FAILED,
		1,
		NOW + timedelta(minutes=2),
	)
	outcome = after_failure(1, NOW, max_attempts=3, first_delay_minutes=2)
	assert (outcome.status, outcome.attempts, outcome.next_attempt_at) == (
		FAILED,
		2,
		NOW + timedelta(minutes=4),
	)
	outcome = after_failure(2, NOW, max_attempts=3, first_delay_minutes=2)
	assert (outcome.status, outcome.attempts, outcome.next_attempt_at) == (DEAD, 3, None)


def test_one_attempt_only_dies_at_once():
	assert after_failure(0, NOW, max_attempts=1).status == DEAD
	assert after_failure(0, NOW, max_attempts=0).status == DEAD


@given(st.integers(0, 30), st.integers(1, 12), st.integers(0, 60))
def test_next_attempt_is_never_earlier_and_dead_exactly_at_max(previous, max_attempts, delay):
	outcome = after_failure(previous, NOW, max_attempts, delay)
	assert outcome.attempts == previous + 1
	if previous + 1 >= max_attempts:
		assert outcome.status == DEAD and outcome.next_attempt_at is None
	else:
		assert outcome.status == FAILED and outcome.next_attempt_at >= NOW


def test_signature_is_hmac_sha256_of_the_body():
	body = '{"to": "客户"}'.encode()
	expected = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
	assert sign(body, "s3cret") == "sha256=" + expected
	assert sign(body, "other") != sign(body, "s3cret")


def test_header_checks():
	assert header_problem(None) is None
	assert header_problem({"X-Api-Key": "abc", "X-Version": 2}) is None
	assert header_problem(["X-Api-Key"])[0] == "HTTP headers must be a JSON object"
	assert header_problem({"Bad Name": "x"}) == ("Invalid HTTP header name: {0}", "Bad Name")
	assert header_problem({"X-A": {"nested": 1}}) == ("HTTP header {0} must have a text value", "X-A")
	assert header_problem({"X-A": "a\r\nInjected: 1"})[1] == "X-A"
