// Copyright (c) 2026, bank_crm contributors
// For license information, please see license.txt

frappe.query_reports["RM Portfolio"] = {
	filters: [
		{
			fieldname: "from_date",
			label: __("From Date"),
			fieldtype: "Date",
			default: frappe.datetime.add_months(frappe.datetime.get_today(), -3),
			reqd: 1,
		},
		{
			fieldname: "to_date",
			label: __("To Date"),
			fieldtype: "Date",
			default: frappe.datetime.get_today(),
			reqd: 1,
		},
		{ fieldname: "branch", label: __("Branch", null, "Bank Customer Profile"), fieldtype: "Link", options: "Bank Branch" },
		{ fieldname: "relationship_manager", label: __("Relationship Manager"), fieldtype: "Link", options: "User" },
		{ fieldname: "tier", label: __("Tier"), fieldtype: "Link", options: "Bank Customer Tier" },
	],
	formatter(value, row, column, data, default_formatter) {
		value = default_formatter(value, row, column, data);
		if (column.fieldname === "aum_change" && data && data.aum_change !== null && data.aum_change !== undefined) {
			value = `<span class="${data.aum_change < 0 ? "text-danger" : "text-success"}">${value}</span>`;
		}
		return value;
	},
};
