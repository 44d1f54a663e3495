"""Load the synthetic bank into a site, set-based (bulk inserts in chunks), and remove it again.

    bench --site SITE execute bank_crm.demo.load --kwargs "{'customers': 1000}"
    bench --site SITE execute bank_crm.demo.clear

Branches and staff are created as documents (a handful); customers, profiles and their child
rows are generated in ``bank_crm.demo.generator`` and written with one multi-row INSERT per
chunk per table: a million customers load in minutes, not the half-day a save loop would take.
Demo records are recognisable: customers are named ``DEMO-C-…`` and staff use the domain
``demo.bank-crm.example``.
"""

import time
from datetime import date

import frappe
from frappe.utils import getdate, now_datetime
from frappe.utils.password import encrypt

from bank_crm.bank_customer.privacy import id_fingerprint
from bank_crm.bank_customer.verification import interval_years
from bank_crm.core import identity, profile, verification
from bank_crm.demo import generator
from bank_crm.utils.bulk import insert_rows, reserve_series
from bank_crm.utils.traces import remove_traces

PROFILE = "Bank Customer Profile"
CUSTOMER_PREFIX = "DEMO-C-"
DEMO_DOMAIN = "demo.bank-crm.example"
DEMO_PASSWORD = "Demo@Bank2026"
CHUNK = 5_000


class SetupIncomplete(Exception):
	pass


def setup_complete() -> bool:
	return bool(frappe.db.get_single_value("System Settings", "setup_complete"))


def ensure_setup_complete(complete: bool = False):
	"""Until ERPNext's setup wizard is done, nobody but Administrator can use the desk: say so,
	or (``complete``) complete it for a demo bank."""
	if setup_complete():
		return
	if not complete:
		site = frappe.local.site
		raise SetupIncomplete(
			"ERPNext's setup wizard has not been completed on this site: until it is, no user but "
			"Administrator can open the desk (they see 'Not Permitted'). Complete it in the browser "
			f"as Administrator (/app/setup-wizard), or let the demo complete it for a demo bank:\n"
			f"  bench --site {site} execute bank_crm.demo.load --kwargs \"{{'complete_setup': True}}\""
		)
	from frappe.desk.page.setup_wizard.setup_wizard import setup_complete as run_setup_wizard

	year = getdate().year
	run_setup_wizard(
		{
			"language": "English",  # the site's; demo staff use Chinese
			"country": "China",
			"timezone": "Asia/Shanghai",
			"currency": "CNY",
			"company_name": "示范银行股份有限公司",
			"company_abbr": "SFYH",
			"company_tagline": "",
			"chart_of_accounts": "Standard",
			"fy_start_date": f"{year}-01-01",
			"fy_end_date": f"{year}-12-31",
			"full_name": "Administrator",
		}
	)
	frappe.db.commit()
	print("bank_crm demo: ERPNext's setup wizard completed (示范银行股份有限公司, CNY, Asia/Shanghai)")


def load(
	customers: int = 1000,
	seed: int = 42,
	chunk: int = CHUNK,
	today: str | None = None,
	months: int = 6,
	segment: bool = True,
	demos: bool = True,
) -> dict:
	"""Add ``customers`` demo customers (and the branches and staff, once) with ``months`` of
	monthly financial snapshots, then run the segmentation so tiers and stages show at once.
	With ``demos`` (the default) it then adds the service, engagement and behaviour demos;
	the benchmarks load customers without them. Returns counts."""
	started = time.monotonic()
	today_date = getdate(today) if today else getdate()
	make_branches_and_staff()
	groups = _customer_groups()
	territory = _territory()
	intervals = interval_years()
	start = _next_demo_seq()
	made = 0
	while made < customers:
		batch = generator.customers(
			min(chunk, customers - made), start=start + made, seed=seed, today=today_date
		)
		_write_batch(batch, groups, territory, intervals, today_date, months, seed)
		made += len(batch)
		frappe.db.commit()  # commit per chunk: a long load survives a crash with whole chunks only
	seconds = {"customers": round(time.monotonic() - started, 1)}
	result = {"customers": made, "seconds": seconds}

	def part(name, run):
		began = time.monotonic()
		result[name] = run()
		seconds[name] = round(time.monotonic() - began, 1)

	if segment:
		from bank_crm.bank_segmentation.segmentation import run_segmentation

		part("segmentation_run", lambda: run_segmentation("On Demand", today=today_date))
	if demos:
		from bank_crm.demo import engagement, insight, outreach, service

		part("service", lambda: service.load(seed=seed))
		part("engagement", lambda: engagement.load(seed=seed, today=today_date))
		part("insight", lambda: insight.load(seed=seed))
		part("outreach", lambda: outreach.load(seed=seed))
	seconds["total"] = round(time.monotonic() - started, 1)
	print(f"bank_crm demo: {result}")
	return result


