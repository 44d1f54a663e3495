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
app_include_js = "/assets/bank_crm/js/bank_crm_desk.js"

# print formats: the visit brief reads the customer-360 as the viewer may
jinja = {"methods": ["bank_crm.bank_crm.page.customer_360.customer_360.bank_crm_visit_brief"]}

# the apps screen (/apps) and where login leads: with ERPNext's entry, the desk's /app, where
# bank_crm_desk.js sends relationship and branch managers on to their workbench
add_to_apps_screen = [
	{
		"name": "bank_crm",
		"logo": "/assets/bank_crm/images/bank_crm.svg",
		"title": "Bank CRM",
		"route": "/app/bank-crm",
		"has_permission": "bank_crm.permissions.scope.can_use_app",
	}
]

doctype_js = {
	"Customer": ["public/js/customer.js", "public/js/needs.js"],
	"Bank Customer Profile": "public/js/needs.js",
	"Bank Need Signal": "public/js/needs.js",
}
override_doctype_dashboards = {"Customer": "bank_crm.bank_customer.customer.dashboard"}

# Row-level access: one criterion for lists and documents (bank_crm.permissions.rows)
permission_query_conditions = {
	"Bank Customer Profile": "bank_crm.permissions.rows.profile_query_conditions",
	"Customer": "bank_crm.permissions.rows.customer_query_conditions",
	"Bank Financial Snapshot": "bank_crm.permissions.rows.linked_query_conditions",
	"Bank Tier History": "bank_crm.permissions.rows.linked_query_conditions",
	"Bank Lifecycle History": "bank_crm.permissions.rows.linked_query_conditions",
	"Bank Tier Override": "bank_crm.permissions.rows.linked_query_conditions",
	"Bank Visit Plan": "bank_crm.permissions.rows.direct_query_conditions",
	"Bank Interaction": "bank_crm.permissions.rows.direct_query_conditions",
	"Bank Care Event": "bank_crm.permissions.rows.direct_query_conditions",
	"Bank Outbound Message": "bank_crm.permissions.rows.linked_query_conditions",
	"Bank Service Request": "bank_crm.permissions.rows.linked_query_conditions",
	"Bank Complaint": "bank_crm.permissions.rows.linked_query_conditions",
	"Bank Data Subject Request": "bank_crm.permissions.rows.linked_query_conditions",
	"Bank Escalation Log": "bank_crm.permissions.rows.linked_query_conditions",
	"Bank Activity Event": "bank_crm.permissions.rows.linked_query_conditions",
	"Bank Product Holding": "bank_crm.permissions.rows.linked_query_conditions",
	"Bank Need Signal": "bank_crm.permissions.rows.direct_query_conditions",
	"Opportunity": "bank_crm.permissions.rows.opportunity_query_conditions",
	"Bank Broadcast": "bank_crm.permissions.rows.broadcast_query_conditions",
	"Bank Broadcast Recipient": "bank_crm.permissions.rows.direct_query_conditions",
	"Bank Prediction Score": "bank_crm.permissions.rows.direct_query_conditions",
	# child tables of those records, judged by their parent record
	**{
		child: "bank_crm.permissions.rows.child_query_conditions"
		for child in (
			"Bank Shareholder",
			"Bank Financing Need",
			"Bank Verification Check",
			"Bank Consent Record",
			"Bank Plan Override",
			"Bank Product Maturity",
			"Bank Interaction Follow-up",
			"Bank Request Task",
			"Bank Request Update",
			"Bank Rectification Action",
			"Bank Broadcast Tier",
			"Bank Broadcast Branch",
			"Bank Broadcast RM",
			"Bank Broadcast Product",
			"Bank Broadcast Filter",
		)
	},
	# Frappe's tables that point at records: links, tags, files, follows
	**{
		table: "bank_crm.permissions.rows.referring_query_conditions"
		for table in ("Communication Link", "Dynamic Link", "Tag Link", "File", "Document Follow")
	},
}
has_permission = {
	"Bank Customer Profile": "bank_crm.permissions.rows.profile_has_permission",
	"Customer": "bank_crm.permissions.rows.customer_has_permission",
	"Bank Financial Snapshot": "bank_crm.permissions.rows.linked_has_permission",
	"Bank Tier History": "bank_crm.permissions.rows.linked_has_permission",
	"Bank Lifecycle History": "bank_crm.permissions.rows.linked_has_permission",
	"Bank Tier Override": "bank_crm.permissions.rows.linked_has_permission",
	"Bank Visit Plan": "bank_crm.permissions.rows.direct_has_permission",
	"Bank Interaction": "bank_crm.permissions.rows.direct_has_permission",
	"Bank Care Event": "bank_crm.permissions.rows.direct_has_permission",
	"Bank Outbound Message": "bank_crm.permissions.rows.linked_has_permission",
	"Bank Service Request": "bank_crm.permissions.rows.linked_has_permission",
	"Bank Complaint": "bank_crm.permissions.rows.linked_has_permission",
	"Bank Data Subject Request": "bank_crm.permissions.rows.linked_has_permission",
	"Bank Escalation Log": "bank_crm.permissions.rows.linked_has_permission",
	"Bank Activity Event": "bank_crm.permissions.rows.linked_has_permission",
	"Bank Product Holding": "bank_crm.permissions.rows.linked_has_permission",
	"Bank Need Signal": "bank_crm.permissions.rows.direct_has_permission",
	"Opportunity": "bank_crm.permissions.rows.opportunity_has_permission",
	"Bank Broadcast": "bank_crm.permissions.rows.broadcast_has_permission",
	"Bank Broadcast Recipient": "bank_crm.permissions.rows.direct_has_permission",
	"Bank Prediction Score": "bank_crm.permissions.rows.direct_has_permission",
}

