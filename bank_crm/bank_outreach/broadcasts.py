"""Advisory broadcasts: the segment as SQL, the decisions in ``core.broadcast``, delivery rows in
bulk, and the sending job.

``plan`` reads the segment in profile-name order, a batch at a time, with each recipient's
contact preferences, consents in force and recent marketing in the same query; decides in the
core; and writes one delivery row per recipient (queued with its channel, or skipped with its
reason) with one INSERT IGNORE per batch: planning again writes nothing twice. Sending (jobs on
the ``long`` queue, one per shard of the recipients) takes the queued rows that are due, renders
each message, and hands it to ``bank_engagement.outbound.dispatch`` — the path every message of the app takes — with an
idempotency key per broadcast and customer, so a crash, a retry or a second click never sends
twice. A paused broadcast stops between batches.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import defaultdict
from dataclasses import replace
from datetime import datetime, time, timedelta

import frappe
from frappe import _
from frappe.utils import flt, get_url, getdate, now_datetime

from bank_crm.bank_engagement.contact import ALLOW_FIELDS
from bank_crm.core import broadcast as core
from bank_crm.core import routing
from bank_crm.core.consent import ConsentRecord
from bank_crm.core.delivery import ADAPTER_CHANNELS
from bank_crm.permissions.rows import profile_query_conditions
from bank_crm.utils import shards
from bank_crm.utils.bulk import in_list, in_list_with_params, insert_rows, update_rows

BROADCAST = "Bank Broadcast"
RECIPIENT = "Bank Broadcast Recipient"
PROFILE = "Bank Customer Profile"
SETTINGS = "Bank Outreach Settings"
BATCH = 20_000
SAMPLE_SCAN = 2_000  # recipients the preview looks through for its samples
EPOCH = datetime(1970, 1, 1)
BODY_FIELDS = {
	routing.SMS: "sms_text",
	routing.APP_PUSH: "app_push_text",
	routing.WECHAT: "wechat_text",
	routing.EMAIL: "email_body",
}
SCHEDULED, SENDING, PAUSED, SENT = "Scheduled", "Sending", "Paused", "Sent"


# -- what a recipient's decision reads of the profile, kept by MariaDB ---------------------------
# A generated (persistent) column of the profile table packs every profile field ``core.decide``
# reads, and an index holds it beside the segment's columns: the preview groups the segment by
# it from the index alone, never reading the wide profile rows. MariaDB computes it on every
# write, whoever writes (the desk, Data Import, the nightly jobs' SQL). A new expression gets a
# new name (``_v2`` …).
# v2: a contact a gateway reported unusable does not count as on file
REACH_COLUMN = "bank_crm_reach_v2"
REACH_INDEX = "bank_crm_reach_v2"
OLD_REACH = ("bank_crm_reach_v1",)
# contact field → its "reported unusable" flag
_FLAGS = {
	"mobile_no": "mobile_unusable",
	"email_id": None,
	"wechat_id": "wechat_unusable",
	"app_user_id": "app_push_unusable",
}


def _on_file(prefix: str = "") -> list[str]:
	"""SQL per contact: on file and not reported unusable."""
	return [
		f"(ifnull({prefix}{f}, '') != ''" + (f" and not ifnull({prefix}{flag}, 0))" if flag else ")")
		for f, flag in _FLAGS.items()
	]


REACH_SQL = "concat_ws('|', {})".format(
	", ".join(
		[
			*_on_file(),
			"ifnull(preferred_channel, '')",
			"do_not_contact",
			*ALLOW_FIELDS.values(),
			"ifnull(quiet_hours_start, '')",
			"ifnull(quiet_hours_end, '')",
			"ifnull(risk_tolerance, '')",
			"risk_assessment_expired",
		]
	)
)


def ensure_reach_column():
	"""Add the column and its index (``on_doctype_update`` of the profile; idempotent); an older
	version of them goes."""
	for old in OLD_REACH:
		if frappe.db.has_index(f"tab{PROFILE}", old):
			frappe.db.sql_ddl(f"alter table `tab{PROFILE}` drop index `{old}`")
		if frappe.db.has_column(PROFILE, old):
			frappe.db.sql_ddl(f"alter table `tab{PROFILE}` drop column `{old}`")
	if not frappe.db.has_column(PROFILE, REACH_COLUMN):
		frappe.db.sql_ddl(
			f"alter table `tab{PROFILE}` add column `{REACH_COLUMN}` varchar(200) as ({REACH_SQL}) persistent"
		)
	if not frappe.db.has_index(f"tab{PROFILE}", REACH_INDEX):
		frappe.db.sql_ddl(
			f"""alter table `tab{PROFILE}` add index `{REACH_INDEX}`
			(tier, branch, relationship_manager, customer, `{REACH_COLUMN}`)"""
		)


def _from_reach(reach: str) -> list:
	"""The values of ``_inputs`` (before consents and marketing sent) from the packed column."""
	parts = reach.split("|")
	n = len(ALLOW_FIELDS)
	flags, preferred, dnc = parts[:4], parts[4], parts[5]
	allows = parts[6 : 6 + n]
	quiet_start, quiet_end, tolerance, expired = parts[6 + n : 10 + n]
	return [
		*(int(f) for f in flags),
		preferred or None,
		int(dnc),
		*(int(a) for a in allows),
		time.fromisoformat(quiet_start) if quiet_start else None,
		time.fromisoformat(quiet_end) if quiet_end else None,
		tolerance or None,
		int(expired),
	]


# -- the segment ---------------------------------------------------------------------------------
def segment_conditions(doc, today=None) -> str:
	"""SQL over ``tabBank Customer Profile`` p for the broadcast's segment and its author's scope."""
	today = getdate(today)
	parts = []
	if doc.tiers:
		parts.append(f"p.tier in {in_list([r.tier for r in doc.tiers])}")
	if doc.customer_type:
		parts.append(f"p.profile_type = {frappe.db.escape(doc.customer_type)}")
	if doc.branches:
		parts.append(f"p.branch in {in_list([r.branch for r in doc.branches])}")
	if doc.relationship_managers:
		parts.append(
			f"p.relationship_manager in {in_list([r.relationship_manager for r in doc.relationship_managers])}"
		)
	by_kind = defaultdict(list)
	for row in doc.conditions:
		by_kind[row.kind].append(row.value)
	if by_kind["Lifecycle Stage"]:
		parts.append(f"p.lifecycle_stage in {in_list(by_kind['Lifecycle Stage'])}")
	if by_kind["Open Need"]:
		parts.append(
			f"""exists (select 1 from `tabBank Need Signal` s where s.customer = p.customer and s.status = 'Open'
			and s.need_category in {in_list(by_kind["Open Need"])})"""
		)
	held = """exists (select 1 from `tabBank Product Holding` h join `tabBank Product` b on b.name = h.product
		where h.customer = p.customer and h.status = 'Active' and b.category in {0}{1})"""
	if by_kind["Holds Category"]:
		parts.append(held.format(in_list(by_kind["Holds Category"]), ""))
	if by_kind["Holds No Category"]:
		parts.append("not " + held.format(in_list(by_kind["Holds No Category"]), ""))
	if by_kind["Predicted Need"]:
		parts.append(predicted_need(by_kind["Predicted Need"], doc.min_propensity))
	if doc.maturity_category:
		until = today + timedelta(days=int(doc.maturity_within_days or 30))
		parts.append(
			held.format(
				in_list([doc.maturity_category]),
				f" and h.maturity_date between {frappe.db.escape(str(today))} and {frappe.db.escape(str(until))}",
			)
		)
	listed = [c.strip() for c in (doc.customer_list or "").splitlines() if c.strip()]
	if listed:
		parts.append(f"p.customer in {in_list(listed)}")
	scope = profile_query_conditions(doc.owner)  # an RM's broadcast reaches own customers only
	if scope:
		parts.append(scope.replace("`tabBank Customer Profile`", "p"))
	return " and ".join(parts) or "1=1"


def predicted_need(categories: list[str], at_least) -> str:
	"""SQL over profile p: a propensity for one of ``categories`` of at least ``at_least`` % by
	the active models, and no objection to automated profiling (PIPL article 24) on the ledger:
	a propensity-driven broadcast never reaches a customer who objected, even before the next
	scoring run has cleared the customer's scores."""
	share = flt(at_least or 40) / 100
	scores = " or ".join(
		f"cast(json_value(p.propensity_scores, {frappe.db.escape('$.' + json_key(c))}) as decimal(6,4)) >= {share:.4f}"
		for c in categories
	)
	profiling = (
		"r.parent = p.name and r.parenttype = 'Bank Customer Profile' and r.purpose = 'Automated Profiling'"
	)
	return f"""({scores}) and not (
		exists (select 1 from `tabBank Consent Record` r where {profiling} and r.withdrawn_on is not null)
		and not exists (select 1 from `tabBank Consent Record` r where {profiling} and r.withdrawn_on is null))"""


