"""Whitelisted actions on service requests: each loads the request, checks the user may write
it, lets the controller decide, and saves once."""

import frappe
from frappe import _

from bank_crm.core.sla import DEPARTMENTS

REQUEST = "Bank Service Request"


def _load(name: str):
	doc = frappe.get_doc(REQUEST, name)
	doc.check_permission("write")
	return doc


def _done(doc) -> dict:
	doc.save()
	return {"name": doc.name, "status": doc.status, "next_deadline": doc.next_deadline}


@frappe.whitelist(methods=["POST"])
def respond(name: str, message: str, channel: str = "Phone") -> dict:
	"""A progress update (the first one is the response), logged with the channel used."""
	doc = _load(name)
	doc.respond(message, channel)
	return _done(doc)


@frappe.whitelist(methods=["POST"])
def wait_on_customer(name: str, message: str, channel: str = "Phone") -> dict:
	doc = _load(name)
	doc.pause(message, channel)
	return _done(doc)


@frappe.whitelist(methods=["POST"])
def customer_replied(name: str) -> dict:
	doc = _load(name)
	doc.resume()
	return _done(doc)


@frappe.whitelist(methods=["POST"])
def add_task(name: str, department: str, owner: str, deadline: str, description: str | None = None) -> dict:
	if department not in DEPARTMENTS:
		frappe.throw(_("Unknown department {0}").format(department))
	doc = _load(name)
	row = doc.add_task(department, owner, deadline, description)
	result = _done(doc)
	doc.assign_task(row)
	result["task"] = row.name
	return result


@frappe.whitelist(methods=["POST"])
def complete_task(name: str, task: str) -> dict:
	doc = _load(name)
	doc.complete_task(task)
	return _done(doc)


@frappe.whitelist(methods=["POST"])
def resolve(name: str, resolution: str, channel: str = "Phone", first_contact: int = 0) -> dict:
	doc = _load(name)
	doc.resolve(resolution, channel, bool(frappe.utils.cint(first_contact)))
	return _done(doc)


@frappe.whitelist(methods=["POST"])
def confirm_satisfaction(name: str, score: int, comment: str | None = None) -> dict:
	doc = _load(name)
	doc.confirm_satisfaction(score, comment)
	return _done(doc)
