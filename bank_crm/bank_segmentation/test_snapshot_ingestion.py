"""Snapshot ingestion over REST as an integration user: idempotent, per-row errors, no half rows."""

import json

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import add_days, getdate

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

SNAPSHOT = "Bank Financial Snapshot"
URL = "/api/method/bank_crm.api.ingest.snapshots"


class TestSnapshotIngestion(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		frappe.set_user("Administrator")
		cls.integration = make_user("ingest-bot", ["Bank CRM Integration"])
		cls.rm = make_user("ingest-rm", ["Relationship Manager"])
		cls.other_rm = make_user("ingest-rm-2", ["Relationship Manager"])
		make_branch(
			"T-ING", members=[(cls.rm, "Relationship Manager"), (cls.other_rm, "Relationship Manager")]
		)
		tag = frappe.generate_hash(length=6)
		cls.mine = make_customer(f"导入测试 A {tag}", rm=cls.rm)
		cls.theirs = make_customer(f"导入测试 B {tag}", rm=cls.other_rm)
		make_profile(individual(cls.mine, cls.rm))
		make_profile(individual(cls.theirs, cls.other_rm))
		cls.tokens = {u: api_token(u) for u in (cls.integration, cls.rm)}
		frappe.db.commit()

	@classmethod
	def tearDownClass(cls):
		frappe.db.delete(SNAPSHOT, {"customer": ("in", [cls.mine, cls.theirs])})
		for customer in (cls.mine, cls.theirs):
			profile = frappe.db.get_value("Bank Customer Profile", {"customer": customer})
			frappe.db.delete("__Auth", {"doctype": "Bank Customer Profile", "name": profile})
			frappe.db.delete("Bank Customer Profile", {"name": profile})
			frappe.db.delete("Customer", {"name": customer})
		frappe.db.commit()
		super().tearDownClass()

	def tearDown(self):
		frappe.db.delete(SNAPSHOT, {"customer": ("in", [self.mine, self.theirs])})
		frappe.db.commit()

	def row(self, customer=None, days_ago=1, **figures):
		base = {
			"customer": customer or self.mine,
			"as_of_date": str(add_days(getdate(), -days_ago)),
			"deposit_balance": 120000.5,
			"loan_balance": 0,
			"aum": 300000,
			"fee_income": 150,
			"composite_yield": 2.35,
			"products_held": 3,
		}
		base.update(figures)
		return base

	def send(self, rows, replace=False, user=None):
		response = Api(self.tokens[user or self.integration]).post(URL, {"rows": rows, "replace": replace})
		frappe.db.rollback()  # see what the request committed
		return response

	def stored(self, customer=None):
		return frappe.db.count(SNAPSHOT, {"customer": customer or self.mine})

	def test_good_rows_stored_bad_rows_reported_with_index_field_reason(self):
		rows = [
			self.row(days_ago=1),
			self.row(days_ago=2, deposit_balance=-5),  # a balance cannot be negative
			self.row(customer="NO-SUCH-CUSTOMER", days_ago=3),
			self.row(days_ago=4, as_of_date="2026-02-30"),
			{k: v for k, v in self.row(days_ago=5).items() if k != "aum"},  # missing field
			self.row(days_ago=6),
		]
		response = self.send(rows)
		self.assertEqual(response.status_code, 200, response.text)
		result = response.json["message"]
		self.assertEqual((result["inserted"], result["unchanged"], result["rejected"]), (2, 0, 4))
		errors = {(e["index"], e["field"]) for e in result["errors"]}
		self.assertEqual(errors, {(1, "deposit_balance"), (2, "customer"), (3, "as_of_date"), (4, "aum")})
		self.assertTrue(all(e["reason"] for e in result["errors"]))
		self.assertEqual(self.stored(), 2, "the good rows are stored, whole")
		row = frappe.get_all(
			SNAPSHOT, {"customer": self.mine}, ["deposit_balance", "aum", "products_held"], limit=1
		)[0]
		self.assertEqual(
			(float(row.deposit_balance), float(row.aum), row.products_held), (120000.5, 300000.0, 3)
		)

	def test_resending_a_batch_stores_nothing_twice(self):
		rows = [self.row(days_ago=d) for d in (1, 2, 3)]
		first = self.send(rows).json["message"]
		second = self.send(rows).json["message"]
		self.assertEqual(first["inserted"], 3)
		self.assertEqual((second["inserted"], second["unchanged"], second["rejected"]), (0, 3, 0))
		self.assertEqual(self.stored(), 3)
		# each name: the row's date, then the batch's time, random bits and the row's place; never
		# the customer (anonymisation would have to find it in a key)
		names = frappe.get_all(SNAPSHOT, {"customer": self.mine}, ["name", "as_of_date"])
		for r in names:
			self.assertRegex(r.name, rf"^{getdate(r.as_of_date):%Y%m%d}-[0-9a-f]{{22}}$")
		self.assertEqual(len({r.name[9:26] for r in names}), 1)  # one batch

	def test_changed_figures_conflict_unless_replace(self):
		self.send([self.row(days_ago=1)])
		changed = [self.row(days_ago=1, deposit_balance=99)]
		conflict = self.send(changed).json["message"]
		self.assertEqual((conflict["inserted"], conflict["rejected"]), (0, 1))
		self.assertEqual(conflict["errors"][0]["field"], "deposit_balance")
		self.assertIn("replace", conflict["errors"][0]["reason"])
		self.assertEqual(frappe.db.get_value(SNAPSHOT, {"customer": self.mine}, "deposit_balance"), 120000.5)
		replaced = self.send(changed, replace=True).json["message"]
		self.assertEqual(replaced["replaced"], 1)
		self.assertEqual(frappe.db.get_value(SNAPSHOT, {"customer": self.mine}, "deposit_balance"), 99)
		self.assertEqual(self.stored(), 1)

	def test_same_customer_and_date_twice_in_one_batch(self):
		result = self.send([self.row(days_ago=1), self.row(days_ago=1, aum=1)]).json["message"]
		self.assertEqual((result["inserted"], result["rejected"]), (1, 1))
		self.assertEqual(result["errors"][0]["index"], 1)

	def test_only_the_integration_role_may_load(self):
		response = self.send([self.row()], user=self.rm)
		self.assertEqual(response.status_code, 403, response.text)
		self.assertEqual(self.stored(), 0)

	def test_rm_reads_only_own_customers_snapshots(self):
		self.send([self.row(days_ago=1), self.row(customer=self.theirs, days_ago=1)])
		response = Api(self.tokens[self.rm]).get(
			f"/api/resource/{SNAPSHOT}",
			fields=["customer"],
			filters=[["customer", "in", [self.mine, self.theirs]]],
		)
		self.assertEqual({r["customer"] for r in response.json["data"]}, {self.mine})

	def test_no_value_takes_the_batch_down(self):
		# 1e400 once failed the whole call with a 500 (OverflowError) and lost the good rows
		good = json.dumps(self.row(days_ago=1))
		hostile = {
			"products_held": "1e400",
			"deposit_balance": "-1e400",
			"aum": "NaN",
			"loan_balance": '{"nested": [1, 2]}',
			"fee_income": "true",
			"composite_yield": "Infinity",
		}
		rows = [good]
		for days, (field, literal) in enumerate(hostile.items(), start=2):
			row = json.dumps(self.row(days_ago=days)).replace(
				f'"{field}": ', f'"{field}": {literal}, "_": ', 1
			)
			rows.append(row)
		rows.append(json.dumps(self.row(days_ago=9, customer=["not", "a", "name"])))
		body = '{"rows": [' + ", ".join(rows) + "]}"
		response = Api(self.tokens[self.integration]).post_raw(URL, body)
		frappe.db.rollback()
		self.assertEqual(response.status_code, 200, response.text)
		result = response.json["message"]
		self.assertEqual((result["received"], result["inserted"], result["rejected"]), (8, 1, 7))
		named = {e["index"]: e["field"] for e in result["errors"] if e["field"] != "_"}
		self.assertEqual(
			named,
			{i: f for i, f in enumerate([None, *hostile, "customer"]) if f},
		)
		self.assertEqual(self.stored(), 1, "the good row is stored")

	def test_malformed_arguments_get_a_4xx_naming_them(self):
		api = Api(self.tokens[self.integration])
		for data, argument in (
			({"rows": "[1, 2"}, "rows"),
			({"rows": {"customer": self.mine}}, "rows"),
			({"rows": [], "replace": "maybe"}, "replace"),
		):
			response = api.post(URL, data)
			self.assertTrue(400 <= response.status_code < 500, (data, response.status_code, response.text))
			self.assertIn(argument, server_messages(response))
		response = api.post_raw(URL, "rows=%5B1%2C2", "application/x-www-form-urlencoded")
		self.assertTrue(400 <= response.status_code < 500, response.text)

	def test_data_import_path_validates_like_the_endpoint(self):
		doc = frappe.get_doc({"doctype": SNAPSHOT, **self.row(deposit_balance=-1)})
		with self.assertRaises(frappe.ValidationError):
			doc.insert()
		frappe.get_doc({"doctype": SNAPSHOT, **self.row()}).insert()
		with self.assertRaises(frappe.ValidationError):
			frappe.get_doc({"doctype": SNAPSHOT, **self.row()}).insert()