def chosen_by_prediction(broadcast: str) -> bool:
	"""Whether the broadcast's segment is chosen by predicted need (a model's propensity)."""
	return bool(
		frappe.db.exists(
			"Bank Broadcast Filter",
			{"parent": broadcast, "parenttype": "Bank Broadcast", "kind": "Predicted Need"},
		)
	)


def json_key(category: str) -> str:
	"""A JSON path member for a category name (quoted: the names may hold spaces)."""
	return '"' + category.replace("\\", "").replace('"', "") + '"'


def _inputs(doc, now: datetime, cap_days: int) -> list[str]:
	"""SQL over profile p for what ``core.decide`` reads of a recipient, in ``_recipient``'s order:
	whether each address is on file, preferences, quiet hours, suitability, consents in force
	(a canonical list) and the marketing sent inside the widest cap window."""
	at = frappe.db.escape(str(now))
	sent = (
		f"""(select group_concat(m.creation order by m.creation) from `tabBank Outbound Message` m
			where m.customer = p.customer and m.content_class = 'Marketing'
			and m.creation > {frappe.db.escape(str(now - timedelta(days=cap_days)))})"""
		if doc.content_class == core.MARKETING and cap_days
		else "null"
	)
	return [
		*_on_file("p."),
		"p.preferred_channel",
		"p.do_not_contact",
		*(f"p.{f}" for f in ALLOW_FIELDS.values()),
		"p.quiet_hours_start",
		"p.quiet_hours_end",
		"p.risk_tolerance",
		"p.risk_assessment_expired",
		f"""(select group_concat(distinct concat(r.purpose, ':', r.channel) order by r.purpose, r.channel)
			from `tabBank Consent Record` r where r.parent = p.name and r.parenttype = 'Bank Customer Profile'
			and r.granted_on <= {at} and (r.withdrawn_on is null or r.withdrawn_on > {at}))""",
		sent,
	]


