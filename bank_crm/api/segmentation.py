"""Tier policies and segmentation runs from the desk. Every method checks permissions."""

import frappe
from frappe import _
from frappe.utils import now_datetime

from bank_crm.bank_segmentation import segmentation
from bank_crm.permissions.scope import require_crm_administrator

POLICY = "Bank Tier Policy"
RUN = "Bank Segmentation Run"


@frappe.whitelist(methods=["POST"])
def activate_policy(policy: str) -> str:
	"""Make ``policy`` the one active version; the previously active one is retired."""
	require_crm_administrator()
	doc = frappe.get_doc(POLICY, policy)
	doc.check_permission("write")
	if doc.status != "Draft":
		frappe.throw(_("Only a draft policy can be activated; {0} is {1}.").format(doc.name, _(doc.status)))
	segmentation.build_policy(doc)  # validates
	now = now_datetime()
	for previous in frappe.get_all(POLICY, filters={"status": "Active"}, pluck="name"):
		frappe.db.set_value(POLICY, previous, {"status": "Retired", "retired_on": now})
	doc.db_set({"status": "Active", "activated_on": now, "activated_by": frappe.session.user})
	doc.add_comment("Info", _("Activated"))
	return doc.name


@frappe.whitelist(methods=["POST"])
def run_what_if(policy: str) -> str:
	"""Queue a what-if run of ``policy``: distribution and movement, no customer changed."""
	require_crm_administrator()
	frappe.get_doc(POLICY, policy).check_permission("read")
	return segmentation.enqueue("What-if", policy)


@frappe.whitelist(methods=["POST"])
def run_now() -> str:
	"""Queue a re-tiering and lifecycle run under the active policy (one at a time)."""
	require_crm_administrator()
	if not segmentation.active_policy():
		frappe.throw(_("There is no active tier policy. Activate one first."))
	run = segmentation.enqueue("On Demand")
	if not run:
		frappe.throw(_("A re-tiering run is already in progress."))
	return run


@frappe.whitelist()
def score_breakdown(profile: str) -> dict:
	"""The explained score of one profile, for users who may read it."""
	doc = frappe.get_doc("Bank Customer Profile", profile)
	doc.check_permission("read")
	if 1 not in doc.meta.get_permlevel_access("read"):
		frappe.throw(_("Your role may not read value scores."), frappe.PermissionError)
	return segmentation.breakdown(profile)
