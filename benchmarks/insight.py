"""Benchmark: activity-event ingestion, hourly need-signal detection and the event purge at bank scale.

Run from the bench's ``sites`` folder with the bench's Python, against a site made for it
(bank_crm installed, nothing else of value in it: the script loads, changes and deletes data):

    cd ~/frappe-bench/sites
    ../env/bin/python ../apps/bank_crm/benchmarks/segmentation.py --site bench.localhost \\
        --customers 1000000 --load --skip segmentation,ingestion,import,naive   # the customers, once
    ../env/bin/python ../apps/bank_crm/benchmarks/insight.py --site bench.localhost \\
        --history 1000000 --history-full 10000000 --new 400000

Steps, each printed and returned as JSON (README, "Benchmarks"):

1. History: events of the last 180 days for the customers on file, loaded in bulk until the
   table holds ``--history`` events (types and amounts like a bank's: logins, card payments,
   FX-rate queries, salaries, transfers).
2. Ingestion over HTTP: gunicorn (2 workers) on 127.0.0.1, batches of 10,000 new events
   POSTed as JSON by an API-key user with the Bank CRM Integration role, half of ``--new`` with
   one client stream, half with two; then the first batches again (all duplicates).
3. Detection over the day's new events (everything ingested in step 2), in its own process
   (its peak memory is its own), with ``--history`` events on file; with ``--shards`` N, the
   same again split into N customer ranges, each in its own process at the same time.
4. The same detection again after the history grows to ``--history-full`` events (the signals
   of step 3 removed and the watermark put back): its cost follows the new events, not the table.
5. The purge of a month of events (retention set to 150 days over 180 days of history).
"""

import argparse
import json
import random
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parent))
from harness import Web  # noqa: E402  (this folder's: gunicorn on a free port, checked to be ours)

TYPES = (  # event type, share, amount range (None: no amount), channel
	("App Login", 0.55, None, "Mobile App"),
	("Card Spending", 0.25, (20, 5_000), "Other"),
	("FX Rate Query", 0.04, None, "Mobile App"),
	("Salary Credit", 0.05, (5_000, 40_000), "Other"),
	("Product Purchase", 0.05, (10_000, 500_000), "Online Banking"),
	("Large Transfer Out", 0.01, (50_000, 2_000_000), "Online Banking"),
	("Loan Inquiry", 0.05, None, "Phone"),
)
WEIGHTS = [t[1] for t in TYPES]


def connect(site):
	import frappe

	frappe.init(site=site, sites_path=".")
	frappe.connect()
	frappe.set_user("Administrator")
	return frappe


def peak_mib() -> float:
	from memory import peak_mib as own  # this folder's: the process's own peak (VmHWM)

	return own()


def sub(args, *extra) -> dict:
	out = subprocess.run(
		[sys.executable, str(HERE), "--site", args.site, *extra], capture_output=True, text=True, check=False
	)
	if out.returncode != 0:
		print(out.stdout, out.stderr, file=sys.stderr)
		raise SystemExit(f"step {extra} failed")
	return json.loads(out.stdout.strip().splitlines()[-1])


def event(rng, customer, at, external_id, source):
	kind, _share, amounts, channel = rng.choices(TYPES, weights=WEIGHTS)[0]
	return {
		"external_id": external_id,
		"source": source,
		"customer": customer,
		"event_type": kind,
		"event_time": at,
		"amount": round(rng.uniform(*amounts), 2) if amounts else None,
		"currency": "CNY" if amounts else None,
		"channel": channel,
	}


def customers(frappe) -> list[str]:
	return frappe.db.sql_list("select name from `tabCustomer` where name like 'DEMO-C-%%' order by name")


# -- steps that run in their own process ------------------------------------------------------
def cmd_history(site, target):
	"""Fill the table up to ``target`` historical events (bulk, like a migration from the core)."""
	frappe = connect(site)
	from bank_crm.core import activity
	from bank_crm.utils.bulk import insert_rows

	have = frappe.db.sql("select count(*) from `tabBank Activity Event`")[0][0]
	names = customers(frappe)
	rng = random.Random(have)
	now = frappe.utils.now_datetime().replace(microsecond=0)  # the site's time zone
	started = time.perf_counter()
	made = 0
	common = {"owner": "Administrator", "modified_by": "Administrator", "docstatus": 0, "idx": 0}
	while have + made < target:
		rows = []
		for i in range(min(20_000, target - have - made)):
			at = now - timedelta(days=2, seconds=rng.randrange(178 * 86400))
			row = event(rng, rng.choice(names), at, f"H{have + made + i}", "history")
			key = activity.event_key(row["source"], row["external_id"])
			row["amount"] = row["amount"] or 0  # a number column: no amount is 0
			rows.append(
				{
					**row,
					"event_key": key,
					"name": activity.event_name(key, at),
					"creation": at,
					"modified": at,
				}
			)
		made += insert_rows("Bank Activity Event", rows, common, ignore_duplicates=True)
		frappe.db.commit()
	seconds = time.perf_counter() - started
	print(
		json.dumps(
			{
				"loaded": made,
				"on_file": have + made,
				"seconds": round(seconds, 1),
				"peak_mib": round(peak_mib()),
			}
		)
	)


