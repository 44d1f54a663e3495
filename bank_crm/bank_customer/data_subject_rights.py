"""Personal-information rights (个人信息权利) in a site: the access export, the explanation of the
score and tier, consent withdrawal and the deletion decision (a deletion carried out is an
anonymisation: ``bank_crm.bank_customer.anonymisation``).

The rules are ``bank_crm.core.rights`` (answer clock, deletion, the anonymisation plan) and
``bank_crm.core.suitability``; this module reads and writes the site.
"""

from __future__ import annotations

import json
from datetime import date

import frappe
from frappe import _
from frappe.utils import cint, getdate, now_datetime, today

from bank_crm.core import rights
from bank_crm.core.consent import PROFILING
from bank_crm.utils.bulk import in_list, in_list_with_params

PROFILE = "Bank Customer Profile"
REQUEST = "Bank Data Subject Request"
CUSTOMER_LINKS = ("Customer", PROFILE)
OPEN_COMPLAINT = "an open complaint"
OPEN_REQUEST = "an open service request"


# -- settings ---------------------------------------------------------------------------------------
def policy() -> rights.RetentionPolicy:
	years = cint(frappe.db.get_single_value("Bank CRM Settings", "aml_retention_years")) or 5
	return rights.RetentionPolicy(aml_years=years)


def holidays(start: date, years: int = 1) -> list[date]:
	"""The default company's holiday list (ERPNext), if any."""
	company = frappe.defaults.get_global_default("company")
	holiday_list = company and frappe.db.get_value("Company", company, "default_holiday_list")
	if not holiday_list:
		return []
	return [
		getdate(d)
		for d in frappe.get_all(
			"Holiday",
			filters={"parent": holiday_list, "holiday_date": (">=", start)},
			pluck="holiday_date",
		)
	]


def answer_due(received) -> date:
	received = getdate(received)
	return rights.answer_due(received, holidays(received))


# -- which doctypes name a customer ----------------------------------------------------------------
def customer_doctypes() -> dict[str, list[str]]:
	"""Every doctype of the app with a Link to Customer or to the profile → those link fields
	(read from the site's meta, so that a doctype added later is included by itself)."""
	modules = frappe.get_all("Module Def", filters={"app_name": "bank_crm"}, pluck="name")
	ours = frappe.get_all(
		"DocType", filters={"module": ("in", modules), "istable": 0, "is_virtual": 0}, pluck="name"
	)
	out: dict[str, list[str]] = {}
	for row in frappe.get_all(
		"DocField",
		filters={"parent": ("in", ours), "fieldtype": "Link", "options": ("in", CUSTOMER_LINKS)},
		fields=["parent", "fieldname", "options"],
		order_by="parent, idx",
	):
		out.setdefault(row.parent, []).append(row.fieldname)
	return out


def _records(doctype: str, links: list[str], customer: str, profile: str | None) -> list[dict]:
	meta = frappe.get_meta(doctype)
	values = {"Customer": customer, PROFILE: profile}
	rows: dict[str, dict] = {}
	for link in links:
		target = values.get(meta.get_field(link).options)
		if not target:
			continue
		for row in frappe.get_all(doctype, filters={link: target}, fields=["*"], order_by="creation"):
			rows[row.name] = row
	hidden = {f.fieldname for f in meta.fields if f.fieldtype == "Password"}
	out = []
	for row in rows.values():
		row = {k: v for k, v in row.items() if k not in hidden and not k.startswith("_")}
		for table in meta.get_table_fields():
			row[table.fieldname] = [
				{k: v for k, v in child.items() if not k.startswith("_")}
				for child in frappe.get_all(
					table.options,
					filters={"parent": row["name"], "parenttype": doctype, "parentfield": table.fieldname},
					fields=["*"],
					order_by="idx",
				)
			]
		out.append(row)
	return out


