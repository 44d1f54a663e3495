"""What bank staff see in Frappe's desk: a Module Profile that leaves them the bank's modules
only (no Users, Website, Tools, Integrations or Build in the sidebar), and customers' names
in every link to a Customer. Created once; an administrator's later edits stand."""

import frappe
from frappe.custom.doctype.property_setter.property_setter import make_property_setter

STAFF_PROFILE = "Bank Staff"


def setup(our_modules):
	make_staff_profile(our_modules)
	if not frappe.db.exists(
		"Property Setter", {"doc_type": "Customer", "property": "show_title_field_in_link", "value": "1"}
	):
		# ERPNext's Customer has its name as title field; the desk then shows it in links
		make_property_setter(
			"Customer",
			None,
			"show_title_field_in_link",
			1,
			"Check",
			for_doctype=True,
			validate_fields_for_doctype=False,
		)


def make_staff_profile(our_modules):
	"""Every module but ours blocked; assign it to bank staff (User → Module Profile)."""
	if frappe.db.exists("Module Profile", STAFF_PROFILE):
		return
	blocked = [m for m in frappe.get_all("Module Def", pluck="name", order_by="name") if m not in our_modules]
	frappe.get_doc(
		{
			"doctype": "Module Profile",
			"module_profile_name": STAFF_PROFILE,
			"block_modules": [{"module": m} for m in blocked],
		}
	).insert(ignore_permissions=True)


def remove():
	users = frappe.get_all("User", filters={"module_profile": STAFF_PROFILE}, pluck="name")
	if users:
		frappe.db.delete("Block Module", {"parenttype": "User", "parent": ("in", users)})
		frappe.db.sql(
			"update `tabUser` set module_profile = null where module_profile = %s", (STAFF_PROFILE,)
		)
	frappe.db.delete("Block Module", {"parenttype": "Module Profile", "parent": STAFF_PROFILE})
	frappe.db.delete("Module Profile", {"name": STAFF_PROFILE})
	frappe.db.delete("Property Setter", {"doc_type": "Customer", "property": "show_title_field_in_link"})
	frappe.clear_cache(doctype="Customer")
