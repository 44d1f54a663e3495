"""Benchmark: the escalation job with 5,000,000 requests on file, 100,000 of them open.

Run from the bench's ``sites`` folder with the bench's Python, against a site made for
benchmarks (bank_crm installed, demo customers loaded):

    cd ~/frappe-bench/sites
    ../env/bin/python ../apps/bank_crm/benchmarks/escalation.py --site bench.localhost \
        --requests 5000000 --open 100000 --complaints 500000 --open-complaints 5000

It bulk-inserts synthetic requests and complaints (names ``BENCHSR-…`` / ``BENCHCMP-…``) for
the site's customers: historical ones closed (no ``next_deadline``), open ones with deadlines
ahead. Then it times job runs when nothing is due, makes ``--due`` open requests due and times
the run that escalates them, and a run right after (idempotent: nothing more to do). The rows,
their escalation logs and notifications are deleted at the end (``--keep`` leaves them).
"""

import argparse
import random
import statistics
import time
from datetime import timedelta

SR, CMP = "BENCHSR-", "BENCHCMP-"


def connect(site):
	import frappe

	frappe.init(site=site, sites_path=".")
	frappe.connect()
	frappe.set_user("Administrator")
	return frappe


def load(frappe, requests, open_requests, complaints, open_complaints, chunk=20_000):
	from bank_crm.utils.bulk import insert_rows

	now = frappe.utils.now_datetime()
	customers = frappe.db.sql(
		"select name, bank_relationship_manager, bank_branch from tabCustomer "
		"where bank_relationship_manager is not null limit 200000"
	)
	rng = random.Random(5)
	types = ("Inquiry", "Complaint", "Suggestion", "Business Application")
	started = time.perf_counter()

	def request(i):
		c = customers[i % len(customers)]
		is_open = i < open_requests
		registered = now - timedelta(days=1 if is_open else rng.randint(30, 2000), minutes=i % 1440)
		due = now + timedelta(hours=rng.randint(3, 240)) if is_open else registered + timedelta(days=3)
		return {
			"name": f"{SR}{i:09d}",
			"creation": registered,
			"modified": registered,
			"owner": "Administrator",
			"modified_by": "Administrator",
			"customer": c[0],
			"relationship_manager": c[1],
			"branch": c[2],
			"request_type": types[i % 4],
			"urgency": "Normal",
			"channel": "Phone",
			"subject": "benchmark",
			"status": "In Progress" if is_open else "Closed",
			"registered_on": registered,
			"response_due": registered + timedelta(hours=24),
			"resolution_due": due,
			"responded_on": registered + timedelta(hours=1),
			"resolved_on": None if is_open else registered + timedelta(days=2),
			"next_deadline": due - timedelta(hours=2) if is_open else None,
		}

	def complaint(i):
		c = customers[i % len(customers)]
		is_open = i < open_complaints
		registered = (now - timedelta(days=2 if is_open else rng.randint(30, 2000))).date()
		deadline = registered + timedelta(days=15)
		return {
			"name": f"{CMP}{i:08d}",
			"creation": now,
			"modified": now,
			"owner": "Administrator",
			"modified_by": "Administrator",
			"service_request": f"{SR}{i:09d}",
			"customer": c[0],
			"relationship_manager": c[1],
			"branch": c[2],
			"category": "Other",
			"subject": "benchmark",
			"workflow_state": "Investigating" if is_open else "Closed",
			"registered_on": registered,
			"regulatory_deadline": deadline,
			"deadline_source": "Standard (15 days)",
			"decided_on": None if is_open else registered + timedelta(days=10),
			"next_deadline": (frappe.utils.get_datetime(f"{deadline} 23:59:59") - timedelta(hours=2))
			if is_open
			else None,
		}

	for total, make, doctype in (
		(requests, request, "Bank Service Request"),
		(complaints, complaint, "Bank Complaint"),
	):
		for start in range(0, total, chunk):
			insert_rows(doctype, [make(i) for i in range(start, min(total, start + chunk))])
			frappe.db.commit()
	return time.perf_counter() - started


