"""Install and uninstall: fields on ERPNext doctypes, role permissions, defaults.

Everything here is idempotent: ``after_migrate`` runs it again so that a later release's
additions reach existing sites, and ``before_uninstall`` takes all of it away again.
"""

import frappe
from frappe.custom.doctype.custom_field.custom_field import create_custom_fields
from frappe.permissions import add_permission, update_permission_property

from bank_crm.core.access import (
	BANK_ROLES,
	BRANCH_MANAGER,
	COMPLAINT_HANDLER,
	COMPLIANCE_AUDITOR,
	CONSUMER_PROTECTION_OFFICER,
	CRM_ADMINISTRATOR,
	INTEGRATION,
	RELATIONSHIP_MANAGER,
)

OUR_ROLES = (*BANK_ROLES, INTEGRATION)

CUSTOM_FIELDS = {
	"Customer": [
		{
			"fieldname": "bank_crm_section",
			"fieldtype": "Section Break",
			"label": "Bank CRM",
			"insert_after": "image",
			"collapsible": 0,
		},
		{
			"fieldname": "bank_profile",
			"fieldtype": "Link",
			"label": "Bank Customer Profile",
			"options": "Bank Customer Profile",
			"insert_after": "bank_crm_section",
			"read_only": 1,
			"no_copy": 1,
		},
		{
			"fieldname": "bank_relationship_manager",
			"fieldtype": "Link",
			"label": "Relationship Manager",
			"options": "User",
			"insert_after": "bank_profile",
			"read_only": 1,
			"no_copy": 1,
			"in_standard_filter": 1,
			"search_index": 1,
		},
		{
			"fieldname": "bank_branch",
			"fieldtype": "Link",
			"label": "Branch",
			"options": "Bank Branch",
			"insert_after": "bank_relationship_manager",
			"read_only": 1,
			"no_copy": 1,
			"in_standard_filter": 1,
			"search_index": 1,
		},
		{
			"fieldname": "bank_column_break",
			"fieldtype": "Column Break",
			"insert_after": "bank_branch",
		},
		{
			"fieldname": "bank_tier",
			"fieldtype": "Data",
			"label": "Tier",
			"insert_after": "bank_column_break",
			"read_only": 1,
			"no_copy": 1,
		},
		{
			"fieldname": "bank_lifecycle_stage",
			"fieldtype": "Data",
			"label": "Lifecycle Stage",
			"insert_after": "bank_tier",
			"read_only": 1,
			"no_copy": 1,
		},
	],
	"Opportunity": [
		{
			"fieldname": "bank_product",
			"fieldtype": "Link",
			"label": "Bank Product",
			"options": "Bank Product",
			"insert_after": "opportunity_type",
			"description": "Refused when the product is above the customer's risk tolerance or the risk assessment has expired",
		}
	],
}

_R, _W, _C, _D = "read", "write", "create", "delete"
_REPORT, _EXPORT, _PRINT, _EMAIL = "report", "export", "print", "email"
# Roles granted on ERPNext doctypes our users work with (through Custom DocPerm, the way the
# Role Permissions Manager does it).
ERPNEXT_PERMISSIONS = {
	"Customer": {
		RELATIONSHIP_MANAGER: (_R, _W, _C, _REPORT, _PRINT, _EMAIL),
		BRANCH_MANAGER: (_R, _W, _C, _REPORT, _EXPORT, _PRINT, _EMAIL),
		CRM_ADMINISTRATOR: (_R, _W, _C, _D, _REPORT, _EXPORT, _PRINT, _EMAIL),
		COMPLIANCE_AUDITOR: (_R, _REPORT, _EXPORT, _PRINT),
		CONSUMER_PROTECTION_OFFICER: (_R, _REPORT),
		COMPLAINT_HANDLER: (_R, _REPORT),
	},
	# opportunities made from need signals, scoped to the customer's RM and branch
	"Opportunity": {
		RELATIONSHIP_MANAGER: (_R, _W, _REPORT, _PRINT, _EMAIL),
		BRANCH_MANAGER: (_R, _W, _REPORT, _EXPORT, _PRINT, _EMAIL),
		CRM_ADMINISTRATOR: (_R, _W, _REPORT, _EXPORT, _PRINT),
		COMPLIANCE_AUDITOR: (_R, _REPORT, _EXPORT, _PRINT),
	},
	# the Sensitive Data Access report reads Frappe's Access Log
	"Access Log": {COMPLIANCE_AUDITOR: (_R, _REPORT, _EXPORT)},
	"Customer Group": {role: (_R,) for role in BANK_ROLES},
	"Territory": {role: (_R,) for role in BANK_ROLES},
	"Industry Type": {role: (_R,) for role in BANK_ROLES},
}


