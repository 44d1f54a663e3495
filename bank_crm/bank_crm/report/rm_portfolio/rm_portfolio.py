# Copyright (c) 2026, bank_crm contributors
# For license information, please see license.txt
"""RM Portfolio: per relationship manager (and branch) — customers by tier, AUM and its change
over the period, product depth, open need signals, contact coverage against the tier plan, open
requests. Each figure is one grouped query over the portfolio, limited by the user's row-level
scope (an RM sees the own row, a branch manager the branch's RMs, head office all)."""

import frappe
from frappe import _
from frappe.utils import add_days, flt, getdate

from bank_crm.permissions.rows import profile_query_conditions

P = "`tabBank Customer Profile`"
KEY = f"{P}.relationship_manager, {P}.branch"  # the grouping of every query


def execute(filters=None):
	filters = frappe._dict(filters or {})
	from_date, to_date = _period(filters)
	cond, params = _conditions(filters, from_date, to_date)
	tiers = [t for (t,) in frappe.db.sql("select name from `tabBank Customer Tier` order by `rank`")]
	stats = _stats(cond, params, tiers, from_date, to_date)
	data = _rows(stats, tiers)
	return _columns(tiers), data, None, _chart([r for r in data if not r.get("bold")])


def _period(filters) -> tuple:
	"""The report's from and to dates (the last 90 days by default)."""
	from_date = getdate(filters.from_date or add_days(getdate(), -90))
	to_date = getdate(filters.to_date or getdate())
	if from_date > to_date:
		frappe.throw(_("From Date must be before To Date"))
	return from_date, to_date


def _conditions(filters, from_date, to_date) -> tuple[str, dict]:
	"""The where clause over the profiles (the user's scope and the filters) and its parameters."""
	where, params = [], {"from": from_date, "to": to_date, "to_end": f"{to_date} 23:59:59"}
	if scope := profile_query_conditions(frappe.session.user):
		where.append(scope)
	for key in ("branch", "relationship_manager", "tier"):
		if filters.get(key):
			where.append(f"{P}.{key} = %({key})s")
			params[key] = filters[key]
	return " and ".join(where) or "1=1", params


def _merge(stats: dict, rows, names) -> None:
	"""Add the figures of grouped rows (RM, branch, figures…) to ``stats`` under ``names``."""
	for row in rows:
		stats.setdefault((row[0], row[1]), {}).update(dict(zip(names, row[2:], strict=True)))


def _stats(cond, params, tiers, from_date, to_date) -> dict[tuple, dict]:
	"""The figures per (RM, branch): customers by tier, AUM and depth, then the activity."""
	stats: dict[tuple, dict] = {}
	_merge(
		stats,
		frappe.db.sql(
			f"""select {KEY}, count(*), {", ".join(f"sum({P}.tier = {frappe.db.escape(t)})" for t in tiers) or "0"}
			from {P} where {cond} group by {KEY}""",
			params,
		),
		("customers", *(f"tier_{i}" for i in range(len(tiers) or 1))),
	)
	_merge_aum(stats, cond, params, from_date, to_date)
	_merge_activity(stats, cond, params)
	return stats


def _merge_aum(stats, cond, params, from_date, to_date) -> None:
	"""AUM and product depth at the start and the end of the period."""
	# AUM and product depth from the month-end snapshots on or before each end of the period
	then, now = (
		frappe.db.sql(
			"select max(as_of_date) from `tabBank Financial Snapshot` where as_of_date <= %s", (d,)
		)[0][0]
		for d in (from_date, to_date)
	)
	for label, date in (("aum_then", then), ("aum_now", now)):
		if date:
			_merge(
				stats,
				frappe.db.sql(
					f"""select {KEY}, sum(s.aum), avg(s.products_held)
					from {P} join `tabBank Financial Snapshot` s on s.customer = {P}.customer and s.as_of_date = %(on)s
					where {cond} group by {KEY}""",
					{**params, "on": date},
				),
				(label, f"depth_{label}"),
			)


def _merge_activity(stats, cond, params) -> None:
	"""Open need signals, the visit plan, contacts in the period and open service requests."""
	_merge(
		stats,
		frappe.db.sql(
			f"""select {KEY}, count(*) from `tabBank Need Signal` n join {P} on {P}.customer = n.customer
			where {cond} and n.status = 'Open' group by {KEY}""",
			params,
		),
		("open_signals",),
	)
	_merge(
		stats,
		frappe.db.sql(
			f"""select {KEY}, count(*), sum(v.status = 'Done')
			from `tabBank Visit Plan` v join {P} on {P}.name = v.profile
			where {cond} and v.status <> 'Cancelled' and v.due_date between %(from)s and %(to)s
			group by {KEY}""",
			params,
		),
		("planned", "done"),
	)
	_merge(
		stats,
		frappe.db.sql(
			f"""select {KEY}, count(*) from {P}
			where {cond} and exists(select 1 from `tabBank Interaction` i where i.customer = {P}.customer
				and i.status = 'Completed' and i.actual_at between %(from)s and %(to_end)s)
			group by {KEY}""",
			params,
		),
		("contacted",),
	)
	_merge(
		stats,
		frappe.db.sql(
			f"""select {KEY}, count(*) from `tabBank Service Request` r join {P} on {P}.customer = r.customer
			where {cond} and r.status not in ('Resolved', 'Closed') group by {KEY}""",
			params,
		),
		("open_requests",),
	)


