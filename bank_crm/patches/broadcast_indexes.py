"""Sites installed before the broadcasts' indexes: the profile's reach column and index, and the
consent ledger's covering index (new installs get them from ``on_doctype_update``)."""


def execute():
	from bank_crm.bank_customer.doctype.bank_consent_record.bank_consent_record import (
		on_doctype_update as consent_indexes,
	)
	from bank_crm.bank_outreach.broadcasts import ensure_reach_column

	ensure_reach_column()
	consent_indexes()
