"""Whitelisted methods on customer profiles. Every one checks the caller's permissions."""

import json

import frappe
from frappe import _
from frappe.core.doctype.access_log.access_log import make_access_log

from bank_crm.bank_customer.privacy import can_view_full_id, full_id_number, id_fingerprint
from bank_crm.core import identity
from bank_crm.core.errors import CoreValidationError
from bank_crm.permissions import limits

PROFILE = "Bank Customer Profile"


@frappe.whitelist(methods=["POST"])
@limits.per_user("reveal_limit_per_hour", 3600)
def reveal_id_number(profile: str, reason: str | None = None) -> str:
	"""The full ID number, for a role allowed to see it; the read goes to the Access Log with
	its reason, and an unusual number of reveals in a day alerts the Compliance Auditors."""
	doc = frappe.get_doc(PROFILE, profile)
	doc.check_permission("read")
	if not can_view_full_id():
		frappe.throw(
			_("Your role may not view full ID numbers. Ask a CRM Administrator if your work needs it."),
			frappe.PermissionError,
		)
	number = full_id_number(doc)
	if not number:
		frappe.throw(_("This profile has no ID number."))
	reason = (reason or "").strip()[:200]
	make_access_log(
		doctype=PROFILE,
		document=doc.name,
		method=limits.REVEAL_METHOD,
		filters=json.dumps({"reason": reason}, ensure_ascii=False) if reason else None,
	)
	doc.add_comment("Info", _("Viewed the full ID number"))
	limits.note_reveal(frappe.session.user)
	return number


@frappe.whitelist()
def find_by_id_number(id_type: str, id_number: str) -> list[dict]:
	"""Profiles with this ID number that the caller may see (matched on the fingerprint)."""
	try:
		number = identity.validate_id_number(id_type, id_number)
	except CoreValidationError as err:
		frappe.throw(_("{0}: {1}").format(_("ID Number"), _(err.message).format(*err.args_)))
	return frappe.get_list(
		PROFILE,
		filters={"id_number_hash": id_fingerprint(id_type, number)},
		fields=["name", "customer", "customer_name", "id_number_masked", "relationship_manager", "branch"],
	)
