frappe.query_reports["Tier Distribution"] = {
	filters: [
		{ fieldname: "branch", label: __("Branch", null, "Bank Customer Profile"), fieldtype: "Link", options: "Bank Branch" },
		{ fieldname: "relationship_manager", label: __("Relationship Manager"), fieldtype: "Link", options: "User" },
		{ fieldname: "profile_type", label: __("Profile Type"), fieldtype: "Select", options: "\nIndividual\nCorporate" },
	],
	formatter(value, row, column, data, default_formatter) {
		if (column.fieldname === "tier" && data) value = __(data.tier);
		return default_formatter(value, row, column, data);
	},
};
