"""The user-facing strings of bank_crm, found in its source: ``_("…")`` in Python, ``__("…")`` in
JavaScript, and the names, labels, descriptions and Select options of its DocTypes, reports,
pages, number cards, charts and workspaces. Frappe-free (pure pytest and the site test use it).
"""

from __future__ import annotations

import ast
import csv
import json
import re
from pathlib import Path

APP = Path(__file__).resolve().parents[1]
ZH = APP / "translations" / "zh.csv"
PLACEHOLDER = re.compile(r"\{\d*\}")
# codes shown as they are in Chinese too
AS_IS = re.compile(r"^([A-Z]\d|\d+|[a-z0-9-]+)$")
_JS = re.compile(r"""__\(\s*(["'`])((?:\\.|(?!\1).)*)\1""", re.S)


def translations(path: Path = ZH) -> dict[str, str]:
	"""Source → translation of ``zh.csv`` (rows with a context keep the last one)."""
	with open(path, encoding="utf-8", newline="") as f:
		return {row[0]: row[1] for row in csv.reader(f) if len(row) >= 2}


def rows(path: Path = ZH) -> list[list[str]]:
	with open(path, encoding="utf-8", newline="") as f:
		return [row for row in csv.reader(f) if row]


def user_facing(app: Path = APP) -> dict[str, str]:
	"""Every user-facing string → the first file (relative to the app) that has it."""
	found: dict[str, str] = {}

	def add(text, path):
		if isinstance(text, str) and text.strip() and not AS_IS.match(text):
			found.setdefault(text, str(path.relative_to(app)))

	for path in sorted(app.rglob("*.py")):
		if "tests" in path.parts:
			continue
		for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
			if (
				isinstance(node, ast.Call)
				and getattr(node.func, "id", None) == "_"
				and node.args
				and isinstance(node.args[0], ast.Constant)
			):
				add(node.args[0].value, path)
	for path in sorted(app.rglob("*.js")):
		if "dist" in path.parts:
			continue
		for match in _JS.finditer(path.read_text(encoding="utf-8")):
			if match.group(1) == "`" and "${" in match.group(2):
				continue
			add(match.group(2).replace('\\"', '"').replace("\\'", "'"), path)
	for path in sorted(app.rglob("*.json")):
		try:
			data = json.loads(path.read_text(encoding="utf-8"))
		except ValueError:
			continue
		if not isinstance(data, dict):
			continue
		if data.get("doctype") == "DocType":
			add(data.get("name"), path)
			for df in data.get("fields", []):
				add(df.get("label"), path)
				add(df.get("description"), path)
				if df.get("fieldtype") == "Select":
					for option in (df.get("options") or "").split("\n"):
						add(option, path)
		elif data.get("doctype") in ("Report", "Number Card", "Dashboard Chart", "Workspace", "Page"):
			for key in ("report_name", "label", "chart_name", "title"):
				add(data.get(key), path)
			for row in (data.get("links") or []) + (data.get("shortcuts") or []):
				add(row.get("label"), path)
	return found


def placeholders(text: str) -> list[str]:
	return sorted(PLACEHOLDER.findall(text))
