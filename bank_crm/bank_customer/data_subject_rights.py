"""Personal-information rights (个人信息权利) in a site: the access export, the explanation of the
score and tier, consent withdrawal, the deletion decision and anonymisation.

The rules are ``bank_crm.core.rights`` (answer clock, deletion, the anonymisation plan) and
``bank_crm.core.suitability``; this module reads and writes the site. Anonymisation is
set-based: one UPDATE per doctype and field kind for a batch of customers, the pseudonym computed
by MariaDB (``sha2``) exactly as ``core.rights.pseudonym`` computes it.
"""

from __future__ import annotations

import json
import time
from datetime import date, timedelta

import frappe
from frappe import _
from frappe.utils import cint, getdate, now_datetime, today

from bank_crm.core import rights
from bank_crm.core.dates import add_years
from bank_crm.utils import shards
from bank_crm.utils.bulk import in_list, in_list_with_params, literal, lock_name

PROFILE = "Bank Customer Profile"
REQUEST = "Bank Data Subject Request"
RUN = "Bank Anonymisation Run"
CUSTOMER_LINKS = ("Customer", PROFILE)
OPEN_COMPLAINT = "an open complaint"
OPEN_REQUEST = "an open service request"
# SQL for core.rights.pseudonym of a customer column
PSEUDONYM_SQL = "if({0} like 'ANON-%', {0}, concat('ANON-', upper(left(sha2({0}, 256), 10))))"


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
		from frappe.utils.password import get_decrypted_password

		number = get_decrypted_password(PROFILE, profile, "id_number", raise_exception=False)
		out["records"][PROFILE][0]["id_number"] = number
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
	return "\n".join(_(template, lang=lang).format(*args) for template, args in sentences)


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
	return withdrawn


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


# -- anonymisation ----------------------------------------------------------------------------------
def due_customers(on: date | None = None, limit: int | None = None) -> list[str]:
	"""Customers whose relationship ended longer ago than the longest retention period and who
	are not anonymised yet (one indexed range read; the rule is ``core.rights``)."""
	on = getdate(on or today())
	years = policy().longest()
	cutoff = add_years(on, -years) + timedelta(days=1)  # a superset; core.rights decides
	rows = frappe.db.sql(
		f"""select customer, relationship_ended_on from `tab{PROFILE}`
		where relationship_ended_on is not null and relationship_ended_on <= %s and anonymised_on is null
		order by relationship_ended_on, name {"limit " + str(int(limit)) if limit else ""}""",
		(cutoff,),
	)
	return rights.due_for_anonymisation(((c, getdate(e), False) for c, e in rows), on, policy())


def _due_batch(on: date, after: str, until: str, limit: int) -> list[tuple[str, str]]:
	"""The next ``limit`` due customers of a key range of profiles, in profile order:
	``(profile, customer)``."""
	years = policy().longest()
	cutoff = add_years(on, -years) + timedelta(days=1)  # a superset; core.rights decides
	rows = frappe.db.sql(
		f"""select name, customer, relationship_ended_on from `tab{PROFILE}`
		where relationship_ended_on is not null and relationship_ended_on <= %(cutoff)s
			and anonymised_on is null and name > %(after)s {"and name <= %(until)s" if until else ""}
		order by name limit %(limit)s""",
		{"cutoff": cutoff, "after": after or "", "until": until, "limit": int(limit)},
	)
	due = set(rights.due_for_anonymisation(((c, getdate(e), False) for _p, c, e in rows), on, policy()))
	# a profile the rule keeps still moves the checkpoint on
	return [(p, c if c in due else None) for p, c, _e in rows]


