"""Benchmark: the bank's busiest hour — desk users under load while ingestion streams and the
nightly jobs run — then a check that every write the users made is in the database exactly once.

Run from the bench's ``sites`` folder with the bench's Python, against the 1,000,000-customer site
of the other benchmarks (demo RMs and branch managers with the demo password; the script adds
complaint handlers, an integration user, and the service requests and complaints they work on).
locust runs in a virtualenv of its own (its Flask and Werkzeug would move Frappe's):

    python3 -m venv ~/locust-env && ~/locust-env/bin/pip install "locust>=2.20"
    cd ~/frappe-bench/sites
    ../env/bin/python ../apps/bank_crm/benchmarks/load.py --site bench.localhost \\
        --locust ~/locust-env/bin/locust

It starts, each on a free port of 127.0.0.1 and checked to be its own (``harness.py``), gunicorn
(``--web-workers``) and RQ workers, then runs three phases, each a headless locust run of
``load_locustfile.py`` (relationship managers, branch managers and complaint handlers, 7:2:1):

1. **steps**: ``--steps`` users (10, 20, … each ``--step-seconds``), to find the step at which the
   95th percentile passes 1 s;
2. **hold**: ``--users`` users for ``--hold-seconds``;
3. **hold with bad input**: the same, while a share (``--fuzz-share``) of the streamed rows are
   bad in the ways the ingestion tests' fuzzing makes them (values that are not numbers, 1e400,
   NaN, nested objects, unknown fields, rows that are not objects, unknown customers);
4. **hold without nightly**: the same as 2 with the nightly jobs not running (ingestion still
   streams), to show what the nightly costs the desk.

Users log in two a second (as staff arrive), and each phase's headline figures are those of its
last two thirds, every user working. During every phase an integration user streams events (``--events-per-second``, in batches) and
snapshots through the bulk REST endpoints, sending one batch in ten twice (a client's retry), and
the nightly re-tiering and planning runs are started again on the workers as soon as the last one
finished. Afterwards it checks: every contact recorded, need signal acted on, service-request
response and complaint step the server accepted is in the database exactly once (and none it
refused); every good streamed row once; no bad row stored, each named in the answer.

Prints one JSON report and the README's Markdown tables (``--out`` keeps the samples).
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from harness import Web, start_workers, stop_all  # noqa: E402

PASSWORD = "Demo@Bank2026"
DOMAIN = "demo.bank-crm.example"
WEIGHTS = {"rm": 7, "bm": 2, "handler": 1}
POOL = {"signals": 6, "requests": 6, "complaints": 4}  # per seat and phase
HANDLERS = 4
NIGHTLY = (
	("bank_crm.bank_segmentation.segmentation.retier_every_customer", "Bank Segmentation Run"),
	("bank_crm.bank_engagement.visit_planning.plan_visits_and_care", "Bank Planning Run"),
)
# the ingestion tests' bad values (tests/test_untrusted_values.py, tests/test_signal_rules.py)
# (only those no check may accept: "３" is a 3 and "" an empty amount, both rightly taken)
BAD_VALUES = ("1e400", "NaN", float("inf"), float("-inf"), {"x": 1}, [1, 2], "abc", "2026-13-45")


def connect(site):
	import frappe

	frappe.init(site=site, sites_path=".")
	frappe.connect()
	frappe.set_user("Administrator")
	return frappe


# -- the plan: who the simulated users are, and the work each may do -----------------------------


def seats_needed(max_users: int) -> dict[str, int]:
	total = sum(WEIGHTS.values())
	return {role: max_users * w // total + 2 for role, w in WEIGHTS.items()}


def prepare(args, phases: int) -> dict:
	"""Users, customers and work pools for ``phases`` locust runs (no seat ever shares work)."""
	frappe = connect(args.site)
	from bank_crm.demo.generator import Staff
	from bank_crm.demo.staff import make_user as make_staff
	from bank_crm.tests.factories import api_token, make_user

	run = f"{int(time.time()) % 10**7}"
	rms = frappe.db.sql_list(
		"""select distinct r.parent from `tabHas Role` r join tabUser u on u.name = r.parent
		where r.role = 'Relationship Manager' and r.parenttype = 'User' and u.enabled = 1
			and u.name like %s order by u.name""",
		(f"%@{DOMAIN}",),
	)
	bms = frappe.db.sql_list(
		"""select distinct r.parent from `tabHas Role` r join tabUser u on u.name = r.parent
		where r.role = 'Branch Manager' and r.parenttype = 'User' and u.enabled = 1
			and u.name like %s order by u.name""",
		(f"%@{DOMAIN}",),
	)
	handlers = [f"load-handler{i}@{DOMAIN}" for i in range(1, HANDLERS + 1)]
	for i, email in enumerate(handlers, 1):
		make_staff(Staff(email, f"投诉专员{i}", "Complaint Handler", "0001"))
	feed = make_user("load-feed", ["Bank CRM Integration"])
	token = api_token(feed)
	frappe.db.set_single_value("Bank CRM Settings", "ingest_calls_per_minute", 100_000)
	frappe.db.commit()

	need = seats_needed(max(max(args.steps), args.users))
	rng = random.Random(int(run))

	def customers_of(rm):
		rows = frappe.db.sql(
			"select name, customer from `tabBank Customer Profile` where relationship_manager = %s limit 2000",
			(rm,),
		)
		rows = rng.sample(list(rows), min(300, len(rows)))
		return [r[1] for r in rows], [r[0] for r in rows]

	rm_data = {rm: customers_of(rm) for rm in rms}
	# open need signals of each RM, split over the seats of every phase
	rm_seats = need["rm"] * phases
	signals = {
		rm: frappe.db.sql_list(
			"select name from `tabBank Need Signal` where status = 'Open' and relationship_manager = %s "
			"order by name limit %s",
			(rm, POOL["signals"] * (rm_seats // len(rms) + 1)),
		)
		for rm in rms
	}
	requests_of = register_requests(frappe, rm_data, POOL["requests"] * (rm_seats // len(rms) + 1), rng)
	complaints = register_complaints(frappe, rm_data, POOL["complaints"] * need["handler"] * phases, rng)

	def bm_customers(bm):
		frappe.set_user(bm)
		rows = frappe.get_list("Bank Customer Profile", fields=["name", "customer"], limit=300)
		frappe.set_user("Administrator")
		return [r.customer for r in rows], [r.name for r in rows]

	bm_data = {bm: bm_customers(bm) for bm in bms}
	month_start = date.today().replace(day=1).isoformat()
	tiers = frappe.get_all("Bank Customer Tier", pluck="name")
	frappe.db.commit()
	frappe.destroy()

	plans = []
	for phase in range(phases):
		seats = {"rm": [], "bm": [], "handler": []}
		for n in range(need["rm"]):
			seat = phase * need["rm"] + n  # over all phases: no two seats share work
			rm, k = rms[seat % len(rms)], seat // len(rms)  # the RM's k-th seat
			seats["rm"].append(
				{
					"user": rm,
					"customers": rm_data[rm][0],
					"profiles": rm_data[rm][1],
					"pools": {
						"signals": signals[rm][k * POOL["signals"] : (k + 1) * POOL["signals"]],
						"requests": requests_of[rm][k * POOL["requests"] : (k + 1) * POOL["requests"]],
					},
					"complaints": [],
				}
			)
		for n in range(need["bm"]):
			bm = bms[n % len(bms)]
			seats["bm"].append(
				{
					"user": bm,
					"customers": bm_data[bm][0],
					"profiles": bm_data[bm][1],
					"pools": {},
					"complaints": [],
				}
			)
		for n in range(need["handler"]):
			k = phase * need["handler"] + n
			mine = complaints[k * POOL["complaints"] : (k + 1) * POOL["complaints"]]
			seats["handler"].append(
				{
					"user": handlers[n % len(handlers)],
					"customers": [],
					"profiles": [],
					"pools": {"complaints": [[c, "Acknowledge"] for c in mine]},
					"complaints": complaints,
				}
			)
		plans.append(
			{
				"site": args.site,
				"run": run,
				"password": PASSWORD,
				"tiers": tiers,
				"month_start": month_start,
				"seats": seats,
			}
		)
	return {"run": run, "plans": plans, "token": token, "customers": [c for c, _ in rm_data.values()]}


def register_requests(frappe, rm_data, per_rm: int, rng) -> dict[str, list[str]]:
	"""Open inquiries of each RM's customers, registered by the RM as the desk would."""
	out = {}
	for rm, (customers, _profiles) in rm_data.items():
		frappe.set_user(rm)
		out[rm] = []
		for _ in range(per_rm):
			doc = frappe.get_doc(
				{
					"doctype": "Bank Service Request",
					"customer": rng.choice(customers),
					"request_type": "Inquiry",
					"urgency": "Normal",
					"channel": "Phone",
					"subject": "咨询大额存单利率",
					"description": "压力测试",
				}
			).insert()
			out[rm].append(doc.name)
		frappe.db.commit()
	frappe.set_user("Administrator")
	return out


