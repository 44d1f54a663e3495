// Copyright (c) 2026, bank_crm contributors
// For license information, please see license.txt

frappe.ui.form.on("Bank Signal Run", {
	refresh(frm) {
		const colours = { Running: "blue", Completed: "green", Failed: "red" };
		frm.page.set_indicator(__(frm.doc.status), colours[frm.doc.status] || "grey");
	},
});
