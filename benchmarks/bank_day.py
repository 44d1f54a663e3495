"""Benchmark: the bank's day at a million customers in one command, with one and with two workers.

Run from the bench's ``sites`` folder with the bench's Python, against the site the other
benchmarks made (1,000,000 customers after ``segmentation.py --load``, the planning and insight
benchmarks' plan items and 10,000,000 events); the script changes data as the day would:

    cd ~/frappe-bench/sites
    ../env/bin/python ../apps/bank_crm/benchmarks/bank_day.py --site bench.localhost

Each step is the benchmark of its capability (imported from this folder) and runs in processes
of its own, as gunicorn and RQ workers would; "2 workers" means two client streams for the
ingestion endpoints and two shard jobs in two processes at the same time for the jobs:

1. snapshot ingestion over HTTP (gunicorn, 2 workers), ``--snapshots`` rows;
2. event ingestion over HTTP, ``--events`` events (half with one stream, half with two);
3. nightly re-tiering of every customer, nothing changed (1 job / 2 shard jobs);
4. the daily planning rerun (1 / 2 shards);
5. care events: the daily job (not sharded: the same figure in both columns);
6. hourly need-signal detection over the events of step 2 (1 / 2 shards);
7. the retention job anonymising ``--anonymise`` customers (1 / 2 shards, other customers each).

Escalation and a broadcast plan are not in the day yet: their benchmarks (``escalation.py``,
``broadcasts.py``) build data sets of their own (5,000,000 requests; a million-recipient
broadcast). Prints one Markdown table (README, "Benchmarks").
"""

import argparse
import importlib.util
import json
import subprocess
import sys
import time
from argparse import Namespace
from pathlib import Path

from memory import peak_mib  # this folder's: the process's own peak (VmHWM)

HERE = Path(__file__).resolve()


def module(name):
	spec = importlib.util.spec_from_file_location(f"bank_day_{name}", HERE.parent / f"{name}.py")
	mod = importlib.util.module_from_spec(spec)
	spec.loader.exec_module(mod)
	return mod


def in_process(site, code: str) -> dict:
	"""Run ``code`` (which sets ``result``) in a fresh process connected to the site."""
	script = (
		"import json, resource, time, frappe\n"
		f"frappe.init(site={site!r}, sites_path='.'); frappe.connect(); frappe.set_user('Administrator')\n"
		"started = time.perf_counter()\n"
		f"{code}\n"
		"result['seconds'] = round(time.perf_counter() - started, 2)\n"
		"result['peak_mib'] = round(int([l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0].split()[1]) / 1024)\n"
		"print(json.dumps(result, default=str))\n"
	)
	out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
	return json.loads(out.stdout.strip().splitlines()[-1])


def mark_for_retention(site, count: int) -> int:
	return in_process(
		site,
		f"""names = frappe.db.sql_list('''select name from `tabBank Customer Profile`
	where anonymised_on is null and relationship_ended_on is null order by rand() limit {int(count)}''')
frappe.db.sql("update `tabBank Customer Profile` set relationship_ended_on = date_sub(curdate(), interval 6 year) where name in %s", (tuple(names),))
frappe.db.commit()
result = {{'marked': len(names)}}""",
	)["marked"]


