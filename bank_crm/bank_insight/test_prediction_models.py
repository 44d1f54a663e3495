"""Prediction models on a real site: a churn model trained from customers' history (seeded and
reproducible, stored with its hash), validated out of time beside its baselines and per gender
and age band; activation only through the Workflow, never by its trainer, one active per kind."""

import hashlib
from datetime import date

import frappe
from frappe.model.workflow import apply_workflow
from frappe.tests.utils import FrappeTestCase
from frappe.utils import add_days, getdate

from bank_crm.bank_insight import prediction_models, prediction_training
from bank_crm.bank_insight.doctype.bank_prediction_model.bank_prediction_model import ActivationError
from bank_crm.tests.factories import individual, make_customer, make_profile, make_user, new_id
from bank_crm.utils.bulk import insert_rows

MODEL = "Bank Prediction Model"
CUSTOMERS = 120


class TestPredictionModels(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		frappe.set_user("Administrator")
		cls.trainer = make_user("pm-trainer", ["CRM Administrator"])
		cls.approver = make_user("pm-approver", ["CRM Administrator"])
		cls.today = getdate()
		tag = frappe.generate_hash(length=5)
		cls.customers = []
		snapshots = []
		for i in range(CUSTOMERS):
			customer = make_customer(f"预测模型 {tag} {i}")
			make_profile(
				individual(
					customer,
					gender="Female" if i % 2 else "Male",
					date_of_birth=date(1950 + i % 50, 1 + i % 12, 1 + i % 28),
					id_number=new_id(date(1950 + i % 50, 1 + i % 12, 1 + i % 28), male=not i % 2),
					relationship_since=add_days(cls.today, -900),
				)
			)
			cls.customers.append(customer)
			leaving = i % 3 == 0
			for month in range(15):
				day = add_days(cls.today, -30 * (15 - month))
				# a leaver's balance falls a fifth a month, and by half within any 60 days;
				# a stayer's wanders around its level
				total = 200_000 * (0.7**month if leaving else 1 + 0.05 * ((i + month) % 3))
				snapshots.append(
					{
						"name": f"PMT-{tag}-{i}-{month}",
						"customer": customer,
						"as_of_date": day,
						"deposit_balance": total / 2,
						"aum": total / 2,
						"products_held": 1 if leaving else 3,
					}
				)
		insert_rows("Bank Financial Snapshot", snapshots)
		frappe.db.commit()

	@classmethod
	def tearDownClass(cls):
		frappe.db.delete("Bank Financial Snapshot", {"customer": ("in", cls.customers)})
		from bank_crm.utils.traces import remove_traces

		names = frappe.get_all(MODEL, pluck="name")
		runs = frappe.get_all("Bank Prediction Run", pluck="name")
		frappe.db.delete("Bank Job Shard", {"parenttype": "Bank Prediction Run"})
		frappe.db.delete("Bank Prediction Run", {"name": ("in", runs or [""])})
		frappe.db.delete("Bank Prediction Score", {"model": ("in", names or [""])})
		signals = frappe.get_all("Bank Need Signal", {"rule": "Predicted Churn"}, pluck="name")
		frappe.db.delete(
			"ToDo", {"reference_type": "Bank Need Signal", "reference_name": ("in", signals or [""])}
		)
		frappe.db.delete("Bank Need Signal", {"name": ("in", signals or [""])})
		frappe.db.sql(
			"""update `tabBank Customer Profile` set churn_probability = 0, churn_band = null,
			churn_reasons = null, propensity_scores = null, top_propensities = null, predicted_on = null,
			prediction_models = null
			where predicted_on is not null"""
		)  # the scoring run scored every customer of the site
		frappe.db.delete(MODEL, {"name": ("in", names or [""])})
		remove_traces([MODEL], names)  # versions, workflow actions, the model files
		frappe.db.commit()
		super().tearDownClass()

	def model(self, **values):
		doc = frappe.get_doc(
			{
				"doctype": MODEL,
				"model_name": "测试流失模型",
				"kind": "Churn",
				"horizon_days": 60,
				"drop_share": 50,
				"training_dates": "\n".join(str(add_days(self.today, -d)) for d in (300, 270, 240)),
				"validation_date": add_days(self.today, -150),
				"rounds": 30,
				"num_leaves": 7,
				**values,
			}
		).insert()
		frappe.db.commit()
		return doc

	def test_a_model_refuses_dates_that_would_leak_or_are_not_known_yet(self):
		with self.assertRaises(frappe.ValidationError):
			self.model(validation_date=add_days(self.today, -300))  # not after the training dates
		with self.assertRaises(frappe.ValidationError):
			self.model(validation_date=add_days(self.today, -10))  # the outcome is not known yet
		with self.assertRaises(frappe.ValidationError):
			self.model(kind="Product Propensity")  # which category?

	def test_training_is_reproducible_and_the_file_matches_its_hash(self):
		doc = self.model()
		frappe.set_user(self.trainer)
		try:
			report = prediction_models.train_and_validate(doc.name)
		finally:
			frappe.set_user("Administrator")
		doc.reload()
		self.assertIn(doc.status, ("Trained", "Validated"))
		self.assertEqual(doc.trained_by, self.trainer)
		self.assertGreater(doc.training_rows, CUSTOMERS)
		self.assertTrue(0 < doc.training_positives < doc.training_rows)
		file = frappe.get_doc("File", {"file_url": doc.model_file})
		self.assertTrue(file.is_private)
		self.assertEqual(hashlib.sha256(file.get_content().encode()).hexdigest(), doc.model_hash)
		self.assertIsNotNone(prediction_models.load(doc))
		# the out-of-time report: the model, both baselines, calibration and fairness
		self.assertGreater(report["model"]["roc_auc"], 0.8)
		self.assertEqual(set(report["baselines"]), {"logistic_regression", "churn_risk_rule"})
		self.assertTrue(report["calibration"])
		self.assertTrue({"Female", "Male"} <= set(report["fairness"]["gender"]["groups"]))
		self.assertIn("age_band", report["fairness"])
		# the model card for the regulator: features by name, the test beside its baselines
		card = frappe.get_print(MODEL, doc.name, print_format="Model Card")
		self.assertIn("Balance change over 90 days (%)", card)
		self.assertIn("ROC AUC", card)
		self.assertIn(str(report["model"]["roc_auc"]), card)
		# the same data and seed give the same model
		target = prediction_models.target_of(doc)
		data = prediction_training.Dataset()
		for as_of in doc.training_as_of_dates():
			data.extend(prediction_training.dataset(target, as_of))
		again = prediction_training.train(
			data, rounds=30, seed=doc.seed, params={"learning_rate": 0.05, "num_leaves": 7}
		)
		self.assertEqual(hashlib.sha256(again.model_to_string().encode()).hexdigest(), doc.model_hash)

	def test_only_someone_other_than_the_trainer_activates_a_model_that_passed(self):
		first = self.validated_model()
		frappe.set_user(self.trainer)
		try:
			with self.assertRaises(ActivationError):
				apply_workflow(frappe.get_doc(MODEL, first), "Approve")
		finally:
			frappe.set_user("Administrator")
		frappe.db.rollback()
		second = self.validated_model()
		frappe.set_user(self.approver)
		try:
			apply_workflow(frappe.get_doc(MODEL, first), "Approve")
			self.assertEqual(frappe.db.get_value(MODEL, first, "activated_by"), self.approver)
			apply_workflow(frappe.get_doc(MODEL, second), "Approve")
		finally:
			frappe.set_user("Administrator")
		self.assertEqual(frappe.db.get_value(MODEL, second, "status"), "Active")
		self.assertEqual(frappe.db.get_value(MODEL, first, "status"), "Retired", "one active model per kind")

	def test_a_model_that_failed_its_gate_is_never_activated(self):
		name = self.validated_model(passes=0)
		frappe.set_user(self.approver)
		try:
			with self.assertRaises(ActivationError):
				apply_workflow(frappe.get_doc(MODEL, name), "Approve")
		finally:
			frappe.set_user("Administrator")
			frappe.db.rollback()

	def active_model(self):
		"""A trained model made the one active churn model (as the Workflow leaves it)."""
		doc = self.model()
		prediction_models.train_and_validate(doc.name)
		frappe.db.set_value(MODEL, {"status": "Active"}, "status", "Retired")  # other tests' models
		frappe.db.set_value(MODEL, doc.name, {"status": "Active", "passes": 1})
		frappe.db.commit()
		return doc

	def validated_model(self, passes=1) -> str:
		"""A model as its training job leaves it, asked for activation."""
		doc = self.model()
		frappe.db.set_value(
			MODEL, doc.name, {"status": "Pending Activation", "passes": passes, "trained_by": self.trainer}
		)
		frappe.db.commit()
		return doc.name

	def test_nightly_scoring_writes_changed_scores_once_with_reasons_for_the_high_band(self):
		from bank_crm.bank_insight import prediction_scoring

		doc = self.active_model()
		run = frappe.get_doc("Bank Prediction Run", prediction_scoring.run_scoring(self.today))
		self.assertEqual(run.status, "Completed", run.error_log)
		self.assertGreaterEqual(run.customers_scored, CUSTOMERS)
		self.assertIsNotNone(run.score_psi, "drift is measured against the training sample")
		bands = {
			customer: frappe.db.get_value(
				"Bank Customer Profile", {"customer": customer}, ["churn_band", "churn_reasons"], as_dict=True
			)
			for customer in self.customers
		}
		leavers = [bands[c] for i, c in enumerate(self.customers) if i % 3 == 0]
		stayers = [bands[c] for i, c in enumerate(self.customers) if i % 3]
		self.assertTrue(all(b.churn_band == "High" for b in leavers), leavers[:3])
		self.assertTrue(all(b.churn_band == "Low" for b in stayers), stayers[:3])
		reasons = frappe.parse_json(leavers[0].churn_reasons)
		self.assertTrue(reasons and all(r["key"] in prediction_scoring.reasons.REASONS for r in reasons))
		signals = frappe.get_all(
			"Bank Need Signal",
			filters={"rule": "Predicted Churn", "customer": ("in", self.customers)},
			fields=["customer", "need_category", "status", "evidence"],
		)
		leaving = {c for i, c in enumerate(self.customers) if i % 3 == 0}
		self.assertEqual(
			{s.customer for s in signals}, leaving, "a need signal for each customer entering the band"
		)
		self.assertTrue(all(s.need_category == "Churn Risk" and s.status == "Open" for s in signals))
		self.assertTrue(
			frappe.parse_json(signals[0].evidence)["reasons"], "the signal carries the model's reasons"
		)
		history = frappe.db.count(
			"Bank Prediction Score", {"model": doc.name, "customer": ("in", self.customers)}
		)
		self.assertEqual(history, CUSTOMERS, "one score per customer on the first night")
		# the data-subject explanation includes the model's decision and reasons (PIPL article 24)
		from bank_crm.bank_customer.data_subject_rights import explanation_text

		leaver = self.customers[0]
		text = explanation_text(leaver, lang="en")
		self.assertIn("churn model", text)
		self.assertIn(
			str(frappe.db.get_value("Bank Customer Profile", {"customer": leaver}, "churn_probability")), text
		)
		# an objection to profiling: the customer is not scored for marketing
		profile = frappe.get_doc("Bank Customer Profile", {"customer": self.customers[1]})
		self.assertNotIn(profile.name, prediction_scoring._objecting([profile.name]))
		profile.append(
			"consents",
			{
				"purpose": "Automated Profiling",
				"channel": "All Channels",
				"granted_on": add_days(self.today, -30),
				"withdrawn_on": add_days(self.today, -1),
				"evidence_type": "Signed Form",
				"withdrawal_evidence": "客户来电拒绝营销画像",
			},
		)
		profile.save()
		self.assertIn(profile.name, prediction_scoring._objecting([profile.name]))
		# a second run over the same data writes nothing
		again = frappe.get_doc("Bank Prediction Run", prediction_scoring.run_scoring(self.today))
		self.assertNotEqual(again.name, run.name)
		self.assertEqual(again.scores_changed, 0)
		self.assertEqual(
			frappe.db.count(
				"Bank Need Signal", {"rule": "Predicted Churn", "customer": ("in", self.customers)}
			),
			len(signals),
			"no signal twice",
		)
		self.assertEqual(
			frappe.db.count("Bank Prediction Score", {"model": doc.name, "customer": ("in", self.customers)}),
			history,
		)

	def test_prediction_outcomes_show_how_the_scored_customers_behaved(self):
		from bank_crm.bank_insight import prediction_scoring
		from bank_crm.bank_insight.report.prediction_outcomes import prediction_outcomes

		doc = self.active_model()
		day = add_days(self.today, -120)
		prediction_scoring.run_scoring(day)
		with self.assertRaises(frappe.ValidationError):  # the horizon has not passed for today's scores
			prediction_outcomes.execute({"model": doc.name, "scored_on": self.today})
		_columns, rows, _m, chart, summary = prediction_outcomes.execute(
			{"model": doc.name, "scored_on": day}
		)
		customers, auc, hit_rate = (s["value"] for s in summary)
		self.assertGreaterEqual(customers, CUSTOMERS)
		self.assertGreater(auc, 0.8)
		self.assertGreater(hit_rate, 50)
		self.assertGreaterEqual(len(rows), 2, "customers in more than one band")
		self.assertTrue(chart)
