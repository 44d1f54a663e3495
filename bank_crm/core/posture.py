"""The bank's security baseline for a Frappe site, as rules over plain data.

``RULES`` is the baseline as a table: one small function per rule, in the order the findings
are reported, each taking the facts the Frappe layer read off the site (settings, roles, users,
keys, scheduler) and returning that rule's ``Finding`` (or None when the rule does not apply:
the email-link login is only checked with two-factor authentication on). ``evaluate(facts)``
runs the table. A finding is *pass*, *warn* (below the baseline but a judgement call) or *fail*
(must change), and says what is set now, what the baseline expects, why it matters to a bank
and what to change. Texts are English templates that the Frappe layer translates.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

PASS, WARN, FAIL = "pass", "warn", "fail"

MAX_IDLE_MINUTES = 30  # desk sessions (Frappe's session expiry is an idle timeout)
MAX_IDLE_MINUTES_HARD = 8 * 60
MIN_PASSWORD_SCORE = 3
MAX_LOGIN_ATTEMPTS = 5
MIN_LOCKOUT_SECONDS = 300
SCHEDULER_STALE_MINUTES = 30


@dataclass(frozen=True)
class Finding:
	key: str
	status: str
	title: str
	current: str
	expected: str
	why: str
	fix: str
	args: Mapping[str, Sequence] = field(default_factory=dict)  # placeholders per text field


def idle_minutes(session_expiry: str | None) -> int | None:
	"""Frappe's ``session_expiry`` ('HH:MM', hours may exceed 24) in minutes; None if unreadable."""
	try:
		hours, minutes = str(session_expiry or "").strip().split(":")
		return int(hours) * 60 + int(minutes)
	except ValueError:
		return None


def named(names: Sequence[str], limit: int = 8) -> str:
	"""A readable list of names, at most ``limit`` of them (then how many more)."""
	names = list(names)
	if len(names) <= limit:
		return ", ".join(names)
	return ", ".join(names[:limit]) + f" (+{len(names) - limit})"


def _finding(key, ok, title, current, expected, why, fix, *, severity=FAIL, args=None):
	return Finding(key, PASS if ok else severity, title, current, expected, why, fix, args or {})


def _tracebacks(facts: Mapping) -> Finding:
	"""Error tracebacks are hidden from users."""
	return _finding(
		"tracebacks",
		not facts.get("allow_error_traceback"),
		"Error tracebacks shown to users",
		"shown to users" if facts.get("allow_error_traceback") else "hidden from users",
		"hidden from users",
		"A traceback tells an attacker the code paths, queries and sometimes data of the bank's system.",
		"System Settings → uncheck 'Show Full Error and Allow Reporting of Issues to the Developer'.",
	)


def _developer_mode(facts: Mapping) -> Finding:
	"""Developer mode is switched off."""
	return _finding(
		"developer_mode",
		not facts.get("developer_mode"),
		"Developer mode",
		"switched on" if facts.get("developer_mode") else "switched off",
		"switched off",
		"Developer mode lets administrators change DocTypes in the database and shows internals; a production bank site runs without it.",
		"bench --site SITE set-config developer_mode 0",
	)


def _allow_tests(facts: Mapping) -> Finding:
	"""Test runs are not allowed on the site (a warning)."""
	return _finding(
		"allow_tests",
		not facts.get("allow_tests"),
		"Test runs allowed on this site",
		"allowed" if facts.get("allow_tests") else "not allowed",
		"not allowed",
		"Test runs create and delete records and change the site's country and time zone; never on a site with customer data.",
		"bench --site SITE set-config allow_tests 0",
		severity=WARN,
	)


def _password_policy(facts: Mapping) -> Finding:
	"""The password policy is on with a minimum score of at least ``MIN_PASSWORD_SCORE``."""
	policy_on = bool(facts.get("enable_password_policy"))
	score = int(facts.get("minimum_password_score") or 0)
	return _finding(
		"password_policy",
		policy_on and score >= MIN_PASSWORD_SCORE,
		"Password policy strength",
		"policy {0}, minimum score {1}",
		"policy on, minimum score {2} or more",
		"Weak passwords are the commonest way into staff accounts that can read customers' personal information.",
		"System Settings → check 'Enable Password Policy' and set 'Minimum Password Score' to {2} or 4.",
		args={
			"current": ("switched on" if policy_on else "switched off", score),
			"expected": ("", "", MIN_PASSWORD_SCORE),
			"fix": ("", "", MIN_PASSWORD_SCORE),
		},
	)