def anonymise(customers: list[str]) -> dict:
	"""Anonymise a batch of customers: the plan's fields replaced with one UPDATE per doctype
	and kind, the encrypted ID number, contacts and addresses removed, and what the records
	left in Frappe's tables (versions, comments, communications, files, e-mails, the search
	index) removed. Codes, amounts, dates, categories and statuses stay."""
	from bank_crm.utils import traces

	if not customers:
		return {"customers": 0}
	traces.flush_search_queue()
	customers = _renamed(customers)
	batch = in_list(customers)
	profiles = frappe.db.sql_list(f"select name from `tab{PROFILE}` where customer in {batch}")
	pbatch = in_list(profiles)
	mobiles = [
		m
		for m in frappe.db.sql_list(
			f"""select mobile_no from `tab{PROFILE}` where customer in {batch} and ifnull(mobile_no, '') != ''
			union select mobile_no from `tabCustomer` where name in {batch} and ifnull(mobile_no, '') != ''"""
		)
	]
	record_names: dict[str, list[str]] = {"Customer": list(customers)}
	links = customer_doctypes()
	counts = {}
	for doctype, plan in rights.PLAN.items():
		meta = frappe.get_meta(doctype, cached=True) if frappe.db.exists("DocType", doctype) else None
		if meta is None or meta.istable:
			continue
		if doctype == "Customer":
			where, customer_sql = f"`name` in {batch}", "`name`"
		else:
			fields = links.get(doctype, [])
			if not fields:
				continue
			parts, customer_sql = [], None
			for f in fields:
				if meta.get_field(f).options == "Customer":
					parts.append(f"`{f}` in {batch}")
					customer_sql = customer_sql or f"`{f}`"
				else:
					parts.append(f"`{f}` in {pbatch}")
					customer_sql = customer_sql or (
						f"(select p.customer from `tab{PROFILE}` p where p.name = `tab{doctype}`.`{f}`)"
					)
			where = " or ".join(parts)
		names = frappe.db.sql_list(f"select name from `tab{doctype}` where {where}")
		if not names:
			continue
		record_names[doctype] = names
		sets = _sets(meta, plan, customer_sql)
		if sets:
			frappe.db.sql(f"update `tab{doctype}` set {', '.join(sets)} where {where}")
		for table in meta.get_table_fields():
			child_plan = rights.PLAN.get(table.options) or {}
			child_sets = _sets(frappe.get_meta(table.options), child_plan, None)
			if child_sets:
				for start in range(0, len(names), 5_000):
					frappe.db.sql(
						f"""update `tab{table.options}` set {", ".join(child_sets)}
						where parenttype = {literal(doctype)} and parent in {in_list(names[start : start + 5000])}"""
					)
		counts[doctype] = len(names)
	# the encrypted ID number, and the profile marked
	frappe.db.sql(f"delete from `__Auth` where doctype = {literal(PROFILE)} and name in {pbatch}")
	frappe.db.sql(f"update `tab{PROFILE}` set anonymised_on = %s where name in {pbatch}", (today(),))
	# contacts and addresses of the customers
	for doctype in ("Contact", "Address"):
		names = frappe.db.sql_list(
			f"""select distinct parent from `tabDynamic Link` where parenttype = {literal(doctype)}
			and link_doctype = 'Customer' and link_name in {batch}"""
		)
		if names:
			traces.remove_traces([doctype], names)
			nbatch = in_list(names)
			for child in ("Dynamic Link", "Contact Email", "Contact Phone"):
				frappe.db.sql(
					f"delete from `tab{child}` where parenttype = {literal(doctype)} and parent in {nbatch}"
				)
			frappe.db.sql(f"delete from `tab{doctype}` where name in {nbatch}")
			frappe.db.sql(
				f"delete from `__global_search` where doctype = {literal(doctype)} and name in {nbatch}"
			)
			counts[doctype] = len(names)
	# what the records left in Frappe's own tables
	from bank_crm.permissions import NOT_REFERRED

	for doctype, names in record_names.items():
		if doctype not in NOT_REFERRED:  # events and snapshots: nothing in Frappe's tables points at them
			traces.remove_traces([doctype], names)
	if mobiles:
		frappe.db.sql(f"delete from `tabSMS Log` where sent_to in {in_list(mobiles)}")
	# the Access Log stays (who read what, when), without the free text typed with a read
	for doctype, names in (("Customer", record_names["Customer"]), (PROFILE, profiles)):
		if names:
			frappe.db.sql(
				f"""update `tabAccess Log` set filters = null, page = null
				where export_from = {literal(doctype)} and reference_document in {in_list(names)}"""
			)
	return {"customers": len(customers), "records": counts}


def _renamed(customers: list[str]) -> list[str]:
	"""A Customer named after the person (ERPNext's naming by customer name) is renamed to its
	pseudonym first, with every link to it (``frappe.rename_doc``); customers named by a code
	(the bank's usual naming series) keep their code."""
	named = frappe.db.sql(
		f"""select name from `tabCustomer` where name in {in_list(customers)}
		and ifnull(customer_name, '') != '' and locate(customer_name, name) > 0"""
	)
	if not named:
		return customers
	from frappe.model.rename_doc import rename_doc

	renamed = {}
	for (old,) in named:
		renamed[old] = rename_doc(
			"Customer",
			old,
			rights.pseudonym(old),
			force=True,
			ignore_permissions=True,
			show_alert=False,
			rebuild_search=False,
		)
	frappe.db.sql(
		f"delete from `__global_search` where doctype = 'Customer' and name in {in_list(list(renamed))}"
	)
	return [renamed.get(c, c) for c in customers]


def _sets(meta, plan: dict[str, str], customer_sql: str | None) -> list[str]:
	sets = ["`_comments` = null"] if not meta.istable else []  # the cached last comments
	for field, kind in plan.items():
		df = meta.get_field(field)
		if df is None or df.fieldtype == "Password":
			continue
		if kind == rights.NAME and customer_sql:
			sets.append(f"`{field}` = {PSEUDONYM_SQL.format(customer_sql)}")
		elif kind == rights.TEXT:
			sets.append(
				f"`{field}` = if(ifnull(`{field}`, '') = '', `{field}`, {literal(rights.ANONYMISED)})"
			)
		else:
			sets.append(f"`{field}` = null")
	return sets


