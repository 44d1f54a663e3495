"""Visit plans, interactions, care events and contact routing in a real site, with row-level
access checked as real users over the REST API."""

from datetime import date, timedelta

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import add_months, add_to_date, getdate, now_datetime

from bank_crm.bank_engagement import care_events as care
from bank_crm.bank_engagement import visit_planning as planning
from bank_crm.permissions import clear_scope_cache
from bank_crm.tests.factories import (
	Api,
	api_token,
	individual,
	make_branch,
	make_customer,
	make_profile,
	make_user,
)

PLAN = "Bank Visit Plan"
PROFILE = "Bank Customer Profile"
SERVICE_CONSENT = {
	"purpose": "Service",
	"channel": "All Channels",
	"granted_on": "2024-01-01 09:00:00",
	"evidence_type": "Signed Form",
}


def interaction(customer: str, kind: str = "Call", **values):
	"""An unsaved completed Bank Interaction (pass outcome=None to leave the outcome out)."""
	data = {
		"doctype": "Bank Interaction",
		"customer": customer,
		"interaction_type": kind,
		"status": "Completed",
	}
	data["outcome"] = "Achieved"
	data.update(values)
	return frappe.get_doc({k: v for k, v in data.items() if v is not None})


def message_to(customer: str, message: str, **values):
	"""An unsaved completed Message interaction that sends ``message`` to the customer."""
	return interaction(customer, "Message", send_message=1, message=message, **values)


def born_in(year: int, days_ahead: int = 2) -> date:
	"""A date of birth in ``year`` whose birthday is ``days_ahead`` days from today (28 February
	for 29 February in a year without it)."""
	try:
		return (getdate() + timedelta(days=days_ahead)).replace(year=year)
	except ValueError:
		return date(year, 2, 28)


def open_items(profile: str) -> dict[str, dict]:
	rows = frappe.get_all(
		PLAN,
		filters={"profile": profile, "status": "Open"},
		fields=["name", "contact_kind", "due_date", "todo", "plan_key", "relationship_manager"],
	)
	return {r.contact_kind: r for r in rows}


class EngagementCase(FrappeTestCase):
	"""Customers of two RMs in one branch, committed so REST requests can see them."""

	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		frappe.set_user("Administrator")
		cls.rm_a = make_user("eng-rm-a", ["Relationship Manager"], language="zh")
		cls.rm_b = make_user("eng-rm-b", ["Relationship Manager"])
		cls.bm = make_user("eng-bm", ["Branch Manager"])
		cls.branch = make_branch(
			"T-ENG",
			members=[
				(cls.rm_a, "Relationship Manager"),
				(cls.rm_b, "Relationship Manager"),
				(cls.bm, "Branch Manager"),
			],
		)
		cls.tag = frappe.generate_hash(length=6)
		cls.customers, cls.profiles = [], []
		frappe.db.commit()

	@classmethod
	def tearDownClass(cls):
		frappe.set_user("Administrator")
		names, customers = cls.profiles, cls.customers
		if names:
			todos = frappe.get_all(
				"ToDo",
				filters={"reference_type": ("in", [PLAN, "Bank Interaction", "Bank Care Event"])},
				or_filters=None,
				pluck="name",
			)
			items = frappe.get_all(PLAN, filters={"profile": ("in", names)}, pluck="name")
			interactions = frappe.get_all(
				"Bank Interaction", filters={"customer": ("in", customers)}, pluck="name"
			)
			events = frappe.get_all("Bank Care Event", filters={"customer": ("in", customers)}, pluck="name")
			refs = set(items) | set(interactions) | set(events)
			frappe.db.delete(
				"ToDo",
				{"name": ("in", [t for t in todos if t]), "reference_name": ("in", list(refs) or [""])},
			)
			frappe.db.delete(PLAN, {"profile": ("in", names)})
			frappe.db.delete("Bank Interaction Follow-up", {"parent": ("in", interactions or [""])})
			frappe.db.delete("Bank Interaction", {"customer": ("in", customers)})
			frappe.db.delete("Bank Care Event", {"customer": ("in", customers)})
			frappe.db.delete("Bank Outbound Message", {"customer": ("in", customers)})
			frappe.db.delete(
				"Communication", {"reference_doctype": "Customer", "reference_name": ("in", customers)}
			)
			for child in ("Bank Consent Record", "Bank Plan Override", "Bank Product Maturity"):
				frappe.db.delete(child, {"parent": ("in", names)})
			frappe.db.delete("__Auth", {"doctype": PROFILE, "name": ("in", names)})
			frappe.db.delete(PROFILE, {"name": ("in", names)})
			frappe.db.delete("Customer", {"name": ("in", customers)})
		frappe.db.commit()
		super().tearDownClass()

	@classmethod
	def customer(cls, rm: str, tier: str = "Mass", **values):
		customer = make_customer(f"维护测试 {cls.tag} {len(cls.customers)}", rm=rm)
		data = individual(customer, rm, cls.branch, **values)
		data.setdefault("consents", [SERVICE_CONSENT])
		doc = make_profile(data)
		frappe.db.set_value(PROFILE, doc.name, "tier", tier)  # as the segmentation engine does
		cls.customers.append(customer)
		cls.profiles.append(doc.name)
		return customer, doc.name


