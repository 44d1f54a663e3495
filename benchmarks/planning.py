"""Benchmark: the daily visit-planning job at bank scale.

Run from the bench's ``sites`` folder with the bench's Python, against a site made for it
(bank_crm installed and demo customers loaded, e.g. by ``benchmarks/segmentation.py --load``;
the script deletes and rewrites that site's plan items and ToDos of plan items):

    cd ~/frappe-bench/sites
    ../env/bin/python ../apps/bank_crm/benchmarks/planning.py --site bench.localhost

Steps, each in its own process so that its peak memory (ru_maxrss) is its own, each printed
as a table row (README, "Benchmarks"):

1. First run: no customer has plan items yet (every item new: bulk inserts, and ToDos for
   the items due within the reminder window).
2. Rerun with nothing changed: must write nothing.
2b. The same rerun split into ``--shards`` key ranges (``enqueue_planning``), each shard in its
   own process at the same time, as RQ workers run them.
3. 1 % of Mass customers move up to VIP (as a segmentation run would write it); the run
   cancels their app touch and plans the VIP visits, calls and salons, writing only those.
"""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from memory import peak_mib  # this folder's: the process's own peak (VmHWM)

HERE = Path(__file__).resolve()


def connect(site):
	import frappe

	frappe.init(site=site, sites_path=".")
	frappe.connect()
	frappe.set_user("Administrator")
	return frappe


def cmd_run(site):
	frappe = connect(site)
	from bank_crm.bank_engagement.visit_planning import run_planning

	started = time.perf_counter()
	run = run_planning()
	seconds = time.perf_counter() - started
	doc = frappe.get_doc("Bank Planning Run", run)
	print(
		json.dumps(
			{
				"seconds": round(seconds, 1),
				"peak_mib": round(peak_mib()),
				"status": doc.status,
				"customers": doc.customers,
				"created": doc.created_items,
				"redated": doc.redated_items,
				"cancelled": doc.cancelled_items,
				"reassigned": doc.reassigned_items,
				"tasks": doc.tasks_created,
				"overdue": doc.overdue_flagged,
			}
		)
	)


def sub(site, *args) -> dict:
	out = subprocess.run(
		[sys.executable, str(HERE), "--site", site, *args], check=True, capture_output=True, text=True
	).stdout
	return json.loads(out.strip().splitlines()[-1])


def cmd_enqueue(site, shards):
	"""The run record with its shards (the jobs themselves are started by ``sharded``)."""
	connect(site)
	from unittest.mock import patch

	from bank_crm.bank_engagement.visit_planning import enqueue_planning

	with patch("frappe.enqueue", lambda *a, **k: None):
		print(json.dumps({"run": enqueue_planning(shard_count=shards)}))


def cmd_shard(site, run, shard):
	frappe = connect(site)
	from bank_crm.bank_engagement.visit_planning import run_planning_shard

	run_planning_shard(run, shard)
	print(json.dumps({"peak_mib": round(peak_mib())}))
	frappe.destroy()


def sharded(site, shards) -> dict:
	"""One run split into ``shards`` jobs, each in its own process as an RQ worker runs it."""
	out = subprocess.run(
		[sys.executable, str(HERE), "--site", site, "--cmd", "enqueue", "--shards", str(shards)],
		capture_output=True,
		text=True,
		check=True,
	)
	run = json.loads(out.stdout.strip().splitlines()[-1])["run"]
	started = time.perf_counter()
	procs = [
		subprocess.Popen(
			[sys.executable, str(HERE), "--site", site, "--cmd", "shard", "--run", run, "--shard", str(i)],
			stdout=subprocess.PIPE,
			text=True,
		)
		for i in range(shards)
	]
	peaks = [json.loads(p.communicate()[0].strip().splitlines()[-1])["peak_mib"] for p in procs]
	seconds = time.perf_counter() - started
	frappe = connect(site)
	doc = frappe.get_doc("Bank Planning Run", run)
	return {
		"seconds": round(seconds, 1),
		"peak_mib": max(peaks),
		"status": doc.status,
		"customers": doc.customers,
		"created": doc.created_items,
		"redated": doc.redated_items,
		"cancelled": doc.cancelled_items,
		"tasks": doc.tasks_created,
	}


def main():
	parser = argparse.ArgumentParser()
	parser.add_argument("--site", required=True)
	parser.add_argument("--cmd", default=None)
	parser.add_argument("--keep", action="store_true", help="keep the plan items afterwards")
	parser.add_argument("--shards", type=int, default=2)
	parser.add_argument(
		"--reruns-only",
		action="store_true",
		help="keep the plan items; time the rerun in 1 and in --shards processes",
	)
	parser.add_argument("--run", help=argparse.SUPPRESS)
	parser.add_argument("--shard", type=int, help=argparse.SUPPRESS)
	args = parser.parse_args()
	if args.cmd == "run":
		return cmd_run(args.site)
	if args.cmd == "enqueue":
		return cmd_enqueue(args.site, args.shards)
	if args.cmd == "shard":
		return cmd_shard(args.site, args.run, args.shard)

	frappe = connect(args.site)
	customers = frappe.db.sql("select count(*) from `tabBank Customer Profile` where tier is not null")[0][0]
	print(f"{customers:,} customers with a tier")
	if args.reruns_only:
		rows = [("Rerun, nothing changed", sub(args.site, "--cmd", "run"))]
		label = f"Rerun, nothing changed, {args.shards} shards in {args.shards} worker processes"
		rows.append((label, sharded(args.site, args.shards)))
		return print_rows(rows)
	frappe.db.sql("delete from `tabToDo` where reference_type = 'Bank Visit Plan'")
	frappe.db.sql("delete from `tabBank Visit Plan`")
	frappe.db.commit()
	rows = []

	first = sub(args.site, "--cmd", "run")
	rows.append(("First run (no plan items yet)", first))
	again = sub(args.site, "--cmd", "run")
	rows.append(("Rerun, nothing changed", again))
	rows.append(
		(
			f"Rerun, nothing changed, {args.shards} shards in {args.shards} worker processes",
			sharded(args.site, args.shards),
		)
	)

	movers = frappe.db.sql_list(
		"""select name from `tabBank Customer Profile` where tier = 'Mass'
		order by name limit %s""",
		(max(1, customers // 100),),
	)
	frappe.db.sql("update `tabBank Customer Profile` set tier = 'VIP' where name in %s", (tuple(movers),))
	frappe.db.commit()
	try:
		moved = sub(args.site, "--cmd", "run")
		rows.append((f"{len(movers):,} customers moved up to VIP", moved))
	finally:
		frappe.db.sql(
			"update `tabBank Customer Profile` set tier = 'Mass' where name in %s", (tuple(movers),)
		)
		frappe.db.commit()
	restore = sub(args.site, "--cmd", "run")
	rows.append(("They move back to Mass", restore))
	print_rows(rows)
	if not args.keep:
		frappe = connect(args.site)
		frappe.db.sql("delete from `tabToDo` where reference_type = 'Bank Visit Plan'")
		frappe.db.sql("delete from `tabBank Visit Plan`")
		frappe.db.commit()


def print_rows(rows):
	print("| Run | Time | Peak memory | Customers | Created | Re-planned | Cancelled | Tasks |")
	print("|---|---|---|---|---|---|---|---|")
	for label, r in rows:
		print(
			f"| {label} | {r['seconds']} s | {r['peak_mib']} MiB | {r['customers']:,} | {r['created']:,} "
			f"| {r['redated']:,} | {r['cancelled']:,} | {r['tasks']:,} |"
		)


if __name__ == "__main__":
	main()
