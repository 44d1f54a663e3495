// Copyright (c) 2026, bank_crm contributors
// For license information, please see license.txt

frappe.query_reports["Risk Assessment Expiring"] = {
	filters: [
		{ fieldname: "branch", label: __("Branch", null, "Bank Customer Profile"), fieldtype: "Link", options: "Bank Branch" },
		{ fieldname: "relationship_manager", label: __("Relationship Manager"), fieldtype: "Link", options: "User" },
		{ fieldname: "within_days", label: __("Expires Within (Days)"), fieldtype: "Int", default: 30 },
		{ fieldname: "include_expired", label: __("Include Expired"), fieldtype: "Check", default: 1 },
	],
};
