// Copyright (c) 2026, bank_crm contributors
// For license information, please see license.txt

frappe.ui.form.on("Bank Segmentation Run", {
	refresh(frm) {
		const colours = { Queued: "gray", Running: "orange", Completed: "green", Failed: "red" };
		frm.page.set_indicator(__(frm.doc.status), colours[frm.doc.status] || "gray");
		frm.trigger("render_result");
		if (["Queued", "Running"].includes(frm.doc.status)) {
			frappe.realtime.on("bank_crm_segmentation_progress", (data) => {
				if (data.run !== frm.doc.name) return;
				frm.dashboard.show_progress(__("Customers scored"), (100 * data.scanned) / (data.total || 1), `${data.scanned} / ${data.total}`);
			});
			frappe.realtime.on("bank_crm_segmentation_done", (data) => data.run === frm.doc.name && frm.reload_doc());
		}
	},

	render_result(frm) {
		const wrapper = frm.get_field("result_html").$wrapper;
		if (!frm.doc.result) return wrapper.empty();
		const result = JSON.parse(frm.doc.result);
		const distribution = result.distribution || {};
		const movement = result.movement || {};
		const tiers = Object.keys(distribution).sort();
		const from = [...new Set(Object.keys(movement).map((k) => k.split("\u2192")[0]))].sort();
		const total = Object.values(distribution).reduce((a, b) => a + b, 0) || 1;
		const esc = frappe.utils.escape_html;
		let html = `<h5>${__("Tier distribution")}</h5><table class="table table-bordered table-sm"><thead><tr><th>${__("Tier")}</th><th>${__("Customer Count")}</th><th>${__("Share of Customers")}</th></tr></thead><tbody>`;
		for (const t of tiers) {
			html += `<tr><td>${esc(__(t))}</td><td>${distribution[t]}</td><td>${((100 * distribution[t]) / total).toFixed(1)}%</td></tr>`;
		}
		html += `</tbody></table><h5>${__("Movement: current tier (rows) × new tier (columns)")}</h5><table class="table table-bordered table-sm"><thead><tr><th></th>`;
		for (const t of tiers) html += `<th>${esc(__(t))}</th>`;
		html += "</tr></thead><tbody>";
		for (const f of from) {
			html += `<tr><th>${f === "-" ? __("(none)") : esc(__(f))}</th>`;
			for (const t of tiers) html += `<td>${movement[`${f}\u2192${t}`] || ""}</td>`;
			html += "</tr>";
		}
		html += "</tbody></table>";
		if (frm.doc.run_type === "What-if") {
			html += `<p class="text-muted">${__("What-if: where each customer lands under this policy (approved overrides kept, hysteresis not applied). No customer was changed.")}</p>`;
		}
		wrapper.html(html);
	},
});
