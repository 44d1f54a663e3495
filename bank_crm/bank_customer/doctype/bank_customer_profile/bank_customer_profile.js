// Copyright (c) 2026, bank_crm contributors
// For license information, please see license.txt

frappe.ui.form.on("Bank Customer Profile", {
	refresh(frm) {
		frm.trigger("show_indicators");
		if (!frm.is_new() && frm.doc.profile_type === "Individual" && frm.doc.id_number_masked) {
			frm.add_custom_button(__("View Full ID Number"), () => frm.trigger("reveal_id_number"));
		}
		if (!frm.is_new() && frm.doc.customer) {
			frm.add_custom_button(__("Customer"), () => frappe.set_route("Form", "Customer", frm.doc.customer), __("View"));
		}
	},

	show_indicators(frm) {
		const colours = { Verified: "green", "In Progress": "orange", Unverified: "grey", Failed: "red", Lapsed: "red" };
		if (frm.doc.verification_status) {
			frm.dashboard.add_indicator(
				__("Verification: {0}", [__(frm.doc.verification_status)]),
				colours[frm.doc.verification_status] || "grey"
			);
		}
		if (frm.doc.risk_assessment_expired) {
			frm.dashboard.add_indicator(__("Risk assessment expired: only C1 products may be recommended"), "red");
		}
	},

	reveal_id_number(frm) {
		frappe.confirm(__("Viewing the full ID number is recorded in the access log. Continue?"), () => {
			frappe
				.xcall("bank_crm.api.profile.reveal_id_number", { profile: frm.doc.name })
				.then((number) => {
					frappe.msgprint({
						title: __("Full ID Number"),
						message: `<div style="font-size: 1.4em; letter-spacing: 0.1em;">${frappe.utils.escape_html(number)}</div>`,
						indicator: "orange",
					});
					frm.reload_doc();
				});
		});
	},

	customer(frm) {
		if (!frm.doc.customer) return;
		frappe.db.get_value("Customer", frm.doc.customer, ["customer_type", "customer_name"]).then(({ message }) => {
			if (!message) return;
			frm.set_value("profile_type", message.customer_type === "Individual" ? "Individual" : "Corporate");
			if (!frm.doc.legal_name) frm.set_value("legal_name", message.customer_name);
		});
	},
});

frappe.ui.form.on("Bank Consent Record", {
	consents_add(frm, cdt, cdn) {
		frappe.model.set_value(cdt, cdn, "granted_on", frappe.datetime.now_datetime());
	},
});

frappe.ui.form.on("Bank Verification Check", {
	result(frm, cdt, cdn) {
		const row = locals[cdt][cdn];
		if (row.result !== "Pending" && !row.checked_on) {
			frappe.model.set_value(cdt, cdn, "checked_on", frappe.datetime.get_today());
		}
	},
});