def after_install():
	setup()
	security_defaults()  # once: later choices of the administrator stand


def after_migrate():
	setup()


def setup():
	make_roles()
	make_custom_fields()
	grant_erpnext_permissions()
	set_default_settings()
	make_default_tiers()
	make_default_policy()
	segmentation_setup()
	ensure_indexes()
	setup_service()
	engagement_setup()
	insight_setup()
	outreach_setup()
	rights_setup()
	desk_setup()


def rights_setup():
	from bank_crm.bank_customer.setup import setup

	setup()


def segmentation_setup():
	from bank_crm.bank_segmentation.setup import setup

	setup()


def remove_segmentation_setup():
	from bank_crm.bank_segmentation.setup import remove

	remove()


def desk_setup():
	from bank_crm.setup.desk import setup

	setup(_our_modules())


def outreach_setup():
	from bank_crm.bank_outreach.setup import setup

	setup()


def insight_setup():
	from bank_crm.bank_insight.setup import setup

	setup()


def security_defaults():
	"""Two-factor authentication required on the bank roles (effective once the administrator
	enables it site-wide; the security check reports that)."""
	from bank_crm.bank_crm.page.bank_crm_security.bank_crm_security import apply_app_defaults

	apply_app_defaults()


def setup_service():
	from bank_crm.bank_service.setup import setup as service_setup

	service_setup()


def ensure_indexes():
	"""Indexes the jobs rely on (e.g. the covering index the segmentation run forces)."""
	from bank_crm.bank_segmentation.doctype.bank_financial_snapshot.bank_financial_snapshot import (
		on_doctype_update,
	)

	on_doctype_update()
	from bank_crm.bank_engagement.doctype.bank_visit_plan.bank_visit_plan import (
		on_doctype_update as visit_plan_indexes,
	)

	visit_plan_indexes()
	from bank_crm.bank_customer.doctype.bank_customer_profile.bank_customer_profile import (
		on_doctype_update as profile_indexes,
	)
	from bank_crm.bank_engagement.doctype.bank_care_event.bank_care_event import (
		on_doctype_update as care_event_indexes,
	)
	from bank_crm.bank_outreach.doctype.bank_broadcast_recipient.bank_broadcast_recipient import (
		on_doctype_update as recipient_indexes,
	)

	care_event_indexes()
	recipient_indexes()
	profile_indexes()


def engagement_setup():
	from bank_crm.bank_engagement.setup import setup

	setup()


DEFAULT_TIERS = (
	# name, rank, default minimum score, minimum AUM (CNY), colour, description
	("VIP", 1, 70, 500_000, "#b8860b", "贵宾: dedicated RM, priority handling, tailored wealth plan"),
	("High-end", 2, 50, 0, "#5e64ff", "高端: regular RM contact and wealth reviews"),
	("Mass", 3, 0, 0, "#8d99a6", "大众: digital-first service"),
)


def make_default_tiers():
	for name, rank, min_score, min_aum, colour, description in DEFAULT_TIERS:
		if frappe.db.exists("Bank Customer Tier", name) or frappe.db.exists(
			"Bank Customer Tier", {"rank": rank}
		):
			continue
		frappe.get_doc(
			{
				"doctype": "Bank Customer Tier",
				"tier_name": name,
				"rank": rank,
				"min_score": min_score,
				"min_aum": min_aum,
				"colour": colour,
				"description": description,
			}
		).insert(ignore_permissions=True)