def _rows(doc, conditions: str, now: datetime, cap_days: int, after: str = "", limit: int = BATCH):
	return frappe.db.sql(
		f"""select p.name, p.customer, p.customer_name, p.tier, p.relationship_manager, p.branch,
			{", ".join(_inputs(doc, now, cap_days))}
		from `tab{PROFILE}` p
		where {conditions} and p.name > {frappe.db.escape(after)}
		order by p.name limit {int(limit)}"""
	)


def _classes(doc, conditions: str, now: datetime, cap_days: int):
	"""The segment grouped by everything ``core.decide`` reads: one row per class of customers
	it treats alike (a representative, the inputs, how many) — the preview's one query, read
	from the reach index and the consents' covering index."""
	consents, sent = _inputs(doc, now, cap_days)[-2:]
	rows = frappe.db.sql(
		f"""select min(p.name), min(p.customer), p.tier, p.`{REACH_COLUMN}`, {consents}, {sent}, count(*)
		from `tab{PROFILE}` p where {conditions}
		group by p.tier, p.`{REACH_COLUMN}`, 5, 6"""
	)
	return [
		(name, customer, None, tier, None, None, *_from_reach(reach), consented, marketed, count)
		for name, customer, tier, reach, consented, marketed, count in rows
	]


def _time(value) -> time | None:
	if value is None:
		return None
	if isinstance(value, timedelta):
		return (datetime.min + value).time()
	return value if isinstance(value, time) else None


def _recipient(row) -> core.Recipient:
	(
		_name,
		customer,
		_cname,
		tier,
		_rm,
		_branch,
		mobile,
		email,
		wechat,
		app,
		preferred,
		dnc,
		*allows,
	) = row[: 12 + len(ALLOW_FIELDS)]
	quiet_start, quiet_end, tolerance, expired, consents, sent = row[
		12 + len(ALLOW_FIELDS) : 18 + len(ALLOW_FIELDS)
	]
	reachable = {routing.VISIT}
	if mobile:
		reachable |= {routing.PHONE, routing.SMS}
	if email:
		reachable.add(routing.EMAIL)
	if wechat:
		reachable.add(routing.WECHAT)
	if app:
		reachable.add(routing.APP_PUSH)
	prefs = routing.Preferences(
		allowed=frozenset(c for c, on in zip(ALLOW_FIELDS, allows, strict=True) if on),
		preferred=preferred or None,
		do_not_contact=bool(dnc),
		quiet_start=_time(quiet_start),
		quiet_end=_time(quiet_end),
		reachable=frozenset(reachable),
	)
	records = tuple(
		ConsentRecord(purpose, channel, EPOCH)
		for purpose, _sep, channel in (c.partition(":") for c in (consents or "").split(",") if c)
	)
	return core.Recipient(
		customer=customer,
		tier=tier,
		preferences=prefs,
		consents=records,
		marketing_sent=tuple(datetime.fromisoformat(t) for t in (sent or "").split(",") if t),
		risk_tolerance=tolerance,
		assessment_expired=bool(expired),
	)