def make_branches_and_staff():
	members = {}
	for person in generator.staff(DEMO_DOMAIN):
		_make_user(person)
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


def _make_user(person):
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


def _customer_groups() -> dict:
	def pick(preferred):
		if frappe.db.exists("Customer Group", {"name": preferred, "is_group": 0}):
			return preferred
		return frappe.db.get_value("Customer Group", {"is_group": 0}, "name") or frappe.db.get_value(
			"Customer Group", {}, "name"
		)

	return {"Individual": pick("Individual"), "Company": pick("Commercial")}


def _territory() -> str | None:
	for name in ("China", frappe.db.get_single_value("Selling Settings", "territory")):
		if name and frappe.db.exists("Territory", name):
			return name
	return frappe.db.get_value("Territory", {"is_group": 0}, "name") or frappe.db.get_value(
		"Territory", {}, "name"
	)


def _next_demo_seq() -> int:
	last = frappe.db.sql("select max(name) from `tabCustomer` where name like %s", (CUSTOMER_PREFIX + "%",))[
		0
	][0]
	return int(last[len(CUSTOMER_PREFIX) :]) + 1 if last else 1


def _write_batch(batch, groups, territory, intervals, today: date, months: int = 0, seed: int = 42):
	now = now_datetime()
	first = reserve_series("BCP-", len(batch)) + 1
	industries = set(frappe.get_all("Industry Type", pluck="name"))
	customers, profiles, auth, snapshot_rows = [], [], [], []
	children = {"shareholders": [], "financing_needs": [], "verification_checks": [], "consents": []}
	for offset, c in enumerate(batch):
		customer = f"{CUSTOMER_PREFIX}{c.seq:07d}"
		name = f"BCP-{first + offset:07d}"
		v = dict(c.values)
		checks = [
			verification.Check(r["check_type"], r["result"], r["checked_on"], r["source"]) for r in c.checks
		]
		state = verification.derive(c.profile_type, checks, c.risk_level, today, intervals)
		row = {
			"name": name,
			"customer": customer,
			"customer_name": c.customer_name,
			"profile_type": c.profile_type,
			"relationship_manager": c.relationship_manager,
			"branch": c.branch,
			"risk_level": c.risk_level,
			"verification_status": state.status,
			"reverification_due_on": state.due_on,
			"verification_outstanding": ", ".join(state.missing) or None,
			"currency": "CNY",
			"relationship_since": c.onboarded_on,
			**generator.qualitative_scores(c, seed),
			**v,
		}
		for snap in generator.snapshot_history(c, months, today, seed):
			snap["customer"] = customer
			snap["customer_name"] = c.customer_name
			snap["name"] = frappe.generate_hash(length=12)
			snapshot_rows.append(snap)
		if c.profile_type == verification.INDIVIDUAL:
			number = v["id_number"]
			row["id_number"] = "*" * len(number)
			row["id_number_masked"] = identity.mask(number)
			row["id_number_hash"] = id_fingerprint(v["id_type"], number)
			auth.append((PROFILE, name, "id_number", encrypt(number), 1))
			assessment = profile.assess_risk_tolerance(v["risk_tolerance"], v["risk_assessment_date"], today)
			row["risk_assessment_expires_on"] = assessment.expires_on
			row["risk_assessment_expired"] = int(bool(v["risk_tolerance"]) and assessment.expired)
		else:
			row["industry"] = v["industry"] if v["industry"] in industries else None
			row["total_shareholding"] = profile.check_shareholdings(
				[s["shareholding_percent"] for s in c.shareholders]
			)
			row["debt_to_asset_ratio"] = profile.debt_to_asset_ratio(
				v["total_assets"], v["total_liabilities"]
			)
		profiles.append(row)
		customers.append(
			{
				"name": customer,
				"customer_name": c.customer_name,
				"customer_type": c.customer_type,
				"customer_group": groups[c.customer_type],
				"territory": territory,
				"bank_profile": name,
				"bank_relationship_manager": c.relationship_manager,
				"bank_branch": c.branch,
			}
		)
		for parentfield, rows in (
			("shareholders", c.shareholders),
			("financing_needs", c.financing_needs),
			("verification_checks", c.checks),
			("consents", c.consents),
		):
			for idx, child in enumerate(rows, start=1):
				extra = {"recorded_by": c.relationship_manager} if parentfield == "consents" else {}
				children[parentfield].append(
					{
						"parent": name,
						"parentfield": parentfield,
						"parenttype": PROFILE,
						"idx": idx,
						**child,
						**extra,
					}
				)
	common = {
		"owner": "Administrator",
		"modified_by": "Administrator",
		"creation": now,
		"modified": now,
		"docstatus": 0,
	}
	insert_rows("Customer", customers, common)
	insert_rows(PROFILE, profiles, common)
	child_doctypes = {
		"shareholders": "Bank Shareholder",
		"financing_needs": "Bank Financing Need",
		"verification_checks": "Bank Verification Check",
		"consents": "Bank Consent Record",
	}
	for parentfield, rows in children.items():
		for row in rows:
			row["name"] = frappe.generate_hash(length=12)
		insert_rows(child_doctypes[parentfield], rows, common)
	insert_rows("Bank Financial Snapshot", snapshot_rows, common)
	if auth:
		insert_rows(
			"__Auth",
			[
				dict(zip(("doctype", "name", "fieldname", "password", "encrypted"), a, strict=False))
				for a in auth
			],
			raw_table=True,
		)


