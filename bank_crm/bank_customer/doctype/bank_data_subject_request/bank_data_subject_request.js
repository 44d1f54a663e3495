// Copyright (c) 2026, bank_crm contributors
// For license information, please see license.txt

frappe.ui.form.on("Bank Data Subject Request", {
	refresh(frm) {
		if (frm.is_new()) return;
		const open = frm.doc.workflow_state !== "Completed";
		if (open && frm.doc.due_date) {
			const days = frappe.datetime.get_day_diff(frm.doc.due_date, frappe.datetime.get_today());
			const text =
				days < 0
					? __("The answer is {0} days overdue (due {1}).", [-days, frappe.datetime.str_to_user(frm.doc.due_date)])
					: __("Answer due by {0}: {1} days left.", [frappe.datetime.str_to_user(frm.doc.due_date), days]);
			frm.dashboard.set_headline_alert(text, days < 0 ? "red" : days <= 3 ? "orange" : "blue");
		}
		if (frm.doc.customer) {
			frm.add_custom_button(__("Customer 360"), () => frappe.set_route("customer-360", frm.doc.customer));
		}
	},
});
