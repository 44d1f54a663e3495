// Copyright (c) 2026, bank_crm contributors
// Service request: live SLA clocks and the actions of the request's life.

const API = "bank_crm.api.service.";
const OUT_CHANNELS = ["Phone", "SMS", "Email", "App Push", "WeChat", "Visit", "Letter"];

function left_text(c) {
	return c.days
		? __("{0} d {1} h {2} min", [c.days, c.hours, c.minutes])
		: __("{0} h {1} min", [c.hours, c.minutes]);
}

function clock_html(label, c, paused) {
	let state, colour;
	if (c.done) {
		state = c.overdue ? __("Done late") : __("Done on time");
		colour = c.overdue ? "red" : "green";
	} else if (paused) {
		state = __("Paused: waiting on the customer");
		colour = "blue";
	} else if (c.overdue) {
		state = __("Overdue by {0}", [left_text(c)]);
		colour = "red";
	} else {
		state = __("{0} left", [left_text(c)]);
		colour = c.days ? "green" : "orange";
	}
	return `<div class="col-sm-6"><div class="text-muted small">${label}</div>
		<div><span class="indicator-pill ${colour}">${state}</span></div>
		<div class="small text-muted">${__("Due")}: ${frappe.datetime.str_to_user(c.due)}</div></div>`;
}

function call(frm, method, args) {
	return frappe
		.call({ method: API + method, args: Object.assign({ name: frm.doc.name }, args), freeze: true })
		.then(() => frm.reload_doc());
}

frappe.ui.form.on("Bank Service Request", {
	refresh(frm) {
		if (frm.is_new()) return;
		frm.call("get_clocks").then((r) => {
			const c = r.message;
			let html = `<div class="row">${clock_html(__("Response", null, "Bank Service Request"), c.response, false)}${clock_html(
				__("Resolution", null, "Bank Service Request"),
				c.resolution,
				c.paused
			)}</div>`;
			if (c.paused_seconds || c.paused) {
				html += `<div class="small text-muted mt-2">${__("Time paused so far: {0} min", [
					Math.round(c.paused_seconds / 60),
				])}</div>`;
			}
			frm.get_field("clock_html").$wrapper.html(html);
			if (!c.resolution.done) {
				frm.dashboard.set_headline_alert(
					c.paused
						? __("Waiting on the customer: the resolution clock is paused")
						: c.resolution.overdue
						? __("Resolution overdue by {0}", [left_text(c.resolution)])
						: __("Resolution due in {0}; feedback promised for {1}", [
								left_text(c.resolution),
								frappe.datetime.str_to_user(c.promised_feedback_date),
						  ]),
					c.resolution.overdue ? "red" : c.paused ? "blue" : "orange"
				);
			}
		});
		const open = !["Resolved", "Closed"].includes(frm.doc.status);
		const group = __("Actions");
		if (open) {
			frm.add_custom_button(__("Update the Customer"), () => {
				frappe.prompt(
					[
						{ fieldname: "message", fieldtype: "Small Text", label: __("Message"), reqd: 1 },
						{ fieldname: "channel", fieldtype: "Select", label: __("Channel"), options: OUT_CHANNELS, default: "Phone" },
					],
					(v) => call(frm, "respond", v),
					__("Update the Customer")
				);
			}, group);
			if (frm.doc.status === "Waiting on Customer") {
				frm.add_custom_button(__("Customer Replied"), () => call(frm, "customer_replied", {}), group);
			} else {
				frm.add_custom_button(__("Wait on Customer"), () => {
					frappe.prompt(
						[
							{ fieldname: "message", fieldtype: "Small Text", label: __("What we need from the customer"), reqd: 1 },
							{ fieldname: "channel", fieldtype: "Select", label: __("Channel"), options: OUT_CHANNELS, default: "Phone" },
						],
						(v) => call(frm, "wait_on_customer", v),
						__("Wait on Customer")
					);
				}, group);
			}
			frm.add_custom_button(__("Add Department Task"), () => {
				frappe.prompt(
					[
						{ fieldname: "department", fieldtype: "Select", label: __("Department"), reqd: 1, options: ["Operations", "Risk", "Product", "IT", "Compliance"] },
						{ fieldname: "owner", fieldtype: "Link", options: "User", label: __("Owner"), reqd: 1 },
						{ fieldname: "deadline", fieldtype: "Datetime", label: __("Deadline"), reqd: 1 },
						{ fieldname: "description", fieldtype: "Small Text", label: __("Task") },
					],
					(v) => call(frm, "add_task", v),
					__("Add Department Task")
				);
			}, group);
			const open_tasks = (frm.doc.tasks || []).filter((t) => t.status !== "Done");
			if (open_tasks.length) {
				frm.add_custom_button(__("Complete Task"), () => {
					frappe.prompt(
						[{ fieldname: "task", fieldtype: "Select", label: __("Task"), reqd: 1,
							options: open_tasks.map((t) => ({ value: t.name, label: `${__(t.department)}: ${t.description || ""}` })) }],
						(v) => call(frm, "complete_task", v),
						__("Complete Task")
					);
				}, group);
			}
			frm.add_custom_button(__("Resolve"), () => {
				frappe.prompt(
					[
						{ fieldname: "resolution", fieldtype: "Small Text", label: __("Resolution"), reqd: 1 },
						{ fieldname: "channel", fieldtype: "Select", label: __("Send the Result By"), options: OUT_CHANNELS, default: "Phone" },
						{ fieldname: "first_contact", fieldtype: "Check", label: __("Resolved on First Contact") },
					],
					(v) => call(frm, "resolve", v),
					__("Resolve")
				);
			}, group);
		}
		if (frm.doc.status === "Resolved") {
			frm.add_custom_button(__("Confirm Satisfaction"), () => {
				frappe.prompt(
					[
						{ fieldname: "score", fieldtype: "Select", label: __("Satisfaction (1–5)"), options: ["5", "4", "3", "2", "1"], reqd: 1 },
						{ fieldname: "comment", fieldtype: "Small Text", label: __("Satisfaction Comment") },
					],
					(v) => call(frm, "confirm_satisfaction", v),
					__("Confirm Satisfaction")
				);
			}, group);
		}
	},
});
