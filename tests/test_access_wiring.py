"""Every doctype that carries a customer is wired to row-level access in hooks.py.

A doctype of the app with a link to Customer or to the Bank Customer Profile needs both a list
condition (``permission_query_conditions``) and a document check (``has_permission``), else an
RM would list or open other RMs' customers' records; a child table of such a record needs the
list condition that judges its rows by their parent record. This reads the doctypes' JSON and
hooks.py as they are, so a doctype added later without the wiring fails here.
"""

import json
from pathlib import Path

from bank_crm import hooks

APP = Path(__file__).resolve().parent.parent / "bank_crm"
CUSTOMER_LINKS = {"Customer", "Bank Customer Profile"}
ROWS = "bank_crm.permissions.rows."


def doctypes() -> dict[str, dict]:
	found = {}
	for path in APP.glob("*/doctype/*/*.json"):
		data = json.loads(path.read_text())
		if data.get("doctype") == "DocType" and path.stem == path.parent.name:
			found[data["name"]] = data
	return found


def carries_a_customer(meta: dict) -> bool:
	return any(f.get("fieldtype") == "Link" and f.get("options") in CUSTOMER_LINKS for f in meta["fields"])


def test_the_doctypes_are_read():
	found = doctypes()
	assert "Bank Customer Profile" in found and "Bank Need Signal" in found
	assert sum(carries_a_customer(m) for m in found.values()) >= 15


def test_every_doctype_that_carries_a_customer_has_a_list_condition_and_a_document_check():
	missing = {
		name: [
			hook
			for hook, wiring in (
				("permission_query_conditions", hooks.permission_query_conditions),
				("has_permission", hooks.has_permission),
			)
			if not wiring.get(name, "").startswith(ROWS)
		]
		for name, meta in doctypes().items()
		if carries_a_customer(meta) and not meta.get("istable")
	}
	assert {k: v for k, v in missing.items() if v} == {}


def test_every_child_table_of_a_row_scoped_record_is_judged_by_its_parent():
	found = doctypes()
	scoped = set(hooks.has_permission)
	children = {
		f["options"]
		for name, meta in found.items()
		if name in scoped
		for f in meta["fields"]
		if f.get("fieldtype") in ("Table", "Table MultiSelect")
	}
	unwired = {
		child
		for child in children
		if hooks.permission_query_conditions.get(child) != ROWS + "child_query_conditions"
	}
	assert unwired == set()


def test_list_conditions_and_document_checks_come_in_pairs():
	documents = set(hooks.has_permission)
	lists = {
		name
		for name, path in hooks.permission_query_conditions.items()
		if not path.endswith(("child_query_conditions", "referring_query_conditions"))
	}
	assert lists == documents
