// Copyright (c) 2026, bank_crm contributors
// For license information, please see license.txt

frappe.ui.form.on("Bank Prediction Run", {
	refresh(frm) {
		const rows = (frm.doc.__onload || {}).drift_rows || [];
		const wrapper = frm.get_field("drift_html").$wrapper;
		if (!rows.length) return wrapper.html(`<p class="text-muted">${__("No drift measured in this run.")}</p>`);
		const esc = frappe.utils.escape_html;
		const body = rows
			.map((r) => `<tr class="${r.shifted ? "text-danger" : ""}"><td>${esc(r.feature)}</td>
				<td class="text-right">${format_number(r.psi, null, 4)}</td>
				<td>${r.shifted ? __("Above the bound") : ""}</td></tr>`)
			.join("");
		wrapper.html(`<p class="text-muted">${__("Population stability index of each feature against the model's training sample; above 0.2 is a material shift.")}</p>
			<table class="table table-bordered table-sm"><thead><tr><th>${__("Feature")}</th>
			<th class="text-right">${__("PSI")}</th><th></th></tr></thead><tbody>${body}</tbody></table>`);
	},
});