def register_complaints(frappe, rm_data, count: int, rng) -> list[str]:
	"""Complaints (each through its service request, as registered at the counter)."""
	out = []
	rms = list(rm_data)
	for i in range(count):
		rm = rms[i % len(rms)]
		frappe.set_user(rm)
		request = frappe.get_doc(
			{
				"doctype": "Bank Service Request",
				"customer": rng.choice(rm_data[rm][0]),
				"request_type": "Complaint",
				"urgency": "Normal",
				"channel": "Branch Counter",
				"subject": "信用卡年费未经同意扣收",
				"description": "压力测试",
			}
		).insert()
		out.append(request.complaint)
	frappe.db.commit()
	frappe.set_user("Administrator")
	return out


# -- what runs beside the desk users ------------------------------------------------------------


class Stream(threading.Thread):
	"""The core systems: events and snapshots in batches over the bulk endpoints, one batch in
	ten sent twice; with ``fuzz`` a share of each batch is bad rows."""

	def __init__(self, url, site, token, customers, run, per_second, fuzz, phase, stop):
		super().__init__(daemon=True)
		self.url, self.run_id, self.per_second, self.fuzz, self.phase, self.stop = (
			url,
			run,
			per_second,
			fuzz,
			phase,
			stop,
		)
		self.customers = [c for cs in customers for c in cs]
		self.headers = {"Authorization": token, "Host": site, "Content-Type": "application/json"}
		self.rng = random.Random(phase)
		self.good_events: set[str] = set()
		self.bad_events: set[str] = set()
		self.good_snapshots: set[str] = set()
		self.bad_snapshot_customers: set[str] = set()
		self.batches = self.retries = self.failures = 0
		self.unreported_bad = 0  # bad rows the answer did not name
		self.retry_inserted = 0  # rows a retried batch inserted again (must stay 0)
		self.latencies: list[float] = []
		self.seq = 0
		self.bad_date = (date(2001, 1, 1) + timedelta(days=int(run) % 5000)).isoformat()

	def bad(self, row: dict, key: str) -> dict | list | str:
		kind = self.rng.randrange(4)
		if kind == 0:
			return {**row, key: self.rng.choice(BAD_VALUES)}
		if kind == 1:
			return {**row, "unknown_field": 1}
		if kind == 2:
			return {**row, "customer": "NO-SUCH-CUSTOMER"}
		return self.rng.choice(([row], "row", 42, None))

	def post(self, path, rows, **extra):
		started = time.perf_counter()
		body = json.dumps({"rows": rows, **extra})
		r = requests.post(self.url + path, data=body, headers=self.headers, timeout=120)
		self.latencies.append((time.perf_counter() - started) * 1000)
		if r.status_code != 200:
			self.failures += 1
			return None
		return r.json()["message"]

	def events(self, n):
		rows, bad = [], set()
		now = time.strftime("%Y-%m-%d %H:%M:%S")
		for i in range(n):
			self.seq += 1
			row = {
				"external_id": f"LOADEV-{self.run_id}-{self.phase}-{self.seq}",
				"customer": self.rng.choice(self.customers),
				"event_type": self.rng.choice(
					("App Login", "FX Rate Query", "Large Transfer Out", "Salary Credit")
				),
				"event_time": now,
				"amount": round(self.rng.uniform(10, 90000), 2),
				"currency": "CNY",
				"channel": "Mobile App",
			}
			if self.fuzz and self.rng.random() < self.fuzz:
				row["external_id"] = row["external_id"].replace("LOADEV", "LOADBAD")
				rows.append(self.bad(row, self.rng.choice(("amount", "event_time", "event_type"))))
				bad.add(i)
				self.bad_events.add(row["external_id"])
			else:
				rows.append(row)
				self.good_events.add(row["external_id"])
		answer = self.post("/api/method/bank_crm.api.insight.events", rows)
		self.check(answer, bad)
		if answer is not None and self.rng.random() < 0.1:  # the client did not see the answer: again
			self.retries += 1
			again = self.post("/api/method/bank_crm.api.insight.events", rows)
			if again is not None:
				self.retry_inserted += again.get("inserted", 0)
				self.check(again, bad)

	def snapshots(self, n):
		rows, bad = [], set()
		today = date.today().isoformat()
		# one row per customer: a repeat of a customer and date within a batch is refused, rightly
		for i, customer in enumerate(self.rng.sample(self.customers, n)):
			row = {
				"customer": customer,
				"as_of_date": today,
				"deposit_balance": round(self.rng.uniform(0, 500000), 2),
				"loan_balance": 0,
				"aum": round(self.rng.uniform(0, 900000), 2),
				"fee_income": round(self.rng.uniform(0, 500), 2),
				"composite_yield": 2.1,
				"products_held": self.rng.randint(1, 5),
				"source": "load",
			}
			if self.fuzz and self.rng.random() < self.fuzz:
				row["as_of_date"] = self.bad_date
				rows.append(self.bad(row, self.rng.choice(("deposit_balance", "aum"))))
				bad.add(i)
				self.bad_snapshot_customers.add(customer)
			else:
				rows.append(row)
				self.good_snapshots.add(customer)
		# today's figures again for a customer: a correction, sent as one (replace)
		self.check(self.post("/api/method/bank_crm.api.ingest.snapshots", rows, replace=True), bad)

	def check(self, answer, bad: set[int]):
		self.batches += 1
		if answer is None:
			return
		named = {e["index"] for e in answer.get("errors", [])}
		self.unreported_bad += len(bad - named)
		self.unreported_bad += len(named - bad)  # a good row refused counts as wrong too

	def run(self):
		tick = 0
		while not self.stop.is_set():
			started = time.monotonic()
			try:
				self.events(self.per_second * 2)
				if tick % 5 == 0:
					self.snapshots(200)
			except requests.RequestException:
				self.failures += 1
			tick += 1
			self.stop.wait(max(0.0, 2 - (time.monotonic() - started)))


