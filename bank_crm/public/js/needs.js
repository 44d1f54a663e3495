// The customer's open need signals and product holdings, on the Customer and the bank profile.
// Each action is the whitelisted method the signal form uses (bank_crm.api.insight).
frappe.provide("bank_crm.needs");

bank_crm.needs.render = function (frm, customer) {
	if (frm.is_new() || !customer) return;
	frappe.call({
		method: "bank_crm.api.insight.customer_overview",
		args: { customer },
		type: "GET",
	}).then((r) => {
		const { signals = [], holdings = [] } = r.message || {};
		const esc = frappe.utils.escape_html;
		const signalRows = signals.map((s) => `
			<tr data-signal="${esc(s.name)}">
				<td><span class="indicator-pill ${s.priority === "1" ? "red" : "orange"}">${__(s.need_category)}</span></td>
				<td>${esc(s.summary || "")}<div class="text-muted small">${esc(s.suggested_action || "")}</div></td>
				<td class="text-nowrap">
					<button class="btn btn-xs btn-default" data-action="act">${__("Acted")}</button>
					<button class="btn btn-xs btn-default" data-action="opportunity">${__("Create Opportunity")}</button>
					<button class="btn btn-xs btn-default" data-action="dismiss">${__("Dismiss Need")}</button>
				</td>
			</tr>`).join("");
		const holdingRows = holdings.map((h) => `
			<tr><td><a href="/app/bank-product/${encodeURIComponent(h.product)}">${esc(h.product_name || h.product)}</a></td>
				<td>${frappe.datetime.str_to_user(h.opened_on) || ""}</td>
				<td>${h.maturity_date ? frappe.datetime.str_to_user(h.maturity_date) : ""}</td>
				<td class="text-right">${h.amount === undefined || h.amount === null ? "" : format_number(h.amount, null, 2)}</td></tr>`).join("");
		const html = `
			<div class="bank-crm-needs">
				<div class="bold">${__("Open Needs")} (${signals.length})
					<a class="small" href="/app/bank-need-signal?customer=${encodeURIComponent(customer)}">${__("All signals")}</a></div>
				${signals.length ? `<table class="table table-sm">${signalRows}</table>` : `<p class="text-muted">${__("No open needs.")}</p>`}
				<div class="bold">${__("Products Held")} (${holdings.length})
					<a class="small" href="/app/bank-product-holding?customer=${encodeURIComponent(customer)}">${__("All holdings")}</a></div>
				${holdings.length ? `<table class="table table-sm"><tr class="text-muted"><th>${__("Product")}</th><th>${__("Opened On")}</th><th>${__("Maturity Date")}</th><th class="text-right">${__("Amount")}</th></tr>${holdingRows}</table>` : `<p class="text-muted">${__("No holdings on file.")}</p>`}
			</div>`;
		frm.dashboard.add_section(html, __("Needs and Holdings"));
		frm.dashboard.show();
		frm.dashboard.wrapper.find(".bank-crm-needs button[data-action]").on("click", function () {
			const signal = $(this).closest("tr").data("signal");
			bank_crm.needs.act(signal, $(this).data("action"), () => frm.reload_doc());
		});
	});
};

bank_crm.needs.act = function (signal, action, done) {
	const call = (method, args) =>
		frappe.call({ method: `bank_crm.api.insight.${method}`, args: { signal, ...args } }).then((r) => {
			if (r.message && r.message.opportunity) {
				frappe.show_alert({ message: __("Opportunity {0} created", [r.message.opportunity]), indicator: "green" });
			}
			done && done(r.message);
		});
	if (action === "act") {
		frappe.prompt(
			[{ fieldname: "interaction", fieldtype: "Link", options: "Bank Interaction", label: __("Contact that dealt with it") }],
			(v) => call("act", { interaction: v.interaction || null }),
			__("Mark as Acted")
		);
	} else if (action === "dismiss") {
		frappe.prompt(
			[{ fieldname: "reason", fieldtype: "Small Text", label: __("Reason"), reqd: 1 }],
			(v) => call("dismiss", { reason: v.reason }),
			__("Dismiss Need")
		);
	} else {
		frappe.confirm(__("Create an opportunity for this customer from the need?"), () => call("create_opportunity", {}));
	}
};
