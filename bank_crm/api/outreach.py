"""Broadcasts from the desk, and the customers' opt-out.

Preview counts and renders without sending; the review moves with Frappe's
``frappe.model.workflow.apply_workflow`` (the controller enforces the rules). The opt-out link
in a marketing email is signed for its broadcast and customer; it withdraws the customer's
marketing consent in the ledger, with the evidence, and later broadcasts skip the customer.
"""

import frappe
from frappe import _
from frappe.utils import now_datetime

from bank_crm.bank_outreach import broadcasts

BROADCAST = "Bank Broadcast"


@frappe.whitelist()
def preview(broadcast: str) -> dict:
	"""Recipients, skips by reason, the split by channel and sample messages for a few real
	recipients — for a broadcast the user may read; nothing is sent."""
	doc = frappe.get_doc(BROADCAST, broadcast)
	doc.check_permission("read")
	out = broadcasts.preview(doc)
	out["by_reason"] = {_(k): v for k, v in out["by_reason"].items()}
	out["by_channel"] = {_(k): v for k, v in out["by_channel"].items()}
	return out


@frappe.whitelist(allow_guest=True, methods=["GET", "POST"])
def opt_out(b: str | None = None, c: str | None = None, t: str | None = None, profiling: str | None = None):
	"""The unsubscribe link of a marketing email (no login: the link is signed). Opening it asks
	to confirm; the confirmation (a POST) withdraws the marketing consent and, when ticked (as
	it is for a broadcast chosen by predicted need), objects to automated profiling (PIPL
	article 24)."""
	import hmac

	valid = all(isinstance(v, str) and v for v in (b, c, t)) and hmac.compare_digest(
		broadcasts.opt_out_token(b, c), t
	)
	if not valid:
		frappe.respond_as_web_page(
			_("Link not valid"),
			_("This unsubscribe link is not valid."),
			http_status_code=400,
			indicator_color="red",
		)
		return
	if frappe.request and frappe.request.method == "GET":
		# a mail scanner that follows links must not unsubscribe anyone: the click confirms
		esc = frappe.utils.escape_html
		fields = "".join(
			f'<input type="hidden" name="{k}" value="{esc(v)}">' for k, v in (("b", b), ("c", c), ("t", t))
		)
		checked = " checked" if broadcasts.chosen_by_prediction(b) else ""
		frappe.respond_as_web_page(
			_("Unsubscribe"),
			f"<p>{esc(_('Stop receiving marketing messages from us? Service notices will still reach you.'))}</p>"
			f'<form method="post" action="/api/method/bank_crm.api.outreach.opt_out">{fields}'
			f'<p><label><input type="checkbox" name="profiling" value="1"{checked}> '
			f"{esc(_('Also object to the automated analysis of my data for marketing offers'))}</label></p>"
			f'<button class="btn btn-primary" type="submit">{esc(_("Unsubscribe"))}</button></form>',
		)
		return
	evidence = _("Unsubscribe link in broadcast {0}").format(b)
	withdraw_marketing(c, evidence, broadcast=b)
	if profiling in ("1", "on"):
		from bank_crm.bank_customer.data_subject_rights import object_to_profiling

		object_to_profiling(c, evidence)
	frappe.respond_as_web_page(
		_("Unsubscribed"),
		_("You will no longer receive marketing messages from us. Service notices still reach you."),
		indicator_color="green",
	)


@frappe.whitelist(methods=["POST"])
def sms_opt_out(mobile_no: str, message: str | None = None) -> dict:
	"""The SMS gateway reports an opt-out reply (Bank CRM Integration)."""
	if "Bank CRM Integration" not in frappe.get_roles() and "System Manager" not in frappe.get_roles():
		frappe.throw(_("Only the integration user may report opt-outs."), frappe.PermissionError)
	customers = frappe.get_all("Bank Customer Profile", filters={"mobile_no": mobile_no}, pluck="customer")
	for customer in customers:
		withdraw_marketing(customer, _("SMS reply {0} from {1}").format(message or "", mobile_no))
	return {"customers": len(customers)}


def withdraw_marketing(customer: str, evidence: str, broadcast: str | None = None) -> int:
	"""Withdraw every marketing consent in force of ``customer``, with the evidence; never
	deletes or rewrites a ledger row (the withdrawal date and evidence are set on it)."""
	profile = frappe.db.get_value("Bank Customer Profile", {"customer": customer}, "name")
	if not profile:
		return 0
	now = now_datetime()
	frappe.db.sql(
		"""update `tabBank Consent Record` set withdrawn_on = %s, withdrawal_evidence = %s
		where parenttype = 'Bank Customer Profile' and parent = %s and purpose = 'Marketing'
			and withdrawn_on is null""",
		(now, evidence[:140], profile),
	)
	withdrawn = frappe.db._cursor.rowcount
	from bank_crm.bank_customer.data_subject_rights import stop_marketing

	stop_marketing([customer], evidence)
	if broadcast:
		frappe.db.sql(
			"update `tabBank Broadcast Recipient` set opted_out = 1 where broadcast = %s and customer = %s",
			(broadcast, customer),
		)
		broadcasts.refresh_counts(broadcast)
	frappe.get_doc("Bank Customer Profile", profile).add_comment(
		"Info", _("Marketing consent withdrawn: {0}").format(evidence)
	)
	frappe.db.commit()
	return withdrawn
