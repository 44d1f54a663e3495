frappe.listview_settings["Bank Outbound Message"] = {
	add_fields: ["status", "attempts"],
	get_indicator(doc) {
		const colours = {
			Queued: "blue",
			Sent: "green",
			"Task Created": "green",
			Failed: "orange",
			Dead: "red",
			Skipped: "gray",
		};
		return [__(doc.status), colours[doc.status] || "gray", "status,=," + doc.status];
	},
};
