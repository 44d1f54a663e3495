// My Workbench (我的工作台): today's work in the user's portfolio, each item one click from its
// action. Data from bank_crm.api.workbench.get; a branch manager may narrow it to one RM.
frappe.pages["rm-workbench"].on_page_load = function (wrapper) {
	const page = frappe.ui.make_app_page({ parent: wrapper, title: __("My Workbench"), single_column: true });
	wrapper.bank_crm_workbench = new BankCRMWorkbench(page);
};

frappe.pages["rm-workbench"].on_page_show = function (wrapper) {
	wrapper.bank_crm_workbench.load();
};

class BankCRMWorkbench {
	constructor(page) {
		this.page = page;
		this.rm = null;
		this.$body = $(`<div class="bank-crm-workbench"></div>`).appendTo(page.body);
		this.page.set_primary_action(__("Refresh"), () => this.load(), "refresh");
	}

	load() {
		frappe.call({
			method: "bank_crm.api.workbench.get",
			args: { rm: this.rm },
			type: "GET",
			callback: (r) => this.render(r.message),
		});
	}

	esc(v) {
		return frappe.utils.escape_html(v === null || v === undefined ? "" : String(v));
	}
	date(v) {
		return v ? frappe.datetime.str_to_user(v) : "";
	}
	customer(row) {
		// the customer's name, its code beside it; one click to the customer-360
		return `<a href="/app/customer-360/${encodeURIComponent(row.customer)}">${this.esc(row.customer_name || row.customer)}</a>
			<span class="text-muted small">${this.esc(row.customer)}</span>`;
	}
	link(doctype, name, label) {
		return `<a href="/app/${frappe.router.slug(doctype)}/${encodeURIComponent(name)}">${this.esc(label || name)}</a>`;
	}
	all(doctype, filters) {
		const query = new URLSearchParams({ ...filters, ...(this.rm ? { relationship_manager: this.rm } : {}) }).toString();
		return `<a class="small" href="/app/${frappe.router.slug(doctype)}?${query}">${__("View all")}</a>`;
	}
	pill(text, colour) {
		return `<span class="indicator-pill ${colour}">${this.esc(text)}</span>`;
	}
	section(key, title, section, headers, row, filters, doctype) {
		if (!section) return ""; // the user's roles may not read it
		const body = section.rows.length
			? `<table class="table table-sm mb-0"><thead><tr>${headers.map((h) => `<th class="text-muted small">${h}</th>`).join("")}</tr></thead>
				<tbody>${section.rows.map((r) => `<tr>${row(r).map((c) => `<td>${c}</td>`).join("")}</tr>`).join("")}</tbody></table>`
			: `<p class="text-muted small mb-0">${__("Nothing here today.")}</p>`;
		return `<div class="frappe-card p-3 mb-3 bank-crm-workbench-${key}">
			<div class="d-flex justify-content-between align-items-baseline mb-2">
				<h5 class="mb-0">${title} <span class="badge badge-pill ${section.total ? "badge-primary" : "badge-light"}">${section.total}</span></h5>
				${this.all(doctype, filters)}</div>${body}</div>`;
	}

	render(d) {
		this.page.set_title(d.is_rm ? __("My Workbench") : __("Branch Workbench"));
		this.filter(d);
		const today = d.today;
		const left = [
			this.section(
				"plan",
				__("Today's and Overdue Contacts"),
				d.plan,
				[__("Due Date"), __("Customer"), __("Planned Contact")],
				(r) => [
					this.date(r.due_date) + (r.is_overdue ? ` ${this.pill(__("Overdue"), "red")}` : ""),
					this.customer(r),
					this.link("Bank Visit Plan", r.name, __(r.contact_kind)),
				],
				{ status: "Open" },
				"Bank Visit Plan"
			),
			this.section(
				"needs",
				__("Open Needs"),
				d.needs,
				[__("Need"), __("Customer"), ""],
				(r) => [
					`${this.pill(__(r.need_category), r.priority === "1" ? "red" : "orange")}<div class="small">${this.esc(r.summary || "")}</div>`,
					this.customer(r),
					`<div class="text-nowrap">
						<button class="btn btn-xs btn-default" data-signal="${this.esc(r.name)}" data-action="act">${__("Acted")}</button>
						<button class="btn btn-xs btn-default" data-signal="${this.esc(r.name)}" data-action="opportunity">${__("Create Opportunity")}</button>
						<button class="btn btn-xs btn-default" data-signal="${this.esc(r.name)}" data-action="dismiss">${__("Dismiss Need")}</button></div>`,
				],
				{ status: "Open" },
				"Bank Need Signal"
			),
			this.section(
				"churn",
				__("Customers at Churn Risk"),
				d.churn,
				[__("Customer"), __("Tier"), __("Why")],
				(r) => [this.customer(r), this.esc(__(r.tier || "")), this.esc(r.lifecycle_reason || "")],
				(d.churn && d.churn.filters) || { lifecycle_stage: "Churn Risk" },
				"Bank Customer Profile"
			),
		];
		const right = [
			this.section(
				"care",
				__("Birthdays and Maturities This Week"),
				d.care,
				[__("Date"), __("Customer"), __("Event")],
				(r) => [this.date(r.event_date), this.customer(r), this.link("Bank Care Event", r.name, __(r.event_type))],
				{ event_date: today },
				"Bank Care Event"
			),
			this.section(
				"requests",
				__("Requests Close to a Breach"),
				d.requests,
				[__("Deadline"), __("Customer"), __("Request")],
				(r) => [
					frappe.datetime.str_to_user(r.next_deadline) +
						(r.response_breached || r.resolution_breached ? ` ${this.pill(__("Breached"), "red")}` : ""),
					this.customer(r),
					this.link("Bank Service Request", r.name, r.subject),
				],
				{ status: ["not in", ["Resolved", "Closed"]] },
				"Bank Service Request"
			),
			this.section(
				"complaints",
				__("Complaints Close to the Regulatory Deadline"),
				d.complaints,
				[__("Deadline"), __("Customer"), __("Complaint")],
				(r) => [this.date(r.regulatory_deadline), this.customer(r), this.link("Bank Complaint", r.name, r.subject)],
				{ workflow_state: ["!=", "Closed"] },
				"Bank Complaint"
			),
		];
		this.$body.html(`<div class="row"><div class="col-lg-6">${left.join("")}</div><div class="col-lg-6">${right.join("")}</div></div>`);
		this.$body.find("button[data-signal]").on("click", (e) => {
			const $b = $(e.currentTarget);
			frappe.require("/assets/bank_crm/js/needs.js", () =>
				bank_crm.needs.act($b.data("signal"), $b.data("action"), () => this.load())
			);
		});
	}

	filter(d) {
		if (this.rm_field || !d.rms || !d.rms.length) return;
		this.rm_field = this.page.add_field({
			fieldname: "rm",
			label: __("Relationship Manager"),
			fieldtype: "Select",
			options: [{ value: "", label: __("All my RMs") }].concat(d.rms.map((r) => ({ value: r.user, label: r.full_name }))),
			change: () => {
				this.rm = this.rm_field.get_value() || null;
				this.load();
			},
		});
	}
}