def nightly_loop(site: str, seconds: float):
	"""The nightly re-tiering and planning (with the day's care events) started as the scheduler
	starts them (their Scheduled Job Types, on the long queue), each again as soon as its last
	start has finished, until ``seconds`` are up; prints each finished run as a JSON line. Runs
	in a process of its own."""
	frappe = connect(site)
	end = time.monotonic() + seconds
	jobs = {run_doctype: frappe.get_doc("Scheduled Job Type", {"method": m}) for m, run_doctype in NIGHTLY}
	started: dict[str, tuple] = {}
	while time.monotonic() < end:
		frappe.db.commit()  # a fresh snapshot
		for run_doctype, job_type in jobs.items():
			if run_doctype in started:
				mark, at = started[run_doctype]
				if job_type.is_job_in_queue():  # the scheduled job (and its inline steps) still runs
					continue
				row = frappe.db.sql(
					f"select name, status, duration_seconds from `tab{run_doctype}` where creation > %s "
					"order by creation desc limit 1",
					(mark,),
				)
				if row and row[0][1] not in ("Completed", "Failed"):
					continue  # its shards still work on the long queue
				print(
					json.dumps(
						{
							"run": row[0][0] if row else None,
							"doctype": run_doctype,
							"status": row[0][1] if row else "no run",
							"run_seconds": row[0][2] if row else None,
							"job_seconds": round(time.monotonic() - at, 1),
						}
					),
					flush=True,
				)
			mark = frappe.db.sql(f"select max(creation) from `tab{run_doctype}`")[0][0] or "2000-01-01"
			job_type.enqueue(force=True)
			frappe.db.commit()
			started[run_doctype] = (mark, time.monotonic())
		time.sleep(3)
	frappe.destroy()


