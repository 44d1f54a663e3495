// Copyright (c) 2026, bank_crm contributors
// For license information, please see license.txt

frappe.query_reports["SLA Compliance"] = {
	filters: [
		{
			fieldname: "group_by",
			label: __("Group By"),
			fieldtype: "Select",
			options: [
				{ value: "Request Type", label: __("Request Type") },
				{ value: "Urgency", label: __("Urgency") },
				{ value: "Tier", label: __("Tier") },
				{ value: "Channel", label: __("Channel") },
				{ value: "Branch", label: __("Branch", null, "Bank Customer Profile") },
			],
			default: "Request Type",
		},
		{ fieldname: "from_date", label: __("From Date"), fieldtype: "Date", default: frappe.datetime.add_months(frappe.datetime.get_today(), -3) },
		{ fieldname: "to_date", label: __("To Date"), fieldtype: "Date", default: frappe.datetime.get_today() },
		{ fieldname: "branch", label: __("Branch", null, "Bank Customer Profile"), fieldtype: "Link", options: "Bank Branch" },
		{ fieldname: "urgency", label: __("Urgency"), fieldtype: "Select", options: "\nNormal\nUrgent\nEmergency" },
	],
};
