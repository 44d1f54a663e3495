"""Product propensity on a real site: a wealth propensity model trained from customers who opened
wealth products after their deposits grew; the nightly scoring raises *Predicted Wealth Need*
signals with a product that suits each customer; a customer who objects to automated profiling
(PIPL article 24: by a data-subject request, on the ledger, or through a broadcast's opt-out link)
is never scored for it, gets no such signal and is never reached by a broadcast chosen by
predicted need."""

from datetime import date

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import add_days, getdate

from bank_crm.bank_insight import prediction_models, prediction_scoring
from bank_crm.tests.factories import individual, make_customer, make_profile, new_id
from bank_crm.utils.bulk import insert_rows

MODEL = "Bank Prediction Model"
RULE = "Predicted Wealth Need"
CUSTOMERS = 150
PRODUCTS = (("T-PW-DEP", "Deposit", "R1"), ("T-PW-R2", "Wealth", "R2"), ("T-PW-R4", "Wealth", "R4"))


def purchase_day(i: int) -> int | None:
	"""A third of the customers buy a wealth product, in five groups: four in the past (one
	before each training date and the validation date) and one group that has not bought yet."""
	if i % 3:
		return None
	return (-290, -260, -230, -140, 5)[(i // 3) % 5]


def deposits(day: int, bought: int | None) -> float:
	"""Level, except in the hundred days before a purchase, when salary piles up (+60 %)."""
	if bought is None or day <= bought - 100 or day > bought:
		return 100_000.0
	return 100_000 + 60_000 * (day - bought + 100) / 100


FUTURE = [i for i in range(CUSTOMERS) if purchase_day(i) == 5]  # the ones to find today


class TestPredictionPropensity(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		frappe.set_user("Administrator")
		cls.today = getdate()
		tag = frappe.generate_hash(length=5)
		for code, category, risk in PRODUCTS:
			if not frappe.db.exists("Bank Product", code):
				frappe.get_doc(
					{
						"doctype": "Bank Product",
						"product_code": code,
						"product_name": code,
						"category": category,
						"risk_level": risk,
					}
				).insert(ignore_permissions=True)
		cls.customers, snapshots, holdings = [], [], []
		for i in range(CUSTOMERS):
			customer = make_customer(f"倾向模型 {tag} {i}")
			born = date(1960 + i % 40, 1 + i % 12, 1 + i % 28)
			values = {"risk_questionnaire_score": 50} if i == FUTURE[1] else {}  # C3: up to R3
			make_profile(
				individual(
					customer,
					gender="Female" if i % 2 else "Male",
					date_of_birth=born,
					id_number=new_id(born, male=not i % 2),
					relationship_since=add_days(cls.today, -900),
					**values,
				)
			)
			cls.customers.append(customer)
			holdings.append(cls.holding(tag, i, "d", customer, "T-PW-DEP", -900))
			bought = purchase_day(i)
			for month in range(15):
				day = -30 * (15 - month)
				total = deposits(day, bought) * (1 + 0.01 * ((i + month) % 3))
				snapshots.append(
					{
						"name": f"PWT-{tag}-{i}-{month}",
						"customer": customer,
						"as_of_date": add_days(cls.today, day),
						"deposit_balance": total,
						"aum": total,
						"products_held": 1,
					}
				)
			if bought and bought < 0:
				holdings.append(cls.holding(tag, i, "w", customer, "T-PW-R2", bought))
		insert_rows("Bank Financial Snapshot", snapshots)
		insert_rows("Bank Product Holding", holdings)
		cls.saved_rule = frappe.db.get_value("Bank Need Rule", RULE, ["enabled", "threshold"], as_dict=True)
		frappe.db.set_value("Bank Need Rule", RULE, {"enabled": 1, "threshold": 40})
		frappe.db.commit()

	@staticmethod
	def holding(tag, i, n, customer, product, days) -> dict:
		today = getdate()
		return {
			"name": f"PWH-{tag}-{i}-{n}",
			"customer": customer,
			"product": product,
			"status": "Active",
			"opened_on": add_days(today, days),
			"amount": 50_000,
		}

	@classmethod
	def tearDownClass(cls):
		from bank_crm.utils.traces import remove_traces

		customers = cls.customers
		frappe.db.delete("Bank Financial Snapshot", {"customer": ("in", customers)})
		frappe.db.delete("Bank Product Holding", {"customer": ("in", customers)})
		names = frappe.get_all(MODEL, {"model_name": "测试理财倾向模型"}, pluck="name")
		runs = frappe.get_all("Bank Prediction Run", pluck="name")
		frappe.db.delete("Bank Job Shard", {"parenttype": "Bank Prediction Run"})
		frappe.db.delete("Bank Prediction Run", {"name": ("in", runs or [""])})
		frappe.db.delete("Bank Prediction Score", {"model": ("in", names or [""])})
		signals = frappe.get_all("Bank Need Signal", {"customer": ("in", customers)}, pluck="name")
		frappe.db.delete(
			"ToDo", {"reference_type": "Bank Need Signal", "reference_name": ("in", signals or [""])}
		)
		frappe.db.delete("Bank Need Signal", {"name": ("in", signals or [""])})
		frappe.db.sql(
			"""update `tabBank Customer Profile` set churn_probability = 0, churn_band = null,
			churn_reasons = null, propensity_scores = null, top_propensities = null, predicted_on = null,
			prediction_models = null where predicted_on is not null"""
		)  # the scoring run scored every customer of the site
		frappe.db.delete(MODEL, {"name": ("in", names or [""])})
		remove_traces([MODEL], names)
		if cls.saved_rule:
			frappe.db.set_value("Bank Need Rule", RULE, cls.saved_rule)
		frappe.db.commit()
		super().tearDownClass()

	def active_wealth_model(self):
		doc = frappe.get_doc(
			{
				"doctype": MODEL,
				"model_name": "测试理财倾向模型",
				"kind": "Product Propensity",
				"product_category": "Wealth",
				"horizon_days": 60,
				"training_dates": "\n".join(str(add_days(self.today, -d)) for d in (300, 270, 240)),
				"validation_date": add_days(self.today, -150),
				"rounds": 30,
				"num_leaves": 7,
			}
		).insert()
		frappe.db.commit()
		prediction_models.train_and_validate(doc.name)
		doc.reload()
		self.assertGreater(doc.roc_auc, 0.8, "the buyers' growing deposits are learnable")
		frappe.db.set_value(MODEL, {"status": "Active", "kind": "Product Propensity"}, "status", "Retired")
		frappe.db.set_value(MODEL, doc.name, {"status": "Active", "passes": 1})
		frappe.db.commit()
		return doc

	def profile(self, i: int) -> str:
		return frappe.db.get_value("Bank Customer Profile", {"customer": self.customers[i]}, "name")

	def test_high_propensity_raises_a_signal_with_a_suitable_product_but_never_for_an_objector(self):
		from bank_crm.bank_customer.data_subject_rights import withdraw_consent

		self.active_wealth_model()
		objector = self.customers[FUTURE[0]]  # a coming buyer, who objects by a data-subject request
		withdraw_consent(objector, ["Automated Profiling"], "数据主体请求：拒绝自动化画像")
		ledger = frappe.get_all(
			"Bank Consent Record",
			{"parent": self.profile(FUTURE[0]), "purpose": "Automated Profiling"},
			["granted_on", "withdrawn_on"],
		)
		self.assertEqual(len(ledger), 1, "the objection itself is on the ledger")
		self.assertIsNotNone(ledger[0].withdrawn_on)

		run = frappe.get_doc("Bank Prediction Run", prediction_scoring.run_scoring(self.today))
		self.assertEqual(run.status, "Completed", run.error_log)
		scores = {
			c: frappe.parse_json(
				frappe.db.get_value("Bank Customer Profile", {"customer": c}, "propensity_scores") or "{}"
			)
			for c in self.customers
		}
		self.assertEqual(scores[objector], {}, "an objector is not scored for marketing propensity")
		holders = [c for i, c in enumerate(self.customers) if (purchase_day(i) or 0) < 0]
		self.assertTrue(all(scores[c] == {} for c in holders), "a holder is not scored for a next product")
		buyers = [self.customers[i] for i in FUTURE[1:]]
		others = [c for i, c in enumerate(self.customers) if purchase_day(i) is None]
		self.assertTrue(all(scores[c]["Wealth"] >= 0.4 for c in buyers), [scores[c] for c in buyers[:3]])
		self.assertTrue(all(scores[c]["Wealth"] < 0.4 for c in others), [scores[c] for c in others[:3]])

		signals = {
			s.customer: s
			for s in frappe.get_all(
				"Bank Need Signal",
				filters={"rule": RULE, "customer": ("in", self.customers)},
				fields=["customer", "need_category", "suggested_product", "suitability_note", "summary"],
			)
		}
		self.assertEqual(set(signals), set(buyers), "a signal for each customer entering the band, none else")
		self.assertNotIn(objector, signals)

		# the riskiest enabled wealth product the customer may be recommended: up to R3 for C3,
		# R1 only without an assessment (the site may hold other tests' products too)
		def riskiest(levels):
			return frappe.db.get_value(
				"Bank Product",
				{"category": "Wealth", "enabled": 1, "risk_level": ("in", levels)},
				"name",
				order_by="risk_level desc, name asc",
			)

		assessed = signals[self.customers[FUTURE[1]]]  # C3
		self.assertEqual(assessed.suggested_product, riskiest(["R1", "R2", "R3"]))
		self.assertNotEqual(assessed.suggested_product, "T-PW-R4")
		unassessed = signals[self.customers[FUTURE[2]]]
		self.assertEqual(unassessed.suggested_product, riskiest(["R1"]))
		if not unassessed.suggested_product:
			self.assertIn("Wealth", unassessed.suitability_note)
		self.assertTrue(all(s.need_category == "Payroll and Wealth" for s in signals.values()))

		# a second night over the same data: nothing new
		frappe.get_doc("Bank Prediction Run", prediction_scoring.run_scoring(self.today))
		self.assertEqual(
			frappe.db.count("Bank Need Signal", {"rule": RULE, "customer": ("in", self.customers)}),
			len(signals),
		)

		# a broadcast chosen by predicted need reaches the buyers, never the objector, even when a
		# stale score is still on the objector's profile
		from bank_crm.bank_outreach import broadcasts

		frappe.db.set_value(
			"Bank Customer Profile",
			self.profile(FUTURE[0]),
			"propensity_scores",
			'{"Wealth": 0.99}',
			update_modified=False,
		)
		doc = frappe.get_doc(
			{
				"doctype": "Bank Broadcast",
				"title": "理财推荐",
				"content_class": "Marketing",
				"owner": "Administrator",
				"conditions": [{"kind": "Predicted Need", "value": "Wealth"}],
				"min_propensity": 40,
			}
		)
		reached = frappe.db.sql_list(
			f"""select p.customer from `tabBank Customer Profile` p
			where {broadcasts.segment_conditions(doc)} and p.customer in %(customers)s""",
			{"customers": self.customers},
		)
		self.assertEqual(set(reached), set(buyers))

		# the opt-out link of such a broadcast objects to profiling too, when ticked
		from bank_crm.api.outreach import opt_out

		target = buyers[1]
		opt_out("BC-TEST", target, broadcasts.opt_out_token("BC-TEST", target), profiling="1")
		profile = frappe.get_doc("Bank Customer Profile", {"customer": target})
		self.assertFalse(profile.propensity_scores, "the scores go at once")
		signal = frappe.db.get_value(
			"Bank Need Signal", {"rule": RULE, "customer": target}, ["status", "dismiss_reason"], as_dict=True
		)
		self.assertEqual(signal.status, "Dismissed")
		from bank_crm.bank_engagement.contact import consents_of
		from bank_crm.core.consent import objects_to_profiling

		self.assertTrue(objects_to_profiling(consents_of(profile.consents), frappe.utils.now_datetime()))

	def test_the_profile_form_shows_stored_reasons_and_likely_products_in_the_readers_language(self):
		name = self.profile(1)
		frappe.db.set_value(
			"Bank Customer Profile",
			name,
			{"lifecycle_reason": "balance fell 79.8% in 90 days", "propensity_scores": '{"Wealth": 0.45}'},
			update_modified=False,
		)
		frappe.local.lang = "zh"
		try:
			doc = frappe.get_doc("Bank Customer Profile", name)
			doc.run_method("onload")
			shown = doc.get("__onload")
		finally:
			frappe.local.lang = "en"
		self.assertEqual(shown.lifecycle_reason, "余额在 90 天内下降 79.8%")
		self.assertEqual(shown.top_propensities, "理财 45%")
