// Copyright (c) 2026, bank_crm contributors
// For license information, please see license.txt

frappe.ui.form.on("Bank Need Rule", {
	refresh(frm) {
		if (!frm.is_new() && frappe.user.has_role(["CRM Administrator", "System Manager"])) {
			frm.add_custom_button(__("Detect Needs Now"), () =>
				frappe.call({ method: "bank_crm.api.insight.run_now" }).then(() =>
					frappe.show_alert({ message: __("Need-signal detection queued"), indicator: "green" })
				)
			);
		}
	},
});
