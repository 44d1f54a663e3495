"""Benchmark: the retention job anonymising customers among a million.

Run from the bench's ``sites`` folder with the bench's Python, against a site made for it
(the demo customers loaded, e.g. by ``segmentation.py --load``, with the planning and insight
benchmarks' plan items, tasks and events; the script anonymises customers for good):

    cd ~/frappe-bench/sites
    ../env/bin/python ../apps/bank_crm/benchmarks/rights.py --site bench.localhost --customers 10000

Steps, printed as JSON (README, "Benchmarks"):

1. ``--customers`` profiles (spread over the key range: every n-th by name) get a relationship
   end date 6 years back, so the retention period (5 years) has run out for them and only them.
2. ``bank_crm.bank_customer.anonymisation.run_anonymisation`` runs in its own process (its peak memory is
   its own), batches of ``--batch`` customers, each its own transaction; time, rows per second,
   the run record.
   With ``--shards`` N, the run is split into N key ranges (``enqueue_anonymisation``), each in its
   own process at the same time, as RQ workers run them.
3. A check on a sample of the anonymised customers: no name, mobile number or ID fingerprint
   left on their profile, Customer and records; the customers not chosen are untouched.
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


def cmd_run(site, batch):
	frappe = connect(site)
	from bank_crm.bank_customer.anonymisation import run_anonymisation

	started = time.perf_counter()
	name = run_anonymisation(batch_size=batch)
	seconds = time.perf_counter() - started
	run = frappe.get_doc("Bank Anonymisation Run", name)
	print(
		json.dumps(
			{
				"seconds": round(seconds, 1),
				"peak_mib": round(peak_mib()),
				"status": run.status,
				"due": run.customers_due,
				"anonymised": run.customers_anonymised,
				"per_second": round(run.customers_anonymised / seconds) if seconds else None,
			}
		)
	)


def cmd_enqueue(site, shards):
	connect(site)
	from unittest.mock import patch

	from bank_crm.bank_customer.anonymisation import enqueue_anonymisation

	with patch("frappe.enqueue", lambda *a, **k: None):
		print(json.dumps({"run": enqueue_anonymisation(shard_count=shards)}))


def cmd_shard(site, run, shard, batch):
	connect(site)
	from bank_crm.bank_customer.anonymisation import run_anonymisation_shard

	run_anonymisation_shard(run, shard, batch_size=batch)
	print(json.dumps({"peak_mib": round(peak_mib())}))


def sharded(site, shards, batch) -> dict:
	"""The retention job split into ``shards`` jobs, each in its own process as an RQ worker runs it."""
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
			[
				sys.executable,
				str(HERE),
				"--site",
				site,
				"--cmd",
				"shard",
				"--run",
				run,
				"--shard",
				str(i),
				"--batch",
				str(batch),
			],
			stdout=subprocess.PIPE,
			text=True,
		)
		for i in range(shards)
	]
	peaks = [json.loads(p.communicate()[0].strip().splitlines()[-1])["peak_mib"] for p in procs]
	seconds = time.perf_counter() - started
	frappe = connect(site)
	doc = frappe.get_doc("Bank Anonymisation Run", run)
	return {
		"seconds": round(seconds, 1),
		"peak_mib": max(peaks),
		"status": doc.status,
		"due": doc.customers_due,
		"anonymised": doc.customers_anonymised,
		"per_second": round(doc.customers_anonymised / seconds) if seconds else None,
	}


def main():
	parser = argparse.ArgumentParser()
	parser.add_argument("--site", required=True)
	parser.add_argument("--customers", type=int, default=10_000)
	parser.add_argument("--batch", type=int, default=1_000)
	parser.add_argument("--shards", type=int, default=1, help="jobs in parallel processes, as RQ workers")
	parser.add_argument("--cmd", help=argparse.SUPPRESS)
	parser.add_argument("--run", help=argparse.SUPPRESS)
	parser.add_argument("--shard", type=int, help=argparse.SUPPRESS)
	args = parser.parse_args()
	if args.cmd == "run":
		return cmd_run(args.site, args.batch)
	if args.cmd == "enqueue":
		return cmd_enqueue(args.site, args.shards)
	if args.cmd == "shard":
		return cmd_shard(args.site, args.run, args.shard, args.batch)

	frappe = connect(args.site)
	total = frappe.db.sql("select count(*) from `tabBank Customer Profile`")[0][0]
	step = max(1, total // args.customers)
	chosen = frappe.db.sql(
		"""select name, customer, customer_name, mobile_no, id_number_hash from (
			select name, customer, customer_name, mobile_no, id_number_hash, row_number() over (order by name) as n
			from `tabBank Customer Profile` where anonymised_on is null) p
		where mod(n, %s) = 0 limit %s""",
		(step, args.customers),
		as_dict=True,
	)
	untouched = frappe.db.sql(
		"""select name, customer_name from `tabBank Customer Profile`
		where anonymised_on is null and relationship_ended_on is null order by name limit 1"""
	)[0]
	frappe.db.sql(
		"update `tabBank Customer Profile` set relationship_ended_on = date_sub(curdate(), interval 6 year) where name in %s",
		(tuple(p.name for p in chosen),),
	)
	frappe.db.commit()
	sizes = {
		dt: frappe.db.sql(
			"select table_rows from information_schema.tables where table_schema = database() and table_name = %s",
			(f"tab{dt}",),
		)[0][0]
		for dt in ("Customer", "Bank Activity Event", "Bank Visit Plan", "ToDo", "Bank Financial Snapshot")
	}
	frappe.destroy()

	if args.shards > 1:
		result = sharded(args.site, args.shards, args.batch)
	else:
		out = subprocess.run(
			[sys.executable, str(HERE), "--site", args.site, "--cmd", "run", "--batch", str(args.batch)],
			capture_output=True,
			text=True,
			check=True,
		)
		result = json.loads(out.stdout.strip().splitlines()[-1])

	frappe = connect(args.site)
	left = []
	for p in chosen[:200]:
		row = frappe.db.get_value(
			"Bank Customer Profile",
			p.name,
			["customer_name", "mobile_no", "id_number_hash", "anonymised_on"],
			as_dict=True,
		)
		if (
			p.customer_name
			and row.customer_name == p.customer_name
			or row.mobile_no
			or row.id_number_hash
			or not row.anonymised_on
		):
			left.append(p.name)
		if frappe.db.get_value("Customer", p.customer, "customer_name") == p.customer_name:
			left.append(p.customer)
		if frappe.db.exists("__Auth", {"doctype": "Bank Customer Profile", "name": p.name}):
			left.append(f"{p.name} (ID number)")
	kept = frappe.db.get_value("Bank Customer Profile", untouched[0], "customer_name") == untouched[1]
	print(
		json.dumps(
			{
				"site": sizes,
				"chosen": len(chosen),
				"run": result,
				"sample_checked": min(200, len(chosen)),
				"left": left,
				"others_untouched": kept,
			},
			indent=1,
		)
	)


if __name__ == "__main__":
	main()
