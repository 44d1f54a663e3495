"""Frappe's generic read methods that skip row-level access, routed through ones that apply it.

Each replaces a whitelisted method of Frappe (``override_whitelisted_methods`` in hooks.py)
with the same signature. Where Frappe's version counts, looks up or searches with
``frappe.db`` or ``ignore_permissions``, this one asks ``frappe.get_list`` — so the
``permission_query_conditions`` of bank_crm (an RM's own customers, a branch manager's
branch) and the field-level query guard apply — and otherwise calls Frappe's own code.
"""

import inspect

import frappe
import frappe.client
import frappe.desk.calendar
import frappe.desk.doctype.dashboard_chart.dashboard_chart
import frappe.desk.doctype.event.event
import frappe.desk.query_report
import frappe.desk.reportview
import frappe.desk.search
import frappe.realtime
from frappe import _
from frappe.core.doctype.data_export import exporter
from frappe.core.doctype.data_import import data_import
from frappe.utils import get_safe_filters

from bank_crm.permissions import limits
from bank_crm.permissions.query_guard import _trusted, guarded
from bank_crm.permissions.request_guard import ERPNEXT_ALLOWED, row_scoped
from bank_crm.permissions.scope import limited_scope, refuse
from bank_crm.utils.arguments import bad_argument, json_value


@frappe.whitelist()
def get_count(doctype: str, filters=None, debug=False, cache=False, parent: str | None = None) -> int:
	"""``frappe.client.get_count``: Frappe's counts every row with ``frappe.db.count``."""
	filters = get_safe_filters(filters)
	if isinstance(filters, str):
		filters = {"name": filters}
	if frappe.is_table(doctype) and not parent:
		bad_argument("parent", _("the parent DocType is required to count rows of a child table"))
	rows = frappe.get_list(
		doctype,
		filters=filters or None,
		fields=["count(*) as total_count"],
		parent_doctype=parent,
		order_by=None,
	)
	return rows[0].total_count if rows else 0


@frappe.whitelist()
def get(doctype: str, name: str | None = None, filters=None, parent: str | None = None):
	"""``frappe.client.get``: Frappe's finds the record for ``filters`` ignoring permissions and
	field levels (existence and values by bisection); here the lookup is a permitted list."""
	if not name and filters and guarded(doctype):
		names = frappe.get_list(
			doctype, filters=json_value(filters, "filters"), pluck="name", limit=1, parent_doctype=parent
		)
		if not names:
			refuse()
		name, filters = names[0], None
	return frappe.client.get(doctype, name=name, filters=filters, parent=parent)


@frappe.whitelist()
def get_group_by_count(doctype: str, current_filters: str, field: str) -> list[dict]:
	"""``frappe.desk.listview.get_group_by_count`` (the list sidebar): Frappe's "assigned to"
	counts select the records with a query builder that applies no permission at all."""
	filters = json_value(current_filters, "current_filters")
	if field == "assigned_to":
		records = frappe.get_list(doctype, filters=filters, fields=["name"], order_by=None, run=0)
		return frappe.db.sql(
			f"""select t.allocated_to as name, count(*) as count
			from `tabToDo` t join `tabUser` u on u.name = t.allocated_to
			where t.status != 'Cancelled' and u.user_type = 'System User'
				and t.reference_type = %(doctype)s and t.reference_name in ({records})
			group by t.allocated_to order by count desc limit 50""",
			{"doctype": doctype},
			as_dict=True,
		)
	from frappe.model import is_default_field

	if not frappe.get_meta(doctype).has_field(field) and not is_default_field(field):
		bad_argument("field", _("{0} is not a field of {1}").format(field, doctype))
	return frappe.get_list(
		doctype,
		filters=filters,
		group_by=f"`tab{doctype}`.`{field}`",
		fields=["count(*) as count", f"`{field}` as name"],
		order_by="count desc",
		limit=50,
	)


def _search_arguments(doctype, query, ignore_user_permissions):
	"""Frappe turns ``ignore_user_permissions`` into ``ignore_permissions`` (every row of the
	table) and calls a ``query`` method by path, past ``override_whitelisted_methods``."""
	if row_scoped(doctype):
		ignore_user_permissions = False
	if query:
		overrides = frappe.get_hooks("override_whitelisted_methods", {}).get(query)
		query = overrides[-1] if overrides else query
		if limited_scope() is not None and query.startswith("erpnext.") and query not in ERPNEXT_ALLOWED:
			refuse()
	return query, ignore_user_permissions


