"""Segmentation runs keep their shards as *Bank Job Shard* rows, like every other sharded run:
the rows of the retired *Bank Segmentation Run Shard* move over (their counts into the shared
``processed`` and ``result``), and the old doctype and its table go."""

import json

import frappe

OLD = "Bank Segmentation Run Shard"
RUN = "Bank Segmentation Run"
COUNTS = ("scanned", "changed", "tier_changes", "lifecycle_changes", "errors")


def execute():
	if not frappe.db.table_exists(OLD):
		return
	rows = frappe.db.sql(f"select * from `tab{OLD}` where parenttype = %s", (RUN,), as_dict=True)
	frappe.db.delete("Bank Job Shard", {"parenttype": RUN, "parent": ("in", list({r.parent for r in rows}))})
	for row in rows:
		frappe.get_doc(
			{
				"doctype": "Bank Job Shard",
				"name": row.name,
				"parent": row.parent,
				"parenttype": RUN,
				"parentfield": "shards",
				"idx": row.idx,
				"shard_no": row.shard_no,
				"range_from": row.range_from,
				"range_to": row.range_to,
				"status": row.status,
				"checkpoint": row.checkpoint,
				"processed": row.scanned or 0,
				"duration_seconds": row.duration_seconds,
				"result": json.dumps(flat_result(row), ensure_ascii=False, sort_keys=True),
				"error_log": row.error_log,
			}
		).db_insert()
	frappe.delete_doc("DocType", OLD, force=True, ignore_missing=True)
	frappe.db.sql_ddl(f"drop table if exists `tab{OLD}`")


def flat_result(row) -> dict:
	"""The shard's counts at the top of its result, beside its distribution and movement."""
	stored = json.loads(row.result or "{}")
	counts = stored.get("totals") or {k: row.get(k) or 0 for k in COUNTS}
	return {
		**{k: int(counts.get(k) or 0) for k in COUNTS},
		"distribution": stored.get("distribution", {}),
		"movement": stored.get("movement", {}),
	}
