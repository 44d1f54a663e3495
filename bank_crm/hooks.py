app_name = "bank_crm"
app_title = "Bank CRM"
app_publisher = "bank_crm contributors"
app_description = "Customer-relationship maintenance for banks on Frappe and ERPNext"
app_email = "bank-crm@example.com"
app_license = "MIT"
required_apps = ["erpnext"]

# Installation
after_install = "bank_crm.install.after_install"
after_migrate = "bank_crm.install.after_migrate"
before_uninstall = "bank_crm.install.before_uninstall"
after_uninstall = "bank_crm.install.after_uninstall"
before_tests = "bank_crm.tests.utils.before_tests"

# Records the app owns, filtered by name
fixtures = [
	{
		"dt": "Role",
		"filters": [
			[
				"name",
				"in",
				[
					"Relationship Manager",
					"Branch Manager",
					"Complaint Handler",
					"Consumer Protection Officer",
					"CRM Administrator",
					"Compliance Auditor",
					"Bank CRM Integration",
				],
			]
		],
	}
]

# Desk
doctype_js = {"Customer": "public/js/customer.js"}

# Row-level access: one criterion for lists and documents (bank_crm.permissions)
permission_query_conditions = {
	"Bank Customer Profile": "bank_crm.permissions.profile_query_conditions",
	"Customer": "bank_crm.permissions.customer_query_conditions",
	"Bank Financial Snapshot": "bank_crm.permissions.linked_query_conditions",
	"Bank Tier History": "bank_crm.permissions.linked_query_conditions",
	"Bank Lifecycle History": "bank_crm.permissions.linked_query_conditions",
	"Bank Tier Override": "bank_crm.permissions.linked_query_conditions",
	"Bank Visit Plan": "bank_crm.permissions.direct_query_conditions",
	"Bank Interaction": "bank_crm.permissions.direct_query_conditions",
	"Bank Care Event": "bank_crm.permissions.direct_query_conditions",
	"Bank Outbound Message": "bank_crm.permissions.linked_query_conditions",
	"Bank Service Request": "bank_crm.permissions.linked_query_conditions",
	"Bank Complaint": "bank_crm.permissions.linked_query_conditions",
	"Bank Escalation Log": "bank_crm.permissions.linked_query_conditions",
}
has_permission = {
	"Bank Customer Profile": "bank_crm.permissions.profile_has_permission",
	"Customer": "bank_crm.permissions.customer_has_permission",
	"Bank Financial Snapshot": "bank_crm.permissions.linked_has_permission",
	"Bank Tier History": "bank_crm.permissions.linked_has_permission",
	"Bank Lifecycle History": "bank_crm.permissions.linked_has_permission",
	"Bank Tier Override": "bank_crm.permissions.linked_has_permission",
	"Bank Visit Plan": "bank_crm.permissions.direct_has_permission",
	"Bank Interaction": "bank_crm.permissions.direct_has_permission",
	"Bank Care Event": "bank_crm.permissions.direct_has_permission",
	"Bank Outbound Message": "bank_crm.permissions.linked_has_permission",
	"Bank Service Request": "bank_crm.permissions.linked_has_permission",
	"Bank Complaint": "bank_crm.permissions.linked_has_permission",
	"Bank Escalation Log": "bank_crm.permissions.linked_has_permission",
}

doc_events = {
	"Customer": {
		"before_insert": "bank_crm.overrides.customer.before_insert",
		"validate": "bank_crm.overrides.customer.validate",
	},
}

# Global search indexes Customer without row-level filtering: filter its results.
override_whitelisted_methods = {
	"frappe.utils.global_search.search": "bank_crm.overrides.global_search.search",
}

# Requests of RMs and branch managers naming a record out of their reach are refused before
# Frappe routes them, one answer for "not yours" and "not there" (bank_crm.overrides.request_guard)
auth_hooks = ["bank_crm.overrides.request_guard.check"]

# Field-level access in every list query of the request or job (bank_crm.overrides.query_guard)
before_request = ["bank_crm.overrides.query_guard.activate"]
before_job = ["bank_crm.overrides.query_guard.activate"]

scheduler_events = {
	"daily_long": ["bank_crm.services.segmentation.nightly", "bank_crm.services.planning.daily"],
	"weekly_long": ["bank_crm.services.verification.refresh_verification_status"],
	"cron": {
		"*/5 * * * *": [
			"bank_crm.services.outbound.retry_due",
			"bank_crm.services.service_requests.escalate_due",
		],
	},
}
