"""Service requests and complaints: the SLA rules, telling the customer, assigning staff, the
regulatory clock of a complaint (escalation: ``bank_crm.bank_service.escalation``)."""

import frappe
from frappe.utils import getdate, now_datetime

from bank_crm.core import regulatory, sla

REQUEST = "Bank Service Request"
COMPLAINT = "Bank Complaint"
LOG = "Bank Escalation Log"
SETTINGS = "Bank Service Settings"
# contacts staff have already made (recorded); the others are sent by bank_crm.bank_engagement.outbound
RECORDED_CHANNELS = {"Phone": "Phone", "Visit": "Visit", "Letter": "Other"}


# -- settings ----------------------------------------------------------------------------------
def sla_rules() -> list[sla.SlaRule]:
	rows = frappe.get_all(
		"Bank SLA Rule",
		filters={"parenttype": SETTINGS, "parent": SETTINGS},
		fields=["request_type", "urgency", "tier", "response_hours", "resolution_hours"],
	)
	return [
		sla.SlaRule(r.request_type, r.urgency, r.tier or None, r.response_hours, r.resolution_hours)
		for r in rows
	] or list(sla.default_rules())


def default_tier() -> str | None:
	"""The lowest tier: the SLA for customers not yet tiered."""
	tiers = frappe.get_all(
		"Bank Customer Tier", fields=["name"], order_by="`rank` desc", limit=1, pluck="name"
	)
	return tiers[0] if tiers else None


def find_rule(request_type, urgency, tier) -> sla.SlaRule:
	return sla.find_rule(sla_rules(), request_type, urgency, tier, default_tier())


def setting(fieldname: str, default):
	value = frappe.db.get_single_value(SETTINGS, fieldname)
	return value if value not in (None, "", 0) else default


# -- the customer ------------------------------------------------------------------------------
def tell_customer(
	doc, channel: str, subject: str, message: str, kind: str, customer: str | None = None
) -> str | None:
	"""Send or record one contact with the customer about ``doc`` and log it on the request.

	Email, SMS, App Push and WeChat go through ``bank_crm.bank_engagement.outbound.dispatch`` (its
	message log and the Customer's timeline); a phone call, visit or letter already made is
	recorded as a Communication linked to the request and the customer.
	"""
	customer = customer or doc.customer
	reference = None
	if channel not in RECORDED_CHANNELS and _outbound_available():
		from bank_crm.bank_engagement.outbound import dispatch

		reference = dispatch(
			customer,
			channel,
			subject,
			message,
			content_class="Service",
			reference_doctype=doc.doctype,
			reference_name=doc.name,
		)
	else:
		comm = frappe.get_doc(
			{
				"doctype": "Communication",
				"communication_type": "Communication",
				"communication_medium": RECORDED_CHANNELS.get(channel, "Other"),
				"sent_or_received": "Sent",
				"subject": subject,
				"content": frappe.utils.escape_html(message),
				"reference_doctype": doc.doctype,
				"reference_name": doc.name,
				"status": "Linked",
			}
		)
		comm.add_link("Customer", customer)
		comm.insert(ignore_permissions=True)
		reference = comm.name
	return reference


def update_row(channel: str, kind: str, message: str, reference: str | None) -> dict:
	return {
		"sent_on": now_datetime(),
		"kind": kind,
		"channel": channel,
		"message": message,
		"sent_by": frappe.session.user,
		"reference": reference,
	}


def _outbound_available() -> bool:
	try:
		import bank_crm.bank_engagement.outbound  # noqa: F401
	except ImportError:
		return False
	return bool(frappe.db.exists("DocType", "Bank Outbound Message"))


# -- staff -------------------------------------------------------------------------------------
def assign(doc, user: str, description: str, date=None):
	"""A ToDo for ``user`` on ``doc`` (Frappe's assignment), once per open assignment."""
	from frappe.desk.form.assign_to import add

	if not user or frappe.db.exists(
		"ToDo",
		{"reference_type": doc.doctype, "reference_name": doc.name, "allocated_to": user, "status": "Open"},
	):
		return
	add(
		{
			"assign_to": [user],
			"doctype": doc.doctype,
			"name": doc.name,
			"description": description,
			"date": date or getdate(),
		},
		ignore_permissions=True,
	)


def regulatory_clock(doc) -> regulatory.Clock:
	return regulatory.Clock(
		registered_on=getdate(doc.registered_on),
		is_complex=bool(doc.is_complex),
		extension=doc.extension_status or "",
		extension_reason=doc.extension_reason or "",
		extension_requested_by=doc.extension_requested_by,
		extension_approved_by=doc.extension_decided_by,
		decided_on=getdate(doc.decided_on) if doc.decided_on else None,
	)
