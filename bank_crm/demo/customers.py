"""Demo customers, set-based: profiles with their child rows and monthly financial snapshots,
written with one multi-row INSERT per chunk per table, and removed again.

Customers, profiles and their rows are generated in ``bank_crm.demo.generator``: a million
customers load in minutes, not the half-day a save loop would take. They are named
``DEMO-C-…``; their branches and RMs come from ``bank_crm.demo.staff``.
"""

from datetime import date

import frappe
from frappe.utils import getdate, now_datetime
from frappe.utils.password import encrypt

from bank_crm.bank_customer.privacy import id_fingerprint
from bank_crm.bank_customer.verification import interval_years
from bank_crm.core import identity, profile, verification
from bank_crm.demo import generator, staff
from bank_crm.demo.base import CHUNK, CUSTOMER_PREFIX, PROFILE
from bank_crm.utils.bulk import insert_rows, reserve_series
from bank_crm.utils.traces import remove_traces


def load(count: int, seed: int = 42, chunk: int = CHUNK, today: date | None = None, months: int = 6) -> int:
	"""Add ``count`` demo customers (and the branches and staff, once) with ``months`` of monthly
	financial snapshots; returns how many were added."""
	today = today or getdate()
	staff.make_branches_and_staff()
	groups = _customer_groups()
	territory = _territory()
	intervals = interval_years()
	start = _next_demo_seq()
	made = 0
	while made < count:
		batch = generator.customers(min(chunk, count - made), start=start + made, seed=seed, today=today)
		_write_batch(batch, groups, territory, intervals, today, months, seed)
		made += len(batch)
		frappe.db.commit()  # commit per chunk: a long load survives a crash with whole chunks only
	return made


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


# -- removal ------------------------------------------------------------------------------------
def clear() -> dict:
	"""Remove every demo customer: its profile with the profile's rows and histories, its
	snapshots and what Frappe keeps about both."""
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
	return {"customers": len(customers), "profiles": len(profiles)}


def _chunks(items, size):
	for i in range(0, len(items), size):
		yield items[i : i + size]
