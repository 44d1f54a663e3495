# Copyright (c) 2026, bank_crm contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import get_datetime, now_datetime

from bank_crm.core import activity, values
from bank_crm.utils.validation import BankCRMValidationError

INDEXES = {
	# the rules' windows: a customer's events of some types over time, amounts from the index
	"customer_type_time": ["customer", "event_type", "event_time", "amount"],
	# what arrived since the last detection run, by type, without touching the rows
	"creation_type_customer": ["creation", "event_type", "customer"],
}


class BankActivityEvent(Document):
	"""One thing a customer did, reported by a core system (Data Import and the desk; the bulk
	endpoint checks with the same rules). Named by source and external id."""

	def autoname(self):
		self.event_key = activity.event_key(self.source or "", self.external_id or "")
		self.name = activity.event_name(self.event_key, get_datetime(self.event_time))

	def validate(self):
		row = {f: self.get(f) for f in (*activity.EVENT_REQUIRED, *activity.EVENT_OPTIONAL)}
		row["event_time"] = str(self.event_time) if self.event_time else None
		row["attributes"] = frappe.parse_json(self.attributes) if self.attributes else None
		clean, errors = activity.clean_event(0, row, activity.Context(now=now_datetime()))
		if errors:
			e = errors[0]
			label = _(self.meta.get_label(e.field)) if self.meta.has_field(e.field) else e.field
			frappe.throw(_("{0}: {1}").format(label, _(e.reason).format(*e.args)), BankCRMValidationError)
		self.currency = clean["currency"]
		self.event_key = clean["event_key"]
		stored = self.is_new() and frappe.db.get_value(
			self.doctype, {"event_key": self.event_key}, list(activity.EVENT_CONTENT), as_dict=True
		)
		if stored:
			field = activity.first_difference(clean, stored, activity.EVENT_CONTENT)
			if field:
				frappe.throw(
					_("External ID {0}: {1} conflicts with the event on file (stored {2}, sent {3}).").format(
						self.external_id,
						field,
						values.shown(stored.get(field)),
						values.shown(clean.get(field)),
					),
					BankCRMValidationError,
				)
			frappe.throw(
				_("External ID {0} of {1} is already on file with the same content.").format(
					self.external_id, self.source or "-"
				),
				frappe.DuplicateEntryError,
			)


def on_doctype_update():
	for name, columns in INDEXES.items():
		frappe.db.add_index("Bank Activity Event", columns, name)
	# Frappe indexes every table on "modified"; events never change, and an index fewer is a
	# faster insert at tens of thousands of events a second
	if frappe.db.sql("show index from `tabBank Activity Event` where Key_name = 'modified'"):
		frappe.db.sql_ddl("alter table `tabBank Activity Event` drop index `modified`")
