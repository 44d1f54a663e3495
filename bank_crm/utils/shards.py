"""Key-range shards of a run, shared by RQ workers on any host (Frappe's ``long`` queue).

A run record (e.g. *Bank Planning Run*) holds its shards as *Bank Job Shard* rows: contiguous
ranges of a table's key, each with a status, a checkpoint (the last key done) and a result. A
shard is taken under a named lock of its own, so that two workers never process it together;
a shard left *Running* or *Failed* by a killed worker is taken again from its checkpoint; the
last shard to finish lets the run finish.

Every sharded job of the app is described once as a ``Job`` and started through one entry
point, ``run``: under the job's named lock, resume the unfinished run or start one, then work
its open shards here one after the other or hand them to the ``long`` queue — the one place
where "in this process or over the workers" is decided (by the job's shard-count setting
unless the caller says).
"""

from __future__ import annotations

import json
import time
import traceback
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

import frappe
from frappe.utils import cint, get_datetime, now_datetime

from bank_crm.utils.bulk import lock_name

SHARD = "Bank Job Shard"


@dataclass(frozen=True)
class Job:
	"""A sharded job: its run record, the function that works one shard (called, or queued, with
	``run=`` and ``shard_no=``), its named lock (None: runs may overlap, e.g. what-if runs), the
	single-doctype setting that says how many shards, and the run record's own field names."""

	run_doctype: str
	shard_method: str
	lock: str | None = None
	count_setting: tuple[str, str] | None = None
	lock_wait: int = 0
	started_field: str = "started_at"
	finished_field: str = "finished_at"
	duration_field: str | None = "duration_seconds"
	error_field: str = "error_log"
	timeout: int = 3600  # seconds a shard's job may run on the long queue

	def configured_count(self) -> int:
		if not self.count_setting:
			return 1
		return cint(frappe.db.get_single_value(*self.count_setting)) or 1


@contextmanager
def named_lock(name: str | None, wait: int = 0):
	"""A MariaDB named lock of this site (yields False when another connection holds it; no lock
	at all when ``name`` is None)."""
	if name is None:
		yield True
		return
	held = bool(frappe.db.sql("select get_lock(%s, %s)", (lock_name(name), wait))[0][0])
	try:
		yield held
	finally:
		if held:
			frappe.db.sql("select release_lock(%s)", (lock_name(name),))


def run(job: Job, start: Callable, count: int | None = None, enqueue: bool | None = None, **shard_kwargs):
	"""The one way a sharded job runs; returns its run record, or None when another process holds
	the job's lock or ``start`` found nothing to do.

	``start(count)`` resumes the unfinished run or makes a new one of ``count`` shards (the job's
	setting when not given). Its open shards then run here one after the other, or — ``enqueue``,
	by default whenever there is more than one shard — one job each on the ``long`` queue, shared
	by the workers of any host. ``shard_kwargs`` go to every shard."""
	count = count or job.configured_count()
	if enqueue is None:
		enqueue = count > 1
	with named_lock(job.lock, job.lock_wait) as held:
		if not held:
			return None
		doc = start(count)
		if doc is None:
			return None
		if enqueue:
			enqueue_open(doc, job.shard_method, timeout=job.timeout, **shard_kwargs)
		else:
			work = frappe.get_attr(job.shard_method)
			for shard in doc.shards:
				if shard.status != "Completed":
					work(run=doc.name, shard_no=shard.shard_no, **shard_kwargs)
	return doc


