"""Install and uninstall for the service module: the complaint Workflow, default SLA rules and
the escalation matrix. Called from ``bank_crm.install``; idempotent."""

import frappe

from bank_crm.core import escalation, sla
from bank_crm.core.access import BRANCH_MANAGER, COMPLAINT_HANDLER, CONSUMER_PROTECTION_OFFICER
from bank_crm.setup.workflows import make_workflow

COMPLAINT_WORKFLOW = "Bank Complaint Handling"
SETTINGS = "Bank Service Settings"
STATES = (
	# state, style, role that may edit in this state
	("Registered", "", COMPLAINT_HANDLER),
	("Acknowledged", "Info", COMPLAINT_HANDLER),
	("Investigating", "Primary", COMPLAINT_HANDLER),
	("Extension Requested", "Warning", CONSUMER_PROTECTION_OFFICER),
	("Extended Investigation", "Primary", COMPLAINT_HANDLER),
	("Resolution Proposed", "Warning", CONSUMER_PROTECTION_OFFICER),
	("Approved", "Success", COMPLAINT_HANDLER),
	("Customer Informed", "Success", COMPLAINT_HANDLER),
	("Closed", "Inverse", CONSUMER_PROTECTION_OFFICER),
)
APPROVERS = (BRANCH_MANAGER, CONSUMER_PROTECTION_OFFICER)
TRANSITIONS = (
	# from, action, to, roles
	("Registered", "Acknowledge", "Acknowledged", (COMPLAINT_HANDLER, CONSUMER_PROTECTION_OFFICER)),
	("Acknowledged", "Start Investigation", "Investigating", (COMPLAINT_HANDLER,)),
	("Investigating", "Propose Resolution", "Resolution Proposed", (COMPLAINT_HANDLER,)),
	("Investigating", "Request Extension", "Extension Requested", (COMPLAINT_HANDLER,)),
	("Extension Requested", "Approve Extension", "Extended Investigation", APPROVERS),
	("Extension Requested", "Reject Extension", "Investigating", APPROVERS),
	("Extended Investigation", "Propose Resolution", "Resolution Proposed", (COMPLAINT_HANDLER,)),
	("Resolution Proposed", "Approve", "Approved", APPROVERS),
	("Resolution Proposed", "Reject", "Investigating", APPROVERS),
	("Approved", "Inform Customer", "Customer Informed", (COMPLAINT_HANDLER,)),
	("Customer Informed", "Close", "Closed", (COMPLAINT_HANDLER, CONSUMER_PROTECTION_OFFICER)),
)
# states and actions only this workflow adds (removed on uninstall unless used elsewhere)
OUR_STATES = tuple(s for s, _style, _role in STATES if s not in ("Approved",))
OUR_ACTIONS = tuple(dict.fromkeys(a for _f, a, _t, _r in TRANSITIONS if a not in ("Approve", "Reject")))


def setup():
	make_complaint_workflow()
	make_default_settings()


def make_complaint_workflow():
	make_workflow(COMPLAINT_WORKFLOW, "Bank Complaint", "workflow_state", STATES, TRANSITIONS)


def make_default_settings():
	settings = frappe.get_single(SETTINGS)
	changed = False
	if not settings.sla_rules:
		tiers = set(frappe.get_all("Bank Customer Tier", pluck="name"))
		for rule in sla.default_rules():
			settings.append(
				"sla_rules",
				{
					"request_type": rule.request_type,
					"urgency": rule.urgency,
					"tier": rule.tier if rule.tier in tiers else None,
					"response_hours": rule.response_hours,
					"resolution_hours": rule.resolution_hours,
				},
			)
		changed = True
	if not settings.escalation_matrix:
		for level in escalation.DEFAULT_MATRIX:
			settings.append(
				"escalation_matrix",
				{"level": level.level, "recipient": level.recipient, "offset_minutes": level.offset_minutes},
			)
		changed = True
	if changed:
		settings.flags.ignore_permissions = True
		settings.save()


def remove_workflow():
	"""The complaint Workflow and the states and actions only it uses; what our records left in
	Frappe's tables goes with ``bank_crm.utils.traces`` (see ``install.remove_our_traces``)."""
	from bank_crm.setup.workflows import remove_workflow as remove

	remove(COMPLAINT_WORKFLOW, OUR_STATES, OUR_ACTIONS)