@frappe.whitelist()
def search_link(
	doctype: str,
	txt: str,
	query: str | None = None,
	filters: str | dict | list | None = None,
	page_length: int = 10,
	searchfield: str | None = None,
	reference_doctype: str | None = None,
	ignore_user_permissions: bool = False,
):
	query, ignore_user_permissions = _search_arguments(doctype, query, ignore_user_permissions)
	return frappe.desk.search.search_link(
		doctype,
		txt,
		query=query,
		filters=filters,
		page_length=page_length,
		searchfield=searchfield,
		reference_doctype=reference_doctype,
		ignore_user_permissions=ignore_user_permissions,
	)


@frappe.whitelist()
def search_widget(
	doctype: str,
	txt: str,
	query: str | None = None,
	searchfield: str | None = None,
	start: int = 0,
	page_length: int = 10,
	filters: str | None | dict | list = None,
	filter_fields=None,
	as_dict: bool = False,
	reference_doctype: str | None = None,
	ignore_user_permissions: bool = False,
):
	query, ignore_user_permissions = _search_arguments(doctype, query, ignore_user_permissions)
	return frappe.desk.search.search_widget(
		doctype,
		txt,
		query=query,
		searchfield=searchfield,
		start=start,
		page_length=page_length,
		filters=filters,
		filter_fields=filter_fields,
		as_dict=as_dict,
		reference_doctype=reference_doctype,
		ignore_user_permissions=ignore_user_permissions,
	)


@frappe.whitelist()
def dashboard_chart(
	chart_name=None,
	chart=None,
	no_cache=None,
	filters=None,
	from_date=None,
	to_date=None,
	timespan=None,
	time_interval=None,
	heatmap_year=None,
	refresh=None,
):
	"""``dashboard_chart.get``: Frappe's computes an unsaved chart sent by the caller (a heatmap
	reads any field of any table without permissions) and serves saved charts from one cache
	shared by every user. Here unsaved charts are for System Managers, and a chart on bank data
	is computed for the user who asks."""
	args = dict(
		chart_name=chart_name,
		chart=chart,
		no_cache=no_cache,
		filters=filters,
		from_date=from_date,
		to_date=to_date,
		timespan=timespan,
		time_interval=time_interval,
		heatmap_year=heatmap_year,
		refresh=refresh,
	)
	get = frappe.desk.doctype.dashboard_chart.dashboard_chart.get
	if _trusted(frappe.session.user):
		return get(**args)
	if not chart_name:
		frappe.throw(_("Only a System Manager may preview an unsaved chart."), frappe.PermissionError)
	doc = frappe.get_doc("Dashboard Chart", chart_name)
	doc.check_permission("read")
	if doc.document_type and guarded(doc.document_type):
		if doc.type == "Heatmap":
			frappe.throw(_("Heatmap charts of bank data are for System Managers."), frappe.PermissionError)
		return inspect.unwrap(get)(
			**{k: v for k, v in args.items() if k not in ("chart", "no_cache", "refresh")}
		)
	return get(**args)


@frappe.whitelist()
def event_list(start, end, user=None, for_reminder=False, filters=None):
	"""``event.get_events``: Frappe's lists the private events of any ``user`` it is given."""
	return frappe.desk.doctype.event.event.get_events(
		start, end, user=frappe.session.user, for_reminder=for_reminder, filters=filters
	)


@frappe.whitelist()
def calendar_events(doctype, start, end, field_map, filters=None, fields=None):
	"""``frappe.desk.calendar.get_events``: Frappe's writes the ``field_map`` values into the
	query as they come; here each must be a field of the doctype."""
	mapping = json_value(field_map, "field_map")
	if not isinstance(mapping, dict):
		bad_argument("field_map", _("send an object of field names"))
	from frappe.model import default_fields

	meta = frappe.get_meta(doctype)
	for key in ("start", "end", "title"):  # the ones Frappe writes into the query
		fieldname = mapping.get(key)
		if fieldname and not (
			isinstance(fieldname, str) and (meta.has_field(fieldname) or fieldname in default_fields)
		):
			bad_argument("field_map", _("{0}: {1} is not a field of {2}").format(key, fieldname, doctype))
	return frappe.desk.calendar.get_events(doctype, start, end, field_map, filters=filters, fields=fields)