def key_ranges(table: str, count: int, key: str = "name") -> list[tuple[str, str]]:
	"""``count`` contiguous ranges of ``table``'s ``key``: (exclusive start, inclusive end), the
	last one open-ended ('')."""
	if count <= 1:
		return [("", "")]
	total = frappe.db.sql(f"select count(*) from `tab{table}`")[0][0]
	bounds = [""]
	for i in range(1, max(count, 1)):
		row = frappe.db.sql(
			f"select `{key}` from `tab{table}` order by `{key}` limit 1 offset %s",
			(max(total * i // count - 1, 0),),
		)
		if row and row[0][0] > bounds[-1]:
			bounds.append(row[0][0])
	bounds.append("")
	return list(zip(bounds, bounds[1:], strict=False))


def hex_ranges(count: int) -> list[tuple[str, str]]:
	"""``count`` ranges of keys that are hexadecimal digests (uniform), without reading a table."""
	if count <= 1:
		return [("", "")]
	bounds = ["", *(f"{i * 0x10000 // count:04x}" for i in range(1, count)), ""]
	return list(zip(bounds, bounds[1:], strict=False))


def range_sql(column: str, lo: str, hi: str) -> tuple[str, dict]:
	"""The condition (with its parameters) of one shard's keys: after ``lo``, up to ``hi``."""
	sql, params = "", {}
	if lo:
		sql += f" and {column} > %(shard_lo)s"
		params["shard_lo"] = lo
	if hi:
		sql += f" and {column} <= %(shard_hi)s"
		params["shard_hi"] = hi
	return sql, params


def shard_rows(ranges) -> list[dict]:
	return [
		{"shard_no": i, "range_from": lo, "range_to": hi, "status": "Queued", "checkpoint": lo}
		for i, (lo, hi) in enumerate(ranges)
	]


def set_shard(run_doctype: str, run: str, shard_no: int, values: dict):
	frappe.db.set_value(
		SHARD,
		{"parenttype": run_doctype, "parent": run, "shard_no": shard_no},
		values,
		update_modified=False,
	)


def take(run_doctype: str, run: str, shard_no: int) -> bool:
	"""The shard's lock (no other worker has it), and the shard is not done yet."""
	if not frappe.db.sql("select get_lock(%s, 0)", (lock_name(f"{run}:{shard_no}"),))[0][0]:
		return False
	status = frappe.db.get_value(
		SHARD, {"parenttype": run_doctype, "parent": run, "shard_no": shard_no}, "status"
	)
	if status == "Completed":
		release(run, shard_no)
		return False
	return True


def release(run: str, shard_no: int):
	frappe.db.sql("select release_lock(%s)", (lock_name(f"{run}:{shard_no}"),))


def results(run_doctype: str, run: str) -> tuple[bool, dict]:
	"""Whether every shard is done, and their results added up."""
	rows = frappe.get_all(
		SHARD, filters={"parenttype": run_doctype, "parent": run}, fields=["status", "result"]
	)
	totals: dict = {}
	for row in rows:
		add_up(totals, json.loads(row.result or "{}"))
	return bool(rows) and all(r.status == "Completed" for r in rows), totals


def add_up(totals: dict, result: dict) -> dict:
	"""``result``'s counts added into ``totals``: numbers summed, nested counts (a distribution,
	a movement matrix) summed key by key, lists (samples) joined."""
	for k, v in result.items():
		if isinstance(v, dict):
			add_up(totals.setdefault(k, {}), v)
		elif isinstance(v, list):  # samples: the shards' rows together
			totals.setdefault(k, []).extend(v)
		else:
			totals[k] = totals.get(k, 0) + int(v or 0)
	return totals


def retrying(work, attempts: int = 5):
	"""Run one batch of a shard (``work``, which writes and commits); when InnoDB picks it as the
	victim of a deadlock with another shard writing to the same tables (gap locks of the unique
	indexes), roll back and run it again — nothing of the batch was kept."""
	for attempt in range(attempts):
		try:
			return work()
		except Exception as e:
			if attempt == attempts - 1 or not lock_conflict(e):
				raise
			frappe.db.rollback()
			time.sleep(0.05 * (attempt + 1))


def lock_conflict(e: Exception) -> bool:
	"""A deadlock or lock wait timeout: InnoDB rolled the transaction back (savepoints too)."""
	if isinstance(e, frappe.QueryDeadlockError | frappe.QueryTimeoutError):  # Frappe's wrapping
		return True
	try:
		return bool(frappe.db.is_deadlocked(e) or frappe.db.is_timedout(e))
	except Exception:  # not a database error
		return False


UNFINISHED = ("Queued", "Running", "Failed")


def resume_or_start(run_doctype: str, filters: dict, table: str, count: int, values=dict, ranges=None):
	"""The last unfinished run matching ``filters`` that has shards (resumed, over what it was
	started with), else a new one: ``filters`` and ``values()`` as its fields, ``count`` key ranges
	of ``table`` (or the given ``ranges``) as its shards. A run from before shards is left as it is."""
	name = frappe.db.get_value(
		run_doctype, {**filters, "status": ("in", UNFINISHED)}, "name", order_by="creation desc"
	)
	if name and frappe.db.exists(SHARD, {"parenttype": run_doctype, "parent": name}):
		return frappe.get_doc(run_doctype, name)
	run = frappe.get_doc(
		{
			"doctype": run_doctype,
			**filters,
			**values(),
			"status": "Queued",
			"shards": shard_rows(ranges or key_ranges(table, count)),
		}
	).insert(ignore_permissions=True)
	frappe.db.commit()  # the run record is visible while its shards work
	return run


def enqueue_open(run, method: str, timeout: int = 3600, only: list[int] | None = None, **kwargs):
	"""One job on the ``long`` queue per shard of ``run`` not done yet. A job already queued or
	running for the shard is not queued twice; a shard left *Running* with its lock free lost its
	worker (RQ may still list that job as started) and gets a job of a new id — ``take`` lets
	only one job work on a shard at a time, so a spare job does nothing."""
	for shard in run.shards:
		if shard.status == "Completed" or (only is not None and shard.shard_no not in only):
			continue
		job_id = shard_job_id(method, run.name, shard.shard_no)
		if shard.status == "Running" and orphaned(run.name, shard.shard_no):
			job_id += f":{frappe.generate_hash(length=6)}"
		frappe.enqueue(
			method,
			queue="long",
			timeout=timeout,
			job_id=job_id,
			deduplicate=True,
			run=run.name,
			shard_no=shard.shard_no,
			**kwargs,
		)


def registered_jobs() -> dict[str, list[Job]]:
	"""Each scheduled method that works in sharded runs, with the ``Job`` (or Jobs) describing
	them, from the ``bank_crm_sharded_jobs`` hook: the reconciler and the operations page read it."""
	return {
		method: [frappe.get_attr(path) for path in paths]
		for method, paths in (frappe.get_hooks("bank_crm_sharded_jobs") or {}).items()
	}


def shard_job_id(method: str, run: str, shard_no: int) -> str:
	return f"{method}:{run}:{shard_no}"


def orphans(job: Job, run: str, min_age_minutes: int = 5) -> list[int]:
	"""Shards of an unfinished ``run`` that nobody will work on: left *Running* by a worker that
	died (its lock is free), or *Queued* for longer than ``min_age_minutes`` with no job waiting
	or running for it on the queue (the queue's Redis lost it, or its worker died before it
	began)."""
	from frappe.utils.background_jobs import is_job_enqueued

	rows = frappe.db.sql(
		"""select shard_no, status from `tabBank Job Shard`
		where parenttype = %(doctype)s and parent = %(run)s and status in ('Queued', 'Running')
			and (status = 'Running' or modified < %(cutoff)s)""",
		# the site's clock, as ``modified`` is stamped (the database's now() may be in another zone)
		{
			"doctype": job.run_doctype,
			"run": run,
			"cutoff": now_datetime() - timedelta(minutes=min_age_minutes),
		},
		as_dict=True,
	)
	return [
		r.shard_no
		for r in rows
		if orphaned(run, r.shard_no)
		# a dead worker's job may still be listed as started: a Running shard's free lock says enough
		and (r.status == "Running" or not is_job_enqueued(shard_job_id(job.shard_method, run, r.shard_no)))
	]


def reconcile(min_age_minutes: int = 5) -> dict[str, list[int]]:
	"""Give every orphaned shard of an unfinished run a new job on the ``long`` queue, whatever
	lost it (a restarted queue Redis, a killed worker). ``take`` lets only one job work a shard
	and the shard goes on from its checkpoint, so a spare job does nothing twice. Returns what
	was queued, by run."""
	queued = {}
	for jobs in registered_jobs().values():
		for job in jobs:
			runs = frappe.get_all(
				job.run_doctype,
				filters={"status": ("in", ("Queued", "Running"))},
				pluck="name",
				order_by="creation",
			)
			for run in runs:
				lost = orphans(job, run, min_age_minutes)
				if lost:
					enqueue_open(
						frappe.get_doc(job.run_doctype, run), job.shard_method, job.timeout, only=lost
					)
					queued[run] = lost
	return queued


def orphaned(run: str, shard_no: int) -> bool:
	"""No worker holds the shard's lock (a worker that dies loses its connection and its locks)."""
	return bool(frappe.db.sql("select is_free_lock(%s)", (lock_name(f"{run}:{shard_no}"),))[0][0])


def work_on(
	job: Job, run: str, shard_no: int, body: Callable, title: str, processed: str | None = None
) -> bool:
	"""One shard of a run: taken under its lock, marked running, ``body(run_doc, shard)`` (which
	returns the shard's result and commits its own batches), then completed with its duration and
	the result's ``processed`` count — or failed with the traceback on the shard and the run
	(``title`` in the Error Log). A result's ``row_errors`` (lines about single records the body
	skipped) go to the shard's error field, not into its counts. True when it completed."""
	run_doctype, shard_no = job.run_doctype, int(shard_no)
	if not take(run_doctype, run, shard_no):
		return False
	started = time.monotonic()
	try:
		doc = frappe.get_doc(run_doctype, run)
		shard = next(s for s in doc.shards if s.shard_no == shard_no)
		if doc.status == "Queued" or not doc.get(job.started_field):
			frappe.db.set_value(
				run_doctype,
				run,
				{"status": "Running", job.started_field: doc.get(job.started_field) or now_datetime()},
				update_modified=False,
			)
		set_shard(run_doctype, run, shard_no, {"status": "Running"})
		frappe.db.commit()
		result = body(doc, shard)
		row_errors = result.pop("row_errors", None)
		set_shard(
			run_doctype,
			run,
			shard_no,
			{
				"status": "Completed",
				"duration_seconds": round(time.monotonic() - started, 2),
				"result": json.dumps(result, ensure_ascii=False, sort_keys=True),
				"error_log": "\n".join(row_errors) if row_errors else None,
				**({"processed": result.get(processed, 0)} if processed else {}),
			},
		)
		frappe.db.commit()
		return True
	except Exception:
		frappe.db.rollback()
		error = traceback.format_exc()[-4000:]
		frappe.log_error(title=title, reference_doctype=run_doctype, reference_name=run)
		set_shard(run_doctype, run, shard_no, {"status": "Failed", "error_log": error})
		frappe.db.set_value(
			run_doctype, run, {"status": "Failed", job.error_field: error}, update_modified=False
		)
		frappe.db.commit()
		return False
	finally:
		release(run, shard_no)


def finish_once(run_doctype: str, run: str, complete: Callable):
	"""When every shard of ``run`` is done: ``complete(run_doc, totals)`` — the run's site-wide
	last steps and totals — once, whichever shard finishes last (under the run's finish lock)."""
	if not frappe.db.sql("select get_lock(%s, 60)", (lock_name(f"{run}:finish"),))[0][0]:
		return  # another shard is finishing it
	frappe.db.commit()  # read what the other shards committed, not an older snapshot
	try:
		done, totals = results(run_doctype, run)
		doc = frappe.get_doc(run_doctype, run)
		if done and doc.status != "Completed":
			complete(doc, totals)
			frappe.db.commit()
	finally:
		frappe.db.sql("select release_lock(%s)", (lock_name(f"{run}:finish"),))


def mark_completed(run_doctype: str, doc, values: dict):
	"""The run's totals (``values``) and its end: completed, its duration counted from its start."""
	started = doc.started_at or doc.creation
	frappe.db.set_value(
		run_doctype,
		doc.name,
		{
			**values,
			"status": "Completed",
			"error_log": None,
			"finished_at": now_datetime(),
			"duration_seconds": round((now_datetime() - get_datetime(started)).total_seconds(), 2),
		},
		update_modified=False,
	)
