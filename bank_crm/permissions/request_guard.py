"""Every request of a relationship manager or branch manager, checked before Frappe routes it.

Frappe and ERPNext have hundreds of whitelisted methods that take a record by name —
``doctype`` + ``name``/``docname``, ``dt`` + ``dn``, ``reference_doctype`` +
``reference_name``, ``party_type`` + ``party``, ``customer`` … — and read it with
``frappe.db`` or ``frappe.get_doc`` without asking our ``has_permission``. Many also answer
differently for a record that exists and one that does not. Instead of wrapping each, this
hook (Frappe's ``auth_hooks``: it runs once the user of the request is known, before the
method) looks at the request's arguments: when one names a row-scoped record that the user
may not read, or that does not exist, the request is refused with one and the same 403 —
so nothing, not even existence, is learnt. The REST document routes
(``/api/resource/<doctype>/<name>``, ``/api/v2/document/...``) get the same answer.

Relationship managers and branch managers work in bank_crm: ERPNext's own whitelisted
methods (accounting, selling, stock, POS …), several of which read customers without any
check, are refused to them, except the few that the Customer form needs (``ERPNEXT_ALLOWED``).
"""

import json

import frappe

from bank_crm.permissions.rows import CHILD_TABLES, row_scoped_doctypes
from bank_crm.permissions.scope import limited_scope, refuse

# (doctype argument, name argument) pairs that name one record, or a list of them
PAIRS = (
	("doctype", "name"),
	("doctype", "docname"),
	("doctype", "doc_name"),
	("doctype", "dn"),
	("doctype", "names"),
	("doctype", "docnames"),
	("dt", "dn"),
	("dt", "docname"),
	("reference_doctype", "reference_name"),
	("reference_doctype", "reference_docname"),
	("ref_doctype", "docname"),
	("ref_doctype", "ref_docname"),
	("link_doctype", "link_name"),
	("document_type", "document_name"),
	("doctype_name", "docname"),
	("party_type", "party"),
	("party_type", "party_name"),
	("ptype", "pty"),
	("ref_doctype", "ref_name"),
	("doctype", "old_name"),
)
# pairs that name a record in one method only
METHOD_PAIRS = {
	"frappe.desk.form.utils.get_next": (("doctype", "value"),),
	"frappe.desk.reportview.delete_items": (("doctype", "items"),),
}
# arguments that name a Customer by themselves
CUSTOMER_ARGS = ("customer", "party")
# arguments that carry whole documents (save, submit, print, run a method on a sent document)
DOC_ARGS = ("doc", "docs")
INSERTS = frozenset({"frappe.client.insert", "frappe.client.insert_many"})

ERPNEXT_ALLOWED = frozenset(
	{
		"erpnext.accounts.utils.get_fiscal_year",  # ERPNext's desk asks for the fiscal year on every page
	}
)

# Frappe methods with no use at a bank's counter that read records past row-level access;
# refused to relationship and branch managers whatever path (alias) reaches them.
DENIED_TO_RESTRICTED = (
	"frappe.utils.goal.get_monthly_goal_graph_data",
	"frappe.model.mapper.map_docs",
	"frappe.desk.treeview.get_all_nodes",
	"frappe.desk.doctype.tag.tag.get_tagged_docs",
	"frappe.email.relink",
	"frappe.core.doctype.sms_settings.sms_settings.get_contact_number",
	"frappe.geo.utils.get_coords",
	"frappe.website.doctype.web_form.web_form.get_form_data",
	"frappe.core.doctype.data_import.data_import.get_preview_from_template",
	"frappe.core.doctype.data_import.data_import.form_start_import",
	"frappe.core.doctype.data_import.data_import.download_errored_template",
	"frappe.core.doctype.data_import.data_import.download_import_log",
	"frappe.core.doctype.data_import.data_import.get_import_status",
	"frappe.core.doctype.user_permission.user_permission.get_user_permissions",
	"frappe.desk.page.user_profile.user_profile.get_energy_points_list",
	"frappe.core.doctype.submission_queue.submission_queue.get_latest_submissions",
)

REST_PREFIXES = ("/api/resource/", "/api/v1/resource/", "/api/v2/document/")


def check():
	"""``auth_hooks`` entry: refuse the request when an argument names a record out of reach."""
	if not getattr(frappe.local, "request", None) or frappe.session.user == "Administrator":
		return
	path = frappe.local.request.path
	if path.startswith(REST_PREFIXES):
		_check_rest(path)
		return
	cmd = _method(path)
	if cmd:
		_check_method(cmd)
	_check_arguments(frappe.form_dict, METHOD_PAIRS.get(cmd, ()), inserting=cmd in INSERTS)


def _check_method(cmd: str):
	"""Methods reached past their override (an alias of the same function), and the methods
	relationship and branch managers may not call at all."""
	function = _function(cmd)
	if function is None:
		return  # Frappe answers an unknown method itself
	overridden = _overridden()
	if function in overridden and cmd not in overridden[function]:
		refuse()
	if limited_scope() is not None:
		if cmd.startswith("erpnext.") and cmd not in ERPNEXT_ALLOWED:
			refuse()
		if function in _denied_functions():
			refuse()