def timed_run(frappe, now=None):
	from bank_crm.bank_service.escalation import escalate_due

	frappe.local.bank_escalation_matrix = None
	started = time.perf_counter()
	counts = escalate_due(now=now)
	return time.perf_counter() - started, counts


def cleanup(frappe):
	"""Delete the benchmark's rows in chunks (and their escalation logs and notifications)."""
	for doctype, prefix in (("Bank Service Request", SR), ("Bank Complaint", CMP)):
		while True:
			frappe.db.sql(f"delete from `tab{doctype}` where name like %s limit 100000", (prefix + "%",))
			deleted = frappe.db._cursor.rowcount
			frappe.db.commit()
			if not deleted:
				break
	for table, column in (("Bank Escalation Log", "reference_name"), ("Notification Log", "document_name")):
		frappe.db.sql(f"delete from `tab{table}` where `{column}` like %s", ("BENCH%",))
	frappe.db.commit()
	left = frappe.db.sql("select count(*) from `tabBank Service Request` where name like %s", (SR + "%",))[0][
		0
	]
	assert not left, f"{left} benchmark requests left"


def main():
	parser = argparse.ArgumentParser()
	parser.add_argument("--site", required=True)
	parser.add_argument("--requests", type=int, default=5_000_000)
	parser.add_argument("--open", type=int, default=100_000)
	parser.add_argument("--complaints", type=int, default=500_000)
	parser.add_argument("--open-complaints", type=int, default=5_000)
	parser.add_argument("--due", type=int, default=1_000)
	parser.add_argument("--runs", type=int, default=5)
	parser.add_argument("--skip-load", action="store_true")
	parser.add_argument("--keep", action="store_true")
	args = parser.parse_args()
	frappe = connect(args.site)
	if not args.skip_load:
		cleanup(frappe)
		seconds = load(frappe, args.requests, args.open, args.complaints, args.open_complaints)
		print(
			f"| Load (bulk insert) | {args.requests:,} requests + {args.complaints:,} complaints | {seconds:.1f} s |"
		)
	total = frappe.db.sql("select count(*) from `tabBank Service Request`")[0][0]
	open_ = frappe.db.sql("select count(*) from `tabBank Service Request` where next_deadline is not null")[
		0
	][0]
	print(f"requests on file: {total:,}, open (with a next deadline): {open_:,}")
	print(
		"plan:",
		frappe.db.sql(
			"explain select name from `tabBank Service Request` where next_deadline <= %s "
			"order by next_deadline limit 500",
			(frappe.utils.now_datetime(),),
		),
	)
	timings = []
	for _ in range(args.runs):
		seconds, counts = timed_run(frappe)
		timings.append(seconds)
		assert counts["escalations"] == 0, counts
	print(
		f"| Escalation job, nothing due | {total:,} requests, {open_:,} open | "
		f"median {statistics.median(timings) * 1000:.1f} ms, max {max(timings) * 1000:.1f} ms ({args.runs} runs) |"
	)
	now = frappe.utils.now_datetime()
	frappe.db.sql(
		"update `tabBank Service Request` set resolution_due = %s, next_deadline = %s "
		"where next_deadline is not null and name like %s order by next_deadline limit %s",
		(now - timedelta(minutes=5), now - timedelta(minutes=125), SR + "%", args.due),
	)
	frappe.db.commit()
	seconds, counts = timed_run(frappe)
	print(f"| Escalation job, {args.due:,} requests just breached | same | {seconds:.2f} s: {counts} |")
	seconds, counts = timed_run(frappe)
	print(f"| Escalation job right after (idempotent) | same | {seconds * 1000:.1f} ms: {counts} |")
	if not args.keep:
		cleanup(frappe)
		print("benchmark rows deleted")
	frappe.destroy()


if __name__ == "__main__":
	main()
