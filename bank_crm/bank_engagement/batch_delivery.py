"""Batch delivery: messages handed to a channel adapter in batch mode, a signed request of up to
*Batch Size* messages at a time, at the gateway's pace (``core.gateway``).

- ``queue_many`` writes many messages in one INSERT (idempotent by key: a batch redone writes
  nothing twice) and wakes the adapter's senders.
- A sender (``send_due``, a job on the short queue; *Parallel Senders* of them per adapter)
  claims due messages with ``SELECT … FOR UPDATE SKIP LOCKED`` and marks them *Sending*,
  committed *before* any request leaves. It then posts them in batches and records each
  message's result in one UPDATE per batch: *Sent* with the gateway's id, or a refusal — retried
  with backoff (only the refused messages), *Dead* when retrying cannot help (an unusable
  number, which is marked on the profile) or attempts are spent.
- A sender killed between the claim and the answer leaves its messages *Sending*; after
  ``STALE_MINUTES`` ``reclaim_stale`` (cron) makes them due again. They go out again with the
  same ids, which the gateway accepts once (``core.gateway``): nothing is handed over twice.
- A gateway that is down fails its batch: every message of it waits for its next attempt.
- Paused broadcasts: their queued messages are not claimed (``held``).

No message here writes a Communication: the customer's timeline shows them through the
``additional_timeline_content`` hook (``timeline``).
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import requests

import frappe
from frappe import _
from frappe.utils import now_datetime

from bank_crm.core import delivery, gateway
from bank_crm.utils.bulk import in_list, insert_rows, update_rows

MESSAGE = "Bank Outbound Message"
ADAPTER = "Bank Channel Adapter"
PROFILE = "Bank Customer Profile"
SENDING = "Sending"
CLAIM = 1_000  # messages one claim takes
STALE_MINUTES = 10  # a claim older than this: its sender died
BUDGET_SECONDS = 240  # a sender job stops starting requests after this and queues itself again
IDLE_CHECKS = 3  # empty claims, a second apart, before a sender stops
# a sender may wait this long for refused messages' next attempt (0: it leaves them to the
# minutely ``reclaim_stale``, and frees its worker)
RETRY_WAIT_SECONDS = 0
CONTACT_FIELD = {delivery.SMS: "mobile_no", delivery.APP_PUSH: "app_user_id", delivery.WECHAT: "wechat_id"}
UNUSABLE_FLAG = {
	delivery.SMS: "mobile_unusable",
	delivery.APP_PUSH: "app_push_unusable",
	delivery.WECHAT: "wechat_unusable",
}


def batch_adapter(channel: str) -> str | None:
	"""The enabled adapter in batch mode for ``channel``, if any."""
	return frappe.db.get_value(ADAPTER, {"channel": channel, "enabled": 1, "batch_mode": 1}, "name")


# -- queueing -------------------------------------------------------------------------------
def queue_many(rows: list[dict], now: datetime | None = None, wake: bool = True) -> dict[str, str]:
	"""Queue messages for batch adapters in one INSERT; ``rows`` carry customer, channel,
	content_class, subject, message, recipient, reference_doctype/name, idempotency_key and
	optionally send_after. Returns idempotency key → message name (an existing message for a key
	already used: nothing twice)."""
	if not rows:
		return {}
	now = now or now_datetime()
	adapters = {c: batch_adapter(c) for c in {r["channel"] for r in rows}}
	out = []
	for r in rows:
		adapter = adapters.get(r["channel"])
		if not adapter:
			frappe.throw(_("No enabled Bank Channel Adapter in batch mode for {0}").format(_(r["channel"])))
		out.append(
			{
				"name": frappe.generate_hash(length=16),
				"customer": r["customer"],
				"customer_name": r.get("customer_name"),
				"channel": r["channel"],
				"content_class": r.get("content_class"),
				"status": delivery.QUEUED,
				"recipient": r.get("recipient"),
				"adapter": adapter,
				"subject": (r.get("subject") or "")[:140],
				"message": r.get("message"),
				"attempts": 0,
				"next_attempt_at": r.get("send_after") or now,
				"idempotency_key": r.get("idempotency_key"),
				"reference_doctype": r.get("reference_doctype"),
				"reference_name": r.get("reference_name"),
			}
		)
	common = {
		"owner": "Administrator",
		"modified_by": "Administrator",
		"creation": now,
		"modified": now,
		"docstatus": 0,
	}
	insert_rows(MESSAGE, out, common, ignore_duplicates=True)
	keys = [r["idempotency_key"] for r in out if r["idempotency_key"]]
	names = (
		dict(
			frappe.db.sql(
				f"select idempotency_key, name from `tab{MESSAGE}` where idempotency_key in {in_list(keys)}"
			)
		)
		if keys
		else {}
	)
	if wake:
		for adapter in {a for a in adapters.values() if a}:
			wake_senders(adapter)
	return names


_woken: dict[tuple[str, str], float] = {}
WAKE_EVERY_SECONDS = 2.0  # a sender stays IDLE_CHECKS seconds after its last claim: no need sooner


def wake_senders(adapter: str):
	"""The adapter's senders, one job per slot after commit (a slot already queued or running is
	not queued twice; a process that woke them a moment ago does not ask again)."""
	key = (frappe.local.site, adapter)
	if time.monotonic() - _woken.get(key, -WAKE_EVERY_SECONDS) < WAKE_EVERY_SECONDS:
		return
	_woken[key] = time.monotonic()
	senders = int(frappe.db.get_value(ADAPTER, adapter, "senders") or 1)
	for slot in range(max(1, senders)):
		frappe.enqueue(
			"bank_crm.bank_engagement.batch_delivery.send_due",
			queue="short",
			timeout=BUDGET_SECONDS + 120,
			adapter=adapter,
			slot=slot,
			job_id=f"bank_gateway::{frappe.local.site}::{adapter}::{slot}",
			deduplicate=True,
			enqueue_after_commit=True,
		)


# -- sending --------------------------------------------------------------------------------
class _Adapter:
	def __init__(self, name: str):
		doc = frappe.get_doc(ADAPTER, name)
		self.name, self.channel, self.url = doc.name, doc.channel, doc.webhook_url
		self.batch_size = int(doc.batch_size or 100)
		self.timeout = int(doc.timeout_seconds or 10)
		self.max_attempts = int(doc.max_attempts or delivery.DEFAULT_MAX_ATTEMPTS)
		self.first_delay = int(doc.first_retry_delay_minutes or 0)
		self.secret = doc.get_password("signing_secret", raise_exception=False)
		self.headers = {
			"Content-Type": "application/json; charset=utf-8",
			**{k: str(v) for k, v in doc.get_headers().items()},
		}
		self.pace = gateway.Pace(
			float(doc.requests_per_second or 0), float(doc.messages_per_second or 0), int(doc.senders or 1)
		)


def send_due(
	adapter: str,
	slot: int = 0,
	budget_seconds: float = BUDGET_SECONDS,
	idle_checks: int = IDLE_CHECKS,
	retry_wait: float = RETRY_WAIT_SECONDS,
) -> dict:
	"""A sender (job): claim the adapter's due messages and hand them over batch by batch, until
	none is due; past the time budget it queues itself again."""
	if not frappe.db.get_value(ADAPTER, {"name": adapter, "enabled": 1, "batch_mode": 1}):
		return {}
	conf = _Adapter(adapter)
	session = requests.Session()
	started, idle = time.monotonic(), 0
	done = {"accepted": 0, "refused": 0, "requests": 0}
	while True:
		if time.monotonic() - started > budget_seconds:
			wake_senders(adapter)
			frappe.db.commit()
			break
		claimed = _claim(adapter, CLAIM)
		if not claimed:
			# refused messages whose retry is near: wait for them rather than for the next cron
			soon = _next_retry_in(adapter)
			if (
				soon is not None
				and 0 < soon <= retry_wait
				and time.monotonic() - started + soon < budget_seconds
			):
				time.sleep(soon)
				continue
			idle += 1
			if idle >= idle_checks:
				break
			time.sleep(1)
			continue
		idle = 0
		for chunk in gateway.batches(claimed, conf.batch_size):
			time.sleep(conf.pace.wait(len(chunk), time.monotonic()))
			outcome = _post(session, conf, chunk)
			counts = _record(conf, chunk, outcome)
			frappe.db.commit()  # each answered request is on file before the next leaves
			for key in ("accepted", "refused"):
				done[key] += counts[key]
			done["requests"] += 1
	return done


def _next_retry_in(adapter: str) -> float | None:
	"""Seconds until the adapter's earliest refused message is due again (None: none waits)."""
	found = frappe.db.sql(
		f"""select min(next_attempt_at) from `tab{MESSAGE}` force index (adapter_due)
		where adapter = %s and status = 'Failed' and next_attempt_at > %s""",
		(adapter, now_datetime()),
	)[0][0]
	frappe.db.commit()
	return None if found is None else (found - now_datetime()).total_seconds()


