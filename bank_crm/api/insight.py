"""Behaviour data in, needs out: ingestion endpoints and the actions on need signals.

    POST /api/method/bank_crm.api.insight.events      {"rows": [...], "source": "core-banking"}
    POST /api/method/bank_crm.api.insight.holdings    {"rows": [...]}

(an API-key user with the Bank CRM Integration role; at most 50,000 rows a call). The answer
counts every row and names each refused one with its index, field and reason in the caller's
language. Every action on a signal checks that the user may write it (row-level access).
"""

import frappe
from frappe import _
from frappe.utils import now_datetime

from bank_crm.api import bad_argument, json_rows, use_callers_language
from bank_crm.bank_insight import activity_ingestion as activity
from bank_crm.bank_insight import need_detection as detection
from bank_crm.permissions import limits
from bank_crm.permissions.scope import refuse, require_crm_administrator

SIGNAL = "Bank Need Signal"


def _answer(result: dict) -> dict:
	result["errors"] = [
		{"index": e.index, "field": e.field, "reason": _(e.reason).format(*e.args)} for e in result["errors"]
	]
	return result


@frappe.whitelist(methods=["POST"])
@limits.per_user("ingest_calls_per_minute", 60)
def events(rows=None, source: str | None = None) -> dict:
	"""Activity events; ``source`` names the sending system for rows that do not."""
	use_callers_language()
	if not frappe.has_permission(activity.EVENT, "create"):
		frappe.throw(_("You may not load activity events."), frappe.PermissionError)
	if source is not None and not isinstance(source, str):
		bad_argument("source", _("must be text"))
	return _answer(activity.ingest_events(json_rows(rows, activity.MAX_ROWS, _("event objects")), source))


@frappe.whitelist(methods=["POST"])
@limits.per_user("ingest_calls_per_minute", 60)
def holdings(rows=None) -> dict:
	"""Product holdings: each replaces what is on file for its customer and product."""
	use_callers_language()
	if not frappe.has_permission(activity.HOLDING, "create"):
		frappe.throw(_("You may not load product holdings."), frappe.PermissionError)
	return _answer(activity.ingest_holdings(json_rows(rows, activity.MAX_ROWS, _("holding objects"))))


def _open_signal(name: str):
	doc = frappe.get_doc(SIGNAL, name)
	doc.check_permission("write")
	if doc.status != "Open":
		frappe.throw(_("Signal {0} is already {1}.").format(name, _(doc.status)))
	return doc


def _close(doc, status: str, **values):
	now = now_datetime()
	doc.db_set({"status": status, "closed_on": now, "closed_by": frappe.session.user, **values})
	if doc.todo:
		frappe.db.set_value("ToDo", doc.todo, "status", "Closed" if status == "Acted" else "Cancelled")
	doc.add_comment("Info", _("{0} by {1}").format(_(status), frappe.session.user))


@frappe.whitelist(methods=["POST"])
def act(signal: str, interaction: str | None = None) -> dict:
	"""The RM dealt with the need, optionally through a recorded contact with the customer."""
	doc = _open_signal(signal)
	if interaction:
		contact = frappe.get_doc("Bank Interaction", interaction)
		contact.check_permission("read")
		if contact.customer != doc.customer:
			bad_argument("interaction", _("{0} is a contact with another customer").format(interaction))
	_close(doc, "Acted", interaction=interaction)
	return {"name": doc.name, "status": doc.status}


@frappe.whitelist(methods=["POST"])
def dismiss(signal: str, reason: str) -> dict:
	doc = _open_signal(signal)
	if not (reason or "").strip():
		bad_argument("reason", _("say why the need is dismissed"))
	_close(doc, "Dismissed", dismiss_reason=reason.strip())
	return {"name": doc.name, "status": doc.status}


