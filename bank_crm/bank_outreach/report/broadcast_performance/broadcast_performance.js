// Copyright (c) 2026, bank_crm contributors
// For license information, please see license.txt

frappe.query_reports["Broadcast Performance"] = {
	filters: [
		{
			fieldname: "group_by",
			label: __("Group By"),
			fieldtype: "Select",
			options: [
				{ value: "Broadcast", label: __("Broadcast") },
				{ value: "Channel", label: __("Channel") },
				{ value: "Tier", label: __("Tier") },
				{ value: "Branch", label: __("Branch", null, "Bank Customer Profile") },
			],
			default: "Broadcast",
		},
		{ fieldname: "broadcast", label: __("Broadcast"), fieldtype: "Link", options: "Bank Broadcast" },
		{ fieldname: "from_date", label: __("From Date"), fieldtype: "Date", default: frappe.datetime.add_days(frappe.datetime.get_today(), -90) },
		{ fieldname: "to_date", label: __("To Date"), fieldtype: "Date", default: frappe.datetime.get_today() },
	],
};
