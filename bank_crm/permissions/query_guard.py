"""Field-level access in list queries: nobody filters, sorts or groups by a field they may not read.

Frappe strips unreadable fields from a list query's SELECT, but applies the caller's filters,
ORDER BY and GROUP BY as given. A user without permission level 1 on the profile could thus
ask for "profiles with annual revenue over 10 M" and learn each one's revenue by bisection,
through any endpoint that lists (``/api/resource``, ``frappe.client.get_list/get_count``, the
report view, group-by counts, sidebar stats, exports, number cards, charts, calendars …).

Every one of them builds its query with ``frappe.model.db_query.DatabaseQuery``, and Frappe has
no hook between the caller's filters and the SQL; so this module wraps that one method,
``DatabaseQuery.build_conditions``, and refuses (403) a query on bank_crm's doctypes or
ERPNext's Customer that names an unreadable field anywhere outside the SELECT. Queries run
with ``ignore_permissions`` (the app's own jobs) are not touched. The wrapper is installed by
the request and job hooks of sites that have bank_crm, and only acts within them.
"""

import frappe
from frappe import _
from frappe.model import child_table_fields, default_fields, optional_fields
from frappe.model.db_query import DatabaseQuery
from frappe.utils.data import get_filter

from bank_crm.core.sqlnames import identifiers

CUSTOMER = "Customer"
_STANDARD = frozenset(f.lower() for f in (*default_fields, *optional_fields, *child_table_fields))
_NO_VALUE = frozenset({"Section Break", "Column Break", "Tab Break", "HTML", "Button", "Heading", "Fold"})


class FieldNotReadableError(frappe.PermissionError):
	pass


def activate():
	"""``before_request`` / ``before_job``: guard this request's list queries."""
	install()
	frappe.local.bank_crm_query_guard = True
	frappe.local.bank_crm_list_noted = False


def install():
	if getattr(DatabaseQuery, "_bank_crm_guarded", False):
		return
	build_conditions = DatabaseQuery.build_conditions
	build_filter_conditions = DatabaseQuery.build_filter_conditions

	def guarded_build_conditions(self):
		if _active(self.flags.ignore_permissions):
			check_sorting(self)
			note_sensitive_list(self)
		return build_conditions(self)

	def guarded_build_filter_conditions(self, filters, conditions, ignore_permissions=None):
		skip = self.flags.ignore_permissions if ignore_permissions is None else ignore_permissions
		if _active(skip):
			check_filters(self, filters)
		return build_filter_conditions(self, filters, conditions, ignore_permissions)

	DatabaseQuery.build_conditions = guarded_build_conditions
	DatabaseQuery.build_filter_conditions = guarded_build_filter_conditions
	DatabaseQuery._bank_crm_guarded = True


def _active(ignore_permissions) -> bool:
	return bool(getattr(frappe.local, "bank_crm_query_guard", False)) and not ignore_permissions


def guarded(doctype: str) -> bool:
	meta = frappe.get_meta(doctype)
	if doctype == CUSTOMER:
		return True
	if meta.istable:
		return any(guarded(parent) for parent in _parents(doctype))
	return meta.module in _our_modules()


def check_filters(query: DatabaseQuery, filters):
	"""A condition written as SQL is refused on every doctype (Frappe pastes it into the WHERE
	clause as it is: a subquery could read any table); on our doctypes and Customer, so is a
	condition on a field the user may not read."""
	conditions = _conditions(filters)
	user = query.user or frappe.session.user
	if any(isinstance(c, str) for c in conditions) and not _trusted(user):
		_refuse(query.doctype, _("a condition written as SQL"))
	doctype = query.doctype
	if not guarded(doctype):
		return
	hidden = unreadable(doctype, user, query.parent_doctype)
	children = {df.options: df for df in frappe.get_meta(doctype).get_table_fields()}
	for condition in conditions:
		if isinstance(condition, str):
			continue
		spec = get_filter(doctype, condition)
		target = spec.doctype or doctype
		names = identifiers(spec.fieldname)
		if target == doctype:
			_assert_readable(doctype, names & hidden)
		elif target in children:
			if children[target].fieldname.lower() in hidden:
				_refuse(doctype, children[target].fieldname)
			_assert_readable(doctype, names & unreadable(target, user, doctype))
		else:
			_assert_readable(doctype, names & unreadable(target, user, None))