# a customer's SMS, push and WeChat messages with their receipts, without a Communication each
additional_timeline_content = {"Customer": ["bank_crm.bank_engagement.timeline.customer_messages"]}

doc_events = {
	"Customer": {
		"before_insert": "bank_crm.bank_customer.customer.before_insert",
		"validate": "bank_crm.bank_customer.customer.validate",
	},
	"File": {"validate": "bank_crm.permissions.files.validate"},
	"Opportunity": {"validate": "bank_crm.bank_insight.opportunity.validate"},
}

# Frappe's personal-data download and deletion for a user (a member of staff) as data subject
# (a download request exports these rows; a deletion request redacts the named fields and, with
# "partial", the user's name and e-mail wherever they appear in the rows' text)
user_data_fields = [
	{"doctype": "Bank Branch Member", "filter_by": "user", "redact_fields": ["full_name"], "partial": 1},
	{"doctype": "Bank Interaction", "filter_by": "relationship_manager", "partial": 1},
	{"doctype": "Bank Data Subject Request", "filter_by": "handler", "partial": 1},
	{"doctype": "Bank Tier Override", "filter_by": "owner", "partial": 1},
]

# Frappe's generic reads that skip row-level access, through ones that apply it
# (bank_crm.permissions.read_paths); global search indexes Customer without it: filter the results.
override_whitelisted_methods = {
	"frappe.utils.global_search.search": "bank_crm.permissions.global_search.search",
	"frappe.client.get_count": "bank_crm.permissions.read_paths.get_count",
	"frappe.client.get": "bank_crm.permissions.read_paths.get",
	"frappe.desk.listview.get_group_by_count": "bank_crm.permissions.read_paths.get_group_by_count",
	"frappe.desk.search.search_link": "bank_crm.permissions.read_paths.search_link",
	"frappe.desk.search.search_widget": "bank_crm.permissions.read_paths.search_widget",
	"frappe.desk.doctype.dashboard_chart.dashboard_chart.get": "bank_crm.permissions.read_paths.dashboard_chart",
	"frappe.desk.doctype.event.event.get_events": "bank_crm.permissions.read_paths.event_list",
	"frappe.desk.calendar.get_events": "bank_crm.permissions.read_paths.calendar_events",
	"frappe.desk.query_report.run": "bank_crm.permissions.read_paths.run_report",
	"frappe.realtime.can_subscribe_doctype": "bank_crm.permissions.read_paths.can_subscribe_doctype",
	# exports of customer data count against the user's hourly limit
	"frappe.desk.reportview.export_query": "bank_crm.permissions.read_paths.export_report_view",
	"frappe.desk.query_report.export_query": "bank_crm.permissions.read_paths.export_report",
	"frappe.core.doctype.data_export.exporter.export_data": "bank_crm.permissions.read_paths.export_data",
	"frappe.core.doctype.data_import.data_import.download_template": "bank_crm.permissions.read_paths.download_template",
}

