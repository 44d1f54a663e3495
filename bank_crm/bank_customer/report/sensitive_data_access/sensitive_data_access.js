// Copyright (c) 2026, bank_crm contributors
// For license information, please see license.txt

frappe.query_reports["Sensitive Data Access"] = {
	filters: [
		{ fieldname: "from_date", label: __("From Date"), fieldtype: "Date", default: frappe.datetime.add_days(frappe.datetime.get_today(), -7) },
		{ fieldname: "to_date", label: __("To Date"), fieldtype: "Date", default: frappe.datetime.get_today() },
		{ fieldname: "user", label: __("User"), fieldtype: "Link", options: "User" },
		{
			fieldname: "action",
			label: __("Action"),
			fieldtype: "Select",
			options: ["", "Full ID number viewed", "Personal information export", "Report export", "Report view export", "Data Export", "Print / PDF", "File download", "API list with personal fields"]
				.map((v) => ({ value: v, label: __(v) })),
		},
		{ fieldname: "unusual_only", label: __("Unusual Only"), fieldtype: "Check" },
	],
	formatter(value, row, column, data, default_formatter) {
		value = default_formatter(value, row, column, data);
		if (data && data.unusual && column.fieldname === "reveals_that_day") {
			value = `<span class="text-danger font-weight-bold">${value}</span>`;
		}
		return value;
	},
};
