frappe.query_reports["Lifecycle Funnel"] = {
	filters: [
		{ fieldname: "branch", label: __("Branch", null, "Bank Customer Profile"), fieldtype: "Link", options: "Bank Branch" },
		{ fieldname: "relationship_manager", label: __("Relationship Manager"), fieldtype: "Link", options: "User" },
		{ fieldname: "tier", label: __("Tier"), fieldtype: "Link", options: "Bank Customer Tier" },
	],
};