def broadcast_of(doc) -> core.Broadcast:
	channels = frozenset(
		c
		for c, f in BODY_FIELDS.items()
		if (doc.get(f) or "").strip() and (c != routing.EMAIL or doc.email_subject)
	)
	return core.Broadcast(doc.name, doc.content_class, channels, doc.product_risk or None)


def caps() -> dict:
	rows = frappe.get_all(
		"Bank Frequency Cap",
		filters={"parent": SETTINGS},
		fields=["tier", "messages", "days"],
		order_by="idx",
	)
	return {r.tier or None: core.Cap(int(r.messages), int(r.days)) for r in rows}


def decisions(doc, now: datetime | None = None, batch: int = BATCH):
	"""(profile row, decision) for every recipient of the segment, a batch at a time; customers
	whose inputs are the same are decided once."""
	now = now or now_datetime()
	message = broadcast_of(doc)
	limits = caps()
	cap_days = max((c.days for c in limits.values()), default=0)
	conditions = segment_conditions(doc, now.date())
	decided: dict[tuple, core.Decision] = {}
	after = ""
	while True:
		rows = _rows(doc, conditions, now, cap_days, after, batch)
		if not rows:
			return
		after = rows[-1][0]
		for row in rows:
			key = (row[3], *row[6:])
			decision = decided.get(key)
			if decision is None:
				recipient = _recipient(row)
				cap = limits.get(recipient.tier, limits.get(None))
				decision = decided[key] = core.decide(message, recipient, cap, now)
			yield row, replace(decision, customer=row[1])


def preview(doc, samples: int = 3, now: datetime | None = None) -> dict:
	"""Counts, skips by reason, the split by channel and a few rendered messages — nothing sent.
	The counts come from one grouped query (each class of alike customers decided once); the
	samples from the first recipients in name order that would receive it."""
	now = now or now_datetime()
	message = broadcast_of(doc)
	limits = caps()
	cap_days = max((c.days for c in limits.values()), default=0)
	classes = _classes(doc, segment_conditions(doc, now.date()), now, cap_days)
	out = core.summary(
		(
			core.decide(message, r := _recipient(row), limits.get(r.tier, limits.get(None)), now)
			for row in classes
		),
		[row[-1] for row in classes],
	)
	out["classes"] = len(classes)
	shown, renderer = [], Renderer(doc)
	for row, decision in _first(decisions(doc, now, SAMPLE_SCAN), SAMPLE_SCAN):
		if decision.status == core.QUEUED:
			shown.append(
				{
					"customer": row[1],
					"customer_name": row[2],
					"channel": decision.channel,
					"text": renderer.render(decision.channel, _context(row)),
				}
			)
			if len(shown) >= samples:
				break
	out["samples"] = shown
	return out


def _first(items, n: int):
	for i, item in enumerate(items):
		if i >= n:
			return
		yield item


# -- messages --------------------------------------------------------------------------------
def _context(row) -> dict:
	return {
		"customer": row[1],
		"customer_name": row[2] or row[1],
		"tier": _(row[3] or ""),
		"relationship_manager": row[4],
	}


class Renderer:
	"""A broadcast's messages, one per recipient and channel: the Jinja body with the customer's
	fields, the risk disclosure and, for marketing, the opt-out (names looked up once)."""

	def __init__(self, doc):
		self.doc = doc
		self.products = ", ".join(
			frappe.db.get_value("Bank Product", r.product, "product_name") or r.product for r in doc.products
		)
		self.settings = frappe.get_cached_doc(SETTINGS)
		self.rm_names: dict[str, str] = {}
		self.templates: dict = {}

	def _template(self, channel: str):
		"""A body compiled once per send, not once per recipient (as ``frappe.render_template``
		would: compiling costs more than rendering), under the same rules."""
		if channel not in self.templates:
			body = self.doc.get(BODY_FIELDS[channel]) or ""
			if ".__" in body:
				frappe.throw(_("Illegal template"))
			self.templates[channel] = frappe.get_jenv().from_string(body)
		return self.templates[channel]

	def render(self, channel: str, context: dict) -> str:
		doc = self.doc
		rm = context.get("relationship_manager")
		if rm and rm not in self.rm_names:
			self.rm_names[rm] = frappe.db.get_value("User", rm, "full_name") or rm
		context = {
			**context,
			"relationship_manager_name": self.rm_names.get(rm, ""),
			"product_name": self.products,
		}
		text = self._template(channel).render(context) if doc.get(BODY_FIELDS[channel]) else ""
		if doc.risk_disclosure:
			if channel == routing.EMAIL:
				text += "<p>" + frappe.utils.escape_html(doc.risk_disclosure) + "</p>"
			else:
				text += " " + doc.risk_disclosure
		if doc.content_class == core.MARKETING:
			if channel == routing.EMAIL:
				link = opt_out_url(doc.name, context["customer"])
				label = frappe.utils.escape_html(self.settings.email_opt_out_text or _("Unsubscribe"))
				text += f'<p style="font-size:12px;color:#888"><a href="{link}">{label}</a></p>'
			elif channel == routing.SMS:
				text += " " + (self.settings.sms_opt_out_text or _("Reply R to opt out"))
		return text


