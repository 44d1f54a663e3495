"""The desk users of the load benchmark (``load.py`` runs this with locust, headless).

Relationship managers, branch managers and complaint handlers log in with their passwords, open
the desk (``/app``, whose page carries the CSRF token the desk sends with every write) and then
work as the desk asks the server: the workbench, customer-360s, profile lists paged and
filtered, profile forms, need-signal lists, the RM portfolio report; and they write: record a
contact, act on a need signal, respond to a service request, move a complaint on through the
Workflow. Each write carries a marker of its own (or works on a record no other simulated user
touches), and every write is noted with its answer, so that ``load.py`` can check afterwards
that each one the server accepted is in the database exactly once.

Needs no Frappe: the plan (users, their customers and work pools) comes from ``LOAD_PLAN``; the
samples and writes go to ``LOAD_OUT``; ``LOAD_STAGES`` ("users:seconds,…") shapes the load.
"""

import itertools
import json
import os
import random
import re
import time
import uuid

from locust import HttpUser, LoadTestShape, between, events, task

PLAN = json.load(open(os.environ["LOAD_PLAN"]))
OUT = os.environ["LOAD_OUT"]
STAGES = [tuple(int(x) for x in s.split(":")) for s in os.environ["LOAD_STAGES"].split(",")]
SITE = PLAN["site"]
RUN = PLAN["run"]
SAMPLES: list = []
WRITES: list = []
SEAT_COUNTERS = {role: itertools.count() for role in ("rm", "bm", "handler")}
CSRF = re.compile(r'frappe\.csrf_token\s*=\s*"([^"]+)"')


@events.request.add_listener
def _sample(request_type, name, response_time, response_length, exception, **kwargs):
	SAMPLES.append((round(time.time(), 3), request_type, name, round(response_time, 1), exception is None))


@events.quitting.add_listener
def _save(environment, **kwargs):
	with open(os.path.join(OUT, f"samples-{os.getpid()}.jsonl"), "w") as f:
		for row in SAMPLES:
			f.write(json.dumps(row) + "\n")
	with open(os.path.join(OUT, f"writes-{os.getpid()}.json"), "w") as f:
		json.dump(WRITES, f)


class StagedLoad(LoadTestShape):
	"""``LOAD_STAGES``: so many users for so many seconds, one stage after the other."""

	def tick(self):
		elapsed = self.get_run_time()
		for users, seconds in STAGES:
			if elapsed < seconds:
				return users, 2  # two more staff log in each second, as at the start of a day
			elapsed -= seconds
		return None


def marker() -> str:
	return f"LOAD-{RUN}-{uuid.uuid4().hex[:12]}"


class DeskUser(HttpUser):
	abstract = True
	wait_time = between(2, 6)  # reading the screen between clicks
	role = ""

	def on_start(self):
		# a seat of its own: the plan has a seat per simulated user, with work no other seat has
		seats = PLAN["seats"][self.role]
		self.me = seats[next(SEAT_COUNTERS[self.role]) % len(seats)]
		self.pools = {k: list(v) for k, v in self.me["pools"].items()}
		self.client.headers.update({"Host": SITE, "Accept": "application/json"})
		with self.client.post(
			"/api/method/login",
			json={"usr": self.me["user"], "pwd": PLAN["password"]},
			name="POST login",
			catch_response=True,
		) as r:
			if r.status_code != 200:
				r.failure(f"login {self.me['user']}: {r.status_code}")
				return
		with self.client.get(
			"/app", name="GET /app (desk boot)", headers={"Accept": "text/html"}, catch_response=True
		) as r:
			token = CSRF.search(r.text or "")
			if not token:
				r.failure("no CSRF token in the desk page")
				return
			self.client.headers["X-Frappe-CSRF-Token"] = token.group(1)

	# -- what the desk asks for ----------------------------------------------------------

	def get(self, name, path, **params):
		with self.client.get(path, params=params, name=name, catch_response=True) as r:
			if r.status_code != 200:
				r.failure(f"{r.status_code} {r.text[:200]}")

	def post(self, name, path, kind, target, data, check=None):
		"""A write, noted with its marker/target and whether the server accepted it."""
		ok = None  # no answer yet: a user stopped mid-request at the end of a phase never sees one
		try:
			with self.client.post(path, data=data, name=name, catch_response=True) as r:
				ok = r.status_code == 200 and (check is None or check(r))
				if not ok:
					r.failure(f"{r.status_code} {r.text[:300]}")
		finally:
			WRITES.append({"kind": kind, "target": target, "ok": ok, "user": self.me["user"]})

	def reportview(self, name, doctype, fields, filters, order_by="modified desc", start=0):
		self.get(
			name,
			"/api/method/frappe.desk.reportview.get",
			doctype=doctype,
			fields=json.dumps(fields),
			filters=json.dumps(filters),
			order_by=order_by,
			start=start,
			page_length=20,
			with_comment_count=1,
		)

	def workbench(self):
		self.get("GET workbench", "/api/method/bank_crm.api.workbench.get")

	def customer_360(self):
		self.get(
			"GET customer-360",
			"/api/method/bank_crm.api.customer360.get",
			customer=random.choice(self.me["customers"]),
		)

	def profile_list(self):
		filters = random.choice(
			(
				[["tier", "=", random.choice(PLAN["tiers"])]],
				[["lifecycle_stage", "=", random.choice(("Stable", "Mature", "Churn Risk", "New"))]],
				[["customer_name", "like", f"%{random.choice('0123456789')}%"]],
				[],
			)
		)
		self.reportview(
			"GET profile list",
			"Bank Customer Profile",
			["name", "customer_name", "tier", "lifecycle_stage", "relationship_manager", "modified"],
			filters,
			start=random.choice((0, 0, 20, 40)),
		)

	def profile_form(self):
		self.get(
			"GET profile form",
			"/api/method/frappe.desk.form.load.getdoc",
			doctype="Bank Customer Profile",
			name=random.choice(self.me["profiles"]),
		)

	def signal_list(self):
		self.reportview(
			"GET need-signal list",
			"Bank Need Signal",
			["name", "customer_name", "need_category", "priority", "status", "modified"],
			[["status", "=", "Open"]],
		)


