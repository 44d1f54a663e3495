frappe.listview_settings["Bank Customer Profile"] = {
	add_fields: ["verification_status", "profile_type"],
	get_indicator(doc) {
		const colours = { Verified: "green", "In Progress": "orange", Unverified: "gray", Failed: "red", Lapsed: "red" };
		return [__(doc.verification_status), colours[doc.verification_status] || "gray", "verification_status,=," + doc.verification_status];
	},
};
