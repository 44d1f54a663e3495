"""Re-verification: intervals from the settings and the weekly job that marks lapsed profiles.

The job is set-based: one UPDATE marks every profile whose due date has passed, and one bulk
insert gives each newly lapsed profile's RM a ToDo. Running it twice changes nothing more.
"""

import frappe
from frappe import _
from frappe.utils import add_days, getdate, now_datetime

from bank_crm.core import verification

PROFILE = "Bank Customer Profile"
SETTINGS = "Bank CRM Settings"


def interval_years() -> dict[str, int]:
	values = frappe.db.get_values(
		SETTINGS,
		SETTINGS,
		["reverify_years_low", "reverify_years_medium", "reverify_years_high"],
		as_dict=True,
	)
	row = values[0] if values else {}
	intervals = dict(verification.DEFAULT_INTERVAL_YEARS)
	for level in verification.RISK_LEVELS:
		years = row.get(f"reverify_years_{level.lower()}")
		if years:
			intervals[level] = int(years)
	return intervals


def refresh_verification_status(today=None):
	"""Mark lapsed verifications and remind each RM once, ahead of the due date too."""
	today = getdate(today or frappe.flags.current_date or None)
	reminder_days = int(frappe.db.get_single_value(SETTINGS, "reverify_reminder_days") or 0)
	profile = frappe.qb.DocType(PROFILE)

	lapsed = (
		frappe.qb.update(profile)
		.set(profile.verification_status, verification.LAPSED)
		.where(profile.verification_status == verification.VERIFIED)
		.where(profile.reverification_due_on < today)
	)
	lapsed.run()

	due = frappe.db.sql(
		"""
		select p.name, p.relationship_manager, p.customer_name, p.reverification_due_on
		from `tabBank Customer Profile` p
		where p.relationship_manager is not null
			and p.reverification_due_on <= %(horizon)s
			and p.verification_status in %(statuses)s
			and not exists (
				select 1 from `tabToDo` t
				where t.reference_type = %(doctype)s and t.reference_name = p.name
					and t.status = 'Open' and t.allocated_to = p.relationship_manager
					and t.description like %(marker)s
			)
		""",
		{
			"horizon": add_days(today, reminder_days),
			"statuses": (verification.VERIFIED, verification.LAPSED),
			"doctype": PROFILE,
			"marker": "%[re-verification]%",
		},
		as_dict=True,
	)
	if not due:
		return 0
	now = now_datetime()
	rows = [
		(
			frappe.generate_hash(length=16),
			"Open",
			"Medium",
			row.reverification_due_on,
			row.relationship_manager,
			_("Re-verify {0}: verification is due on {1}").format(
				row.customer_name or row.name, row.reverification_due_on
			)
			+ " [re-verification]",
			PROFILE,
			row.name,
			"Administrator",
			"Administrator",
			now,
			now,
		)
		for row in due
	]
	frappe.db.bulk_insert(
		"ToDo",
		[
			"name",
			"status",
			"priority",
			"date",
			"allocated_to",
			"description",
			"reference_type",
			"reference_name",
			"owner",
			"modified_by",
			"creation",
			"modified",
		],
		rows,
	)
	return len(rows)
