"""Whitelisted methods of bank_crm, thin: they read their arguments (``bank_crm.utils.arguments``),
check permissions and call the module that does the work.
"""

import frappe

from bank_crm.utils.arguments import BadArgument, bad_argument, flag, json_rows, json_value  # noqa: F401


def use_callers_language():
	"""Answer in the calling user's language. Frappe picks a request's language before an API key
	names its user (from the Accept-Language header, else the site's); an integration user's own
	language setting wins here."""
	language = frappe.db.get_value("User", frappe.session.user, "language")
	if language:
		frappe.local.lang = language