def cmd_detect(site):
	frappe = connect(site)
	from bank_crm.bank_insight.need_detection import detect

	started = time.perf_counter()
	run = detect("On Demand")
	seconds = time.perf_counter() - started
	doc = frappe.get_doc("Bank Signal Run", run)
	print(
		json.dumps(
			{
				"run": run,
				"status": doc.status,
				"seconds": round(seconds, 2),
				"events_scanned": doc.events_scanned,
				"customers_evaluated": doc.customers_evaluated,
				"signals_raised": doc.signals_raised,
				"peak_mib": round(peak_mib()),
				"errors": (doc.errors or "")[-500:],
			}
		)
	)


def cmd_enqueue_detect(site, shards):
	connect(site)
	from unittest.mock import patch

	from bank_crm.bank_insight.need_detection import detect

	jobs = []
	with patch("frappe.enqueue", lambda method, **kw: jobs.append(kw)):
		run = detect("On Demand", shard_count=shards, enqueue_shards=True)
	print(json.dumps({"run": run, "at": str(jobs[0]["at"]) if jobs else None}))


def cmd_detect_shard(site, run, shard, at):
	connect(site)
	from bank_crm.bank_insight.need_detection import detect_shard

	detect_shard(run, shard, at)
	print(json.dumps({"peak_mib": round(peak_mib())}))


def detect_sharded(args) -> dict:
	"""The same detection split into ``--shards`` customer ranges, each in its own process at the
	same time, as RQ workers run them."""
	queued = sub(args, "--step", "enqueue-detect", "--shards", str(args.shards))
	started = time.perf_counter()
	procs = [
		subprocess.Popen(
			[
				sys.executable,
				str(HERE),
				"--site",
				args.site,
				"--step",
				"detect-shard",
				"--run",
				queued["run"],
				"--shard",
				str(i),
				"--at",
				queued["at"],
			],
			stdout=subprocess.PIPE,
			text=True,
		)
		for i in range(args.shards)
	]
	peaks = [json.loads(p.communicate()[0].strip().splitlines()[-1])["peak_mib"] for p in procs]
	seconds = time.perf_counter() - started
	frappe = connect(args.site)
	doc = frappe.get_doc("Bank Signal Run", queued["run"])
	result = {
		"shards": args.shards,
		"status": doc.status,
		"seconds": round(seconds, 2),
		"events_scanned": doc.events_scanned,
		"customers_evaluated": doc.customers_evaluated,
		"signals_raised": doc.signals_raised,
		"peak_mib_per_process": max(peaks),
	}
	frappe.destroy()
	return result


def cmd_purge(site):
	frappe = connect(site)
	from bank_crm.bank_insight.activity_ingestion import purge_events

	frappe.db.set_single_value("Bank Insight Settings", "event_retention_days", 150)
	frappe.db.commit()
	started = time.perf_counter()
	deleted = purge_events()
	print(
		json.dumps(
			{
				"deleted": deleted,
				"seconds": round(time.perf_counter() - started, 1),
				"peak_mib": round(peak_mib()),
			}
		)
	)


# -- steps run from the main process ----------------------------------------------------------
def prepare_detection(args) -> dict:
	"""A completed run whose watermark is just before the new events, lag 0, no new-event signals."""
	frappe = connect(args.site)
	first_new = frappe.db.sql(
		"select min(creation) from `tabBank Activity Event` where source = 'bench-new'"
	)[0][0]
	frappe.db.sql("delete from `tabBank Need Signal` where raised_on >= %s", (first_new,))
	frappe.db.sql(
		"delete from `tabToDo` where reference_type = 'Bank Need Signal' and creation >= %s", (first_new,)
	)
	frappe.db.sql("delete from `tabBank Signal Run`")
	frappe.get_doc(
		{
			"doctype": "Bank Signal Run",
			"status": "Completed",
			"trigger": "On Demand",
			"started_on": first_new,
			"window_from": first_new - timedelta(hours=1),
			"window_to": first_new - timedelta(microseconds=1),
		}
	).insert(ignore_permissions=True)
	frappe.db.set_single_value("Bank Insight Settings", "detection_lag_seconds", 0)
	frappe.db.commit()
	new = frappe.db.sql("select count(*) from `tabBank Activity Event` where source = 'bench-new'")[0][0]
	total = frappe.db.sql("select count(*) from `tabBank Activity Event`")[0][0]
	frappe.destroy()
	return {"new_events": new, "on_file": total}