def hand_over(names: list[str]) -> dict:
	"""Hand these just-queued messages to their gateways now, in the caller's job (a sending
	shard, the care job): no wait for a sender job. What is not due yet (quiet hours), or taken
	by a sender meanwhile, is left to the senders. Commits."""
	done = {"accepted": 0, "refused": 0, "requests": 0}
	frappe.db.commit()  # the messages are on file before any request leaves
	by_adapter: dict[str, list[str]] = {}
	for name, adapter in (
		frappe.db.sql(
			f"select name, adapter from `tab{MESSAGE}` where name in {in_list(names)} and adapter is not null"
		)
		if names
		else ()
	):
		by_adapter.setdefault(adapter, []).append(name)
	for adapter, mine in by_adapter.items():
		conf = _Adapter(adapter)
		session = requests.Session()
		for start in range(0, len(mine), CLAIM):
			claimed = _claim(adapter, CLAIM, only=mine[start : start + CLAIM])
			for chunk in gateway.batches(claimed, conf.batch_size):
				time.sleep(conf.pace.wait(len(chunk), time.monotonic()))
				counts = _record(conf, chunk, _post(session, conf, chunk))
				frappe.db.commit()
				for key in ("accepted", "refused"):
					done[key] += counts[key]
				done["requests"] += 1
	return done


