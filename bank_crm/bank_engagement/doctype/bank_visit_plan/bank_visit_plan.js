// Copyright (c) 2026, bank_crm contributors
// For license information, please see license.txt

frappe.ui.form.on("Bank Visit Plan", {
	refresh(frm) {
		if (frm.doc.status === "Open" && frm.doc.is_overdue) {
			frm.dashboard.set_headline(__("Overdue since {0}", [frappe.datetime.str_to_user(frm.doc.due_date)]), "red");
		}
		if (frm.doc.status === "Open" && !frm.is_new()) {
			frm.add_custom_button(__("Record Contact"), () => {
				const theme = frm.doc.theme;
				frappe.new_doc(
					"Bank Interaction",
					{
						customer: frm.doc.customer,
						interaction_type: frm.doc.contact_kind,
						visit_plan: frm.doc.name,
					},
					(doc) => {
						// route options carry only short fields: the objective is set here
						if (theme) doc.objective = theme;
					}
				);
			}).addClass("btn-primary");
		}
	},
});
