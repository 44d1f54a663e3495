"""Staff lookups the jobs share."""

import frappe


def languages(users) -> dict[str, str]:
	"""Each user's language (the system's when unset), so a task reads in its owner's language."""
	users = [u for u in users if u]
	default = frappe.db.get_default("lang") or "en"
	rows = (
		frappe.get_all("User", filters={"name": ("in", users)}, fields=["name", "language"]) if users else []
	)
	return {r.name: r.language or default for r in rows}