class TestVisitPlanning(EngagementCase):
	def test_plan_follows_the_tier_and_reruns_change_nothing(self):
		_customer, profile = self.customer(self.rm_a, "VIP")
		stats = planning.plan_profiles([profile])
		self.assertEqual(stats["created_items"], 3)
		items = open_items(profile)
		self.assertEqual(set(items), {"Visit", "Call", "Salon"})
		for item in items.values():
			self.assertEqual(item.relationship_manager, self.rm_a)
		again = planning.plan_profiles([profile])
		self.assertEqual(
			(
				again["created_items"],
				again["redated_items"],
				again["cancelled_items"],
				again["reassigned_items"],
			),
			(0, 0, 0, 0),
		)
		self.assertEqual(open_items(profile), items)

	def test_moving_up_to_vip_gets_the_vip_cadence(self):
		_customer, profile = self.customer(self.rm_a, "Mass")
		planning.plan_profiles([profile])
		mass = open_items(profile)
		self.assertEqual(set(mass), {"Message"})
		frappe.db.set_value(PROFILE, profile, "tier", "VIP")
		planning.plan_profiles([profile])
		self.assertEqual(set(open_items(profile)), {"Visit", "Call", "Salon"})
		self.assertEqual(frappe.db.get_value(PLAN, mass["Message"].name, "status"), "Cancelled")

	def test_tasks_for_items_in_the_reminder_window_go_to_the_rm(self):
		_customer, profile = self.customer(self.rm_a, "VIP")
		planning.plan_profiles([profile])
		call = open_items(profile)["Call"]
		frappe.db.set_value(PLAN, call.name, {"due_date": getdate(), "todo": None})
		created = planning.create_due_tasks(getdate(), 7, profiles=[profile])
		self.assertGreaterEqual(created, 1)
		todo = frappe.db.get_value(PLAN, call.name, "todo")
		self.assertTrue(todo)
		self.assertEqual(frappe.db.get_value("ToDo", todo, "allocated_to"), self.rm_a)
		self.assertIn("通话", frappe.db.get_value("ToDo", todo, "description"))  # the RM reads Chinese
		self.assertEqual(planning.create_due_tasks(getdate(), 7, profiles=[profile]), 0)

	def test_override_replans_and_expires(self):
		_customer, profile = self.customer(self.rm_a, "VIP")
		planning.plan_profiles([profile])
		doc = frappe.get_doc(PROFILE, profile)
		doc.append(
			"plan_overrides",
			{"contact_kind": "Visit", "every": 1, "unit": "Month", "reason": "大额理财到期前密集跟进"},
		)
		doc.save(ignore_permissions=True)  # the profile re-plans on save
		visit = open_items(profile)["Visit"]
		self.assertTrue(visit.plan_key.endswith("O"))
		self.assertLess(getdate(visit.due_date), getdate() + timedelta(days=31))

	def test_override_without_reason_is_refused(self):
		_customer, profile = self.customer(self.rm_a, "VIP")
		doc = frappe.get_doc(PROFILE, profile)
		doc.append("plan_overrides", {"contact_kind": "Visit", "every": 1, "unit": "Month", "reason": " "})
		with self.assertRaises(frappe.ValidationError) as ctx:
			doc.save(ignore_permissions=True)
		self.assertIn("reason", str(ctx.exception))

	def test_new_rm_takes_over_open_items_and_tasks(self):
		_customer, profile = self.customer(self.rm_a, "VIP")
		planning.plan_profiles([profile])
		call = open_items(profile)["Call"]
		frappe.db.set_value(PLAN, call.name, "due_date", getdate())
		planning.create_due_tasks(getdate(), 7, profiles=[profile])
		doc = frappe.get_doc(PROFILE, profile)
		doc.relationship_manager = self.rm_b
		doc.save(ignore_permissions=True)
		items = open_items(profile)
		self.assertEqual({i.relationship_manager for i in items.values()}, {self.rm_b})
		self.assertEqual(frappe.db.get_value("ToDo", items["Call"].todo, "allocated_to"), self.rm_b)

	def test_do_not_contact_cancels_the_plan(self):
		_customer, profile = self.customer(self.rm_a, "VIP")
		planning.plan_profiles([profile])
		doc = frappe.get_doc(PROFILE, profile)
		doc.do_not_contact = 1
		doc.do_not_contact_reason = "客户书面要求"
		doc.save(ignore_permissions=True)
		self.assertEqual(open_items(profile), {})

	def test_the_daily_job_writes_nothing_on_a_rerun(self):
		_customer, profile = self.customer(self.rm_a, "High-end")
		first = planning.run_planning()
		self.assertEqual(frappe.db.get_value("Bank Planning Run", first, "status"), "Completed")
		self.assertEqual(set(open_items(profile)), {"Visit", "Call", "Message"})
		second = planning.run_planning()
		run = frappe.get_doc("Bank Planning Run", second)
		self.assertEqual(run.status, "Completed")
		self.assertEqual(
			(
				run.created_items,
				run.redated_items,
				run.cancelled_items,
				run.reassigned_items,
				run.tasks_created,
			),
			(0, 0, 0, 0, 0),
		)
		self.assertGreaterEqual(run.customers, 1)

	def test_workers_share_a_run_by_key_range_and_a_killed_workers_shard_is_taken_again(self):
		from unittest.mock import patch

		_customer, profile = self.customer(self.rm_a, "High-end")
		profiles = frappe.db.count("Bank Customer Profile")
		day = getdate()
		for unfinished in frappe.get_all("Bank Planning Run", {"status": ("!=", "Completed")}, pluck="name"):
			frappe.db.set_value("Bank Planning Run", unfinished, "status", "Completed")  # not this test's
		jobs = []
		with patch("frappe.enqueue", lambda method, **kw: jobs.append(kw)):
			name = planning.enqueue_planning(day, shard_count=2)
		self.assertEqual([j["queue"] for j in jobs], ["long", "long"])
		run = frappe.get_doc("Bank Planning Run", name)
		self.assertEqual([s.status for s in run.shards], ["Queued", "Queued"])
		self.assertEqual(run.shards[0].range_to, run.shards[1].range_from)  # contiguous, no gap
		# the first worker is killed after its shard started; a second enqueue resumes the same run
		frappe.db.set_value("Bank Job Shard", run.shards[0].name, "status", "Running")
		frappe.db.commit()
		with patch("frappe.enqueue", lambda method, **kw: jobs.append(kw)):
			self.assertEqual(planning.enqueue_planning(day, shard_count=2), name)
		for job in jobs[2:]:  # the workers take them, in either order
			planning.run_planning_shard(job["run"], job["shard_no"])
		run.reload()
		self.assertEqual(run.status, "Completed", run.error_log)
		self.assertEqual([s.status for s in run.shards], ["Completed", "Completed"])
		self.assertEqual(sum(s.processed for s in run.shards), profiles)
		self.assertEqual(run.customers, profiles)
		self.assertEqual(set(open_items(profile)), {"Visit", "Call", "Message"})
		# a shard that is done is not done twice
		planning.run_planning_shard(name, 0)
		self.assertEqual(frappe.db.get_value("Bank Planning Run", name, "customers"), profiles)