def check_sorting(query: DatabaseQuery):
	doctype = query.doctype
	if not guarded(doctype):
		return
	user = query.user or frappe.session.user
	sortable = set(unreadable(doctype, user, query.parent_doctype))
	for df in frappe.get_meta(doctype).get_table_fields():
		sortable |= unreadable(df.options, user, doctype)
	for clause in (query.order_by, query.group_by):
		if isinstance(clause, str):
			_assert_readable(doctype, identifiers(clause) & sortable)


def _trusted(user: str) -> bool:
	return user == "Administrator" or "System Manager" in frappe.get_roles(user)


def unreadable(doctype: str, user: str, parenttype: str | None) -> set[str]:
	"""Lower-cased names of ``doctype``'s fields above the user's read permission levels."""
	cache = _request_cache("unreadable")
	key = (doctype, user, parenttype)
	if key not in cache:
		meta = frappe.get_meta(doctype)
		if meta.istable and not parenttype:
			parenttype = next(iter(_parents(doctype)), None)
		levels = set(meta.get_permlevel_access("read", parenttype=parenttype, user=user))
		cache[key] = {
			df.fieldname.lower()
			for df in meta.fields
			if df.fieldtype not in _NO_VALUE and (df.permlevel or 0) not in levels
		} - _STANDARD
	return cache[key]


def _assert_readable(doctype: str, names: set[str]):
	if names:
		_refuse(doctype, ", ".join(sorted(names)))


def _refuse(doctype: str, what: str):
	frappe.throw(
		_("You may not filter, sort or group {0} by {1}: you cannot read it.").format(_(doctype), what),
		FieldNotReadableError,
		title=_("Not permitted"),
	)


def _conditions(filters):
	if not filters:
		return []
	if isinstance(filters, dict):
		return [{key: value} for key, value in filters.items()]
	if isinstance(filters, list | tuple):
		return list(filters)
	return [filters]


def _request_cache(name: str) -> dict:
	caches = getattr(frappe.local, "bank_crm_guard_cache", None)
	if caches is None:
		caches = frappe.local.bank_crm_guard_cache = {}
	return caches.setdefault(name, {})


def _parents(child: str) -> set[str]:
	cache = _request_cache("parents")
	if child not in cache:
		tables = ("in", ("Table", "Table MultiSelect"))
		cache[child] = set(
			frappe.get_all("DocField", filters={"options": child, "fieldtype": tables}, pluck="parent")
		) | set(frappe.get_all("Custom Field", filters={"options": child, "fieldtype": tables}, pluck="dt"))
	return cache[child]


def _our_modules() -> set[str]:
	cache = _request_cache("modules")
	if "bank_crm" not in cache:
		cache["bank_crm"] = set(frappe.get_module_list("bank_crm"))
	return cache["bank_crm"]


# -- audit: a generic list of profiles with personal fields is a read of customer data -----------
PROFILE = "Bank Customer Profile"
SENSITIVE = frozenset(
	{
		"legal_name",
		"date_of_birth",
		"mobile_no",
		"email_id",
		"wechat_id",
		"app_user_id",
		"occupation",
		"employer",
		"income_band",
		"annual_revenue",
		"total_assets",
		"total_liabilities",
		"net_profit",
		"registered_capital",
	}
)
LIST_ENDPOINTS = frozenset(
	{"frappe.client.get_list", "frappe.desk.reportview.get", "frappe.desk.reportview.get_list"}
)
API_LIST_METHOD = "API list with personal fields"


def note_sensitive_list(query: DatabaseQuery):
	"""A list of profiles through a generic endpoint (REST ``/api/resource``, ``get_list``, the
	report view) that asks for personal fields goes to the Access Log, once per request, with
	the fields and filters."""
	if query.doctype != PROFILE or getattr(frappe.local, "bank_crm_list_noted", False):
		return
	request = getattr(frappe.local, "request", None)
	if request is None:
		return
	generic = request.path.startswith(f"/api/resource/{PROFILE}") or request.path.startswith(
		"/api/resource/Bank%20Customer%20Profile"
	)
	generic = generic or frappe.form_dict.get("cmd") in LIST_ENDPOINTS
	if not generic:
		return
	asked = {name.lower() for field in (query.fields or []) for name in identifiers(str(field))}
	personal = sorted(asked & SENSITIVE)
	if not personal:
		return
	frappe.local.bank_crm_list_noted = True
	from frappe.core.doctype.access_log.access_log import make_access_log

	make_access_log(
		doctype=PROFILE,
		method=API_LIST_METHOD,
		columns=", ".join(personal),
		filters=frappe.as_json(query.filters)[:1000] if query.filters else None,
	)