# -- one phase -----------------------------------------------------------------------------------


def run_phase(args, name, plan, stages, web, prepared, fuzz, phase_no, out: Path) -> dict:
	phase_dir = out / name
	phase_dir.mkdir(parents=True, exist_ok=True)
	(phase_dir / "plan.json").write_text(json.dumps(plan))
	seconds = sum(s for _, s in stages)
	stop = threading.Event()
	stream = Stream(
		web.url,
		args.site,
		prepared["token"],
		prepared["customers"],
		prepared["run"],
		args.events_per_second,
		fuzz,
		phase_no,
		stop,
	)
	nightly = subprocess.Popen(
		[sys.executable, __file__, "--nightly-loop", "--site", args.site, "--seconds", str(seconds)]
		if "without nightly" not in name
		else ["true"],
		stdout=subprocess.PIPE,
		text=True,
	)
	stream.start()
	started = time.time()
	env = {
		"LOAD_PLAN": str(phase_dir / "plan.json"),
		"LOAD_OUT": str(phase_dir),
		"LOAD_STAGES": ",".join(f"{u}:{s}" for u, s in stages),
		"PATH": "/usr/bin:/bin",
	}
	locust = subprocess.run(
		[
			args.locust,
			"-f",
			str(HERE / "load_locustfile.py"),
			"--headless",
			"--host",
			web.url,
			"--only-summary",
			"--loglevel",
			"WARNING",
		],
		env=env,
		capture_output=True,
		text=True,
	)
	stop.set()
	stream.join(timeout=120)
	nightly_out, _ = nightly.communicate(timeout=120)
	samples = [json.loads(line) for f in phase_dir.glob("samples-*.jsonl") for line in f.open()]
	writes = [w for f in phase_dir.glob("writes-*.json") for w in json.load(f.open())]
	if not samples:
		raise SystemExit(f"locust recorded nothing ({locust.returncode}):\n{locust.stderr[-3000:]}")
	return {
		"name": name,
		"stages": stages,
		"fuzz": fuzz,
		"started": started,
		"samples": samples,
		"writes": writes,
		"stream": stream,
		"nightly": [json.loads(line) for line in nightly_out.splitlines() if line.startswith("{")],
	}


