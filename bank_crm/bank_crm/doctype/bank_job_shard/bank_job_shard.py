from frappe.model.document import Document


class BankJobShard(Document):
	"""One key range of a sharded run (``bank_crm.services.shards``): its status, checkpoint and
	result."""
