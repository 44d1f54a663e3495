"""Sensitive personal information: fingerprints, who may see full values, the audit trail."""

import hashlib

import frappe
from frappe import _
from frappe.utils.password import get_encryption_key

from bank_crm.core import identity

SETTINGS = "Bank CRM Settings"
PROFILE = "Bank Customer Profile"


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


class WrongEncryptionKey(frappe.ValidationError):
	"""The site's encryption key is not the one the stored ID numbers were encrypted with."""


def key_reads_stored_ids(sample: int = 3) -> bool | None:
	"""Whether the site's encryption key decrypts the ID numbers stored on it (a few of them, the
	newest); None when none is stored. A site restored without its original key, or whose key
	was lost and regenerated, answers False."""
	from cryptography.fernet import Fernet, InvalidToken

	stored = frappe.db.sql_list(
		"select password from `__Auth` where doctype = %s and fieldname = 'id_number' "
		"and encrypted = 1 order by name desc limit %s",
		(PROFILE, sample),
	)
	if not stored:
		return None
	try:
		cipher = Fernet(get_encryption_key().encode())  # a malformed key is as wrong as another key
		for token in stored:
			cipher.decrypt(token.encode())
	except (InvalidToken, ValueError):
		return False
	return True


def full_id_number(doc) -> str | None:
	"""The profile's ID number in full, or a clear refusal when this site's key cannot read it
	(never an undecryptable value shown as an ID)."""
	try:
		return doc.get_password("id_number", raise_exception=False)
	except frappe.ValidationError:
		if key_reads_stored_ids() is False:
			frappe.throw(
				_(
					"The ID number cannot be decrypted with this site's encryption key: the site was restored or moved "
					"without its original key. Nothing is shown. A system administrator must copy 'encryption_key' "
					"from the original site's site_config.json (or the backup's site_config_backup.json) into this "
					"site's site_config.json."
				),
				WrongEncryptionKey,
				title=_("Wrong encryption key"),
			)
		raise
