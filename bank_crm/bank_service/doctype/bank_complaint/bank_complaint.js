// Copyright (c) 2026, bank_crm contributors
// Complaint: the regulator's clock, the deadline in force and its source.

frappe.ui.form.on("Bank Complaint", {
	refresh(frm) {
		if (frm.is_new()) return;
		frm.call("get_clock").then((r) => {
			const c = r.message;
			let colour = "green";
			let state = __("{0} days left", [c.days_left]);
			if (c.decided_on) {
				colour = c.met ? "green" : "red";
				state = c.met ? __("Decided in time") : __("Decided late");
			} else if (c.days_left < 0) {
				colour = "red";
				state = __("Overdue by {0} days", [-c.days_left]);
			} else if (c.days_left <= 3) {
				colour = "orange";
			}
			frm.get_field("clock_html").$wrapper.html(`
				<div class="row">
					<div class="col-sm-4"><div class="text-muted small">${__("Regulatory Clock")}</div>
						<span class="indicator-pill ${colour}">${state}</span></div>
					<div class="col-sm-4"><div class="text-muted small">${__("Deadline in Force")}</div>
						<b>${frappe.datetime.str_to_user(c.deadline)}</b></div>
					<div class="col-sm-4"><div class="text-muted small">${__("Deadline Source")}</div>
						${c.source}${c.extension ? " · " + __("Extension") + ": " + c.extension : ""}</div>
				</div>
				<div class="small text-muted mt-2">${__("Day {0} since registration on {1} (calendar days)", [
					c.days_elapsed,
					frappe.datetime.str_to_user(c.registered_on),
				])}</div>`);
			if (!c.decided_on) {
				frm.dashboard.set_headline_alert(
					__("Regulatory decision due {0} ({1}): {2}", [frappe.datetime.str_to_user(c.deadline), c.source, state]),
					colour
				);
			}
		});
	},
});