# -- figures -------------------------------------------------------------------------------------


def pct(values, p):
	if not values:
		return None
	ordered = sorted(values)
	return round(ordered[min(len(ordered) - 1, max(0, int(round(p / 100 * len(ordered))) - 1))], 1)


def stats(samples, seconds) -> dict:
	times = [s[3] for s in samples]
	return {
		"requests": len(samples),
		"per_second": round(len(samples) / seconds, 2) if seconds else None,
		"errors": sum(1 for s in samples if not s[4]),
		"p50": pct(times, 50),
		"p95": pct(times, 95),
		"p99": pct(times, 99),
		"max": round(max(times), 1) if times else None,
	}


def measured(samples):
	"""The desk's requests (not the logins and desk boots of users starting)."""
	return [s for s in samples if s[2] not in ("POST login", "GET /app (desk boot)")]


def summarise(result) -> dict:
	samples = measured(result["samples"])
	t0 = result["started"]
	out = {"by_request": {}, "by_stage": []}
	seconds = sum(s for _, s in result["stages"])
	for name in sorted({s[2] for s in samples}):
		out["by_request"][name] = stats([s for s in samples if s[2] == name], seconds)
	# the headline figures: once every user of the last stage is logged in and working (its
	# last two thirds), as the by-stage figures below
	users, secs = result["stages"][-1]
	lo = t0 + seconds - secs * 2 / 3
	steady = [s for s in samples if s[0] >= lo]
	out["reads"] = stats([s for s in steady if s[1] == "GET"], secs * 2 / 3)
	out["writes"] = stats([s for s in steady if s[1] == "POST"], secs * 2 / 3)
	out["all"] = stats(steady, secs * 2 / 3)
	offset = 0
	for users, secs in result["stages"]:
		# the stage's last two thirds: users of the stage all logged in and working
		lo, hi = t0 + offset + secs / 3, t0 + offset + secs
		part = [s for s in samples if lo <= s[0] < hi]
		out["by_stage"].append(
			{
				"users": users,
				**stats(part, secs * 2 / 3),
				"p95_reads": pct([s[3] for s in part if s[1] == "GET"], 95),
				"p95_writes": pct([s[3] for s in part if s[1] == "POST"], 95),
			}
		)
		offset += secs
	over = next((s for s in out["by_stage"] if (s["p95"] or 0) > 1000), None)
	out["p95_passes_1s_at_users"] = over["users"] if over else None
	stream = result["stream"]
	out["stream"] = {
		"batches": stream.batches,
		"retried_batches": stream.retries,
		"failed_batches": stream.failures,
		"good_events_sent": len(stream.good_events),
		"bad_rows_sent": len(stream.bad_events) + len(stream.bad_snapshot_customers),
		"bad_or_good_rows_misreported": stream.unreported_bad,
		"rows_a_retry_inserted_again": stream.retry_inserted,
		"p50_ms": pct(stream.latencies, 50),
		"p95_ms": pct(stream.latencies, 95),
	}
	out["nightly_rounds"] = result["nightly"]
	return out


