"""Row-level access on records: an RM sees own customers, a branch manager the branch, head
office all — the one scope (``permissions.scope``) turned into both a list condition
(``permission_query_conditions``) and a document check (``has_permission``), wired per doctype
in hooks.py. Records that hang off a customer use the same scope through the columns that
carry the customer's RM and branch; child tables through their parent record; Frappe's own
tables that point at records (links, tags, files, follows) through the record they point at.
"""

import frappe

from bank_crm.core.access import Scope, allows
from bank_crm.permissions.scope import limited_scope

PROFILE = "Bank Customer Profile"


def scope_condition(scope: Scope | None, table: str, rm_column: str, branch_column: str) -> str:
	"""SQL for ``permission_query_conditions`` of a limited scope ('' for None), values escaped."""
	if scope is None:
		return ""
	parts = []
	if scope.rm_user:
		parts.append(f"`tab{table}`.`{rm_column}` = {frappe.db.escape(scope.rm_user)}")
	if scope.branches:
		branches = ", ".join(frappe.db.escape(b) for b in scope.branches)
		parts.append(f"`tab{table}`.`{branch_column}` in ({branches})")
	return "(" + " or ".join(parts) + ")" if parts else "1=0"


def doc_allowed(doc, ptype: str, user: str | None, rm_field: str, branch_field: str):
	"""``has_permission`` result: False outside the scope, None (defer to roles) inside it.

	A document the caller sends (``set_value``, ``savedocs``, ``run_doc_method``) carries the
	values the caller chose; for a stored record the stored owner must be in scope too, so
	that nobody moves another portfolio's record into their own by writing its RM or branch.
	"""
	scope = limited_scope(user)
	if scope is None:
		return None
	if ptype == "create" and not doc.get(rm_field) and not doc.get(branch_field):
		return None
	stored = _stored(doc, (rm_field, branch_field))
	if stored is not None and not allows(scope, stored[0], stored[1]):
		return False
	return None if allows(scope, doc.get(rm_field), doc.get(branch_field)) else False


def _stored(doc, fields):
	"""The stored values of ``fields`` of ``doc``, or None for a record not in the database."""
	if doc.get("__islocal") or not doc.get("name") or getattr(doc, "is_new", lambda: False)():
		return None
	row = frappe.db.get_value(doc.doctype, doc.name, list(fields), as_dict=True)
	return tuple(row[f] for f in fields) if row else None


def profile_query_conditions(user=None, doctype=None):
	return scope_condition(limited_scope(user), PROFILE, "relationship_manager", "branch")


def profile_has_permission(doc, ptype=None, user=None, debug=False):
	return doc_allowed(doc, ptype, user, "relationship_manager", "branch")


def customer_query_conditions(user=None, doctype=None):
	return scope_condition(limited_scope(user), "Customer", "bank_relationship_manager", "bank_branch")


def customer_has_permission(doc, ptype=None, user=None, debug=False):
	return doc_allowed(doc, ptype, user, "bank_relationship_manager", "bank_branch")


# -- records that hang off a customer -----------------------------------------------------
# doctype → (link field, linked doctype, its RM column, its branch column)
LINKED = {
	"Bank Financial Snapshot": ("customer", "Customer", "bank_relationship_manager", "bank_branch"),
	"Bank Tier History": ("profile", PROFILE, "relationship_manager", "branch"),
	"Bank Lifecycle History": ("profile", PROFILE, "relationship_manager", "branch"),
	"Bank Tier Override": ("profile", PROFILE, "relationship_manager", "branch"),
	"Bank Outbound Message": ("customer", "Customer", "bank_relationship_manager", "bank_branch"),
	"Bank Service Request": ("customer", "Customer", "bank_relationship_manager", "bank_branch"),
	"Bank Complaint": ("customer", "Customer", "bank_relationship_manager", "bank_branch"),
	"Bank Escalation Log": ("customer", "Customer", "bank_relationship_manager", "bank_branch"),
	"Bank Activity Event": ("customer", "Customer", "bank_relationship_manager", "bank_branch"),
	"Bank Product Holding": ("customer", "Customer", "bank_relationship_manager", "bank_branch"),
	"Bank Data Subject Request": ("customer", "Customer", "bank_relationship_manager", "bank_branch"),
}


