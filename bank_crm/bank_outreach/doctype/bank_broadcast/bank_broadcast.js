// Copyright (c) 2026, bank_crm contributors
// For license information, please see license.txt

const BANK_CRM_TEXT_LIMITS = { sms_text: 70, app_push_text: 120, wechat_text: 200 };
// as bank_crm.core.broadcast.estimated_length: a field counts at its rendered width
const BANK_CRM_FIELD_WIDTHS = { customer_name: 4, relationship_manager_name: 3, tier: 4, product_name: 12 };

function bank_crm_estimated_length(frm, field) {
	const text = (frm.doc[field] || "").replace(/\{%[\s\S]*?%\}|\{#[\s\S]*?#\}/g, "");
	const body = text.replace(/\{\{\s*([A-Za-z_][A-Za-z0-9_]*)[^}]*\}\}/g, (_m, name) =>
		"x".repeat(BANK_CRM_FIELD_WIDTHS[name] || 8)
	);
	// what every message gets after its body (bank_broadcast.py: text_added)
	let added = frm.doc.risk_disclosure ? frm.doc.risk_disclosure.length + 1 : 0;
	if (field === "sms_text" && frm.doc.content_class === "Marketing") {
		added += ((frm.doc.__onload && frm.doc.__onload.sms_opt_out) || __("Reply R to opt out")).length + 1;
	}
	return body.length + added;
}

frappe.ui.form.on("Bank Broadcast", {
	refresh(frm) {
		Object.keys(BANK_CRM_TEXT_LIMITS).forEach((f) => frm.trigger(f));
		frm.trigger("setup_buttons");
	},

	risk_disclosure(frm) {
		Object.keys(BANK_CRM_TEXT_LIMITS).forEach((f) => frm.trigger(f));
	},

	content_class(frm) {
		Object.keys(BANK_CRM_TEXT_LIMITS).forEach((f) => frm.trigger(f));
	},

	setup_buttons(frm) {
		if (!frm.is_new()) {
			frm.add_custom_button(__("Preview Recipients"), () => frm.trigger("preview"));
		}
		if (frm.doc.recipients) {
			frm.add_custom_button(__("Delivery Log"), () =>
				frappe.set_route("List", "Bank Broadcast Recipient", { broadcast: frm.doc.name })
			);
		}
	},

	template(frm) {
		if (!frm.doc.template) return;
		frappe.db.get_doc("Bank Broadcast Template", frm.doc.template).then((t) => {
			["content_class", "sms_text", "app_push_text", "wechat_text", "email_subject", "email_body"].forEach((f) => {
				if (t[f]) frm.set_value(f, t[f]);
			});
			if (!frm.doc.title) frm.set_value("title", t.template_name);
		});
	},

	preview(frm) {
		frappe.call({ method: "bank_crm.api.outreach.preview", args: { broadcast: frm.doc.name }, freeze: true }).then((r) => {
			const p = r.message || {};
			const esc = frappe.utils.escape_html;
			const list = (o) =>
				Object.entries(o || {})
					.map(([k, v]) => `<tr><td>${esc(__(k))}</td><td class="text-right">${format_number(v, null, 0)}</td></tr>`)
					.join("");
			const samples = (p.samples || [])
				.map((s) => `<div class="mb-3"><div class="text-muted small">${esc(s.customer_name || s.customer)} · ${__(s.channel)}</div>
					<div class="border rounded p-2">${s.channel === "Email" ? s.text : esc(s.text)}</div></div>`)
				.join("");
			frm.get_field("preview_html").$wrapper.html(`
				<div class="row">
					<div class="col-md-4"><table class="table table-sm">
						<tr><td>${__("Recipients")}</td><td class="text-right bold">${format_number(p.recipients, null, 0)}</td></tr>
						<tr><td>${__("Would be sent")}</td><td class="text-right">${format_number(p.queued, null, 0)}</td></tr>
						<tr><td>${__("Would be skipped")}</td><td class="text-right">${format_number(p.skipped, null, 0)}</td></tr></table></div>
					<div class="col-md-4"><div class="text-muted small">${__("By channel")}</div><table class="table table-sm">${list(p.by_channel)}</table></div>
					<div class="col-md-4"><div class="text-muted small">${__("Skipped because")}</div><table class="table table-sm">${list(p.by_reason)}</table></div>
				</div>
				<div class="text-muted small">${__("Sample messages")}</div>${samples || `<p class="text-muted">${__("No recipient would receive it.")}</p>`}`);
			frm.scroll_to_field("preview_html");
		});
	},
});

Object.entries(BANK_CRM_TEXT_LIMITS).forEach(([field, limit]) => {
	frappe.ui.form.on("Bank Broadcast", field, (frm) => {
		const length = bank_crm_estimated_length(frm, field);
		const over = length > limit;
		frm.set_df_property(
			field,
			"description",
			`<span class="${over ? "text-danger" : "text-muted"}">${__("{0} of {1} characters", [length, limit])}</span>`
		);
	});
});