# Requests of RMs and branch managers naming a record out of their reach are refused before
# Frappe routes them, one answer for "not yours" and "not there" (bank_crm.permissions.request_guard)
auth_hooks = ["bank_crm.permissions.request_guard.check"]

# Field-level access in every list query of the request or job (bank_crm.permissions.query_guard)
before_request = ["bank_crm.permissions.query_guard.activate"]
before_job = [
	"bank_crm.permissions.query_guard.activate",
	# jobs queued under the dotted paths of before 0.2 still run (removed in 0.3)
	"bank_crm.services.redirect_renamed_job",
]

# What runs when (each job beside the doctypes it serves; heavy ones split over the long queue)
# each scheduled method that works in sharded runs, and the Job(s) describing those runs: the
# reconciler gives their orphaned shards new jobs, and 运行监控 shows them
bank_crm_sharded_jobs = {
	"bank_crm.bank_insight.need_detection.detect_needs": "bank_crm.bank_insight.need_detection.DETECTION",
	"bank_crm.bank_segmentation.segmentation.retier_every_customer": "bank_crm.bank_segmentation.segmentation.RETIERING",
	"bank_crm.bank_engagement.visit_planning.plan_visits_and_care": [
		"bank_crm.bank_engagement.visit_planning.PLANNING",
		"bank_crm.bank_engagement.care_events.CARE",
	],
	"bank_crm.bank_customer.anonymisation.anonymise_past_retention": "bank_crm.bank_customer.anonymisation.RETENTION",
	"bank_crm.bank_insight.prediction_scoring.score_customers": "bank_crm.bank_insight.prediction_scoring.SCORING",
}

scheduler_events = {
	"hourly_long": [
		"bank_crm.bank_insight.need_detection.detect_needs",
	],
	"daily_long": [
		"bank_crm.bank_segmentation.segmentation.retier_every_customer",
		"bank_crm.bank_engagement.visit_planning.plan_visits_and_care",
		"bank_crm.bank_insight.activity_ingestion.purge_events",
		"bank_crm.bank_customer.anonymisation.anonymise_past_retention",
		"bank_crm.bank_insight.prediction_scoring.score_customers",
	],
	"weekly_long": [
		"bank_crm.bank_customer.verification.refresh_verification_status",
	],
	"cron": {
		# the batch gateways' retries and stale claims: due within a minute
		"* * * * *": [
			"bank_crm.bank_engagement.batch_delivery.reclaim_stale",
		],
		# shards whose jobs were lost (queue Redis restarted, worker killed); nightly jobs late
		"*/10 * * * *": [
			"bank_crm.bank_crm.operations.reconcile_orphaned_shards",
			"bank_crm.bank_crm.operations.warn_late_nightly_jobs",
		],
		"*/5 * * * *": [
			"bank_crm.bank_engagement.outbound.retry_due",
			"bank_crm.bank_service.escalation.escalate_due",
			"bank_crm.bank_outreach.broadcasts.send_scheduled",
		],
	},
}