def verify(site, results, run) -> dict:
	"""Every write the server accepted is stored once; none it refused; streamed rows likewise."""
	frappe = connect(site)
	report = defaultdict(
		lambda: {
			"accepted": 0,
			"refused": 0,
			"missing": 0,
			"twice": 0,
			"refused_but_stored": 0,
			"unanswered": 0,  # in flight when the phase ended: the user never saw the answer
			"unanswered_stored": 0,
			"unanswered_twice": 0,
		}
	)
	for result in results:
		steps_ok = defaultdict(int)
		for w in result["writes"]:
			kind = w["kind"]
			r = report[kind]
			r["unanswered" if w["ok"] is None else "accepted" if w["ok"] else "refused"] += 1
			if kind == "contact":
				n = frappe.db.count("Bank Interaction", {"outcome_notes": w["target"]})
			elif kind == "respond":
				n = frappe.db.count("Bank Request Update", {"message": w["target"]["marker"]})
			elif kind == "act":
				n = int(
					frappe.db.get_value(
						"Bank Need Signal", w["target"], ["status", "closed_by"], as_dict=True
					)
					== {"status": "Acted", "closed_by": w["user"]}
				)
			else:
				if w["ok"]:
					steps_ok[w["target"]["complaint"]] += 1
				continue
			if w["ok"] is None:
				r["unanswered_stored"] += n > 0
				r["unanswered_twice"] += n > 1
			elif w["ok"]:
				r["missing"] += n == 0
				r["twice"] += n > 1
			else:
				r["refused_but_stored"] += n > 0
		for complaint, ok in steps_ok.items():
			n = frappe.db.count(
				"Comment",
				{
					"reference_doctype": "Bank Complaint",
					"reference_name": complaint,
					"comment_type": "Workflow",
				},
			)
			report["complaint"]["missing"] += n < ok
			report["complaint"]["twice"] += n > ok
	stream = {"good_events": 0, "stored": 0, "missing": 0, "bad_stored": 0, "bad_snapshots_stored": 0}
	for result in results:
		s = result["stream"]
		stream["good_events"] += len(s.good_events)
		stream["bad_stored"] += frappe.db.count(
			"Bank Activity Event", {"external_id": ("like", f"LOADBAD-{run}-{result['stream'].phase}-%")}
		)
		stored = frappe.db.count(
			"Bank Activity Event", {"external_id": ("like", f"LOADEV-{run}-{result['stream'].phase}-%")}
		)
		stream["stored"] += stored
		stream["missing"] += len(s.good_events) - stored
		stream["bad_snapshots_stored"] += frappe.db.count(
			"Bank Financial Snapshot",
			{"as_of_date": s.bad_date, "customer": ("in", list(s.bad_snapshot_customers) or [""])},
		)
	frappe.destroy()
	return {"writes": dict(report), "stream": stream}


