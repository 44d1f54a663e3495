// Bank CRM on ERPNext's Customer form: open or create the bank profile.
frappe.ui.form.on("Customer", {
	refresh(frm) {
		if (frm.is_new()) return;
		bank_crm.needs.render(frm, frm.doc.name);
		frm.add_custom_button(__("Customer 360"), () => frappe.set_route("customer-360", frm.doc.name));
		if (frm.doc.bank_profile) {
			frm.add_custom_button(__("Bank Customer Profile"), () =>
				frappe.set_route("Form", "Bank Customer Profile", frm.doc.bank_profile)
			);
		} else if (frappe.model.can_create("Bank Customer Profile")) {
			frm.add_custom_button(__("Create Bank Profile"), () =>
				frappe.new_doc("Bank Customer Profile", { customer: frm.doc.name })
			);
		}
	},
});
