"""Sensitive personal information: fingerprints, who may see full values, the audit trail."""

import hashlib

import frappe
from frappe.utils.password import get_encryption_key

from bank_crm.core import identity

SETTINGS = "Bank CRM Settings"


def _fingerprint_key() -> bytes:
	"""A key derived from the site's encryption key, never stored anywhere."""
	return hashlib.sha256(b"bank_crm:id-fingerprint:" + get_encryption_key().encode()).digest()


def id_fingerprint(id_type: str, number: str) -> str:
	return identity.fingerprint(_fingerprint_key(), id_type, number)


def full_id_roles() -> set[str]:
	roles = frappe.get_all(
		"Bank CRM Role", filters={"parenttype": SETTINGS, "parentfield": "full_id_roles"}, pluck="role"
	)
	return {*roles, "System Manager"}


def can_view_full_id(user: str | None = None) -> bool:
	user = user or frappe.session.user
	return user == "Administrator" or bool(full_id_roles() & set(frappe.get_roles(user)))
