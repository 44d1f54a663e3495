from frappe.model.document import Document


class BankJobShard(Document):
	"""One key range of a sharded run (``bank_crm.utils.shards``): its status, checkpoint and
	result."""
