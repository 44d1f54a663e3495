"""Sites installed before: the profile's (RM, modified) and (branch, modified) indexes for the
desk's lists, and the need signals' open-by-scope indexes for the workbench (new installs get
them from ``on_doctype_update``)."""


def execute():
	from bank_crm.bank_customer.doctype.bank_customer_profile.bank_customer_profile import (
		on_doctype_update as profile_indexes,
	)
	from bank_crm.bank_insight.doctype.bank_need_signal.bank_need_signal import (
		on_doctype_update as signal_indexes,
	)

	profile_indexes()
	signal_indexes()
