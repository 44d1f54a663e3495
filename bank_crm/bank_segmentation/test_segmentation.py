"""Tier policies, the segmentation run, overrides and their approval, crash and resume.

The run commits per batch (it is a job), so these tests commit their data and remove it again.
"""

import json
from datetime import date, timedelta

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import add_days, getdate

from bank_crm.bank_segmentation import segmentation
from bank_crm.tests.factories import (
	Api,
	api_token,
	individual,
	make_branch,
	make_customer,
	make_profile,
	make_user,
)
from bank_crm.utils.bulk import insert_rows, lock_name

PROFILE = "Bank Customer Profile"
POLICY = "Bank Tier Policy"
TODAY = date(2026, 6, 30)


def snapshot(customer, as_of, deposit=0.0, aum=0.0, loan=0.0, fee=0.0, products=2, yld=2.0):
	return {
		"name": frappe.generate_hash(length=12),
		"customer": customer,
		"as_of_date": as_of,
		"deposit_balance": deposit,
		"aum": aum,
		"loan_balance": loan,
		"fee_income": fee,
		"composite_yield": yld,
		"products_held": products,
	}


class SegmentationCase(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		frappe.set_user("Administrator")
		cls.rm = make_user("seg-rm", ["Relationship Manager"])
		cls.rm2 = make_user("seg-rm-2", ["Relationship Manager"])
		cls.bm = make_user("seg-bm", ["Branch Manager"])
		cls.bm2 = make_user("seg-bm-2", ["Branch Manager"])
		make_branch(
			"T-SEG",
			members=[
				(cls.rm, "Relationship Manager"),
				(cls.rm2, "Relationship Manager"),
				(cls.bm, "Branch Manager"),
				(cls.bm2, "Branch Manager"),
			],
		)
		cls.created = {"customers": [], "profiles": []}
		cls.policy = segmentation.active_policy()
		cls.started = frappe.utils.now_datetime()
		frappe.db.commit()

	@classmethod
	def tearDownClass(cls):
		frappe.set_user("Administrator")
		profiles = cls.created["profiles"]
		if profiles:
			for dt in ("Bank Tier History", "Bank Lifecycle History"):
				frappe.db.delete(dt, {"profile": ("in", profiles)})
			for name in frappe.get_all("Bank Tier Override", {"profile": ("in", profiles)}, pluck="name"):
				frappe.db.delete("Bank Tier Override", {"name": name})
				frappe.db.delete("Version", {"ref_doctype": "Bank Tier Override", "docname": name})
			frappe.db.delete("__Auth", {"doctype": PROFILE, "name": ("in", profiles)})
			frappe.db.delete(PROFILE, {"name": ("in", profiles)})
		if cls.created["customers"]:
			frappe.db.delete("Bank Financial Snapshot", {"customer": ("in", cls.created["customers"])})
			frappe.db.delete("Customer", {"name": ("in", cls.created["customers"])})
		frappe.db.delete("Bank Segmentation Run", {"run_date": TODAY})
		frappe.db.delete("Bank Segmentation Run", {"creation": (">=", cls.started)})
		frappe.db.delete(POLICY, {"status": "Draft", "policy_name": ("like", "Test %")})
		frappe.db.commit()
		super().tearDownClass()

	def customer(self, rm=None, since_days=2000, **snapshot_figures):
		customer = make_customer(f"分层测试 {frappe.generate_hash(length=8)}", rm=rm or self.rm)
		profile = make_profile(
			individual(
				customer,
				rm or self.rm,
				relationship_since=TODAY - timedelta(days=since_days),
				risk_level="Low",
			)
		)
		self.created["customers"].append(customer)
		self.created["profiles"].append(profile.name)
		if snapshot_figures:
			self.add_snapshot(customer, TODAY - timedelta(days=1), **snapshot_figures)
		frappe.db.commit()
		return customer, profile.name

	def add_snapshot(self, customer, as_of, **figures):
		insert_rows("Bank Financial Snapshot", [snapshot(customer, as_of, **figures)])
		frappe.db.commit()

	def segment(self, **kw):
		name = segmentation.run_segmentation("On Demand", today=kw.pop("today", TODAY), **kw)
		frappe.db.rollback()
		return frappe.get_doc("Bank Segmentation Run", name)

	def state(self, profile):
		return frappe.db.get_value(
			PROFILE,
			profile,
			["tier", "value_score", "tier_below_runs", "lifecycle_stage", "lifecycle_reason", "score_policy"],
			as_dict=True,
		)

	def set_figures(self, customer, **figures):
		frappe.db.set_value(
			"Bank Financial Snapshot",
			{"customer": customer},
			{
				"deposit_balance": figures.get("deposit", 0),
				"aum": figures.get("aum", 0),
				"fee_income": figures.get("fee", 0),
			},
		)
		frappe.db.commit()


class TestSegmentationRun(SegmentationCase):
	def test_run_scores_tiers_stages_and_mirrors_to_customer(self):
		rich_customer, rich = self.customer(deposit=4_000_000, aum=9_000_000, fee=20_000, products=6)
		poor_customer, poor = self.customer(deposit=2_000, products=1)
		_, prospect = self.customer()
		run = self.segment()
		self.assertEqual(run.status, "Completed")
		self.assertEqual(self.state(rich).tier, "VIP")
		self.assertEqual(self.state(poor).tier, "Mass")
		self.assertEqual(self.state(prospect).lifecycle_stage, "Prospect")
		self.assertEqual(self.state(rich).lifecycle_stage, "Mature")
		self.assertEqual(self.state(rich).score_policy, self.policy)
		self.assertEqual(frappe.db.get_value("Customer", rich_customer, "bank_tier"), "VIP")
		history = frappe.get_all(
			"Bank Tier History", {"profile": rich}, ["from_tier", "to_tier", "run", "reason"]
		)
		self.assertEqual(
			[(h.from_tier, h.to_tier, h.run, h.reason) for h in history], [(None, "VIP", run.name, "initial")]
		)
		self.assertTrue(frappe.db.exists("Bank Lifecycle History", {"profile": rich, "to_stage": "Mature"}))
		result = json.loads(run.result)
		self.assertGreaterEqual(result["distribution"]["VIP"], 1)
		self.assertGreaterEqual(result["movement"]["-\u2192VIP"], 1)
		self.assertIsNotNone(poor_customer)

	def test_second_run_on_unchanged_data_writes_nothing(self):
		self.customer(deposit=300_000, aum=100_000, products=3)
		self.segment()
		second = self.segment()
		self.assertEqual((second.changed, second.tier_changes, second.lifecycle_changes), (0, 0, 0))
		self.assertGreater(second.scanned, 0)

	def test_downgrade_waits_for_consecutive_runs_below_the_margin(self):
		customer, profile = self.customer(deposit=4_000_000, aum=9_000_000, fee=20_000, products=6)
		self.segment()
		self.assertEqual(self.state(profile).tier, "VIP")
		self.set_figures(customer, deposit=2_000)  # far below every boundary
		first = self.segment(today=TODAY + timedelta(days=1))
		self.assertEqual((self.state(profile).tier, self.state(profile).tier_below_runs), ("VIP", 1))
		self.assertEqual(first.tier_changes, 0)
		self.segment(today=TODAY + timedelta(days=2))
		self.assertEqual(self.state(profile).tier, "Mass")
		reasons = frappe.get_all(
			"Bank Tier History", {"profile": profile}, pluck="reason", order_by="creation asc"
		)
		self.assertEqual(reasons, ["initial", "downgrade"])

	def test_lifecycle_churn_from_the_balance_trend(self):
		customer, profile = self.customer(deposit=500_000, products=3)
		self.add_snapshot(customer, TODAY - timedelta(days=120), deposit=1_500_000, products=3)
		self.segment()
		state = self.state(profile)
		self.assertEqual(state.lifecycle_stage, "Churn Risk")
		self.assertIn("fell", state.lifecycle_reason)

	def test_rm_lifecycle_override_needs_reason_and_expiry_and_wins(self):
		_, profile = self.customer(deposit=500_000, products=3)

		def attempt(**values):
			doc = frappe.get_doc(PROFILE, profile)
			doc.update({"lifecycle_override_stage": "Mature", **values})
			doc.save()

		with self.assertRaises(frappe.ValidationError):
			attempt()  # no reason, no expiry
		with self.assertRaises(frappe.ValidationError):
			attempt(
				lifecycle_override_reason="签约代发工资", lifecycle_override_until=add_days(getdate(), 400)
			)
		attempt(
			lifecycle_override_reason="签约代发工资，关系即将深化",
			lifecycle_override_until=add_days(getdate(), 30),
		)
		frappe.db.commit()
		self.assertEqual(self.state(profile).lifecycle_stage, "Mature")
		self.assertTrue(frappe.db.exists("Bank Lifecycle History", {"profile": profile, "is_override": 1}))
		self.segment(today=getdate())
		self.assertEqual(self.state(profile).lifecycle_stage, "Mature")

	def test_users_cannot_write_engine_fields(self):
		_, profile = self.customer(deposit=2_000, products=1)
		self.segment()
		doc = frappe.get_doc(PROFILE, profile)
		doc.tier = "VIP"
		doc.value_score = 99
		doc.save()
		self.assertEqual(self.state(profile).tier, "Mass")

	def test_crash_midway_resumes_without_duplicate_history(self):
		profiles = [self.customer(deposit=10_000 * i, products=2)[1] for i in range(1, 6)]
		frappe.flags.bank_crm_crash_after_batches = 1
		try:
			with self.assertRaises(SystemExit):
				segmentation.run_segmentation("On Demand", today=TODAY, batch_size=2)
		finally:
			frappe.flags.bank_crm_crash_after_batches = 0
		frappe.db.rollback()
		crashed = frappe.get_all(
			"Bank Segmentation Run", {"run_date": TODAY, "status": "Running"}, pluck="name"
		)
		self.assertEqual(len(crashed), 1)
		shard = frappe.get_all(
			"Bank Job Shard",
			{"parenttype": "Bank Segmentation Run", "parent": crashed[0]},
			["status", "checkpoint", "processed"],
		)[0]
		self.assertEqual(shard.status, "Running")
		self.assertTrue(shard.checkpoint)
		self.assertEqual(shard.processed, 2)
		resumed = self.segment(batch_size=2)
		self.assertEqual(resumed.name, crashed[0], "the next call continues the interrupted run")
		self.assertEqual(resumed.status, "Completed")
		for profile in profiles:
			self.assertTrue(self.state(profile).tier)
			self.assertEqual(frappe.db.count("Bank Tier History", {"profile": profile}), 1)

	def test_shards_split_the_work_and_add_up(self):
		profiles = [self.customer(deposit=50_000 * i, products=2)[1] for i in range(1, 5)]
		name = segmentation.run_segmentation("On Demand", today=TODAY, shards=2, batch_size=3)
		frappe.db.rollback()
		run = frappe.get_doc("Bank Segmentation Run", name)
		self.assertEqual(len(run.shards), 2)
		self.assertTrue(all(s.status == "Completed" for s in run.shards))
		self.assertEqual(run.scanned, sum(s.processed for s in run.shards))
		self.assertEqual(run.scanned, frappe.db.count(PROFILE))
		for profile in profiles:
			self.assertEqual(frappe.db.count("Bank Tier History", {"profile": profile}), 1)

	def test_a_second_run_does_not_start_while_one_holds_the_lock(self):
		from frappe.database import get_db

		other = get_db(
			host=frappe.conf.db_host,
			user=frappe.conf.db_name,
			password=frappe.conf.db_password,
			port=frappe.conf.db_port,
			cur_db_name=frappe.conf.db_name,
		)
		other.connect()
		try:
			self.assertEqual(other.sql("select get_lock(%s, 0)", (lock_name(segmentation.LOCK),))[0][0], 1)
			self.assertIsNone(segmentation.run_segmentation("On Demand", today=TODAY))
		finally:
			other.sql("select release_lock(%s)", (lock_name(segmentation.LOCK),))
			other.close()


class TestTierPolicy(SegmentationCase):
	def draft(self, **changes):
		active = frappe.get_doc(POLICY, self.policy)
		draft = frappe.copy_doc(active)
		draft.policy_name = "Test draft"
		draft.update(changes)
		draft.insert()
		frappe.db.commit()
		return draft

	def test_new_version_is_a_draft_with_the_next_number(self):
		draft = self.draft()
		self.assertEqual(draft.status, "Draft")
		self.assertEqual(draft.version, frappe.db.sql("select max(version) from `tabBank Tier Policy`")[0][0])

	def test_active_policy_cannot_be_edited(self):
		active = frappe.get_doc(POLICY, self.policy)
		active.metrics[0].weight = active.metrics[0].weight + 1
		with self.assertRaises(frappe.ValidationError):
			active.save()

	def test_bad_thresholds_are_refused_with_the_field(self):
		draft = self.draft()
		draft.tiers[-1].min_score = 10  # the lowest tier must take everyone
		with self.assertRaises(frappe.ValidationError) as caught:
			draft.save()
		self.assertIn("Tier Thresholds", str(caught.exception))

	def test_what_if_changes_nothing_and_reports_distribution_and_movement(self):
		self.customer(deposit=4_000_000, aum=9_000_000, fee=20_000, products=6)
		self.customer(deposit=2_000, products=1)
		self.segment()
		draft = self.draft()
		for row in draft.tiers:
			row.min_score = {"VIP": 99, "High-end": 98}.get(row.tier, 0)
		draft.save()
		frappe.db.commit()
		checksum = frappe.db.sql(
			"select count(*), sum(crc32(concat_ws('|', name, tier, value_score, tier_below_runs, lifecycle_stage))) "
			"from `tabBank Customer Profile`"
		)
		history = frappe.db.count("Bank Tier History")
		run = self.run_what_if(draft.name)
		self.assertEqual(run.run_type, "What-if")
		self.assertEqual(run.status, "Completed")
		result = json.loads(run.result)
		self.assertEqual(result["distribution"].get("VIP", 0), 0, "under the draft nobody reaches 99")
		self.assertGreaterEqual(result["movement"].get("VIP\u2192Mass", 0), 1)
		self.assertEqual(
			frappe.db.sql(
				"select count(*), sum(crc32(concat_ws('|', name, tier, value_score, tier_below_runs, lifecycle_stage))) "
				"from `tabBank Customer Profile`"
			),
			checksum,
		)
		self.assertEqual(frappe.db.count("Bank Tier History"), history)
		self.assertEqual(frappe.db.get_value(POLICY, draft.name, "last_what_if"), run.name)

	def run_what_if(self, policy):
		name = segmentation.run_segmentation("What-if", policy=policy, today=TODAY)
		frappe.db.rollback()
		return frappe.get_doc("Bank Segmentation Run", name)

	def test_activation_leaves_exactly_one_active_policy(self):
		admin = make_user("seg-admin", ["CRM Administrator"])
		draft = self.draft()
		frappe.db.commit()
		api = Api(api_token(admin))
		frappe.db.commit()
		try:
			response = api.post(
				"/api/method/bank_crm.api.segmentation.activate_policy", {"policy": draft.name}
			)
			self.assertEqual(response.status_code, 200, response.text)
			frappe.db.rollback()
			self.assertEqual(frappe.get_all(POLICY, {"status": "Active"}, pluck="name"), [draft.name])
			self.assertEqual(frappe.db.get_value(POLICY, self.policy, "status"), "Retired")
			again = api.post("/api/method/bank_crm.api.segmentation.activate_policy", {"policy": self.policy})
			self.assertEqual(again.status_code, 417, "a retired version cannot come back")
			rm = Api(api_token(self.rm))
			frappe.db.commit()
			denied = rm.post("/api/method/bank_crm.api.segmentation.activate_policy", {"policy": draft.name})
			self.assertEqual(denied.status_code, 403)
		finally:
			frappe.db.set_value(POLICY, draft.name, "status", "Draft")
			frappe.db.set_value(POLICY, self.policy, {"status": "Active", "retired_on": None})
			frappe.db.commit()

	def test_breakdown_explains_the_stored_score(self):
		_, profile = self.customer(deposit=800_000, aum=1_000_000, fee=5_000, products=4)
		self.segment()
		breakdown = segmentation.breakdown(profile)
		self.assertEqual(breakdown["policy"], self.policy)
		self.assertAlmostEqual(breakdown["score"], float(self.state(profile).value_score), places=2)
		self.assertAlmostEqual(
			sum(p["contribution"] for p in breakdown["parts"]), breakdown["score"], delta=0.05
		)
		deposit = next(p for p in breakdown["parts"] if p["factor"] == "deposit_balance")
		self.assertEqual((deposit["value"], deposit["weight"]), (800_000, 25))


class TestTierOverride(SegmentationCase):
	def override(self, api, profile, tier="VIP"):
		response = api.post(
			"/api/resource/Bank Tier Override",
			{
				"profile": profile,
				"requested_tier": tier,
				"reason": "战略客户，总行批准",
				"expires_on": str(add_days(getdate(), 60)),
			},
		)
		self.assertEqual(response.status_code, 200, response.text)
		return response.json["data"]["name"]

	def action(self, api, name, action):
		return api.post(
			"/api/method/frappe.model.workflow.apply_workflow",
			{"doc": {"doctype": "Bank Tier Override", "name": name}, "action": action},
		)

	def test_rm_requests_branch_manager_approves_and_it_holds_until_expiry(self):
		_, profile = self.customer(deposit=2_000, products=1)
		self.segment(today=getdate())
		tokens = {u: api_token(u) for u in (self.rm, self.bm, self.rm2)}
		frappe.db.commit()
		rm, bm, rm2 = Api(tokens[self.rm]), Api(tokens[self.bm]), Api(tokens[self.rm2])
		self.assertEqual(
			rm2.post(
				"/api/resource/Bank Tier Override",
				{
					"profile": profile,
					"requested_tier": "VIP",
					"reason": "x",
					"expires_on": str(add_days(getdate(), 30)),
				},
			).status_code,
			403,
			"another RM cannot request for this customer",
		)
		name = self.override(rm, profile)
		self.assertEqual(self.action(rm, name, "Submit for Approval").status_code, 200)
		self.assertNotEqual(self.action(rm, name, "Approve").status_code, 200, "an RM cannot approve")
		frappe.db.rollback()
		self.assertEqual(self.state(profile).tier, "Mass", "no effect before approval")
		response = self.action(bm, name, "Approve")
		self.assertEqual(response.status_code, 200, response.text)
		frappe.db.rollback()
		self.assertEqual(self.state(profile).tier, "VIP")
		self.assertEqual(
			frappe.db.get_value("Bank Tier Override", name, ["status", "approved_by"]), ("Approved", self.bm)
		)
		self.segment(today=getdate())
		self.assertEqual(self.state(profile).tier, "VIP", "the nightly run keeps an approved override")
		segmentation.expire_overrides(add_days(getdate(), 61))
		frappe.db.commit()
		self.assertEqual(frappe.db.get_value("Bank Tier Override", name, "status"), "Expired")

	def test_branch_manager_cannot_approve_own_request(self):
		_, profile = self.customer(deposit=2_000, products=1)
		self.segment(today=getdate())
		tokens = {u: api_token(u) for u in (self.bm, self.bm2)}
		frappe.db.commit()
		bm, bm2 = Api(tokens[self.bm]), Api(tokens[self.bm2])
		name = self.override(bm, profile, "High-end")
		self.assertEqual(self.action(bm, name, "Submit for Approval").status_code, 200)
		own = self.action(bm, name, "Approve")
		self.assertNotEqual(own.status_code, 200, own.text)
		self.assertEqual(self.action(bm2, name, "Approve").status_code, 200)
		frappe.db.rollback()
		self.assertEqual(self.state(profile).tier, "High-end")


class TestSegmentationReports(SegmentationCase):
	def test_reports_show_only_the_rms_portfolio(self):
		_, mine = self.customer(rm=self.rm, deposit=4_000_000, aum=9_000_000, fee=20_000, products=6)
		_, theirs = self.customer(rm=self.rm2, deposit=4_000_000, aum=9_000_000, fee=20_000, products=6)
		self.segment()
		token = api_token(self.rm)
		frappe.db.commit()
		api = Api(token)

		def report(name, **filters):
			response = api.get(
				"/api/method/frappe.desk.query_report.run", report_name=name, filters=json.dumps(filters)
			)
			self.assertEqual(response.status_code, 200, response.text)
			return response.json["message"]["result"]

		own = frappe.db.count(PROFILE, {"relationship_manager": self.rm})
		tiers = report("Tier Distribution")
		self.assertEqual(sum(r["customers"] for r in tiers), own)
		funnel = report("Lifecycle Funnel")
		self.assertEqual(sum(r["customers"] for r in funnel), own)
		movement = report("Tier Movement", from_date=str(TODAY - timedelta(days=30)), to_date=str(TODAY))
		visible = frappe.db.count(
			"Bank Tier History",
			{
				"change_date": ("between", [TODAY - timedelta(days=30), TODAY]),
				"profile": ("in", frappe.get_all(PROFILE, {"relationship_manager": self.rm}, pluck="name")),
			},
		)
		self.assertEqual(sum(r["total"] for r in movement), visible)
		self.assertIsNotNone(mine and theirs)