def _secret() -> bytes:
	from frappe.utils.password import get_encryption_key

	return hashlib.sha256(b"bank_crm:opt-out:" + get_encryption_key().encode()).digest()


def opt_out_token(broadcast: str, customer: str) -> str:
	return hmac.new(_secret(), f"{broadcast}\x1f{customer}".encode(), hashlib.sha256).hexdigest()[:32]


def opt_out_url(broadcast: str, customer: str) -> str:
	from urllib.parse import urlencode

	query = urlencode({"b": broadcast, "c": customer, "t": opt_out_token(broadcast, customer)})
	return get_url(f"/api/method/bank_crm.api.outreach.opt_out?{query}")


# -- planning the send -------------------------------------------------------------------------
def plan(doc, now: datetime | None = None) -> dict:
	"""One delivery row per recipient (queued or skipped), written in bulk; idempotent."""
	now = now or now_datetime()
	common = {
		"owner": "Administrator",
		"modified_by": "Administrator",
		"creation": now,
		"modified": now,
		"docstatus": 0,
	}
	batch, written = [], 0
	counts = {"queued": 0, "skipped": 0}
	for row, decision in decisions(doc, now):
		counts["queued" if decision.status == core.QUEUED else "skipped"] += 1
		batch.append(
			{
				"name": hashlib.sha1(f"{doc.name}\x1f{row[1]}".encode()).hexdigest()[:16],
				"broadcast": doc.name,
				"customer": row[1],
				"customer_name": row[2],
				"tier": row[3],
				"relationship_manager": row[4],
				"branch": row[5],
				"status": decision.status,
				"channel": decision.channel,
				"skip_reason": decision.reason if decision.status == core.SKIPPED else None,
				"send_after": decision.send_after,
			}
		)
		if len(batch) >= 5000:
			written += insert_rows(RECIPIENT, batch, common, ignore_duplicates=True)
			batch = []
	written += insert_rows(RECIPIENT, batch, common, ignore_duplicates=True)
	frappe.db.set_value(BROADCAST, doc.name, {"planned_on": now}, update_modified=False)
	refresh_counts(doc.name)
	return {**counts, "written": written}


def refresh_counts(name: str):
	counts = dict(
		frappe.db.sql(
			f"select status, count(*) from `tab{RECIPIENT}` where broadcast = %s group by status", (name,)
		)
	)
	opted, opened = frappe.db.sql(
		f"select ifnull(sum(opted_out), 0), ifnull(sum(opened), 0) from `tab{RECIPIENT}` where broadcast = %s",
		(name,),
	)[0]
	frappe.db.set_value(
		BROADCAST,
		name,
		{
			"recipients": sum(counts.values()),
			"queued": counts.get("Queued", 0),
			"sent": counts.get("Sent", 0),
			"failed": counts.get("Failed", 0),
			"skipped": counts.get("Skipped", 0),
			"opted_out": int(opted),
			"opened": int(opened),
		},
		update_modified=False,
	)


# -- sending ---------------------------------------------------------------------------------------
# A broadcast is sent by a *Bank Broadcast Sending* run: its recipients split into ranges of their
# names (hexadecimal digests, so the ranges are even without reading the table), one job each on
# the ``long`` queue (*Sending Shards*), so that the workers of every host share the sending. Each
# shard sends its due queued rows in batches until none is left or the broadcast is paused;
# deferred rows (quiet hours) wait for the next run that ``send_scheduled`` starts.
SENDING_RUN = "Bank Broadcast Sending"