DEFAULT_METRICS = (
	# metric, weight, normalisation, floor, cap
	("deposit_balance", 25, "Logarithmic", 10_000, 5_000_000),
	("aum", 25, "Logarithmic", 10_000, 10_000_000),
	("loan_balance", 10, "Logarithmic", 10_000, 10_000_000),
	("fee_income", 10, "Linear", 0, 20_000),
	("composite_yield", 5, "Linear", 0, 5),
	("products_held", 10, "Linear", 0, 8),
)
DEFAULT_FACTORS = (("industry_influence", 5), ("cooperation_potential", 5), ("risk_rating", 5))


def make_default_policy():
	"""A first active policy, so that scoring works from day one; the bank edits a copy."""
	if frappe.db.exists("Bank Tier Policy", {}):
		return
	policy = frappe.get_doc(
		{
			"doctype": "Bank Tier Policy",
			"policy_name": "Standard Value Policy",
			"description": "Installed default: balances and wealth on a log scale, fee income, yield, product depth, "
			"and the RM's qualitative assessment.",
			"metrics": [
				{"metric": m, "weight": w, "normalisation": n, "floor": f, "cap": c}
				for m, w, n, f, c in DEFAULT_METRICS
			],
			"factors": [{"factor": f, "weight": w} for f, w in DEFAULT_FACTORS],
			"risk_multiplier_low": 1,
			"risk_multiplier_medium": 1,
			"risk_multiplier_high": 0.9,
			"downgrade_margin": 5,
			"downgrade_runs": 2,
		}
	).insert(ignore_permissions=True)
	policy.db_set(
		{"status": "Active", "activated_on": frappe.utils.now_datetime(), "activated_by": "Administrator"}
	)


def make_roles():
	"""Roles also ship as fixtures; creating them here makes install order irrelevant."""
	for role in OUR_ROLES:
		if not frappe.db.exists("Role", role):
			frappe.get_doc(
				{"doctype": "Role", "role_name": role, "desk_access": 0 if role == INTEGRATION else 1}
			).insert(ignore_permissions=True)


def make_custom_fields():
	create_custom_fields(CUSTOM_FIELDS, ignore_validate=True)


def grant_erpnext_permissions():
	for doctype, roles in ERPNEXT_PERMISSIONS.items():
		for role, rights in roles.items():
			if not frappe.db.exists("Custom DocPerm", {"parent": doctype, "role": role, "permlevel": 0}):
				add_permission(doctype, role, 0)
			for right in rights:
				update_permission_property(doctype, role, 0, right, 1, validate=False)
	frappe.clear_cache()


def set_default_settings():
	settings = frappe.get_single("Bank CRM Settings")
	if not settings.full_id_roles:
		for role in (CRM_ADMINISTRATOR, COMPLIANCE_AUDITOR, RELATIONSHIP_MANAGER):
			settings.append("full_id_roles", {"role": role})
		settings.flags.ignore_permissions = True
		settings.save()


def before_uninstall():
	"""Leave no field, permission or record of ours behind in ERPNext's and Frappe's tables.

	Our own doctypes, their records, the workspace and reports go with the modules (Frappe
	deletes what links to our Module Defs). Access Log entries of full ID views are kept on
	purpose: they are the audit trail of who read sensitive data.
	"""
	from bank_crm.demo import clear as clear_demo_data
	from bank_crm.utils.traces import flush_search_queue

	flush_search_queue()
	clear_demo_data()
	from bank_crm.bank_customer.setup import remove as remove_rights_workflow

	remove_rights_workflow()  # first: the states it shares with the others go with the last user
	remove_segmentation_setup()
	from bank_crm.bank_insight.setup import remove as remove_insight_workflow

	remove_insight_workflow()
	remove_service_workflow()
	from bank_crm.bank_outreach.setup import remove as remove_outreach_workflow

	remove_outreach_workflow()
	remove_custom_fields()
	from bank_crm.setup.desk import remove as remove_desk_setup

	remove_desk_setup()
	revoke_erpnext_permissions()
	remove_roles()
	remove_our_traces()
	frappe.clear_cache()


