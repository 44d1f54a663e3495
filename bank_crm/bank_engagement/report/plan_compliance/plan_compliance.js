// Copyright (c) 2026, bank_crm contributors
// For license information, please see license.txt

frappe.query_reports["Plan Compliance"] = {
	filters: [
		{
			fieldname: "from_date",
			label: __("From Date"),
			fieldtype: "Date",
			default: frappe.datetime.add_days(frappe.datetime.get_today(), -90),
			reqd: 1,
		},
		{
			fieldname: "to_date",
			label: __("To Date"),
			fieldtype: "Date",
			default: frappe.datetime.get_today(),
			reqd: 1,
		},
		{
			fieldname: "group_by",
			label: __("Group By"),
			fieldtype: "Select",
			options: [
				{ value: "Relationship Manager", label: __("Relationship Manager") },
				{ value: "Branch", label: __("Branch", null, "Bank Customer Profile") },
				{ value: "Tier", label: __("Tier") },
			],
			default: "Relationship Manager",
			reqd: 1,
		},
		{ fieldname: "branch", label: __("Branch", null, "Bank Customer Profile"), fieldtype: "Link", options: "Bank Branch" },
		{ fieldname: "tier", label: __("Tier"), fieldtype: "Link", options: "Bank Customer Tier" },
	],
	formatter(value, row, column, data, default_formatter) {
		value = default_formatter(value, row, column, data);
		if (column.fieldname === "goals_met" && data && data.goals_total) {
			const colour = data.goals_met_count >= data.goals_total ? "green" : data.goals_met_count ? "orange" : "red";
			value = `<span class="indicator-pill ${colour}">${value}</span>`;
		}
		if (column.fieldname === "overdue" && data && data.overdue > 0) {
			value = `<span class="text-danger">${value}</span>`;
		}
		return value;
	},
};