def clear() -> dict:
	"""Remove every demo record: customers, profiles with their rows, staff, branches."""
	from bank_crm.demo import engagement, insight, outreach, service
	from bank_crm.utils.traces import flush_search_queue, remove_orphan_search_rows

	flush_search_queue()
	outreach.clear()
	insight.clear()
	service.clear()
	engagement.clear()
	customers = frappe.get_all("Customer", filters={"name": ("like", CUSTOMER_PREFIX + "%")}, pluck="name")
	profiles = []
	if frappe.db.table_exists(PROFILE):
		profiles = frappe.get_all(
			PROFILE, filters={"customer": ("like", CUSTOMER_PREFIX + "%")}, pluck="name"
		)
		for chunk in _chunks(profiles, 10_000):
			remove_traces([PROFILE], chunk)
			for history in ("Bank Tier History", "Bank Lifecycle History", "Bank Tier Override"):
				frappe.db.delete(history, {"profile": ("in", chunk)})
			for child in (
				"Bank Shareholder",
				"Bank Financing Need",
				"Bank Verification Check",
				"Bank Consent Record",
			):
				frappe.db.delete(child, {"parenttype": PROFILE, "parent": ("in", chunk)})
			frappe.db.delete("__Auth", {"doctype": PROFILE, "name": ("in", chunk)})
			frappe.db.delete(PROFILE, {"name": ("in", chunk)})
	for chunk in _chunks(customers, 10_000):
		remove_traces(["Customer"], chunk)  # timeline, tasks, comments, search index …
		if frappe.db.table_exists("Bank Financial Snapshot"):
			frappe.db.delete("Bank Financial Snapshot", {"customer": ("in", chunk)})
		frappe.db.delete("Customer", {"name": ("in", chunk)})
	users = frappe.get_all("User", filters={"name": ("like", f"%@{DEMO_DOMAIN}")}, pluck="name")
	if frappe.db.table_exists("Bank Branch"):
		demo_branches = {code: name for code, name, *_ in generator.BRANCHES}
		for code, branch_name in frappe.get_all("Bank Branch", fields=["name", "branch_name"], as_list=True):
			if demo_branches.get(code) == branch_name:
				frappe.db.delete("Bank Branch Member", {"parent": code, "parenttype": "Bank Branch"})
				frappe.db.delete("Bank Branch", {"name": code})
	for user in users:
		frappe.delete_doc("User", user, ignore_permissions=True, force=True, delete_permanently=True)
	# Frappe keeps the Contact it made for each user (with its search entry): ours go too
	for contact in frappe.get_all(
		"Contact", filters={"email_id": ("like", f"%@{DEMO_DOMAIN}")}, pluck="name"
	):
		frappe.delete_doc("Contact", contact, ignore_permissions=True, force=True, delete_permanently=True)
	flush_search_queue()
	remove_orphan_search_rows()
	frappe.db.commit()
	result = {"customers": len(customers), "profiles": len(profiles), "users": len(users)}
	print(f"bank_crm demo cleared: {result}")
	return result


def _chunks(items, size):
	for i in range(0, len(items), size):
		yield items[i : i + size]
