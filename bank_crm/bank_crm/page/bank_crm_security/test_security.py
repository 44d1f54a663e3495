"""The security posture check and the abuse limits, on a real site and over REST."""

import json
from unittest.mock import patch

import frappe
from frappe.tests.utils import FrappeTestCase

from bank_crm.bank_crm.page.bank_crm_security import bank_crm_security as site_posture
from bank_crm.core import posture
from bank_crm.core.access import BANK_ROLES
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

SETTINGS = "Bank CRM Settings"
HARDENED_SYSTEM_SETTINGS = {
	"allow_error_traceback": 0,
	"enable_password_policy": 1,
	"minimum_password_score": "3",
	"enable_two_factor_auth": 1,
	"login_with_email_link": 0,
	"session_expiry": "00:30",
	"allow_consecutive_login_attempts": 5,
	"allow_login_after_fail": 600,
	"enable_telemetry": 0,
	"encrypt_backup": 1,
}
RUNNING = {"scheduler_enabled": True, "minutes_since_scheduler_ran": 2, "workers": 1}


def clear_rate_limits():
	for key in frappe.cache.get_keys("rl:"):
		frappe.cache.delete_value(key.decode().split("|", 1)[-1] if isinstance(key, bytes) else key)
	frappe.cache.delete_keys("rl:")