class RelationshipManager(DeskUser):
	weight = 7
	role = "rm"

	@task(5)
	def t_workbench(self):
		self.workbench()

	@task(5)
	def t_360(self):
		self.customer_360()

	@task(4)
	def t_list(self):
		self.profile_list()

	@task(3)
	def t_form(self):
		self.profile_form()

	@task(2)
	def t_signals(self):
		self.signal_list()

	@task(1)
	def record_contact(self):
		mark = marker()
		doc = {
			"doctype": "Bank Interaction",
			"__islocal": 1,
			"name": f"new-bank-interaction-{uuid.uuid4().hex[:8]}",
			"customer": random.choice(self.me["customers"]),
			"interaction_type": "Call",
			"channel": "Phone",
			"status": "Completed",
			"actual_at": time.strftime("%Y-%m-%d %H:%M:%S"),
			"objective": "回访客户近期需求",
			"outcome": "Achieved",
			"outcome_notes": mark,
		}
		self.post(
			"POST record contact",
			"/api/method/frappe.desk.form.save.savedocs",
			"contact",
			mark,
			{"doc": json.dumps(doc), "action": "Save"},
		)

	@task(1)
	def act_on_signal(self):
		if not self.pools.get("signals"):
			return
		signal = self.pools["signals"].pop()
		self.post(
			"POST act on need signal",
			"/api/method/bank_crm.api.insight.act",
			"act",
			signal,
			{"signal": signal},
		)

	@task(1)
	def respond_to_request(self):
		if not self.pools.get("requests"):
			return
		request, mark = self.pools["requests"].pop(), marker()
		self.post(
			"POST respond to service request",
			"/api/method/bank_crm.api.service.respond",
			"respond",
			{"request": request, "marker": mark},
			{"name": request, "message": mark, "channel": "Phone"},
		)


class BranchManager(DeskUser):
	weight = 2
	role = "bm"

	@task(4)
	def t_workbench(self):
		self.workbench()

	@task(3)
	def t_list(self):
		self.profile_list()

	@task(3)
	def t_360(self):
		self.customer_360()

	@task(1)
	def portfolio_report(self):
		today = time.strftime("%Y-%m-%d")
		self.get(
			"GET RM portfolio report",
			"/api/method/frappe.desk.query_report.run",
			report_name="RM Portfolio",
			filters=json.dumps({"from_date": PLAN["month_start"], "to_date": today}),
		)

	@task(1)
	def count_profiles(self):
		self.get("GET profile count", "/api/method/frappe.client.get_count", doctype="Bank Customer Profile")


class ComplaintHandler(DeskUser):
	weight = 1
	role = "handler"

	@task(3)
	def complaint_list(self):
		self.reportview(
			"GET complaint list",
			"Bank Complaint",
			["name", "customer_name", "workflow_state", "regulatory_deadline", "modified"],
			[["workflow_state", "in", ["Registered", "Acknowledged", "Investigating"]]],
		)

	@task(2)
	def complaint_form(self):
		if self.me["complaints"]:
			self.get(
				"GET complaint form",
				"/api/method/frappe.desk.form.load.getdoc",
				doctype="Bank Complaint",
				name=random.choice(self.me["complaints"]),
			)

	@task(2)
	def complaint_step(self):
		"""Acknowledge a registered complaint, later start its investigation (as the desk's
		Workflow buttons do: the document, then the action)."""
		pool = self.pools.get("complaints") or []
		if not pool:
			return
		complaint, action = pool[0]
		with self.client.get(
			"/api/method/frappe.desk.form.load.getdoc",
			params={"doctype": "Bank Complaint", "name": complaint},
			name="GET complaint form",
			catch_response=True,
		) as r:
			if r.status_code != 200:
				r.failure(f"{r.status_code}")
				return
			doc = r.json()["docs"][0]
		pool.pop(0)
		self.post(
			"POST complaint workflow step",
			"/api/method/frappe.model.workflow.apply_workflow",
			"complaint",
			{"complaint": complaint, "action": action},
			{"doc": json.dumps(doc), "action": action},
		)
		if action == "Acknowledge":
			pool.append((complaint, "Start Investigation"))
