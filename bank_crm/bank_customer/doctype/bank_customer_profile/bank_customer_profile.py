# Copyright (c) 2026, bank_crm contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import getdate, now_datetime, today

from bank_crm.bank_customer.privacy import id_fingerprint
from bank_crm.bank_customer.verification import interval_years
from bank_crm.core import cadence, consent, identity, profile, routing, verification
from bank_crm.core.access import RELATIONSHIP_MANAGER
from bank_crm.core.errors import CoreValidationError
from bank_crm.utils.validation import DuplicateProfileError, throw_field_error

INDIVIDUAL, CORPORATE = verification.INDIVIDUAL, verification.CORPORATE
# Set by the segmentation engine only: a save by a user (desk or REST) cannot change them.
ENGINE_FIELDS = (
	"value_score",
	"tier",
	"tier_below_runs",
	"tier_override",
	"score_policy",
	"score_snapshot_date",
	"scored_on",
	"lifecycle_stage",
	"lifecycle_reason",
)
# Set by the prediction scoring only (a desk save of a form opened before it ran keeps its values)
MODEL_FIELDS = (
	"churn_probability",
	"churn_band",
	"churn_reasons",
	"propensity_scores",
	"top_propensities",
	"prediction_models",
	"predicted_on",
)
# a contact a gateway reported unusable → its flag (set by delivery receipts only)
UNUSABLE_FLAGS = {
	"mobile_no": "mobile_unusable",
	"wechat_id": "wechat_unusable",
	"app_user_id": "app_push_unusable",
}
QUALITATIVE_FIELDS = ("qual_industry_influence", "qual_cooperation_potential", "qual_risk_rating")
MAX_OVERRIDE_DAYS = 366


