// Copyright (c) 2026, bank_crm contributors
// For license information, please see license.txt

frappe.ui.form.on("Bank Interaction", {
	setup(frm) {
		frm.set_query("visit_plan", () => ({
			filters: {
				customer: frm.doc.customer,
				status: "Open",
				contact_kind: frm.doc.interaction_type,
			},
		}));
	},
	refresh(frm) {
		if (frm.doc.outbound_message) {
			frm.dashboard.set_headline(
				__("Message sent by {0}: {1}", [__(frm.doc.channel || ""), frm.doc.routing_note || ""])
			);
		}
	},
});
