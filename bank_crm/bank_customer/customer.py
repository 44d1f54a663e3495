"""Hooks on ERPNext's Customer."""

import frappe
from frappe import _

from bank_crm.permissions.scope import limited_scope


def before_insert(doc, method=None):
	"""A customer created by an RM or branch manager starts in their own portfolio or branch,
	so that they keep seeing what they have just created."""
	scope = limited_scope()
	if scope is None:
		return
	if scope.rm_user and not doc.get("bank_relationship_manager"):
		doc.bank_relationship_manager = scope.rm_user
	if scope.branches and not doc.get("bank_branch"):
		doc.bank_branch = scope.branches[0]
	elif not doc.get("bank_branch") and scope.rm_user:
		doc.bank_branch = frappe.db.get_value(
			"Bank Branch Member", {"user": scope.rm_user, "parenttype": "Bank Branch"}, "parent"
		)


OWNERSHIP = ("bank_profile", "bank_relationship_manager", "bank_branch", "bank_tier", "bank_lifecycle_stage")


def validate(doc, method=None):
	"""The bank fields of a customer follow its Bank Customer Profile (and the jobs); nobody
	changes them on the Customer, from the form or through the API."""
	if doc.is_new():
		return
	before = frappe.db.get_value("Customer", doc.name, OWNERSHIP, as_dict=True)
	if not before:
		return
	for fieldname in OWNERSHIP:
		if (doc.get(fieldname) or None) != (before.get(fieldname) or None):
			frappe.throw(
				_("{0}: change it on the customer's Bank Customer Profile, not on the Customer.").format(
					_(doc.meta.get_label(fieldname))
				),
				frappe.PermissionError,
			)


def dashboard(data):
	"""The Customer's connections: the bank records that hang off it."""
	data.setdefault("non_standard_fieldnames", {})
	data.setdefault("transactions", []).insert(
		0,
		{
			"label": _("Bank CRM"),
			"items": ["Bank Need Signal", "Bank Product Holding", "Bank Interaction", "Bank Service Request"],
		},
	)
	return data
