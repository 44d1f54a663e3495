# Copyright (c) 2026, bank_crm contributors
# For license information, please see license.txt

from datetime import date, timedelta

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import add_days, add_to_date, getdate, now_datetime

from bank_crm.bank_customer.verification import refresh_verification_status
from bank_crm.tests.factories import (
	corporate,
	individual,
	make_branch,
	make_customer,
	make_profile,
	make_user,
	new_credit_code,
	new_id,
)
from bank_crm.utils.validation import BankCRMValidationError, DuplicateProfileError

PROFILE = "Bank Customer Profile"


class TestBankCustomerProfile(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls.rm = make_user("profile-rm", ["Relationship Manager"])
		cls.branch = make_branch("T-PRF", members=[(cls.rm, "Relationship Manager")])

	def setUp(self):
		frappe.set_user("Administrator")
		frappe.local.lang = "en"

	def new_customer(self, customer_type="Individual"):
		return make_customer(f"测试客户 {frappe.generate_hash(length=6)}", customer_type)

	def assert_refused(self, data, *fragments, exc=BankCRMValidationError):
		before = frappe.db.count(PROFILE)
		with self.assertRaises(exc) as caught:
			make_profile(data)
		message = str(caught.exception)
		for fragment in fragments:
			self.assertIn(fragment, message)
		self.assertEqual(frappe.db.count(PROFILE), before, "a refused save must store nothing")
		return message

	# -- individual -------------------------------------------------------------------
	def test_individual_profile_is_saved_masked_and_linked_to_customer(self):
		number = new_id(date(1985, 6, 15))
		doc = make_profile(individual(self.new_customer(), self.rm, id_number=number.lower()))
		self.assertEqual(doc.id_number_masked, number[:4] + "*" * 10 + number[-4:])
		self.assertEqual(doc.branch, self.branch, "branch defaults from the RM's branch")
		self.assertEqual(doc.get_password("id_number"), number, "stored normalised, decryptable")
		customer = frappe.db.get_value(
			"Customer",
			doc.customer,
			["bank_profile", "bank_relationship_manager", "bank_branch"],
			as_dict=True,
		)
		self.assertEqual((customer.bank_profile, customer.bank_relationship_manager), (doc.name, self.rm))
		self.assertEqual(customer.bank_branch, self.branch)

	def test_a_form_opened_before_the_nightly_jobs_ran_keeps_what_they_wrote(self):
		"""The engines write tier, score and predictions with set-based UPDATEs; a user saving a
		form loaded before that must not write the older values back (a lost update)."""
		doc = make_profile(individual(self.new_customer(), self.rm))
		form = frappe.get_doc(PROFILE, doc.name)  # the user opens the form
		frappe.db.sql(
			"""update `tabBank Customer Profile` set tier = 'VIP', value_score = 91.5,
			churn_probability = 0.83, churn_band = 'High' where name = %s""",
			doc.name,
		)  # the nightly runs meanwhile
		form.occupation = "工程师"
		form.save()
		stored = frappe.db.get_value(
			PROFILE,
			doc.name,
			["tier", "value_score", "churn_probability", "churn_band", "occupation"],
			as_dict=True,
		)
		self.assertEqual(
			(stored.tier, stored.value_score, stored.churn_probability, stored.churn_band, stored.occupation),
			("VIP", 91.5, 0.83, "High", "工程师"),
		)

	def test_id_number_is_not_stored_in_plain_text(self):
		number = new_id(date(1990, 1, 2))
		doc = make_profile(
			individual(self.new_customer(), self.rm, id_number=number, date_of_birth=date(1990, 1, 2))
		)
		row = frappe.db.sql(f"select * from `tab{PROFILE}` where name = %s", doc.name, as_dict=True)[0]
		self.assertNotIn(number, " ".join(str(v) for v in row.values()))
		auth = frappe.db.sql(
			"select password from `__Auth` where doctype = %s and name = %s", (PROFILE, doc.name)
		)
		self.assertTrue(auth and number not in auth[0][0], "__Auth holds the encrypted value only")
		hits = frappe.db.sql(
			"select count(*) from `tabVersion` where ref_doctype = %s and data like %s",
			(PROFILE, f"%{number}%"),
		)[0][0]
		self.assertEqual(hits, 0, "no plain ID in the change history")

	def test_wrong_check_digit_is_refused(self):
		number = new_id()
		wrong = number[:17] + ("0" if number[17] != "0" else "1")
		self.assert_refused(
			individual(self.new_customer(), self.rm, id_number=wrong), "ID Number", "check digit"
		)

	def test_birth_date_disagreeing_with_id_is_refused(self):
		number = new_id(date(1985, 6, 15))
		data = individual(self.new_customer(), self.rm, id_number=number, date_of_birth=date(1985, 6, 16))
		self.assert_refused(data, "ID Number", "1985-06-15", "1985-06-16")

	def test_error_is_in_chinese_for_a_chinese_user(self):
		frappe.local.lang = "zh"
		number = new_id()
		wrong = number[:17] + ("0" if number[17] != "0" else "1")
		message = self.assert_refused(individual(self.new_customer(), self.rm, id_number=wrong))
		self.assertIn("证件号码", message)
		self.assertIn("校验码", message)

	def test_duplicate_id_number_is_refused(self):
		number = new_id()
		make_profile(individual(self.new_customer(), self.rm, id_number=number))
		self.assert_refused(
			individual(self.new_customer(), self.rm, id_number=" " + number.lower()),
			"already has this ID number",
			exc=DuplicateProfileError,
		)

	def test_second_profile_for_same_customer_is_refused(self):
		customer = self.new_customer()
		make_profile(individual(customer, self.rm))
		self.assert_refused(
			individual(customer, self.rm), "already has the bank profile", exc=DuplicateProfileError
		)

	def test_editing_without_retyping_the_id_keeps_it_valid(self):
		doc = make_profile(individual(self.new_customer(), self.rm))
		doc = frappe.get_doc(PROFILE, doc.name)
		self.assertTrue(set(doc.id_number) == {"*"})
		doc.occupation = "工程师"
		doc.save()
		doc.date_of_birth = add_days(doc.date_of_birth, 1)
		with self.assertRaises(BankCRMValidationError):
			doc.save()

	def test_gender_disagreeing_with_id_is_refused(self):
		data = individual(self.new_customer(), self.rm, id_number=new_id(male=False), gender="Male")
		self.assert_refused(data, "ID Number")

	def test_expired_risk_assessment_is_flagged(self):
		data = individual(
			self.new_customer(), self.rm, risk_tolerance="C4", risk_assessment_date=add_days(getdate(), -400)
		)
		doc = make_profile(data)
		self.assertTrue(doc.risk_assessment_expired)
		doc.risk_assessment_date = add_days(getdate(), -10)
		doc.save()
		self.assertFalse(doc.risk_assessment_expired)

	# -- corporate --------------------------------------------------------------------
	def test_corporate_profile_with_shareholders_and_financing_needs(self):
		data = corporate(
			self.new_customer("Company"),
			self.rm,
			total_assets=1000,
			total_liabilities=400,
			shareholders=[
				{"shareholder_name": "张三", "shareholding_percent": 60},
				{"shareholder_name": "李四", "shareholding_percent": 40},
			],
			financing_needs=[
				{"purpose": "Working Capital", "amount": 5_000_000, "term_months": 12, "urgency": "High"}
			],
		)
		doc = make_profile(data)
		self.assertEqual(doc.total_shareholding, 100)
		self.assertEqual(doc.debt_to_asset_ratio, 40)
		self.assertIsNone(doc.id_number_hash)

	def test_bad_credit_code_is_refused(self):
		code = new_credit_code()
		wrong = code[:17] + ("0" if code[17] != "0" else "1")
		data = corporate(self.new_customer("Company"), self.rm, unified_social_credit_code=wrong)
		self.assert_refused(data, "Unified Social Credit Code", "check character")

	def test_duplicate_credit_code_is_refused(self):
		code = new_credit_code()
		make_profile(corporate(self.new_customer("Company"), self.rm, unified_social_credit_code=code))
		self.assert_refused(
			corporate(self.new_customer("Company"), self.rm, unified_social_credit_code=code.lower()),
			"already has this code",
			exc=DuplicateProfileError,
		)

	def test_shareholdings_over_100_percent_are_refused(self):
		data = corporate(
			self.new_customer("Company"),
			self.rm,
			shareholders=[
				{"shareholder_name": "张三", "shareholding_percent": 70},
				{"shareholder_name": "李四", "shareholding_percent": 40},
			],
		)
		self.assert_refused(data, "Shareholders", "110%")

	def test_financing_need_needs_an_amount(self):
		data = corporate(
			self.new_customer("Company"),
			self.rm,
			financing_needs=[{"purpose": "Working Capital", "amount": 0, "term_months": 12}],
		)
		self.assert_refused(data, "Financing Needs")

	# -- verification -----------------------------------------------------------------
	def test_verification_status_and_due_date_follow_the_checks(self):
		checked = add_days(getdate(), -30)
		doc = make_profile(
			individual(
				self.new_customer(),
				self.rm,
				risk_level="High",
				verification_checks=[
					{
						"check_type": "Identity",
						"source": "In Person",
						"result": "Passed",
						"checked_on": checked,
					}
				],
			)
		)
		self.assertEqual(doc.verification_status, "In Progress")
		self.assertIn("Address", doc.verification_outstanding)
		doc.append(
			"verification_checks",
			{"check_type": "Address", "source": "Document", "result": "Passed", "checked_on": checked},
		)
		doc.save()
		self.assertEqual(doc.verification_status, "Verified")
		self.assertEqual(getdate(doc.reverification_due_on), getdate(add_to_date(checked, years=1)))
		self.assertEqual(doc.verification_checks[0].checked_by, "Administrator")

	def test_future_check_date_is_refused(self):
		data = individual(
			self.new_customer(),
			self.rm,
			verification_checks=[
				{
					"check_type": "Identity",
					"source": "Document",
					"result": "Passed",
					"checked_on": add_days(getdate(), 3),
				}
			],
		)
		self.assert_refused(data, "Verification Checks", "future")

	def test_weekly_job_marks_lapsed_and_reminds_the_rm_once(self):
		old = getdate() - timedelta(days=800)
		doc = make_profile(
			individual(
				self.new_customer(),
				self.rm,
				risk_level="Medium",
				verification_checks=[
					{"check_type": "Identity", "source": "Document", "result": "Passed", "checked_on": old},
					{"check_type": "Address", "source": "Document", "result": "Passed", "checked_on": old},
				],
			)
		)
		self.assertEqual(doc.verification_status, "Lapsed")
		# as if the profile had been verified and the date has since passed
		frappe.db.set_value(PROFILE, doc.name, "verification_status", "Verified")
		refresh_verification_status()
		self.assertEqual(frappe.db.get_value(PROFILE, doc.name, "verification_status"), "Lapsed")
		todos = {
			"reference_type": PROFILE,
			"reference_name": doc.name,
			"allocated_to": self.rm,
			"status": "Open",
		}
		self.assertEqual(frappe.db.count("ToDo", todos), 1)
		refresh_verification_status()
		self.assertEqual(frappe.db.count("ToDo", todos), 1, "a second run reminds nobody twice")

	# -- consent ledger ---------------------------------------------------------------
	def test_consent_ledger_is_append_only(self):
		granted = add_days(now_datetime(), -10)
		doc = make_profile(
			individual(
				self.new_customer(),
				self.rm,
				consents=[
					{
						"purpose": "Marketing",
						"channel": "SMS",
						"granted_on": granted,
						"evidence_type": "Signed Form",
					}
				],
			)
		)
		self.assertEqual(doc.consents[0].recorded_by, "Administrator")
		doc.consents[0].withdrawn_on = now_datetime()
		doc.save()  # withdrawal is allowed

		doc.reload()
		doc.consents[0].channel = "Email"
		with self.assertRaises(BankCRMValidationError):
			doc.save()

		doc.reload()
		doc.consents = []
		with self.assertRaises(BankCRMValidationError):
			doc.save()

		doc.reload()
		doc.consents[0].withdrawn_on = None
		with self.assertRaises(BankCRMValidationError):
			doc.save()

	def test_consent_needs_evidence(self):
		data = individual(
			self.new_customer(),
			self.rm,
			consents=[{"purpose": "Marketing", "channel": "SMS", "granted_on": now_datetime()}],
		)
		with self.assertRaises(frappe.ValidationError):
			make_profile(data)

	def test_relationship_manager_must_have_the_role(self):
		clerk = make_user("profile-clerk", ["Sales User"])
		self.assert_refused(individual(self.new_customer(), clerk), "Relationship Manager")
