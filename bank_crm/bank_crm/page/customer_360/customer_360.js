// Customer-360 (客户全景视图): /app/customer-360/<Customer>. Data from bank_crm.api.customer360.get;
// each action is the whitelisted method the forms use; each section links to the full list.
frappe.pages["customer-360"].on_page_load = function (wrapper) {
	const page = frappe.ui.make_app_page({ parent: wrapper, title: __("Customer 360"), single_column: true });
	wrapper.bank_crm_360 = new BankCRM360(page);
};

frappe.pages["customer-360"].on_page_show = function (wrapper) {
	const customer = frappe.get_route()[1] || (frappe.route_options && frappe.route_options.customer);
	frappe.route_options = null;
	wrapper.bank_crm_360.show(customer);
};

class BankCRM360 {
	constructor(page) {
		this.page = page;
		this.$body = $(`<div class="bank-crm-360"></div>`).appendTo(page.body);
		this.page.set_primary_action(__("Refresh"), () => this.load(), "refresh");
		this.customer_field = this.page.add_field({
			fieldname: "customer",
			label: __("Customer"),
			fieldtype: "Link",
			options: "Customer",
			change: () => {
				const value = this.customer_field.get_value();
				if (value && value !== this.customer) frappe.set_route("customer-360", value);
			},
		});
	}

	show(customer) {
		if (!customer) {
			this.$body.html(`<p class="text-muted">${__("Choose a customer.")}</p>`);
			return;
		}
		this.customer = customer;
		this.customer_field.set_value(customer);
		this.load();
	}

	load() {
		if (!this.customer) return;
		frappe.call({
			method: "bank_crm.api.customer360.get",
			args: { customer: this.customer },
			type: "GET",
			callback: (r) => this.render(r.message),
			error: () => {
				this.page.set_title(__("Customer 360"));
				this.$body.html(`<p class="text-muted">${__("You may not open this record, or it does not exist.")}</p>`);
			},
		});
	}