def _two_factor(facts: Mapping) -> Finding:
	"""Two-factor authentication is on site-wide and required on every bank role."""
	twofa_site = bool(facts.get("enable_two_factor_auth"))
	roles_without = sorted(facts.get("bank_roles_without_2fa") or ())
	return _finding(
		"two_factor",
		twofa_site and not roles_without,
		"Two-factor authentication for the bank roles",
		"site-wide {0}; roles without it: {1}",
		"on site-wide and required on every bank role",
		"A stolen password alone must not open a portfolio of customers' personal and financial data.",
		"System Settings → check 'Enable Two Factor Auth'; Role → check 'Two Factor Authentication' on {1}.",
		args={
			"current": (
				"switched on" if twofa_site else "switched off",
				", ".join(roles_without) or "no role",
			),
			"fix": ("", ", ".join(roles_without) or "the bank roles"),
		},
	)


def _email_link_login(facts: Mapping) -> Finding | None:
	"""With two-factor authentication on, no login by email link (None when it is off)."""
	if not facts.get("enable_two_factor_auth"):
		return None
	return _finding(
		"email_link_login",
		not facts.get("login_with_email_link"),
		"Login with an email link",
		"allowed" if facts.get("login_with_email_link") else "not allowed",
		"not allowed",
		"A login link sent by email signs a user in without the second factor.",
		"System Settings → uncheck 'Login with email link'.",
	)


def _session_expiry(facts: Mapping) -> Finding:
	"""The idle timeout is at most ``MAX_IDLE_MINUTES`` (a warning up to ``MAX_IDLE_MINUTES_HARD``)."""
	idle = idle_minutes(facts.get("session_expiry"))
	return _finding(
		"session_expiry",
		idle is not None and idle <= MAX_IDLE_MINUTES,
		"Session expiry (idle timeout)",
		"{0}",
		"{1} minutes or less",
		"An unattended desk left signed in at a branch counter exposes customers' data to whoever passes by.",
		"System Settings → set 'Session Expiry (idle timeout)' to 00:{1}.",
		severity=WARN if idle is not None and idle <= MAX_IDLE_MINUTES_HARD else FAIL,
		args={
			"current": (facts.get("session_expiry") or "",),
			"expected": ("", MAX_IDLE_MINUTES),
			"fix": ("", MAX_IDLE_MINUTES),
		},
	)


def _login_lockout(facts: Mapping) -> Finding:
	"""Logins lock after at most ``MAX_LOGIN_ATTEMPTS`` failures for ``MIN_LOCKOUT_SECONDS`` or more."""
	attempts = int(facts.get("allow_consecutive_login_attempts") or 0)
	lockout = int(facts.get("allow_login_after_fail") or 0)
	return _finding(
		"login_lockout",
		0 < attempts <= MAX_LOGIN_ATTEMPTS and lockout >= MIN_LOCKOUT_SECONDS,
		"Lockout after failed logins",
		"{0} attempts, then locked for {1} s",
		"at most {2} attempts, locked for at least {3} s",
		"Without a lockout, passwords can be guessed at machine speed.",
		"System Settings → 'Allow Consecutive Login Attempts' {2} and 'Allow Login After Fail' {3} seconds or more.",
		args={
			"current": (attempts or "unlimited", lockout),
			"expected": ("", "", MAX_LOGIN_ATTEMPTS, MIN_LOCKOUT_SECONDS),
			"fix": ("", "", MAX_LOGIN_ATTEMPTS, MIN_LOCKOUT_SECONDS),
		},
	)


def _segregation(facts: Mapping) -> Finding:
	"""No System Manager also holds a bank role."""
	mixed = sorted(facts.get("system_managers_with_bank_roles") or ())
	return _finding(
		"segregation",
		not mixed,
		"System Manager together with a bank role",
		"{0}",
		"nobody",
		"A System Manager bypasses every row-level rule; a bank officer who is also a System Manager sees every customer.",
		"Give platform administration and bank work to separate accounts: remove System Manager from {0}.",
		args={"current": (named(mixed) or "nobody",), "fix": (named(mixed),)},
	)


def _api_keys(facts: Mapping) -> Finding:
	"""Only Bank CRM Integration users hold API keys."""
	keyed = sorted(facts.get("api_key_users_outside_integration") or ())
	return _finding(
		"api_keys",
		not keyed,
		"API keys outside the integration role",
		"{0}",
		"only Bank CRM Integration users hold API keys",
		"An API key skips the login, two-factor authentication and session expiry; staff accounts must not carry one.",
		"User → API Access: remove the keys of {0}, or give system accounts the Bank CRM Integration role only.",
		args={"current": (named(keyed) or "nobody",), "fix": (named(keyed),)},
	)


