"""Benchmark: the bank's day at a million customers in one command, with one and with two workers.

Run from the bench's ``sites`` folder with the bench's Python, against the site the other
benchmarks made (1,000,000 customers after ``segmentation.py --load``, the planning and insight
benchmarks' plan items and 10,000,000 events); the script changes data as the day would:

    cd ~/frappe-bench/sites
    ../env/bin/python ../apps/bank_crm/benchmarks/bank_day.py --site bench.localhost

When fewer than half of the profiles have a mobile number, the contact details of
``broadcasts.py`` are given to them first (mobile 95 %, email 40 %, WeChat 30 %, app 50 %, quiet
hours 10 %), so that greetings and broadcasts have channels to choose from.

Each step is the benchmark of its capability (imported from this folder) and runs in processes
of its own, as gunicorn and RQ workers would; "2 workers" means two client streams for the
ingestion endpoints and two shard jobs in two processes at the same time for the jobs:

1. snapshot ingestion over HTTP (gunicorn, 2 workers), ``--snapshots`` rows;
2. event ingestion over HTTP, ``--events`` events (half with one stream, half with two);
3. nightly re-tiering of every customer, nothing changed (1 job / 2 shard jobs);
4. the daily planning rerun (1 / 2 shards); steps 3 and 4 run once untimed first, so that both
   columns start with the profiles in the buffer pool (and the day's changes written);
5. care events: the run of the day after the last one on file (1 shard), then of the day after
   that (2 shards): each day's new events, recorded and acted on (greetings, RM tasks);
6. hourly need-signal detection over the events of step 2 (1 / 2 shards);
7. escalation: ``--requests`` service requests (a tenth open) and a tenth as many complaints
   bulk-loaded, then the job with ``--due`` of them just breached (one process: the job is an
   indexed range read and one UPDATE; the same figure in both columns);
8. a broadcast plan: an important notice to the branches closest to ``--segment`` customers,
   routed and written as delivery rows (one process; the same figure in both columns);
9. broadcast sending: ``--send`` app-push messages by the sending shards (1 / 2; each column its
   own customers), the send jobs only — rendering, routing, the outbound message rows; the
   webhook deliveries (the ``short`` queue's work) are measured by ``broadcasts.py``;
10. the retention job anonymising ``--anonymise`` customers (1 / 2 shards, other customers each).

The escalation rows and the broadcasts are deleted at the end. Prints one Markdown table
(README, "Benchmarks").
"""

import argparse
import importlib.util
import json
import subprocess
import sys
import time
from argparse import Namespace
from concurrent.futures import ThreadPoolExecutor
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


def facts(result: dict) -> dict:
	"""What a helper process found, without its own time and memory."""
	return {k: v for k, v in result.items() if k not in ("seconds", "peak_mib")}


def shard_processes(site, start: str, shard: str, count: int) -> dict:
	"""A sharded run as ``count`` RQ workers would run it: ``start`` (code that sets ``run``, the
	run's name, with ``frappe.enqueue`` a no-op) in one process, then ``shard`` (code with ``run``
	and ``shard_no``) for each shard in a process of its own, all at the same time; timed from the
	start of the shards to the last one's end."""
	indented = "\n".join("\t" + line for line in start.splitlines())
	run = in_process(
		site,
		f"from unittest.mock import patch\nwith patch('frappe.enqueue', lambda *a, **k: None):\n{indented}\n"
		"result = {'run': run}",
	)["run"]

	def one(i):
		return in_process(site, f"run, shard_no = {run!r}, {i}\n{shard}\nresult = {{}}")["peak_mib"]

	started = time.perf_counter()
	with ThreadPoolExecutor(count) as pool:
		peaks = list(pool.map(one, range(count)))
	return {"run": run, "seconds": round(time.perf_counter() - started, 2), "peak_mib": max(peaks)}


def care_day(site, shards: int) -> dict:
	"""The care run of the day after the last one on file (its new events: the customers whose
	birthday, anniversary, maturity or reassessment comes into a rule's window that day)."""
	day = in_process(
		site,
		"from frappe.utils import add_days, getdate, today\n"
		"last = frappe.db.sql('select max(run_date) from `tabBank Care Run`')[0][0]\n"
		"result = {'day': str(add_days(max(getdate(last or today()), getdate(today())), 1))}",
	)["day"]
	out = shard_processes(
		site,
		f"from bank_crm.bank_engagement import care_events as care\nrun = care.enqueue_care({day!r}, shard_count={shards})",
		"from bank_crm.bank_engagement import care_events as care\ncare.run_care_shard(run, shard_no)",
		shards,
	)
	fields = ("status", "events_recorded", "events_acted", "greetings_sent", "tasks_created", "no_channel")
	run = in_process(
		site,
		f"doc = frappe.get_doc('Bank Care Run', {out['run']!r})\nresult = {{k: doc.get(k) for k in {fields!r}}}",
	)
	return facts(run) | {"day": day} | out