def main():
	parser = argparse.ArgumentParser()
	parser.add_argument("--site", required=True)
	parser.add_argument("--snapshots", type=int, default=100_000)
	parser.add_argument("--events", type=int, default=200_000)
	parser.add_argument("--anonymise", type=int, default=5_000)
	parser.add_argument("--port", type=int, default=8771)
	args = parser.parse_args()
	site = args.site
	seg, ins, plan, rights = (module(n) for n in ("segmentation", "insight", "planning", "rights"))
	rows = []  # (step, rows, one, two, writes)

	def note(step, count, one, two, writes=""):
		rows.append((step, count, one, two, writes))
		print(step, one, two, file=sys.stderr, flush=True)

	snap = seg.ingestion(
		Namespace(site=site, ingest_rows=args.snapshots, batch=10_000, ingest_streams=2, port=args.port)
	)
	one, two = snap["first_1_stream"], snap["first_2_stream"]
	note(
		"Snapshot ingestion over HTTP",
		one["rows"],
		one,
		two,
		f"{one['inserted']:,} / {two['inserted']:,} rows",
	)

	events = ins.ingestion(Namespace(site=site, new=args.events, batch=10_000, port=args.port + 1))
	one, two = events["1_stream"], events["2_streams"]
	note(
		"Event ingestion over HTTP",
		f"{one['rows']:,} + {two['rows']:,}",
		one,
		two,
		f"{one['inserted']:,} / {two['inserted']:,} events",
	)

	today = time.strftime("%Y-%m-%d")
	seg_args = Namespace(site=site)
	seg_one = seg.segment(seg_args, today, 1)
	seg_two = seg.segment(seg_args, today, 2)
	note(
		"Nightly re-tiering, nothing changed",
		seg_one["scanned"],
		seg_one,
		seg_two,
		f"{seg_one['changed']:,} / {seg_two['changed']:,} profiles",
	)

	plan_one = plan.sub(site, "--cmd", "run")
	plan_two = plan.sharded(site, 2)
	changed = [p["created"] + p["redated"] + p["cancelled"] for p in (plan_one, plan_two)]
	note(
		"Daily planning rerun",
		plan_one["customers"],
		plan_one,
		plan_two,
		f"{changed[0]:,} / {changed[1]:,} items",
	)

	care = in_process(
		site,
		"""from bank_crm.services.care import run_care_events
pending = lambda: frappe.db.count('Bank Care Event', {'status': ('is', 'not set')})
before = pending()
recorded = run_care_events()
result = {'recorded': recorded, 'acted': before + recorded - pending()}""",
	)
	note(
		"Care events (daily job; not sharded)",
		care["recorded"] + care["acted"],
		care,
		care,
		f"{care['recorded']:,} recorded, {care['acted']:,} acted on",
	)

	det_args = Namespace(site=site, shards=1)
	detect_one = {**ins.prepare_detection(det_args), **ins.detect_sharded(det_args)}
	det_args.shards = 2
	detect_two = {**ins.prepare_detection(det_args), **ins.detect_sharded(det_args)}
	note(
		"Hourly need-signal detection over the new events",
		detect_one["new_events"],
		detect_one,
		detect_two,
		f"{detect_one['signals_raised']:,} / {detect_two['signals_raised']:,} signals with their tasks",
	)

	mark_for_retention(site, args.anonymise)
	ret_one = rights.sharded(site, 1, 1_000)
	mark_for_retention(site, args.anonymise)
	ret_two = rights.sharded(site, 2, 1_000)
	note(
		"Retention: anonymisation",
		ret_one["anonymised"],
		ret_one,
		ret_two,
		f"{ret_one['anonymised']:,} / {ret_two['anonymised']:,} customers",
	)

	def cell(r):
		if "rows_per_s" in r:
			return f"{r['seconds']} s ({r['rows_per_s']:,}/s)"
		return f"{r['seconds']} s"

	def peak(r):
		return r.get("peak_mib") or r.get("peak_mib_per_job") or r.get("peak_mib_per_process") or "–"

	print("| Step | Rows | 1 worker | 2 workers | Peak MiB (1 / 2) | Writes |")
	print("|---|---|---|---|---|---|")
	for step, count, one, two, writes in rows:
		count = f"{count:,}" if isinstance(count, int) else count
		print(f"| {step} | {count} | {cell(one)} | {cell(two)} | {peak(one)} / {peak(two)} | {writes} |")
	print(json.dumps({"peak_mib_driver": round(peak_mib())}))


if __name__ == "__main__":
	main()
