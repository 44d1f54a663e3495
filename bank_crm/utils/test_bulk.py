"""The set-based writer builds its own VALUES text: every value must come back exactly."""

import datetime
import decimal

import frappe
from frappe.tests.utils import FrappeTestCase

from bank_crm.utils.bulk import execute_values, literal, update_rows

TRICKY = [
	"plain",
	"O'Brien",
	'say "hi"',
	"back\\slash",
	"new\nline\r\n",
	"nul\0byte",
	"ctrl-z\x1a",
	"'); drop table `tabCustomer`; --",
	"中文客户名称 ‘引号’",
	"\\'",
]


class TestBulkLiterals(FrappeTestCase):
	def setUp(self):
		frappe.db.sql_ddl(
			"create temporary table if not exists `tmp_bank_crm_literals` "
			"(id int primary key, s text, f double, d date, dt datetime(6), n decimal(21,9))"
		)
		frappe.db.sql("delete from `tmp_bank_crm_literals`")

	def test_strings_numbers_and_dates_round_trip(self):
		rows = [
			(
				i,
				s,
				i * 1.25 - 3.5,
				datetime.date(2026, 1, 1 + i),
				datetime.datetime(2026, 1, 1, 9, 30, i, 123456),
				decimal.Decimal("12.5"),
			)
			for i, s in enumerate(TRICKY)
		]
		rows.append((99, None, None, None, None, None))
		affected = execute_values("insert into `tmp_bank_crm_literals` values ", rows, chunk_size=3)
		self.assertEqual(affected, len(rows))
		back = frappe.db.sql("select id, s, f, d, dt, n from `tmp_bank_crm_literals` order by id")
		for sent, got in zip(rows, back, strict=True):
			self.assertEqual(sent[0], got[0])
			self.assertEqual(sent[1], got[1])
			if sent[2] is not None:
				self.assertAlmostEqual(sent[2], got[2])
			self.assertEqual(sent[3], got[3])
			self.assertEqual(sent[4], got[4])
		self.assertTrue(frappe.db.table_exists("Customer"), "nothing was executed from the data")

	def test_non_finite_numbers_are_refused(self):
		with self.assertRaises(ValueError):
			literal(float("nan"))
		self.assertEqual(literal(True), "1")
		self.assertEqual(literal(None), "NULL")


class TestUpdateRows(FrappeTestCase):
	def test_each_row_gets_its_own_values_and_no_other_row_changes(self):
		todos = [
			frappe.get_doc({"doctype": "ToDo", "description": f"bulk update {i}"})
			.insert(ignore_permissions=True)
			.name
			for i in range(len(TRICKY) + 1)
		]
		untouched = todos.pop()
		rows = [
			{"name": name, "description": text, "date": datetime.date(2026, 2, 1 + i), "priority": "High"}
			for i, (name, text) in enumerate(zip(todos, TRICKY, strict=True))
		]
		self.assertEqual(update_rows("ToDo", rows, chunk_size=4), len(rows))
		for row in rows:
			got = frappe.db.get_value("ToDo", row["name"], ["description", "date", "priority"])
			self.assertEqual(got, (row["description"], row["date"], "High"))
		self.assertEqual(frappe.db.get_value("ToDo", untouched, "description"), f"bulk update {len(TRICKY)}")
		self.assertEqual(update_rows("ToDo", []), 0)
