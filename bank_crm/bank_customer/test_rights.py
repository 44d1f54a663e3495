"""Personal-information rights, retention and suitability — on a real site, over REST as the
real users: a request of each kind through its Workflow, the export (every doctype naming the
customer, private, out of other RMs' reach), deletion refused then carried out as anonymisation
with a scan of the whole database, consent withdrawal stopping marketing, and no product
recommended above the customer's risk level."""

import json
import random

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import add_days, add_years, getdate, now_datetime, today

from bank_crm.bank_customer import anonymisation as retention
from bank_crm.bank_customer import data_subject_rights as service
from bank_crm.permissions import clear_scope_cache
from bank_crm.tests.factories import (
	Api,
	api_token,
	individual,
	make_branch,
	make_customer,
	make_profile,
	make_user,
	new_id,
	server_messages,
)

REQUEST = "Bank Data Subject Request"
PROFILE = "Bank Customer Profile"
URL = f"/api/resource/{REQUEST}"
APPLY = "/api/method/frappe.model.workflow.apply_workflow"
GRANTED = "2026-01-05 10:00:00"


class TestRights(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		frappe.set_user("Administrator")
		cls.handler = make_user("dsr-handler", ["Complaint Handler"])
		cls.cpo = make_user("dsr-cpo", ["Consumer Protection Officer"])
		cls.cpo2 = make_user("dsr-cpo-2", ["Consumer Protection Officer"])
		cls.rm = make_user("dsr-rm", ["Relationship Manager"])
		cls.other_rm = make_user("dsr-rm-2", ["Relationship Manager"])
		make_branch(
			"T-DSR", members=[(cls.rm, "Relationship Manager"), (cls.other_rm, "Relationship Manager")]
		)
		cls.tag = frappe.generate_hash(length=6)
		cls.customers, cls.profiles = [], []
		cls.tokens = {u: api_token(u) for u in (cls.handler, cls.cpo, cls.cpo2, cls.rm, cls.other_rm)}
		for code, risk in (("T-DSR-R4", "R4"), ("T-DSR-R2", "R2")):
			if not frappe.db.exists("Bank Product", code):
				frappe.get_doc(
					{
						"doctype": "Bank Product",
						"product_code": code,
						"product_name": code,
						"category": "Fund",
						"risk_level": risk,
					}
				).insert(ignore_permissions=True)
		frappe.db.commit()
		clear_scope_cache()

	@classmethod
	def tearDownClass(cls):
		frappe.set_user("Administrator")
		from bank_crm.utils.traces import remove_traces

		requests = frappe.get_all(REQUEST, {"customer": ("in", cls.customers)}, pluck="name")
		remove_traces([REQUEST], requests)
		frappe.db.delete(REQUEST, {"name": ("in", requests)})
		for doctype in ("Bank Visit Plan", "Bank Interaction", "Bank Activity Event"):
			names = frappe.get_all(doctype, {"customer": ("in", cls.customers)}, pluck="name")
			remove_traces([doctype], names)
			frappe.db.delete(doctype, {"name": ("in", names)})
		opportunities = frappe.get_all("Opportunity", {"party_name": ("in", cls.customers)}, pluck="name")
		remove_traces(["Opportunity"], opportunities)
		frappe.db.delete("Opportunity", {"name": ("in", opportunities)})
		remove_traces([PROFILE], cls.profiles)
		frappe.db.delete("__Auth", {"doctype": PROFILE, "name": ("in", cls.profiles)})
		frappe.db.delete(PROFILE, {"name": ("in", cls.profiles)})
		remove_traces(["Customer"], cls.customers)
		frappe.db.delete("Customer", {"name": ("in", cls.customers)})
		frappe.db.commit()
		super().tearDownClass()

	def setUp(self):
		frappe.set_user("Administrator")
		frappe.cache.delete_keys("rl:")

	# -- helpers -----------------------------------------------------------------------------------
	def customer(self, rm=None, **values):
		name = f"权利测试{len(self.customers)} {self.tag}"
		customer = make_customer(name, rm=rm or self.rm)
		profile = make_profile(individual(customer, rm or self.rm, **values)).name
		self.customers.append(customer)
		self.profiles.append(profile)
		frappe.db.commit()
		return customer, profile

	def api(self, user):
		return Api(self.tokens[user])

	def register(self, customer, kind, user=None, **values):
		response = self.api(user or self.handler).post(
			URL,
			{
				"customer": customer,
				"request_type": kind,
				"channel": "Branch",
				"received_on": today(),
				"details": "客户到网点提出请求",
				**values,
			},
		)
		self.assertEqual(response.status_code, 200, response.text)
		return response.json["data"]["name"]

	def act(self, name, action, user):
		response = self.api(user).post(APPLY, {"doc": {"doctype": REQUEST, "name": name}, "action": action})
		frappe.db.rollback()
		return response

	def checked(self, name, user=None):
		response = self.api(user or self.handler).put(
			f"{URL}/{name}", {"identity_checked": 1, "identity_method": "ID Card at Counter"}
		)
		self.assertEqual(response.status_code, 200, response.text)

	def complete(self, name, approver=None):
		self.checked(name)
		sent = self.act(name, "Submit for Approval", self.handler)
		self.assertEqual(sent.status_code, 200, sent.text)
		done = self.act(name, "Approve", approver or self.cpo)
		self.assertEqual(done.status_code, 200, done.text)
		return frappe.get_doc(REQUEST, name)

	# -- the request and its clock -----------------------------------------------------------------
	def test_a_request_is_answered_within_fifteen_working_days_and_needs_the_identity_check(self):
		customer, _ = self.customer()
		name = self.register(customer, "Explanation")
		doc = frappe.get_doc(REQUEST, name)
		self.assertEqual(doc.workflow_state, "Registered")
		self.assertEqual(doc.handler, self.handler)
		self.assertTrue(19 <= (getdate(doc.due_date) - getdate(today())).days <= 23)
		refused = self.act(name, "Submit for Approval", self.handler)
		self.assertEqual(refused.status_code, 417, refused.text)
		self.assertIn("Identity Checked", server_messages(refused))
		future = self.api(self.handler).post(
			URL,
			{
				"customer": customer,
				"request_type": "Access",
				"channel": "Phone",
				"received_on": add_days(today(), 3),
				"details": "x",
			},
		)
		self.assertEqual(future.status_code, 417)
		self.assertIn("Received On", server_messages(future))

	def test_the_handler_never_approves_and_an_officer_does(self):
		customer, _ = self.customer()
		# a Consumer Protection Officer who registered and handled it may not approve it too
		name = self.register(customer, "Explanation", user=self.cpo)
		self.checked(name, user=self.cpo)
		self.assertEqual(self.act(name, "Submit for Approval", self.cpo).status_code, 200)
		own = self.act(name, "Approve", self.cpo)
		self.assertNotEqual(own.status_code, 200)
		self.assertEqual(frappe.db.get_value(REQUEST, name, "workflow_state"), "Pending Approval")
		self.assertNotEqual(self.act(name, "Approve", self.handler).status_code, 200)  # not an approver
		self.assertEqual(self.act(name, "Approve", self.cpo2).status_code, 200)
		doc = frappe.get_doc(REQUEST, name)
		self.assertEqual(
			(doc.workflow_state, doc.approver, doc.decision), ("Completed", self.cpo2, "Granted")
		)
		self.assertIn("scoring policy", doc.answer)  # the explanation, in plain words
		changed = self.api(self.cpo2).put(f"{URL}/{name}", {"answer": "rewritten"})
		self.assertNotEqual(changed.status_code, 200)

	def test_rms_see_requests_of_their_own_customers_only(self):
		customer, _ = self.customer()
		name = self.register(customer, "Explanation")
		self.assertEqual(self.api(self.rm).get(f"{URL}/{name}").status_code, 200)
		self.assertEqual(self.api(self.other_rm).get(f"{URL}/{name}").status_code, 403)
		listed = self.api(self.other_rm).get(URL, filters=[["name", "=", name]]).json["data"]
		self.assertEqual(listed, [])

	# -- access: the export ------------------------------------------------------------------------
	def test_the_export_holds_every_doctype_that_names_the_customer(self):
		customer, profile = self.customer()
		frappe.get_doc(
			{
				"doctype": "Bank Activity Event",
				"external_id": f"dsr-{self.tag}",
				"customer": customer,
				"event_type": "FX Rate Query",
				"event_time": now_datetime(),
				"channel": "Mobile App",
				"source": "test",
			}
		).insert(ignore_permissions=True)
		data = service.export(customer)
		# an independent walk of the app's doctypes: one added later cannot be forgotten
		modules = frappe.get_all("Module Def", {"app_name": "bank_crm"}, pluck="name")
		naming = set()
		for doctype in frappe.get_all("DocType", {"module": ("in", modules), "istable": 0}, pluck="name"):
			meta = frappe.get_meta(doctype)
			if any(f.fieldtype == "Link" and f.options in ("Customer", PROFILE) for f in meta.fields):
				naming.add(doctype)
		self.assertIn("Bank Need Signal", naming)
		self.assertLessEqual(naming, set(data["records"]))
		self.assertEqual(len(data["records"]["Bank Activity Event"]), 1)
		number = frappe.utils.password.get_decrypted_password(PROFILE, profile, "id_number")
		self.assertEqual(data["records"][PROFILE][0]["id_number"], number)
		frappe.db.rollback()

	def test_an_access_request_attaches_a_private_export_other_rms_cannot_open(self):
		customer, profile = self.customer()
		doc = self.complete(self.register(customer, "Access"))
		self.assertEqual(doc.decision, "Granted")
		self.assertTrue(doc.export_json.startswith("/private/files/") and doc.export_pdf.endswith(".pdf"))
		files = frappe.get_all(
			"File", {"attached_to_doctype": REQUEST, "attached_to_name": doc.name}, ["file_url", "is_private"]
		)
		self.assertEqual({f.is_private for f in files}, {1})
		self.assertEqual(len(files), 2)  # one JSON, one PDF
		number = frappe.utils.password.get_decrypted_password(PROFILE, profile, "id_number")
		mine = self.api(self.rm).get(doc.export_json)
		self.assertEqual(mine.status_code, 200)
		self.assertIn(number, mine.get_data(as_text=True))
		self.assertEqual(self.api(self.other_rm).get(doc.export_json).status_code, 403)
		self.assertEqual(self.api(self.other_rm).get(doc.export_pdf).status_code, 403)
		pdf = self.api(self.rm).get(doc.export_pdf)
		self.assertTrue(pdf.get_data().startswith(b"%PDF"))
		self.assertTrue(
			frappe.db.exists(
				"Access Log", {"reference_document": doc.name, "method": "personal_information_export"}
			)
		)

	# -- consent withdrawal ------------------------------------------------------------------------
	def test_withdrawing_marketing_consent_cancels_open_automated_marketing_touches(self):
		consents = [
			{"purpose": p, "channel": "All Channels", "granted_on": GRANTED, "evidence_type": "Signed Form"}
			for p in ("Service", "Marketing")
		]
		customer, profile = self.customer(consents=consents)
		touch = frappe.get_doc(
			{
				"doctype": "Bank Visit Plan",
				"customer": customer,
				"profile": profile,
				"contact_kind": "Message",
				"due_date": add_days(today(), 5),
				"status": "Open",
				"responsible": "Automated",
				"content_class": "Marketing",
				"relationship_manager": self.rm,
				"plan_key": f"dsr-{self.tag}",
			}
		).insert(ignore_permissions=True)
		frappe.db.commit()
		doc = self.complete(self.register(customer, "Consent Withdrawal", withdraw_purpose="Marketing"))
		self.assertEqual(doc.decision, "Granted")
		rows = frappe.get_all(
			"Bank Consent Record", {"parent": profile}, ["purpose", "withdrawn_on", "withdrawal_evidence"]
		)
		by_purpose = {r.purpose: r for r in rows}
		self.assertTrue(by_purpose["Marketing"].withdrawn_on)
		self.assertIn(doc.name, by_purpose["Marketing"].withdrawal_evidence)
		self.assertIsNone(by_purpose["Service"].withdrawn_on)
		self.assertEqual(frappe.db.get_value("Bank Visit Plan", touch.name, "status"), "Cancelled")

	# -- deletion and anonymisation ----------------------------------------------------------------
	def test_a_correction_says_what_was_corrected(self):
		customer, _ = self.customer()
		name = self.register(customer, "Correction", details="客户称职业登记有误")
		self.checked(name)
		refused = self.act(name, "Submit for Approval", self.handler)
		self.assertEqual(refused.status_code, 417)
		self.assertIn("Answer to the Customer", server_messages(refused))
		self.api(self.handler).put(f"{URL}/{name}", {"answer": "职业已由“教师”更正为“工程师”。"})
		doc = self.complete(name)
		self.assertEqual((doc.workflow_state, doc.decision), ("Completed", "Granted"))
		self.assertEqual(doc.answer, "职业已由“教师”更正为“工程师”。")

	def test_deletion_is_refused_while_the_relationship_is_in_force(self):
		customer, _ = self.customer()
		doc = self.complete(self.register(customer, "Deletion"))
		self.assertEqual(doc.decision, "Refused")
		self.assertIn("relationship in force", doc.answer)
		ended = add_years(today(), -2)
		frappe.db.set_value(PROFILE, {"customer": customer}, "relationship_ended_on", ended)
		frappe.db.commit()
		doc = self.complete(self.register(customer, "Deletion"))
		self.assertEqual(doc.decision, "Refused")
		self.assertIn("anti-money-laundering", doc.answer)
		self.assertIsNone(frappe.db.get_value(PROFILE, {"customer": customer}, "anonymised_on"))

	def test_anonymisation_leaves_no_personal_data_anywhere_in_the_database(self):
		mobile = "139" + "".join(random.choices("0123456789", k=8))
		email = f"dsr-{self.tag}@example.com"
		number = new_id()
		customer, profile = self.customer(
			id_number=number, mobile_no=mobile, email_id=email, legal_name=f"匿名{self.tag}"
		)
		person = frappe.db.get_value("Customer", customer, "customer_name")
		contact = frappe.get_doc(
			{
				"doctype": "Contact",
				"first_name": person,
				"email_ids": [{"email_id": email, "is_primary": 1}],
				"phone_nos": [{"phone": mobile, "is_primary_mobile_no": 1}],
				"links": [{"link_doctype": "Customer", "link_name": customer}],
			}
		).insert(ignore_permissions=True)
		doc = frappe.get_doc(PROFILE, profile)
		doc.occupation = f"工程师 {person}"
		doc.save(ignore_permissions=True)  # a Version with the old and new values
		doc.add_comment("Comment", f"{person} 来电，手机 {mobile}")
		frappe.get_doc(
			{
				"doctype": "File",
				"file_name": f"{person}-身份证.txt",
				"attached_to_doctype": PROFILE,
				"attached_to_name": profile,
				"is_private": 1,
				"content": f"{person} {number}".encode(),
			}
		).insert(ignore_permissions=True)
		from bank_crm.api.profile import reveal_id_number

		reveal_id_number(profile, reason=f"核对 {person} 的身份")  # the Access Log, with a reason
		frappe.get_doc(
			{
				"doctype": "Communication",
				"subject": f"致电 {person}",
				"content": f"{person} {mobile} {email}",
				"communication_medium": "Phone",
				"reference_doctype": "Customer",
				"reference_name": customer,
				"phone_no": mobile,
			}
		).insert(ignore_permissions=True)
		frappe.get_doc(
			{
				"doctype": "Bank Interaction",
				"customer": customer,
				"interaction_type": "Call",
				"channel": "Phone",
				"status": "Planned",
				"planned_at": add_days(now_datetime(), 1),
				"objective": f"回访 {person}",
				"relationship_manager": self.rm,
			}
		).insert(ignore_permissions=True)
		frappe.db.set_value(PROFILE, profile, "relationship_ended_on", add_years(today(), -6))
		frappe.db.commit()
		from bank_crm.utils.traces import flush_search_queue

		flush_search_queue()
		self.assertTrue(self._found(person, mobile, number, email))  # the scan finds them first

		run = frappe.get_doc("Bank Anonymisation Run", retention.run_anonymisation())
		self.assertEqual(run.status, "Completed", run.error)
		self.assertGreaterEqual(run.customers_anonymised, 1)
		self.assertEqual(frappe.db.get_value(PROFILE, profile, "anonymised_on"), getdate(today()))
		# named after the person (this site names customers by name): renamed, with its links
		alias = service.rights.pseudonym(customer)
		self.customers.append(alias)
		self.assertFalse(frappe.db.exists("Customer", customer))
		self.assertEqual(frappe.db.get_value("Customer", alias, "customer_name"), alias)
		self.assertEqual(frappe.db.get_value(PROFILE, profile, "customer"), alias)
		self.assertFalse(frappe.db.exists("Contact", contact.name))
		self.assertEqual(self._found(person, mobile, number, email), {})
		# what the bank keeps: the customer's code, the records' dates and kinds
		self.assertTrue(frappe.db.exists("Bank Interaction", {"customer": alias}))
		self.assertNotIn(alias, retention.due_customers())

	def test_the_retention_job_is_shared_by_workers_and_a_killed_workers_shard_is_taken_again(self):
		from unittest.mock import patch

		ended = add_years(today(), -7)
		due = []
		for _ in range(3):
			customer, profile = self.customer()
			frappe.db.set_value(PROFILE, profile, "relationship_ended_on", ended)
			due.append(customer)
		frappe.db.commit()
		all_due = len(retention.due_customers())
		self.assertGreaterEqual(all_due, 3)
		for unfinished in frappe.get_all(
			"Bank Anonymisation Run", {"status": ("!=", "Completed")}, pluck="name"
		):
			frappe.db.set_value(
				"Bank Anonymisation Run", unfinished, "status", "Completed"
			)  # not this test's
		jobs = []
		with patch("frappe.enqueue", lambda method, **kw: jobs.append(kw)):
			name = retention.enqueue_anonymisation(shard_count=2)
			run = frappe.get_doc("Bank Anonymisation Run", name)
			self.assertEqual((run.customers_due, len(run.shards), len(jobs)), (all_due, 2, 2))
			frappe.db.set_value("Bank Job Shard", run.shards[1].name, "status", "Running")  # its worker died
			frappe.db.commit()
			self.assertEqual(retention.enqueue_anonymisation(shard_count=2), name)  # the same run again
		for job in reversed(jobs[2:]):
			retention.run_anonymisation_shard(job["run"], job["shard_no"], batch_size=1)
		run.reload()
		self.assertEqual(run.status, "Completed", run.error)
		self.assertEqual(run.customers_anonymised, all_due)
		self.assertEqual(sum(s.processed for s in run.shards), all_due)
		self.assertEqual(retention.due_customers(), [])
		for customer in due:  # named after the person on this site: renamed to the pseudonym
			self.customers.append(service.rights.pseudonym(customer))
		self.assertEqual(
			{frappe.db.get_value(PROFILE, p, "anonymised_on") for p in self.profiles[-3:]}, {getdate(today())}
		)

	def _found(self, *values) -> dict:
		"""Every text column of every table of the site's database holding one of ``values``."""
		found = {}
		columns = frappe.db.sql(
			"""select table_name, column_name from information_schema.columns
			where table_schema = database() and data_type in ('varchar', 'text', 'mediumtext', 'longtext', 'json')"""
		)
		by_table = {}
		for table, column in columns:
			by_table.setdefault(table, []).append(column)
		for table, cols in by_table.items():
			where = " or ".join(f"`{c}` like %(v)s" for c in cols)
			for value in values:
				if frappe.db.sql(f"select 1 from `{table}` where {where} limit 1", {"v": f"%{value}%"}):
					hits = [
						c
						for c in cols
						if frappe.db.sql(
							f"select 1 from `{table}` where `{c}` like %(v)s limit 1", {"v": f"%{value}%"}
						)
					]
					found.setdefault(f"{table}.{','.join(hits)}", []).append(value)
		return found

	# -- suitability -------------------------------------------------------------------------------
	def test_no_opportunity_for_a_product_above_the_customers_level(self):
		customer, profile = self.customer(risk_questionnaire_score=35)  # C2
		self.assertEqual(frappe.db.get_value(PROFILE, profile, "risk_tolerance"), "C2")

		def opportunity(product):
			return frappe.get_doc(
				{
					"doctype": "Opportunity",
					"opportunity_from": "Customer",
					"party_name": customer,
					"bank_product": product,
					"status": "Open",
					"company": frappe.defaults.get_global_default("company"),
				}
			)

		from bank_crm.bank_insight.opportunity import UnsuitableProduct

		with self.assertRaises(UnsuitableProduct) as refused:
			opportunity("T-DSR-R4").insert(ignore_permissions=True)
		self.assertIn("R4", str(refused.exception))
		self.assertIn("C2", str(refused.exception))
		self.assertTrue(opportunity("T-DSR-R2").insert(ignore_permissions=True).name)
		# an expired assessment: nothing above R1
		frappe.db.set_value(PROFILE, profile, "risk_assessment_expires_on", add_days(today(), -1))
		with self.assertRaises(UnsuitableProduct):
			opportunity("T-DSR-R2").insert(ignore_permissions=True)
		frappe.db.rollback()

	def test_a_questionnaire_score_that_contradicts_the_level_is_refused(self):
		customer = make_customer(f"权利测试问卷 {self.tag}", rm=self.rm)
		self.customers.append(customer)
		with self.assertRaises(frappe.ValidationError) as refused:
			make_profile(individual(customer, self.rm, risk_questionnaire_score=90, risk_tolerance="C2"))
		self.assertIn("C5", str(refused.exception))
		frappe.db.rollback()


class TestAudit(FrappeTestCase):
	"""The Sensitive Data Access report, the reason of a full-ID view, and reassessment tasks."""

	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		frappe.set_user("Administrator")
		cls.auditor = make_user("aud-auditor", ["Compliance Auditor"])
		cls.rm = make_user("aud-rm", ["Relationship Manager"])
		cls.other_rm = make_user("aud-rm-2", ["Relationship Manager"])
		make_branch(
			"T-AUD", members=[(cls.rm, "Relationship Manager"), (cls.other_rm, "Relationship Manager")]
		)
		cls.tokens = {u: api_token(u) for u in (cls.auditor, cls.rm, cls.other_rm)}
		tag = frappe.generate_hash(length=6)
		cls.customer = make_customer(f"审计测试 {tag}", rm=cls.rm)
		expires_in_ten_days = add_days(add_years(today(), -1), 10)
		cls.profile = make_profile(
			individual(cls.customer, cls.rm, risk_tolerance="C3", risk_assessment_date=expires_in_ten_days)
		).name
		cls.saved = frappe.db.get_single_value("Bank CRM Settings", "reveal_alert_per_day")
		frappe.db.set_single_value("Bank CRM Settings", "reveal_alert_per_day", 1)
		frappe.db.commit()
		clear_scope_cache()

	@classmethod
	def tearDownClass(cls):
		frappe.set_user("Administrator")
		from bank_crm.utils.traces import remove_traces

		events = frappe.get_all("Bank Care Event", {"customer": cls.customer}, pluck="name")
		remove_traces(["Bank Care Event"], events)
		frappe.db.delete("Bank Care Event", {"name": ("in", events)})
		frappe.db.delete("Access Log", {"reference_document": cls.profile})
		remove_traces([PROFILE], [cls.profile])
		frappe.db.delete("__Auth", {"doctype": PROFILE, "name": cls.profile})
		frappe.db.delete(PROFILE, cls.profile)
		remove_traces(["Customer"], [cls.customer])
		frappe.db.delete("Customer", cls.customer)
		frappe.db.set_single_value("Bank CRM Settings", "reveal_alert_per_day", cls.saved)
		frappe.db.commit()
		super().tearDownClass()

	def run_report(self, as_user, name, **filters):
		response = Api(self.tokens[as_user]).post(
			"/api/method/frappe.desk.query_report.run", {"report_name": name, "filters": filters}
		)
		frappe.db.rollback()
		return response

	def test_the_auditor_sees_who_viewed_full_ids_why_and_unusual_volume(self):
		from bank_crm.api.profile import reveal_id_number

		frappe.set_user("Administrator")
		reveal_id_number(self.profile, reason="客户来电核对身份")
		reveal_id_number(self.profile, reason="开户资料复核")
		frappe.db.commit()
		response = self.run_report(self.auditor, "Sensitive Data Access", user="Administrator")
		self.assertEqual(response.status_code, 200, response.text)
		result = response.json["message"]["result"]
		self.assertEqual(response.json["message"]["served_by"]["server"], "primary")  # no replica here
		reveals = [r for r in result if r["reference_document"] == self.profile]
		self.assertEqual(len(reveals), 2)
		self.assertEqual({r["details"] for r in reveals}, {"客户来电核对身份", "开户资料复核"})
		self.assertTrue(all(r["unusual"] for r in reveals))  # 2 in a day, alert threshold 1
		self.assertEqual(self.run_report(self.rm, "Sensitive Data Access").status_code, 403)

	def test_a_rest_list_of_profiles_with_personal_fields_is_in_the_access_log(self):
		api = Api(self.tokens[self.rm])
		before = frappe.db.count("Access Log", {"user": self.rm, "method": "API list with personal fields"})
		plain = api.get(f"/api/resource/{PROFILE}", fields=["name", "tier"])
		self.assertEqual(plain.status_code, 200, plain.text)
		personal = api.get(f"/api/resource/{PROFILE}", fields=["name", "mobile_no", "date_of_birth"])
		self.assertEqual(personal.status_code, 200, personal.text)
		self.assertIn(self.profile, [r["name"] for r in personal.json["data"]])
		frappe.db.rollback()
		logs = frappe.get_all(
			"Access Log",
			{"user": self.rm, "method": "API list with personal fields"},
			["columns"],
			order_by="creation desc",
		)
		self.assertEqual(len(logs), before + 1)  # the plain list is not a read of personal data
		self.assertEqual(logs[0].columns, "date_of_birth, mobile_no")

	def test_an_expiring_assessment_is_listed_for_its_rm_and_becomes_a_reassessment_task(self):
		response = self.run_report(self.rm, "Risk Assessment Expiring")
		self.assertEqual(response.status_code, 200, response.text)
		self.assertIn(self.customer, [r["customer"] for r in response.json["message"]["result"]])
		theirs = self.run_report(self.other_rm, "Risk Assessment Expiring").json["message"]["result"]
		self.assertNotIn(self.customer, [r["customer"] for r in theirs])
		from bank_crm.bank_engagement.care_events import run_care_events

		run_care_events()
		event = frappe.get_all(
			"Bank Care Event",
			{"customer": self.customer, "event_type": "Risk Reassessment"},
			["name", "todo"],
		)
		self.assertEqual(len(event), 1)
		todo = frappe.db.get_value(
			"ToDo", {"reference_name": event[0].name}, ["allocated_to", "description"], as_dict=True
		)
		self.assertEqual(todo.allocated_to, self.rm)
		self.assertIn("R1", todo.description)

	def test_report_view_and_data_export_never_hold_a_full_id_number(self):
		admin = make_user("aud-admin", ["CRM Administrator"])
		token = api_token(admin)
		frappe.db.commit()
		number = frappe.utils.password.get_decrypted_password(PROFILE, self.profile, "id_number")
		logged = frappe.db.count("Access Log", {"user": admin, "export_from": PROFILE})
		view = Api(token).post(
			"/api/method/frappe.desk.reportview.export_query",
			{
				"doctype": PROFILE,
				"file_format_type": "CSV",
				"fields": json.dumps(
					[f"`tab{PROFILE}`.`{f}`" for f in ("name", "id_number", "id_number_masked")]
				),
				"filters": json.dumps([[PROFILE, "name", "=", self.profile]]),
				"title": "t",
			},
		)
		self.assertEqual(view.status_code, 200, view.text[:500])
		body = view.get_data(as_text=True)
		self.assertIn(self.profile, body)
		self.assertNotIn(number, body)
		export = Api(token).post(
			"/api/method/frappe.core.doctype.data_export.exporter.export_data",
			{
				"doctype": PROFILE,
				"select_columns": json.dumps({PROFILE: ["name", "id_number", "id_number_masked"]}),
				"filters": json.dumps({"name": self.profile}),
				"with_data": 1,
				"file_type": "CSV",
			},
		)
		self.assertEqual(export.status_code, 200, export.text[:500])
		body = export.get_data(as_text=True)
		self.assertIn(self.profile, body)
		self.assertNotIn(number, body)
		frappe.db.rollback()  # see what the requests committed
		self.assertEqual(frappe.db.count("Access Log", {"user": admin, "export_from": PROFILE}), logged + 2)