class TestSecurityPosture(FrappeTestCase):
	def setUp(self):
		frappe.set_user("Administrator")
		self.saved = {f: frappe.db.get_single_value("System Settings", f) for f in HARDENED_SYSTEM_SETTINGS}
		self.saved_roles = dict(
			frappe.get_all("Role", {"name": ("in", BANK_ROLES)}, ["name", "two_factor_auth"], as_list=True)
		)

	def tearDown(self):
		frappe.set_user("Administrator")
		for field, value in self.saved.items():
			frappe.db.set_single_value("System Settings", field, value, update_modified=False)
		for role, value in self.saved_roles.items():
			frappe.db.set_value("Role", role, "two_factor_auth", value)
		frappe.db.commit()

	def statuses(self, **facts):
		with patch.object(site_posture, "collect", wraps=site_posture.collect) as collect:
			real = site_posture.collect()
			collect.side_effect = lambda: {**real, **facts}
			return {f.key: f.status for f in site_posture.findings()}

	def test_install_requires_two_factor_on_the_bank_roles(self):
		roles = frappe.get_all("Role", {"name": ("in", BANK_ROLES)}, ["name", "two_factor_auth"])
		self.assertEqual({r.name: r.two_factor_auth for r in roles}, dict.fromkeys(BANK_ROLES, 1))

	def test_weak_site_settings_fail_with_what_to_change(self):
		frappe.db.set_single_value(
			"System Settings", {"allow_error_traceback": 1, "enable_two_factor_auth": 0}
		)
		found = self.statuses()
		self.assertEqual(found["tracebacks"], posture.FAIL)
		self.assertEqual(found["two_factor"], posture.FAIL)
		rendered = {r["key"]: r for r in map(site_posture.render, site_posture.findings())}
		self.assertIn("System Settings", rendered["tracebacks"]["fix"])
		self.assertTrue(rendered["two_factor"]["why"])

	def test_a_hardened_site_passes_and_the_command_exits_zero(self):
		frappe.db.set_single_value("System Settings", HARDENED_SYSTEM_SETTINGS, update_modified=False)
		frappe.db.set_value("Role", {"name": ("in", BANK_ROLES)}, "two_factor_auth", 1)
		with patch.dict(frappe.conf, {"developer_mode": 0, "allow_tests": 0}):
			site_posture.confirm_key_backup()
			facts = {
				**RUNNING,
				"system_managers_with_bank_roles": [],
				"api_key_users_outside_integration": [],
				"customer_naming": "Naming Series",
			}
			found = self.statuses(**facts)
			self.assertEqual({k for k, s in found.items() if s != posture.PASS}, set(), found)
			with patch.object(site_posture, "collect", return_value={**site_posture.collect(), **facts}):
				site_posture.check()  # no SystemExit

	def test_the_command_exits_non_zero_on_a_failure(self):
		frappe.db.set_single_value("System Settings", "allow_error_traceback", 1, update_modified=False)
		with self.assertRaises(SystemExit) as exit_:
			site_posture.check()
		self.assertEqual(exit_.exception.code, 1)

	def test_staff_holding_system_manager_and_api_keys_outside_integration_are_named(self):
		mixed = make_user("sec-mixed", ["Relationship Manager", "System Manager"])
		api_token(make_user("sec-keyed-rm", ["Relationship Manager"]))
		api_token(make_user("sec-bot", ["Bank CRM Integration"]))
		facts = site_posture.collect()
		self.assertIn(mixed, facts["system_managers_with_bank_roles"])
		self.assertIn(f"sec-keyed-rm@{mixed.split('@')[1]}", facts["api_key_users_outside_integration"])
		self.assertNotIn(f"sec-bot@{mixed.split('@')[1]}", facts["api_key_users_outside_integration"])
		frappe.get_doc("User", mixed).remove_roles("System Manager")

	def test_key_backup_confirmation_lapses_when_the_key_changes(self):
		site_posture.confirm_key_backup()
		self.assertTrue(site_posture.collect()["encryption_key_backup_confirmed"])
		with patch.dict(frappe.conf, {"encryption_key": "another-key"}):
			self.assertFalse(site_posture.collect()["encryption_key_backup_confirmed"])

	def test_a_wrong_encryption_key_is_detected_and_no_id_is_shown(self):
		"""A site restored without its original key (or whose key was regenerated): the check fails
		with the reason, and revealing a full ID refuses with what to do instead of any value."""
		from cryptography.fernet import Fernet

		from bank_crm.api.profile import reveal_id_number
		from bank_crm.bank_customer.privacy import WrongEncryptionKey, key_reads_stored_ids

		profile = make_profile(individual(make_customer("Sec Key Customer"))).name
		self.assertIs(key_reads_stored_ids(), True)
		self.assertTrue(reveal_id_number(profile))
		with patch.dict(frappe.conf, {"encryption_key": Fernet.generate_key().decode()}):
			self.assertIs(key_reads_stored_ids(), False)
			facts = site_posture.collect()
			self.assertIs(facts["encryption_key_reads_data"], False)
			finding = next(f for f in posture.evaluate(facts) if f.key == "encryption_key")
			self.assertEqual(finding.status, posture.FAIL)
			self.assertIn("does not decrypt", site_posture.render(finding)["current"])
			with self.assertRaises(WrongEncryptionKey) as refused:
				reveal_id_number(profile)
			self.assertIn("encryption_key", str(refused.exception))
			frappe.local.lang = "zh"
			try:
				self.assertIn("无法解密", site_posture.render(finding)["current"])
				with self.assertRaises(WrongEncryptionKey) as refused:
					reveal_id_number(profile)
				self.assertIn("无法解密", str(refused.exception))
			finally:
				frappe.local.lang = "en"

	def test_only_crm_administrators_see_the_page(self):
		admin = make_user("sec-crm-admin", ["CRM Administrator"], language="zh")
		rm = make_user("sec-page-rm", ["Relationship Manager"])
		tokens = {u: api_token(u) for u in (admin, rm)}
		frappe.db.commit()
		url = "/api/method/bank_crm.api.security.findings"
		answer = Api(tokens[admin]).get(url)
		self.assertEqual(answer.status_code, 200, answer.text)
		keys = {f["key"] for f in answer.json["message"]}
		self.assertTrue({"tracebacks", "two_factor", "session_expiry", "encryption_key", "scheduler"} <= keys)
		self.assertEqual(Api(tokens[rm]).get(url).status_code, 403)
		self.assertTrue(frappe.db.exists("Page", "bank-crm-security"))