ESCALATION = """import sys; sys.path.insert(0, HERE)
import escalation
from datetime import timedelta
escalation.cleanup(frappe)
load_seconds = escalation.load(frappe, REQUESTS, REQUESTS // 10, REQUESTS // 10, REQUESTS // 100)
now = frappe.utils.now_datetime()
frappe.db.sql("update `tabBank Service Request` set resolution_due = %s, next_deadline = %s where next_deadline is not null and name like %s order by next_deadline limit %s", (now - timedelta(minutes=5), now - timedelta(minutes=125), escalation.SR + '%', DUE))
frappe.db.commit()
seconds, counts = escalation.timed_run(frappe)
again, _counts = escalation.timed_run(frappe)
escalation.cleanup(frappe)
result = {'load_seconds': round(load_seconds, 1), 'job_seconds': round(seconds, 2), 'again_ms': round(again * 1000, 1), **counts}"""


def escalation_day(site, requests: int, due: int) -> dict:
	code = f"HERE, REQUESTS, DUE = {str(HERE.parent)!r}, {requests}, {due}\n{ESCALATION}"
	return in_process(site, code)


BROADCAST_PLAN = """import sys; sys.path.insert(0, HERE)
import time as t
import broadcasts as bench
from bank_crm.bank_outreach import broadcasts
bench.remove_broadcasts(frappe)
branches, total = bench.segment_branches(frappe, SEGMENT)
name = bench.make_broadcast(frappe, 'day', branches=[{'branch': b} for b in branches], **bench.BODIES)
begun = t.perf_counter()
out = broadcasts.plan(frappe.get_doc('Bank Broadcast', name))
frappe.db.commit()
result = {**out, 'plan_seconds': round(t.perf_counter() - begun, 2)}"""


def broadcast_plan(site, segment: int) -> dict:
	return in_process(site, f"HERE, SEGMENT = {str(HERE.parent)!r}, {segment}\n{BROADCAST_PLAN}")


BROADCAST_SEND = """import sys; sys.path.insert(0, HERE)
import broadcasts as bench
from unittest.mock import patch
from bank_crm.bank_outreach import broadcasts
bench.push_adapter(frappe, PORT)  # the deliveries are not made (the short queue's work)
customers = frappe.db.sql_list('''select p.customer from `tabBank Customer Profile` p where p.app_user_id is not null
	and p.quiet_hours_start is null and p.do_not_contact = 0
	and exists (select 1 from `tabBank Consent Record` r where r.parent = p.name and r.purpose = 'Service' and r.withdrawn_on is null)
	and not exists (select 1 from `tabBank Broadcast Recipient` x join `tabBank Broadcast` b on b.name = x.broadcast
		where x.customer = p.customer and b.title like %s)
	order by rand() limit %s''', (bench.TAG + '%', COUNT))
name = bench.make_broadcast(frappe, f'send {SHARDS}', state='Scheduled', app_push_text=bench.BODIES['app_push_text'],
	customer_list='\\n'.join(customers))
with patch.object(broadcasts, 'enqueue_send'):
	broadcasts.send_scheduled()
frappe.db.commit()
result = {'broadcast': name, 'queued': frappe.db.count('Bank Broadcast Recipient', {'broadcast': name, 'status': 'Queued'})}"""

SEND_SHARD = """from unittest.mock import patch
from bank_crm.bank_outreach import broadcasts
from bank_crm.bank_engagement import outbound
with patch.object(outbound, 'enqueue_deliveries'):  # the deliveries: the short queue's work
	broadcasts.send_shard(run, shard_no)"""


def broadcast_send(site, count: int, shards: int) -> dict:
	"""``count`` app-push messages of a scheduled notice (customers with an app and a service
	consent that no broadcast of this benchmark reached yet), sent by ``shards`` shard processes."""
	made = in_process(
		site, f"HERE, COUNT, SHARDS, PORT = {str(HERE.parent)!r}, {count}, {shards}, 9\n{BROADCAST_SEND}"
	)
	name = made["broadcast"]
	out = shard_processes(
		site,
		f"from bank_crm.bank_outreach import broadcasts as broadcasts\nrun = broadcasts.start_sending({name!r}, shard_count={shards})",
		SEND_SHARD,
		shards,
	)
	sent = in_process(
		site,
		f"result = {{'sent': frappe.db.count('Bank Broadcast Recipient', {{'broadcast': {name!r}, 'status': 'Sent'}}),"
		f" 'state': frappe.db.get_value('Bank Broadcast', {name!r}, 'workflow_state')}}",
	)
	rate = round(sent["sent"] / out["seconds"]) if out["seconds"] else None
	return facts(made) | facts(sent) | out | {"rows_per_s": rate}


