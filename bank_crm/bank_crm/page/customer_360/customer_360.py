"""Customer-360 (客户全景视图): everything about one customer the user may read, in one payload.

Each section is read with ``frappe.get_list`` (the user's row-level access and permissions
apply) or from the profile document after Frappe's field-level read permissions are applied, so
the page shows nothing a list or form would not. Sections are bounded (the latest few rows and
a link to the full, filtered list): the cost does not grow with the size of the site.
"""

from __future__ import annotations

from datetime import datetime

import frappe
from frappe.utils import add_days, add_months, get_fullname, get_time, getdate, now_datetime, today

from bank_crm.bank_segmentation.segmentation import reason_in
from bank_crm.core.consent import CHANNELS, ConsentRecord, has_consent
from bank_crm.permissions.scope import refuse

PROFILE = "Bank Customer Profile"
SHOWN = 5  # rows per section; the section links to the full list
HEADER = (
	"name",
	"customer",
	"customer_name",
	"profile_type",
	"relationship_manager",
	"branch",
	"id_type",
	"id_number_masked",
	"tier",
	"tier_override",
	"lifecycle_stage",
	"lifecycle_reason",
	"verification_status",
	"reverification_due_on",
	"risk_tolerance",
	"risk_assessment_expires_on",
	"risk_assessment_expired",
	"do_not_contact",
	"do_not_contact_reason",
	"quiet_hours_start",
	"quiet_hours_end",
	"preferred_channel",
	"relationship_since",
	"value_score",
	"scored_on",
	"churn_probability",
	"churn_band",
	"churn_reasons",
	"top_propensities",
	"propensity_scores",
	"predicted_on",
)
# of HEADER, read with permission level 1 on the profile only
LEVEL_ONE = (
	"value_score",
	"churn_probability",
	"churn_band",
	"churn_reasons",
	"top_propensities",
	"propensity_scores",
	"predicted_on",
)
CONSENT_PURPOSES = ("Service", "Marketing", "Sensitive Data")
CLOSED_REQUEST = ("Resolved", "Closed")


def get(customer: str) -> dict:
	"""The payload of the customer-360 page for ``customer`` (the ERPNext Customer name)."""
	customer_name = _readable_customer(customer) if isinstance(customer, str) and customer else None
	if customer_name is None:
		refuse()
	profile = _profile(customer)
	now = now_datetime()
	return {
		"customer": customer,
		"customer_name": customer_name,
		"header": _header(profile, now) if profile else None,
		"value": _value(profile) if profile else None,
		"prediction": _prediction(profile) if profile and profile.read_score else None,
		"money": _money(customer),
		"needs": _needs(customer),
		"relationship": _relationship(customer, profile and profile.name),
		"service": _service(customer),
		"timeline": _timeline(customer),
		"can": {
			"read_score": bool(profile and profile.read_score),
			# the role's right; the row-level scope, the same for reading and writing, let it be read
			"write_profile": bool(profile and frappe.has_permission(PROFILE, "write")),
		},
	}


def _readable_customer(customer: str) -> str | None:
	"""The customer's name when the user may read the Customer by the list's rules (role,
	row-level scope, user permissions — the criterion ``has_permission`` applies too), without
	loading ERPNext's whole Customer; None otherwise."""
	try:
		rows = frappe.get_list(
			"Customer", filters={"name": customer}, fields=["name", "customer_name"], limit_page_length=1
		)
	except frappe.PermissionError:
		return None
	return (rows[0].customer_name or customer) if rows else None


def _profile(customer: str):
	"""The profile's header fields by the list's rules (row-level scope applies), its consent
	rows, and the score only for a user with permission level 1 on the profile — what the form
	would show, in three queries instead of loading the document with all its child tables."""
	if not frappe.has_permission(PROFILE, "read"):
		return None
	read_score = 1 in frappe.get_meta(PROFILE).get_permlevel_access("read")
	fields = [f for f in HEADER if read_score or f not in LEVEL_ONE]
	rows = frappe.get_list(PROFILE, filters={"customer": customer}, fields=fields, limit_page_length=1)
	if not rows:
		return None
	profile = rows[0]
	for f in LEVEL_ONE:
		profile.setdefault(f, None)
	profile.read_score = read_score
	profile.consents = frappe.get_all(
		"Bank Consent Record",
		filters={"parenttype": PROFILE, "parent": profile.name, "parentfield": "consents"},
		fields=["purpose", "channel", "granted_on", "withdrawn_on"],
	)
	return profile


# -- sections -------------------------------------------------------------------------------------
def _list(doctype: str, **kwargs) -> list[dict] | None:
	"""``frappe.get_list`` for a section; None (the page leaves the section out) for a doctype
	the user's roles may not read at all."""
	if not frappe.has_permission(doctype, "read"):
		return None
	return frappe.get_list(doctype, **kwargs)


def _header(doc, now: datetime) -> dict:
	out = {f: doc.get(f) for f in HEADER}
	out["relationship_manager_name"] = (
		get_fullname(doc.relationship_manager) if doc.relationship_manager else None
	)
	records = [
		ConsentRecord(r.purpose, r.channel, r.granted_on, r.withdrawn_on) for r in doc.get("consents") or []
	]
	# purpose → the channels it is in force on (all channels, or the listed ones)
	out["consents"] = {p: [c for c in CHANNELS if has_consent(records, p, c, now)] for p in CONSENT_PURPOSES}
	out["lifecycle_reason"] = reason_in(out["lifecycle_reason"])
	for key in ("quiet_hours_start", "quiet_hours_end"):
		value = out[key]
		out[key] = get_time(value).strftime("%H:%M") if value not in (None, "") else None
	return out