@frappe.whitelist()
@frappe.read_only()
def run_report(
	report_name,
	filters=None,
	user=None,
	ignore_prepared_report=False,
	custom_columns=None,
	is_tree=False,
	parent_field=None,
	are_default_filters=True,
):
	"""``query_report.run``: Frappe's trusts the ``user`` it is given and opens any prepared
	report named in the filters."""
	parsed = json_value(filters, "filters") if filters else None
	if isinstance(parsed, dict) and parsed.get("prepared_report_name"):
		prepared = frappe.get_doc("Prepared Report", parsed["prepared_report_name"])
		if not _trusted(frappe.session.user) and prepared.owner != frappe.session.user:
			refuse()
	result = frappe.desk.query_report.run(
		report_name,
		filters=filters,
		user=frappe.session.user,
		ignore_prepared_report=ignore_prepared_report,
		custom_columns=custom_columns,
		is_tree=is_tree,
		parent_field=parent_field,
		are_default_filters=are_default_filters,
	)
	if isinstance(result, dict):  # which database server answered (the replica, when the site has one)
		from bank_crm.utils.servers import served_by

		result["served_by"] = served_by()
	return result


@frappe.whitelist(allow_guest=True)
def can_subscribe_doctype(doctype: str) -> bool:
	"""``frappe.realtime.can_subscribe_doctype``: the list room of a doctype announces every
	changed record's name; relationship and branch managers do not join it for bank records."""
	if limited_scope() is not None and row_scoped(doctype):
		raise frappe.PermissionError
	return frappe.realtime.can_subscribe_doctype(doctype)


# -- exports of customer data: Frappe's rate limiter per user ------------------------------------


def _count_export(doctype):
	if doctype and guarded(doctype):
		limits.check_export()


@frappe.whitelist()
def export_report_view():
	"""``frappe.desk.reportview.export_query`` (Report View → Export)."""
	_count_export(frappe.form_dict.get("doctype"))
	return frappe.desk.reportview.export_query()


@frappe.whitelist()
def export_report():
	"""``frappe.desk.query_report.export_query`` (a report's Export)."""
	report = frappe.form_dict.get("report_name")
	ref_doctype = report and frappe.get_cached_value("Report", report, "ref_doctype")
	_count_export(ref_doctype)
	from frappe.core.doctype.access_log.access_log import make_access_log

	# Frappe records Report View, Data Export and print exports in the Access Log; not this one
	make_access_log(
		doctype=ref_doctype,
		report_name=report,
		file_type=frappe.form_dict.get("file_format_type"),
		filters=frappe.form_dict.get("filters"),
		method="Report Export",
	)
	return frappe.desk.query_report.export_query()


@frappe.whitelist()
def export_data(
	doctype=None,
	parent_doctype=None,
	all_doctypes=True,
	with_data=False,
	select_columns=None,
	file_type="CSV",
	template=False,
	filters=None,
	export_without_column_meta=False,
):
	"""Data Export: Frappe's checks the export right on ``parent_doctype`` only."""
	for name in {doctype, parent_doctype} - {None, ""}:
		if isinstance(name, str):
			frappe.permissions.can_export(name, raise_exception=True)
	if frappe.utils.cint(with_data):
		_count_export(parent_doctype or doctype)
	return exporter.export_data(
		doctype=doctype,
		parent_doctype=parent_doctype,
		all_doctypes=all_doctypes,
		with_data=with_data,
		select_columns=select_columns,
		file_type=file_type,
		template=template,
		filters=filters,
		export_without_column_meta=export_without_column_meta,
	)


@frappe.whitelist()
def download_template(doctype, export_fields=None, export_records=None, export_filters=None, file_type="CSV"):
	"""Data Import's template download, which exports records when asked to."""
	if export_records and export_records != "blank_template":
		frappe.permissions.can_export(doctype, raise_exception=True)
		_count_export(doctype)
	return data_import.download_template(
		doctype,
		export_fields=export_fields,
		export_records=export_records,
		export_filters=export_filters,
		file_type=file_type,
	)
