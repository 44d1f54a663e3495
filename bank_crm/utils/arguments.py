"""The argument readers of whitelisted methods: a wrong argument is the caller's mistake, answered
with a 4xx naming the argument (``frappe.ValidationError`` is HTTP 417), never a 500 with a
traceback."""

import json

import frappe
from frappe import _


class BadArgument(frappe.ValidationError):
	http_status_code = 400


def bad_argument(name: str, reason: str):
	frappe.throw(_("{0}: {1}").format(name, reason), BadArgument, title=_("Invalid request"))


def json_value(value, name: str):
	"""``value`` as sent: a JSON string is parsed, anything else is taken as it is."""
	if not isinstance(value, str):
		return value
	try:
		return json.loads(value)
	except (ValueError, RecursionError):
		bad_argument(name, _("is not valid JSON"))


def json_rows(value, max_rows: int, what: str) -> list:
	"""The ``rows`` argument of a bulk endpoint: a JSON array of at most ``max_rows`` items."""
	rows = json_value(value, "rows")
	if not isinstance(rows, list):
		bad_argument("rows", _("send a JSON array of {0}").format(what))
	if len(rows) > max_rows:
		bad_argument("rows", _("at most {0} rows per call, not {1}").format(max_rows, len(rows)))
	return rows


_TRUE = {True, "1", "true", "True", "yes", "on"}
_FALSE = {False, None, "", "0", "false", "False", "no", "off"}


def flag(value, name: str) -> bool:
	"""A yes/no argument: true/false, 1/0, yes/no; anything else is refused."""
	if isinstance(value, bool | int | str) or value is None:
		if value in _TRUE:
			return True
		if value in _FALSE:
			return False
	bad_argument(name, _("must be true or false"))
