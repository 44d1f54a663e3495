// Copyright (c) 2026, bank_crm contributors
// For license information, please see license.txt

frappe.ui.form.on("Bank Need Signal", {
	refresh(frm) {
		const colours = { Open: "orange", Acted: "green", Dismissed: "grey", Expired: "red" };
		frm.page.set_indicator(__(frm.doc.status), colours[frm.doc.status] || "grey");
		if (frm.doc.status !== "Open" || !frm.perm[0].write) return;
		const act = (action) => bank_crm.needs.act(frm.doc.name, action, () => frm.reload_doc());
		frm.add_custom_button(__("Acted"), () => act("act"));
		frm.add_custom_button(__("Create Opportunity"), () => act("opportunity"));
		frm.add_custom_button(__("Dismiss"), () => act("dismiss"));
	},
});