# -- access: the export -----------------------------------------------------------------------------
def export(customer: str) -> dict:
	"""Everything the app holds on ``customer``: the Customer, each doctype naming it, the
	opportunities made for it, the timeline, the score breakdown and the full ID number."""
	profile = frappe.db.get_value(PROFILE, {"customer": customer}, "name")
	out = {
		"customer": customer,
		"exported_on": str(now_datetime()),
		"records": {
			"Customer": [dict(frappe.get_doc("Customer", customer).as_dict(no_default_fields=False))]
		},
	}
	for doctype, links in sorted(customer_doctypes().items()):
		out["records"][doctype] = _records(doctype, links, customer, profile)
	out["records"]["Opportunity"] = frappe.get_all(
		"Opportunity",
		filters={"opportunity_from": "Customer", "party_name": customer},
		fields=["name", "status", "opportunity_type", "source", "transaction_date", "creation"],
	)
	out["records"]["Communication"] = frappe.get_all(
		"Communication",
		filters={"reference_doctype": "Customer", "reference_name": customer},
		fields=[
			"name",
			"subject",
			"communication_medium",
			"sent_or_received",
			"communication_date",
			"content",
		],
		order_by="communication_date",
	)
	if profile:
		from bank_crm.bank_customer.privacy import full_id_number

		out["records"][PROFILE][0]["id_number"] = full_id_number(frappe.get_doc(PROFILE, profile))
		from bank_crm.bank_segmentation.segmentation import breakdown

		out["score_breakdown"] = breakdown(profile)
		out["explanation"] = explanation_text(customer)
	for rows in out["records"].values():
		for row in rows:
			for key in [k for k, v in row.items() if k == "doctype" or v is None]:
				del row[key]
	return out


def attach_export(request) -> tuple[str, str]:
	"""The export as a private JSON file and a readable PDF, attached to the request."""
	from frappe.utils.pdf import get_pdf

	data = export(request.customer)
	lang = answer_lang()
	stem = f"{request.name}-{request.customer}"
	body = json.dumps(data, ensure_ascii=False, indent=1, default=str, sort_keys=True)
	html = frappe.render_template(
		"bank_crm/templates/personal_information_export.html",
		{
			"data": data,
			"request": request,
			"_": lambda text: _(text, lang=lang),
			"labels": _labels(data, lang),
		},
	)
	urls = []
	for field, fname, content in (
		("export_json", f"{stem}.json", body.encode()),
		("export_pdf", f"{stem}.pdf", get_pdf(html)),
	):
		urls.append(
			frappe.get_doc(
				{
					"doctype": "File",
					"file_name": fname,
					"attached_to_doctype": REQUEST,
					"attached_to_name": request.name,
					"attached_to_field": field,  # else Frappe attaches the field's file a second time
					"is_private": 1,
					"content": content,
				}
			)
			.insert(ignore_permissions=True)
			.file_url
		)
	from frappe.core.doctype.access_log.access_log import make_access_log

	make_access_log(
		doctype=REQUEST, document=request.name, file_type="JSON/PDF", method="personal_information_export"
	)
	return urls[0], urls[1]


def _labels(data, lang: str) -> dict:
	out = {}
	for doctype, rows in data["records"].items():
		meta = frappe.get_meta(doctype)
		for row in rows:
			for key in row:
				field = meta.get_field(key)
				out[(doctype, key)] = _(field.label, lang=lang) if field and field.label else key
	return {f"{d}|{k}": v for (d, k), v in out.items()}


# -- explanation ------------------------------------------------------------------------------------
def answer_lang() -> str:
	"""Answers to the customer are written in the bank's language (the site's), not the
	handler's."""
	return frappe.db.get_default("lang") or "en"