def _function(cmd: str):
	"""The function a method path names, found as Frappe's handler finds it (a dotless name is one
	of ``frappe.handler``'s own, e.g. ``ping``), without queueing Frappe's "App … is not
	installed" message for a path that names nothing."""
	if "." not in cmd:
		from frappe import handler

		return getattr(handler, cmd, None)
	if cmd.split(".", 1)[0] not in frappe.get_installed_apps():
		return None
	try:
		return frappe.get_attr(cmd)
	except Exception:
		return None


def _overridden() -> dict:
	"""The original functions that an app overrides, each with the paths that reach the override."""
	found = getattr(frappe.local, "bank_crm_overridden", None)
	if found is None:
		found = {}
		for path in frappe.get_hooks("override_whitelisted_methods", {}):
			function = _function(path)
			if function is not None:
				found.setdefault(function, set()).add(path)
		frappe.local.bank_crm_overridden = found
	return found


def _denied_functions() -> set:
	return {f for f in map(_function, DENIED_TO_RESTRICTED) if f is not None}


def readable(doctype: str, name) -> bool:
	if not isinstance(name, str) or not name or not frappe.db.exists(doctype, name):
		return False
	parent = CHILD_TABLES.get(doctype) and frappe.db.get_value(doctype, name, ["parenttype", "parent"])
	if parent:
		return readable(parent[0], parent[1])
	return _listed(doctype, name)


def _listed(doctype: str, name: str) -> bool:
	"""Read access by the list's rules — role, row-level scope (the criterion ``has_permission``
	applies too), user permissions, shares — in one query, without loading the whole document
	(ERPNext's Customer with its child tables took 30 ms)."""
	try:
		return bool(frappe.get_list(doctype, filters={"name": name}, pluck="name", limit_page_length=1))
	except frappe.PermissionError:
		return False


def require(doctype: str, name):
	if not readable(doctype, name) and not _unsaved(doctype, name):
		refuse()


def _unsaved(doctype: str, name) -> bool:
	"""The desk's name for a form not saved yet ("new", "new-bank-service-request-1"): Frappe
	answers it as it answers any missing record, and a series-named record never has it."""
	if not isinstance(name, str):
		return False
	return name == "new" or name.startswith("new-" + frappe.scrub(doctype).replace("_", "-") + "-")


def row_scoped(doctype) -> str | None:
	"""The canonical name of a row-scoped doctype that ``doctype`` spells (MariaDB compares names
	case-insensitively and ignores trailing spaces), else None."""
	if not isinstance(doctype, str):
		return None
	return _scoped_names().get(doctype.strip().lower())


def _scoped_names() -> dict[str, str]:
	return {d.lower(): d for d in (*row_scoped_doctypes(), *CHILD_TABLES)}


def _check_rest(path: str):
	for prefix in REST_PREFIXES:
		if path.startswith(prefix):
			parts = path[len(prefix) :].split("/", 1)
			break
	if len(parts) < 2 or not parts[1].strip("/"):
		return  # a list: row-level conditions and the query guard apply
	from urllib.parse import unquote

	doctype = row_scoped(unquote(parts[0]))
	if doctype:
		name = unquote(parts[1].split("/method/", 1)[0].rstrip("/"))
		require(doctype, name)


def _method(path: str) -> str | None:
	for prefix in ("/api/method/", "/api/v1/method/", "/api/v2/method/"):
		if path.startswith(prefix):
			rest = path[len(prefix) :].strip("/")
			return rest.replace("/", ".") if rest else None
	return frappe.form_dict.get("cmd")


def _check_arguments(args, extra_pairs=(), inserting=False):
	for dt_arg, name_arg in (*PAIRS, *extra_pairs):
		if dt_arg not in args or name_arg not in args:
			continue
		doctype = row_scoped(args.get(dt_arg))
		if doctype:
			for name in _names(args.get(name_arg)):
				require(doctype, name)
	for arg in DOC_ARGS:
		for doc in _documents(args.get(arg)):
			doctype = row_scoped(doc.get("doctype"))
			name = doc.get("name")
			if doctype and name and not doc.get("__islocal") and not inserting:
				require(doctype, name)
	for arg in CUSTOMER_ARGS:
		value = args.get(arg)
		if value and arg == "party" and "party_type" in args:
			continue  # judged as a pair above
		if value:
			for name in _names(value):
				require("Customer", name)


def _documents(value) -> list[dict]:
	if isinstance(value, str):
		try:
			value = json.loads(value)
		except ValueError:
			return []
	if isinstance(value, dict):
		return [value]
	if isinstance(value, list):
		return [d for d in value if isinstance(d, dict)]
	return []


def _names(value) -> list:
	"""One name, or a JSON list of names as the desk sends them."""
	if isinstance(value, str):
		text = value.strip()
		if text.startswith("["):
			try:
				value = json.loads(text)
			except ValueError:
				return [value]
		else:
			return [value]
	if isinstance(value, list | tuple):
		return [v if isinstance(v, str) else json.dumps(v) for v in value]
	return [value]
