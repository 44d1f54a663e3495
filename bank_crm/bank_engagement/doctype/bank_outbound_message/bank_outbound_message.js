frappe.ui.form.on("Bank Outbound Message", {
	refresh(frm) {
		const can_retry =
			["Failed", "Dead"].includes(frm.doc.status) &&
			(frappe.user.has_role("CRM Administrator") || frappe.user.has_role("System Manager"));
		if (!can_retry) return;
		frm.add_custom_button(__("Retry Now"), () =>
			frappe
				.call({
					method: "bank_crm.api.outbound.retry",
					args: { name: frm.doc.name },
					freeze: true,
				})
				.then(() => {
					frappe.show_alert({ message: __("Queued for another attempt"), indicator: "blue" });
					frm.reload_doc();
				})
		);
	},
});
