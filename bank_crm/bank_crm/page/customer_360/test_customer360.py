"""Customer-360 on a real site, over REST as the real users: the sections of an RM's own
customer, nothing of another RM's (403 and not a word of the customer), the branch manager's
branch, and the score only for roles that may read it."""

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import add_days, add_months, getdate, now_datetime

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

URL = "/api/method/bank_crm.api.customer360.get"


class TestCustomer360(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		frappe.set_user("Administrator")
		cls.rm = make_user("c360-rm", ["Relationship Manager"], language="zh")
		cls.other_rm = make_user("c360-rm-2", ["Relationship Manager"])
		cls.bm = make_user("c360-bm", ["Branch Manager"])
		cls.cpo = make_user("c360-cpo", ["Consumer Protection Officer"])
		make_branch(
			"T-360",
			members=[
				(cls.rm, "Relationship Manager"),
				(cls.other_rm, "Relationship Manager"),
				(cls.bm, "Branch Manager"),
			],
		)
		tag = frappe.generate_hash(length=6)
		cls.name_mine = f"全景测试甲 {tag}"
		cls.name_theirs = f"全景测试乙 {tag}"
		cls.mine = make_customer(cls.name_mine, rm=cls.rm)
		cls.theirs = make_customer(cls.name_theirs, rm=cls.other_rm)
		cls.profiles = [
			make_profile(
				individual(cls.mine, cls.rm, quiet_hours_start="21:00:00", quiet_hours_end="08:00:00")
			).name,
			make_profile(individual(cls.theirs, cls.other_rm)).name,
		]
		today = getdate()
		for months in range(3):
			frappe.get_doc(
				{
					"doctype": "Bank Financial Snapshot",
					"customer": cls.mine,
					"as_of_date": add_days(add_months(today, -months), -1),
					"deposit_balance": 100_000 + months * 1_000,
					"loan_balance": 0,
					"aum": 150_000,
					"products_held": 2,
					"fee_income": 0,
					"composite_yield": 0.02,
				}
			).insert(ignore_permissions=True)
		cls.request = frappe.get_doc(
			{
				"doctype": "Bank Service Request",
				"customer": cls.mine,
				"request_type": "Inquiry",
				"urgency": "Normal",
				"channel": "Phone",
				"subject": f"全景测试请求 {tag}",
				"registered_on": now_datetime(),
			}
		).insert(ignore_permissions=True)
		cls.tokens = {u: api_token(u) for u in (cls.rm, cls.other_rm, cls.bm, cls.cpo)}
		frappe.db.commit()
		clear_scope_cache()

	@classmethod
	def tearDownClass(cls):
		frappe.set_user("Administrator")
		from bank_crm.utils.traces import remove_traces

		customers = [cls.mine, cls.theirs]
		frappe.db.delete("Bank Financial Snapshot", {"customer": ("in", customers)})
		remove_traces(["Bank Service Request"], [cls.request.name])
		frappe.db.delete("Bank Service Request", {"customer": ("in", customers)})
		remove_traces(["Bank Customer Profile"], cls.profiles)
		for child in ("Bank Consent Record", "Bank Verification Check"):
			frappe.db.delete(child, {"parent": ("in", cls.profiles)})
		frappe.db.delete("__Auth", {"doctype": "Bank Customer Profile", "name": ("in", cls.profiles)})
		frappe.db.delete("Bank Customer Profile", {"name": ("in", cls.profiles)})
		remove_traces(["Customer"], customers)
		frappe.db.delete("Customer", {"name": ("in", customers)})
		frappe.db.commit()
		super().tearDownClass()

	def get(self, user, customer):
		return Api(self.tokens[user]).get(URL, customer=customer)

	def test_an_rm_sees_every_section_of_an_own_customer(self):
		response = self.get(self.rm, self.mine)
		self.assertEqual(response.status_code, 200, response.text[:500])
		data = response.json["message"]
		self.assertEqual(data["customer_name"], self.name_mine)
		header = data["header"]
		self.assertEqual(header["relationship_manager"], self.rm)
		self.assertEqual((header["quiet_hours_start"], header["quiet_hours_end"]), ("21:00", "08:00"))
		self.assertNotIn("id_number", header, "only the masked number")
		self.assertEqual(len(data["money"]["snapshots"]), 3)
		self.assertEqual([r["name"] for r in data["service"]["requests"]], [self.request.name])
		for section in ("value", "needs", "relationship", "timeline"):
			self.assertIn(section, data)
		# no replica in this site's config: the primary answered, and says so
		primary_id = frappe.db.sql("select @@server_id")[0][0]
		self.assertEqual(data["served_by"]["server"], "primary")
		self.assertEqual(data["served_by"]["server_id"], primary_id)

	def test_another_rms_customer_is_refused_and_nothing_of_it_is_sent(self):
		for customer in (self.theirs, "NO-SUCH-CUSTOMER"):
			response = self.get(self.rm, customer)
			self.assertEqual(response.status_code, 403)
			self.assertNotIn(self.name_theirs, response.text)
			self.assertNotIn(self.other_rm, response.text)
		# the unknown and the forbidden read alike
		self.assertEqual(
			self.get(self.rm, self.theirs).json.get("exception"),
			self.get(self.rm, "NO-SUCH-CUSTOMER").json.get("exception"),
		)

	def test_the_branch_manager_sees_the_branch(self):
		for customer in (self.mine, self.theirs):
			self.assertEqual(self.get(self.bm, customer).status_code, 200)

	def test_a_role_without_the_score_gets_no_score(self):
		response = self.get(self.cpo, self.mine)
		self.assertEqual(response.status_code, 200, response.text[:300])
		data = response.json["message"]
		self.assertFalse(data["can"]["read_score"])
		self.assertIsNone(data["value"]["breakdown"])
		self.assertNotIn("value_score", {k for k, v in data["header"].items() if v is not None})

	def test_the_visit_brief_prints_an_own_customer_masked_and_refuses_another(self):
		url = "/api/method/frappe.www.printview.get_html_and_style"
		mine, theirs = self.profiles
		full_id = frappe.get_doc("Bank Customer Profile", mine).plain_id_number()
		response = Api(self.tokens[self.rm]).get(
			url, doc="Bank Customer Profile", name=mine, print_format="Visit Brief"
		)
		self.assertEqual(response.status_code, 200, response.text[:500])
		html = response.json["message"]["html"]
		self.assertIn(self.name_mine, html)
		self.assertIn(self.request.subject, html)
		masked = frappe.db.get_value("Bank Customer Profile", mine, "id_number_masked")
		self.assertIn(masked, html)
		self.assertTrue(full_id)
		self.assertNotIn(full_id, html)
		response = Api(self.tokens[self.rm]).get(
			url, doc="Bank Customer Profile", name=theirs, print_format="Visit Brief"
		)
		self.assertEqual(response.status_code, 403)
		self.assertNotIn(self.name_theirs, response.text)