def linked_query_conditions(user=None, doctype=None):
	link, target, rm_column, branch_column = LINKED[doctype]
	inner = scope_condition(limited_scope(user), target, rm_column, branch_column)
	if not inner:
		return ""
	return f"`tab{doctype}`.`{link}` in (select `tab{target}`.`name` from `tab{target}` where {inner})"


def linked_has_permission(doc, ptype=None, user=None, debug=False):
	scope = limited_scope(user)
	if scope is None:
		return None
	link, target, rm_column, branch_column = LINKED[doc.doctype]
	if not doc.get(link):
		return None if ptype == "create" else False
	stored = _stored(doc, (link,))
	links = {doc.get(link)} | ({stored[0]} if stored and stored[0] else set())
	for name in links:
		owner = frappe.db.get_value(target, name, [rm_column, branch_column])
		if not owner or not allows(scope, owner[0], owner[1]):
			return False
	return None


# -- records that carry the customer's RM and branch themselves -----------------------------
# doctype → (its RM column, its branch column); kept in step with the customer by the jobs
DIRECT = {
	"Bank Visit Plan": ("relationship_manager", "branch"),
	"Bank Interaction": ("relationship_manager", "branch"),
	"Bank Care Event": ("relationship_manager", "branch"),
	"Bank Need Signal": ("relationship_manager", "branch"),
	"Bank Broadcast Recipient": ("relationship_manager", "branch"),
	"Bank Prediction Score": ("relationship_manager", "branch"),
}


def direct_query_conditions(user=None, doctype=None):
	rm_column, branch_column = DIRECT[doctype]
	return scope_condition(limited_scope(user), doctype, rm_column, branch_column)


def direct_has_permission(doc, ptype=None, user=None, debug=False):
	rm_column, branch_column = DIRECT[doc.doctype]
	return doc_allowed(doc, ptype, user, rm_column, branch_column)


# -- child tables of row-scoped records --------------------------------------------------
# Frappe checks a child table's rows against the parent DocType only, not the parent record:
# without these, a list of Bank Consent Record (parent = profile) showed every customer's rows.
CHILD_TABLES = {
	"Bank Shareholder": (PROFILE,),
	"Bank Financing Need": (PROFILE,),
	"Bank Verification Check": (PROFILE,),
	"Bank Consent Record": (PROFILE,),
	"Bank Plan Override": (PROFILE,),
	"Bank Product Maturity": (PROFILE,),
	"Bank Interaction Follow-up": ("Bank Interaction",),
	"Bank Request Task": ("Bank Service Request",),
	"Bank Request Update": ("Bank Service Request",),
	"Bank Rectification Action": ("Bank Complaint",),
	# a broadcast's segment: its tiers, branches, RMs, products and filters
	**{
		child: ("Bank Broadcast",)
		for child in (
			"Bank Broadcast Tier",
			"Bank Broadcast Branch",
			"Bank Broadcast RM",
			"Bank Broadcast Product",
			"Bank Broadcast Filter",
		)
	},
}


def record_condition(doctype: str, user=None) -> str:
	"""The row-level condition of a row-scoped doctype over ``tab<doctype>`` ('' = all rows)."""
	if doctype == PROFILE:
		return profile_query_conditions(user, doctype)
	if doctype == "Customer":
		return customer_query_conditions(user, doctype)
	if doctype in LINKED:
		return linked_query_conditions(user, doctype)
	if doctype == "Opportunity":
		return opportunity_query_conditions(user, doctype)
	if doctype == BROADCAST:
		return broadcast_query_conditions(user, doctype)
	return direct_query_conditions(user, doctype)