def _value(doc) -> dict:
	out = {
		"tier_history": _list(
			"Bank Tier History",
			filters={"profile": doc.name},
			fields=["change_date", "from_tier", "to_tier", "score", "reason"],
			order_by="change_date desc, creation desc",
			limit_page_length=SHOWN,
		),
		"lifecycle_history": _list(
			"Bank Lifecycle History",
			filters={"profile": doc.name},
			fields=["change_date", "from_stage", "to_stage", "is_override", "reason"],
			order_by="change_date desc, creation desc",
			limit_page_length=SHOWN,
		),
		"breakdown": None,
	}
	for row in out["lifecycle_history"] or []:
		row.reason = reason_in(row.reason)
	if doc.read_score:
		from bank_crm.bank_segmentation.segmentation import breakdown

		out["breakdown"] = breakdown(doc.name)
	return out


def _prediction(doc) -> dict | None:
	"""The churn score, its band and reasons (in the reader's language), the likely next products
	and the score's recent trend; None before the first scoring."""
	if not doc.get("predicted_on"):
		return None
	from bank_crm.bank_insight import explanations

	return {
		"churn_probability": doc.get("churn_probability") if doc.get("churn_band") else None,
		"churn_band": doc.get("churn_band"),
		"reasons": explanations.churn_reasons(doc.get("churn_reasons")),
		"top_propensities": explanations.likely_products(doc.get("propensity_scores")),
		"predicted_on": doc.get("predicted_on"),
		"trend": _list(
			"Bank Prediction Score",
			filters={"profile": doc.name, "kind": "Churn"},
			fields=["scored_on", "probability", "band"],
			order_by="scored_on desc",
			limit_page_length=SHOWN,
		),
	}


def _money(customer: str) -> dict:
	since = add_months(getdate(today()), -12)
	return {
		"snapshots": _list(
			"Bank Financial Snapshot",
			filters={"customer": customer, "as_of_date": (">=", since)},
			fields=["as_of_date", "deposit_balance", "loan_balance", "aum", "products_held"],
			order_by="as_of_date asc",
			limit_page_length=400,
		),
		"holdings": _list(
			"Bank Product Holding",
			filters={"customer": customer, "status": "Active"},
			fields=[
				"name",
				"product",
				"product.product_name as product_name",
				"product.category as category",
				"opened_on",
				"maturity_date",
				"amount",
			],
			order_by="maturity_date is null, maturity_date asc",
			limit_page_length=20,
		),
	}


def _needs(customer: str) -> list[dict]:
	return _list(
		"Bank Need Signal",
		filters={"customer": customer, "status": "Open"},
		fields=[
			"name",
			"need_category",
			"priority",
			"summary",
			"suggested_action",
			"raised_on",
			"expires_on",
			"measured_value",
			"threshold",
			"event_count",
		],
		order_by="priority asc, raised_on desc",
		limit_page_length=20,
	)


def _relationship(customer: str, profile: str | None) -> dict:
	return {
		"planned": _list(
			"Bank Visit Plan",
			filters={"customer": customer, "status": "Open"},
			fields=["name", "subject", "contact_kind", "due_date", "is_overdue", "responsible"],
			order_by="due_date asc",
			limit_page_length=SHOWN,
		),
		"interactions": _list(
			"Bank Interaction",
			filters={"customer": customer},
			fields=[
				"name",
				"interaction_type",
				"channel",
				"status",
				"actual_at",
				"planned_at",
				"outcome",
				"satisfaction",
			],
			order_by="coalesce(actual_at, planned_at) desc",
			limit_page_length=SHOWN,
		),
		"care": _list(
			"Bank Care Event",
			filters={"customer": customer, "event_date": (">=", add_days(getdate(today()), -7))},
			fields=["name", "event_type", "event_date", "detail", "status", "action"],
			order_by="event_date asc",
			limit_page_length=SHOWN,
		),
		"broadcasts": _list(
			"Bank Broadcast Recipient",
			filters={"customer": customer, "status": "Sent"},
			fields=["broadcast", "broadcast.title as title", "channel", "sent_on", "opened", "opted_out"],
			order_by="sent_on desc",
			limit_page_length=SHOWN,
		),
	}


def _service(customer: str) -> dict:
	return {
		"requests": _list(
			"Bank Service Request",
			filters={"customer": customer, "status": ("not in", CLOSED_REQUEST)},
			fields=[
				"name",
				"subject",
				"request_type",
				"urgency",
				"status",
				"registered_on",
				"response_due",
				"resolution_due",
				"responded_on",
				"response_breached",
				"resolution_breached",
				"paused_since",
			],
			order_by="coalesce(next_deadline, resolution_due) asc",
			limit_page_length=SHOWN,
		),
		"complaints": _list(
			"Bank Complaint",
			filters={"customer": customer, "workflow_state": ("!=", "Closed")},
			fields=[
				"name",
				"subject",
				"category",
				"workflow_state",
				"registered_on",
				"regulatory_deadline",
				"regulatory_breached",
				"extension_status",
			],
			order_by="regulatory_deadline asc",
			limit_page_length=SHOWN,
		),
	}


def _timeline(customer: str) -> list[dict]:
	return _list(
		"Communication",
		filters={"reference_doctype": "Customer", "reference_name": customer},
		fields=["name", "subject", "communication_medium", "sent_or_received", "communication_date"],
		order_by="communication_date desc",
		limit_page_length=8,
	)


def bank_crm_visit_brief(customer: str) -> dict:
	"""The payload of the *Visit Brief* print format (a Jinja method, hooks ``jinja``): the
	customer-360 under the same access rules as the page."""
	return frappe._dict(get(customer))
