"""Retention (保存期限): customers whose relationship ended longer ago than the longest retention
period are anonymised, and a deletion request carried out is the same anonymisation.

Set-based: one UPDATE per doctype and field kind for a batch of customers (the plan is
``core.rights.PLAN``), the pseudonym computed by MariaDB (``sha2``) exactly as
``core.rights.pseudonym`` computes it. The daily job (*Bank Anonymisation Run*) works in
key-range shards of profiles (*Anonymisation Shards*) on the shared shard engine.
"""

from __future__ import annotations

from datetime import date, timedelta

import frappe
from frappe import _
from frappe.utils import cint, getdate, now_datetime, today

from bank_crm.bank_customer.data_subject_rights import PROFILE, customer_doctypes, policy
from bank_crm.core import rights
from bank_crm.core.dates import add_years
from bank_crm.permissions.rows import NOT_REFERRED
from bank_crm.utils import shards, traces
from bank_crm.utils.bulk import in_list, literal

RUN = "Bank Anonymisation Run"
SETTINGS = "Bank CRM Settings"
# SQL for core.rights.pseudonym of a customer column
PSEUDONYM_SQL = "if({0} like 'ANON-%', {0}, concat('ANON-', upper(left(sha2({0}, 256), 10))))"
RETENTION = shards.Job(
	RUN,
	"bank_crm.bank_customer.anonymisation.run_anonymisation_shard",
	lock="bank_crm_retention",
	count_setting=(SETTINGS, "anonymisation_shards"),
	started_field="started_on",
	finished_field="finished_on",
	duration_field=None,
	error_field="error",
)


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
	if not customers:
		return {"customers": 0}
	traces.flush_search_queue()
	customers = _renamed(customers)
	batch = in_list(customers)
	profiles = frappe.db.sql_list(f"select name from `tab{PROFILE}` where customer in {batch}")
	mobiles = frappe.db.sql_list(
		f"""select mobile_no from `tab{PROFILE}` where customer in {batch} and ifnull(mobile_no, '') != ''
		union select mobile_no from `tabCustomer` where name in {batch} and ifnull(mobile_no, '') != ''"""
	)
	record_names, counts = _replace_planned_fields(customers, profiles)
	# the encrypted ID number, and the profile marked
	pbatch = in_list(profiles)
	frappe.db.sql(f"delete from `__Auth` where doctype = {literal(PROFILE)} and name in {pbatch}")
	frappe.db.sql(f"update `tab{PROFILE}` set anonymised_on = %s where name in {pbatch}", (today(),))
	counts.update(_remove_contacts_and_addresses(batch))
	_remove_what_frappe_kept(record_names, profiles, mobiles)
	return {"customers": len(customers), "records": counts}


def _replace_planned_fields(customers: list[str], profiles: list[str]) -> tuple[dict, dict]:
	"""``core.rights.PLAN`` carried out: per doctype that names the customers, one UPDATE of its
	planned fields (and of its child tables'). Returns the records touched per doctype, and counts."""
	batch, pbatch = in_list(customers), in_list(profiles)
	record_names: dict[str, list[str]] = {"Customer": list(customers)}
	links = customer_doctypes()
	counts = {}
	for doctype, plan in rights.PLAN.items():
		meta = frappe.get_meta(doctype, cached=True) if frappe.db.exists("DocType", doctype) else None
		if meta is None or meta.istable:
			continue
		if doctype == "Customer":
			where, customer_sql = f"`name` in {batch}", "`name`"
		elif links.get(doctype):
			where, customer_sql = _where_customers(doctype, meta, links[doctype], batch, pbatch)
		else:
			continue
		names = frappe.db.sql_list(f"select name from `tab{doctype}` where {where}")
		if not names:
			continue
		record_names[doctype] = names
		sets = _sets(meta, plan, customer_sql)
		if sets:
			frappe.db.sql(f"update `tab{doctype}` set {', '.join(sets)} where {where}")
		for table in meta.get_table_fields():
			child_sets = _sets(frappe.get_meta(table.options), rights.PLAN.get(table.options) or {}, None)
			for start in range(0, len(names), 5_000) if child_sets else ():
				frappe.db.sql(
					f"""update `tab{table.options}` set {", ".join(child_sets)}
					where parenttype = {literal(doctype)} and parent in {in_list(names[start : start + 5000])}"""
				)
		counts[doctype] = len(names)
	return record_names, counts