SENDING_JOB = shards.Job(
	SENDING_RUN,
	"bank_crm.bank_outreach.broadcasts.send_shard",
	count_setting=(SETTINGS, "send_shards"),
	lock_wait=30,
)


def _sending(broadcast: str) -> shards.Job:
	"""The sending job of one broadcast: its own lock, so that two starts never race."""
	return replace(SENDING_JOB, lock=f"bank_crm_broadcast_start:{broadcast}")


def send(broadcast: str, shard_count: int | None = None) -> dict:
	"""Send the broadcast's due rows in this process, shard after shard (an unfinished sending run
	is resumed); returns what this call sent and failed."""
	before = {}

	def start(count):
		run = _start_sending(broadcast, count)
		if run:
			before.update(shards.results(SENDING_RUN, run.name)[1])
		return run

	run = shards.run(_sending(broadcast), start, shard_count or 1, enqueue=False)
	if not run:
		return {"sent": 0, "failed": 0}
	after = shards.results(SENDING_RUN, run.name)[1]
	return {k: after.get(k, 0) - before.get(k, 0) for k in ("sent", "failed")}


def wake_gateways(broadcast: str):
	"""The senders of the batch adapters that hold the broadcast's queued messages."""
	from bank_crm.bank_engagement import batch_delivery

	for adapter in frappe.db.sql_list(
		"""select distinct adapter from `tabBank Outbound Message` where reference_doctype = 'Bank Broadcast'
		and reference_name = %s and status in ('Queued', 'Failed') and adapter is not null""",
		(broadcast,),
	):
		batch_delivery.wake_senders(adapter)


def enqueue_send(broadcast: str):
	"""Start (or resume) the broadcast's sending run over the ``long`` queue's workers, once the
	current transaction is committed."""
	frappe.enqueue(
		"bank_crm.bank_outreach.broadcasts.start_sending",
		queue="long",
		broadcast=broadcast,
		job_id=f"bank_crm_broadcast::{broadcast}",
		deduplicate=True,
		enqueue_after_commit=True,
	)


def start_sending(broadcast: str, shard_count: int | None = None) -> str | None:
	"""The ``long``-queue job that splits the sending: one ``send_shard`` job per shard not done."""
	run = shards.run(_sending(broadcast), lambda count: _start_sending(broadcast, count), shard_count, True)
	return run.name if run else None


def _start_sending(broadcast: str, count: int):
	if not _work_left(broadcast):
		_finish_if_done(broadcast)  # nothing due: no empty run; a broadcast with nothing left ends
		return None
	return shards.resume_or_start(
		SENDING_RUN, {"broadcast": broadcast}, RECIPIENT, count, ranges=shards.hex_ranges(count)
	)


def _work_left(broadcast: str) -> bool:
	"""An unfinished sending run of the broadcast, or a queued row of it due now."""
	if frappe.db.exists(SENDING_RUN, {"broadcast": broadcast, "status": ("in", shards.UNFINISHED)}):
		return True
	return bool(
		frappe.db.sql(
			f"""select 1 from `tab{RECIPIENT}` where broadcast = %s and status = 'Queued'
			and (send_after is null or send_after <= %s) limit 1""",
			(broadcast, now_datetime()),
		)
	)


def send_shard(run: str, shard_no: int):
	"""One shard of a sending run (a ``long``-queue job, or a step of ``send``); the last shard to
	finish completes the run and, when nothing is left queued, the broadcast."""
	broadcast = frappe.db.get_value(SENDING_RUN, run, "broadcast")

	def body(doc, shard):
		return _send_range(broadcast, shard.range_from or "", shard.range_to or "")

	if shards.work_on(
		SENDING_JOB,
		run,
		shard_no,
		body,
		_("Broadcast {0}: sending failed").format(broadcast),
		processed="sent",
	):
		shards.finish_once(SENDING_RUN, run, _complete_sending)


def _complete_sending(doc, totals: dict):
	shards.mark_completed(
		SENDING_RUN, doc, {"sent": totals.get("sent", 0), "failed": totals.get("failed", 0)}
	)
	frappe.db.commit()
	_finish_if_done(doc.broadcast)