class BankCustomerProfile(Document):
	def validate(self):
		self.flags.stored_row = None  # read afresh for each save
		try:
			self.protect_engine_fields()
			self.set_defaults()
			self.validate_customer()
			self.validate_relationship_manager()
			if self.profile_type == INDIVIDUAL:
				self.validate_identity()
				self.validate_risk_tolerance()
			else:
				self.validate_company()
			self.validate_verification_checks()
			self.update_verification_status()
			self.validate_consents()
			self.keep_unusable_flags()
			self.validate_contact_preferences()
			self.validate_plan_overrides()
			self.validate_qualitative_scores()
			self.apply_lifecycle_override()
			self.clear_empty_unique_fields()
		except CoreValidationError as err:
			throw_field_error(self, err)

	def onload(self):
		"""What the engines store as keys with values, for the form in the reader's language."""
		from bank_crm.bank_insight.explanations import likely_products
		from bank_crm.bank_segmentation.segmentation import reason_in

		self.set_onload("lifecycle_reason", reason_in(self.lifecycle_reason))
		if self.has_permlevel_access_to("top_propensities"):
			self.set_onload("top_propensities", likely_products(self.propensity_scores))

	def on_update(self):
		self.sync_customer()
		self.record_lifecycle_override()
		self.replan_if_needed()
		self.stop_marketing_if_withdrawn()

	def stop_marketing_if_withdrawn(self):
		"""A marketing (or service) consent withdrawn on the ledger stops marketing at once: open
		automated marketing touches are cancelled, queued marketing messages skipped."""
		before = self.get_doc_before_save()
		if not before:
			return
		was_open = {r.name for r in before.consents if not r.withdrawn_on}
		withdrawn = [
			r
			for r in self.consents
			if r.name in was_open and r.withdrawn_on and r.purpose in ("Marketing", "Service")
		]
		if withdrawn:
			from bank_crm.bank_customer.data_subject_rights import stop_marketing

			stop_marketing([self.customer], withdrawn[0].withdrawal_evidence or _("Consent ledger"))
		from bank_crm.bank_engagement.contact import consents_of

		if self.propensity_scores and consent.objects_to_profiling(
			consents_of(self.consents), now_datetime()
		):
			from bank_crm.bank_customer.data_subject_rights import clear_propensities

			clear_propensities([self.name])  # PIPL article 24: the objection takes effect at once

	def on_trash(self):
		frappe.db.set_value(
			"Customer",
			self.customer,
			{"bank_profile": None, "bank_relationship_manager": None, "bank_branch": None},
			update_modified=False,
		)

	# -- engine fields --------------------------------------------------------------------
	def stored(self) -> dict | None:
		"""The engine-owned columns as stored now, read with a lock on the row: a nightly job that
		updates the profile meanwhile waits for this save (or this save for it), so neither
		writes over the other (a plain read sees the transaction's older snapshot)."""
		if self.is_new():
			return None
		if self.flags.stored_row is None:
			fields = (
				*ENGINE_FIELDS,
				*MODEL_FIELDS,
				*UNUSABLE_FLAGS,
				*UNUSABLE_FLAGS.values(),
				"unusable_contact_note",
			)
			self.flags.stored_row = frappe.db.get_value(
				self.doctype, self.name, fields, as_dict=True, for_update=True
			)
		return self.flags.stored_row

	def protect_engine_fields(self):
		stored = self.stored()
		fields = MODEL_FIELDS if self.flags.from_segmentation_engine else (*ENGINE_FIELDS, *MODEL_FIELDS)
		for fieldname in fields:
			self.set(fieldname, stored.get(fieldname) if stored else None)
		if stored is None and not self.flags.from_segmentation_engine:
			self.tier_below_runs = 0

	# -- defaults -------------------------------------------------------------------------
	def set_defaults(self):
		if not self.relationship_since:
			self.relationship_since = getdate()
		if self.is_new() and self.customer:
			customer_type = frappe.db.get_value("Customer", self.customer, "customer_type")
			if not self.profile_type:
				self.profile_type = INDIVIDUAL if customer_type == "Individual" else CORPORATE
		if self.profile_type == INDIVIDUAL and not self.legal_name:
			self.legal_name = self.customer_name
		if self.relationship_manager and not self.branch:
			self.branch = frappe.db.get_value(
				"Bank Branch Member",
				{"user": self.relationship_manager, "parenttype": "Bank Branch"},
				"parent",
			)

	# -- ownership ------------------------------------------------------------------------
	def validate_customer(self):
		if not self.flags.ignore_permissions and not frappe.has_permission(
			"Customer", "read", doc=self.customer
		):
			frappe.throw(
				_("Customer: you may not open {0}, so you cannot keep a profile for it.").format(
					self.customer
				),
				frappe.PermissionError,
			)
		other = frappe.db.get_value(
			"Bank Customer Profile", {"customer": self.customer, "name": ("!=", self.name)}, "name"
		)
		if other:
			frappe.throw(
				_("Customer: {0} already has the bank profile {1}; a customer has only one.").format(
					frappe.bold(self.customer), other
				),
				DuplicateProfileError,
				title=_("Duplicate Profile"),
			)

	def validate_relationship_manager(self):
		if not self.relationship_manager:
			return
		if RELATIONSHIP_MANAGER not in frappe.get_roles(self.relationship_manager):
			raise CoreValidationError(
				"relationship_manager",
				"{0} does not have the Relationship Manager role",
				self.relationship_manager,
			)

	# -- individual -----------------------------------------------------------------------
	def plain_id_number(self) -> str | None:
		if self.id_number and not self.is_dummy_password(self.id_number):
			return self.id_number
		if self.is_new():
			return None
		return self.get_password("id_number", raise_exception=False)

	def validate_identity(self):
		number = self.plain_id_number()
		if not number:
			raise CoreValidationError("id_number", "is required")
		number = identity.validate_id_number(
			self.id_type,
			number,
			date_of_birth=getdate(self.date_of_birth) if self.date_of_birth else None,
			gender=self.gender,
			today=getdate(),
		)
		if self.id_number and not self.is_dummy_password(self.id_number):
			self.id_number = number  # stored encrypted, normalised
		self.id_number_masked = identity.mask(number)
		self.id_number_hash = id_fingerprint(self.id_type, number)
		other = frappe.db.get_value(
			"Bank Customer Profile",
			{"id_number_hash": self.id_number_hash, "name": ("!=", self.name)},
			"name",
		)
		if other:
			frappe.throw(
				_("ID Number: the customer profile {0} already has this ID number.").format(other),
				DuplicateProfileError,
				title=_("Duplicate ID Number"),
			)

	def validate_risk_tolerance(self):
		from bank_crm.core.suitability import tolerance_from_score

		# a new questionnaire (an Int field reads 0 when empty: only a changed score counts)
		before = self.get_doc_before_save()
		previous = before.risk_questionnaire_score if before else 0
		if (self.risk_questionnaire_score or 0) != (previous or 0):
			derived = tolerance_from_score(self.risk_questionnaire_score)
			typed = (
				self.risk_tolerance if not before or before.risk_tolerance != self.risk_tolerance else None
			)
			if typed and typed != derived:  # a level typed with the score that contradicts it
				raise CoreValidationError(
					"risk_tolerance",
					"is {0}, but a questionnaire score of {1} gives {2}",
					self.risk_tolerance,
					self.risk_questionnaire_score,
					derived,
				)
			self.risk_tolerance = derived
			self.risk_assessed_by = frappe.session.user
			if not self.risk_assessment_date or (
				before and str(before.risk_assessment_date) == str(self.risk_assessment_date)
			):
				self.risk_assessment_date = today()
		assessment = profile.assess_risk_tolerance(
			self.risk_tolerance or None,
			getdate(self.risk_assessment_date) if self.risk_assessment_date else None,
			getdate(),
		)
		self.risk_assessment_expires_on = assessment.expires_on
		self.risk_assessment_expired = int(bool(self.risk_tolerance) and assessment.expired)

	# -- corporate ------------------------------------------------------------------------
	def validate_company(self):
		self.unified_social_credit_code = identity.validate_uscc(self.unified_social_credit_code or "")
		other = frappe.db.get_value(
			"Bank Customer Profile",
			{"unified_social_credit_code": self.unified_social_credit_code, "name": ("!=", self.name)},
			"name",
		)
		if other:
			frappe.throw(
				_("Unified Social Credit Code: the customer profile {0} already has this code.").format(
					other
				),
				DuplicateProfileError,
				title=_("Duplicate Unified Social Credit Code"),
			)
		self.total_shareholding = profile.check_shareholdings(
			[row.shareholding_percent for row in self.shareholders]
		)
		self.debt_to_asset_ratio = profile.debt_to_asset_ratio(self.total_assets, self.total_liabilities)
		for row in self.financing_needs:
			if (row.amount or 0) <= 0:
				raise CoreValidationError(
					"financing_needs", "row {0}: the amount must be above zero", row.idx
				)
			if (row.term_months or 0) <= 0:
				raise CoreValidationError(
					"financing_needs", "row {0}: the term must be at least one month", row.idx
				)

	# -- verification ---------------------------------------------------------------------
	def validate_verification_checks(self):
		today = getdate()
		for row in self.verification_checks:
			if row.result in (verification.PASSED, verification.FAILED):
				if not row.checked_on:
					raise CoreValidationError(
						"verification_checks",
						"row {0}: a passed or failed check needs the date it was made",
						row.idx,
					)
				row.checked_by = row.checked_by or frappe.session.user
			if row.checked_on and getdate(row.checked_on) > today:
				raise CoreValidationError(
					"verification_checks", "row {0}: the check date is in the future", row.idx
				)

	def update_verification_status(self):
		state = verification.derive(
			self.profile_type,
			[
				verification.Check(
					r.check_type, r.result, getdate(r.checked_on) if r.checked_on else None, r.source
				)
				for r in self.verification_checks
			],
			self.risk_level,
			getdate(),
			interval_years(),
		)
		self.verification_status = state.status
		self.reverification_due_on = state.due_on
		outstanding = [_("{0} (failed)").format(_(t)) for t in state.failed]
		outstanding += [_(t) for t in state.missing if t not in state.failed]
		self.verification_outstanding = ", ".join(outstanding) or None

	# -- consent ledger -------------------------------------------------------------------
	def validate_consents(self):
		for row in self.consents:
			row.recorded_by = row.recorded_by or frappe.session.user
			consent.check_row(
				{
					"purpose": row.purpose,
					"channel": row.channel,
					"granted_on": _dt(row.granted_on),
					"withdrawn_on": _dt(row.withdrawn_on),
					"evidence_type": row.evidence_type,
				},
				row.idx,
			)
			if _dt(row.granted_on) > now_datetime():
				raise CoreValidationError(
					"consents", "row {0}: the date of consent is in the future", row.idx
				)
		before = self.get_doc_before_save()
		if before:
			consent.check_ledger_change(
				{r.name: _consent_values(r) for r in before.consents},
				{r.name: _consent_values(r) for r in self.consents if r.name},
			)

	# -- contact preferences and service plan ---------------------------------------------
	def validate_contact_preferences(self):
		from bank_crm.bank_engagement.contact import consents_of, preferences_of

		if not self.do_not_contact:
			self.do_not_contact_reason = None
		problem = routing.check_preferences(preferences_of(self), consents_of(self.consents), now_datetime())
		if problem:
			raise CoreValidationError("preferred_channel", problem, self.preferred_channel)

	def keep_unusable_flags(self):
		"""Only delivery receipts mark a contact unusable; changing the contact clears its mark
		(a new number is worth trying)."""
		before = self.stored()
		for contact, flag in UNUSABLE_FLAGS.items():
			changed = before is not None and (before.get(contact) or "") != (self.get(contact) or "")
			self.set(flag, 0 if before is None or changed else before.get(flag))
		if not any(self.get(flag) for flag in UNUSABLE_FLAGS.values()):
			self.unusable_contact_note = None
		elif before is not None:
			self.unusable_contact_note = before.unusable_contact_note

	def validate_plan_overrides(self):
		before = self.get_doc_before_save()
		known = {r.name for r in before.plan_overrides} if before else set()
		kinds = set()
		for row in self.plan_overrides:
			cadence.check_line(row.every, row.unit, row.contact_kind, row.idx, "plan_overrides")
			if row.contact_kind in kinds:
				raise CoreValidationError(
					"plan_overrides",
					"row {0}: {1} is already overridden in another row",
					row.idx,
					row.contact_kind,
				)
			kinds.add(row.contact_kind)
			if not (row.reason or "").strip():
				raise CoreValidationError(
					"plan_overrides", "row {0}: give the reason for the override", row.idx
				)
			if row.name not in known and row.valid_until and getdate(row.valid_until) < getdate():
				raise CoreValidationError(
					"plan_overrides", "row {0}: the override would already have expired", row.idx
				)
			row.recorded_by = row.recorded_by or frappe.session.user

	def replan_if_needed(self):
		before = self.get_doc_before_save()
		if before is None:
			return

		def plan_state(doc):
			return (
				doc.relationship_manager,
				doc.branch,
				doc.tier,
				int(doc.do_not_contact or 0),
				sorted(
					(r.contact_kind, r.every, r.unit, str(r.valid_until or "")) for r in doc.plan_overrides
				),
			)

		if plan_state(before) != plan_state(self):
			from bank_crm.bank_engagement.visit_planning import plan_profiles

			plan_profiles([self.name])

	# -- value and lifecycle --------------------------------------------------------------
	def validate_qualitative_scores(self):
		for fieldname in QUALITATIVE_FIELDS:
			value = self.get(fieldname)
			if value and not 1 <= int(value) <= 5:
				raise CoreValidationError(fieldname, "must be a score from 1 to 5")

	def apply_lifecycle_override(self):
		"""An RM's stage override: with a reason and an expiry within a year; it shows at once."""
		if not self.lifecycle_override_stage:
			self.lifecycle_override_reason = self.lifecycle_override_until = None
			return
		if not (self.lifecycle_override_reason or "").strip():
			raise CoreValidationError("lifecycle_override_reason", "is required when the stage is overridden")
		if not self.lifecycle_override_until:
			raise CoreValidationError("lifecycle_override_until", "is required when the stage is overridden")
		until = getdate(self.lifecycle_override_until)
		if until < getdate():
			raise CoreValidationError("lifecycle_override_until", "cannot be in the past")
		if (until - getdate()).days > MAX_OVERRIDE_DAYS:
			raise CoreValidationError("lifecycle_override_until", "an override may last at most one year")
		self.lifecycle_stage = self.lifecycle_override_stage
		self.lifecycle_reason = _("RM override until {0}").format(until)

	def record_lifecycle_override(self):
		before = self.get_doc_before_save()
		old_stage = before.lifecycle_stage if before else None
		if not self.lifecycle_override_stage or old_stage == self.lifecycle_stage:
			return
		frappe.get_doc(
			{
				"doctype": "Bank Lifecycle History",
				"profile": self.name,
				"change_date": getdate(),
				"from_stage": old_stage,
				"to_stage": self.lifecycle_stage,
				"reason": (self.lifecycle_override_reason or "")[:140],
				"is_override": 1,
				"changed_by": frappe.session.user,
			}
		).insert(ignore_permissions=True)

	# -- housekeeping ---------------------------------------------------------------------
	def clear_empty_unique_fields(self):
		# a unique index allows many NULLs but only one empty string
		for fieldname in ("id_number_hash", "unified_social_credit_code"):
			if not self.get(fieldname):
				self.set(fieldname, None)
		if self.profile_type == CORPORATE:
			self.id_number_hash = None

	def sync_customer(self):
		frappe.db.set_value(
			"Customer",
			self.customer,
			{
				"bank_profile": self.name,
				"bank_relationship_manager": self.relationship_manager,
				"bank_branch": self.branch,
				"bank_tier": self.tier,
				"bank_lifecycle_stage": self.lifecycle_stage,
			},
			update_modified=False,
		)


def _dt(value):
	from frappe.utils import get_datetime

	return get_datetime(value) if value else None


def _consent_values(row) -> dict:
	return {
		"purpose": row.purpose,
		"channel": row.channel,
		"granted_on": _dt(row.granted_on),
		"withdrawn_on": _dt(row.withdrawn_on),
		"evidence_type": row.evidence_type,
		"evidence": row.evidence,
	}


def on_doctype_update():
	from bank_crm.bank_outreach.broadcasts import ensure_reach_column

	ensure_reach_column()
	# the desk's lists of an RM's or a branch's customers, newest change first (Frappe's default
	# order): the scope's rows in order, instead of the whole table's modified index (a name search
	# that matches nothing scanned a million rows for 1.4 s, now the scope's rows)
	frappe.db.add_index("Bank Customer Profile", ["relationship_manager", "modified"], "rm_modified")
	frappe.db.add_index("Bank Customer Profile", ["branch", "modified"], "branch_modified")
	# the workbench's High churn band of an RM, a branch, the bank: most likely first
	for scope in ("relationship_manager", "branch", None):
		columns = [c for c in (scope, "churn_band", "churn_probability") if c]
		frappe.db.add_index("Bank Customer Profile", columns, "churn_" + (scope or "bank"))
