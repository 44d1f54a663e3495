"""The RM workbench: one whitelisted method for the page and its tests."""

import frappe
from frappe import _

from bank_crm.bank_crm.page.rm_workbench import rm_workbench as workbench
from bank_crm.permissions.scope import limited_scope, refuse
from bank_crm.utils.servers import served_by


@frappe.whitelist(methods=["GET"])
@frappe.read_only()
def get(rm: str | None = None) -> dict:
	"""Today's work in the caller's portfolio; ``rm`` narrows a branch manager's or head office's
	view to one RM of their scope (anyone else's is refused)."""
	if rm is not None and not isinstance(rm, str):
		frappe.throw(_("RM: expected a user id."), frappe.ValidationError)
	if rm:
		if limited_scope() is not None and rm not in {r["user"] for r in workbench._rms()}:
			refuse()
	return {**workbench.get(rm or None), "served_by": served_by()}  # the replica, when the site has one