def _send_range(broadcast: str, lo: str, hi: str) -> dict:
	"""Send the due queued rows of the broadcast whose names are in (``lo``, ``hi``], a batch at
	a time (each batch one transaction), while the broadcast is sending."""
	doc = frappe.get_doc(BROADCAST, broadcast)
	renderer = Renderer(doc)
	batch_size = int(frappe.db.get_single_value(SETTINGS, "send_batch_size") or 500)
	in_range, bounds = shards.range_sql("name", lo, hi)
	done = {"sent": 0, "failed": 0}
	while frappe.db.get_value(BROADCAST, broadcast, "workflow_state") == SENDING:
		now = now_datetime()
		rows = frappe.db.sql(
			f"""select name, customer, customer_name, tier, relationship_manager, channel from `tab{RECIPIENT}`
			where broadcast = %(broadcast)s and status = 'Queued' and (send_after is null or send_after <= %(now)s)
			{in_range} order by name limit %(limit)s""",
			{"broadcast": broadcast, "now": now, "limit": batch_size, **bounds},
		)
		if not rows:
			break
		# a batch is one transaction: a crash resends nothing (idempotency keys); when InnoDB
		# picks it as a deadlock victim against another shard it was rolled back whole (its
		# queued deliveries with it) and is sent again
		counts = shards.retrying(lambda rows=rows, now=now: _send_batch(doc, renderer, rows, now))
		for key, count in counts.items():
			done[key] += count
		refresh_counts(broadcast)  # the broadcast's progress, its own short transaction
		frappe.db.commit()
	return done


def _send_batch(doc, renderer, rows, now) -> dict:
	"""One batch of recipients: messages for gateways in batch mode and e-mails for Frappe's Email
	Queue written in bulk (``batch_delivery``, ``email_bulk``); other channels one by one."""
	from bank_crm.bank_engagement import batch_delivery, email_bulk, outbound

	adapters = {c: batch_delivery.batch_adapter(c) for c in outbound.BATCH_CHANNELS}
	bulk_email = bool(email_bulk.outgoing_account())
	contacts = _contacts([r[1] for r in rows])
	by_gateway, by_email, single = [], [], []
	for row in rows:
		channel = row[5]
		if adapters.get(channel):
			by_gateway.append(row)
		elif channel == routing.EMAIL and bulk_email:
			by_email.append(row)
		else:
			single.append(row)
	updates, delivered, handed = [], [], []
	queues = (
		(lambda rows, now: batch_delivery.queue_many(rows, now, wake=False), by_gateway),
		(email_bulk.queue_emails, by_email),
	)
	for queue, group in queues:
		if not group:
			continue
		keyed = queue([_bulk_row(doc, renderer, row, contacts) for row in group], now)
		if group is by_gateway:
			handed = list(keyed.values())
		for name, customer, *_rest in group:
			message = keyed.get(core.idempotency_key(doc.name, customer))
			updates.append(
				{
					"name": name,
					"status": "Sent" if message else "Failed",
					"outbound_message": message,
					"sent_on": now,
				}
			)
			if message:
				delivered.append(customer)
	if single:
		more, reached = _send_one_by_one(doc, renderer, single, now)
		updates += more
		delivered += reached
	update_rows(RECIPIENT, updates)
	_count_as_contact(delivered, now)
	frappe.db.commit()
	if handed:  # to the gateways now, by this shard: no sender job to wait for
		batch_delivery.hand_over(handed)
	return {
		"sent": sum(1 for u in updates if u["status"] == "Sent"),
		"failed": sum(1 for u in updates if u["status"] == "Failed"),
	}


CONTACT_OF = {
	routing.SMS: "mobile_no",
	routing.APP_PUSH: "app_user_id",
	routing.WECHAT: "wechat_id",
	routing.EMAIL: "email_id",
}


def _contacts(customers: list[str]) -> dict[str, dict]:
	rows = frappe.db.sql(
		f"""select customer, mobile_no, app_user_id, wechat_id, email_id from `tab{PROFILE}`
		where customer in {in_list(customers)}""",
		as_dict=True,
	)
	return {r.customer: r for r in rows}


def _bulk_row(doc, renderer, row, contacts: dict) -> dict:
	_name, customer, cname, _tier, _rm, channel = row
	context = _context(row)
	marketing_email = channel == routing.EMAIL and doc.content_class == core.MARKETING
	return {
		# the customer's own values in the body, beside the name (``email_bulk``)
		"personal": [opt_out_url(doc.name, customer), customer] if marketing_email else [customer],
		"customer": customer,
		"customer_name": cname,
		"channel": channel,
		"content_class": doc.content_class,
		"subject": doc.email_subject if channel == routing.EMAIL else doc.title,
		"message": renderer.render(channel, context),
		"recipient": (contacts.get(customer) or {}).get(CONTACT_OF[channel]),
		"reference_doctype": BROADCAST,
		"reference_name": doc.name,
		"idempotency_key": core.idempotency_key(doc.name, customer),
	}


