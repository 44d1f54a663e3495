"""Install → uninstall → reinstall checks, run by .ci/run with ``bench execute``:

    bench --site SITE execute bank_crm.tests.install_check.assert_installed
    bench --site SITE uninstall-app bank_crm --yes --no-backup
    bench --site SITE execute bank_crm.tests.install_check.assert_uninstalled

They cannot be FrappeTestCase tests: uninstalling drops the tables a running test would use.
Each raises AssertionError naming what is wrong, so the CI step fails.
"""

import frappe

from bank_crm.core.access import BANK_ROLES
from bank_crm.install import OUR_ROLES

ROLES = OUR_ROLES
SERVICE_DOCTYPES = (
	"Bank Service Settings",
	"Bank SLA Rule",
	"Bank Escalation Level",
	"Bank Service Request",
	"Bank Request Task",
	"Bank Request Update",
	"Bank Complaint",
	"Bank Rectification Action",
	"Bank Escalation Log",
)
ENGAGEMENT_DOCTYPES = (
	"Bank Service Plan",
	"Bank Service Plan Contact",
	"Bank Service Privilege",
	"Bank Tier Goal",
	"Bank Plan Override",
	"Bank Product Maturity",
	"Bank Visit Plan",
	"Bank Interaction",
	"Bank Interaction Follow-up",
	"Bank Care Event",
	"Bank Care Rule",
	"Bank Engagement Settings",
	"Bank Planning Run",
	"Bank Channel Adapter",
	"Bank Outbound Message",
)
INSIGHT_DOCTYPES = (
	"Bank Event Type",
	"Bank Product",
	"Bank Activity Event",
	"Bank Product Holding",
	"Bank Need Rule",
	"Bank Need Rule Event Type",
	"Bank Need Rule Tier",
	"Bank Need Rule Stage",
	"Bank Need Signal",
	"Bank Signal Run",
	"Bank Prediction Model",
	"Bank Prediction Score",
	"Bank Prediction Run",
	"Bank Insight Settings",
)
OUTREACH_DOCTYPES = (
	"Bank Broadcast",
	"Bank Broadcast Template",
	"Bank Broadcast Recipient",
	"Bank Broadcast Tier",
	"Bank Broadcast Branch",
	"Bank Broadcast RM",
	"Bank Broadcast Product",
	"Bank Broadcast Filter",
	"Bank Frequency Cap",
	"Bank Outreach Settings",
)
MODULES = (
	"Bank CRM",
	"Bank Customer",
	"Bank Segmentation",
	"Bank Service",
	"Bank Engagement",
	"Bank Insight",
	"Bank Outreach",
)
DOCTYPES = (
	"Bank Branch",
	"Bank Branch Member",
	"Bank CRM Role",
	"Bank CRM Settings",
	"Bank Customer Profile",
	"Bank Shareholder",
	"Bank Financing Need",
	"Bank Verification Check",
	"Bank Consent Record",
	"Bank Financial Snapshot",
	"Bank Customer Tier",
	"Bank Tier Policy",
	"Bank Tier Policy Metric",
	"Bank Tier Policy Factor",
	"Bank Tier Policy Tier",
	"Bank Segmentation Run",
	"Bank Tier History",
	"Bank Lifecycle History",
	"Bank Tier Override",
	*SERVICE_DOCTYPES,
	*ENGAGEMENT_DOCTYPES,
	*INSIGHT_DOCTYPES,
	*OUTREACH_DOCTYPES,
)
CUSTOMER_FIELDS = (
	"bank_crm_section",
	"bank_profile",
	"bank_relationship_manager",
	"bank_branch",
	"bank_column_break",
	"bank_tier",
	"bank_lifecycle_stage",
)


def _count(sql, values=()):
	return frappe.db.sql(sql, values)[0][0]


