"""The bank security baseline: a hardened site passes, each weakness is named with its fix."""

import pytest

from bank_crm.core import posture

HARDENED = {
	"allow_error_traceback": 0,
	"developer_mode": 0,
	"allow_tests": 0,
	"enable_password_policy": 1,
	"minimum_password_score": "3",
	"enable_two_factor_auth": 1,
	"login_with_email_link": 0,
	"bank_roles_without_2fa": [],
	"session_expiry": "00:30",
	"allow_consecutive_login_attempts": 5,
	"allow_login_after_fail": 600,
	"system_managers_with_bank_roles": [],
	"api_key_users_outside_integration": [],
	"encryption_key_present": True,
	"encryption_key_backup_confirmed": True,
	"scheduler_enabled": True,
	"minutes_since_scheduler_ran": 3,
	"workers": 2,
	"enable_telemetry": 0,
	"encrypt_backup": 1,
	"customer_naming": "Naming Series",
}


def statuses(facts):
	return {f.key: f.status for f in posture.evaluate(facts)}


def test_a_hardened_site_passes_everything():
	assert set(statuses(HARDENED).values()) == {posture.PASS}
	assert posture.failed(posture.evaluate(HARDENED)) == []


@pytest.mark.parametrize(
	"change, key, status",
	[
		({"allow_error_traceback": 1}, "tracebacks", posture.FAIL),
		({"developer_mode": 1}, "developer_mode", posture.FAIL),
		({"allow_tests": 1}, "allow_tests", posture.WARN),
		({"enable_password_policy": 0}, "password_policy", posture.FAIL),
		({"minimum_password_score": "2"}, "password_policy", posture.FAIL),
		({"enable_two_factor_auth": 0}, "two_factor", posture.FAIL),
		({"bank_roles_without_2fa": ["Relationship Manager"]}, "two_factor", posture.FAIL),
		({"login_with_email_link": 1}, "email_link_login", posture.FAIL),
		({"session_expiry": "04:00"}, "session_expiry", posture.WARN),
		({"session_expiry": "170:00"}, "session_expiry", posture.FAIL),
		({"session_expiry": "soon"}, "session_expiry", posture.FAIL),
		({"allow_consecutive_login_attempts": 10}, "login_lockout", posture.FAIL),
		({"allow_consecutive_login_attempts": 0}, "login_lockout", posture.FAIL),
		({"allow_login_after_fail": 60}, "login_lockout", posture.FAIL),
		({"system_managers_with_bank_roles": ["rm@bank"]}, "segregation", posture.FAIL),
		({"api_key_users_outside_integration": ["rm@bank"]}, "api_keys", posture.FAIL),
		({"encryption_key_present": False}, "encryption_key", posture.FAIL),
		({"encryption_key_backup_confirmed": False}, "encryption_key", posture.FAIL),
		({"encryption_key_reads_data": False}, "encryption_key", posture.FAIL),
		({"scheduler_enabled": False}, "scheduler", posture.FAIL),
		({"minutes_since_scheduler_ran": None}, "scheduler", posture.FAIL),
		({"minutes_since_scheduler_ran": 90}, "scheduler", posture.FAIL),
		({"workers": 0}, "scheduler", posture.FAIL),
		({"enable_telemetry": 1}, "telemetry", posture.WARN),
		({"encrypt_backup": 0}, "backup_encryption", posture.WARN),
		({"customer_naming": "Customer Name"}, "customer_naming", posture.WARN),
	],
)
def test_each_weakness_is_reported(change, key, status):
	found = statuses({**HARDENED, **change})
	assert found[key] == status
	assert {k for k, s in found.items() if s != posture.PASS} == {key}


def test_every_text_renders_with_its_arguments():
	weak = {
		**HARDENED,
		"enable_two_factor_auth": 0,
		"bank_roles_without_2fa": ["Branch Manager"],
		"system_managers_with_bank_roles": ["a@x"],
		"api_key_users_outside_integration": ["b@x"],
		"session_expiry": "240:00",
	}
	for f in posture.evaluate(weak):
		for name in ("title", "current", "expected", "why", "fix"):
			text = getattr(f, name).format(*f.args.get(name, ()))
			assert "{" not in text, (f.key, name, text)
		if f.status != posture.PASS:
			assert f.fix and f.why


def test_idle_minutes_reads_frappe_session_expiry():
	assert posture.idle_minutes("00:30") == 30
	assert posture.idle_minutes("170:00") == 170 * 60
	assert posture.idle_minutes("") is None
	assert posture.idle_minutes("x:y") is None


def test_long_lists_of_names_are_shortened():
	assert posture.named(["a", "b"]) == "a, b"
	assert posture.named([str(i) for i in range(12)], limit=3) == "0, 1, 2 (+9)"


def test_a_key_that_cannot_read_the_stored_ids_is_named_with_the_fix():
	finding = next(
		f
		for f in posture.evaluate({**HARDENED, "encryption_key_reads_data": False})
		if f.key == "encryption_key"
	)
	assert finding.status == posture.FAIL
	assert "does not decrypt" in finding.current
	assert "site_config_backup.json" in finding.fix
	ok = next(
		f
		for f in posture.evaluate({**HARDENED, "encryption_key_reads_data": None})
		if f.key == "encryption_key"
	)
	assert ok.status == posture.PASS  # a site with no ID numbers yet has nothing to read