class TestAbuseLimits(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		frappe.set_user("Administrator")
		cls.rm = make_user("lim-rm", ["Relationship Manager"])
		cls.bm = make_user("lim-bm", ["Branch Manager"])
		cls.auditor = make_user("lim-auditor", ["Compliance Auditor"])
		cls.bot = make_user("lim-bot", ["Bank CRM Integration"])
		make_branch("T-LIM", members=[(cls.rm, "Relationship Manager"), (cls.bm, "Branch Manager")])
		cls.customer = make_customer(f"限流测试 {frappe.generate_hash(length=6)}", rm=cls.rm)
		cls.profile = make_profile(individual(cls.customer, cls.rm)).name
		cls.tokens = {u: api_token(u) for u in (cls.rm, cls.bm, cls.bot)}
		frappe.db.commit()
		clear_scope_cache()

	@classmethod
	def tearDownClass(cls):
		frappe.set_user("Administrator")
		from bank_crm.utils.traces import remove_traces

		remove_traces(["Bank Customer Profile"], [cls.profile])
		remove_traces(["User"], [cls.rm])
		frappe.db.delete("Access Log", {"reference_document": cls.profile})
		frappe.db.delete("__Auth", {"doctype": "Bank Customer Profile", "name": cls.profile})
		frappe.db.delete("Bank Customer Profile", {"name": cls.profile})
		frappe.db.delete("Customer", {"name": cls.customer})
		frappe.db.commit()
		super().tearDownClass()

	def setUp(self):
		clear_rate_limits()
		self.saved = frappe.db.get_singles_dict(SETTINGS)

	def tearDown(self):
		for field in (
			"reveal_limit_per_hour",
			"reveal_alert_per_day",
			"export_limit_per_hour",
			"ingest_calls_per_minute",
		):
			frappe.db.set_single_value(SETTINGS, field, self.saved.get(field), update_modified=False)
		frappe.db.commit()
		clear_rate_limits()

	def limit(self, **values):
		frappe.db.set_single_value(SETTINGS, values, update_modified=False)
		frappe.db.commit()

	def reveal(self):
		return Api(self.tokens[self.rm]).post(
			"/api/method/bank_crm.api.profile.reveal_id_number", {"profile": self.profile}
		)

	def test_full_id_views_are_limited_per_user(self):
		self.limit(reveal_limit_per_hour=2, reveal_alert_per_day=100)
		self.assertEqual([self.reveal().status_code for _ in range(3)], [200, 200, 429])

	def test_unusual_reveals_alert_the_compliance_auditors_once(self):
		frappe.db.delete("Access Log", {"user": self.rm})
		frappe.db.delete("Notification Log", {"for_user": self.auditor, "document_name": self.rm})
		self.limit(reveal_limit_per_hour=50, reveal_alert_per_day=3)
		for _ in range(5):
			self.assertEqual(self.reveal().status_code, 200)
		frappe.db.rollback()
		alerts = frappe.get_all(
			"Notification Log",
			{"for_user": self.auditor, "document_type": "User", "document_name": self.rm},
			["subject"],
		)
		self.assertEqual(len(alerts), 1)
		self.assertIn("3", alerts[0].subject)

	def test_customer_exports_are_limited_per_user(self):
		self.limit(export_limit_per_hour=1)
		api = Api(self.tokens[self.bm])
		args = {
			"doctype": "Customer",
			"file_format_type": "CSV",
			"fields": json.dumps(["`tabCustomer`.`name`"]),
		}
		first = api.get("/api/method/frappe.desk.reportview.export_query", **args)
		second = api.get("/api/method/frappe.desk.reportview.export_query", **args)
		self.assertEqual((first.status_code, second.status_code), (200, 429), second.text[:300])

	def test_bulk_ingestion_is_limited_per_user(self):
		self.limit(ingest_calls_per_minute=1)
		api = Api(self.tokens[self.bot])
		url = "/api/method/bank_crm.api.ingest.snapshots"
		self.assertEqual([api.post(url, {"rows": []}).status_code for _ in range(2)], [200, 429])
