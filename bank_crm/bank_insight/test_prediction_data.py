"""The set-based read of prediction features agrees with the core's reference, and never looks
past the as-of date: rows added on or after it change no aggregate."""

from datetime import date, datetime, timedelta

import frappe
from frappe.tests.utils import FrappeTestCase

from bank_crm.bank_insight import prediction_data
from bank_crm.core import prediction_features as pf
from bank_crm.tests.factories import individual, make_customer, make_profile
from bank_crm.utils.bulk import insert_rows

AS_OF = date(2026, 6, 1)
START = datetime(2026, 6, 1)


def at(days_before: float) -> datetime:
	return START - timedelta(days=days_before)


class TestPredictionData(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		frappe.set_user("Administrator")
		tag = frappe.generate_hash(length=6)
		cls.customer = make_customer(f"预测数据 {tag}")
		cls.profile = make_profile(individual(cls.customer, relationship_since=date(2024, 6, 1))).name
		for code, category in (("T-PD-WM", "Wealth"), ("T-PD-DEP", "Deposit")):
			if not frappe.db.exists("Bank Product", code):
				frappe.get_doc(
					{
						"doctype": "Bank Product",
						"product_code": code,
						"product_name": code,
						"category": category,
						"risk_level": "R2",
					}
				).insert()
		cls.history = pf.History(
			relationship_since=date(2024, 6, 1),
			snapshots=(
				pf.Snapshot(date(2026, 2, 28), 100_000, 0, 100_000, 50, 4),
				pf.Snapshot(date(2026, 4, 30), 80_000, 0, 70_000, 40, 3),
				pf.Snapshot(date(2026, 5, 31), 50_000, 10_000, 50_000, 30, 2),
			),
			events=(
				pf.Event(at(5), pf.APP_LOGIN),
				pf.Event(at(40), pf.APP_LOGIN),
				pf.Event(at(41), pf.APP_LOGIN),
				pf.Event(at(10), pf.SALARY_CREDIT, 9_000),
				pf.Event(at(20), pf.LARGE_TRANSFER_OUT, 60_000),
				pf.Event(at(3), pf.FX_QUERY),
				pf.Event(at(2), pf.CARD_SPENDING, 300),
				pf.Event(at(35), pf.CARD_SPENDING, 100),
				pf.Event(at(80), pf.PRODUCT_REDEMPTION, 5_000),
			),
			holdings=(
				pf.Holding("Wealth", date(2025, 1, 1), date(2026, 6, 20)),
				pf.Holding("Deposit", date(2024, 6, 1)),
			),
			contacts=(at(70),),
			requests=(at(30),),
			complaints=(at(15),),
			tiers=((date(2025, 1, 1), "VIP"), (date(2026, 5, 1), "High-end")),
			stages=((date(2025, 1, 1), "Mature"),),
		)
		cls.write(cls.history)
		frappe.db.commit()

	@classmethod
	def tearDownClass(cls):
		for doctype, field in (
			("Bank Financial Snapshot", "customer"),
			("Bank Activity Event", "customer"),
			("Bank Product Holding", "customer"),
			("Bank Interaction", "customer"),
			("Bank Service Request", "customer"),
			("Bank Complaint", "customer"),
		):
			frappe.db.delete(doctype, {field: cls.customer})
		for doctype in ("Bank Tier History", "Bank Lifecycle History"):
			frappe.db.delete(doctype, {"profile": cls.profile})
		frappe.db.commit()
		super().tearDownClass()

	@classmethod
	def write(cls, h: pf.History):
		"""The history's rows in the site's tables (as the ingestion and the jobs leave them)."""
		c, p = cls.customer, cls.profile

		def name():
			return frappe.generate_hash(length=14)

		insert_rows(
			"Bank Financial Snapshot",
			[
				{
					"name": name(),
					"customer": c,
					"as_of_date": s.as_of_date,
					"deposit_balance": s.deposit_balance,
					"loan_balance": s.loan_balance,
					"aum": s.aum,
					"fee_income": s.fee_income,
					"products_held": s.products_held,
				}
				for s in h.snapshots
			],
		)
		insert_rows(
			"Bank Activity Event",
			[
				{
					"name": name(),
					"customer": c,
					"event_type": e.event_type,
					"event_time": e.event_time,
					"amount": e.amount,
					"event_key": name(),
				}
				for e in h.events
			],
		)
		products = {"Wealth": "T-PD-WM", "Deposit": "T-PD-DEP"}
		insert_rows(
			"Bank Product Holding",
			[
				{
					"name": name(),
					"customer": c,
					"product": products[x.category],
					"status": "Closed",  # a status from after the as-of date is never read
					"opened_on": x.opened_on,
					"maturity_date": x.maturity_date,
				}
				for x in h.holdings
			],
		)
		insert_rows(
			"Bank Interaction",
			[
				{
					"name": name(),
					"customer": c,
					"interaction_type": "Call",
					"status": "Completed",
					"actual_at": t,
				}
				for t in h.contacts
			],
		)
		insert_rows(
			"Bank Service Request", [{"name": name(), "customer": c, "registered_on": t} for t in h.requests]
		)
		insert_rows(
			"Bank Complaint",
			[{"name": name(), "customer": c, "registered_on": t.date()} for t in h.complaints],
		)
		insert_rows(
			"Bank Tier History",
			[{"name": name(), "profile": p, "change_date": d, "to_tier": v} for d, v in h.tiers],
		)
		insert_rows(
			"Bank Lifecycle History",
			[{"name": name(), "profile": p, "change_date": d, "to_stage": v} for d, v in h.stages],
		)

	def read(self, as_of=AS_OF) -> pf.Aggregates:
		before = frappe.db.get_value(
			"Bank Customer Profile", {"name": ("<", self.profile)}, "name", order_by="name desc"
		)
		rows = prediction_data.read_batch(as_of, after=before or "", until=self.profile, limit=10)
		found = [a for person, a in rows if person.profile == self.profile]
		self.assertEqual(len(found), 1)
		return found[0]

	def test_the_set_based_read_agrees_with_the_core(self):
		self.assertEqual(self.read(), pf.aggregate(self.history, AS_OF))
		self.assertEqual(
			pf.derive(self.read()), pf.derive(pf.aggregate(self.history, AS_OF)), "one derive, both ways"
		)

	def test_rows_on_or_after_the_as_of_date_change_nothing(self):
		before = self.read()
		later = pf.History(
			snapshots=(pf.Snapshot(AS_OF, 1, 1, 1, 1, 9), pf.Snapshot(date(2026, 7, 1), 0, 0, 0, 0, 0)),
			events=tuple(
				pf.Event(START + timedelta(days=d, minutes=1), t, 1e6)
				for d in (0, 3)
				for t in prediction_data.EVENT_TYPES
			),
			holdings=(pf.Holding("Deposit", AS_OF), pf.Holding("Wealth", date(2026, 6, 5))),
			contacts=(START, START + timedelta(days=2)),
			requests=(START,),
			complaints=(START + timedelta(hours=5),),
			tiers=((AS_OF, "Mass"),),
			stages=((AS_OF, "Churn Risk"),),
		)
		self.write(later)
		try:
			self.assertEqual(self.read(), before)
		finally:
			frappe.db.rollback()
