// Copyright (c) 2026, bank_crm contributors
// For license information, please see license.txt

frappe.query_reports["Verification Due"] = {
	filters: [
		{ fieldname: "branch", label: __("Branch", null, "Bank Customer Profile"), fieldtype: "Link", options: "Bank Branch" },
		{ fieldname: "relationship_manager", label: __("Relationship Manager"), fieldtype: "Link", options: "User" },
		{ fieldname: "profile_type", label: __("Profile Type"), fieldtype: "Select", options: "\nIndividual\nCorporate" },
		{ fieldname: "within_days", label: __("Due Within (Days)"), fieldtype: "Int", default: 30 },
	],
};