def assert_installed():
	problems = []
	for role in ROLES:
		if not frappe.db.exists("Role", role):
			problems.append(f"role {role} missing")
	for doctype in DOCTYPES:
		if not frappe.db.exists("DocType", doctype):
			problems.append(f"doctype {doctype} missing")
	fields = set(frappe.get_all("Custom Field", {"dt": "Customer"}, pluck="fieldname"))
	problems += [f"custom field Customer.{f} missing" for f in CUSTOMER_FIELDS if f not in fields]
	if not frappe.db.exists("Workspace", "Bank CRM"):
		problems.append("workspace Bank CRM missing")
	from bank_crm.bank_outreach.broadcasts import REACH_COLUMN, REACH_INDEX

	if not frappe.db.has_column("Bank Customer Profile", REACH_COLUMN):
		problems.append(f"profile column {REACH_COLUMN} missing")
	if not frappe.db.has_index("tabBank Customer Profile", REACH_INDEX):
		problems.append(f"profile index {REACH_INDEX} missing")
	if not frappe.db.has_index("tabBank Consent Record", "parent_in_force"):
		problems.append("consent index parent_in_force missing")
	if not frappe.db.exists("Module Profile", "Bank Staff"):
		problems.append("Module Profile Bank Staff missing")
	for tier in ("VIP", "High-end", "Mass"):
		if not frappe.db.exists("Bank Service Plan", tier):
			problems.append(f"default service plan for {tier} missing")
	if not frappe.get_single("Bank Engagement Settings").care_rules:
		problems.append("Bank Engagement Settings has no care rules")
	if not frappe.get_all("Custom DocPerm", {"parent": "Customer", "role": "Relationship Manager"}):
		problems.append("Relationship Manager has no permission on Customer")
	if not frappe.get_single("Bank CRM Settings").full_id_roles:
		problems.append("Bank CRM Settings has no roles for full ID numbers")
	if not frappe.db.exists("Bank Tier Policy", {"status": "Active"}):
		problems.append("no active tier policy")
	for tier in ("VIP", "High-end", "Mass"):
		if not frappe.db.exists("Bank Customer Tier", tier):
			problems.append(f"tier {tier} missing")
	if not frappe.db.exists("Workflow", "Bank Tier Override Approval"):
		problems.append("tier override workflow missing")
	if not frappe.db.exists("Workflow", "Bank Complaint Handling"):
		problems.append("complaint workflow missing")
	if not frappe.get_single("Bank Service Settings").sla_rules:
		problems.append("no SLA rules")
	if not frappe.db.exists("Workflow", "Bank Broadcast Review"):
		problems.append("broadcast review workflow missing")
	if not frappe.db.exists("Workflow", "Bank Prediction Model Activation"):
		problems.append("prediction model workflow missing")
	if not frappe.get_single("Bank Outreach Settings").frequency_caps:
		problems.append("no frequency caps")
	if frappe.db.count("Bank Need Rule", {"enabled": 1}) < 5:
		problems.append("default need rules missing")
	if not frappe.db.exists("Bank Event Type", "FX Rate Query"):
		problems.append("default event types missing")
	if frappe.get_all("Role", {"name": ("in", BANK_ROLES), "two_factor_auth": 0}, pluck="name"):
		problems.append("two-factor authentication not required on every bank role")
	_report("installed", problems)


def assert_uninstalled():
	problems = []
	if frappe.db.exists("Module Profile", "Bank Staff"):
		problems.append("Module Profile Bank Staff left")
	if frappe.db.exists("Property Setter", {"doc_type": "Customer", "property": "show_title_field_in_link"}):
		problems.append("Customer's show-title property setter left")
	for doctype in DOCTYPES:
		if frappe.db.exists("DocType", doctype):
			problems.append(f"DocType {doctype} left")
		if frappe.db.sql("show tables like %s", (f"tab{doctype}",)):
			problems.append(f"table tab{doctype} left")
	for module in MODULES:
		if frappe.db.exists("Module Def", module):
			problems.append(f"Module Def {module} left")
		for dt, field in (("Workspace", "module"), ("Report", "module"), ("Number Card", "module")):
			if frappe.get_all(dt, {field: module}):
				problems.append(f"{dt} of {module} left")
	placeholders = ", ".join(["%s"] * len(ROLES))
	for table, column in (
		("tabRole", "name"),
		("tabHas Role", "role"),
		("tabCustom DocPerm", "role"),
		("tabDocPerm", "role"),
	):
		if n := _count(f"select count(*) from `{table}` where `{column}` in ({placeholders})", ROLES):
			problems.append(f"{n} rows of our roles left in {table}")
	if n := _count(
		"select count(*) from `tabCustom Field` where dt = 'Customer' and fieldname like 'bank\\_%%'"
	):
		problems.append(f"{n} custom fields left on Customer")
	columns = [c for c in frappe.db.get_table_columns("Customer") if c.startswith("bank_")]
	if columns:
		problems.append(f"columns left on tabCustomer: {columns}")
	if n := _count(
		"select count(*) from `tabProperty Setter` where doc_type = 'Customer' and field_name like 'bank\\_%%'"
	):
		problems.append(f"{n} property setters left")
	placeholders = ", ".join(["%s"] * len(DOCTYPES))
	for table, column in (
		("tabSingles", "doctype"),
		("__Auth", "doctype"),
		("tabVersion", "ref_doctype"),
		("tabComment", "reference_doctype"),
		("tabToDo", "reference_type"),
		("tabDocShare", "share_doctype"),
	):
		if n := _count(f"select count(*) from `{table}` where `{column}` in ({placeholders})", DOCTYPES):
			problems.append(f"{n} rows about our doctypes left in {table}")
	if n := _count("select count(*) from `tabCustomer` where name like 'DEMO-C-%%'"):
		problems.append(f"{n} demo customers left")
	if n := _count("select count(*) from `tabUser` where name like '%%@demo.bank-crm.example'"):
		problems.append(f"{n} demo users left")
	if frappe.db.exists("Workflow", "Bank Tier Override Approval"):
		problems.append("tier override workflow left")
	if frappe.db.exists("Workflow", "Bank Complaint Handling"):
		problems.append("complaint workflow left")
	if frappe.db.exists("Workflow", "Bank Broadcast Review"):
		problems.append("broadcast review workflow left")
	if frappe.db.exists("Workflow", "Bank Prediction Model Activation"):
		problems.append("prediction model workflow left")
	for state in (
		"Extension Requested",
		"Extended Investigation",
		"Resolution Proposed",
		"Pending Activation",
	):
		if frappe.db.exists("Workflow State", state):
			problems.append(f"workflow state {state} left")
	problems += _traces_left()
	if "bank_crm" in frappe.get_installed_apps():
		problems.append("bank_crm still listed as installed")
	_report("uninstalled", problems)


