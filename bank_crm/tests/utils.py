"""Test setup shared by bank_crm's integration tests."""

import frappe


def before_tests():
	"""Complete ERPNext's setup wizard once (company, fiscal year, defaults), as ERPNext's own
	tests do, and make sure bank_crm's roles and fields are in place."""
	frappe.clear_cache()
	if not frappe.db.a_row_exists("Company"):
		from erpnext.setup.utils import before_tests as erpnext_before_tests

		erpnext_before_tests()
	from bank_crm.install import setup

	setup()
	frappe.db.commit()
