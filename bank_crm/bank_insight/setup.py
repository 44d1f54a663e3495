"""Defaults the insight module installs: the event types and the need rules of
``bank_crm.core.signals``, in the site's language (Chinese or English), created once and
editable afterwards (a later migrate never overwrites them); and the Workflow that activates a
prediction model."""

import frappe
from frappe import _

from bank_crm.core import signals
from bank_crm.core.access import CRM_ADMINISTRATOR
from bank_crm.setup.workflows import make_workflow, remove_workflow

MODEL_WORKFLOW = "Bank Prediction Model Activation"
MODEL_STATES = (
	# state, style, role that may edit in this state (Draft → Trained → Validated by the training job)
	("Draft", "", CRM_ADMINISTRATOR),
	("Trained", "Info", CRM_ADMINISTRATOR),
	("Validated", "Primary", CRM_ADMINISTRATOR),
	("Pending Activation", "Warning", CRM_ADMINISTRATOR),
	("Active", "Success", CRM_ADMINISTRATOR),
	("Retired", "Inverse", CRM_ADMINISTRATOR),
)
MODEL_TRANSITIONS = (
	# from, action, to, roles (the server also refuses the trainer as approver)
	("Validated", "Request Activation", "Pending Activation", (CRM_ADMINISTRATOR,)),
	("Pending Activation", "Approve", "Active", (CRM_ADMINISTRATOR,)),
	("Pending Activation", "Reject", "Validated", (CRM_ADMINISTRATOR,)),
	("Active", "Retire", "Retired", (CRM_ADMINISTRATOR,)),
)
OUR_MODEL_STATES = ("Trained", "Validated", "Pending Activation", "Active", "Retired")
OUR_MODEL_ACTIONS = ("Request Activation", "Retire")


def setup():
	settings_defaults()
	make_workflow(
		MODEL_WORKFLOW,
		"Bank Prediction Model",
		"status",
		MODEL_STATES,
		MODEL_TRANSITIONS,
		no_self_approval=("Approve",),
	)
	lang = frappe.db.get_default("lang") or "en"
	for event_type, description in signals.DEFAULT_EVENT_TYPES:
		if not frappe.db.exists("Bank Event Type", event_type):
			frappe.get_doc(
				{
					"doctype": "Bank Event Type",
					"event_type": event_type,
					"description": _(description, lang=lang),
				}
			).insert(ignore_permissions=True)
	for spec in signals.DEFAULT_RULES:
		if frappe.db.exists("Bank Need Rule", spec["rule_name"]):
			continue
		doc = frappe.get_doc(
			{
				"doctype": "Bank Need Rule",
				**{k: v for k, v in spec.items() if k != "event_types"},
				"priority": str(spec["priority"]),
				"description": _(spec["description"], lang=lang),
				"suggested_action": _(spec["suggested_action"], lang=lang),
				"event_types": [{"event_type": t} for t in spec.get("event_types", ())],
			}
		)
		doc.insert(ignore_permissions=True)


def settings_defaults():
	"""A Single keeps no defaults until saved: store them, so the jobs read what the form shows."""
	settings = frappe.get_single("Bank Insight Settings")
	changed = False
	for df in settings.meta.fields:
		if df.default is not None and settings.get(df.fieldname) in (None, ""):
			settings.set(df.fieldname, df.default)
			changed = True
	if changed:
		settings.flags.ignore_permissions = True
		settings.save()


def remove():
	remove_workflow(MODEL_WORKFLOW, OUR_MODEL_STATES, OUR_MODEL_ACTIONS)
