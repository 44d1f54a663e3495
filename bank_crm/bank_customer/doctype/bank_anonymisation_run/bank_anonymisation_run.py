from frappe.model.document import Document


class BankAnonymisationRun(Document):
	"""The record of one run of the retention job (``bank_crm.services.rights.run_anonymisation``)."""
