"""Behaviour data in, needs out — on a real site, over REST as the real users.

Events and holdings posted by an integration user (idempotent, conflicts, per-row errors);
detection (evidence, reruns, cooldown, a crashed run finished by the next, no overlap); the
RM's follow-up (acted with a contact, dismissed, an ERPNext Opportunity); row-level access;
the purge of old events; holdings' maturities as care events.
"""

import json
from datetime import timedelta
from unittest.mock import patch

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import add_days, getdate, now_datetime

from bank_crm.bank_insight import activity_ingestion as activity
from bank_crm.bank_insight import need_detection as detection
from bank_crm.permissions import clear_scope_cache
from bank_crm.tests.factories import (
	Api,
	api_token,
	individual,
	make_branch,
	make_customer,
	make_profile,
	make_user,
	server_messages,
)
from bank_crm.utils.bulk import lock_name

EVENTS_URL = "/api/method/bank_crm.api.insight.events"
HOLDINGS_URL = "/api/method/bank_crm.api.insight.holdings"
SIGNAL = "Bank Need Signal"
FX_RULE = "Frequent FX Rate Queries"


class TestInsight(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		frappe.set_user("Administrator")
		cls.bot = make_user("ins-bot", ["Bank CRM Integration"])
		cls.rm = make_user("ins-rm", ["Relationship Manager"], language="zh")
		cls.other_rm = make_user("ins-rm-2", ["Relationship Manager"])
		make_branch(
			"T-INS", members=[(cls.rm, "Relationship Manager"), (cls.other_rm, "Relationship Manager")]
		)
		tag = frappe.generate_hash(length=6)
		cls.mine = make_customer(f"行为测试 A {tag}", rm=cls.rm)
		cls.theirs = make_customer(f"行为测试 B {tag}", rm=cls.other_rm)
		cls.profiles = [
			make_profile(individual(cls.mine, cls.rm)).name,
			make_profile(individual(cls.theirs, cls.other_rm)).name,
		]
		for code, category in (("T-FX-ACC", "FX"), ("T-WM-90", "Wealth")):
			if not frappe.db.exists("Bank Product", code):
				frappe.get_doc(
					{
						"doctype": "Bank Product",
						"product_code": code,
						"product_name": code,
						"category": category,
						"risk_level": "R2",
					}
				).insert(ignore_permissions=True)
		cls.tokens = {u: api_token(u) for u in (cls.bot, cls.rm, cls.other_rm)}
		cls.tag = tag
		cls.saved_lag = frappe.db.get_single_value("Bank Insight Settings", "detection_lag_seconds")
		frappe.db.set_single_value("Bank Insight Settings", "detection_lag_seconds", 0)
		frappe.db.commit()
		clear_scope_cache()

	@classmethod
	def tearDownClass(cls):
		frappe.set_user("Administrator")
		from bank_crm.utils.traces import remove_traces

		customers = [cls.mine, cls.theirs]
		signals = frappe.get_all(SIGNAL, {"customer": ("in", customers)}, pluck="name")
		remove_traces([SIGNAL], signals)
		for doctype in (SIGNAL, activity.HOLDING, activity.EVENT, "Bank Interaction", "Bank Care Event"):
			frappe.db.delete(doctype, {"customer": ("in", customers)})
		opportunities = frappe.get_all("Opportunity", {"party_name": ("in", customers)}, pluck="name")
		if opportunities:
			remove_traces(["Opportunity"], opportunities)
			frappe.db.delete("Opportunity", {"name": ("in", opportunities)})
		remove_traces(["Bank Customer Profile"], cls.profiles)
		frappe.db.delete("__Auth", {"doctype": "Bank Customer Profile", "name": ("in", cls.profiles)})
		frappe.db.delete("Bank Customer Profile", {"name": ("in", cls.profiles)})
		remove_traces(["Customer"], customers)
		frappe.db.delete("Customer", {"name": ("in", customers)})
		frappe.db.set_single_value("Bank Insight Settings", "detection_lag_seconds", cls.saved_lag)
		frappe.db.commit()
		super().tearDownClass()

	def setUp(self):
		frappe.cache.delete_keys("rl:")

	def tearDown(self):
		frappe.db.rollback()
		for doctype in (SIGNAL, activity.HOLDING, activity.EVENT):
			frappe.db.delete(doctype, {"customer": ("in", [self.mine, self.theirs])})
		frappe.db.delete("ToDo", {"reference_type": SIGNAL, "allocated_to": ("in", [self.rm, self.other_rm])})
		frappe.db.commit()

	# -- helpers -------------------------------------------------------------------------------
	def post(self, url, data, user=None):
		response = Api(self.tokens[user or self.bot]).post(url, data)
		frappe.db.rollback()  # see what the request committed
		return response

	def fx(self, external_id, customer=None, days_ago=1, **values):
		at = now_datetime() - timedelta(days=days_ago)
		return {
			"external_id": f"{self.tag}-{external_id}",
			"customer": customer or self.mine,
			"event_type": "FX Rate Query",
			"event_time": at.replace(microsecond=0).isoformat(sep=" "),
			"channel": "Mobile App",
			**values,
		}

	def detect(self):
		name = detection.detect("On Demand", now=now_datetime())
		frappe.db.rollback()
		return frappe.get_doc("Bank Signal Run", name)

	def open_signals(self, customer=None):
		return frappe.get_all(
			SIGNAL,
			{"customer": customer or self.mine, "status": "Open", "rule": FX_RULE},
			["name", "evidence", "todo"],
		)

	# -- ingestion ---------------------------------------------------------------------------------
	def test_events_are_stored_once_and_bad_rows_named_while_good_rows_stay(self):
		rows = [
			self.fx("1"),
			self.fx("2", amount=10, currency="USD"),
			self.fx("3", event_type="Telepathy"),
			self.fx("4", customer="NO-SUCH"),
			self.fx("5", days_ago=-2),  # two days ahead
			self.fx("6", currency="XYZ", amount=1),
			self.fx("7", amount="1e400", currency="CNY"),
			{"external_id": f"{self.tag}-8", "customer": self.mine},
		]
		first = self.post(EVENTS_URL, {"rows": rows, "source": "test-core"})
		self.assertEqual(first.status_code, 200, first.text)
		result = first.json["message"]
		self.assertEqual(
			(result["received"], result["inserted"], result["duplicate"], result["rejected"]), (8, 2, 0, 6)
		)
		fields = {(e["index"], e["field"]) for e in result["errors"]}
		self.assertTrue(
			{
				(2, "event_type"),
				(3, "customer"),
				(4, "event_time"),
				(5, "currency"),
				(6, "amount"),
				(7, "event_type"),
			}
			<= fields,
			fields,
		)
		again = self.post(EVENTS_URL, {"rows": rows[:2], "source": "test-core"}).json["message"]
		self.assertEqual((again["inserted"], again["duplicate"], again["rejected"]), (0, 2, 0))
		conflict = self.post(
			# the first row as sent, with another channel: a second call to fx() could cross a second
			EVENTS_URL,
			{"rows": [{**rows[0], "channel": "Branch"}], "source": "test-core"},
		).json["message"]
		self.assertEqual((conflict["inserted"], conflict["rejected"]), (0, 1))
		self.assertEqual(conflict["errors"][0]["field"], "channel")
		self.assertIn("Mobile App", conflict["errors"][0]["reason"])
		self.assertIn("Branch", conflict["errors"][0]["reason"])
		self.assertEqual(frappe.db.count(activity.EVENT, {"customer": self.mine}), 2)

	def test_errors_read_in_the_callers_language(self):
		api = Api.session(self.rm)
		response = api.post(EVENTS_URL, {"rows": [self.fx("x")]})
		self.assertEqual(response.status_code, 403)  # an RM does not load events
		frappe.db.set_value("User", self.bot, "language", "zh")
		frappe.db.commit()
		try:
			result = self.post(EVENTS_URL, {"rows": [self.fx("9", event_type="Telepathy")]}).json["message"]
			self.assertIn("不是", result["errors"][0]["reason"])
		finally:
			frappe.db.set_value("User", self.bot, "language", "en")
			frappe.db.commit()

	def test_data_import_path_checks_like_the_endpoint(self):
		def doc(**values):
			row = {**self.fx("di-1"), "source": "import", **values}
			return frappe.get_doc({"doctype": activity.EVENT, **row})

		with self.assertRaises(frappe.ValidationError):
			doc(currency="RMB", amount=5).insert()
		first = doc().insert()
		self.assertEqual(first.name[:2], "EV")
		with self.assertRaises(frappe.DuplicateEntryError):
			doc().insert()  # the same event again
		with self.assertRaises(frappe.ValidationError) as conflict:
			doc(channel="Branch").insert()
		self.assertIn("Branch", str(conflict.exception))
		frappe.db.rollback()

	def test_holdings_replace_what_is_on_file(self):
		row = {
			"customer": self.mine,
			"product": "T-WM-90",
			"opened_on": str(add_days(getdate(), -60)),
			"amount": 50000,
		}
		first = self.post(HOLDINGS_URL, {"rows": [row, {**row, "customer": "NO-SUCH"}]}).json["message"]
		self.assertEqual((first["inserted"], first["rejected"]), (1, 1))
		same = self.post(HOLDINGS_URL, {"rows": [row]}).json["message"]
		self.assertEqual((same["inserted"], same["unchanged"], same["replaced"]), (0, 1, 0))
		changed = self.post(HOLDINGS_URL, {"rows": [{**row, "amount": 80000, "status": "Matured"}]}).json[
			"message"
		]
		self.assertEqual(changed["replaced"], 1)
		stored = frappe.get_all(activity.HOLDING, {"customer": self.mine}, ["amount", "status"])
		self.assertEqual([(s.amount, s.status) for s in stored], [(80000, "Matured")])

	# -- detection ---------------------------------------------------------------------------------
	def test_three_fx_queries_raise_one_signal_with_evidence_and_a_task_in_the_rms_language(self):
		self.post(EVENTS_URL, {"rows": [self.fx(str(i), days_ago=i + 1) for i in range(3)], "source": "t"})
		run = self.detect()
		self.assertEqual(run.status, "Completed", run.errors)
		self.assertGreaterEqual(run.events_scanned, 3)
		found = self.open_signals()
		self.assertEqual(len(found), 1)
		evidence = json.loads(found[0].evidence)
		self.assertEqual((evidence["value"], evidence["event_count"], len(evidence["events"])), (3, 3, 3))
		todo = frappe.get_doc("ToDo", found[0].todo)
		self.assertEqual(todo.allocated_to, self.rm)
		self.assertIn("客户需求", todo.description)  # the RM reads Chinese
		self.detect()
		self.post(EVENTS_URL, {"rows": [self.fx("late", days_ago=0)], "source": "t"})
		self.detect()
		self.assertEqual(len(self.open_signals()), 1, "no second open signal for the same customer and rule")

	def test_a_rules_product_is_suggested_only_within_the_customers_risk_level(self):
		"""Suitability: the FX rule suggests an R4 product; the RM's customer has no assessment
		(nothing above R1), the other RM's customer is C5 — only the second gets the product."""
		if not frappe.db.exists("Bank Product", "T-FX-R4"):
			frappe.get_doc(
				{
					"doctype": "Bank Product",
					"product_code": "T-FX-R4",
					"product_name": "T-FX-R4",
					"category": "FX",
					"risk_level": "R4",
				}
			).insert(ignore_permissions=True)
		frappe.db.set_value("Bank Need Rule", FX_RULE, "suggested_product", "T-FX-R4")
		frappe.db.set_value(
			"Bank Customer Profile",
			self.profiles[1],
			{
				"risk_tolerance": "C5",
				"risk_assessment_date": getdate(),
				"risk_assessment_expires_on": add_days(getdate(), 365),
			},
		)
		frappe.db.commit()
		try:
			rows = [self.fx(f"s{i}", days_ago=i + 1) for i in range(3)]
			rows += [self.fx(f"t{i}", customer=self.theirs, days_ago=i + 1) for i in range(3)]
			self.post(EVENTS_URL, {"rows": rows, "source": "t"})
			self.detect()
			mine = frappe.get_all(
				SIGNAL, {"customer": self.mine, "rule": FX_RULE}, ["suggested_product", "suitability_note"]
			)
			theirs = frappe.get_all(
				SIGNAL, {"customer": self.theirs, "rule": FX_RULE}, ["suggested_product", "suitability_note"]
			)
			self.assertEqual(len(mine), 1)
			self.assertIsNone(mine[0].suggested_product)
			self.assertIn("T-FX-R4", mine[0].suitability_note)
			self.assertIn("风险评估", mine[0].suitability_note)  # the RM reads Chinese
			self.assertEqual((theirs[0].suggested_product, theirs[0].suitability_note), ("T-FX-R4", None))
		finally:
			frappe.db.set_value("Bank Need Rule", FX_RULE, "suggested_product", None)
			frappe.db.set_value(
				"Bank Customer Profile",
				self.profiles[1],
				{"risk_tolerance": None, "risk_assessment_date": None, "risk_assessment_expires_on": None},
			)
			frappe.db.commit()

	def test_holding_an_fx_product_means_no_cross_border_need(self):
		holding = {
			"customer": self.mine,
			"product": "T-FX-ACC",
			"opened_on": str(add_days(getdate(), -10)),
			"amount": 1000,
		}
		self.post(HOLDINGS_URL, {"rows": [holding]})
		self.post(EVENTS_URL, {"rows": [self.fx(str(i), days_ago=i + 1) for i in range(4)], "source": "t"})
		self.detect()
		self.assertEqual(self.open_signals(), [])

	def test_cooldown_after_a_dismissal(self):
		self.post(EVENTS_URL, {"rows": [self.fx(str(i), days_ago=i + 1) for i in range(3)], "source": "t"})
		self.detect()
		signal = self.open_signals()[0].name
		self.assertEqual(
			self.post(
				"/api/method/bank_crm.api.insight.dismiss", {"signal": signal, "reason": "无需求"}, self.rm
			).status_code,
			200,
		)
		self.post(EVENTS_URL, {"rows": [self.fx("more", days_ago=0)], "source": "t"})
		self.detect()
		self.assertEqual(
			frappe.db.count(SIGNAL, {"customer": self.mine, "rule": FX_RULE}), 1, "inside the 30-day cooldown"
		)

	def test_a_crashed_run_is_finished_by_the_next_without_doubles_or_gaps(self):
		self.post(EVENTS_URL, {"rows": [self.fx(f"m{i}", days_ago=i + 1) for i in range(3)], "source": "t"})
		self.post(
			EVENTS_URL,
			{
				"rows": [self.fx(f"t{i}", customer=self.theirs, days_ago=i + 1) for i in range(3)],
				"source": "t",
			},
		)
		before = detection._watermark()
		real = detection._evaluate
		calls = []

		def crash_after_first_batch(*args, **kwargs):
			calls.append(1)
			if len(calls) > 1:
				raise RuntimeError("worker killed")
			return real(*args, **kwargs)

		frappe.db.set_single_value("Bank Insight Settings", "detection_batch_size", 1)
		frappe.db.commit()
		try:
			with patch.object(detection, "_evaluate", side_effect=crash_after_first_batch):
				failed = self.detect()
		finally:
			frappe.db.set_single_value("Bank Insight Settings", "detection_batch_size", 5000)
			frappe.db.commit()
		self.assertEqual(failed.status, "Failed")
		self.assertEqual(detection._watermark(), before, "the watermark does not move past a failed run")
		raised_first = frappe.db.count(
			SIGNAL, {"customer": ("in", [self.mine, self.theirs]), "rule": FX_RULE}
		)
		self.assertLessEqual(raised_first, 1)
		done = self.detect()
		self.assertEqual(done.status, "Completed", done.errors)
		for customer in (self.mine, self.theirs):
			self.assertEqual(frappe.db.count(SIGNAL, {"customer": customer, "rule": FX_RULE}), 1, customer)

	def test_workers_share_a_run_by_customer_range_and_the_watermark_waits_for_every_shard(self):
		rows = [self.fx(f"w{i}", days_ago=i + 1) for i in range(3)]
		rows += [self.fx(f"x{i}", customer=self.theirs, days_ago=i + 1) for i in range(3)]
		self.post(EVENTS_URL, {"rows": rows, "source": "t"})
		before = detection._watermark()
		jobs = []
		with patch("frappe.enqueue", lambda method, **kw: jobs.append(kw)):
			name = detection.detect("On Demand", now=now_datetime(), shard_count=2, enqueue_shards=True)
		frappe.db.rollback()
		run = frappe.get_doc("Bank Signal Run", name)
		self.assertEqual(([j["queue"] for j in jobs], len(run.shards)), (["long", "long"], 2))
		detection.detect_shard(jobs[1]["run"], jobs[1]["shard_no"], jobs[1]["at"])  # one worker done
		self.assertEqual(detection._watermark(), before, "the window is not done before every shard is")
		# the other worker was killed: the next call resumes the same run, not a new window
		frappe.db.set_value("Bank Job Shard", run.shards[0].name, "status", "Running")
		frappe.db.commit()
		with patch("frappe.enqueue", lambda method, **kw: jobs.append(kw)):
			self.assertEqual(detection.detect("On Demand", enqueue_shards=True), name)
		self.assertEqual([j["shard_no"] for j in jobs[2:]], [0])
		detection.detect_shard(jobs[2]["run"], jobs[2]["shard_no"], jobs[2]["at"])
		frappe.db.rollback()
		run.reload()
		self.assertEqual(run.status, "Completed", run.errors)
		self.assertEqual(detection._watermark(), run.window_to)
		self.assertEqual(run.customers_evaluated, sum(s.processed for s in run.shards))
		for customer in (self.mine, self.theirs):
			self.assertEqual(frappe.db.count(SIGNAL, {"customer": customer, "rule": FX_RULE}), 1, customer)

	def test_two_runs_never_overlap(self):
		other = frappe.db.get_connection() if hasattr(frappe.db, "get_connection") else None
		self.assertIsNotNone(other)
		cursor = other.cursor()
		cursor.execute("select get_lock(%s, 0)", (lock_name(detection.LOCK),))
		try:
			self.assertIsNone(detection.detect("On Demand"))
		finally:
			cursor.execute("select release_lock(%s)", (lock_name(detection.LOCK),))
			other.close()

	# -- follow-up and access ------------------------------------------------------------------------
	def test_rm_follows_up_own_signals_only_and_an_opportunity_is_theirs_to_see(self):
		self.post(EVENTS_URL, {"rows": [self.fx(f"a{i}", days_ago=i + 1) for i in range(3)], "source": "t"})
		self.post(
			EVENTS_URL,
			{
				"rows": [self.fx(f"b{i}", customer=self.theirs, days_ago=i + 1) for i in range(3)],
				"source": "t",
			},
		)
		self.detect()
		mine, theirs = self.open_signals()[0].name, self.open_signals(self.theirs)[0].name
		api = Api(self.tokens[self.rm])
		listed = api.get(f"/api/resource/{SIGNAL}", filters=[["name", "in", [mine, theirs]]]).json["data"]
		self.assertEqual([r["name"] for r in listed], [mine])
		events = api.get(
			f"/api/resource/{activity.EVENT}",
			filters=[["customer", "in", [self.mine, self.theirs]]],
			limit_page_length=0,
		)
		self.assertEqual(
			{r["name"] for r in events.json["data"]},
			set(frappe.get_all(activity.EVENT, {"customer": self.mine}, pluck="name")),
		)
		refused = api.post("/api/method/bank_crm.api.insight.create_opportunity", {"signal": theirs})
		self.assertEqual(refused.status_code, 403, refused.text)
		no_reason = api.post("/api/method/bank_crm.api.insight.dismiss", {"signal": mine, "reason": " "})
		self.assertTrue(400 <= no_reason.status_code < 500, no_reason.text)
		made = api.post("/api/method/bank_crm.api.insight.create_opportunity", {"signal": mine})
		self.assertEqual(made.status_code, 200, server_messages(made))
		opportunity = made.json["message"]["opportunity"]
		frappe.db.rollback()
		self.assertEqual(frappe.db.get_value(SIGNAL, mine, ["status", "opportunity"]), ("Acted", opportunity))
		self.assertEqual(frappe.db.get_value("Opportunity", opportunity, "party_name"), self.mine)
		self.assertEqual(api.get(f"/api/resource/Opportunity/{opportunity}").status_code, 200)
		other = Api(self.tokens[self.other_rm])
		self.assertEqual(other.get(f"/api/resource/Opportunity/{opportunity}").status_code, 403)
		visible = other.get("/api/resource/Opportunity", filters=[["name", "=", opportunity]]).json["data"]
		self.assertEqual(visible, [])

	def test_an_rm_opens_an_opportunity_for_an_own_customer_only_and_only_for_a_suitable_product(self):
		api = Api(self.tokens[self.rm])
		url = "/api/method/bank_crm.api.insight.open_opportunity"
		refused = api.post(url, {"customer": self.theirs})
		self.assertEqual(refused.status_code, 403, refused.text)
		made = api.post(url, {"customer": self.mine})
		self.assertEqual(made.status_code, 200, server_messages(made))
		frappe.db.rollback()
		self.assertEqual(frappe.db.get_value("Opportunity", made.json["message"], "party_name"), self.mine)
		# a wealth product needs a risk assessment in force: the test profile has none
		unsuitable = api.post(url, {"customer": self.mine, "product": "T-WM-90"})
		self.assertTrue(400 <= unsuitable.status_code < 500, unsuitable.text)
		self.assertIn("T-WM-90", server_messages(unsuitable) + unsuitable.text)
		unknown = api.post(url, {"customer": self.mine, "product": "NO-SUCH-PRODUCT"})
		self.assertTrue(400 <= unknown.status_code < 500, unknown.text)

	def test_a_contact_that_meets_the_need_closes_the_signal(self):
		from bank_crm.bank_engagement.test_engagement import interaction

		self.post(EVENTS_URL, {"rows": [self.fx(f"c{i}", days_ago=i + 1) for i in range(3)], "source": "t"})
		self.detect()
		signal = self.open_signals()[0].name
		frappe.set_user(self.rm)
		try:
			contact = interaction(self.mine, closes_need_category="Cross-border Services").insert()
		finally:
			frappe.set_user("Administrator")
		self.assertEqual(
			frappe.db.get_value(SIGNAL, signal, ["status", "interaction"]), ("Acted", contact.name)
		)

	def test_open_signals_expire(self):
		self.post(EVENTS_URL, {"rows": [self.fx(f"e{i}", days_ago=i + 1) for i in range(3)], "source": "t"})
		self.detect()
		signal = self.open_signals()[0]
		frappe.db.set_value(SIGNAL, signal.name, "raised_on", now_datetime() - timedelta(days=40))
		frappe.db.commit()
		self.assertEqual(detection.expire(now_datetime(), 30), 1)
		self.assertEqual(frappe.db.get_value(SIGNAL, signal.name, "status"), "Expired")
		self.assertEqual(frappe.db.get_value("ToDo", signal.todo, "status"), "Cancelled")

	# -- retention and care --------------------------------------------------------------------------
	def test_old_events_are_purged_signals_stay(self):
		self.post(EVENTS_URL, {"rows": [self.fx(f"p{i}", days_ago=i + 1) for i in range(3)], "source": "t"})
		self.detect()
		names = frappe.get_all(activity.EVENT, {"customer": self.mine}, pluck="name")
		old = now_datetime() - timedelta(days=500)
		for name in names[:2]:
			frappe.db.sql(
				f"update `tab{activity.EVENT}` set creation = %s, event_time = %s where name = %s",
				(old, old, name),
			)
		frappe.db.commit()
		activity.purge_events()
		self.assertEqual(
			sorted(frappe.get_all(activity.EVENT, {"customer": self.mine}, pluck="name")), sorted(names[2:])
		)
		self.assertEqual(len(self.open_signals()), 1)

	def test_a_holdings_maturity_becomes_a_care_event(self):
		from bank_crm.bank_engagement.care_events import run_care_events

		matures = add_days(getdate(), 10)
		row = {
			"customer": self.mine,
			"product": "T-WM-90",
			"opened_on": str(add_days(matures, -90)),
			"maturity_date": str(matures),
			"amount": 100000,
		}
		self.post(HOLDINGS_URL, {"rows": [row]})
		run_care_events()
		frappe.db.commit()
		self.assertTrue(
			frappe.db.exists(
				"Bank Care Event",
				{"customer": self.mine, "event_type": "Product Maturity", "event_date": matures},
			)
		)