class TestInteractions(EngagementCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls.tokens = {u: api_token(u) for u in (cls.rm_a, cls.rm_b, cls.bm)}
		cls.own_customer, cls.own_profile = cls.customer(cls.rm_a, "VIP")
		cls.other_customer, cls.other_profile = cls.customer(cls.rm_b, "VIP")
		planning.plan_profiles([cls.own_profile, cls.other_profile])
		frappe.db.commit()
		clear_scope_cache()

	def test_recording_a_visit_completes_the_item_and_plans_the_next(self):
		visit = open_items(self.own_profile)["Visit"]
		frappe.db.set_value(PLAN, visit.name, "due_date", getdate())
		planning.create_due_tasks(getdate(), 7, profiles=[self.own_profile])
		todo = frappe.db.get_value(PLAN, visit.name, "todo")
		frappe.db.commit()
		actual = add_to_date(now_datetime(), hours=-2)
		response = Api(self.tokens[self.rm_a]).post(
			"/api/resource/Bank Interaction",
			{
				"customer": self.own_customer,
				"interaction_type": "Visit",
				"status": "Completed",
				"actual_at": str(actual),
				"objective": "季度资产检视",
				"outcome": "Achieved",
				"customer_feedback": "满意",
				"satisfaction": 0.8,
				"next_steps": "下月跟进理财到期",
				"follow_ups": [
					{
						"task": "发送理财方案",
						"assigned_to": self.rm_a,
						"due_date": str(getdate() + timedelta(days=3)),
					}
				],
			},
		)
		self.assertEqual(response.status_code, 200, response.text)
		name = response.json["data"]["name"]
		frappe.db.rollback()  # see the request's commit
		self.assertEqual(frappe.db.get_value("Bank Interaction", name, "visit_plan"), visit.name)
		self.assertEqual(frappe.db.get_value(PLAN, visit.name, "status"), "Done")
		communication = frappe.db.get_value("Bank Interaction", name, "communication")
		self.assertEqual(
			frappe.db.get_value("Communication", communication, ["reference_name", "communication_medium"]),
			(self.own_customer, "Visit"),
		)
		self.assertEqual(frappe.db.get_value("ToDo", todo, "status"), "Closed")
		following = open_items(self.own_profile)["Visit"]
		self.assertEqual(getdate(following.due_date), getdate(add_months(actual, 3)))
		follow_up = frappe.get_all(
			"ToDo",
			filters={"reference_type": "Bank Interaction", "reference_name": name},
			fields=["allocated_to", "date"],
		)
		self.assertEqual(
			[(f.allocated_to, getdate(f.date)) for f in follow_up],
			[(self.rm_a, getdate() + timedelta(days=3))],
		)

	def test_an_rm_cannot_record_a_contact_for_another_rms_customer(self):
		response = Api(self.tokens[self.rm_a]).post(
			"/api/resource/Bank Interaction",
			{
				"customer": self.other_customer,
				"interaction_type": "Call",
				"status": "Completed",
				"outcome": "Achieved",
			},
		)
		self.assertEqual(response.status_code, 403, response.text)
		self.assertFalse(frappe.db.exists("Bank Interaction", {"customer": self.other_customer}))

	def test_rm_sees_own_plan_items_branch_manager_the_branch(self):
		names = frappe.get_all(
			PLAN, filters={"profile": ("in", [self.own_profile, self.other_profile])}, pluck="name"
		)

		def visible(user):
			r = Api(self.tokens[user]).get(
				f"/api/resource/{PLAN}",
				fields=["name", "profile"],
				filters=[["name", "in", names]],
				limit_page_length=0,
			)
			self.assertEqual(r.status_code, 200, r.text)
			return {row["profile"] for row in r.json["data"]}

		self.assertEqual(visible(self.rm_a), {self.own_profile})
		self.assertEqual(visible(self.rm_b), {self.other_profile})
		self.assertEqual(visible(self.bm), {self.own_profile, self.other_profile})
		other_item = open_items(self.other_profile)["Visit"].name
		self.assertEqual(
			Api(self.tokens[self.rm_a]).get(f"/api/resource/{PLAN}/{other_item}").status_code, 403
		)

	def test_interactions_and_care_events_follow_row_level_access(self):
		other = interaction(self.other_customer).insert(ignore_permissions=True)
		event = frappe.get_doc(
			{
				"doctype": "Bank Care Event",
				"customer": self.other_customer,
				"event_type": "Birthday",
				"event_date": getdate(),
				"relationship_manager": self.rm_b,
				"branch": self.branch,
				"event_key": f"test|{self.tag}|{self.other_customer}",
			}
		).insert(ignore_permissions=True)
		frappe.db.commit()

		def names(user, doctype, name):
			r = Api(self.tokens[user]).get(
				f"/api/resource/{doctype}",
				fields=["name"],
				filters=[["name", "=", name]],
				limit_page_length=0,
			)
			self.assertEqual(r.status_code, 200, r.text)
			return [row["name"] for row in r.json["data"]]

		for doctype, name in (("Bank Interaction", other.name), ("Bank Care Event", event.name)):
			self.assertEqual(names(self.rm_a, doctype, name), [], doctype)
			self.assertEqual(names(self.rm_b, doctype, name), [name], doctype)
			self.assertEqual(names(self.bm, doctype, name), [name], doctype)
			self.assertEqual(
				Api(self.tokens[self.rm_a]).get(f"/api/resource/{doctype}/{name}").status_code, 403
			)

	def test_completing_needs_an_outcome_and_no_future_time(self):
		doc = interaction(self.own_customer, outcome=None)
		self.assertRaises(frappe.ValidationError, doc.insert)
		doc.outcome = "Achieved"
		doc.actual_at = add_to_date(now_datetime(), days=1)
		self.assertRaises(frappe.ValidationError, doc.insert)

	def test_message_to_a_do_not_contact_customer_is_refused_with_the_reason(self):
		customer, profile = self.customer(
			self.rm_a, "Mass", do_not_contact=1, do_not_contact_reason="投诉后要求"
		)
		doc = message_to(customer, "您的存款即将到期")
		with self.assertRaises(frappe.ValidationError) as ctx:
			doc.insert()
		self.assertIn("not to be contacted", str(ctx.exception))

	def test_message_goes_through_the_routed_channel_and_onto_the_timeline(self):
		customer, _profile = self.customer(
			self.rm_a, "Mass", email_id=f"eng-{self.tag}@test.bank-crm.example", preferred_channel="Email"
		)
		doc = message_to(
			customer, "存款利率下调，理财收益参考如下……", content_class="Routine Tip", subject="利率调整提示"
		).insert()
		doc.reload()
		self.assertEqual(doc.channel, "Email")
		self.assertTrue(doc.outbound_message)
		message = frappe.get_doc("Bank Outbound Message", doc.outbound_message)
		self.assertEqual((message.channel, message.customer), ("Email", customer))
		self.assertEqual(message.reference_name, doc.name)
		timeline = frappe.get_all(
			"Communication",
			filters={"reference_doctype": "Customer", "reference_name": customer},
			fields=["name", "communication_medium"],
		)
		self.assertIn((doc.communication, "Email"), [(c.name, c.communication_medium) for c in timeline])

	def test_quiet_hours_hold_the_message_until_they_end(self):
		now = now_datetime()
		start, end = add_to_date(now, hours=-1), add_to_date(now, hours=1)
		# near midnight the window crosses it: the rule handles that, so the test needs no skip
		customer, _profile = self.customer(
			self.rm_a,
			"Mass",
			email_id=f"quiet-{self.tag}@test.bank-crm.example",
			preferred_channel="Email",
			quiet_hours_start=start.strftime("%H:%M:00"),
			quiet_hours_end=end.strftime("%H:%M:00"),
		)
		doc = message_to(customer, "您的理财产品下周到期").insert()
		message = frappe.get_doc("Bank Outbound Message", doc.reload().outbound_message)
		self.assertEqual(message.status, "Queued")
		self.assertEqual(message.attempts, 0)
		self.assertEqual(message.next_attempt_at, end.replace(second=0, microsecond=0))

	def test_preferred_channel_needs_consent(self):
		customer = make_customer(f"维护测试 {self.tag} nc", rm=self.rm_a)
		self.customers.append(customer)
		data = individual(customer, self.rm_a, self.branch, preferred_channel="SMS", mobile_no="13800000000")
		with self.assertRaises(frappe.ValidationError) as ctx:
			make_profile(data)
		self.assertIn("consent", str(ctx.exception))


class TestServicePlans(EngagementCase):
	def test_a_plan_names_each_kind_once_with_a_valid_interval(self):
		plan = frappe.get_doc("Bank Service Plan", "VIP")
		plan.append(
			"contacts",
			{"contact_kind": "Visit", "every": 1, "unit": "Month", "responsible": "Relationship Manager"},
		)
		with self.assertRaises(frappe.ValidationError) as ctx:
			plan.save(ignore_permissions=True)
		self.assertIn("row 4", str(ctx.exception))
		plan.reload()
		plan.contacts[0].every = 0
		self.assertRaises(frappe.ValidationError, plan.save, ignore_permissions=True)

	def test_goal_targets_are_in_range(self):
		plan = frappe.get_doc("Bank Service Plan", "VIP")
		next(g for g in plan.goals if g.kpi == "Satisfaction (1–5)").target = 7
		self.assertRaises(frappe.ValidationError, plan.save, ignore_permissions=True)

	def test_only_administrators_may_start_a_planning_run(self):
		token = api_token(self.rm_a)
		frappe.db.commit()  # the request runs on its own connection
		response = Api(token).post(
			"/api/method/bank_crm.bank_engagement.doctype.bank_service_plan.bank_service_plan.replan_now"
		)
		self.assertEqual(response.status_code, 403, response.text)

	def test_a_changed_plan_replans_its_customers(self):
		_customer, profile = self.customer(self.rm_a, "High-end")
		planning.plan_profiles([profile])
		visit = open_items(profile)["Visit"]
		plan = frappe.get_doc("Bank Service Plan", "High-end")
		row = next(c for c in plan.contacts if c.contact_kind == "Visit")
		before = row.every
		row.every = before + 1
		plan.save(ignore_permissions=True)
		self.addCleanup(frappe.db.set_value, "Bank Service Plan Contact", row.name, "every", before)
		stats = planning.plan_profiles([profile])
		self.assertEqual(stats["redated_items"], 1)
		item = open_items(profile)["Visit"]
		self.assertEqual(item.name, visit.name)
		self.assertEqual(item.plan_key, f"{before + 1}M")


class TestAutomatedTouches(EngagementCase):
	def test_due_touch_goes_out_and_the_next_is_planned(self):
		customer, profile = self.customer(
			self.rm_a, "Mass", email_id=f"touch-{self.tag}@test.bank-crm.example", preferred_channel="Email"
		)
		planning.plan_profiles([profile])
		touch = open_items(profile)["Message"]
		frappe.db.set_value(PLAN, touch.name, "due_date", getdate())
		result = planning.send_due_touches(getdate())
		self.assertGreaterEqual(result["sent"], 1)
		self.assertEqual(frappe.db.get_value(PLAN, touch.name, "status"), "Done")
		following = open_items(profile)["Message"]
		self.assertEqual(getdate(following.due_date), getdate(add_months(getdate(), 3)))
		message = frappe.get_all(
			"Bank Outbound Message",
			filters={"customer": customer, "reference_name": touch.name},
			fields=["channel", "content_class"],
		)
		self.assertEqual([(m.channel, m.content_class) for m in message], [("Email", "Routine Tip")])

	def test_routing_reads_the_profile_and_keeps_to_the_channels_the_sender_allows(self):
		from bank_crm.bank_engagement import contact
		from bank_crm.core import routing

		customer, _profile = self.customer(
			self.rm_a,
			"Mass",
			email_id=f"route-{self.tag}@test.bank-crm.example",
			mobile_no="13800138000",
			preferred_channel="Email",
		)
		self.assertEqual(contact.route_for(customer, "Routine Tip").channel, "Email")
		only_sms = [c for c in routing.CHANNELS if c != "SMS"]
		self.assertEqual(contact.route_for(customer, "Routine Tip", exclude=only_sms).channel, "SMS")
		only_wechat = [c for c in routing.CHANNELS if c != "WeChat"]
		refused = contact.route_for(customer, "Routine Tip", exclude=only_wechat)
		self.assertFalse(refused.ok)  # no WeChat id on file, and every other channel is excluded
		self.assertIn("Email", {r.channel for r in refused.rejected})
		self.assertFalse(contact.route_for("no such customer", "Routine Tip").ok)

	def test_touch_without_a_channel_is_cancelled_with_the_reason(self):
		_customer, profile = self.customer(self.rm_a, "Mass")  # no address on file
		planning.plan_profiles([profile])
		touch = open_items(profile)["Message"]
		frappe.db.set_value(PLAN, touch.name, "due_date", getdate())
		planning.send_due_touches(getdate())
		status, reason = frappe.db.get_value(PLAN, touch.name, ["status", "cancel_reason"])
		self.assertEqual(status, "Cancelled")
		self.assertIn("no address on file", reason)


class TestCareEvents(EngagementCase):
	def test_birthday_greeting_and_vip_task_once_only(self):
		today = getdate()
		customer, _profile = self.customer(
			self.rm_a,
			"VIP",
			date_of_birth=born_in(1980),
			email_id=f"care-{self.tag}@test.bank-crm.example",
			preferred_channel="Email",
		)
		care.run_care_events(today)
		care.run_care_events(today)  # the job runs twice: nothing happens twice
		events = frappe.get_all(
			"Bank Care Event",
			filters={"customer": customer},
			fields=["event_type", "action", "status", "outbound_message", "todo"],
		)
		self.assertEqual(
			sorted((e.event_type, e.action) for e in events),
			[("Birthday", "Greeting"), ("Birthday", "RM Task")],
		)
		greeting = next(e for e in events if e.action == "Greeting")
		self.assertEqual(greeting.status, "Greeting Sent")
		self.assertEqual(frappe.db.count("Bank Outbound Message", {"customer": customer}), 1)
		task = next(e for e in events if e.action == "RM Task")
		self.assertEqual(frappe.db.get_value("ToDo", task.todo, "allocated_to"), self.rm_a)

	def test_maturity_creates_a_task_ahead(self):
		customer, profile = self.customer(self.rm_a, "Mass")
		doc = frappe.get_doc(PROFILE, profile)
		doc.append(
			"maturities",
			{"product": "三年期大额存单", "maturity_date": getdate() + timedelta(days=20), "amount": 500000},
		)
		doc.save(ignore_permissions=True)
		care.run_care_events(getdate())
		events = frappe.get_all(
			"Bank Care Event", filters={"customer": customer}, fields=["event_type", "detail", "status"]
		)
		self.assertEqual(
			[(e.event_type, e.detail, e.status) for e in events],
			[("Product Maturity", "三年期大额存单", "Task Created")],
		)

	def test_workers_share_a_care_run_and_a_killed_workers_shard_is_done_again(self):
		from unittest.mock import patch

		today = getdate()
		born = [self.customer(rm, "VIP", date_of_birth=born_in(1975))[0] for rm in (self.rm_a, self.rm_b)]
		for unfinished in frappe.get_all(care.RUN, {"status": ("!=", "Completed")}, pluck="name"):
			frappe.db.set_value(care.RUN, unfinished, "status", "Completed")  # not this test's
		jobs = []
		with patch("frappe.enqueue", lambda method, **kw: jobs.append((method, kw))):
			name = care.enqueue_care(today, shard_count=2)
		self.assertEqual(
			[(m, kw["queue"]) for m, kw in jobs],
			[("bank_crm.bank_engagement.care_events.run_care_shard", "long")] * 2,
		)
		run = frappe.get_doc(care.RUN, name)
		self.assertEqual(run.shards[0].range_to, run.shards[1].range_from)  # contiguous, no gap
		# a worker is killed after its shard started; the next start resumes the same run
		frappe.db.set_value("Bank Job Shard", run.shards[1].name, "status", "Running")
		frappe.db.commit()
		with patch("frappe.enqueue", lambda method, **kw: jobs.append((method, kw))):
			self.assertEqual(care.enqueue_care(today, shard_count=2), name)
		first_ids = {kw["shard_no"]: kw["job_id"] for _m, kw in jobs[:2]}
		again_ids = {kw["shard_no"]: kw["job_id"] for _m, kw in jobs[2:]}
		self.assertEqual(again_ids[0], first_ids[0])  # still queued: the same job, deduplicated
		self.assertNotEqual(again_ids[1], first_ids[1])  # its worker died: a job of a new id
		for _method, job in reversed(jobs[2:]):  # the workers take them, in either order
			care.run_care_shard(job["run"], job["shard_no"])
		run.reload()
		self.assertEqual(run.status, "Completed", run.error_log)
		self.assertEqual([s.status for s in run.shards], ["Completed", "Completed"])
		events = frappe.get_all(
			"Bank Care Event",
			filters={"customer": ("in", born), "event_type": "Birthday"},
			fields=["customer", "action", "status"],
		)
		self.assertEqual(
			sorted((e.customer, e.action) for e in events),
			sorted((c, a) for c in born for a in ("Greeting", "RM Task")),
		)
		self.assertTrue(all(e.status for e in events), events)  # every one acted on
		self.assertGreaterEqual(run.events_recorded, 4)
		self.assertGreaterEqual(run.events_acted, 4)
		self.assertGreaterEqual(run.tasks_created, 2)
		# the shard done twice (a redelivered job) records and acts on nothing more
		care.run_care_shard(name, 0)
		care.run_care_shard(name, 1)
		self.assertEqual(frappe.db.count("Bank Care Event", {"customer": ("in", born)}), len(events))
		self.assertEqual(
			frappe.db.count(
				"ToDo",
				{
					"reference_type": "Bank Care Event",
					"reference_name": (
						"in",
						frappe.get_all("Bank Care Event", {"customer": ("in", born)}, pluck="name"),
					),
				},
			),
			2,
		)

	def test_a_chunk_chosen_as_a_deadlock_victim_is_done_again_whole(self):
		from unittest.mock import patch

		from bank_crm.bank_engagement import contact

		today = getdate()
		customer, _profile = self.customer(
			self.rm_a,
			"VIP",
			date_of_birth=born_in(1982),
			email_id=f"victim-{self.tag}@test.bank-crm.example",
			preferred_channel="Email",
		)
		real_route, calls = contact.route_many, []

		def route_once_a_victim(*args, **kwargs):
			calls.append(args[0])
			if len(calls) == 1:  # as InnoDB does: the statement fails and the transaction is lost
				raise frappe.QueryDeadlockError("Deadlock found when trying to get lock")
			return real_route(*args, **kwargs)

		with patch.object(contact, "route_many", route_once_a_victim):
			care.record_events(today)
			frappe.db.commit()
			care.act_on_pending(today)
		events = frappe.get_all(
			"Bank Care Event", filters={"customer": customer}, fields=["action", "status", "outbound_message"]
		)
		greeting = next(e for e in events if e.action == "Greeting")
		self.assertEqual(greeting.status, "Greeting Sent")
		self.assertGreaterEqual(len(calls), 2)  # the chunk ran again
		self.assertEqual(frappe.db.count("Bank Outbound Message", {"customer": customer}), 1)
		self.assertFalse(
			frappe.get_all("Bank Care Event", {"customer": customer, "status": ("is", "not set")})
		)