def _where_customers(doctype, meta, fields, batch: str, pbatch: str) -> tuple[str, str | None]:
	"""The condition on ``doctype``'s link fields naming the batch's customers or profiles, and the
	SQL of the customer each row names (for pseudonyms)."""
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
	return " or ".join(parts), customer_sql


def _remove_contacts_and_addresses(batch: str) -> dict:
	counts = {}
	for doctype in ("Contact", "Address"):
		names = frappe.db.sql_list(
			f"""select distinct parent from `tabDynamic Link` where parenttype = {literal(doctype)}
			and link_doctype = 'Customer' and link_name in {batch}"""
		)
		if not names:
			continue
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
	return counts


def _remove_what_frappe_kept(record_names: dict, profiles: list[str], mobiles: list[str]):
	"""What the records left in Frappe's own tables; the Access Log stays (who read what, when),
	without the free text typed with a read."""
	for doctype, names in record_names.items():
		if doctype not in NOT_REFERRED:  # events and snapshots: nothing in Frappe's tables points at them
			traces.remove_traces([doctype], names)
	if mobiles:
		frappe.db.sql(f"delete from `tabSMS Log` where sent_to in {in_list(mobiles)}")
	for doctype, names in (("Customer", record_names["Customer"]), (PROFILE, profiles)):
		if names:
			frappe.db.sql(
				f"""update `tabAccess Log` set filters = null, page = null
				where export_from = {literal(doctype)} and reference_document in {in_list(names)}"""
			)


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


def run_anonymisation(on=None, batch_size: int | None = None, shard_count: int | None = None) -> str | None:
	"""The retention job in this process: anonymise every customer due, shard after shard, in
	batches (each batch its own transaction), and leave a run record; a run of the day that is
	not finished is resumed. None when another process holds the job's lock."""
	kwargs = {"batch_size": batch_size} if batch_size else {}
	run = shards.run(RETENTION, _start(on), shard_count or 1, enqueue=False, **kwargs)
	return run and run.name


def enqueue_anonymisation(on=None, shard_count: int | None = None) -> str | None:
	"""The retention job split into key-range shards of customers, one job each on the ``long``
	queue (*Anonymisation Shards*): the workers of any host share the run."""
	run = shards.run(RETENTION, _start(on), shard_count, enqueue=True)
	return run and run.name


def anonymise_past_retention():
	"""Scheduler entry (``daily_long``): in this worker, or over the ``long`` queue's workers with
	*Anonymisation Shards* above 1."""
	shards.run(RETENTION, _start(None))


def _start(on):
	on = getdate(on or today())
	return lambda count: shards.resume_or_start(
		RUN, {"as_of": on}, PROFILE, count, values=lambda: {"customers_due": len(due_customers(on))}
	)


def run_anonymisation_shard(run: str, shard_no: int, batch_size: int | None = None):
	"""Anonymise the due customers of one key range (a job on the ``long`` queue, or a step of
	``run_anonymisation``), from its checkpoint; the last shard to finish completes the run."""

	def body(doc, shard):
		size = batch_size or cint(frappe.db.get_single_value(SETTINGS, "anonymisation_batch_size")) or 1_000
		after, done = shard.checkpoint or shard.range_from or "", shard.processed or 0
		while batch := _due_batch(getdate(doc.as_of), after, shard.range_to or "", size):
			customers = [c for _p, c in batch if c]
			after, done = batch[-1][0], done + len(customers)

			def work(customers=customers, after=after, done=done):
				anonymise(customers)
				shards.set_shard(RUN, run, shard.shard_no, {"checkpoint": after, "processed": done})
				frappe.db.commit()  # a batch is one unit of work: a killed worker's shard resumes after it

			shards.retrying(work)
		return {"anonymised": done}

	if shards.work_on(
		RETENTION, run, shard_no, body, _("Retention run {0} failed").format(run), "anonymised"
	):
		shards.finish_once(RUN, run, _complete)


def _complete(doc, totals: dict):
	frappe.db.set_value(
		RUN,
		doc.name,
		{
			"status": "Completed",
			"customers_anonymised": totals.get("anonymised", 0),
			"finished_on": now_datetime(),
			"error": None,
		},
		update_modified=False,
	)