	// -- helpers ------------------------------------------------------------------------------
	esc(v) {
		return frappe.utils.escape_html(v === null || v === undefined ? "" : String(v));
	}
	date(v) {
		return v ? frappe.datetime.str_to_user(v) : "";
	}
	amount(v) {
		return v === null || v === undefined ? "" : format_currency(v, "CNY", 0);
	}
	link(doctype, name, label) {
		return `<a href="/app/${frappe.router.slug(doctype)}/${encodeURIComponent(name)}">${this.esc(label || name)}</a>`;
	}
	all(doctype, filters) {
		const query = new URLSearchParams(filters).toString();
		return `<a class="small bank-crm-360-all" href="/app/${frappe.router.slug(doctype)}?${query}">${__("View all")}</a>`;
	}
	card(title, body, more = "") {
		return `<div class="bank-crm-360-card frappe-card p-3 mb-3">
			<div class="d-flex justify-content-between align-items-baseline mb-2">
				<h5 class="mb-0">${title}</h5>${more}</div>${body}</div>`;
	}
	each(list, fn) {
		return list ? list.map(fn) : null;
	}
	table(headers, rows, empty) {
		if (rows === null) return ""; // a list the user's roles may not read
		if (!rows.length) return `<p class="text-muted small mb-0">${empty}</p>`;
		return `<table class="table table-sm mb-0"><thead><tr>${headers
			.map((h) => `<th class="text-muted small">${h}</th>`)
			.join("")}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join("")}</tr>`).join("")}</tbody></table>`;
	}
	pill(text, colour) {
		return `<span class="indicator-pill ${colour}">${this.esc(text)}</span>`;
	}

	// -- page -----------------------------------------------------------------------------------
	render(d) {
		const c = d.customer;
		this.page.set_title(d.customer_name || c);
		const h = d.header;
		this.$body.html(`
			${this.header(d)}
			<div class="row">
				<div class="col-lg-6">${h ? this.value(d) : ""}${this.prediction(d)}${this.needs(d)}${this.service(d)}</div>
				<div class="col-lg-6">${this.money(d)}${this.relationship(d)}${this.timeline(d)}</div>
			</div>`);
		this.charts(d);
		this.page.clear_inner_toolbar();
		if (h) this.page.add_inner_button(__("Create Opportunity"), () => this.open_opportunity());
		this.$body.find("button[data-signal]").on("click", (e) => {
			const $b = $(e.currentTarget);
			frappe.require("/assets/bank_crm/js/needs.js", () =>
				bank_crm.needs.act($b.data("signal"), $b.data("action"), () => this.load())
			);
		});
	}

	header(d) {
		const h = d.header;
		const c = d.customer;
		if (!h) {
			return this.card(
				this.esc(d.customer_name || c),
				`<p class="text-muted">${__("This customer has no bank profile yet.")}</p>`,
				this.link("Customer", c, __("Open Customer"))
			);
		}
		const consent = Object.entries(h.consents || {})
			.map(([purpose, channels]) =>
				this.pill(
					`${__(purpose)}: ${channels.length ? (channels.includes("All Channels") ? __("All Channels") : channels.map((x) => __(x)).join("、")) : __("None")}`,
					channels.length ? "green" : "gray"
				)
			)
			.join(" ");
		const contact = h.do_not_contact
			? this.pill(__("Do Not Contact") + (h.do_not_contact_reason ? `: ${h.do_not_contact_reason}` : ""), "red")
			: h.quiet_hours_start
			? this.pill(__("Quiet hours {0}–{1}", [h.quiet_hours_start, h.quiet_hours_end]), "orange")
			: "";
		const verification =
			{ Verified: "green", "In Progress": "orange", Lapsed: "red", Failed: "red" }[h.verification_status] || "gray";
		const fields = [
			[__("Customer Type"), __(h.profile_type)],
			[__("ID"), `${__(h.id_type || "")} ${this.esc(h.id_number_masked || "")}`],
			[__("Relationship Manager"), this.esc(h.relationship_manager_name || h.relationship_manager || "")],
			[__("Branch", null, "Bank Customer Profile"), this.esc(h.branch || "")],
			[__("Customer Since"), this.date(h.relationship_since)],
			[__("Risk Tolerance"), this.esc(h.risk_tolerance || "") + (h.risk_assessment_expired ? ` ${this.pill(__("Assessment expired"), "red")}` : "")],
		]
			.map(([l, v]) => `<div class="col-sm-4 mb-2"><div class="text-muted small">${l}</div><div>${v || "—"}</div></div>`)
			.join("");
		return `<div class="bank-crm-360-header frappe-card p-3 mb-3">
			<div class="d-flex flex-wrap align-items-center mb-2" style="gap: 6px">
				<h4 class="mb-0 mr-2">${this.esc(d.customer_name || c)}</h4>
				<span class="text-muted">${this.esc(c)}</span>
				${h.tier ? this.pill(__(h.tier), "blue") : ""}
				${h.lifecycle_stage ? this.pill(__(h.lifecycle_stage), h.lifecycle_stage === "Churn Risk" ? "red" : "cyan") : ""}
				${this.pill(__(h.verification_status || "Unverified"), verification)}
				${contact}
				<span class="ml-auto small">${this.link("Bank Customer Profile", h.name, __("Open Profile"))} · ${this.link("Customer", c, __("Open Customer"))}</span>
			</div>
			<div class="row">${fields}</div>
			<div class="d-flex flex-wrap" style="gap: 6px">${consent}</div>
		</div>`;
	}

	value(d) {
		const v = d.value;
		const score =
			d.header.value_score !== undefined && d.header.value_score !== null
				? `<div class="mb-2"><span class="text-muted small">${__("Value Score")}</span> <span class="h4">${format_number(d.header.value_score, null, 1)}</span></div>`
				: "";
		const parts = (v.breakdown && v.breakdown.parts) || [];
		// each factor's contribution as a bar beside its full label (a column chart cuts long labels)
		const top = Math.max(...parts.map((p) => Math.abs(p.contribution || 0)), 0.0001);
		const chart = parts.length
			? `<div class="bank-crm-360-breakdown">
				<div class="text-muted small mb-1">${__("Score Breakdown")}</div>
				${parts
					.map((p) => {
						const value = Math.round((p.contribution || 0) * 10) / 10;
						const width = Math.round((Math.abs(p.contribution || 0) / top) * 100);
						return `<div class="d-flex align-items-center small" style="gap: 8px; margin: 2px 0">
							<div style="width: 38%" class="ellipsis" title="${this.esc(__(p.label || p.factor))}">${this.esc(__(p.label || p.factor))}</div>
							<div style="flex: 1; background: var(--gray-100); border-radius: 3px; height: 10px">
								<div style="width: ${width}%; background: #7c5cfc; border-radius: 3px; height: 10px"></div>
							</div>
							<div style="width: 3.5em; text-align: right">${format_number(value, null, 1)}</div>
						</div>`;
					})
					.join("")}
			</div>`
			: "";
		const tiers = this.table(
			[__("Date"), __("From"), __("To"), __("Reason")],
			this.each(v.tier_history, (t) => [this.date(t.change_date), this.esc(__(t.from_tier || "")), this.esc(__(t.to_tier || "")), this.esc(__(t.reason || ""))]),
			__("No tier changes yet.")
		);
		const stages = this.table(
			[__("Date"), __("From"), __("To"), __("Reason")],
			this.each(v.lifecycle_history, (t) => [this.date(t.change_date), this.esc(__(t.from_stage || "")), this.esc(__(t.to_stage || "")), this.esc(__(t.reason || ""))]),
			__("No lifecycle changes yet.")
		);
		return this.card(
			__("Customer Value"),
			`${score}${chart}${tiers ? `<div class="text-muted small mt-2">${__("Tier History")}</div>${tiers}` : ""}
			${stages ? `<div class="text-muted small mt-2">${__("Lifecycle History")}</div>${stages}` : ""}`,
			this.all("Bank Tier History", { profile: d.header.name })
		);
	}

	prediction(d) {
		const p = d.prediction;
		if (!p) return "";
		const colours = { High: "red", Medium: "orange", Low: "green" };
		const churn =
			p.churn_probability === null || p.churn_probability === undefined
				? ""
				: `<div class="mb-2"><span class="text-muted small">${__("Churn Probability")}</span>
					<span class="h4">${format_number(p.churn_probability, null, 1)}%</span>
					${p.churn_band ? this.pill(__(p.churn_band), colours[p.churn_band] || "gray") : ""}</div>`;
		const why = (p.reasons || []).length
			? `<div class="text-muted small">${__("Why")}</div><ul class="small mb-2">${p.reasons.map((r) => `<li>${this.esc(r)}</li>`).join("")}</ul>`
			: "";
		const next = p.top_propensities
			? `<div class="small mb-2"><span class="text-muted">${__("Likely Next Products")}</span> ${this.esc(p.top_propensities)}</div>`
			: "";
		const trend = this.table(
			[__("Scored On"), __("Probability"), __("Band")],
			this.each(p.trend, (t) => [this.date(t.scored_on), `${format_number(t.probability, null, 1)}%`, this.esc(__(t.band || ""))]),
			__("No scores yet.")
		);
		return this.card(__("Predictions"), `${churn}${why}${next}${trend}`, this.all("Bank Prediction Score", { profile: d.header.name }));
	}

	open_opportunity() {
		frappe.prompt(
			[{ fieldname: "product", label: __("Bank Product"), fieldtype: "Link", options: "Bank Product" }],
			(values) =>
				frappe
					.xcall("bank_crm.api.insight.open_opportunity", { customer: this.customer, product: values.product || null })
					.then((name) => frappe.set_route("Form", "Opportunity", name)),
			__("Create Opportunity"),
			__("Create")
		);
	}

	money(d) {
		const m = d.money;
		const holdings = this.table(
			[__("Product"), __("Category"), __("Opened On"), __("Maturity Date"), __("Amount")],
			this.each(m.holdings, (x) => [
				this.esc(x.product_name || x.product),
				this.esc(__(x.category || "")),
				this.date(x.opened_on),
				this.date(x.maturity_date),
				x.amount === undefined ? "" : this.amount(x.amount),
			]),
			__("No holdings on file.")
		);
		return this.card(
			__("Assets and Products"),
			`${m.snapshots && m.snapshots.length ? `<div class="bank-crm-360-trend"></div>` : `<p class="text-muted small">${__("No balances on file.")}</p>`}
			${holdings ? `<div class="text-muted small mt-2">${__("Products the customer holds")}</div>${holdings}` : ""}`,
			this.all("Bank Product Holding", { customer: d.customer })
		);
	}

	needs(d) {
		if (!d.needs) return "";
		const rows = this.each(d.needs, (s) => [
			this.pill(__(s.need_category), s.priority === "1" ? "red" : "orange"),
			`${this.link("Bank Need Signal", s.name, s.summary || s.name)}<div class="text-muted small">${this.esc(s.suggested_action || "")}</div>`,
			`<div class="text-nowrap">
				<button class="btn btn-xs btn-default" data-signal="${this.esc(s.name)}" data-action="act">${__("Acted")}</button>
				<button class="btn btn-xs btn-default" data-signal="${this.esc(s.name)}" data-action="opportunity">${__("Create Opportunity")}</button>
				<button class="btn btn-xs btn-default" data-signal="${this.esc(s.name)}" data-action="dismiss">${__("Dismiss Need")}</button></div>`,
		]);
		return this.card(
			`${__("Open Needs")} (${d.needs.length})`,
			this.table([__("Need"), __("Evidence of the Need"), ""], rows, __("No open needs.")),
			this.all("Bank Need Signal", { customer: d.customer })
		);
	}

	relationship(d) {
		const r = d.relationship;
		const planned = this.table(
			[__("Due Date"), __("Planned Contact"), __("Responsible")],
			this.each(r.planned, (p) => [
				this.date(p.due_date) + (p.is_overdue ? ` ${this.pill(__("Overdue"), "red")}` : ""),
				this.link("Bank Visit Plan", p.name, p.subject),
				this.esc(__(p.responsible || "")),
			]),
			__("Nothing planned.")
		);
		const interactions = this.table(
			[__("Date"), __("Type"), __("Outcome")],
			this.each(r.interactions, (i) => [
				this.date(i.actual_at || i.planned_at),
				this.link("Bank Interaction", i.name, __(i.interaction_type)),
				this.esc(__(i.outcome || i.status || "")),
			]),
			__("No contacts yet.")
		);
		const care = this.table(
			[__("Date"), __("Event"), __("Detail")],
			this.each(r.care, (e) => [this.date(e.event_date), this.link("Bank Care Event", e.name, __(e.event_type)), this.esc(e.detail || "")]),
			__("No care events coming up.")
		);
		const broadcasts = this.table(
			[__("Sent On"), __("Broadcast"), __("Channel")],
			this.each(r.broadcasts, (b) => [
				this.date(b.sent_on),
				this.esc(b.title || b.broadcast) + (b.opted_out ? ` ${this.pill(__("Opted Out"), "gray")}` : ""),
				this.esc(__(b.channel || "")),
			]),
			__("No broadcasts received.")
		);
		return this.card(
			__("Relationship"),
			`<div class="text-muted small">${__("Next Planned Contacts")} ${this.all("Bank Visit Plan", { customer: d.customer })}</div>${planned}
			<div class="text-muted small mt-2">${__("Recent Contacts")} ${this.all("Bank Interaction", { customer: d.customer })}</div>${interactions}
			<div class="text-muted small mt-2">${__("Care Events")} ${this.all("Bank Care Event", { customer: d.customer })}</div>${care}
			<div class="text-muted small mt-2">${__("Broadcasts Received")} ${this.all("Bank Broadcast Recipient", { customer: d.customer })}</div>${broadcasts}`
		);
	}

	service(d) {
		const s = d.service;
		const clock = (due, breached) =>
			due ? `${frappe.datetime.str_to_user(due)}${breached ? ` ${this.pill(__("Breached"), "red")}` : ""}` : "";
		const requests = this.table(
			[__("Request"), __("Status"), __("Response Due"), __("Resolution Due")],
			this.each(s.requests, (x) => [
				this.link("Bank Service Request", x.name, x.subject || x.name),
				this.esc(__(x.status)),
				x.responded_on ? __("Responded") : clock(x.response_due, x.response_breached),
				x.paused_since ? this.pill(__("Waiting on Customer"), "orange") : clock(x.resolution_due, x.resolution_breached),
			]),
			__("No open requests.")
		);
		const complaints = this.table(
			[__("Complaint"), __("State"), __("Regulatory Deadline")],
			this.each(s.complaints, (x) => [
				this.link("Bank Complaint", x.name, x.subject || x.name),
				this.esc(__(x.workflow_state)),
				clock(x.regulatory_deadline, x.regulatory_breached),
			]),
			__("No open complaints.")
		);
		return this.card(
			__("Service"),
			`<div class="text-muted small">${__("Open Requests")} ${this.all("Bank Service Request", { customer: d.customer })}</div>${requests}
			<div class="text-muted small mt-2">${__("Open Complaints")} ${this.all("Bank Complaint", { customer: d.customer })}</div>${complaints}`
		);
	}

	timeline(d) {
		const rows = this.each(d.timeline, (t) => [
			frappe.datetime.str_to_user(t.communication_date),
			this.link("Communication", t.name, t.subject || t.name),
			this.esc(__(t.communication_medium || "")),
		]);
		return this.card(
			__("Timeline"),
			this.table([__("Date"), __("Subject"), __("Medium")], rows, __("Nothing on the timeline yet.")),
			this.link("Customer", d.customer, __("Full timeline"))
		);
	}

	charts(d) {
		const trend = this.$body.find(".bank-crm-360-trend")[0];
		// (present only when the snapshots were readable and not empty)
		if (trend) {
			const s = d.money.snapshots;
			new frappe.Chart(trend, {
				type: "line",
				height: 220,
				data: {
					labels: s.map((x) => frappe.datetime.str_to_user(x.as_of_date)),
					datasets: [
						{ name: __("Deposits"), values: s.map((x) => x.deposit_balance || 0) },
						{ name: __("Loans"), values: s.map((x) => x.loan_balance || 0) },
						{ name: __("AUM"), values: s.map((x) => x.aum || 0) },
					],
				},
				axisOptions: { xIsSeries: 1, shortenYAxisNumbers: 1 },
				lineOptions: { hideDots: 0, regionFill: 0 },
				colors: ["#2490ef", "#e24c4c", "#29cd42"],
			});
		}
	}
}
