"""The site's security posture against the bank baseline (``bank_crm.core.posture``).

From a shell, exits non-zero when any rule fails:

    bench --site SITE execute bank_crm.bank_crm.page.bank_crm_security.bank_crm_security.check

The desk page *Bank CRM Security* shows the same findings to a CRM Administrator.
"""

import hashlib
import sys

import frappe
from frappe import _
from frappe.utils import now_datetime, time_diff_in_seconds

from bank_crm.bank_customer.privacy import key_reads_stored_ids
from bank_crm.core import posture
from bank_crm.core.access import BANK_ROLES, INTEGRATION

SETTINGS = "Bank CRM Settings"
SYSTEM_SETTINGS_FIELDS = (
	"allow_error_traceback",
	"enable_password_policy",
	"minimum_password_score",
	"enable_two_factor_auth",
	"login_with_email_link",
	"session_expiry",
	"allow_consecutive_login_attempts",
	"allow_login_after_fail",
	"enable_telemetry",
	"encrypt_backup",
)


def key_fingerprint() -> str | None:
	"""A fingerprint of the site's encryption key (never the key), to tie a backup to it."""
	key = frappe.conf.get("encryption_key")
	if not key:
		return None
	return hashlib.sha256(b"bank_crm:key-backup:" + key.encode()).hexdigest()[:16]


def collect() -> dict:
	"""The facts ``core.posture.evaluate`` needs, read off this site."""
	settings = frappe.get_single("System Settings")
	facts = {f: settings.get(f) for f in SYSTEM_SETTINGS_FIELDS}
	facts["developer_mode"] = bool(frappe.conf.get("developer_mode"))
	facts["allow_tests"] = bool(frappe.conf.get("allow_tests"))
	facts["bank_roles_without_2fa"] = [
		_(role)  # shown to the reader, in their language
		for role in frappe.get_all(
			"Role", filters={"name": ("in", BANK_ROLES), "two_factor_auth": 0}, pluck="name"
		)
	]
	users = _enabled_users_with_roles(("System Manager", *BANK_ROLES))
	facts["system_managers_with_bank_roles"] = sorted(
		user for user, roles in users.items() if "System Manager" in roles and roles & set(BANK_ROLES)
	)
	keyed = frappe.get_all(
		"User", filters={"enabled": 1, "api_key": ("is", "set")}, pluck="name", order_by="name"
	)
	integration = set(_enabled_users_with_roles((INTEGRATION,)))
	facts["api_key_users_outside_integration"] = [u for u in keyed if u not in integration]
	fingerprint = key_fingerprint()
	facts["encryption_key_present"] = bool(fingerprint)
	facts["encryption_key_reads_data"] = key_reads_stored_ids() if fingerprint else None
	facts["encryption_key_backup_confirmed"] = bool(fingerprint) and (
		frappe.db.get_single_value(SETTINGS, "encryption_key_backup_fingerprint") == fingerprint
	)
	from frappe.utils.scheduler import is_scheduler_inactive

	facts["scheduler_enabled"] = not is_scheduler_inactive(verbose=False)
	last = frappe.db.sql("select max(last_execution) from `tabScheduled Job Type` where stopped = 0")[0][0]
	facts["minutes_since_scheduler_ran"] = (
		int(time_diff_in_seconds(now_datetime(), last) // 60) if last else None
	)
	facts["workers"] = _worker_count()
	facts["customer_naming"] = frappe.db.get_single_value("Selling Settings", "cust_master_name")
	return facts


def _enabled_users_with_roles(roles) -> dict[str, set[str]]:
	rows = frappe.db.sql(
		"""select r.parent, r.role from `tabHas Role` r join `tabUser` u on u.name = r.parent
		where r.parenttype = 'User' and u.enabled = 1 and u.name not in ('Administrator', 'Guest')
			and r.role in %(roles)s""",
		{"roles": tuple(roles)},
	)
	found: dict[str, set[str]] = {}
	for user, role in rows:
		found.setdefault(user, set()).add(role)
	return found


def _worker_count() -> int:
	try:
		from frappe.utils.background_jobs import get_workers

		return len(get_workers())
	except Exception:  # Redis down: no worker can be reached either
		return 0


def findings() -> list[posture.Finding]:
	return posture.evaluate(collect())


def render(finding: posture.Finding) -> dict:
	"""One finding with every text in the user's language."""

	def text(name):
		args = [_(a) if isinstance(a, str) else a for a in finding.args.get(name, ())]
		return _(getattr(finding, name)).format(*args)

	return {
		"key": finding.key,
		"status": finding.status,
		**{name: text(name) for name in ("title", "current", "expected", "why", "fix")},
	}


def check():
	"""``bench execute`` entry point: print the findings; exit 1 when a rule fails."""
	results = findings()
	marks = {posture.PASS: "PASS", posture.WARN: "WARN", posture.FAIL: "FAIL"}
	for finding in results:
		r = render(finding)
		print(f"[{marks[r['status']]}] {r['title']}: {r['current']}")
		if r["status"] != posture.PASS:
			print(f"       expected: {r['expected']}")
			print(f"       why: {r['why']}")
			print(f"       change: {r['fix']}")
	failed = posture.failed(results)
	print(
		f"\n{len(results)} checks: {len(results) - len(failed)} without failure, {len(failed)} failed"
		f" ({sum(1 for f in results if f.status == posture.WARN)} warnings)"
	)
	if failed:
		sys.exit(1)  # bench execute ends the connection on its way out


def confirm_key_backup():
	"""Record that the current encryption key has been backed up, by whom and when."""
	fingerprint = key_fingerprint()
	if not fingerprint:
		frappe.throw(_("This site has no encryption key yet."))
	settings = frappe.get_single(SETTINGS)
	settings.encryption_key_backup_fingerprint = fingerprint
	settings.encryption_key_backup_confirmed_on = now_datetime()
	settings.encryption_key_backup_confirmed_by = frappe.session.user
	settings.flags.ignore_permissions = True
	settings.save()
	settings.add_comment("Info", _("Confirmed that the encryption key is backed up"))
	return fingerprint


def apply_app_defaults():
	"""The safe defaults that belong to the app: two-factor authentication on the bank roles
	(it takes effect when the administrator enables it site-wide, which the check reports)."""
	frappe.db.set_value("Role", {"name": ("in", BANK_ROLES)}, "two_factor_auth", 1, update_modified=False)