def markdown(summaries: dict, verified: dict) -> str:
	lines = []
	steps = summaries.get("steps")
	if steps:
		lines += [
			"| Users | Requests/s | p50 ms | p95 ms | p99 ms | p95 reads | p95 writes | Errors |",
			"|---|---|---|---|---|---|---|---|",
		]
		for s in steps["by_stage"]:
			lines.append(
				f"| {s['users']} | {s['per_second']} | {s['p50']} | {s['p95']} | {s['p99']} | {s['p95_reads']} | {s['p95_writes']} | {s['errors']} |"
			)
		lines.append("")
	for name in [n for n in summaries if n != "steps"]:
		h = summaries.get(name)
		if not h:
			continue
		lines += [
			f"**{name}**",
			"",
			"| Request | Count | Requests/s | p50 ms | p95 ms | p99 ms | Errors |",
			"|---|---|---|---|---|---|---|",
		]
		for req, s in h["by_request"].items():
			lines.append(
				f"| {req} | {s['requests']} | {s['per_second']} | {s['p50']} | {s['p95']} | {s['p99']} | {s['errors']} |"
			)
		for label in ("reads", "writes", "all"):
			s = h[label]
			lines.append(
				f"| **{label}** | {s['requests']} | {s['per_second']} | {s['p50']} | {s['p95']} | {s['p99']} | {s['errors']} |"
			)
		lines.append("")
	lines.append("Writes: " + ", ".join(f"{k}: {v}" for k, v in verified["writes"].items()))
	lines.append("Stream: " + json.dumps(verified["stream"]))
	return "\n".join(lines)


def main():
	parser = argparse.ArgumentParser()
	parser.add_argument("--site", required=True)
	parser.add_argument("--locust", default="locust")
	parser.add_argument("--users", type=int, default=50)
	parser.add_argument("--steps", default="10,20,30,40,50,60,80,100")
	parser.add_argument("--step-seconds", type=int, default=60)
	parser.add_argument("--hold-seconds", type=int, default=180)
	parser.add_argument("--events-per-second", type=int, default=100)
	parser.add_argument("--fuzz-share", type=float, default=0.05)
	parser.add_argument("--web-workers", type=int, default=4)
	parser.add_argument("--rq-workers", type=int, default=2)
	parser.add_argument("--phases", default="steps,hold,hold with bad input,hold without nightly")
	parser.add_argument("--out", default=None)
	parser.add_argument("--nightly-loop", action="store_true", help=argparse.SUPPRESS)
	parser.add_argument("--seconds", type=float, default=0, help=argparse.SUPPRESS)
	args = parser.parse_args()
	if args.nightly_loop:
		return nightly_loop(args.site, args.seconds)
	args.steps = [int(x) for x in args.steps.split(",")]
	phases = [p.strip() for p in args.phases.split(",")]
	out = Path(args.out or tempfile.mkdtemp(prefix="bank_crm-load-"))
	out.mkdir(parents=True, exist_ok=True)

	started = time.perf_counter()
	prepared = prepare(args, len(phases))
	prepare_seconds = round(time.perf_counter() - started, 1)
	log = open(out / "servers.log", "ab")
	web = Web(args.site, workers=args.web_workers, log=log)
	workers = start_workers("long,default,short", args.rq_workers, log=log)
	results, summaries = [], {}
	try:
		for n, name in enumerate(phases):
			if name == "steps":
				stages = [(u, args.step_seconds) for u in args.steps]
			else:
				stages = [(args.users, args.hold_seconds)]
			fuzz = args.fuzz_share if "bad input" in name else 0.0
			result = run_phase(args, name, prepared["plans"][n], stages, web, prepared, fuzz, n, out)
			results.append(result)
			summaries[name] = summarise(result)
			print(
				json.dumps(
					{
						name: {
							k: summaries[name][k]
							for k in ("all", "reads", "writes", "p95_passes_1s_at_users")
						}
					}
				),
				flush=True,
			)
	finally:
		web.stop()
		stop_all(workers)
	verified = verify(args.site, results, prepared["run"])
	report = {
		"site": args.site,
		"run": prepared["run"],
		"prepare_seconds": prepare_seconds,
		"web_workers": args.web_workers,
		"rq_workers": args.rq_workers,
		"phases": summaries,
		"verified": verified,
		"samples": str(out),
	}
	(out / "report.json").write_text(json.dumps(report, indent=1, default=str))
	print(json.dumps(report, indent=1, default=str))
	print(markdown(summaries, verified))


if __name__ == "__main__":
	main()