def _records_in(table: str, dt_column: str, name_column: str, doctype: str, condition: str) -> str:
	return (
		f"(`tab{table}`.`{dt_column}` = {frappe.db.escape(doctype)} and `tab{table}`.`{name_column}` in "
		f"(select `tab{doctype}`.`name` from `tab{doctype}` where {condition}))"
	)


def child_query_conditions(user=None, doctype=None):
	parts = []
	for parent in CHILD_TABLES[doctype]:
		condition = record_condition(parent, user)
		if not condition:
			return ""
		parts.append(_records_in(doctype, "parenttype", "parent", parent, condition))
	return "(" + " or ".join(parts) + ")"


# -- Frappe's generic tables that point at records -----------------------------------------
# table → (doctype column, name column): an RM lists only rows about records they may read.
REFERRING_TABLES = {
	"Communication Link": ("link_doctype", "link_name"),
	"Dynamic Link": ("link_doctype", "link_name"),
	"Tag Link": ("document_type", "document_name"),
	"File": ("attached_to_doctype", "attached_to_name"),
	"Document Follow": ("ref_doctype", "ref_docname"),
}


def row_scoped_doctypes() -> tuple[str, ...]:
	return (PROFILE, "Customer", *LINKED, *DIRECT, "Opportunity", BROADCAST)


# rows of these never carry files, tags, follows or timeline links; a subquery over them per list
# of Frappe's tables would cost more than it shows (such a row, if any, stays hidden)
NOT_REFERRED = frozenset({"Bank Activity Event", "Bank Financial Snapshot"})


def referring_query_conditions(user=None, doctype=None):
	if limited_scope(user) is None:
		return ""
	dt_column, name_column = REFERRING_TABLES[doctype]
	scoped = row_scoped_doctypes()
	listed = ", ".join(frappe.db.escape(d) for d in scoped)
	parts = [f"ifnull(`tab{doctype}`.`{dt_column}`, '') not in ({listed})"]
	parts += [
		_records_in(doctype, dt_column, name_column, d, record_condition(d, user) or "1=1")
		for d in scoped
		if d not in NOT_REFERRED
	]
	return "(" + " or ".join(parts) + ")"


# -- ERPNext's Opportunity, for opportunities made from need signals -----------------------------
def opportunity_query_conditions(user=None, doctype=None):
	inner = customer_query_conditions(user, "Customer")
	if not inner:
		return ""
	return (
		"(`tabOpportunity`.`opportunity_from` = 'Customer' and `tabOpportunity`.`party_name` in "
		f"(select `tabCustomer`.`name` from `tabCustomer` where {inner}))"
	)


def opportunity_has_permission(doc, ptype=None, user=None, debug=False):
	scope = limited_scope(user)
	if scope is None:
		return None
	stored = _stored(doc, ("opportunity_from", "party_name"))
	for source, party in filter(None, (stored, (doc.get("opportunity_from"), doc.get("party_name")))):
		if source != "Customer" or not party:
			return False
		owner = frappe.db.get_value("Customer", party, ["bank_relationship_manager", "bank_branch"])
		if not owner or not allows(scope, owner[0], owner[1]):
			return False
	return None


# -- broadcasts: a relationship or branch manager sees the broadcasts they wrote -----------------
BROADCAST = "Bank Broadcast"


def broadcast_query_conditions(user=None, doctype=None):
	if limited_scope(user) is None:
		return ""
	return f"`tab{BROADCAST}`.`owner` = {frappe.db.escape(user or frappe.session.user)}"


def broadcast_has_permission(doc, ptype=None, user=None, debug=False):
	if limited_scope(user) is None or ptype == "create":
		return None
	owner = doc.get("owner") if doc.get("__islocal") else frappe.db.get_value(BROADCAST, doc.name, "owner")
	return None if owner == (user or frappe.session.user) else False
