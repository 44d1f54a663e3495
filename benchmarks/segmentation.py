"""Benchmark: nightly segmentation and snapshot ingestion at bank scale.

Run from the bench's ``sites`` folder with the bench's Python, against a site made for it
(bank_crm installed, nothing else of value in it: the script loads and changes data):

    cd ~/frappe-bench/sites
    ../env/bin/python ../apps/bank_crm/benchmarks/segmentation.py --site bench.localhost \
        --customers 1000000 --load

Steps, each printed as a table row (README, "Benchmarks"):

1. ``--load``: the demo generator loads N customers with profiles and two monthly snapshots.
2. Segmentation run 1 (every customer new: all written), run 2 (nothing changed: nothing
   written), then 1 % of customers get a lower latest balance and run 3 writes only those.
   Each run is a separate process so that its peak memory (ru_maxrss) is its own.
3. Snapshot ingestion through the REST endpoint: gunicorn on 127.0.0.1, batches of 10,000
   rows POSTed as JSON by an API-key user with the Bank CRM Integration role; then the same
   batches again (all unchanged). Data Import on a sample of the same kind of rows.
4. The naive approach: load and save each profile document, on a 10,000-customer sample.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parent))
from harness import Web  # noqa: E402  (this folder's: gunicorn on a free port, checked to be ours)


def connect(site):
	import frappe

	frappe.init(site=site, sites_path=".")
	frappe.connect()
	frappe.set_user("Administrator")
	return frappe


def peak_mib() -> float:
	from memory import peak_mib as own  # this folder's: the process's own peak (VmHWM)

	return own()


# -- sub-commands that run in their own process -------------------------------------------
def cmd_start(site, today, shards):
	connect(site)
	from bank_crm.bank_segmentation.segmentation import start_run

	print(json.dumps({"run": start_run("On Demand", today=today, shards=shards).name}))


def cmd_shard(site, run, shard):
	connect(site)
	from bank_crm.bank_segmentation.segmentation import run_shard

	started = time.perf_counter()
	run_shard(run, shard)
	print(json.dumps({"seconds": round(time.perf_counter() - started, 2), "peak_mib": round(peak_mib())}))


def segment(args, today, shards) -> dict:
	"""One run split into ``shards`` jobs, each in its own process as an RQ worker would run it."""
	run = sub(args, "--step", "start", "--today", today, "--shards", str(shards))["run"]
	started = time.perf_counter()
	procs = [
		subprocess.Popen(
			[
				sys.executable,
				str(HERE),
				"--site",
				args.site,
				"--step",
				"shard",
				"--run",
				run,
				"--shard",
				str(i),
			],
			stdout=subprocess.PIPE,
			stderr=subprocess.PIPE,
			text=True,
		)
		for i in range(shards)
	]
	outputs = [p.communicate() for p in procs]
	seconds = time.perf_counter() - started
	for p, (out, err) in zip(procs, outputs, strict=True):
		if p.returncode:
			raise SystemExit(f"shard failed: {out} {err}")
	peaks = [json.loads(out.strip().splitlines()[-1])["peak_mib"] for out, _err in outputs]
	frappe = connect(args.site)
	totals = frappe.db.get_value(
		"Bank Segmentation Run",
		run,
		["status", "scanned", "changed", "tier_changes", "lifecycle_changes", "errors"],
		as_dict=True,
	)
	frappe.destroy()
	if totals.status != "Completed":
		# start_run resumed an unfinished run of that day with other shards: its figure would be
		# of a part of the customers
		raise SystemExit(
			f"run {run} is {totals.status}, not completed: finish or remove the day's unfinished run first"
		)
	return {"jobs": shards, "seconds": round(seconds, 2), "peak_mib_per_job": max(peaks), **totals}


def cmd_naive(site, sample):
	"""Score and tier like the job, but load and save each document: the ORM way."""
	frappe = connect(site)
	from bank_crm.bank_segmentation import segmentation

	frappe.db.MAX_WRITES_PER_TRANSACTION = 10**9
	names = frappe.get_all("Bank Customer Profile", pluck="name", order_by="name", limit=sample)
	started = time.perf_counter()
	for i, name in enumerate(names):
		doc = frappe.get_doc("Bank Customer Profile", name)
		doc.flags.from_segmentation_engine = True
		doc.value_score = (doc.value_score or 0) + 0.01  # a change, so that save writes
		doc.tier_below_runs = doc.tier_below_runs or 0
		doc.save(ignore_permissions=True)
		if i % 1000 == 999:
			print(f"  naive: {i + 1} saved, {time.perf_counter() - started:.0f} s", file=sys.stderr)
	seconds = time.perf_counter() - started
	frappe.db.rollback()
	print(json.dumps({"seconds": round(seconds, 2), "rows": len(names), "peak_mib": round(peak_mib())}))
	assert segmentation  # imported for the same code paths as the job


# -- orchestration --------------------------------------------------------------------------
def sub(args, *extra) -> dict:
	out = subprocess.run(
		[sys.executable, str(HERE), "--site", args.site, *extra], capture_output=True, text=True, check=False
	)
	if out.returncode != 0:
		print(out.stdout, out.stderr, file=sys.stderr)
		raise SystemExit(f"step {extra} failed")
	return json.loads(out.stdout.strip().splitlines()[-1])


def load(args):
	frappe = connect(args.site)
	from bank_crm.demo import load_parts as demo_load

	existing = frappe.db.count("Bank Customer Profile")
	if existing >= args.customers:
		print(f"site already has {existing} profiles; not loading")
		return None
	started = time.perf_counter()
	result = demo_load(
		customers=args.customers - existing, months=2, segment=False, chunk=10_000, demos=False
	)
	seconds = time.perf_counter() - started
	frappe.destroy()
	return {"seconds": round(seconds, 1), **result}


def reset_scores(args) -> dict:
	"""Every profile back to never scored, as after the load (the tier histories stay): the next
	run is a first run ever again."""
	frappe = connect(args.site)
	started = time.perf_counter()
	frappe.db.sql(
		"""update `tabBank Customer Profile` set value_score = 0, tier = null, tier_below_runs = 0,
		lifecycle_stage = null, lifecycle_reason = null, score_policy = null, score_snapshot_date = null,
		scored_on = null"""
	)
	frappe.db.sql("update `tabCustomer` set bank_tier = null, bank_lifecycle_stage = null")
	frappe.db.commit()
	seconds = time.perf_counter() - started
	frappe.destroy()
	return {"seconds": round(seconds, 1)}


def change_one_percent(args) -> int:
	"""Lower the latest balance of every 100th customer (by name), as a bad month would."""
	frappe = connect(args.site)
	today = frappe.utils.getdate()
	since = frappe.utils.get_first_day(frappe.utils.add_months(today, -1))
	frappe.db.sql(
		"""update `tabBank Financial Snapshot` s
		join `tabBank Customer Profile` p on p.customer = s.customer and mod(crc32(p.name), 100) = 0
		set s.deposit_balance = s.deposit_balance * 0.2, s.aum = s.aum * 0.2
		where s.as_of_date >= %s""",
		(since,),
	)
	changed = frappe.db.sql(
		"select count(*) from `tabBank Customer Profile` where mod(crc32(name), 100) = 0"
	)[0][0]
	frappe.db.commit()
	frappe.destroy()
	return changed


def ingestion(args) -> dict:
	"""POST batches to the endpoint over HTTP; then the same batches again."""
	import requests

	frappe = connect(args.site)
	from bank_crm.tests.factories import api_token, make_user

	user = make_user("bench-integration", ["Bank CRM Integration"])
	token = api_token(user)
	customers = frappe.get_all(
		"Customer", filters={"name": ("like", "DEMO-C-%")}, pluck="name", limit=args.ingest_rows
	)
	as_of = str(frappe.utils.getdate())
	frappe.db.sql("delete from `tabBank Financial Snapshot` where as_of_date = %s", as_of)
	frappe.db.commit()
	rows = [
		{
			"customer": c,
			"as_of_date": as_of,
			"deposit_balance": 1000.0 + i % 997,
			"loan_balance": 0,
			"aum": 5000.0 + i % 991,
			"fee_income": 12.5,
			"composite_yield": 2.1,
			"products_held": 2,
			"source": "benchmark",
		}
		for i, c in enumerate(customers)
	]
	frappe.destroy()
	server = Web(args.site, workers=2, port=args.port, timeout=600, preload=True)
	port = server.port
	try:
		headers = {"Authorization": token, "Host": args.site, "Content-Type": "application/json"}
		url = f"http://127.0.0.1:{port}/api/method/bank_crm.api.ingest.snapshots"
		results = {}
		from concurrent.futures import ThreadPoolExecutor

		batches = [json.dumps({"rows": rows[i : i + args.batch]}) for i in range(0, len(rows), args.batch)]

		def post(body):
			response = requests.post(url, data=body, headers=headers, timeout=600)
			response.raise_for_status()
			return response.json()["message"]

		for streams in sorted({1, args.ingest_streams}):
			for label in ("first", "resend"):
				if label == "first":
					frappe = connect(args.site)
					frappe.db.sql("delete from `tabBank Financial Snapshot` where as_of_date = %s", as_of)
					frappe.db.commit()
					frappe.destroy()
				counts = {"inserted": 0, "unchanged": 0, "rejected": 0}
				started = time.perf_counter()
				with ThreadPoolExecutor(max_workers=streams) as pool:
					for message in pool.map(post, batches):
						for key in counts:
							counts[key] += message[key]
				seconds = time.perf_counter() - started
				results[f"{label}_{streams}_stream"] = {
					"rows": len(rows),
					"seconds": round(seconds, 2),
					"rows_per_s": round(len(rows) / seconds),
					**counts,
				}
				print(label, streams, results[f"{label}_{streams}_stream"], file=sys.stderr, flush=True)
		return results
	finally:
		server.stop()


def data_import(args) -> dict:
	"""Frappe's Data Import (insert) on rows of the same shape, for comparison."""
	frappe = connect(args.site)
	from frappe.core.doctype.data_import.data_import import import_file

	customers = frappe.get_all(
		"Customer",
		filters={"name": ("like", "DEMO-C-%")},
		pluck="name",
		limit=args.import_rows,
		order_by="name desc",
	)
	as_of = "2020-01-31"
	frappe.db.sql("delete from `tabBank Financial Snapshot` where as_of_date = %s", as_of)
	frappe.db.commit()
	header = "Customer,As Of,Deposit Balance,Loan Balance,Wealth / AUM,Fee Income (Period),Composite Yield (%),Products Held\n"
	with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as fh:
		fh.write(header)
		for c in customers:
			fh.write(f"{c},{as_of},1000,0,5000,12.5,2.1,2\n")
		path = fh.name
	started = time.perf_counter()
	import_file("Bank Financial Snapshot", path, "Insert", console=True)
	seconds = time.perf_counter() - started
	stored = frappe.db.count("Bank Financial Snapshot", {"as_of_date": as_of})
	frappe.db.commit()
	os.unlink(path)
	return {
		"rows": len(customers),
		"stored": stored,
		"seconds": round(seconds, 2),
		"rows_per_s": round(len(customers) / seconds),
	}