def explanation_text(customer: str, lang: str | None = None) -> str:
	"""Why this score and this tier, in plain words (the bank's language unless ``lang``)."""
	lang = lang or answer_lang()
	profile = frappe.db.get_value(
		PROFILE, {"customer": customer}, ["name", "tier", "tier_override"], as_dict=True
	)
	if not profile:
		return _(
			"The bank holds no customer profile for {0}: no score or tier has been decided.", lang=lang
		).format(customer)
	from bank_crm.bank_segmentation.segmentation import breakdown

	b = breakdown(profile.name)
	factors = [
		rights.Factor(_(p["label"], lang=lang), p["value"], p["weight"], p["contribution"], p["kind"])
		for p in b.get("parts", [])
	]
	tiers = []
	if b.get("policy"):
		tiers = [
			rights.TierLine(_(t.tier, lang=lang), t.min_score or 0, t.min_aum, t.min_deposit_balance)
			for t in frappe.get_all(
				"Bank Tier Policy Tier",
				filters={"parent": b["policy"], "parenttype": "Bank Tier Policy"},
				fields=["tier", "min_score", "min_aum", "min_deposit_balance"],
			)
		]
	sentences = rights.explanation(
		b.get("score") if b.get("policy") else None,
		b.get("policy"),
		b.get("snapshot_date"),
		factors,
		_(profile.tier, lang=lang) if profile.tier else None,
		tiers,
		override=_(profile.tier_override, lang=lang) if profile.tier_override else None,
	)
	lines = [_(template, lang=lang).format(*args) for template, args in sentences]
	return "\n".join(lines + _model_explanation(profile.name, lang))


def _model_explanation(profile: str, lang: str) -> list[str]:
	"""What the churn model decided about the customer and why (PIPL article 24), if it did."""
	from bank_crm.bank_insight import explanations

	row = frappe.db.get_value(
		PROFILE, profile, ["churn_band", "churn_probability", "churn_reasons", "predicted_on"], as_dict=True
	)
	if not row or not row.churn_band:
		return []
	lines = [
		_(
			"On {0} a churn model of the bank rated the probability that the relationship ends at {1}% ({2}).",
			lang=lang,
		).format(row.predicted_on, row.churn_probability, _(row.churn_band, lang=lang))
	]
	stated = explanations.churn_reasons(row.churn_reasons, lang)
	if stated:
		lines.append(_("What weighed most:", lang=lang))
		lines += ["- " + text for text in stated]
	lines.append(
		_(
			"The customer may object to such profiling for marketing at any time; the objection is recorded in the consent ledger.",
			lang=lang,
		)
	)
	return lines


# -- consent withdrawal -----------------------------------------------------------------------------
def withdraw_consent(customer: str, purposes, evidence: str) -> int:
	"""Withdraw the consents in force of ``purposes`` (rows are closed, never deleted); marketing
	stops at once: open automated marketing touches are cancelled."""
	profile = frappe.db.get_value(PROFILE, {"customer": customer}, "name")
	if not profile:
		return 0
	frappe.db.sql(
		f"""update `tabBank Consent Record` set withdrawn_on = %s, withdrawal_evidence = %s
		where parenttype = %s and parent = %s and purpose in {in_list_with_params(list(purposes))}
			and withdrawn_on is null""",
		(now_datetime(), evidence[:140], PROFILE, profile),
	)
	withdrawn = frappe.db._cursor.rowcount
	if "Marketing" in purposes or "Service" in purposes:
		stop_marketing([customer], evidence)
	if PROFILING in purposes:
		object_to_profiling(customer, evidence)
	return withdrawn


def object_to_profiling(customer: str, evidence: str) -> bool:
	"""PIPL article 24: the customer objects to automated profiling for marketing. The ledger
	shows it (the consents of the purpose are withdrawn; with none ever given, a row recording
	the objection itself), the propensity scores on the profile are cleared at once (the next
	scoring run does not score the customer for them) and open propensity signals close."""
	profile = frappe.db.get_value(PROFILE, {"customer": customer}, "name")
	if not profile:
		return False
	now = now_datetime()
	frappe.db.sql(
		"""update `tabBank Consent Record` set withdrawn_on = %s, withdrawal_evidence = %s
		where parenttype = %s and parent = %s and purpose = %s and withdrawn_on is null""",
		(now, evidence[:140], PROFILE, profile, PROFILING),
	)
	if not frappe.db.exists(
		"Bank Consent Record", {"parenttype": PROFILE, "parent": profile, "purpose": PROFILING}
	):
		idx = frappe.db.sql(
			"select ifnull(max(idx), 0) + 1 from `tabBank Consent Record` where parenttype = %s and parent = %s",
			(PROFILE, profile),
		)[0][0]
		frappe.get_doc(
			{
				"doctype": "Bank Consent Record",
				"parenttype": PROFILE,
				"parentfield": "consents",
				"parent": profile,
				"idx": idx,
				"purpose": PROFILING,
				"channel": "All Channels",
				"granted_on": now,  # nothing was granted: the row carries the objection's date
				"withdrawn_on": now,
				"withdrawal_evidence": evidence[:140],
				"evidence_type": "Other",
				"evidence_reference": _("Objection to automated profiling")[:140],
				"recorded_by": frappe.session.user,
			}
		).db_insert()
	clear_propensities([profile])
	return True


