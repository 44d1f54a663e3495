"""The security posture page: findings for CRM Administrators, and the key-backup confirmation."""

import frappe
from frappe import _

from bank_crm.bank_crm.page.bank_crm_security import bank_crm_security as posture
from bank_crm.core.access import CRM_ADMINISTRATOR


def _require_administrator():
	if not (set(frappe.get_roles()) & {CRM_ADMINISTRATOR, "System Manager"}):
		frappe.throw(_("Only a CRM Administrator may do this."), frappe.PermissionError)


@frappe.whitelist(methods=["GET", "POST"])
def findings() -> list[dict]:
	"""Every rule of the bank baseline with its status, current value, why and what to change."""
	_require_administrator()
	return [posture.render(f) for f in posture.findings()]


@frappe.whitelist(methods=["POST"])
def confirm_key_backup() -> dict:
	"""The CRM Administrator confirms that the site's encryption key is in the bank's key vault."""
	_require_administrator()
	return {"fingerprint": posture.confirm_key_backup()}
