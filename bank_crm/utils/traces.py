"""What records leave in Frappe's own tables, removed with them.

A customer or a bank record is referred to from Frappe's generic tables: tasks, comments,
versions, timeline communications, notifications, workflow actions, shares, follows, tags,
files, error and activity logs, queued e-mails, deleted-document copies and the global-search
index. Deleting the record's own row with SQL leaves all of these behind, holding names,
e-mail addresses and text about the customer. ``remove_traces`` takes them away, in chunks,
for every record of some doctypes (uninstall) or for some records of one doctype (demo clear).
Access Log entries are kept on purpose: they are the audit trail of who read what.
"""

import os

import frappe

from bank_crm.utils.bulk import in_list, literal

CHUNK = 5_000

# table → (doctype column, name column)
REFERENCES = {
	"ToDo": ("reference_type", "reference_name"),
	"Comment": ("reference_doctype", "reference_name"),
	"Version": ("ref_doctype", "docname"),
	"Notification Log": ("document_type", "document_name"),
	"Workflow Action": ("reference_doctype", "reference_name"),
	"DocShare": ("share_doctype", "share_name"),
	"Document Follow": ("ref_doctype", "ref_docname"),
	"Tag Link": ("document_type", "document_name"),
	"Error Log": ("reference_doctype", "reference_name"),
	"Activity Log": ("reference_doctype", "reference_name"),
	"Energy Point Log": ("reference_doctype", "reference_name"),
	"Email Queue": ("reference_doctype", "reference_name"),
	"Deleted Document": ("deleted_doctype", "deleted_name"),
	"File": ("attached_to_doctype", "attached_to_name"),
	"Communication": ("reference_doctype", "reference_name"),
}
# rows that point at the record from a second pair of columns
ALSO = {
	"Activity Log": (("timeline_doctype", "timeline_name"), ("link_doctype", "link_name")),
}
# child rows and index entries that go with a generic row
CHILDREN = {
	"Workflow Action": ("Workflow Action Permitted Role",),
	"Email Queue": ("Email Queue Recipient",),
	"Communication": ("Communication Link",),
}
INDEXED = ("ToDo", "Communication", "File")  # in __global_search


def flush_search_queue():
	"""Frappe queues global-search entries in Redis and writes them later: write them now, so
	that what is deleted next does not come back from the queue."""
	from frappe.utils.global_search import sync_global_search

	sync_global_search()


def remove_orphan_search_rows() -> int:
	"""Global-search entries whose record is gone (the index is not cleaned by SQL deletes)."""
	removed = 0
	# User and Contact too: a test that rolls back a demo load leaves their queued entries behind
	for doctype in INDEXED + ("Customer", "User", "Contact"):
		frappe.db.sql(
			f"""delete g from `__global_search` g left join `tab{doctype}` t on t.name = g.name
			where g.doctype = {literal(doctype)} and t.name is null"""
		)
		removed += frappe.db._cursor.rowcount
	return removed


def remove_traces(doctypes, names=None) -> dict:
	"""Remove what every record of ``doctypes`` (or, with ``names``, those records of the one
	doctype) left in Frappe's generic tables, and the records' own global-search entries."""
	doctypes = list(doctypes)
	if not doctypes:
		return {}
	counts = {}
	for target in _targets(doctypes, names):
		for table, (dt_col, name_col) in REFERENCES.items():
			pairs = [(dt_col, name_col), *ALSO.get(table, ())]
			where = " or ".join(f"({_match(d, n, target)})" for d, n in pairs)
			rows = frappe.db.sql_list(f"select name from `tab{table}` where {where}")
			if table == "Communication":
				rows += frappe.db.sql_list(
					f"select distinct parent from `tabCommunication Link` where {_match('link_doctype', 'link_name', target)}"
				)
			if rows:
				counts[table] = counts.get(table, 0) + _delete(table, sorted(set(rows)))
		frappe.db.sql(f"delete from `__global_search` where {_match('doctype', 'name', target)}")
	return counts


def _targets(doctypes, names):
	"""SQL pieces naming the records: one per doctype list, or per chunk of names."""
	if names is None:
		yield ("in", in_list(doctypes), None)
		return
	names = list(names)
	for start in range(0, len(names), CHUNK):
		yield ("=", literal(doctypes[0]), in_list(names[start : start + CHUNK]))


def _match(dt_col, name_col, target) -> str:
	op, doctypes, names = target
	condition = f"`{dt_col}` {op} {doctypes}"
	return condition if names is None else f"{condition} and `{name_col}` in {names}"


def _delete(table: str, names: list[str]) -> int:
	for start in range(0, len(names), CHUNK):
		chunk = in_list(names[start : start + CHUNK])
		for child in CHILDREN.get(table, ()):
			frappe.db.sql(f"delete from `tab{child}` where parent in {chunk}")
		if table in INDEXED:
			frappe.db.sql(
				f"delete from `__global_search` where doctype = {literal(table)} and name in {chunk}"
			)
		if table == "File":
			_remove_files(chunk)
		frappe.db.sql(f"delete from `tab{table}` where name in {chunk}")
	return len(names)


def _remove_files(chunk: str):
	"""The stored files too, unless another File row still points at the same content."""
	for url, private in frappe.db.sql(
		f"select file_url, is_private from `tabFile` where name in {chunk} and ifnull(is_folder, 0) = 0"
	):
		if not url or "/files/" not in url:
			continue
		if frappe.db.sql(
			f"select count(*) from `tabFile` where file_url = {literal(url)} and name not in {chunk}"
		)[0][0]:
			continue
		path = frappe.get_site_path("private" if private else "public", "files", url.rsplit("/", 1)[-1])
		if os.path.isfile(path):
			os.remove(path)


def remove_deleted_copies(modules) -> int:
	"""Deleted Document copies of the schema records (DocTypes, reports, workspaces, pages,
	cards, charts …) of ``modules``, which Frappe writes while it uninstalls an app."""
	modules = list(modules)
	if not modules:
		return 0
	listed = in_list(modules)
	names = frappe.db.sql_list(
		f"""select name from `tabDeleted Document`
		where (deleted_doctype = 'Module Def' and deleted_name in {listed})
			or json_value(data, '$.module') in {listed}"""
	)
	if names:
		_delete("Deleted Document", names)
	return len(names)
