"""Hooks on ERPNext's Customer."""

import frappe

from bank_crm.permissions import get_scope


def before_insert(doc, method=None):
	"""A customer created by an RM or branch manager starts in their own portfolio or branch,
	so that they keep seeing what they have just created."""
	scope = get_scope()
	if not scope.restricted or scope.everything:
		return
	if scope.rm_user and not doc.get("bank_relationship_manager"):
		doc.bank_relationship_manager = scope.rm_user
	if scope.branches and not doc.get("bank_branch"):
		doc.bank_branch = scope.branches[0]
	elif not doc.get("bank_branch") and scope.rm_user:
		doc.bank_branch = frappe.db.get_value(
			"Bank Branch Member", {"user": scope.rm_user, "parenttype": "Bank Branch"}, "parent"
		)
