// Copyright (c) 2026, bank_crm contributors
// For license information, please see license.txt

frappe.listview_settings["Bank Data Subject Request"] = {
	add_fields: ["workflow_state", "due_date"],
	get_indicator(doc) {
		if (doc.workflow_state === "Completed") return [__("Completed"), "green", "workflow_state,=,Completed"];
		if (doc.due_date && doc.due_date < frappe.datetime.get_today()) return [__("Overdue"), "red", "due_date,<,Today"];
		return [__(doc.workflow_state || "Registered"), doc.workflow_state === "Pending Approval" ? "orange" : "blue"];
	},
};
