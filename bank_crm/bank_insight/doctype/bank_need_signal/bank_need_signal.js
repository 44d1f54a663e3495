// Copyright (c) 2026, bank_crm contributors
// For license information, please see license.txt

frappe.ui.form.on("Bank Need Signal", {
	refresh(frm) {
		frm.trigger("render_evidence");
		const colours = { Open: "orange", Acted: "green", Dismissed: "grey", Expired: "red" };
		frm.page.set_indicator(__(frm.doc.status, null, "Bank Need Signal"), colours[frm.doc.status] || "grey");
		if (frm.doc.status !== "Open" || !frm.perm[0].write) return;
		const act = (action) => bank_crm.needs.act(frm.doc.name, action, () => frm.reload_doc());
		frm.add_custom_button(__("Acted"), () => act("act"));
		frm.add_custom_button(__("Create Opportunity"), () => act("opportunity"));
		frm.add_custom_button(__("Dismiss Need"), () => act("dismiss"));
	},

	render_evidence(frm) {
		const wrapper = frm.get_field("evidence_html").$wrapper;
		const evidence = JSON.parse(frm.doc.evidence || "{}");
		const esc = frappe.utils.escape_html;
		const rows = [];
		if (evidence.largest_amount !== undefined) {
			rows.push([__("Largest Amount"), format_number(evidence.largest_amount, null, 2)]);
			rows.push([__("Deposit Balance"), format_number(evidence.deposit_balance, null, 2)]);
		}
		if (evidence.metric) {
			rows.push([__("Balance"), __(evidence.metric)]);
			rows.push([__("Then ({0} days ago)", [evidence.days]), format_number(evidence.then, null, 2)]);
			rows.push([__("Now"), format_number(evidence.now, null, 2)]);
		}
		if (evidence.balance_fall_pct !== undefined) rows.push([__("Balance Fall %"), evidence.balance_fall_pct]);
		(evidence.maturing || []).forEach((m) =>
			rows.push([__("Maturing"), typeof m === "string" ? esc(m) : `${esc(m.product)} · ${frappe.datetime.str_to_user(m.maturity_date)} · ${format_number(m.amount, null, 2)}`])
		);
		const facts = rows.map(([k, v]) => `<tr><td class="text-muted">${k}</td><td>${v}</td></tr>`).join("");
		wrapper.html(`<table class="table table-sm">${facts}</table><div class="bank-crm-evidence-events"></div>`);
		const names = evidence.events || [];
		if (!names.length) return;
		frappe.db
			.get_list("Bank Activity Event", {
				filters: { name: ["in", names] },
				fields: ["name", "event_type", "event_time", "amount", "currency", "channel"],
				order_by: "event_time asc",
				limit: names.length,
			})
			.then((events) => {
				const lines = events
					.map(
						(e) => `<tr><td><a href="/app/bank-activity-event/${encodeURIComponent(e.name)}">${frappe.datetime.str_to_user(e.event_time)}</a></td>
						<td>${__(e.event_type)}</td><td>${e.channel ? __(e.channel) : ""}</td>
						<td class="text-right">${e.amount ? format_number(e.amount, null, 2) + " " + esc(e.currency || "") : ""}</td></tr>`
					)
					.join("");
				wrapper.find(".bank-crm-evidence-events").html(
					`<div class="text-muted small">${__("Qualifying events ({0} of {1})", [events.length, evidence.event_count])}</div>
					<table class="table table-sm">${lines}</table>`
				);
			});
	},
});