@frappe.whitelist(methods=["POST"])
def create_opportunity(signal: str) -> dict:
	"""An ERPNext Opportunity for the customer from the signal; the signal counts as acted."""
	doc = _open_signal(signal)
	company = frappe.defaults.get_user_default("Company") or frappe.db.get_single_value(
		"Global Defaults", "default_company"
	)
	opportunity = frappe.get_doc(
		{
			"doctype": "Opportunity",
			"opportunity_from": "Customer",
			"party_name": doc.customer,
			"title": doc.customer_name or doc.customer,
			"company": company,
			"status": "Open",
			"opportunity_owner": doc.relationship_manager,
			"bank_product": doc.suggested_product,  # checked again for suitability on insert
		}
	)
	opportunity.flags.ignore_permissions = True  # the RM may write the signal; the form is theirs to follow
	opportunity.insert()
	opportunity.add_comment(
		"Info", f"{_(doc.need_category)}: {doc.summary or ''}\n{doc.suggested_action or ''}"
	)
	_close(doc, "Acted", opportunity=opportunity.name)
	return {"name": doc.name, "status": doc.status, "opportunity": opportunity.name}


@frappe.whitelist(methods=["POST"])
def run_now() -> str:
	require_crm_administrator()
	return detection.enqueue()


@frappe.whitelist()
def customer_overview(customer: str) -> dict:
	"""Open need signals and active holdings of a customer the user may read (for its forms)."""
	if not frappe.has_permission("Customer", "read", doc=customer):
		refuse()
	return {
		"signals": frappe.get_list(
			SIGNAL,
			filters={"customer": customer, "status": "Open"},
			fields=["name", "need_category", "priority", "summary", "suggested_action", "raised_on"],
			order_by="priority asc, raised_on desc",
		),
		"holdings": frappe.get_list(
			activity.HOLDING,
			filters={"customer": customer, "status": "Active"},
			fields=[
				"name",
				"product",
				"product.product_name as product_name",
				"opened_on",
				"maturity_date",
				"amount",
			],
			order_by="maturity_date asc",
		),
	}


@frappe.whitelist(methods=["POST"])
def train_model(model: str) -> str:
	"""Queue the training and out-of-time validation of a draft prediction model (CRM
	Administrator); the job runs on the long queue as the calling user, its trainer."""
	require_crm_administrator()
	doc = frappe.get_doc("Bank Prediction Model", model)
	doc.check_permission("write")
	if doc.status != "Draft":
		frappe.throw(
			_("Only a draft model is trained; {0} is {1}. Make a new version to train again.").format(
				doc.name, _(doc.status)
			)
		)
	from bank_crm.bank_insight.prediction_models import enqueue_training

	return enqueue_training(doc.name)


@frappe.whitelist(methods=["POST"])
def open_opportunity(customer: str, product: str | None = None) -> str:
	"""An ERPNext Opportunity for a customer the caller may read, for a bank product if given —
	refused, naming the reason, when the product is not suitable for the customer (适当性)."""
	if not isinstance(customer, str) or not frappe.has_permission("Customer", "read", doc=customer):
		refuse()
	if product and not frappe.db.exists("Bank Product", {"name": product, "enabled": 1}):
		bad_argument("product", _("{0} is not an enabled bank product").format(product))
	company = frappe.defaults.get_user_default("Company") or frappe.db.get_single_value(
		"Global Defaults", "default_company"
	)
	owner = frappe.db.get_value("Customer", customer, "bank_relationship_manager") or frappe.session.user
	opportunity = frappe.get_doc(
		{
			"doctype": "Opportunity",
			"opportunity_from": "Customer",
			"party_name": customer,
			"title": frappe.db.get_value("Customer", customer, "customer_name") or customer,
			"company": company,
			"status": "Open",
			"opportunity_owner": owner,
			"bank_product": product,  # the suitability check runs on insert
		}
	)
	opportunity.flags.ignore_permissions = True  # the caller may read the customer: the form is theirs
	opportunity.insert()
	return opportunity.name