def _claim(adapter: str, limit: int, only: list[str] | None = None) -> list[tuple]:
	"""Due messages of the adapter (of ``only``, when given), marked *Sending* and committed:
	(name, recipient, message, attempts)."""
	now = now_datetime()
	these = f"and m.name in {in_list(only)}" if only else ""
	names = frappe.db.sql_list(
		f"""select m.name from `tab{MESSAGE}` m {"" if only else "force index (adapter_due)"}
		where m.adapter = %(adapter)s and m.status in ('Queued', 'Failed') and m.next_attempt_at <= %(now)s
			{these}
			and not exists (select 1 from `tabBank Broadcast` b where m.reference_doctype = 'Bank Broadcast'
				and b.name = m.reference_name and b.workflow_state = 'Paused')
		limit {int(limit)} for update skip locked""",
		{"adapter": adapter, "now": now},
	)
	if not names:
		frappe.db.commit()
		return []
	frappe.db.sql(
		f"update `tab{MESSAGE}` set status = %s, claimed_at = %s, modified = %s where name in {in_list(names)}",
		(SENDING, now, now),
	)
	rows = frappe.db.sql(
		f"select name, recipient, message, attempts from `tab{MESSAGE}` where name in {in_list(names)} order by name"
	)
	frappe.db.commit()  # claimed before anything leaves: a second sender never takes these
	return rows


def _post(session, conf: _Adapter, chunk) -> dict[str, gateway.Result]:
	body = gateway.request_body(
		conf.channel, [gateway.Outgoing(n, r or "", m or "") for n, r, m, _a in chunk]
	)
	headers = dict(conf.headers)
	if conf.secret:
		headers[delivery.SIGNATURE_HEADER] = delivery.sign(body, conf.secret)
	ids = [n for n, *_rest in chunk]
	try:
		response = session.post(conf.url, data=body, headers=headers, timeout=conf.timeout)
	except requests.RequestException as e:
		return _all_refused(ids, _("Gateway unreachable: {0}").format(e)[:140])
	if response.status_code == 429 or response.status_code >= 500:
		return _all_refused(ids, _("Gateway answered HTTP {0}").format(response.status_code))
	if not 200 <= response.status_code < 300:
		return _all_refused(
			ids, _("Gateway answered HTTP {0}: {1}").format(response.status_code, response.text[:100])
		)
	try:
		answer = response.json()
	except ValueError:
		answer = None
	return gateway.results(answer, ids)


def _all_refused(ids, reason: str) -> dict[str, gateway.Result]:
	return {i: gateway.Result(i, False, reason=reason, retry=True) for i in ids}


