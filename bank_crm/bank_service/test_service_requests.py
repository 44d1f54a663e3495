"""Service requests, SLAs, the complaint Workflow and escalation, driven over REST as the real
roles: RM, branch manager, complaint handlers, consumer protection, auditor."""

from datetime import timedelta

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import get_datetime, getdate, now_datetime

from bank_crm.bank_service import escalation
from bank_crm.bank_service import service_requests as svc
from bank_crm.permissions import clear_scope_cache
from bank_crm.tests.factories import Api, api_token, make_branch, make_customer, make_user, server_messages

REQUEST = "Bank Service Request"
COMPLAINT = "Bank Complaint"
REQUEST_URL = "/api/resource/Bank Service Request"
APPLY = "/api/method/frappe.model.workflow.apply_workflow"


class TestServiceRequests(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		frappe.set_user("Administrator")
		cls.rm = make_user("svc-rm", ["Relationship Manager"])
		cls.rm_other = make_user("svc-rm-other", ["Relationship Manager"])
		cls.bm = make_user("svc-bm", ["Branch Manager"])
		cls.bm_other = make_user("svc-bm-other", ["Branch Manager"])
		cls.handler = make_user("svc-handler", ["Complaint Handler", "Consumer Protection Officer"])
		cls.accused = make_user("svc-accused", ["Complaint Handler"])
		cls.cpo = make_user("svc-cpo", ["Consumer Protection Officer"])
		cls.auditor = make_user("svc-auditor", ["Compliance Auditor"])
		cls.branch = make_branch(
			"T-SVC-1", members=[(cls.rm, "Relationship Manager"), (cls.bm, "Branch Manager")]
		)
		cls.other_branch = make_branch(
			"T-SVC-2", members=[(cls.rm_other, "Relationship Manager"), (cls.bm_other, "Branch Manager")]
		)
		tag = frappe.generate_hash(length=6)
		cls.customer = make_customer(f"服务测试 {tag}", rm=cls.rm)
		frappe.db.set_value("Customer", cls.customer, {"bank_branch": cls.branch, "bank_tier": "VIP"})
		cls.other_customer = make_customer(f"服务测试 B {tag}", rm=cls.rm_other)
		frappe.db.set_value("Customer", cls.other_customer, "bank_branch", cls.other_branch)
		cls.tokens = {
			u: api_token(u)
			for u in (
				cls.rm,
				cls.rm_other,
				cls.bm,
				cls.handler,
				cls.accused,
				cls.cpo,
				cls.auditor,
				cls.bm_other,
			)
		}
		frappe.db.commit()
		clear_scope_cache()

	@classmethod
	def tearDownClass(cls):
		frappe.set_user("Administrator")
		customers = (cls.customer, cls.other_customer)
		requests = frappe.get_all(REQUEST, {"customer": ("in", customers)}, pluck="name")
		complaints = frappe.get_all(COMPLAINT, {"customer": ("in", customers)}, pluck="name")
		for dt, names in ((REQUEST, requests), (COMPLAINT, complaints)):
			if not names:
				continue
			for child in ("Bank Request Task", "Bank Request Update", "Bank Rectification Action"):
				frappe.db.delete(child, {"parenttype": dt, "parent": ("in", names)})
			for table, column in (
				("ToDo", "reference_name"),
				("Comment", "reference_name"),
				("Version", "docname"),
				("Communication", "reference_name"),
				("Notification Log", "document_name"),
				("Bank Escalation Log", "reference_name"),
				("DocShare", "share_name"),
			):
				frappe.db.delete(table, {column: ("in", names)})
			frappe.db.delete(dt, {"name": ("in", names)})
		if frappe.db.table_exists("Bank Outbound Message"):
			frappe.db.delete("Bank Outbound Message", {"customer": ("in", customers)})
		frappe.db.delete("Communication Link", {"link_doctype": "Customer", "link_name": ("in", customers)})
		for c in customers:
			frappe.db.delete("Customer", {"name": c})
		frappe.db.commit()
		super().tearDownClass()

	def api(self, user) -> Api:
		return Api(self.tokens[user])

	def register(self, user=None, **values) -> dict:
		data = {
			"customer": self.customer,
			"request_type": "Inquiry",
			"urgency": "Normal",
			"channel": "Phone",
			"subject": "查询理财产品到期",
			**values,
		}
		response = self.api(user or self.rm).post(REQUEST_URL, data)
		self.assertEqual(response.status_code, 200, server_messages(response))
		return response.json["data"]

	def call(self, user, method, **data):
		return self.api(user).post(f"/api/method/bank_crm.api.service.{method}", data)

	def ok(self, response):
		self.assertEqual(response.status_code, 200, server_messages(response))
		return response.json.get("message") or response.json.get("data")

	def apply(self, user, complaint, action):
		return self.api(user).post(
			APPLY, {"doc": {"doctype": COMPLAINT, "name": complaint}, "action": action}
		)

	def reload(self, doctype, name):
		frappe.db.rollback()  # see what the API's connection committed
		return frappe.get_doc(doctype, name)

	# -- registration and SLA ----------------------------------------------------------------
	def test_registration_computes_the_tier_sla_assigns_the_rm_and_tells_the_promised_date(self):
		data = self.register()
		rule = svc.find_rule("Inquiry", "Normal", "VIP")
		registered = get_datetime(data["registered_on"])
		self.assertEqual(
			get_datetime(data["response_due"]), registered + timedelta(hours=rule.response_hours)
		)
		self.assertEqual(
			get_datetime(data["resolution_due"]), registered + timedelta(hours=rule.resolution_hours)
		)
		self.assertEqual(getdate(data["promised_feedback_date"]), get_datetime(data["resolution_due"]).date())
		self.assertEqual(
			(data["relationship_manager"], data["branch"], data["tier"]), (self.rm, self.branch, "VIP")
		)
		self.assertTrue(data["next_deadline"])
		doc = self.reload(REQUEST, data["name"])
		self.assertTrue(
			frappe.db.exists("ToDo", {"reference_name": doc.name, "allocated_to": self.rm, "status": "Open"})
		)
		self.assertEqual([u.kind for u in doc.updates], ["Promised Feedback Date"])
		self.assertTrue(
			frappe.db.exists(
				"Communication Link",
				{"link_doctype": "Customer", "link_name": self.customer, "parent": doc.updates[0].reference},
			)
		)

	def test_vip_sla_is_tighter_than_mass(self):
		vip = svc.find_rule("Complaint", "Urgent", "VIP")
		mass = svc.find_rule("Complaint", "Urgent", "Mass")
		self.assertLess(vip.resolution_hours, mass.resolution_hours)

	def test_emergency_escalates_to_the_branch_manager_at_once(self):
		data = self.register(urgency="Emergency", subject="银行卡被盗刷")
		frappe.db.rollback()
		logs = frappe.get_all(
			"Bank Escalation Log", {"reference_name": data["name"]}, ["recipient", "notified_users", "reason"]
		)
		self.assertEqual(len(logs), 1)
		self.assertEqual(
			(logs[0].recipient, logs[0].notified_users, logs[0].reason),
			("Branch Manager", self.bm, "Emergency"),
		)
		self.assertTrue(frappe.db.exists("ToDo", {"reference_name": data["name"], "allocated_to": self.bm}))
		self.assertTrue(
			frappe.db.exists("Notification Log", {"document_name": data["name"], "for_user": self.bm})
		)

	def test_waiting_on_the_customer_pauses_and_never_moves_the_deadline_earlier(self):
		name = self.register()["name"]
		before = get_datetime(frappe.db.get_value(REQUEST, name, "resolution_due"))
		result = self.ok(self.call(self.rm, "wait_on_customer", name=name, message="请提供流水"))
		self.assertEqual(result["status"], "Waiting on Customer")
		self.assertIsNone(result["next_deadline"], "a paused request is not escalated")
		frappe.db.rollback()
		frappe.db.set_value(REQUEST, name, "paused_since", now_datetime() - timedelta(hours=5))
		frappe.db.commit()
		result = self.ok(self.call(self.rm, "customer_replied", name=name))
		doc = self.reload(REQUEST, name)
		self.assertEqual(doc.status, "In Progress")
		self.assertGreaterEqual(doc.paused_seconds, 5 * 3600)
		self.assertGreaterEqual(get_datetime(doc.resolution_due), before + timedelta(hours=5))

	def test_first_contact_resolution_is_flagged(self):
		name = self.register()["name"]
		result = self.ok(self.call(self.rm, "resolve", name=name, resolution="当场解答", first_contact=1))
		self.assertEqual(result["status"], "Resolved")
		doc = self.reload(REQUEST, name)
		self.assertEqual(doc.first_contact_resolution, 1)
		self.assertEqual(doc.updates[-1].kind, "Result")

	def test_open_department_task_blocks_resolution_and_dissatisfaction_reopens(self):
		name = self.register(request_type="Business Application", subject="开立对公账户")
		name = name["name"]
		self.ok(self.call(self.rm, "respond", name=name, message="已受理", channel="SMS"))
		due = str(now_datetime() + timedelta(days=2))
		task = self.ok(
			self.call(self.rm, "add_task", name=name, department="Risk", owner=self.bm, deadline=due)
		)["task"]
		frappe.db.rollback()
		self.assertTrue(frappe.db.exists("ToDo", {"reference_name": name, "allocated_to": self.bm}))
		response = self.call(self.rm, "resolve", name=name, resolution="已开户")
		self.assertNotEqual(response.status_code, 200)
		self.assertIn("still open", server_messages(response))
		response = self.call(self.rm, "resolve", name=name, resolution="已开户", first_contact=1)
		self.assertNotEqual(response.status_code, 200)
		self.ok(self.call(self.rm, "complete_task", name=name, task=task))
		# a task for the RM, who is already assigned, gets its own ToDo: completing it keeps the RM's
		own = self.ok(
			self.call(self.rm, "add_task", name=name, department="IT", owner=self.rm, deadline=due)
		)["task"]
		self.ok(self.call(self.rm, "complete_task", name=name, task=own))
		frappe.db.rollback()
		self.assertEqual(
			frappe.db.count("ToDo", {"reference_name": name, "allocated_to": self.rm, "status": "Open"}), 1
		)
		self.assertEqual(
			frappe.db.count("ToDo", {"reference_name": name, "allocated_to": self.rm, "status": "Closed"}), 1
		)
		self.ok(self.call(self.rm, "resolve", name=name, resolution="已开户", channel="Email"))
		result = self.ok(self.call(self.rm, "confirm_satisfaction", name=name, score=2, comment="太慢"))
		self.assertEqual(result["status"], "Reopened")
		doc = self.reload(REQUEST, name)
		self.assertEqual((doc.reopen_count, doc.satisfaction, doc.resolved_on), (1, 2, None))
		self.assertTrue(doc.next_deadline)
		self.ok(self.call(self.rm, "resolve", name=name, resolution="已开户并致歉"))
		result = self.ok(self.call(self.rm, "confirm_satisfaction", name=name, score=5))
		self.assertEqual(result["status"], "Closed")
		self.assertIsNone(self.reload(REQUEST, name).next_deadline)

	# -- row-level access --------------------------------------------------------------------
	def test_rm_sees_own_customers_requests_head_office_sees_all(self):
		mine = self.register()["name"]
		theirs = self.register(user=self.rm_other, customer=self.other_customer)["name"]
		names = [mine, theirs]

		def visible(user):
			r = self.api(user).get(REQUEST_URL, filters=[["name", "in", names]], limit_page_length=0)
			self.assertEqual(r.status_code, 200, r.text)
			return {row["name"] for row in r.json["data"]}

		self.assertEqual(visible(self.rm), {mine})
		self.assertEqual(visible(self.bm), {mine})
		self.assertEqual(visible(self.cpo), set(names))
		self.assertEqual(visible(self.auditor), set(names))
		self.assertEqual(self.api(self.rm).get(f"{REQUEST_URL}/{theirs}").status_code, 403)
		self.assertNotEqual(self.call(self.rm, "respond", name=theirs, message="x").status_code, 200)
		r = self.api(self.rm).post(
			REQUEST_URL,
			{
				"customer": self.other_customer,
				"request_type": "Inquiry",
				"urgency": "Normal",
				"channel": "Phone",
				"subject": "x",
			},
		)
		self.assertEqual(r.status_code, 403)
		self.assertEqual(
			self.api(self.auditor).put(f"{REQUEST_URL}/{mine}", {"product": "x"}).status_code, 403
		)

	# -- the complaint Workflow --------------------------------------------------------------
	def complaint(self, **values):
		data = self.register(request_type="Complaint", subject="理财产品销售误导", **values)
		name = data["complaint"]
		self.assertTrue(name)
		frappe.db.rollback()
		frappe.db.set_value(COMPLAINT, name, "subject_staff", self.accused)
		frappe.db.commit()
		return data["name"], name

	def step(self, user, complaint, action, state):
		r = self.apply(user, complaint, action)
		self.assertEqual(r.status_code, 200, server_messages(r))
		self.assertEqual(r.json["message"]["workflow_state"], state)

	def put(self, user, complaint, values):
		r = self.api(user).put(f"/api/resource/{COMPLAINT}/{complaint}", values)
		self.assertEqual(r.status_code, 200, server_messages(r))

	def test_complaint_runs_the_workflow_with_recusal_and_independent_approval(self):
		request, name = self.complaint()
		doc = self.reload(COMPLAINT, name)
		self.assertEqual(doc.workflow_state, "Registered")
		self.assertEqual(doc.regulatory_deadline, getdate(doc.registered_on) + timedelta(days=15))
		self.assertEqual(doc.deadline_source, "Standard (15 days)")
		# the complained-about staff member cannot handle it
		r = self.apply(self.accused, name, "Acknowledge")
		self.assertNotEqual(r.status_code, 200)
		self.assertIn("subject of this complaint", server_messages(r))
		r = self.api(self.cpo).put(f"/api/resource/{COMPLAINT}/{name}", {"handler": self.accused})
		self.assertNotEqual(r.status_code, 200)
		self.step(self.handler, name, "Acknowledge", "Acknowledged")
		self.assertEqual(self.reload(COMPLAINT, name).handler, self.handler)
		self.assertEqual(
			self.reload(REQUEST, request).status, "In Progress", "acknowledging answers the request"
		)
		r = self.call(self.rm, "resolve", name=request, resolution="私下了结")
		self.assertIn("through its workflow", server_messages(r))
		self.step(self.handler, name, "Start Investigation", "Investigating")
		r = self.apply(self.handler, name, "Propose Resolution")
		self.assertIn("proposed resolution", server_messages(r))
		self.put(self.handler, name, {"resolution_proposal": "退还手续费并致歉"})
		self.step(self.handler, name, "Propose Resolution", "Resolution Proposed")
		# the handler (who is also a consumer protection officer) cannot approve their own resolution
		r = self.apply(self.handler, name, "Approve")
		self.assertNotEqual(r.status_code, 200)
		self.assertIn("cannot approve", server_messages(r))
		self.assertEqual(self.reload(COMPLAINT, name).workflow_state, "Resolution Proposed")
		# rejection goes back to investigating
		self.put(self.cpo, name, {"rejection_reason": "补充录音证据"})
		self.step(self.cpo, name, "Reject", "Investigating")
		self.step(self.handler, name, "Propose Resolution", "Resolution Proposed")
		# a branch manager of another branch cannot even open it
		self.assertEqual(self.apply(self.bm_other, name, "Approve").status_code, 403)
		self.step(self.bm, name, "Approve", "Approved")
		doc = self.reload(COMPLAINT, name)
		self.assertEqual((doc.approved_by, doc.decided_on, doc.next_deadline), (self.bm, getdate(), None))
		self.step(self.handler, name, "Inform Customer", "Customer Informed")
		self.assertEqual(self.reload(REQUEST, request).status, "Resolved")
		r = self.apply(self.handler, name, "Close")
		self.assertIn("Lessons Learned", server_messages(r))
		self.put(
			self.handler,
			name,
			{
				"root_cause_category": "People",
				"lessons_learned": "销售话术需双录复核",
				"rectification_actions": [
					{
						"action": "全员培训",
						"action_owner": self.bm,
						"due_date": str(getdate() + timedelta(days=30)),
					}
				],
			},
		)
		self.step(self.handler, name, "Close", "Closed")
		self.assertTrue(self.reload(COMPLAINT, name).closed_on)

	def test_extension_needs_a_reason_and_an_approver_other_than_the_handler_once(self):
		request, name = self.complaint()
		self.step(self.handler, name, "Acknowledge", "Acknowledged")
		self.step(self.handler, name, "Start Investigation", "Investigating")
		r = self.apply(self.handler, name, "Request Extension")
		self.assertIn("reason", server_messages(r))
		self.put(self.handler, name, {"extension_reason": "需第三方保险公司出具报告"})
		self.step(self.handler, name, "Request Extension", "Extension Requested")
		r = self.apply(self.handler, name, "Approve Extension")
		self.assertIn("cannot approve", server_messages(r))
		self.step(self.cpo, name, "Approve Extension", "Extended Investigation")
		doc = self.reload(COMPLAINT, name)
		self.assertEqual(doc.regulatory_deadline, getdate(doc.registered_on) + timedelta(days=60))
		self.assertEqual(
			(doc.deadline_source, doc.extension_status), ("Approved extension (+30 days)", "Approved")
		)
		self.assertTrue(doc.extension_notified_on)
		self.assertIn("Extension Notice", [u.kind for u in self.reload(REQUEST, request).updates])
		# no second extension: the Workflow offers none, and the server refuses a forced one
		self.assertNotEqual(self.apply(self.handler, name, "Request Extension").status_code, 200)
		frappe.set_user(self.handler)
		try:
			doc = frappe.get_doc(COMPLAINT, name)
			doc.workflow_state = "Investigating"
			doc.flags.ignore_permissions = True
			self.assertRaises(frappe.ValidationError, doc.save)
		finally:
			frappe.set_user("Administrator")
			frappe.db.rollback()

	# -- escalation --------------------------------------------------------------------------
	def test_escalation_notifies_each_level_once_per_breach(self):
		name = self.register(subject="升级测试")["name"]
		frappe.db.rollback()
		due = get_datetime(frappe.db.get_value(REQUEST, name, "response_due"))
		frappe.db.commit()

		def logs():
			return frappe.get_all(
				"Bank Escalation Log",
				{"reference_name": name},
				["level", "recipient", "notified_users", "deadline_kind"],
				order_by="level",
			)

		escalation.escalate_due(now=due - timedelta(minutes=30))
		self.assertEqual([(g.level, g.notified_users) for g in logs()], [(1, self.rm)])
		escalation.escalate_due(now=due - timedelta(minutes=20))
		self.assertEqual(len(logs()), 1, "the same level is not notified twice")
		escalation.escalate_due(now=due + timedelta(minutes=1))
		escalation.escalate_due(now=due + timedelta(minutes=2))
		self.assertEqual([(g.level, g.notified_users) for g in logs()], [(1, self.rm), (2, self.bm)])
		doc = frappe.get_doc(REQUEST, name)
		self.assertEqual((doc.escalation_level, doc.response_breached), (2, 1))
		self.assertEqual(get_datetime(doc.next_deadline), due + timedelta(days=1))
		escalation.escalate_due(now=due + timedelta(days=2))
		self.assertEqual(logs()[-1].recipient, "Consumer Protection Officer")
		self.assertIn(self.cpo, logs()[-1].notified_users)
		self.assertIsNone(frappe.db.get_value(REQUEST, name, "next_deadline"))
		escalation.escalate_due(now=due + timedelta(days=3))
		self.assertEqual(len(logs()), 3)
		self.assertEqual(frappe.db.count("Notification Log", {"document_name": name, "for_user": self.bm}), 1)
		# answering starts the resolution clock: a new deadline is a new breach
		self.ok(self.call(self.rm, "respond", name=name, message="已回复"))
		doc = self.reload(REQUEST, name)
		escalation.escalate_due(now=get_datetime(doc.resolution_due) + timedelta(minutes=1))
		kinds = [(g.deadline_kind, g.level) for g in logs()]
		self.assertIn(("Resolution", 1), kinds)
		self.assertIn(("Resolution", 2), kinds)

	def test_complaint_regulatory_clock_escalates(self):
		_request, name = self.complaint()
		deadline = frappe.db.get_value(COMPLAINT, name, "regulatory_deadline")
		escalation.escalate_due(now=get_datetime(f"{deadline} 23:59:59") + timedelta(hours=1))
		logs = frappe.get_all("Bank Escalation Log", {"reference_name": name}, ["level", "deadline_kind"])
		self.assertEqual(
			{(g.level, g.deadline_kind) for g in logs},
			{(1, "Regulatory Decision"), (2, "Regulatory Decision")},
		)
		self.assertEqual(frappe.db.get_value(COMPLAINT, name, "regulatory_breached"), 1)

	# -- reports -----------------------------------------------------------------------------
	def report(self, user, name, **filters):
		r = self.api(user).get(
			"/api/method/frappe.desk.query_report.run",
			report_name=name,
			filters=filters,
			ignore_prepared_report=1,
		)
		self.assertEqual(r.status_code, 200, server_messages(r))
		return r.json["message"]

	def test_reports_respect_row_level_access(self):
		self.complaint()
		self.complaint()
		self.register(
			user=self.rm_other, customer=self.other_customer, request_type="Complaint", subject="其他"
		)
		frappe.db.rollback()
		mine = frappe.db.count(COMPLAINT, {"customer": self.customer})
		theirs = frappe.db.count(COMPLAINT, {"customer": self.other_customer})
		rm = self.report(self.rm, "Complaint Analysis", group_by="Repeat Complainants")
		self.assertEqual(
			[(r["label"], r["complaints"]) for r in rm["result"]],
			[(frappe.db.get_value("Customer", self.customer, "customer_name"), mine)],
		)
		self.assertTrue(rm["chart"]["data"]["labels"])
		cpo = self.report(self.cpo, "Complaint Analysis", group_by="Category")
		self.assertGreaterEqual(sum(r["complaints"] for r in cpo["result"]), mine + theirs)
		rm_cat = self.report(self.rm, "Complaint Analysis", group_by="Category")
		self.assertEqual(sum(r["complaints"] for r in rm_cat["result"]), mine)
		sla_rm = self.report(self.rm, "SLA Compliance", group_by="Request Type")
		sla_auditor = self.report(self.auditor, "SLA Compliance", group_by="Request Type")
		rm_total = sum(r["requests"] for r in sla_rm["result"])
		self.assertEqual(rm_total, frappe.db.count(REQUEST, {"customer": self.customer}))
		self.assertGreater(sum(r["requests"] for r in sla_auditor["result"]), rm_total)

	def test_escalation_log_follows_row_level_access(self):
		mine = self.register(urgency="Emergency", subject="紧急")["name"]
		theirs = self.register(
			user=self.rm_other, customer=self.other_customer, urgency="Emergency", subject="紧急"
		)["name"]

		def visible(user):
			r = self.api(user).get(
				"/api/resource/Bank Escalation Log",
				fields=["reference_name"],
				filters=[["reference_name", "in", [mine, theirs]]],
				limit_page_length=0,
			)
			self.assertEqual(r.status_code, 200, r.text)
			return {row["reference_name"] for row in r.json["data"]}

		self.assertEqual(visible(self.rm), {mine})
		self.assertEqual(visible(self.bm_other), {theirs})
		self.assertEqual(visible(self.cpo), {mine, theirs})
		self.assertEqual(visible(self.auditor), {mine, theirs})

	def test_settings_refuse_overlapping_rules_and_a_bad_matrix(self):
		settings = frappe.get_single("Bank Service Settings")
		settings.append("sla_rules", settings.sla_rules[0].as_dict(no_default_fields=True))
		self.assertRaises(frappe.ValidationError, settings.save)
		settings.reload()
		settings.escalation_matrix[0].offset_minutes = 10_000
		self.assertRaises(frappe.ValidationError, settings.save)
		frappe.db.rollback()
