"""Abuse limits: per-user rate limits on sensitive endpoints, and an alert on unusual reveals.

The limits use Frappe's own rate limiter (``frappe.rate_limiter.rate_limit``: a counter per
key and window in the site's Redis cache, refused with ``RateLimitExceededError``, HTTP 429).
Frappe keys it by IP or by a request parameter; bank staff share branch NAT addresses, so the
key here is the signed-in user, put where the limiter looks for it. The numbers are settings
(Bank CRM Settings → Security).
"""

from functools import wraps

import frappe
from frappe import _
from frappe.rate_limiter import rate_limit
from frappe.utils import add_days, getdate

from bank_crm.core.access import COMPLIANCE_AUDITOR

SETTINGS = "Bank CRM Settings"
_USER_KEY = "_bank_crm_rate_user"

REVEAL_METHOD = "bank_crm.api.profile.reveal_id_number"

DEFAULTS = {
	"reveal_limit_per_hour": 20,
	"export_limit_per_hour": 10,
	"ingest_calls_per_minute": 300,
	"reveal_alert_per_day": 10,
}


def setting(fieldname: str) -> int:
	value = frappe.db.get_single_value(SETTINGS, fieldname)
	return int(value) if value else DEFAULTS[fieldname]


def per_user(fieldname: str, seconds: int):
	"""Limit a whitelisted method to ``setting(fieldname)`` calls per user per ``seconds``.

	Put it under ``@frappe.whitelist``; the limit applies to HTTP requests only (as Frappe's).
	"""

	def decorator(fn):
		path = f"{fn.__module__}.{fn.__qualname__}"
		limited = rate_limit(
			key=_USER_KEY, limit=lambda: setting(fieldname), seconds=seconds, ip_based=False
		)(fn)

		@wraps(fn)
		def wrapper(*args, **kwargs):
			if not frappe.request:
				return fn(*args, **kwargs)
			frappe.form_dict[_USER_KEY] = frappe.session.user
			frappe.form_dict.cmd = path  # the counter's name (API v2 calls leave cmd unset)
			return limited(*args, **kwargs)

		return wrapper

	return decorator


@per_user("export_limit_per_hour", 3600)
def customer_export():
	"""One counter for every path that exports customer data."""


def check_export():
	"""Count one customer-data export against the user's hourly limit; past it, Frappe's
	``RateLimitExceededError`` (HTTP 429)."""
	cmd = frappe.form_dict.get("cmd")
	try:
		customer_export()
	finally:
		frappe.form_dict.cmd = cmd
		frappe.form_dict.pop(_USER_KEY, None)


def note_reveal(user: str):
	"""After a full-ID reveal: alert the Compliance Auditors once when a user's reveals of the
	day reach the threshold."""
	threshold = setting("reveal_alert_per_day")
	today = getdate()
	count = frappe.db.count(
		"Access Log",
		{
			"user": user,
			"method": REVEAL_METHOD,
			"creation": ("between", [today, add_days(today, 1)]),
		},
	)
	if count != threshold:
		return
	auditors = frappe.get_all(
		"Has Role",
		filters={"role": COMPLIANCE_AUDITOR, "parenttype": "User", "parent": ("!=", user)},
		pluck="parent",
		distinct=True,
	)
	auditors = [u for u in auditors if frappe.db.get_value("User", u, "enabled")]
	if not auditors:
		return
	from frappe.desk.doctype.notification_log.notification_log import make_notification_logs

	make_notification_logs(
		{
			"type": "Alert",
			"document_type": "User",
			"document_name": user,
			"subject": _("{0} viewed {1} full ID numbers today (alert threshold {2})").format(
				user, count, threshold
			),
			"email_content": _(
				"Unusual number of full ID number views by one user. Review the Access Log entries of "
				"{0} for method {1}."
			).format(user, REVEAL_METHOD),
			"from_user": "Administrator",
		},
		auditors,
	)
