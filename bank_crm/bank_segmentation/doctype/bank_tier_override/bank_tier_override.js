// Copyright (c) 2026, bank_crm contributors
// For license information, please see license.txt

frappe.ui.form.on("Bank Tier Override", {
	setup(frm) {
		frm.set_query("profile", () => ({ filters: {} }));
	},
	profile(frm) {
		if (!frm.doc.profile) return;
		frappe.db.get_value("Bank Customer Profile", frm.doc.profile, "tier").then(({ message }) => {
			frm.set_value("current_tier", message && message.tier);
		});
		if (!frm.doc.expires_on) frm.set_value("expires_on", frappe.datetime.add_months(frappe.datetime.get_today(), 3));
	},
});
