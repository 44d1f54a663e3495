"""Sites installed before 运行监控: nightly jobs are due by 07:00 unless the bank set another time
(new installs take the field's default)."""

import frappe


def execute():
	if not frappe.db.get_single_value("Bank CRM Settings", "nightly_due_by"):
		frappe.db.set_single_value("Bank CRM Settings", "nightly_due_by", "07:00:00")
