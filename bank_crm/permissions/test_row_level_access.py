"""Row-level access as real users over the REST API: an RM sees own customers, a branch
manager the branch, head office all — in lists, documents, search, reports and methods."""

import json

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils.global_search import sync_global_search

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

PROFILE = "Bank Customer Profile"
PROFILE_URL = "/api/resource/Bank Customer Profile"


class TestRowLevelAccess(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		frappe.set_user("Administrator")
		cls.rm_a = make_user("rla-rm-a", ["Relationship Manager"], language="zh")
		cls.rm_b = make_user("rla-rm-b", ["Relationship Manager"])
		cls.rm_c = make_user("rla-rm-c", ["Relationship Manager"])
		cls.bm_x = make_user("rla-bm-x", ["Branch Manager"])
		cls.auditor = make_user("rla-auditor", ["Compliance Auditor"])
		cls.cpo = make_user("rla-cpo", ["Consumer Protection Officer"])
		cls.handler = make_user("rla-handler", ["Complaint Handler"])
		cls.admin = make_user("rla-admin", ["CRM Administrator"])
		cls.branch_x = make_branch(
			"T-RLA-X",
			members=[
				(cls.rm_a, "Relationship Manager"),
				(cls.rm_b, "Relationship Manager"),
				(cls.bm_x, "Branch Manager"),
			],
		)
		cls.branch_y = make_branch("T-RLA-Y", members=[(cls.rm_c, "Relationship Manager")])
		tag = frappe.generate_hash(length=6)
		cls.customers, cls.profiles, cls.numbers = {}, {}, {}
		for key, rm in (("a", cls.rm_a), ("b", cls.rm_b), ("c", cls.rm_c)):
			customer = make_customer(f"权限测试 {key.upper()} {tag}")
			cls.numbers[key] = new_id()
			doc = make_profile(individual(customer, rm, id_number=cls.numbers[key], income_band="300k–1M"))
			cls.customers[key], cls.profiles[key] = customer, doc.name
		sync_global_search()
		cls.tokens = {
			u: api_token(u)
			for u in (cls.rm_a, cls.rm_b, cls.rm_c, cls.bm_x, cls.auditor, cls.cpo, cls.handler, cls.admin)
		}
		frappe.db.commit()  # the API runs in another thread on its own connection
		clear_scope_cache()

	@classmethod
	def tearDownClass(cls):
		frappe.set_user("Administrator")
		names = list(cls.profiles.values())
		for child in ("Bank Consent Record", "Bank Verification Check"):
			frappe.db.delete(child, {"parent": ("in", names)})
		frappe.db.delete("__Auth", {"doctype": PROFILE, "name": ("in", names)})
		frappe.db.delete(PROFILE, {"name": ("in", names)})
		frappe.db.delete("Access Log", {"export_from": PROFILE, "reference_document": ("in", names)})
		frappe.db.delete("Comment", {"reference_doctype": PROFILE, "reference_name": ("in", names)})
		for customer in cls.customers.values():
			frappe.db.delete("__global_search", {"doctype": "Customer", "name": customer})
			frappe.db.delete("Customer", {"name": customer})
		frappe.db.commit()
		super().tearDownClass()

	def api(self, user) -> Api:
		return Api(self.tokens[user])

	def visible(self, user, doctype=PROFILE, names=None):
		names = names or list(self.profiles.values())
		response = self.api(user).get(
			f"/api/resource/{doctype}", fields=["name"], filters=[["name", "in", names]], limit_page_length=0
		)
		self.assertEqual(response.status_code, 200, response.text)
		return {row["name"] for row in response.json["data"]}

	# -- lists ------------------------------------------------------------------------
	def test_rm_lists_only_own_profiles(self):
		p = self.profiles
		self.assertEqual(self.visible(self.rm_a), {p["a"]})
		self.assertEqual(self.visible(self.rm_c), {p["c"]})

	def test_branch_manager_lists_the_branch(self):
		p = self.profiles
		self.assertEqual(self.visible(self.bm_x), {p["a"], p["b"]})

	def test_head_office_roles_list_everything(self):
		everything = set(self.profiles.values())
		for user in (self.admin, self.auditor, self.cpo, self.handler):
			self.assertEqual(self.visible(user), everything, user)

	def test_customer_list_follows_the_portfolio(self):
		c = self.customers
		names = list(c.values())
		self.assertEqual(self.visible(self.rm_a, "Customer", names), {c["a"]})
		self.assertEqual(self.visible(self.bm_x, "Customer", names), {c["a"], c["b"]})
		self.assertEqual(self.visible(self.auditor, "Customer", names), set(names))

	def test_get_list_method_and_link_search_are_filtered(self):
		response = self.api(self.rm_a).get(
			"/api/method/frappe.client.get_list",
			doctype=PROFILE,
			fields=["name"],
			filters=[["name", "in", list(self.profiles.values())]],
		)
		self.assertEqual({r["name"] for r in response.json["message"]}, {self.profiles["a"]})
		tag = self.customers["c"].split()[-1]
		response = self.api(self.rm_a).get(
			"/api/method/frappe.desk.search.search_link", doctype="Customer", txt=tag
		)
		self.assertEqual(response.status_code, 200, response.text)
		found = {r["value"] for r in response.json.get("message", response.json.get("results", []))}
		self.assertNotIn(self.customers["c"], found)
		self.assertIn(self.customers["a"], found)

	# -- documents --------------------------------------------------------------------
	def test_rm_reads_own_profile_masked(self):
		response = self.api(self.rm_a).get(f"{PROFILE_URL}/{self.profiles['a']}")
		self.assertEqual(response.status_code, 200, response.text)
		data = response.json["data"]
		self.assertNotIn(self.numbers["a"], response.text, "the full ID never travels in a document")
		self.assertEqual(data["id_number_masked"], self.numbers["a"][:4] + "*" * 10 + self.numbers["a"][-4:])
		self.assertEqual(data["income_band"], "300k–1M", "an RM reads permission-level-1 fields")

	def test_rm_cannot_read_or_change_another_rms_profile(self):
		other = f"{PROFILE_URL}/{self.profiles['b']}"
		self.assertEqual(self.api(self.rm_a).get(other).status_code, 403)
		self.assertEqual(self.api(self.rm_a).put(other, {"occupation": "hacked"}).status_code, 403)
		self.assertNotEqual(frappe.db.get_value(PROFILE, self.profiles["b"], "occupation"), "hacked")

	def test_branch_manager_cannot_open_another_branch(self):
		self.assertEqual(self.api(self.bm_x).get(f"{PROFILE_URL}/{self.profiles['c']}").status_code, 403)
		self.assertEqual(self.api(self.bm_x).get(f"{PROFILE_URL}/{self.profiles['b']}").status_code, 200)

	def test_auditor_is_read_only(self):
		url = f"{PROFILE_URL}/{self.profiles['a']}"
		self.assertEqual(self.api(self.auditor).get(url).status_code, 200)
		self.assertEqual(self.api(self.auditor).put(url, {"occupation": "x"}).status_code, 403)

	def test_consumer_protection_does_not_see_income(self):
		response = self.api(self.cpo).get(f"{PROFILE_URL}/{self.profiles['a']}")
		self.assertEqual(response.status_code, 200, response.text)
		self.assertNotIn("income_band", response.json["data"])

	def test_rm_cannot_create_a_profile_in_another_portfolio(self):
		customer = make_customer(f"越权测试{frappe.generate_hash(length=6)}")
		frappe.db.commit()
		try:
			response = self.api(self.rm_a).post(
				PROFILE_URL,
				json.loads(frappe.as_json(individual(customer, self.rm_b))),
			)
			self.assertEqual(response.status_code, 403, response.text)
			self.assertFalse(frappe.db.exists(PROFILE, {"customer": customer}))
		finally:
			frappe.db.delete("Customer", {"name": customer})
			frappe.db.commit()

	def test_rm_cannot_profile_another_rms_customer(self):
		data = individual(self.customers["c"], self.rm_a)
		data["date_of_birth"] = str(data["date_of_birth"])
		response = self.api(self.rm_a).post(PROFILE_URL, data)
		self.assertEqual(response.status_code, 403, response.text)

	def test_crm_administrator_can_reassign_a_customer(self):
		url = f"{PROFILE_URL}/{self.profiles['b']}"
		response = self.api(self.admin).put(url, {"relationship_manager": self.rm_a})
		self.assertEqual(response.status_code, 200, response.text)
		try:
			frappe.db.rollback()
			self.assertEqual(
				frappe.db.get_value("Customer", self.customers["b"], "bank_relationship_manager"), self.rm_a
			)
			self.assertEqual(self.api(self.rm_a).get(url).status_code, 200)
			self.assertEqual(self.api(self.rm_b).get(url).status_code, 403)
		finally:
			self.assertEqual(
				self.api(self.admin).put(url, {"relationship_manager": self.rm_b}).status_code, 200
			)

	def test_rm_creates_customer_and_profile_and_keeps_them(self):
		api = self.api(self.rm_a)
		response = api.post(
			"/api/resource/Customer",
			{"customer_name": f"新客户{frappe.generate_hash(length=6)}", "customer_type": "Individual"},
		)
		self.assertEqual(response.status_code, 200, response.text)
		customer = response.json["data"]["name"]
		self.assertEqual(response.json["data"]["bank_relationship_manager"], self.rm_a)
		try:
			data = individual(customer, self.rm_a)
			data["date_of_birth"] = str(data["date_of_birth"])
			response = api.post(PROFILE_URL, data)
			self.assertEqual(response.status_code, 200, response.text)
			profile = response.json["data"]["name"]
			self.assertEqual(response.json["data"]["branch"], self.branch_x)
			self.assertEqual(self.api(self.rm_c).get(f"{PROFILE_URL}/{profile}").status_code, 403)
			self.assertEqual(self.api(self.rm_c).get(f"/api/resource/Customer/{customer}").status_code, 403)
		finally:
			frappe.db.delete(
				"__Auth",
				{
					"doctype": PROFILE,
					"name": ("in", frappe.get_all(PROFILE, {"customer": customer}, pluck="name")),
				},
			)
			frappe.db.delete(PROFILE, {"customer": customer})
			frappe.db.delete("Customer", {"name": customer})
			frappe.db.commit()

	def test_bad_id_over_rest_is_refused_in_chinese(self):
		customer = make_customer(f"校验测试{frappe.generate_hash(length=6)}", rm=self.rm_a)
		frappe.db.commit()
		try:
			number = new_id()
			data = individual(
				customer, self.rm_a, id_number=number[:17] + ("0" if number[17] != "0" else "1")
			)
			data["date_of_birth"] = str(data["date_of_birth"])
			# a desk session: the language is the user's (Chinese for this RM)
			response = Api.session(self.rm_a).post(PROFILE_URL, data)
			self.assertEqual(response.status_code, 417, response.text)
			self.assertIn("证件号码：校验码错误", server_messages(response))
			self.assertFalse(frappe.db.exists(PROFILE, {"customer": customer}))
		finally:
			frappe.db.delete("Customer", {"name": customer})
			frappe.db.commit()

	# -- search, reports, methods -----------------------------------------------------
	def test_global_search_hides_other_portfolios(self):
		tag = self.customers["a"].split()[-1]

		def found(user):
			response = self.api(user).get("/api/method/frappe.utils.global_search.search", text=tag, limit=50)
			self.assertEqual(response.status_code, 200, response.text)
			return {r["name"] for r in response.json["message"]}

		self.assertEqual(found(self.rm_a) & set(self.customers.values()), {self.customers["a"]})
		self.assertEqual(found(self.rm_c) & set(self.customers.values()), {self.customers["c"]})
		self.assertEqual(found(self.auditor) & set(self.customers.values()), set(self.customers.values()))

	def test_verification_report_shows_only_the_scope(self):
		def rows(user):
			response = self.api(user).get(
				"/api/method/frappe.desk.query_report.run",
				report_name="Verification Due",
				filters=json.dumps({"within_days": 30}),
			)
			self.assertEqual(response.status_code, 200, response.text)
			return {r["name"] for r in response.json["message"]["result"] if isinstance(r, dict)}

		ours = set(self.profiles.values())
		self.assertEqual(rows(self.rm_a) & ours, {self.profiles["a"]})
		self.assertEqual(rows(self.bm_x) & ours, {self.profiles["a"], self.profiles["b"]})

	def test_full_id_only_for_allowed_roles_in_scope_and_logged(self):
		method = "/api/method/bank_crm.api.profile.reveal_id_number"
		before = frappe.db.count("Access Log", {"reference_document": self.profiles["a"]})
		response = self.api(self.rm_a).post(method, {"profile": self.profiles["a"]})
		self.assertEqual(response.status_code, 200, response.text)
		self.assertEqual(response.json["message"], self.numbers["a"])
		frappe.db.rollback()  # see the request's committed writes
		log = frappe.get_all(
			"Access Log",
			filters={"reference_document": self.profiles["a"], "user": self.rm_a},
			fields=["export_from", "method"],
		)
		self.assertEqual(
			frappe.db.count("Access Log", {"reference_document": self.profiles["a"]}), before + 1
		)
		self.assertEqual(log[0].export_from, PROFILE)
		self.assertEqual(self.api(self.rm_a).post(method, {"profile": self.profiles["b"]}).status_code, 403)
		self.assertEqual(
			self.api(self.handler).post(method, {"profile": self.profiles["a"]}).status_code, 403
		)
		self.assertEqual(
			self.api(self.rm_a).get(method, profile=self.profiles["a"]).status_code, 403, "POST only"
		)

	def test_find_by_id_number_uses_the_fingerprint_within_scope(self):
		method = "/api/method/bank_crm.api.profile.find_by_id_number"
		mine = self.api(self.rm_a).get(method, id_type="Resident ID Card", id_number=self.numbers["a"])
		self.assertEqual([r["name"] for r in mine.json["message"]], [self.profiles["a"]])
		theirs = self.api(self.rm_a).get(method, id_type="Resident ID Card", id_number=self.numbers["c"])
		self.assertEqual(theirs.json["message"], [])
		auditor = self.api(self.auditor).get(method, id_type="Resident ID Card", id_number=self.numbers["c"])
		self.assertEqual([r["name"] for r in auditor.json["message"]], [self.profiles["c"]])