def _send_one_by_one(doc, renderer, rows, now) -> tuple[list[dict], list[str]]:
	"""Channels without a bulk path (SMS through SMS Settings, an adapter without batch mode):
	one ``outbound.dispatch`` each, their webhook deliveries one job per batch."""
	from bank_crm.bank_engagement import outbound

	broadcast = doc.name
	updates, delivered, to_deliver = [], [], []
	for row in rows:
		name, customer, _cname, _tier, _rm, channel = row
		frappe.db.savepoint("bank_crm_broadcast")
		try:
			context = _context(row)
			message = outbound.dispatch(
				customer,
				channel,
				doc.email_subject if channel == routing.EMAIL else doc.title,
				renderer.render(channel, context),
				content_class=doc.content_class,
				reference_doctype=BROADCAST,
				reference_name=broadcast,
				idempotency_key=core.idempotency_key(broadcast, customer),
				enqueue=False,  # one delivery job per batch (below)
			)
			if channel in ADAPTER_CHANNELS:
				to_deliver.append(message)
			status = frappe.db.get_value("Bank Outbound Message", message, "status")
			ok = status not in ("Dead",)
			updates.append(
				{
					"name": name,
					"status": "Sent" if ok else "Failed",
					"outbound_message": message,
					"sent_on": now,
				}
			)
			if ok:
				delivered.append(customer)
		except Exception as e:
			if shards.lock_conflict(e):
				raise  # the whole batch is gone, savepoint and all: ``retrying`` sends it again
			frappe.db.rollback(save_point="bank_crm_broadcast")
			frappe.log_error(title=_("Broadcast {0}: message to {1} failed").format(broadcast, customer))
			updates.append({"name": name, "status": "Failed", "outbound_message": None, "sent_on": now})
	outbound.enqueue_deliveries(to_deliver)
	return updates, delivered


def _count_as_contact(customers: list[str], now: datetime):
	"""A broadcast message counts as the plan's "Message" contact: the open item is done and the
	daily planning plans the next one from today."""
	if not customers:
		return
	frappe.db.sql(
		f"""update `tabBank Visit Plan` set status = 'Done', completed_on = %s, is_overdue = 0, modified = %s
		where contact_kind = 'Message' and status = 'Open' and customer in {in_list_with_params(customers)}""",
		(now.date(), now),
	)


def _finish_if_done(broadcast: str):
	if frappe.db.get_value(BROADCAST, broadcast, "workflow_state") != SENDING:
		return
	if frappe.db.exists(RECIPIENT, {"broadcast": broadcast, "status": "Queued"}):
		return  # deferred rows: a later run sends them
	frappe.db.set_value(
		BROADCAST, broadcast, {"workflow_state": SENT, "finished_on": now_datetime()}, update_modified=False
	)
	refresh_counts(broadcast)
	frappe.db.commit()


def send_scheduled(now: datetime | None = None) -> list[str]:
	"""Cron (every 5 minutes): scheduled broadcasts whose time has come start sending (their
	recipients planned now, at send time); sending ones with work left go on."""
	now = now or now_datetime()
	started = []
	due = frappe.get_all(
		BROADCAST, filters={"workflow_state": SCHEDULED, "send_at": ("<=", now)}, pluck="name"
	) + frappe.get_all(
		BROADCAST, filters={"workflow_state": SCHEDULED, "send_at": ("is", "not set")}, pluck="name"
	)
	# once each (Frappe's "<=" counts an empty date as the earliest: both lists may name one)
	for name in dict.fromkeys(due):
		doc = frappe.get_doc(BROADCAST, name)
		frappe.db.set_value(BROADCAST, name, "workflow_state", SENDING, update_modified=False)
		if not doc.planned_on:
			plan(doc, now)
		frappe.db.commit()
		enqueue_send(name)
		started.append(name)
	# sending ones with work left go on: deferred rows now due, and a run whose shard lost its
	# worker (killed mid-send: ``shards.enqueue_open`` gives an orphaned shard a new job, and a
	# shard still working is not queued twice)
	for name in frappe.get_all(BROADCAST, filters={"workflow_state": SENDING}, pluck="name"):
		if name not in started and _work_left(name):
			enqueue_send(name)
	_mark_opens()
	return started


def _mark_opens():
	"""Email opens that Frappe tracked on the messages' communications."""
	frappe.db.sql(
		f"""update `tab{RECIPIENT}` r join `tabBank Outbound Message` m on m.name = r.outbound_message
		join `tabCommunication` c on c.name = m.communication
		set r.opened = 1 where r.opened = 0 and r.channel = 'Email' and c.read_by_recipient = 1"""
	)
