// Copyright (c) 2026, bank_crm contributors
// For license information, please see license.txt

frappe.query_reports["Prediction Outcomes"] = {
	filters: [
		{ fieldname: "model", label: __("Model"), fieldtype: "Link", options: "Bank Prediction Model", reqd: 1 },
		{ fieldname: "scored_on", label: __("Scored On"), fieldtype: "Date", reqd: 1 },
	],
};