def ingestion(args) -> dict:
	import requests

	frappe = connect(args.site)
	from bank_crm.tests.factories import api_token, make_user

	user = make_user("bench-integration", ["Bank CRM Integration"])
	token = api_token(user)
	frappe.db.set_single_value("Bank CRM Settings", "ingest_calls_per_minute", 100_000)
	frappe.db.sql("delete from `tabBank Activity Event` where source = 'bench-new'")
	names = customers(frappe)
	now = frappe.utils.now_datetime().replace(microsecond=0)  # the site's time zone, not the machine's
	frappe.db.commit()
	frappe.destroy()
	rng = random.Random(11)
	rows = []
	for i in range(args.new):
		at = now - timedelta(seconds=rng.randrange(20 * 3600))
		row = event(rng, rng.choice(names), at.isoformat(sep=" "), f"N{i}", "bench-new")
		rows.append({k: v for k, v in row.items() if v is not None})
	batches = [json.dumps({"rows": rows[i : i + args.batch]}) for i in range(0, len(rows), args.batch)]
	server = Web(args.site, workers=2, port=args.port, timeout=600, preload=True)
	headers = {"Authorization": token, "Host": args.site, "Content-Type": "application/json"}
	url = f"{server.url}/api/method/bank_crm.api.insight.events"
	try:

		def post(body):
			response = requests.post(url, data=body, headers=headers, timeout=600)
			response.raise_for_status()
			return response.json()["message"]

		results = {}
		half = len(batches) // 2
		for label, streams, part in (("1_stream", 1, batches[:half]), ("2_streams", 2, batches[half:])):
			counts = {"inserted": 0, "duplicate": 0, "rejected": 0}
			started = time.perf_counter()
			with ThreadPoolExecutor(max_workers=streams) as pool:
				for message in pool.map(post, part):
					for key in counts:
						counts[key] += message[key]
			seconds = time.perf_counter() - started
			sent = sum(len(json.loads(b)["rows"]) for b in part)
			results[label] = {
				"rows": sent,
				"seconds": round(seconds, 2),
				"rows_per_s": round(sent / seconds),
				**counts,
			}
			print(label, results[label], file=sys.stderr, flush=True)
		again = batches[: min(10, half)]
		started = time.perf_counter()
		with ThreadPoolExecutor(max_workers=2) as pool:
			duplicates = sum(m["duplicate"] for m in pool.map(post, again))
		seconds = time.perf_counter() - started
		results["resend_2_streams"] = {
			"rows": duplicates,
			"seconds": round(seconds, 2),
			"rows_per_s": round(duplicates / seconds),
		}
		return results
	finally:
		server.stop()


def main():
	parser = argparse.ArgumentParser()
	parser.add_argument("--site", required=True)
	parser.add_argument("--step")
	parser.add_argument("--target", type=int)
	parser.add_argument("--history", type=int, default=1_000_000)
	parser.add_argument("--history-full", type=int, default=10_000_000)
	parser.add_argument("--new", type=int, default=400_000)
	parser.add_argument("--batch", type=int, default=10_000)
	parser.add_argument("--port", type=int, default=0, help="0: a free port")
	parser.add_argument("--skip", default="", help="comma-separated: ingest,full,purge")
	parser.add_argument("--shards", type=int, default=0, help="also detect in this many parallel shards")
	parser.add_argument("--run", help=argparse.SUPPRESS)
	parser.add_argument("--shard", type=int, help=argparse.SUPPRESS)
	parser.add_argument("--at", help=argparse.SUPPRESS)
	args = parser.parse_args()
	if args.step == "history":
		return cmd_history(args.site, args.target)
	if args.step == "detect":
		return cmd_detect(args.site)
	if args.step == "enqueue-detect":
		return cmd_enqueue_detect(args.site, args.shards)
	if args.step == "detect-shard":
		return cmd_detect_shard(args.site, args.run, args.shard, args.at)
	if args.step == "purge":
		return cmd_purge(args.site)
	skip = set(filter(None, args.skip.split(",")))
	report = {"history": sub(args, "--step", "history", "--target", str(args.history))}
	print("history", report["history"], file=sys.stderr, flush=True)
	if "ingest" not in skip:
		report["ingestion"] = ingestion(args)
	report["detect_small"] = {**prepare_detection(args), **sub(args, "--step", "detect")}
	print("detect", report["detect_small"], file=sys.stderr, flush=True)
	if args.shards > 1:
		report["detect_sharded"] = {**prepare_detection(args), **detect_sharded(args)}
		print("detect sharded", report["detect_sharded"], file=sys.stderr, flush=True)
	if "full" not in skip:
		report["history_full"] = sub(args, "--step", "history", "--target", str(args.history_full))
		print("history", report["history_full"], file=sys.stderr, flush=True)
		report["detect_full"] = {**prepare_detection(args), **sub(args, "--step", "detect")}
		print("detect", report["detect_full"], file=sys.stderr, flush=True)
	if "purge" not in skip:
		report["purge_month"] = sub(args, "--step", "purge")
	print(json.dumps(report, indent=1))


if __name__ == "__main__":
	main()