def main():
	parser = argparse.ArgumentParser()
	parser.add_argument("--site", required=True)
	parser.add_argument("--customers", type=int, default=1_000_000)
	parser.add_argument("--load", action="store_true")
	parser.add_argument(
		"--reset", action="store_true", help="every profile back to never scored first (run 1: a first run)"
	)
	parser.add_argument("--ingest-rows", type=int, default=200_000)
	parser.add_argument("--batch", type=int, default=10_000)
	parser.add_argument("--ingest-streams", type=int, default=2, help="concurrent client connections")
	parser.add_argument("--import-rows", type=int, default=2_000)
	parser.add_argument("--naive-sample", type=int, default=10_000)
	parser.add_argument("--port", type=int, default=0, help="0: a free port")
	parser.add_argument(
		"--skip", default="", help="comma-separated: segmentation (or run1,run2,run3),ingestion,import,naive"
	)
	parser.add_argument("--shards", type=int, default=2, help="parallel jobs for the segmentation runs")
	parser.add_argument("--step", help=argparse.SUPPRESS)
	parser.add_argument("--today", help=argparse.SUPPRESS)
	parser.add_argument("--run", help=argparse.SUPPRESS)
	parser.add_argument("--shard", type=int, help=argparse.SUPPRESS)
	args = parser.parse_args()

	if args.step == "start":
		return cmd_start(args.site, args.today, args.shards)
	if args.step == "shard":
		return cmd_shard(args.site, args.run, args.shard)
	if args.step == "naive":
		return cmd_naive(args.site, args.naive_sample)

	skip = set(filter(None, args.skip.split(",")))
	report = {
		"machine": f"{os.cpu_count()} cores, {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB"
	}
	if args.load:
		report["load"] = load(args)
		print("load:", report["load"], flush=True)
	if args.reset:
		report["reset"] = reset_scores(args)
		print("reset:", report["reset"], flush=True)
	if "segmentation" not in skip:
		import datetime

		day = datetime.date.today()
		# each run on its own (consecutive) day, as the nightly job runs
		if "run1" not in skip:
			report["run_1_all_new"] = segment(args, str(day), args.shards)
			print("run 1:", report["run_1_all_new"], flush=True)
		if "run2" not in skip:
			report["run_2_unchanged"] = segment(args, str(day + datetime.timedelta(days=1)), args.shards)
			print("run 2:", report["run_2_unchanged"], flush=True)
			report["run_2b_unchanged_one_job"] = segment(args, str(day + datetime.timedelta(days=2)), 1)
			print("run 2b:", report["run_2b_unchanged_one_job"], flush=True)
		if "run3" not in skip:
			# same day as the run before it, so only the changed customers can change
			last_day = str(day + datetime.timedelta(days=2))
			report["run_3_before"] = segment(args, last_day, args.shards)
			report["customers_changed"] = change_one_percent(args)
			report["run_3_one_percent"] = segment(args, last_day, args.shards)
			print("run 3:", report["customers_changed"], report["run_3_one_percent"], flush=True)
	if "ingestion" not in skip:
		report["ingestion_rest"] = ingestion(args)
		print("ingestion:", report["ingestion_rest"], flush=True)
	if "import" not in skip:
		report["data_import"] = data_import(args)
		print("data import:", report["data_import"], flush=True)
	if "naive" not in skip:
		report["naive_save_loop"] = sub(args, "--step", "naive", "--naive-sample", str(args.naive_sample))
		per_doc = report["naive_save_loop"]["seconds"] / max(report["naive_save_loop"]["rows"], 1)
		reference = report.get("run_2_unchanged") or report.get("run_3_one_percent") or {}
		if reference.get("seconds"):
			per_customer = reference["seconds"] / max(reference["scanned"], 1)
			report["naive_vs_set_based_ratio"] = round(per_doc / per_customer)
		print("naive:", report["naive_save_loop"], flush=True)
	print(json.dumps(report, indent=1))


if __name__ == "__main__":
	main()
