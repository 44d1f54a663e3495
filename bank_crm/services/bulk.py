"""Set-based writes: many rows in one statement.

``insert_rows`` sends one multi-row INSERT per chunk through PyMySQL's ``executemany`` (which
batches when VALUES holds only placeholders): about 3× faster than ``frappe.db.bulk_insert``,
which builds every chunk with PyPika, and thousands of times faster than a save per row.
"""

from collections.abc import Iterable, Mapping

import frappe

NUMERIC_TYPES = {"Int", "Check", "Float", "Currency", "Percent", "Rating", "Duration"}


def insert_rows(
	doctype: str,
	rows: Iterable[Mapping],
	common: Mapping | None = None,
	*,
	raw_table: bool = False,
	chunk_size: int = 10_000,
	ignore_duplicates: bool = False,
) -> int:
	"""Insert dict rows into ``tab<doctype>`` (or the table ``doctype`` itself when ``raw_table``).

	Keys missing from a row take the column's empty value (0 for numeric fields, NULL else);
	``common`` values apply to every row. Returns the number of rows inserted (with
	``ignore_duplicates``, rows whose key already existed are not counted).
	"""
	rows = list(rows)
	if not rows:
		return 0
	common = dict(common or {})
	columns = list(dict.fromkeys([*common, *(k for row in rows for k in row)]))
	empty = {c: None for c in columns}
	table = doctype
	if not raw_table:
		table = f"tab{doctype}"
		meta = frappe.get_meta(doctype)
		for df in meta.fields:
			if df.fieldname in empty and df.fieldtype in NUMERIC_TYPES:
				empty[df.fieldname] = 0
		for column in ("idx", "docstatus"):
			if column in empty:
				empty[column] = 0
	values = [tuple(row.get(c, common.get(c, empty[c])) for c in columns) for row in rows]
	verb = "insert ignore" if ignore_duplicates else "insert"
	query = "{} into `{}` ({}) values ({})".format(
		verb, table, ", ".join(f"`{c}`" for c in columns), ", ".join(["%s"] * len(columns))
	)
	frappe.db.sql("select 1")  # make sure the connection is open
	cursor = frappe.db._cursor
	inserted = 0
	for start in range(0, len(values), chunk_size):
		inserted += cursor.executemany(query, values[start : start + chunk_size]) or 0
	return inserted


def reserve_series(prefix: str, count: int) -> int:
	"""Reserve ``count`` numbers of a naming series at once; returns the last number before them."""
	frappe.db.sql(
		"insert into `tabSeries` (`name`, `current`) values (%s, 0) on duplicate key update `name` = `name`",
		(prefix,),
	)
	current = frappe.db.sql("select `current` from `tabSeries` where `name` = %s for update", (prefix,))[0][0]
	frappe.db.sql("update `tabSeries` set `current` = `current` + %s where `name` = %s", (count, prefix))
	return int(current or 0)