def _rows(stats, tiers) -> list[dict]:
	"""One row per RM and branch with customers, by branch then RM, and a total when more than one."""
	names = dict(
		frappe.get_all(
			"User",
			filters={"name": ("in", [k[0] for k in stats if k[0]] or [""])},
			fields=["name", "full_name"],
			as_list=True,
		)
	)
	data = []
	total: dict = {}
	for (rm, branch), s in sorted(stats.items(), key=lambda kv: (str(kv[0][1] or ""), str(kv[0][0] or ""))):
		if not s.get("customers"):
			continue
		data.append(_row(s, tiers, rm_name=names.get(rm) or rm or _("Not assigned"), rm=rm, branch=branch))
		for k, v in s.items():
			if k.startswith("depth_"):
				# a weighted mean: customers × products per customer, divided back below
				total[k] = (total.get(k) or 0) + (v or 0) * s["customers"]
			else:
				total[k] = (total.get(k) or 0) + (v or 0)
	if len(data) > 1:
		for k in [k for k in total if k.startswith("depth_")]:
			total[k] = total[k] / total["customers"]
		data.append({**_row(total, tiers, rm_name=_("All RMs")), "bold": 1})
	return data


def _row(s: dict, tiers, rm_name, rm=None, branch=None) -> dict:
	"""One line of figures; rates are of the line's own counts (the total's too)."""
	aum_now, aum_then = s.get("aum_now"), s.get("aum_then")
	planned = s.get("planned") or 0
	row = {
		"relationship_manager": rm,
		"rm_name": rm_name,
		"branch": branch,
		"customers": s["customers"],
		"aum_now": round(aum_now) if aum_now is not None else None,
		"aum_change": flt(100.0 * (aum_now - aum_then) / aum_then, 1) if aum_now and aum_then else None,
		"depth": flt(s.get("depth_aum_now"), 2) if s.get("depth_aum_now") is not None else None,
		"open_signals": s.get("open_signals") or 0,
		"coverage": flt(100.0 * (s.get("contacted") or 0) / s["customers"], 1),
		"plan_done": flt(100.0 * (s.get("done") or 0) / planned, 1) if planned else None,
		"open_requests": s.get("open_requests") or 0,
	}
	for i, _tier in enumerate(tiers):
		row[f"tier_{i}"] = s.get(f"tier_{i}") or 0
	return row


def _columns(tiers):
	columns = [
		{
			"label": _("Relationship Manager"),
			"fieldname": "relationship_manager",
			"fieldtype": "Link",
			"options": "User",
			"width": 80,
			"hidden": 1,
		},
		{"label": _("Relationship Manager"), "fieldname": "rm_name", "fieldtype": "Data", "width": 120},
		{
			"label": _("Branch", context="Bank Customer Profile"),
			"fieldname": "branch",
			"fieldtype": "Link",
			"options": "Bank Branch",
			"width": 90,
		},
		{"label": _("Customer Count"), "fieldname": "customers", "fieldtype": "Int", "width": 90},
	]
	columns += [
		{"label": _(t), "fieldname": f"tier_{i}", "fieldtype": "Int", "width": 80}
		for i, t in enumerate(tiers)
	]
	columns += [
		{"label": _("AUM (CNY)"), "fieldname": "aum_now", "fieldtype": "Int", "width": 140},
		{"label": _("AUM Change (%)"), "fieldname": "aum_change", "fieldtype": "Percent", "width": 110},
		{
			"label": _("Products per Customer"),
			"fieldname": "depth",
			"fieldtype": "Float",
			"precision": 2,
			"width": 110,
		},
		{"label": _("Open Needs"), "fieldname": "open_signals", "fieldtype": "Int", "width": 90},
		{"label": _("Contact Coverage (%)"), "fieldname": "coverage", "fieldtype": "Percent", "width": 120},
		{"label": _("Plan Done (%)"), "fieldname": "plan_done", "fieldtype": "Percent", "width": 110},
		{"label": _("Open Requests"), "fieldname": "open_requests", "fieldtype": "Int", "width": 100},
	]
	return columns


def _chart(data):
	if not data:
		return None
	top = sorted(data, key=lambda r: -(r["aum_now"] or 0))[:20]
	return {
		"data": {
			"labels": [r["rm_name"] for r in top],
			"datasets": [{"name": _("AUM"), "values": [r["aum_now"] or 0 for r in top]}],
		},
		"type": "bar",
		"colors": ["#2490ef"],
	}
