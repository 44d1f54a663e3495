// Copyright (c) 2026, bank_crm contributors
// For license information, please see license.txt

// An RM's calendar of planned contacts (row-level access applies through get_list).
frappe.views.calendar["Bank Visit Plan"] = {
	field_map: {
		start: "due_date",
		end: "due_date",
		id: "name",
		title: "subject",
		allDay: "allDay",
		color: "colour",
	},
	filters: [
		{ fieldtype: "Select", fieldname: "status", options: "\nOpen\nDone\nCancelled", label: __("Status"), default: "Open" },
		{ fieldtype: "Select", fieldname: "contact_kind", options: "\nVisit\nCall\nMeeting\nSalon\nMessage", label: __("Contact Kind") },
		{ fieldtype: "Link", fieldname: "relationship_manager", options: "User", label: __("Relationship Manager") },
	],
	get_events_method: "frappe.desk.calendar.get_events",
};
