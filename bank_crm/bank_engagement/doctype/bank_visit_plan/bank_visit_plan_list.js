// Copyright (c) 2026, bank_crm contributors
// For license information, please see license.txt

frappe.listview_settings["Bank Visit Plan"] = {
	add_fields: ["status", "is_overdue", "due_date", "contact_kind"],
	filters: [["status", "=", "Open"]],
	get_indicator(doc) {
		if (doc.status === "Open" && doc.is_overdue) {
			return [__("Overdue", null, "Bank Visit Plan"), "red", "is_overdue,=,1|status,=,Open"];
		}
		const colours = { Open: "orange", Done: "green", Cancelled: "gray" };
		return [__(doc.status, null, "Bank Visit Plan"), colours[doc.status], "status,=," + doc.status];
	},
	onload(listview) {
		listview.page.add_inner_button(__("Overdue"), () => {
			listview.filter_area.clear().then(() =>
				listview.filter_area.add([
					["Bank Visit Plan", "status", "=", "Open"],
					["Bank Visit Plan", "is_overdue", "=", 1],
				])
			);
		});
		listview.page.add_inner_button(__("Calendar"), () => frappe.set_route("List", "Bank Visit Plan", "Calendar"));
	},
};
