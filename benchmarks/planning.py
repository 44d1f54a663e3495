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
3. 1 % of Mass customers move up to VIP (as a segmentation run would write it); the run
   cancels their app touch and plans the VIP visits, calls and salons, writing only those.
"""

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve()


def connect(site):
	import frappe

	frappe.init(site=site, sites_path=".")
	frappe.connect()
	frappe.set_user("Administrator")
	return frappe


def cmd_run(site):
	frappe = connect(site)
	from bank_crm.services.planning import run_planning

	started = time.perf_counter()
	run = run_planning()
	seconds = time.perf_counter() - started
	doc = frappe.get_doc("Bank Planning Run", run)
	print(
		json.dumps(
			{
				"seconds": round(seconds, 1),
				"peak_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
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


def main():
	parser = argparse.ArgumentParser()
	parser.add_argument("--site", required=True)
	parser.add_argument("--cmd", default=None)
	parser.add_argument("--keep", action="store_true", help="keep the plan items afterwards")
	args = parser.parse_args()
	if args.cmd == "run":
		return cmd_run(args.site)

	frappe = connect(args.site)
	customers = frappe.db.sql("select count(*) from `tabBank Customer Profile` where tier is not null")[0][0]
	print(f"{customers:,} customers with a tier")
	frappe.db.sql("delete from `tabToDo` where reference_type = 'Bank Visit Plan'")
	frappe.db.sql("delete from `tabBank Visit Plan`")
	frappe.db.commit()
	rows = []

	first = sub(args.site, "--cmd", "run")
	rows.append(("First run (no plan items yet)", first))
	again = sub(args.site, "--cmd", "run")
	rows.append(("Rerun, nothing changed", again))

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

	print("| Run | Time | Peak memory | Customers | Created | Re-planned | Cancelled | Tasks |")
	print("|---|---|---|---|---|---|---|---|")
	for label, r in rows:
		print(
			f"| {label} | {r['seconds']} s | {r['peak_mib']} MiB | {r['customers']:,} | {r['created']:,} "
			f"| {r['redated']:,} | {r['cancelled']:,} | {r['tasks']:,} |"
		)
	if not args.keep:
		frappe.db.sql("delete from `tabToDo` where reference_type = 'Bank Visit Plan'")
		frappe.db.sql("delete from `tabBank Visit Plan`")
		frappe.db.commit()


if __name__ == "__main__":
	main()