def _record(conf: _Adapter, chunk, outcome: dict[str, gateway.Result]) -> dict:
	"""The batch's results in one UPDATE; contacts reported unusable marked on their profiles."""
	now = now_datetime()
	updates, dead, unusable = [], [], []
	for name, _recipient, _message, attempts in chunk:
		result = outcome[name]
		if result.accepted:
			updates.append(
				{
					"name": name,
					"status": delivery.SENT,
					"attempts": (attempts or 0) + 1,
					"next_attempt_at": None,
					"sent_at": now,
					"gateway_message_id": result.gateway_id,
					"last_error": None,
					"modified": now,
				}
			)
			continue
		if result.retry:
			after = delivery.after_failure(attempts or 0, now, conf.max_attempts, conf.first_delay)
		else:
			after = delivery.AttemptOutcome(delivery.DEAD, (attempts or 0) + 1, None)
		updates.append(
			{
				"name": name,
				"status": after.status,
				"attempts": after.attempts,
				"next_attempt_at": after.next_attempt_at,
				"sent_at": None,
				"gateway_message_id": None,
				"last_error": result.reason,
				"modified": now,
			}
		)
		if after.status == delivery.DEAD:
			dead.append(name)
		if gateway.unusable(result.reason):
			unusable.append((name, result.reason))
	update_rows(MESSAGE, updates)
	if unusable:
		mark_unusable(unusable, now)
	if dead:
		_tell_about_dead(conf, dead)
	accepted = sum(1 for u in updates if u["status"] == delivery.SENT)
	return {"accepted": accepted, "refused": len(updates) - accepted}


def mark_unusable(found: list[tuple[str, str]], now: datetime) -> int:
	"""The contacts of these messages (message name, reason) are unusable: flagged on the
	profile when the message went to the number or id still on file (routing then falls back)."""
	names = [n for n, _r in found]
	reasons = dict(found)
	rows = frappe.db.sql(
		f"""select m.name, m.channel, m.recipient, p.name, p.mobile_no, p.app_user_id, p.wechat_id
		from `tab{MESSAGE}` m join `tab{PROFILE}` p on p.customer = m.customer
		where m.name in {in_list(names)}"""
	)
	by_flag: dict[str, list[dict]] = {}
	for message, channel, recipient, profile, mobile, app_user, wechat in rows:
		on_file = {delivery.SMS: mobile, delivery.APP_PUSH: app_user, delivery.WECHAT: wechat}.get(channel)
		flag = UNUSABLE_FLAG.get(channel)
		if not flag or not recipient or recipient != on_file:
			continue  # the contact has changed since: the new one is worth trying
		note = _("{0} reported by the {1} gateway on {2}: {3}").format(
			recipient, _(channel), now.strftime("%Y-%m-%d %H:%M"), reasons[message]
		)
		by_flag.setdefault(flag, []).append(
			{"name": profile, flag: 1, "unusable_contact_note": note[:500], "modified": now}
		)
	# one UPDATE … JOIN per kind of contact, not one per profile
	marked = sum(update_rows(PROFILE, found) for found in by_flag.values())
	return marked


def _tell_about_dead(conf: _Adapter, names: list[str]):
	frappe.log_error(
		title=_("{0} messages given up by adapter {1}").format(len(names), conf.name),
		message="\n".join(names[:200]),
		reference_doctype=ADAPTER,
		reference_name=conf.name,
	)


# -- repair ---------------------------------------------------------------------------------
def reclaim_stale(now: datetime | None = None) -> int:
	"""Cron: messages a sender claimed and never answered for (killed, lost) are due again, and
	every adapter with due messages has its senders woken (a lost job, a restarted queue)."""
	now = now or now_datetime()
	cutoff = now - timedelta(minutes=STALE_MINUTES)
	frappe.db.sql(
		f"""update `tab{MESSAGE}` set status = 'Queued', next_attempt_at = claimed_at, modified = %s
		where status = %s and claimed_at < %s""",
		(now, SENDING, cutoff),
	)
	stale = frappe.db._cursor.rowcount
	for adapter in frappe.get_all(ADAPTER, filters={"enabled": 1, "batch_mode": 1}, pluck="name"):
		if frappe.db.sql(
			f"""select 1 from `tab{MESSAGE}` force index (adapter_due) where adapter = %s
			and status in ('Queued', 'Failed') and next_attempt_at <= %s limit 1""",
			(adapter, now),
		):
			wake_senders(adapter)
	frappe.db.commit()
	return stale


def receipt_url(adapter: str) -> str:
	from urllib.parse import urlencode

	return frappe.utils.get_url(
		"/api/method/bank_crm.api.outbound.receipts?" + urlencode({"adapter": adapter})
	)
