"""Advisory broadcasts on a real site: review rules over REST as the real roles, preview, sending
through the app-push adapter to a local webhook, skips, caps, opt-out and row-level access."""

import json
from unittest.mock import patch
from urllib.parse import parse_qs, urlencode, urlparse

import frappe
from frappe.tests.utils import FrappeTestCase

from bank_crm.bank_engagement import outbound
from bank_crm.bank_engagement.test_outbound import TEMPLATE, FlakyServer
from bank_crm.bank_outreach import broadcasts
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

BROADCAST = "Bank Broadcast"
RECIPIENT = "Bank Broadcast Recipient"
APPLY = "/api/method/frappe.model.workflow.apply_workflow"
GRANTED = "2026-01-05 10:00:00"


def consents(*purposes):
	return [
		{"purpose": p, "channel": "All Channels", "granted_on": GRANTED, "evidence_type": "Signed Form"}
		for p in purposes
	]


class TestOutreach(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		frappe.set_user("Administrator")
		cls.server = FlakyServer()
		cls.rm = make_user("out-rm", ["Relationship Manager"])
		cls.other_rm = make_user("out-rm-2", ["Relationship Manager"])
		cls.cpo = make_user("out-cpo", ["Consumer Protection Officer"])
		cls.admin = make_user("out-admin", ["CRM Administrator"])
		cls.branch = make_branch(
			"T-OUT", members=[(cls.rm, "Relationship Manager"), (cls.other_rm, "Relationship Manager")]
		)
		tag = frappe.generate_hash(length=6)
		cls.customers, cls.profiles = {}, {}
		for key, rm, extra in (
			("yes", cls.rm, {"consents": consents("Service", "Marketing")}),
			("service_only", cls.rm, {"consents": consents("Service")}),
			(
				"dnc",
				cls.rm,
				{
					"consents": consents("Service", "Marketing"),
					"do_not_contact": 1,
					"do_not_contact_reason": "客户要求",
				},
			),
			("theirs", cls.other_rm, {"consents": consents("Service", "Marketing")}),
		):
			customer = make_customer(f"推送测试 {key} {tag}", rm=rm)
			profile = make_profile(
				individual(
					customer,
					rm,
					app_user_id=f"app-{key}-{tag}",
					allow_app_push=1,
					risk_tolerance="C4",
					risk_assessment_date=frappe.utils.add_days(frappe.utils.getdate(), -30),
					**extra,
				)
			)
			cls.customers[key], cls.profiles[key] = customer, profile.name
		frappe.db.set_value("Bank Channel Adapter", {"enabled": 1}, "enabled", 0)  # one per channel
		cls.adapter = frappe.get_doc(
			{
				"doctype": "Bank Channel Adapter",
				"adapter_name": f"Test push {tag}",
				"channel": "App Push",
				"enabled": 1,
				"webhook_url": cls.server.url + "/push",
				"payload_template": TEMPLATE,
				"timeout_seconds": 5,
				"max_attempts": 3,
				"first_retry_delay_minutes": 2,
			}
		).insert(ignore_permissions=True)
		cls.tokens = {u: api_token(u) for u in (cls.rm, cls.other_rm, cls.cpo, cls.admin)}
		frappe.db.commit()
		clear_scope_cache()

	@classmethod
	def tearDownClass(cls):
		frappe.set_user("Administrator")
		cls.server.stop()
		from bank_crm.utils.traces import remove_traces

		names = frappe.get_all(BROADCAST, {"owner": ("in", [cls.rm, cls.admin, cls.other_rm])}, pluck="name")
		if names:
			remove_traces([BROADCAST], names)
			frappe.db.delete(RECIPIENT, {"broadcast": ("in", names)})
			runs = frappe.get_all(broadcasts.SENDING_RUN, {"broadcast": ("in", names)}, pluck="name")
			frappe.db.delete(
				"Bank Job Shard", {"parenttype": broadcasts.SENDING_RUN, "parent": ("in", runs or [""])}
			)
			frappe.db.delete(broadcasts.SENDING_RUN, {"name": ("in", runs or [""])})
			for child in ("Bank Broadcast Branch", "Bank Broadcast Product", "Bank Broadcast Filter"):
				frappe.db.delete(child, {"parent": ("in", names)})
			frappe.db.delete(BROADCAST, {"name": ("in", names)})
		customers = list(cls.customers.values())
		messages = frappe.get_all("Bank Outbound Message", {"customer": ("in", customers)}, pluck="name")
		remove_traces(["Bank Outbound Message"], messages)
		frappe.db.delete("Bank Outbound Message", {"name": ("in", messages or [""])})
		profiles = list(cls.profiles.values())
		remove_traces(["Bank Customer Profile"], profiles)
		frappe.db.delete("Bank Consent Record", {"parent": ("in", profiles)})
		frappe.db.delete("__Auth", {"doctype": "Bank Customer Profile", "name": ("in", profiles)})
		frappe.db.delete("Bank Customer Profile", {"name": ("in", profiles)})
		remove_traces(["Customer"], customers)
		frappe.db.delete("Customer", {"name": ("in", customers)})
		frappe.db.delete("Bank Channel Adapter", {"name": cls.adapter.name})
		frappe.db.commit()
		super().tearDownClass()

	def setUp(self):
		frappe.set_user("Administrator")
		self.server.reset()
		# adapter deliveries run at once here (a worker would run them after commit)
		for queued, run in (
			("enqueue_delivery", outbound.deliver),
			("enqueue_deliveries", outbound.deliver_many),
		):
			deliver = patch.object(outbound, queued, side_effect=run)
			deliver.start()
			self.addCleanup(deliver.stop)
		frappe.db.set_value(
			"Bank Channel Adapter", {"enabled": 1, "name": ("!=", self.adapter.name)}, "enabled", 0
		)
		# each test starts from the class's customers as made: consents in force, nothing sent
		profiles = list(self.profiles.values())
		frappe.db.set_value(
			"Bank Consent Record",
			{"parent": ("in", profiles)},
			{"withdrawn_on": None, "withdrawal_evidence": None},
		)
		frappe.db.delete("Bank Outbound Message", {"customer": ("in", list(self.customers.values()))})
		frappe.db.commit()

	# -- helpers -----------------------------------------------------------------------------
	def api(self, user):
		return Api(self.tokens[user])

	def write(self, user=None, **values):
		data = {
			"title": "测试推送",
			"content_class": "Routine Tip",
			"app_push_text": "{{ customer_name }}您好，这是一条测试推送。",
			"branches": [{"branch": self.branch}],
			**values,
		}
		response = self.api(user or self.rm).post(f"/api/resource/{BROADCAST}", data)
		self.assertEqual(response.status_code, 200, server_messages(response))
		return response.json["data"]["name"]

	def act(self, user, name, action):
		frappe.db.rollback()  # a fresh snapshot: the broadcast was written through the API
		doc = frappe.get_doc(BROADCAST, name).as_dict()
		return self.api(user).post(APPLY, {"doc": json.loads(frappe.as_json(doc)), "action": action})

	def approve_and_send(self, name):
		self.assertEqual(self.act(self.rm, name, "Submit for Review").status_code, 200)
		self.assertEqual(self.act(self.cpo, name, "Approve").status_code, 200)
		self.assertEqual(self.act(self.rm, name, "Schedule").status_code, 200)
		frappe.db.rollback()
		broadcasts.send_scheduled()
		frappe.db.commit()
		with patch.object(broadcasts, "enqueue_send"):
			broadcasts.send(name)
		frappe.db.commit()

	def rows(self, name):
		return {
			r.customer: r
			for r in frappe.get_all(
				RECIPIENT,
				{"broadcast": name},
				["customer", "status", "skip_reason", "channel", "outbound_message"],
			)
		}

	# -- review ------------------------------------------------------------------------------
	def test_nobody_approves_own_broadcast_and_only_review_roles_approve(self):
		name = self.write()
		self.assertEqual(self.act(self.rm, name, "Submit for Review").status_code, 200)
		# the author holds no reviewer role (Frappe: not a valid action, 417); another RM may not
		# even open it (403)
		refused = [self.act(user, name, "Approve") for user in (self.rm, self.other_rm)]
		self.assertEqual([r.status_code for r in refused], [417, 403], [server_messages(r) for r in refused])
		frappe.db.rollback()
		self.assertEqual(frappe.db.get_value(BROADCAST, name, "workflow_state"), "Pending Review")
		admin_made = self.write(self.admin)
		self.act(self.admin, admin_made, "Submit for Review")
		self.assertEqual(self.act(self.admin, admin_made, "Approve").status_code, 417)
		no_comment = self.act(self.cpo, name, "Reject")
		self.assertEqual(no_comment.status_code, 417, server_messages(no_comment))
		self.assertEqual(self.act(self.cpo, name, "Approve").status_code, 200)
		frappe.db.rollback()
		self.assertEqual(
			frappe.db.get_value(BROADCAST, name, ["workflow_state", "approved_by"]), ("Approved", self.cpo)
		)

	def test_content_is_frozen_once_submitted_and_marketing_above_r2_needs_a_disclosure(self):
		product = (
			frappe.db.get_value("Bank Product", {"risk_level": "R3"})
			or frappe.get_doc(
				{
					"doctype": "Bank Product",
					"product_code": "T-R3",
					"product_name": "T-R3",
					"category": "Fund",
					"risk_level": "R3",
				}
			)
			.insert(ignore_permissions=True)
			.name
		)
		frappe.db.commit()
		name = self.write(content_class="Marketing", products=[{"product": product}])
		refused = self.act(self.rm, name, "Submit for Review")
		self.assertEqual(refused.status_code, 417)
		self.assertIn("R3", server_messages(refused))
		self.api(self.rm).put(
			f"/api/resource/{BROADCAST}/{name}", {"risk_disclosure": "基金有风险，投资须谨慎。"}
		)
		self.assertEqual(self.act(self.rm, name, "Submit for Review").status_code, 200)
		edit = self.api(self.rm).put(f"/api/resource/{BROADCAST}/{name}", {"app_push_text": "改了"})
		self.assertEqual(edit.status_code, 403, server_messages(edit))

	def test_an_sms_over_its_length_is_refused(self):
		response = self.api(self.rm).post(
			f"/api/resource/{BROADCAST}",
			{"title": "长", "content_class": "Routine Tip", "sms_text": "长" * 71},
		)
		self.assertEqual(response.status_code, 417)
		self.assertIn("70", server_messages(response))

	# -- preview, sending, skips ---------------------------------------------------------------
	def test_preview_counts_skips_and_samples_within_the_authors_portfolio(self):
		name = self.write(content_class="Marketing")
		response = self.api(self.rm).get("/api/method/bank_crm.api.outreach.preview", broadcast=name)
		self.assertEqual(response.status_code, 200, server_messages(response))
		preview = response.json["message"]
		self.assertEqual(preview["recipients"], 3, "the other RM's customer is not the author's to reach")
		self.assertEqual(preview["queued"], 1)
		self.assertEqual(sum(preview["by_reason"].values()), 2)
		self.assertIn("推送测试 yes", preview["samples"][0]["text"])
		self.assertEqual(self.rows(name), {}, "a preview sends and writes nothing")
		# the preview's grouped count and the plan's row-by-row decisions agree
		planned = broadcasts.plan(frappe.get_doc(BROADCAST, name))
		frappe.db.rollback()
		self.assertEqual((planned["queued"], planned["skipped"]), (preview["queued"], preview["skipped"]))

	def test_sending_goes_through_the_adapter_once_whatever_reruns(self):
		name = self.write()
		self.approve_and_send(name)
		rows = self.rows(name)
		self.assertEqual(rows[self.customers["yes"]].status, "Sent")
		self.assertEqual(rows[self.customers["service_only"]].status, "Sent", "a tip needs a service consent")
		self.assertEqual(
			(rows[self.customers["dnc"]].status, rows[self.customers["dnc"]].skip_reason),
			("Skipped", "do not contact"),
		)
		self.assertNotIn(self.customers["theirs"], rows)
		self.assertEqual(len(self.server.requests), 2)
		self.assertEqual(frappe.db.get_value(BROADCAST, name, "workflow_state"), "Sent")
		sendings = frappe.db.count(broadcasts.SENDING_RUN, {"broadcast": name})
		self.assertEqual(broadcasts.send(name), {"sent": 0, "failed": 0})
		self.assertEqual(
			frappe.db.count(broadcasts.SENDING_RUN, {"broadcast": name}), sendings, "nothing due: no run"
		)
		broadcasts.plan(frappe.get_doc(BROADCAST, name))
		frappe.db.set_value(RECIPIENT, {"broadcast": name}, "status", "Queued")
		frappe.db.set_value(BROADCAST, name, "workflow_state", "Sending")
		frappe.db.commit()
		broadcasts.send(name)
		self.assertEqual(len(self.server.requests), 2, "a rerun sends nothing twice")
		self.assertEqual(len(self.rows(name)), 3)

	def test_workers_share_the_sending_by_shard_and_a_killed_workers_shard_is_taken_again(self):
		name = self.write()
		self.assertEqual(self.act(self.rm, name, "Submit for Review").status_code, 200)
		self.assertEqual(self.act(self.cpo, name, "Approve").status_code, 200)
		self.assertEqual(self.act(self.rm, name, "Schedule").status_code, 200)
		frappe.db.rollback()
		with patch.object(broadcasts, "enqueue_send"):
			broadcasts.send_scheduled()  # plans the rows and marks the broadcast Sending
		frappe.db.commit()
		jobs = []
		with patch("frappe.enqueue", lambda method, **kw: jobs.append((method, kw))):
			run = broadcasts.start_sending(name, shard_count=4)
		self.assertEqual(
			[(m, kw["queue"]) for m, kw in jobs],
			[("bank_crm.bank_outreach.broadcasts.send_shard", "long")] * 4,
		)
		doc = frappe.get_doc(broadcasts.SENDING_RUN, run)
		self.assertEqual(doc.broadcast, name)
		self.assertEqual(
			[(s.range_from, s.range_to) for s in doc.shards],
			[("", "4000"), ("4000", "8000"), ("8000", "c000"), ("c000", "")],
		)
		# a worker is killed after its shard started; the next start resumes the same run
		frappe.db.set_value("Bank Job Shard", doc.shards[2].name, "status", "Running")
		frappe.db.commit()
		with patch("frappe.enqueue", lambda method, **kw: jobs.append((method, kw))):
			self.assertEqual(broadcasts.start_sending(name, shard_count=4), run)
		for _method, job in reversed(jobs[4:]):  # the workers take them, in any order
			broadcasts.send_shard(job["run"], job["shard_no"])
		doc.reload()
		self.assertEqual(doc.status, "Completed", doc.error_log)
		self.assertEqual([s.status for s in doc.shards], ["Completed"] * 4)
		self.assertEqual((doc.sent, doc.failed), (2, 0))
		self.assertEqual(len(self.server.requests), 2, "each customer once")
		self.assertEqual(frappe.db.get_value(BROADCAST, name, ["workflow_state", "sent"]), ("Sent", 2))
		# a shard's job delivered twice sends nothing more
		broadcasts.send_shard(run, 0)
		self.assertEqual(len(self.server.requests), 2)

	def test_a_batch_chosen_as_a_deadlock_victim_is_sent_again_whole_and_once(self):
		name = self.write()
		real_dispatch, calls = outbound.dispatch, []

		def dispatch_once_a_victim(*args, **kwargs):
			calls.append(args[0])
			if len(calls) == 2:  # as InnoDB does: the statement fails and the transaction is lost
				raise frappe.QueryDeadlockError("Deadlock found when trying to get lock")
			return real_dispatch(*args, **kwargs)

		with patch.object(outbound, "dispatch", dispatch_once_a_victim):
			self.approve_and_send(name)
		rows = self.rows(name)
		self.assertEqual(rows[self.customers["yes"]].status, "Sent")
		self.assertEqual(rows[self.customers["service_only"]].status, "Sent")
		self.assertGreater(len(calls), 2)  # the batch ran again
		self.assertEqual(len(self.server.requests), 2, "each customer once")
		self.assertEqual(frappe.db.get_value(BROADCAST, name, "workflow_state"), "Sent")

	def test_marketing_needs_consent_respects_the_cap_and_the_opt_out_link_works(self):
		settings = frappe.get_single("Bank Outreach Settings")
		saved = [(c.tier, c.messages, c.days) for c in settings.frequency_caps]
		settings.frequency_caps = []
		settings.append("frequency_caps", {"tier": None, "messages": 1, "days": 30})
		settings.save(ignore_permissions=True)
		frappe.db.commit()
		try:
			first = self.write(content_class="Marketing")
			self.approve_and_send(first)
			rows = self.rows(first)
			self.assertEqual(rows[self.customers["yes"]].status, "Sent")
			self.assertEqual(rows[self.customers["service_only"]].skip_reason, "no consent in force")
			second = self.write(content_class="Marketing")
			self.approve_and_send(second)
			self.assertEqual(self.rows(second)[self.customers["yes"]].skip_reason, "frequency cap")
		finally:
			settings.frequency_caps = []
			for tier, messages, days in saved:
				settings.append("frequency_caps", {"tier": tier, "messages": messages, "days": days})
			settings.save(ignore_permissions=True)
			frappe.db.commit()
		url = urlparse(broadcasts.opt_out_url(first, self.customers["yes"]))
		args = {k: v[0] for k, v in parse_qs(url.query).items()}
		self.assertEqual(Api().post(url.path, {**args, "t": "forged"}).status_code, 400)
		opened = Api().get(url.path, **args)  # a link scanner's visit changes nothing
		self.assertEqual(opened.status_code, 200)
		self.assertIn("<form", opened.text)
		frappe.db.rollback()
		self.assertFalse(
			frappe.db.get_value(
				"Bank Consent Record",
				{"parent": self.profiles["yes"], "purpose": "Marketing"},
				"withdrawn_on",
			)
		)
		# as the confirmation page's form sends it
		confirmed = Api().post_raw(url.path, urlencode(args), "application/x-www-form-urlencoded")
		self.assertEqual(confirmed.status_code, 200, confirmed.text[:500])
		frappe.db.rollback()
		withdrawn = frappe.get_all(
			"Bank Consent Record",
			{"parent": self.profiles["yes"], "purpose": "Marketing"},
			["withdrawn_on", "withdrawal_evidence"],
		)
		self.assertTrue(withdrawn[0].withdrawn_on and first in withdrawn[0].withdrawal_evidence)
		self.assertEqual(
			frappe.db.get_value(
				RECIPIENT, {"broadcast": first, "customer": self.customers["yes"]}, "opted_out"
			),
			1,
		)
		later = self.write(content_class="Marketing")
		frappe.db.rollback()
		later = broadcasts.preview(frappe.get_doc(BROADCAST, later))
		self.assertEqual(later["queued"], 0)

	# -- access ----------------------------------------------------------------------------------
	def test_another_rm_sees_neither_the_broadcast_nor_its_deliveries(self):
		name = self.write()
		self.approve_and_send(name)
		other = self.api(self.other_rm)
		self.assertEqual(other.get(f"/api/resource/{BROADCAST}/{name}").status_code, 403)
		self.assertEqual(
			other.get("/api/method/bank_crm.api.outreach.preview", broadcast=name).status_code, 403
		)
		listed = other.get(f"/api/resource/{RECIPIENT}", filters=[["broadcast", "=", name]]).json["data"]
		self.assertEqual(listed, [])
		mine = self.api(self.rm).get(
			f"/api/resource/{RECIPIENT}", filters=[["broadcast", "=", name]], fields=["customer"]
		)
		self.assertEqual(len(mine.json["data"]), 3)

	def test_a_static_list_names_only_customers_the_author_may_reach(self):
		mine, theirs = self.customers["yes"], self.customers["theirs"]
		refused = self.api(self.rm).post(
			f"/api/resource/{BROADCAST}",
			{
				"title": "名单",
				"content_class": "Routine Tip",
				"app_push_text": "测试",
				"customer_list": f"{mine}\n{theirs}\nNO-SUCH-CUSTOMER\n",
			},
		)
		self.assertEqual(refused.status_code, 417)
		message = server_messages(refused)
		self.assertIn("2", message)
		# another RM's customer and an unknown id read alike
		self.assertIn(theirs, message)
		self.assertIn("NO-SUCH-CUSTOMER", message)
		name = self.write(customer_list=f" {mine}\n{mine}\n", branches=[])
		frappe.db.rollback()
		self.assertEqual(frappe.db.get_value(BROADCAST, name, "customer_list"), mine)
		self.assertEqual(broadcasts.preview(frappe.get_doc(BROADCAST, name))["recipients"], 1)

	def test_the_reach_column_reads_like_the_profile(self):
		"""The preview's packed column and the plan's row read give ``decide`` the same inputs."""
		profile = self.profiles["service_only"]
		frappe.db.set_value(
			"Bank Customer Profile",
			profile,
			{"quiet_hours_start": "21:30:00", "quiet_hours_end": "08:00:00", "preferred_channel": "SMS"},
		)
		doc = frappe.new_doc(BROADCAST)
		doc.content_class = "Marketing"
		now = frappe.utils.now_datetime()
		listed = frappe.db.escape(profile)
		[row] = broadcasts._rows(doc, f"p.name = {listed}", now, 30)
		reach = frappe.db.get_value("Bank Customer Profile", profile, broadcasts.REACH_COLUMN)
		self.assertEqual(
			broadcasts._from_reach(reach),
			[broadcasts._time(v) if i >= 12 and i < 14 else v for i, v in enumerate(row[6:-2])],
		)
		frappe.db.rollback()
