# Copyright (c) 2026, bank_crm contributors
# For license information, please see license.txt

import json

import frappe
from frappe import _
from frappe.model.document import Document

from bank_crm.core.delivery import header_problem


class AdapterValidationError(frappe.ValidationError):
	pass


class BankChannelAdapter(Document):
	def validate(self):
		self.validate_limits()
		self.validate_headers()
		self.validate_template()
		self.validate_one_enabled_per_channel()
		self.set_receipt_url()

	def set_receipt_url(self):
		"""Where the gateway posts its receipts (shown for the gateway's set-up)."""
		from bank_crm.bank_engagement.batch_delivery import receipt_url

		self.receipt_url = receipt_url(self.adapter_name or self.name) if self.batch_mode else None

	def validate_limits(self):
		if self.max_attempts < 1:
			frappe.throw(_("Max Attempts must be at least 1"), AdapterValidationError)
		if self.timeout_seconds < 1:
			frappe.throw(_("Timeout (Seconds) must be at least 1"), AdapterValidationError)

	def validate_headers(self):
		headers = self.get_headers()
		if problem := header_problem(headers):
			message, name = problem
			frappe.throw(_(message).format(name), AdapterValidationError)

	def get_headers(self) -> dict:
		if not self.http_headers:
			return {}
		if isinstance(self.http_headers, dict):
			return self.http_headers
		try:
			return json.loads(self.http_headers)
		except ValueError as e:
			frappe.throw(_("HTTP Headers are not valid JSON: {0}").format(e), AdapterValidationError)

	def validate_template(self):
		"""Render the template with a sample message: it must give a JSON value."""
		from bank_crm.bank_engagement.outbound import render_payload, sample_context

		try:
			render_payload(self.payload_template, sample_context(self.channel))
		except Exception as e:
			frappe.throw(
				_("The payload template does not render to JSON: {0}").format(e), AdapterValidationError
			)

	def validate_one_enabled_per_channel(self):
		if not self.enabled:
			return
		other = frappe.db.get_value(
			"Bank Channel Adapter",
			{"channel": self.channel, "enabled": 1, "name": ("!=", self.name or "")},
			"name",
		)
		if other:
			frappe.throw(
				_("Adapter {0} is already enabled for {1}; disable it first").format(other, _(self.channel)),
				AdapterValidationError,
			)