def remove_service_workflow():
	from bank_crm.bank_service.setup import remove_workflow

	remove_workflow()


def remove_custom_fields():
	for doctype, fields in CUSTOM_FIELDS.items():
		names = [df["fieldname"] for df in fields]
		frappe.db.delete("Custom Field", {"dt": doctype, "fieldname": ("in", names)})
		frappe.db.delete("Property Setter", {"doc_type": doctype, "field_name": ("in", names)})
		columns = set(frappe.db.get_table_columns(doctype))
		for fieldname in names:
			if fieldname in columns:
				frappe.db.sql_ddl(f"alter table `tab{doctype}` drop column `{fieldname}`")
		frappe.clear_cache(doctype=doctype)


_PERM_FLAGS = (
	"if_owner",
	"select",
	"read",
	"write",
	"create",
	"delete",
	"submit",
	"cancel",
	"amend",
	"report",
	"export",
	"import",
	"share",
	"print",
	"email",
)


def _perm_key(row):
	return (row.role, row.permlevel, *(int(row.get(f) or 0) for f in _PERM_FLAGS))


def revoke_erpnext_permissions():
	"""Delete our roles' rules; where what is left equals the standard rules, drop the copy too."""
	fields = ["role", "permlevel", *_PERM_FLAGS]
	for doctype in ERPNEXT_PERMISSIONS:
		frappe.db.delete("Custom DocPerm", {"parent": doctype, "role": ("in", OUR_ROLES)})
		custom = frappe.get_all("Custom DocPerm", filters={"parent": doctype}, fields=fields)
		standard = frappe.get_all("DocPerm", filters={"parent": doctype}, fields=fields)
		if sorted(map(_perm_key, custom)) == sorted(map(_perm_key, standard)):
			frappe.db.delete("Custom DocPerm", {"parent": doctype})


def remove_roles():
	for table in ("Has Role", "Custom DocPerm", "DocPerm"):
		frappe.db.delete(table, {"role": ("in", OUR_ROLES)})
	frappe.db.delete("Role", {"name": ("in", OUR_ROLES)})


def remove_our_traces():
	"""What our records left in Frappe's tables (tasks, comments, versions, timeline entries,
	notifications, workflow actions and their roles, files, search index …), and our
	scheduled jobs, so that none of them runs and fails once the code is gone."""
	from bank_crm.utils.traces import remove_traces

	doctypes = frappe.get_all("DocType", filters={"module": ("in", _our_modules())}, pluck="name")
	remove_traces(doctypes)
	frappe.db.delete("Singles", {"doctype": ("in", doctypes)})
	frappe.db.delete("__Auth", {"doctype": ("in", doctypes)})
	frappe.db.delete("DefaultValue", {"parent": "__default", "defkey": ("like", "bank\\_crm\\_%")})
	jobs = frappe.get_all("Scheduled Job Type", filters={"method": ("like", "bank_crm.%")}, pluck="name")
	if jobs:
		frappe.db.delete("Scheduled Job Log", {"scheduled_job_type": ("in", jobs)})
		frappe.db.delete("Scheduled Job Type", {"name": ("in", jobs)})


def after_uninstall():
	"""Frappe writes Deleted Document copies of our DocTypes, reports and workspace while it
	removes the modules, after ``before_uninstall``; they go too."""
	from bank_crm.utils.traces import flush_search_queue, remove_deleted_copies, remove_orphan_search_rows

	remove_deleted_copies(_our_modules())
	flush_search_queue()
	remove_orphan_search_rows()
	frappe.db.commit()


def _our_modules():
	return frappe.get_module_list("bank_crm")
