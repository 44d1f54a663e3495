"""Bulk ingestion of activity events and product holdings, and the purge of old events.

A batch is checked row by row in ``bank_crm.core.activity``; then a few set-based statements
do the work: one lookup of the customers, event types and products it names, one of the
records already on file under the same names, one multi-row INSERT of the new rows (and, for
holdings, one UPDATE … JOIN of the changed ones). An event resent with the same content is a
*duplicate* and stores nothing; with other content it is a *conflict*, refused with both values.
Good rows are stored whole whatever the bad rows of the same call.
"""

from __future__ import annotations

import frappe
from frappe.utils import add_days, getdate, now_datetime

from bank_crm.bank_segmentation.snapshot_ingestion import known_customers
from bank_crm.core import activity, values
from bank_crm.core.snapshots import RowError
from bank_crm.utils.bulk import in_list, insert_rows, update_rows

EVENT = "Bank Activity Event"
HOLDING = "Bank Product Holding"
MAX_ROWS = 50_000
CHUNK = 5_000


def _standard(now) -> dict:
	user = frappe.session.user
	return {"owner": user, "modified_by": user, "creation": now, "modified": now, "docstatus": 0}


def _existing(table: str, keys: list[str], columns: tuple[str, ...], key: str = "name") -> dict[str, dict]:
	"""The records on file under these keys (a unique column), with the columns to compare."""
	found = {}
	for start in range(0, len(keys), CHUNK):
		chunk = keys[start : start + CHUNK]
		for row in frappe.db.sql(
			f"select `{key}`, {', '.join(columns)} from `tab{table}` where `{key}` in {in_list(chunk)}",
			as_dict=True,
		):
			found[row[key]] = row
	return found


def _masters(doctype: str, names: set[str]) -> set[str]:
	if not names:
		return set()
	return set(
		frappe.db.sql_list(
			f"select name from `tab{doctype}` where enabled = 1 and name in {in_list(sorted(names))}"
		)
	)


def _conflict(index: int, field: str, stored, sent) -> RowError:
	return RowError(
		index,
		field,
		"conflicts with the record on file under the same external id (stored {0}, sent {1})",
		(values.shown(stored), values.shown(sent)),
	)


def ingest_events(rows: list, source: str | None = None, now=None) -> dict:
	now = now or now_datetime()
	ctx = activity.Context(now=now, default_source=source or "")
	errors: list[RowError] = []
	clean: list[tuple[int, dict]] = []
	seen: dict[str, tuple[int, dict]] = {}
	duplicate = 0
	for index, raw in enumerate(rows):
		row, row_errors = activity.clean_event(index, raw, ctx)
		if row_errors:
			errors.extend(row_errors)
			continue
		if row["event_key"] in seen:
			first, earlier = seen[row["event_key"]]
			field = activity.first_difference(row, earlier, activity.EVENT_CONTENT)
			if field:
				errors.append(RowError(index, field, "repeats row {0} with other content", (first,)))
			else:
				duplicate += 1
			continue
		seen[row["event_key"]] = (index, row)
		clean.append((index, row))

	customers = known_customers({row["customer"] for _, row in clean})
	types = _masters("Bank Event Type", {row["event_type"] for _, row in clean})
	products = _masters("Bank Product", {row["product"] for _, row in clean if row["product"]})
	valid = []
	for index, row in clean:
		if row["customer"] not in customers:
			errors.append(RowError(index, "customer", "{0} is not a known customer", (row["customer"],)))
		elif row["event_type"] not in types:
			errors.append(
				RowError(index, "event_type", "{0} is not an enabled event type", (row["event_type"],))
			)
		elif row["product"] and row["product"] not in products:
			errors.append(RowError(index, "product", "{0} is not a known product", (row["product"],)))
		else:
			valid.append((index, row))

	stored = _existing(EVENT, [row["event_key"] for _, row in valid], activity.EVENT_CONTENT, key="event_key")
	new = []
	for index, row in valid:
		on_file = stored.get(row["event_key"])
		if on_file is None:
			new.append(row)
			continue
		field = activity.first_difference(row, on_file, activity.EVENT_CONTENT)
		if field:
			errors.append(_conflict(index, field, on_file.get(field), row.get(field)))
		else:
			duplicate += 1
	# "amount" is a number column (NOT NULL): an event without an amount stores 0
	new = [{**row, "amount": row["amount"] or 0} if row["amount"] is None else row for row in new]
	inserted = insert_rows(EVENT, new, _standard(now), ignore_duplicates=True)
	duplicate += len(new) - inserted  # written by a concurrent call meanwhile
	return _answer(len(rows), errors, inserted=inserted, duplicate=duplicate)


def ingest_holdings(rows: list, today=None) -> dict:
	today = getdate(today or frappe.flags.current_date or None)
	now = now_datetime()
	errors: list[RowError] = []
	clean: list[tuple[int, dict]] = []
	seen: dict[str, int] = {}
	for index, raw in enumerate(rows):
		row, row_errors = activity.clean_holding(index, raw, today)
		if row_errors:
			errors.extend(row_errors)
			continue
		if row["name"] in seen:
			errors.append(
				RowError(
					index, "product", "repeats row {0} (same customer and product)", (seen[row["name"]],)
				)
			)
			continue
		seen[row["name"]] = index
		clean.append((index, row))
	customers = known_customers({row["customer"] for _, row in clean})
	products = _masters("Bank Product", {row["product"] for _, row in clean})
	valid = []
	for index, row in clean:
		if row["customer"] not in customers:
			errors.append(RowError(index, "customer", "{0} is not a known customer", (row["customer"],)))
		elif row["product"] not in products:
			errors.append(RowError(index, "product", "{0} is not a known product", (row["product"],)))
		else:
			valid.append(row)
	stored = _existing(HOLDING, [row["name"] for row in valid], activity.HOLDING_CONTENT)
	new, changed, unchanged = [], [], 0
	for row in valid:
		on_file = stored.get(row["name"])
		if on_file is None:
			new.append(row)
		elif activity.first_difference(row, on_file, activity.HOLDING_CONTENT):
			changed.append(
				{
					"name": row["name"],
					**{f: row[f] for f in (*activity.HOLDING_CONTENT, "source")},
					"modified": now,
				}
			)
		else:
			unchanged += 1
	inserted = insert_rows(HOLDING, new, _standard(now), ignore_duplicates=True)
	update_rows(HOLDING, changed)
	return _answer(len(rows), errors, inserted=inserted, replaced=len(changed), unchanged=unchanged)


def _answer(received: int, errors: list[RowError], **counts) -> dict:
	return {
		"received": received,
		**counts,
		"rejected": len({e.index for e in errors}),
		"errors": sorted(errors, key=lambda e: e.index),
	}


def purge_events(today=None) -> int:
	"""Delete events older than the retention period, a batch per statement and commit, so that
	ingestion never waits long on the table. Signals keep their evidence."""
	settings = frappe.get_cached_doc("Bank Insight Settings")
	days = int(settings.event_retention_days or 0)
	if days <= 0:
		return 0
	cutoff = add_days(getdate(today or frappe.flags.current_date or None), -days)
	batch = int(settings.purge_batch_size or 10_000)
	deleted = 0
	while True:
		# the creation index bounds the scan: an event is never stored before it happens
		frappe.db.sql(
			f"delete from `tab{EVENT}` where creation < %s and event_time < %s limit {batch}",
			(cutoff, cutoff),
		)
		count = frappe.db._cursor.rowcount
		frappe.db.commit()  # each batch on its own: locks held for one batch only
		deleted += count
		if count < batch:
			return deleted