def clear_propensities(profiles: list[str]) -> None:
	"""The profiles' marketing propensities go (their churn score, a service matter, stays), and
	their open signals from propensity rules close as dismissed, with their tasks."""
	if not profiles:
		return
	frappe.db.sql(
		f"""update `tab{PROFILE}` set propensity_scores = null, top_propensities = null
		where name in {in_list(profiles)}"""
	)
	names = frappe.db.sql_list(
		f"""select s.name from `tabBank Need Signal` s join `tabBank Need Rule` r on r.name = s.rule
		join `tab{PROFILE}` p on p.customer = s.customer
		where p.name in {in_list(profiles)} and s.status = 'Open' and ifnull(r.propensity_category, '') != ''"""
	)
	if names:
		now = now_datetime()
		frappe.db.sql(
			f"""update `tabBank Need Signal` set status = 'Dismissed', closed_on = %s, modified = %s,
				dismiss_reason = %s where name in {in_list(names)}""",
			(now, now, _("The customer objects to automated profiling")[:140]),
		)
		frappe.db.sql(
			f"""update `tabToDo` set status = 'Cancelled', modified = %s
			where reference_type = 'Bank Need Signal' and reference_name in {in_list(names)} and status = 'Open'""",
			(now,),
		)


def stop_marketing(customers, reason: str) -> dict:
	"""After a marketing consent is withdrawn (ledger, opt-out link, data-subject request):
	open automated marketing touches are cancelled and queued marketing messages skipped."""
	if not customers:
		return {}
	batch = in_list(list(customers))
	frappe.db.sql(
		f"""update `tabBank Visit Plan` set status = 'Cancelled', cancel_reason = %s
		where customer in {batch} and status = 'Open' and responsible = 'Automated'
			and content_class = 'Marketing'""",
		(_("Marketing consent withdrawn: {0}").format(reason)[:140],),
	)
	touches = frappe.db._cursor.rowcount
	frappe.db.sql(
		f"""update `tabBank Outbound Message` set status = 'Skipped', last_error = %s
		where customer in {batch} and status = 'Queued' and content_class = 'Marketing'""",
		(_("Marketing consent withdrawn"),),
	)
	return {"touches_cancelled": touches, "messages_skipped": frappe.db._cursor.rowcount}


# -- deletion ---------------------------------------------------------------------------------------
def deletion_decision(customer: str, on: date | None = None) -> rights.Deletion:
	"""May the customer's personal information be deleted (anonymised) now, and if not, why."""
	row = frappe.db.get_value(
		PROFILE, {"customer": customer}, ["name", "relationship_ended_on"], as_dict=True
	)
	ended = getdate(row.relationship_ended_on) if row and row.relationship_ended_on else None
	active = frappe.db.exists("Bank Product Holding", {"customer": customer, "status": "Active"})
	obligations = []  # English; translated where the reason is shown (deletion_reason)
	if frappe.db.exists("Bank Complaint", {"customer": customer, "workflow_state": ("!=", "Closed")}):
		obligations.append(OPEN_COMPLAINT)
	if frappe.db.exists(
		"Bank Service Request", {"customer": customer, "status": ("not in", ("Resolved", "Closed"))}
	):
		obligations.append(OPEN_REQUEST)
	return rights.deletion(
		bool(active) or ended is None, ended, getdate(on or today()), policy(), obligations
	)


def deletion_reason(decision: rights.Deletion, lang: str | None = None) -> str:
	lang = lang or answer_lang()
	args = [
		", ".join(_(o, lang=lang) for o in a.split(", ")) if isinstance(a, str) else a for a in decision.args
	]
	return _(decision.reason, lang=lang).format(*args) if decision.reason else ""
