"""The demo loader writes a batch the product's own controllers accept (inside the test's transaction)."""

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import getdate

from bank_crm.bank_customer.verification import interval_years
from bank_crm.demo import customers, generator, staff
from bank_crm.demo.base import CUSTOMER_PREFIX


class TestDemoLoader(FrappeTestCase):
	def test_a_batch_is_written_whole_and_validates(self):
		frappe.set_user("Administrator")
		staff.make_branches_and_staff()
		start = customers._next_demo_seq()
		batch = generator.customers(5, start=start, today=getdate())
		customers._write_batch(
			batch, customers._customer_groups(), customers._territory(), interval_years(), getdate(), months=3
		)
		names = [f"{CUSTOMER_PREFIX}{c.seq:07d}" for c in batch]
		profiles = frappe.get_all("Bank Customer Profile", {"customer": ("in", names)}, pluck="name")
		self.assertEqual(len(profiles), 5)
		self.assertEqual(
			frappe.db.count("Customer", {"name": ("in", names), "bank_profile": ("is", "set")}), 5
		)
		for name in profiles:
			doc = frappe.get_doc("Bank Customer Profile", name)
			doc.run_method("validate")  # the controller accepts generated data as it is
			if doc.profile_type == "Individual":
				self.assertEqual(len(doc.get_password("id_number")), 18)
		self.assertTrue(frappe.db.count("Bank Financial Snapshot", {"customer": ("in", names)}) >= 3)
		frappe.db.rollback()