def _traces_left() -> list[str]:
	"""What our records, demo customers and demo staff could leave in Frappe's own tables."""
	from bank_crm.demo.base import CUSTOMER_PREFIX, DEMO_DOMAIN
	from bank_crm.utils.traces import ALSO, REFERENCES

	problems = []
	ours = ", ".join(frappe.db.escape(d, percent=False) for d in DOCTYPES)
	demo = frappe.db.escape(CUSTOMER_PREFIX + "%")  # "%%": _count formats its statement
	for table, (dt_col, name_col) in REFERENCES.items():
		pairs = [(dt_col, name_col), *ALSO.get(table, ())]
		for dt_column, name_column in pairs:
			if n := _count(f"select count(*) from `tab{table}` where `{dt_column}` in ({ours})"):
				problems.append(f"{n} rows about our doctypes left in tab{table} ({dt_column})")
			if n := _count(
				f"select count(*) from `tab{table}` where `{dt_column}` = 'Customer' and `{name_column}` like {demo}"
			):
				problems.append(f"{n} rows about demo customers left in tab{table}")
	if n := _count(
		f"select count(*) from `tabCommunication Link` where link_doctype in ({ours}) or "
		f"(link_doctype = 'Customer' and link_name like {demo})"
	):
		problems.append(f"{n} timeline links to our records or demo customers left in tabCommunication Link")
	for child, parent in (
		("Workflow Action Permitted Role", "Workflow Action"),
		("Communication Link", "Communication"),
		("Email Queue Recipient", "Email Queue"),
	):
		if n := _count(
			f"select count(*) from `tab{child}` c left join `tab{parent}` p on p.name = c.parent where p.name is null"
		):
			problems.append(f"{n} orphan rows left in tab{child}")
	for doctype in ("ToDo", "Communication", "File", "Customer", "User", "Contact"):
		if n := _count(
			f"select count(*) from `__global_search` g left join `tab{doctype}` t on t.name = g.name "
			f"where g.doctype = '{doctype}' and t.name is null"
		):
			problems.append(f"{n} global-search rows of deleted {doctype} records left")
	if n := _count(f"select count(*) from `__global_search` where doctype in ({ours})"):
		problems.append(f"{n} global-search rows of our doctypes left")
	for doctype, n in frappe.db.sql(
		"select doctype, count(*) from `__global_search` where content like %s group by doctype",
		(f"%@{DEMO_DOMAIN}%",),
	):
		problems.append(f"{n} global-search rows of {doctype} naming demo staff left")
	if n := _count("select count(*) from `tabScheduled Job Type` where method like 'bank\\_crm.%%'"):
		problems.append(f"{n} scheduled jobs of ours left")
	modules = ", ".join(frappe.db.escape(m, percent=False) for m in MODULES)
	if n := _count(
		"select count(*) from `tabDeleted Document` where "
		f"(deleted_doctype = 'Module Def' and deleted_name in ({modules})) or json_value(data, '$.module') in ({modules})"
	):
		problems.append(f"{n} Deleted Document copies of our DocTypes, reports or workspace left")
	return problems


def _report(state, problems):
	if problems:
		raise AssertionError(f"bank_crm not cleanly {state}: " + "; ".join(problems))
	print(f"bank_crm cleanly {state}")
