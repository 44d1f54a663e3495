"""The security posture page: findings for CRM Administrators, and the key-backup confirmation."""

import frappe

from bank_crm.bank_crm.page.bank_crm_security import bank_crm_security as posture
from bank_crm.permissions.scope import require_crm_administrator


@frappe.whitelist(methods=["GET", "POST"])
def findings() -> list[dict]:
	"""Every rule of the bank baseline with its status, current value, why and what to change."""
	require_crm_administrator()
	return [posture.render(f) for f in posture.findings()]


@frappe.whitelist(methods=["POST"])
def confirm_key_backup() -> dict:
	"""The CRM Administrator confirms that the site's encryption key is in the bank's key vault."""
	require_crm_administrator()
	return {"fingerprint": posture.confirm_key_backup()}
