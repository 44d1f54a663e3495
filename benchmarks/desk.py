"""Benchmark: what an RM's desk asks of the server, over HTTP as a real RM.

Run from the bench's ``sites`` folder with the bench's Python, against a site made for it (the
demo customers loaded, e.g. by ``segmentation.py --load``; the insight and broadcast benchmarks
add events, signals and deliveries):

    cd ~/frappe-bench/sites
    ../env/bin/python ../apps/bank_crm/benchmarks/desk.py --site bench.localhost

It starts gunicorn (2 workers) on a free port of 127.0.0.1 (checked to be its own), logs in as a demo RM (password login, a session
cookie, like the desk), and times ``--requests`` calls of each: the customer-360 payload of the
RM's own customers (a different one each time), the workbench, and the RM's lists as the desk
asks for them (profiles filtered by tier, need signals open, visit plans due). Medians and 95th
percentiles in ms, and the site's size, printed as JSON (README, "Benchmarks").
"""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parent))
from harness import Web  # noqa: E402  (this folder's: gunicorn on a free port, checked to be ours)

PASSWORD = "Demo@Bank2026"


def connect(site):
	import frappe

	frappe.init(site=site, sites_path=".")
	frappe.connect()
	frappe.set_user("Administrator")
	return frappe


def p95(values):
	ordered = sorted(values)
	return ordered[max(0, int(round(0.95 * len(ordered))) - 1)]


def main():
	import requests

	parser = argparse.ArgumentParser()
	parser.add_argument("--site", required=True)
	parser.add_argument("--rm", default="rm0101a@demo.bank-crm.example")
	parser.add_argument("--requests", type=int, default=20)
	parser.add_argument("--port", type=int, default=0, help="0: a free port")
	args = parser.parse_args()

	frappe = connect(args.site)
	sizes = {
		dt: frappe.db.sql(
			"select table_rows from information_schema.tables where table_schema = database() and table_name = %s",
			(f"tab{dt}",),
		)[0][0]
		for dt in ("Customer", "Bank Activity Event", "Bank Need Signal", "Bank Broadcast Recipient")
	}
	customers = frappe.db.sql_list(
		"select customer from `tabBank Customer Profile` where relationship_manager = %s order by name limit %s",
		(args.rm, args.requests + 5),
	)
	portfolio = frappe.db.count("Bank Customer Profile", {"relationship_manager": args.rm})
	frappe.destroy()
	if not customers:
		raise SystemExit(f"{args.rm} has no customers on {args.site}")

	server = Web(args.site, workers=2, port=args.port)
	base = server.url
	headers = {"Host": args.site, "Accept": "application/json"}
	try:
		session = requests.Session()
		login = session.post(
			f"{base}/api/method/login", json={"usr": args.rm, "pwd": PASSWORD}, headers=headers
		)
		if login.status_code != 200:
			raise SystemExit(f"login failed: {login.status_code} {login.text[:200]}")

		def timed(path, params):
			started = time.perf_counter()
			response = session.get(f"{base}{path}", params=params, headers=headers)
			elapsed = (time.perf_counter() - started) * 1000
			if response.status_code != 200:
				raise SystemExit(f"{path} {params}: {response.status_code} {response.text[:300]}")
			return elapsed

		lists = {
			"profiles (tier = Mass)": (
				"/api/method/frappe.desk.reportview.get",
				{
					"doctype": "Bank Customer Profile",
					"fields": json.dumps(["name", "customer_name", "tier", "lifecycle_stage", "modified"]),
					"filters": json.dumps([["tier", "=", "Mass"]]),
					"order_by": "modified desc",
					"start": 0,
					"page_length": 20,
					"with_comment_count": 1,
				},
			),
			"need signals (open)": (
				"/api/method/frappe.desk.reportview.get",
				{
					"doctype": "Bank Need Signal",
					"fields": json.dumps(["name", "customer_name", "need_category", "priority", "modified"]),
					"filters": json.dumps([["status", "=", "Open"]]),
					"order_by": "modified desc",
					"start": 0,
					"page_length": 20,
				},
			),
			"visit plans (open, due)": (
				"/api/method/frappe.desk.reportview.get",
				{
					"doctype": "Bank Visit Plan",
					"fields": json.dumps(["name", "customer_name", "contact_kind", "due_date", "modified"]),
					"filters": json.dumps([["status", "=", "Open"]]),
					"order_by": "due_date asc",
					"start": 0,
					"page_length": 20,
				},
			),
		}
		# warm-up calls of each on both workers (start, caches), not counted
		for _ in range(4):
			timed("/api/method/bank_crm.api.customer360.get", {"customer": customers[-1]})
			timed("/api/method/bank_crm.api.workbench.get", {})
			for path, params in lists.values():
				timed(path, params)
		results = {}
		samples = [
			timed("/api/method/bank_crm.api.customer360.get", {"customer": c})
			for c in customers[: args.requests]
		]
		results["customer-360"] = samples
		results["workbench"] = [
			timed("/api/method/bank_crm.api.workbench.get", {}) for _ in range(args.requests)
		]
		for label, (path, params) in lists.items():
			results[f"list: {label}"] = [timed(path, params) for _ in range(args.requests)]
	finally:
		server.stop()
	report = {
		"site": args.site,
		"table_rows": sizes,
		"rm": args.rm,
		"rm_customers": portfolio,
		"requests_each": args.requests,
		"ms": {
			k: {"median": round(statistics.median(v), 1), "p95": round(p95(v), 1), "max": round(max(v), 1)}
			for k, v in results.items()
		},
	}
	print(json.dumps(report, indent=1, ensure_ascii=False))


if __name__ == "__main__":
	main()
