// Copyright (c) 2026, bank_crm contributors
// For license information, please see license.txt

frappe.ui.form.on("Bank Prediction Model", {
	refresh(frm) {
		if (frm.doc.status === "Draft" && !frm.is_new()) {
			frm.add_custom_button(__("Train and Validate"), () =>
				frappe.xcall("bank_crm.api.insight.train_model", { model: frm.doc.name }).then(() =>
					frappe.show_alert({ message: __("Training queued; this form shows the result when it is done."), indicator: "blue" })
				)
			);
		}
		frm.trigger("render_validation");
	},

	render_validation(frm) {
		const wrapper = frm.get_field("validation_html").$wrapper;
		if (!frm.doc.validation) return wrapper.empty();
		const report = JSON.parse(frm.doc.validation);
		const esc = frappe.utils.escape_html;
		const fmt = (v) => (v === null || v === undefined ? "–" : esc(String(v)));
		const labels = {
			model: __("This Model"),
			logistic_regression: __("Logistic Regression"),
			churn_risk_rule: __("Churn Risk Rule"),
		};
		const rows = [["model", report.model], ...Object.entries(report.baselines || {})];
		let html = `<h5>${__("Out-of-time Test")} (${fmt(report.rows)} / ${fmt(report.positives)})</h5>
			<table class="table table-bordered table-sm"><thead><tr><th></th><th>ROC AUC</th><th>PR AUC</th>
			<th>${__("Lift (Top Decile)")}</th><th>${__("Capture (Top Decile)")}</th><th>Brier</th></tr></thead><tbody>`;
		for (const [name, m] of rows) {
			html += `<tr><th>${esc(labels[name] || name)}</th><td>${fmt(m.roc_auc)}</td><td>${fmt(m.pr_auc)}</td>
				<td>${fmt(m.lift_top_decile)}</td><td>${fmt(m.capture_top_decile)}</td><td>${fmt(m.brier)}</td></tr>`;
		}
		html += "</tbody></table>";
		const groupLabels = { gender: __("Gender"), age_band: __("Age Band") };
		for (const [name, f] of Object.entries(report.fairness || {})) {
			html += `<h5>${esc(groupLabels[name] || name)}</h5><table class="table table-bordered table-sm"><thead><tr>
				<th></th><th>${__("Customers")}</th><th>${__("Positive")}</th><th>${__("Share Flagged")}</th><th>ROC AUC</th></tr></thead><tbody>`;
			for (const [group, m] of Object.entries(f.groups)) {
				html += `<tr><th>${esc(__(group))}</th><td>${m.count}</td><td>${m.positives}</td>
					<td>${(100 * m.flagged_share).toFixed(1)}%</td><td>${fmt(m.roc_auc)}</td></tr>`;
			}
			html += "</tbody></table>";
		}
		wrapper.html(html);
	},
});
