"""Key-range shards of a run, shared by RQ workers on any host (Frappe's ``long`` queue).

A run record (e.g. *Bank Planning Run*) holds its shards as *Bank Job Shard* rows: contiguous
ranges of a table's key, each with a status, a checkpoint (the last key done) and a result. A
shard is taken under a named lock of its own, so that two workers never process it together;
a shard left *Running* or *Failed* by a killed worker is taken again from its checkpoint; the
last shard to finish lets the run finish.
"""

from __future__ import annotations

import json
import time

import frappe

from bank_crm.services.bulk import lock_name

SHARD = "Bank Job Shard"


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
	totals: dict[str, int] = {}
	for row in rows:
		for k, v in json.loads(row.result or "{}").items():
			totals[k] = totals.get(k, 0) + int(v or 0)
	return bool(rows) and all(r.status == "Completed" for r in rows), totals


def retrying(work, attempts: int = 5):
	"""Run one batch of a shard (``work``, which writes and commits); when InnoDB picks it as the
	victim of a deadlock with another shard writing to the same tables (gap locks of the unique
	indexes), roll back and run it again — nothing of the batch was kept."""
	for attempt in range(attempts):
		try:
			return work()
		except Exception as e:
			if attempt == attempts - 1 or not _lock_conflict(e):
				raise
			frappe.db.rollback()
			time.sleep(0.05 * (attempt + 1))


def _lock_conflict(e: Exception) -> bool:
	if isinstance(e, frappe.QueryDeadlockError | frappe.QueryTimeoutError):  # Frappe's wrapping
		return True
	try:
		return bool(frappe.db.is_deadlocked(e) or frappe.db.is_timedout(e))
	except Exception:  # not a database error
		return False


UNFINISHED = ("Queued", "Running", "Failed")


def resume_or_start(run_doctype: str, filters: dict, table: str, count: int, values=dict):
	"""The last unfinished run matching ``filters`` that has shards (resumed, over what it was
	started with), else a new one: ``filters`` and ``values()`` as its fields, ``count`` key ranges
	of ``table`` as its shards. A run from before shards is left as it is."""
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
			"shards": shard_rows(key_ranges(table, count)),
		}
	).insert(ignore_permissions=True)
	frappe.db.commit()  # the run record is visible while its shards work
	return run


def enqueue_open(run, method: str, **kwargs):
	"""One job on the ``long`` queue per shard of ``run`` not done yet (a job already queued for
	the shard is not queued twice)."""
	for shard in run.shards:
		if shard.status != "Completed":
			frappe.enqueue(
				method,
				queue="long",
				timeout=3600,
				job_id=f"{method}:{run.name}:{shard.shard_no}",
				deduplicate=True,
				run=run.name,
				shard_no=shard.shard_no,
				**kwargs,
			)
