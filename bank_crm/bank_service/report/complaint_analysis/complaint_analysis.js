// Copyright (c) 2026, bank_crm contributors
// For license information, please see license.txt

frappe.query_reports["Complaint Analysis"] = {
	filters: [
		{
			fieldname: "group_by",
			label: __("Group By"),
			fieldtype: "Select",
			options: [
				{ value: "Category", label: __("Category") },
				{ value: "Product", label: __("Product") },
				{ value: "Branch", label: __("Branch", null, "Bank Customer Profile") },
				{ value: "Root Cause", label: __("Root Cause") },
				{ value: "Repeat Complainants", label: __("Repeat Complainants") },
				{ value: "Workflow State", label: __("Workflow State") },
			],
			default: "Category",
		},
		{ fieldname: "from_date", label: __("From Date"), fieldtype: "Date", default: frappe.datetime.add_months(frappe.datetime.get_today(), -12) },
		{ fieldname: "to_date", label: __("To Date"), fieldtype: "Date", default: frappe.datetime.get_today() },
		{ fieldname: "branch", label: __("Branch", null, "Bank Customer Profile"), fieldtype: "Link", options: "Bank Branch" },
	],
};
