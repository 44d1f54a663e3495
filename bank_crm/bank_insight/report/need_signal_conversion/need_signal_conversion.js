// Copyright (c) 2026, bank_crm contributors
// For license information, please see license.txt

frappe.query_reports["Need Signal Conversion"] = {
	filters: [
		{
			fieldname: "group_by",
			label: __("Group By"),
			fieldtype: "Select",
			options: [
				{ value: "Rule", label: __("Rule") },
				{ value: "Need Category", label: __("Need Category") },
				{ value: "Relationship Manager", label: __("Relationship Manager") },
				{ value: "Branch", label: __("Branch", null, "Bank Customer Profile") },
			],
			default: "Rule",
		},
		{ fieldname: "from_date", label: __("From Date"), fieldtype: "Date", default: frappe.datetime.add_days(frappe.datetime.get_today(), -90) },
		{ fieldname: "to_date", label: __("To Date"), fieldtype: "Date", default: frappe.datetime.get_today() },
		{ fieldname: "branch", label: __("Branch", null, "Bank Customer Profile"), fieldtype: "Link", options: "Bank Branch" },
		{ fieldname: "relationship_manager", label: __("Relationship Manager"), fieldtype: "Link", options: "User" },
		{ fieldname: "rule", label: __("Rule"), fieldtype: "Link", options: "Bank Need Rule" },
	],
};
