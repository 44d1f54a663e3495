"""The Frappe Workflows of bank_crm: states, actions and transitions from plain tables, created
once (an administrator's later edits stand) and removed with the app, leaving the states and
actions another workflow still uses."""

import frappe


def ensure_workflow_masters(states, actions):
	"""Workflow States ((name, style) pairs) and Workflow Action Masters a workflow of ours uses."""
	for state, style in states:
		if not frappe.db.exists("Workflow State", state):
			frappe.get_doc(
				{"doctype": "Workflow State", "workflow_state_name": state, "style": style}
			).insert(ignore_permissions=True)
	for action in dict.fromkeys(actions):
		if not frappe.db.exists("Workflow Action Master", action):
			frappe.get_doc({"doctype": "Workflow Action Master", "workflow_action_name": action}).insert(
				ignore_permissions=True
			)


def make_workflow(name: str, doctype: str, field: str, states, transitions, no_self_approval=()):
	"""``states``: (state, style, role that may edit[, document status: 0 draft, 1 submitted,
	2 cancelled]); ``transitions``: (from, action, to, roles); ``no_self_approval``: actions the
	document's author may not take."""
	states = [(*s, 0) if len(s) == 3 else s for s in states]
	ensure_workflow_masters(((s[0], s[1]) for s in states), (a for _f, a, _t, _r in transitions))
	if frappe.db.exists("Workflow", name):
		return
	frappe.get_doc(
		{
			"doctype": "Workflow",
			"workflow_name": name,
			"document_type": doctype,
			"workflow_state_field": field,
			"is_active": 1,
			"send_email_alert": 0,
			"states": [
				{"state": s, "doc_status": str(status), "allow_edit": role}
				for s, _style, role, status in states
			],
			"transitions": [
				{
					"state": f,
					"action": a,
					"next_state": t,
					"allowed": role,
					"allow_self_approval": int(a not in no_self_approval),
				}
				for f, a, t, roles in transitions
				for role in roles
			],
		}
	).insert(ignore_permissions=True)


def remove_workflow(name: str, states=(), actions=()):
	"""The workflow, and those of ``states`` and ``actions`` no other workflow uses."""
	frappe.db.delete("Workflow", {"name": name})
	frappe.db.delete("Workflow Document State", {"parent": name})
	frappe.db.delete("Workflow Transition", {"parent": name})
	used_states = set(frappe.get_all("Workflow Document State", pluck="state"))
	for state in states:
		if state not in used_states:
			frappe.db.delete("Workflow State", {"name": state})
	used_actions = set(frappe.get_all("Workflow Transition", pluck="action"))
	for action in actions:
		if action not in used_actions:
			frappe.db.delete("Workflow Action Master", {"name": action})