RETENTION_LOCK = "bank_crm_retention"


def run_anonymisation(on=None, batch_size: int | None = None, shard_count: int | None = None) -> str | None:
	"""The retention job in this process: anonymise every customer due, shard after shard, in
	batches (each batch its own transaction), and leave a run record; a run of the day that is
	not finished is resumed. None when another process holds the job's lock."""
	on = getdate(on or today())
	if not frappe.db.sql("select get_lock(%s, 0)", (lock_name(RETENTION_LOCK),))[0][0]:
		return None
	try:
		run = _start_retention(on, shard_count or 1)
		for shard in run.shards:
			if shard.status != "Completed":
				run_anonymisation_shard(run.name, shard.shard_no, batch_size)
	finally:
		frappe.db.sql("select release_lock(%s)", (lock_name(RETENTION_LOCK),))
	return run.name


def enqueue_anonymisation(on=None, shard_count: int | None = None) -> str | None:
	"""The retention job split into key-range shards of customers, one job each on the ``long``
	queue (*Anonymisation Shards*): the workers of any host share the run."""
	on = getdate(on or today())
	if not frappe.db.sql("select get_lock(%s, 0)", (lock_name(RETENTION_LOCK),))[0][0]:
		return None
	try:
		count = (
			shard_count or cint(frappe.db.get_single_value("Bank CRM Settings", "anonymisation_shards")) or 1
		)
		run = _start_retention(on, count)
		shards.enqueue_open(run, "bank_crm.bank_customer.data_subject_rights.run_anonymisation_shard")
	finally:
		frappe.db.sql("select release_lock(%s)", (lock_name(RETENTION_LOCK),))
	return run.name


def _start_retention(on: date, count: int):
	return shards.resume_or_start(
		RUN, {"as_of": on}, PROFILE, count, values=lambda: {"customers_due": len(due_customers(on))}
	)


def run_anonymisation_shard(run: str, shard_no: int, batch_size: int | None = None):
	"""Anonymise the due customers of one key range (a job on the ``long`` queue, or a step of
	``run_anonymisation``), from its checkpoint; the last shard to finish completes the run."""
	shard_no = int(shard_no)
	if not shards.take(RUN, run, shard_no):
		return
	started = time.monotonic()
	try:
		doc = frappe.get_doc(RUN, run)
		shard = next(s for s in doc.shards if s.shard_no == shard_no)
		if doc.status == "Queued":
			frappe.db.set_value(
				RUN, run, {"status": "Running", "started_on": now_datetime()}, update_modified=False
			)
		shards.set_shard(RUN, run, shard_no, {"status": "Running"})
		frappe.db.commit()
		size = (
			batch_size
			or cint(frappe.db.get_single_value("Bank CRM Settings", "anonymisation_batch_size"))
			or 1_000
		)
		after, done = shard.checkpoint or shard.range_from or "", shard.processed or 0
		while batch := _due_batch(getdate(doc.as_of), after, shard.range_to or "", size):
			customers = [c for _p, c in batch if c]
			after, done = batch[-1][0], done + len(customers)

			def work(customers=customers, after=after, done=done):
				anonymise(customers)
				shards.set_shard(RUN, run, shard_no, {"checkpoint": after, "processed": done})
				frappe.db.commit()  # a batch is one unit of work: a killed worker's shard resumes after it

			shards.retrying(work)
		shards.set_shard(
			RUN,
			run,
			shard_no,
			{
				"status": "Completed",
				"duration_seconds": round(time.monotonic() - started, 2),
				"result": json.dumps({"anonymised": done}),
			},
		)
		frappe.db.commit()
	except Exception:
		frappe.db.rollback()
		error = frappe.get_traceback()[-4000:]
		frappe.log_error(title=f"bank_crm retention {run} shard {shard_no} failed")
		shards.set_shard(RUN, run, shard_no, {"status": "Failed", "error_log": error})
		frappe.db.set_value(RUN, run, {"status": "Failed", "error": error}, update_modified=False)
		frappe.db.commit()
		return
	finally:
		shards.release(run, shard_no)
	finished, totals = shards.results(RUN, run)
	if finished:
		frappe.db.set_value(
			RUN,
			run,
			{
				"status": "Completed",
				"customers_anonymised": totals.get("anonymised", 0),
				"finished_on": now_datetime(),
				"error": None,
			},
			update_modified=False,
		)
		frappe.db.commit()


def daily():
	"""Scheduler entry (daily_long): in this worker, or over the ``long`` queue's workers with
	*Anonymisation Shards* above 1."""
	if cint(frappe.db.get_single_value("Bank CRM Settings", "anonymisation_shards")) > 1:
		enqueue_anonymisation()
	else:
		run_anonymisation()
