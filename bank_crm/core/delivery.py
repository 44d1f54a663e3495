"""Outbound delivery bookkeeping (no Frappe): channel names, content classes, retry backoff,
webhook signatures and header checks.

A failed attempt is retried after ``first_delay × 2^(attempts-1)`` minutes; once ``attempts``
reaches ``max_attempts`` the message is dead (given up, and someone must be told).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

# Channels (Bank Outbound Message.channel)
VISIT = "Visit"
PHONE = "Phone"
SMS = "SMS"
EMAIL = "Email"
APP_PUSH = "App Push"
WECHAT = "WeChat"
CHANNELS = (VISIT, PHONE, SMS, EMAIL, APP_PUSH, WECHAT)
TASK_CHANNELS = (VISIT, PHONE)  # an RM task, not a message
ADAPTER_CHANNELS = (APP_PUSH, WECHAT)  # through a Bank Channel Adapter webhook

# Content classes
IMPORTANT_NOTICE = "Important Notice"
SERVICE = "Service"
ROUTINE_TIP = "Routine Tip"
GREETING = "Greeting"
MARKETING = "Marketing"
CONTENT_CLASSES = (IMPORTANT_NOTICE, SERVICE, ROUTINE_TIP, GREETING, MARKETING)

# Statuses
QUEUED = "Queued"
SENT = "Sent"
FAILED = "Failed"  # will retry at next_attempt_at
DEAD = "Dead"  # gave up after max attempts
TASK_CREATED = "Task Created"
SKIPPED = "Skipped"
STATUSES = (QUEUED, SENT, FAILED, DEAD, TASK_CREATED, SKIPPED)

DEFAULT_MAX_ATTEMPTS = 5
DEFAULT_FIRST_DELAY_MINUTES = 5
SIGNATURE_HEADER = "X-Bank-CRM-Signature"
MESSAGE_HEADER = "X-Bank-CRM-Message"


@dataclass(frozen=True)
class AttemptOutcome:
	status: str
	attempts: int
	next_attempt_at: datetime | None


def retry_delay(attempts: int, first_delay_minutes: int) -> timedelta:
	"""Delay after the ``attempts``-th failure: first_delay, 2×, 4× …"""
	return timedelta(minutes=max(first_delay_minutes, 0) * 2 ** max(attempts - 1, 0))


def after_failure(
	previous_attempts: int,
	now: datetime,
	max_attempts: int = DEFAULT_MAX_ATTEMPTS,
	first_delay_minutes: int = DEFAULT_FIRST_DELAY_MINUTES,
) -> AttemptOutcome:
	"""Status, attempt count and next attempt time after one more failed attempt."""
	attempts = previous_attempts + 1
	if attempts >= max(max_attempts, 1):
		return AttemptOutcome(DEAD, attempts, None)
	return AttemptOutcome(FAILED, attempts, now + retry_delay(attempts, first_delay_minutes))


def sign(body: bytes, secret: str) -> str:
	"""Value of the signature header: ``sha256=`` + hex HMAC-SHA256 of the exact body."""
	return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def header_problem(headers) -> tuple[str, str] | None:
	"""Why ``headers`` (parsed JSON) is not a flat object of header names to text:
	(message template, the offending name) — or None when they are fine."""
	if headers in (None, ""):
		return None
	if not isinstance(headers, dict):
		return ("HTTP headers must be a JSON object", "")
	for key, value in headers.items():
		if not key.strip() or any(c in key for c in " :\r\n"):
			return ("Invalid HTTP header name: {0}", key)
		if not isinstance(value, str | int | float) or isinstance(value, bool):
			return ("HTTP header {0} must have a text value", key)
		if any(c in str(value) for c in "\r\n"):
			return ("HTTP header {0} must not contain line breaks", key)
	return None
