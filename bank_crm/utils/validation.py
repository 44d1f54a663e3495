"""Turn the core's field errors into translated Frappe errors that name the field."""

import frappe
from frappe import _

from bank_crm.core.errors import CoreValidationError


class BankCRMValidationError(frappe.ValidationError):
	"""Bad input on a bank_crm document; the message names the field and the reason."""


class DuplicateProfileError(BankCRMValidationError):
	"""A second profile for the same customer, ID number or credit code."""


def field_label(meta, fieldname: str) -> str:
	df = meta.get_field(fieldname)
	return _(df.label, context=meta.name) if df and df.label else fieldname


def throw_field_error(doc, err: CoreValidationError, exc=BankCRMValidationError):
	"""``frappe.throw`` with '<field label>: <reason>' in the user's language."""
	args = [_(a) if isinstance(a, str) else a for a in err.args_]
	label = field_label(doc.meta, err.field)
	frappe.throw(
		_("{0}: {1}").format(label, _(err.message).format(*args)),
		exc,
		title=_("Invalid {0}").format(label),
	)
