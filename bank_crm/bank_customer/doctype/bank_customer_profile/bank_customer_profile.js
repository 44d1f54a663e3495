// Copyright (c) 2026, bank_crm contributors
// For license information, please see license.txt

frappe.ui.form.on("Bank Customer Profile", {
	onload(frm) {
		// the engines store keys with values; the server renders them in the reader's language
		for (const field of ["lifecycle_reason", "top_propensities"]) {
			const df = frm.fields_dict[field] && frm.fields_dict[field].df;
			if (df) df.formatter = (value) => frappe.utils.escape_html(((frm.doc.__onload || {})[field]) || value || "");
		}
	},

	refresh(frm) {
		frm.trigger("show_indicators");
		bank_crm.needs.render(frm, frm.doc.customer);
		frm.trigger("render_breakdown");
		if (!frm.is_new() && frappe.model.can_create("Bank Tier Override")) {
			frm.add_custom_button(__("Request Tier Override"), () =>
				frappe.new_doc("Bank Tier Override", { profile: frm.doc.name }), __("Create"));
		}
		if (!frm.is_new() && frm.doc.profile_type === "Individual" && frm.doc.id_number_masked) {
			frm.add_custom_button(__("View Full ID Number"), () => frm.trigger("reveal_id_number"));
		}
		if (!frm.is_new() && frm.doc.customer) {
			frm.add_custom_button(__("Customer 360"), () => frappe.set_route("customer-360", frm.doc.customer));
			frm.add_custom_button(__("Customer"), () => frappe.set_route("Form", "Customer", frm.doc.customer), __("View"));
		}
	},

	render_breakdown(frm) {
		const wrapper = frm.get_field("score_breakdown_html").$wrapper;
		if (frm.is_new() || !(frm.perm[1] && frm.perm[1].read)) return wrapper.empty();
		frappe.xcall("bank_crm.api.segmentation.score_breakdown", { profile: frm.doc.name }).then((b) => {
			if (!b || !b.policy) {
				wrapper.html(`<p class="text-muted">${__("No active tier policy yet.")}</p>`);
				return;
			}
			const fmt = (v) => (v === null || v === undefined ? "" : typeof v === "number" ? format_number(v, null, 2) : frappe.utils.escape_html(String(v)));
			let rows = "";
			for (const p of b.parts) {
				const label = p.kind === "risk" ? __("Risk adjustment (×{0})", [p.value]) : __(p.label);
				rows += `<tr><td>${label}</td><td class="text-right">${p.kind === "risk" ? "" : fmt(p.value)}</td>
					<td class="text-right">${p.normalised === null ? "" : fmt(p.normalised)}</td>
					<td class="text-right">${p.weight === null ? "" : fmt(p.weight)}</td>
					<td class="text-right">${fmt(p.contribution)}</td></tr>`;
			}
			wrapper.html(`
				<p>${__("Policy {0} (version {1}), snapshot of {2}", [frappe.utils.escape_html(b.policy), b.policy_version, b.snapshot_date || __("none")])}</p>
				<table class="table table-bordered table-sm">
					<thead><tr><th>${__("Factor")}</th><th class="text-right">${__("Value")}</th><th class="text-right">${__("Normalised")}</th>
					<th class="text-right">${__("Factor Weight")}</th><th class="text-right">${__("Contribution")}</th></tr></thead>
					<tbody>${rows}</tbody>
					<tfoot><tr><th colspan="4">${__("Total Score")}</th><th class="text-right">${fmt(b.score)}</th></tr></tfoot>
				</table>`);
		});
	},

	show_indicators(frm) {
		if (frm.doc.tier) frm.dashboard.add_indicator(__("Tier: {0}", [__(frm.doc.tier)]), "blue");
		if (frm.doc.lifecycle_stage) frm.dashboard.add_indicator(__("Lifecycle: {0}", [__(frm.doc.lifecycle_stage)]), frm.doc.lifecycle_stage === "Churn Risk" ? "red" : "purple");
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
		frappe.prompt(
			{
				fieldname: "reason",
				fieldtype: "Data",
				label: __("Why do you need the full ID number?"),
				description: __("Viewing the full ID number is recorded in the access log with this reason."),
				reqd: 1,
			},
			({ reason }) => {
				frappe
					.xcall("bank_crm.api.profile.reveal_id_number", { profile: frm.doc.name, reason })
					.then((number) => {
						frappe.msgprint({
							title: __("Full ID Number"),
							message: `<div style="font-size: 1.4em; letter-spacing: 0.1em;">${frappe.utils.escape_html(number)}</div>`,
							indicator: "orange",
						});
						frm.reload_doc();
					});
			},
			__("View Full ID Number"),
			__("View")
		);
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
