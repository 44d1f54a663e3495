"""ERPNext's Opportunity, for a bank product: refused when the product is above the customer's
risk level or the customer's risk assessment is not in force (适当性, ``core.suitability``)."""

import frappe
from frappe import _
from frappe.utils import getdate, today

from bank_crm.core import suitability


class UnsuitableProduct(frappe.ValidationError):
	pass


def validate(doc, method=None):
	product = doc.get("bank_product")
	if not product or doc.opportunity_from != "Customer" or not doc.party_name:
		return
	check(doc.party_name, product, field_label=_("Bank Product"))


def check(customer: str, product: str, field_label: str):
	"""Throw, naming the field and the reason, when ``product`` may not be recommended to
	``customer`` today."""
	risk = frappe.db.get_value("Bank Product", product, "risk_level")
	assessment = (
		frappe.db.get_value(
			"Bank Customer Profile",
			{"customer": customer},
			["risk_tolerance", "risk_assessment_expires_on"],
			as_dict=True,
		)
		or frappe._dict()
	)
	expires = (
		getdate(assessment.risk_assessment_expires_on) if assessment.risk_assessment_expires_on else None
	)
	reason = suitability.refusal(product, risk, assessment.risk_tolerance, expires, getdate(today()))
	if reason:
		template, args = reason
		frappe.throw(
			_("{0}: {1}").format(field_label, _(template).format(*args)),
			UnsuitableProduct,
			title=_("Not suitable for this customer"),
		)