REMOVE_BROADCASTS = """import sys; sys.path.insert(0, HERE)
import broadcasts as bench
names = frappe.db.sql_list("select name from `tabBank Broadcast` where title like %s", (bench.TAG + '%',))
runs = frappe.db.sql_list("select name from `tabBank Broadcast Sending` where broadcast in %s", (tuple(names),)) if names else []
if runs:
	frappe.db.sql("delete from `tabBank Job Shard` where parenttype = 'Bank Broadcast Sending' and parent in %s", (tuple(runs),))
	frappe.db.sql("delete from `tabBank Broadcast Sending` where name in %s", (tuple(runs),))
bench.remove_broadcasts(frappe)
result = {'removed': len(names)}"""


def remove_day_broadcasts(site):
	in_process(site, f"HERE = {str(HERE.parent)!r}\n{REMOVE_BROADCASTS}")


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
	parser.add_argument("--requests", type=int, default=1_000_000)
	parser.add_argument("--due", type=int, default=1_000)
	parser.add_argument("--segment", type=int, default=300_000)
	parser.add_argument("--send", type=int, default=5_000)
	parser.add_argument("--port", type=int, default=0, help="0: free ports")
	args = parser.parse_args()
	site = args.site
	seg, ins, plan, rights, casts = (
		module(n) for n in ("segmentation", "insight", "planning", "rights", "broadcasts")
	)
	reachable = in_process(
		site, "result = {'n': frappe.db.count('Bank Customer Profile', {'mobile_no': ('is', 'set')})}"
	)["n"]
	if reachable < 500_000:  # the customers' addresses, as broadcasts.py gives them (once)
		print("contact details", casts.contact_details(Namespace(site=site)), file=sys.stderr, flush=True)
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

	events = ins.ingestion(
		Namespace(site=site, new=args.events, batch=10_000, port=args.port + 1 if args.port else 0)
	)
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
	# each whole-table job once before it is timed (not counted): both columns start warm, with
	# the profiles in the buffer pool and the day's changes (if any) written
	seg.segment(seg_args, today, 2)
	seg_one = seg.segment(seg_args, today, 1)
	seg_two = seg.segment(seg_args, today, 2)
	note(
		"Nightly re-tiering, nothing changed",
		seg_one["scanned"],
		seg_one,
		seg_two,
		f"{seg_one['changed']:,} / {seg_two['changed']:,} profiles",
	)

	plan.sharded(site, 2)
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

	care_one = care_day(site, 1)
	care_two = care_day(site, 2)
	note(
		"Care events (a day's run: the events coming into the rules' windows)",
		f"{care_one['events_recorded']:,} / {care_two['events_recorded']:,}",
		care_one,
		care_two,
		f"{care_one['events_acted']:,} / {care_two['events_acted']:,} events acted on "
		f"({care_one['greetings_sent']:,} / {care_two['greetings_sent']:,} greetings, "
		f"{care_one['tasks_created']:,} / {care_two['tasks_created']:,} RM tasks)",
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

	esc = escalation_day(site, args.requests, args.due)
	esc["seconds"] = esc["job_seconds"]
	note(
		f"Escalation: requests just breached ({args.requests:,} requests, {args.requests // 10:,} complaints on file)",
		args.due,
		esc,
		esc,
		f"{esc['escalations']:,} escalations with their notifications; run again: {esc['again_ms']} ms, nothing",
	)

	remove_day_broadcasts(site)
	bplan = broadcast_plan(site, args.segment)
	bplan["seconds"] = bplan["plan_seconds"]
	note(
		"Broadcast plan (routing, consent, caps, delivery rows)",
		bplan["queued"] + bplan["skipped"],
		bplan,
		bplan,
		f"{bplan['written']:,} rows ({bplan['queued']:,} queued, {bplan['skipped']:,} skipped)",
	)
	send_one = broadcast_send(site, args.send, 1)
	send_two = broadcast_send(site, args.send, 2)
	note(
		"Broadcast sending (the send jobs)",
		send_one["queued"],
		send_one,
		send_two,
		f"{send_one['sent']:,} / {send_two['sent']:,} messages",
	)
	remove_day_broadcasts(site)

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
