"""The demo bank's staff: per demo branch a branch manager and its RMs (the branches are made
with them as members), and the complaint handler, consumer protection officer and compliance
auditor the service demo acts as. A user that exists already is left as it is.
"""

import frappe

from bank_crm.demo import generator
from bank_crm.demo.base import DEMO_DOMAIN, DEMO_PASSWORD
from bank_crm.demo.generator import Staff

HANDLER = Staff(f"handler@{DEMO_DOMAIN}", "投诉专员", "Complaint Handler", "0001")
CPO = Staff(f"cpo@{DEMO_DOMAIN}", "消保专员", "Consumer Protection Officer", "0001")
AUDITOR = Staff(f"auditor@{DEMO_DOMAIN}", "合规审计员", "Compliance Auditor", "0001")


def make_branches_and_staff():
	members = {}
	for person in generator.staff(DEMO_DOMAIN):
		make_user(person)
		members.setdefault(person.branch, []).append(person)
	for code, name, region, _division, _city in generator.BRANCHES:
		if frappe.db.exists("Bank Branch", code):
			continue
		frappe.get_doc(
			{
				"doctype": "Bank Branch",
				"branch_code": code,
				"branch_name": name,
				"region": region,
				"is_head_office": int(code == "0001"),
				"members": [{"user": p.email, "member_role": p.role} for p in members.get(code, [])],
			}
		).insert(ignore_permissions=True)
	frappe.db.commit()


def make_service_staff():
	for person in (HANDLER, CPO, AUDITOR):
		make_user(person)


def make_user(person):
	if frappe.db.exists("User", person.email):
		return
	user = frappe.get_doc(
		{
			"doctype": "User",
			"email": person.email,
			"first_name": person.first_name,
			"language": "zh",
			"send_welcome_email": 0,
			"user_type": "System User",
			"new_password": DEMO_PASSWORD,
			"roles": [{"role": person.role}],
			# the bank's modules only in the sidebar (bank_crm.setup.desk)
			"module_profile": "Bank Staff" if frappe.db.exists("Module Profile", "Bank Staff") else None,
		}
	)
	user.flags.ignore_password_policy = True
	# the demo staff come in one go: Frappe's sign-up throttle (60 users a minute) is not for this
	conf = frappe.local.conf
	limit = conf.get("throttle_user_limit")
	conf["throttle_user_limit"] = 10**9
	try:
		user.insert(ignore_permissions=True)
	finally:
		if limit is None:
			conf.pop("throttle_user_limit", None)
		else:
			conf["throttle_user_limit"] = limit


def clear() -> int:
	"""Remove the demo branches, the demo staff and the Contacts Frappe made for them; returns
	how many users went."""
	users = frappe.get_all("User", filters={"name": ("like", f"%@{DEMO_DOMAIN}")}, pluck="name")
	if frappe.db.table_exists("Bank Branch"):
		demo_branches = {code: name for code, name, *_ in generator.BRANCHES}
		for code, branch_name in frappe.get_all("Bank Branch", fields=["name", "branch_name"], as_list=True):
			if demo_branches.get(code) == branch_name:
				frappe.db.delete("Bank Branch Member", {"parent": code, "parenttype": "Bank Branch"})
				frappe.db.delete("Bank Branch", {"name": code})
	_delete_users(users)
	# Frappe keeps the Contact it made for each user (with its search entry): ours go too
	for contact in frappe.get_all(
		"Contact", filters={"email_id": ("like", f"%@{DEMO_DOMAIN}")}, pluck="name"
	):
		frappe.delete_doc("Contact", contact, ignore_permissions=True, force=True, delete_permanently=True)
	return len(users)


def _delete_users(users: list[str]):
	"""The demo staff, with what Frappe's ``User.on_trash`` removes for a user. (``on_trash``
	itself refuses every deletion while Administrator is the only System Manager, as on a new
	demo site whose setup wizard the demo completed.)"""
	if not users:
		return
	for doctype, field in (
		("ToDo", "allocated_to"),
		("DocShare", "user"),
		("User Permission", "user"),
		("Notification Settings", "name"),
		("OAuth Authorization Code", "user"),
		("Token Cache", "user"),
	):
		frappe.db.delete(doctype, {field: ("in", users)})
	frappe.db.delete("Event", {"owner": ("in", users), "event_type": "Private"})
	frappe.db.set_value("ToDo", {"assigned_by": ("in", users)}, "assigned_by", None, update_modified=False)
	frappe.db.set_value("Contact", {"user": ("in", users)}, "user", None, update_modified=False)
	for user in users:
		frappe.delete_doc(
			"User", user, ignore_permissions=True, force=True, delete_permanently=True, ignore_on_trash=True
		)
	frappe.cache.delete_key("enabled_users")
