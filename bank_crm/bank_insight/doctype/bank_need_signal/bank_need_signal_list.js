frappe.listview_settings["Bank Need Signal"] = {
	get_indicator(doc) {
		const colours = { Open: "orange", Acted: "green", Dismissed: "grey", Expired: "red" };
		return [__(doc.status, null, "Bank Need Signal"), colours[doc.status] || "grey", "status,=," + doc.status];
	},
};