def _encryption_key(facts: Mapping) -> Finding:
	"""The site's encryption key is present, decrypts the ID numbers stored on the site, and its
	backup is confirmed."""
	has_key = bool(facts.get("encryption_key_present"))
	reads = facts.get("encryption_key_reads_data") is not False
	backed_up = bool(facts.get("encryption_key_backup_confirmed"))
	if has_key and not reads:
		return _finding(
			"encryption_key",
			False,
			"Encryption key present and backed up",
			"the key in site_config.json does not decrypt the ID numbers stored on this site",
			"present, and its backup confirmed for the key in use",
			"The site was restored or moved without its original encryption key (or the key was lost and a new one generated): full ID numbers, personal-information exports and duplicate detection cannot work, and nothing undecryptable is ever shown as an ID.",
			"Copy 'encryption_key' from the original site's site_config.json, or from the backup's site_config_backup.json, into this site's site_config.json (bench --site SITE set-config encryption_key …); then run this check again.",
		)
	return _finding(
		"encryption_key",
		has_key and backed_up,
		"Encryption key present and backed up",
		"{0}",
		"present, and its backup confirmed for the key in use",
		"ID numbers are encrypted with the site's key: without a backup of it, a restored site cannot read them; a changed key needs a new backup.",
		"Copy 'encryption_key' from site_config.json to the bank's key vault, then confirm it in Bank CRM Settings → Security.",
		args={
			"current": (
				"missing"
				if not has_key
				else ("backup confirmed" if backed_up else "present, backup not confirmed"),
			)
		},
	)


def _scheduler(facts: Mapping) -> Finding:
	"""The scheduler is enabled, queued a job lately and has at least one worker."""
	scheduler_on = bool(facts.get("scheduler_enabled"))
	stale = facts.get("minutes_since_scheduler_ran")
	workers = int(facts.get("workers") or 0)
	running = scheduler_on and stale is not None and stale <= SCHEDULER_STALE_MINUTES and workers > 0
	return _finding(
		"scheduler",
		running,
		"Scheduler and background workers running",
		"scheduler {0}, last job queued {1} min ago, {2} workers",
		"enabled, a job queued in the last {3} minutes, at least one worker",
		"Escalations, re-verification, re-tiering and message retries run on the scheduler; when it stops, deadlines pass unseen.",
		"bench --site SITE enable-scheduler; run 'bench schedule' and 'bench worker' under the process supervisor.",
		args={
			"current": (
				"switched on" if scheduler_on else "switched off",
				"—" if stale is None else stale,
				workers,
			),
			"expected": ("", "", "", SCHEDULER_STALE_MINUTES),
		},
	)


def _customer_naming(facts: Mapping) -> Finding:
	"""Customer IDs come from a naming series, not the customer's name (a warning)."""
	naming = facts.get("customer_naming")
	return _finding(
		"customer_naming",
		naming in (None, "Naming Series", "Auto Name"),
		"Customer IDs",
		"{0}",
		"a naming series (CUST-.#####), not the customer's name",
		"A customer's ID travels in URLs, logs, notifications and exports; named after the person, it discloses who banks here — and a second customer of the same name gets a numbered ID that tells staff the first one exists.",
		"Selling Settings → 'Customer Naming By' → Naming Series (applies to new customers).",
		severity=WARN,
		args={"current": (naming or "",)},
	)


def _telemetry(facts: Mapping) -> Finding:
	"""Usage telemetry to the framework's vendor is switched off (a warning)."""
	return _finding(
		"telemetry",
		not facts.get("enable_telemetry"),
		"Usage telemetry sent to the framework's vendor",
		"switched on" if facts.get("enable_telemetry") else "switched off",
		"switched off",
		"Usage data leaving the bank's network needs a data-export assessment; switch it off.",
		"System Settings → uncheck 'Allow Sending Usage Data for Improving Applications'.",
		severity=WARN,
	)


def _backup_encryption(facts: Mapping) -> Finding:
	"""Backups are encrypted (a warning)."""
	return _finding(
		"backup_encryption",
		bool(facts.get("encrypt_backup")),
		"Encrypted backups",
		"switched on" if facts.get("encrypt_backup") else "switched off",
		"switched on",
		"A database backup holds every customer's personal information.",
		"System Settings → check 'Encrypt Backups'.",
		severity=WARN,
	)


# The baseline, in the order the findings are reported.
RULES: tuple[Callable[[Mapping], Finding | None], ...] = (
	_tracebacks,
	_developer_mode,
	_allow_tests,
	_password_policy,
	_two_factor,
	_email_link_login,
	_session_expiry,
	_login_lockout,
	_segregation,
	_api_keys,
	_encryption_key,
	_scheduler,
	_customer_naming,
	_telemetry,
	_backup_encryption,
)


def evaluate(facts: Mapping) -> list[Finding]:
	"""The findings for ``facts`` (see ``bank_crm.bank_crm.page.bank_crm_security.bank_crm_security.collect`` for the keys)."""
	findings = (rule(facts) for rule in RULES)
	return [finding for finding in findings if finding is not None]


def failed(findings: Sequence[Finding]) -> list[Finding]:
	return [x for x in findings if x.status == FAIL]
