// Copyright (c) 2026, bank_crm contributors
// For license information, please see license.txt

frappe.ui.form.on("Bank Tier Policy", {
	refresh(frm) {
		const colours = { Draft: "orange", Active: "green", Retired: "gray" };
		frm.page.set_indicator(__(frm.doc.status), colours[frm.doc.status] || "gray");
		if (frm.is_new()) return;
		if (frm.doc.status === "Draft") {
			frm.add_custom_button(__("Run What-if"), () =>
				frappe.xcall("bank_crm.api.segmentation.run_what_if", { policy: frm.doc.name }).then((run) => {
					frappe.show_alert({ message: __("What-if run {0} queued", [run]), indicator: "blue" });
					frappe.set_route("Form", "Bank Segmentation Run", run);
				})
			);
			frm.add_custom_button(__("Activate"), () =>
				frappe.confirm(
					__("Activate version {0}? The active policy will be retired and the next run will re-tier every customer with this one.", [frm.doc.version]),
					() => frappe.xcall("bank_crm.api.segmentation.activate_policy", { policy: frm.doc.name }).then(() => frm.reload_doc())
				)
			);
		} else {
			frm.add_custom_button(__("Copy as New Draft"), () => {
				const draft = frappe.model.copy_doc(frm.doc);
				draft.policy_name = `${frm.doc.policy_name} (${__("draft")})`;
				frappe.set_route("Form", "Bank Tier Policy", draft.name);
			});
			frm.disable_form();
		}
		if (frm.doc.status === "Active") {
			frm.add_custom_button(__("Re-tier Now"), () =>
				frappe.xcall("bank_crm.api.segmentation.run_now").then((run) => frappe.set_route("Form", "Bank Segmentation Run", run))
			);
		}
	},
});
