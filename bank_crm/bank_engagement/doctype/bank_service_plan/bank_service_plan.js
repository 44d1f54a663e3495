// Copyright (c) 2026, bank_crm contributors
// For license information, please see license.txt

frappe.ui.form.on("Bank Service Plan", {
	refresh(frm) {
		if (!frm.is_new() && frappe.user.has_role(["CRM Administrator", "System Manager"])) {
			frm.add_custom_button(__("Re-plan Now"), () =>
				frappe
					.xcall("bank_crm.bank_engagement.doctype.bank_service_plan.bank_service_plan.replan_now")
					.then((message) => frappe.show_alert({ message, indicator: "green" }))
			);
		}
	},
});
