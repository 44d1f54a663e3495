"""Demo customers, set-based: profiles with their child rows and monthly financial snapshots,
written with one multi-row INSERT per chunk per table, and removed again.

Customers, profiles and their rows are generated in ``bank_crm.demo.generator``: a million
customers load in minutes, not the half-day a save loop would take. They are named
``DEMO-C-…``; their branches and RMs come from ``bank_crm.demo.staff``.
"""

from dataclasses import dataclass, field
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

# a profile's child tables: parentfield -> doctype, in the order they are written
CHILD_DOCTYPES = {
	"shareholders": "Bank Shareholder",
	"financing_needs": "Bank Financing Need",
	"verification_checks": "Bank Verification Check",
	"consents": "Bank Consent Record",
}


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


# -- one batch: build the rows of every table, then write them -------------------------------------
@dataclass
class BatchRows:
	customers: list = field(default_factory=list)
	profiles: list = field(default_factory=list)
	children: dict = field(default_factory=lambda: {parentfield: [] for parentfield in CHILD_DOCTYPES})
	snapshots: list = field(default_factory=list)
	auth: list = field(default_factory=list)  # (doctype, name, fieldname, encrypted password, 1)


def _write_batch(batch, groups, territory, intervals, today: date, months: int = 0, seed: int = 42):
	now = now_datetime()
	_insert_batch(_batch_rows(batch, groups, territory, intervals, today, months, seed), now)


def _batch_rows(batch, groups, territory, intervals, today: date, months: int, seed: int) -> BatchRows:
	first = reserve_series("BCP-", len(batch)) + 1
	industries = set(frappe.get_all("Industry Type", pluck="name"))
	rows = BatchRows()
	for offset, c in enumerate(batch):
		customer = f"{CUSTOMER_PREFIX}{c.seq:07d}"
		name = f"BCP-{first + offset:07d}"
		row = _profile_row(c, name, customer, intervals, today, seed)
		rows.snapshots += _snapshot_rows(c, customer, months, today, seed)
		if c.profile_type == verification.INDIVIDUAL:
			row.update(_individual_fields(c, today))
			rows.auth.append((PROFILE, name, "id_number", encrypt(c.values["id_number"]), 1))
		else:
			row.update(_company_fields(c, industries))
		rows.profiles.append(row)
		rows.customers.append(_customer_row(c, customer, name, groups, territory))
		for parentfield, children in _child_rows(c, name).items():
			rows.children[parentfield] += children
	return rows


def _profile_row(c, name: str, customer: str, intervals, today: date, seed: int) -> dict:
	checks = [
		verification.Check(r["check_type"], r["result"], r["checked_on"], r["source"]) for r in c.checks
	]
	state = verification.derive(c.profile_type, checks, c.risk_level, today, intervals)
	return {
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
		**c.values,
	}


def _snapshot_rows(c, customer: str, months: int, today: date, seed: int) -> list[dict]:
	snapshots = []
	for snap in generator.snapshot_history(c, months, today, seed):
		snap["customer"] = customer
		snap["customer_name"] = c.customer_name
		snap["name"] = frappe.generate_hash(length=12)
		snapshots.append(snap)
	return snapshots


def _individual_fields(c, today: date) -> dict:
	"""The ID number masked, fingerprinted and stored apart (encrypted, in ``__Auth``), and the
	risk assessment's expiry."""
	v = c.values
	number = v["id_number"]
	assessment = profile.assess_risk_tolerance(v["risk_tolerance"], v["risk_assessment_date"], today)
	return {
		"id_number": "*" * len(number),
		"id_number_masked": identity.mask(number),
		"id_number_hash": id_fingerprint(v["id_type"], number),
		"risk_assessment_expires_on": assessment.expires_on,
		"risk_assessment_expired": int(bool(v["risk_tolerance"]) and assessment.expired),
	}


def _company_fields(c, industries: set) -> dict:
	v = c.values
	return {
		"industry": v["industry"] if v["industry"] in industries else None,
		"total_shareholding": profile.check_shareholdings(
			[s["shareholding_percent"] for s in c.shareholders]
		),
		"debt_to_asset_ratio": profile.debt_to_asset_ratio(v["total_assets"], v["total_liabilities"]),
	}


def _customer_row(c, customer: str, name: str, groups: dict, territory) -> dict:
	return {
		"name": customer,
		"customer_name": c.customer_name,
		"customer_type": c.customer_type,
		"customer_group": groups[c.customer_type],
		"territory": territory,
		"bank_profile": name,
		"bank_relationship_manager": c.relationship_manager,
		"bank_branch": c.branch,
	}


def _child_rows(c, name: str) -> dict[str, list[dict]]:
	children = {}
	for parentfield, rows in (
		("shareholders", c.shareholders),
		("financing_needs", c.financing_needs),
		("verification_checks", c.checks),
		("consents", c.consents),
	):
		extra = {"recorded_by": c.relationship_manager} if parentfield == "consents" else {}
		children[parentfield] = [
			{
				"parent": name,
				"parentfield": parentfield,
				"parenttype": PROFILE,
				"idx": idx,
				**child,
				**extra,
			}
			for idx, child in enumerate(rows, start=1)
		]
	return children


def _insert_batch(rows: BatchRows, now):
	common = {
		"owner": "Administrator",
		"modified_by": "Administrator",
		"creation": now,
		"modified": now,
		"docstatus": 0,
	}
	insert_rows("Customer", rows.customers, common)
	insert_rows(PROFILE, rows.profiles, common)
	for parentfield, children in rows.children.items():
		for row in children:
			row["name"] = frappe.generate_hash(length=12)
		insert_rows(CHILD_DOCTYPES[parentfield], children, common)
	insert_rows("Bank Financial Snapshot", rows.snapshots, common)
	if rows.auth:
		insert_rows(
			"__Auth",
			[
				dict(zip(("doctype", "name", "fieldname", "password", "encrypted"), a, strict=False))
				for a in rows.auth
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
			for child in CHILD_DOCTYPES.values():
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
