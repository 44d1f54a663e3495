"""Which database server answered: pages and reports that read from a MariaDB replica (Frappe's
``read_from_replica`` / ``replica_host`` in the site config, and ``@frappe.read_only()``) say so
in their response."""

import frappe


def served_by() -> dict:
	"""``{"server": "replica" | "primary", "server_id": …, "port": …}`` of the connection that
	is answering now (one trivial query)."""
	replica = getattr(frappe.local, "replica_db", None)
	on_replica = replica is not None and getattr(frappe.local, "db", None) is replica
	server_id, port = frappe.db.sql("select @@server_id, @@port")[0]
	return {"server": "replica" if on_replica else "primary", "server_id": server_id, "port": port}
