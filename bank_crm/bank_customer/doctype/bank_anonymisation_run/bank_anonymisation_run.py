from frappe.model.document import Document


class BankAnonymisationRun(Document):
	"""The record of one run of the retention job (``bank_crm.bank_customer.anonymisation.run_anonymisation``)."""
