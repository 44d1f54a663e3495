# Copyright (c) 2026, bank_crm contributors
# For license information, please see license.txt
"""Planned vs done vs overdue contacts, and KPI attainment against each tier's goals.

One row per group (RM, branch or tier) and tier, because goals are set per tier. Every query
is limited by the user's row-level scope: an RM sees own customers, a branch manager the
branch. The period is the due date of plan items and the date of contacts."""

import frappe
from frappe import _
from frappe.utils import add_days, flt, getdate

from bank_crm.core import kpi
from bank_crm.permissions.rows import profile_query_conditions

GROUPS = {
	"Relationship Manager": "`tabBank Customer Profile`.relationship_manager",
	"Branch": "`tabBank Customer Profile`.branch",
	"Tier": "`tabBank Customer Profile`.tier",
}


def execute(filters=None):
	filters = frappe._dict(filters or {})
	from_date, to_date = _period(filters)
	group = GROUPS.get(filters.group_by or "Relationship Manager", GROUPS["Relationship Manager"])
	cond, params = _conditions(filters, from_date, to_date)
	key = f"{group}, `tabBank Customer Profile`.tier"
	stats = _stats(key, cond, params, to_date)
	data = _rows(filters, stats)
	return _columns(filters), data, None, _chart(data)


def _period(filters) -> tuple:
	"""The report's from and to dates (the last 90 days by default)."""
	from_date = getdate(filters.from_date or add_days(getdate(), -90))
	to_date = getdate(filters.to_date or getdate())
	if from_date > to_date:
		frappe.throw(_("From Date must be before To Date"))
	return from_date, to_date


def _conditions(filters, from_date, to_date) -> tuple[str, dict]:
	"""The where clause over the tiered profiles (the user's scope and the filters) and its parameters."""
	where = ["`tabBank Customer Profile`.tier is not null"]
	params = {"from": from_date, "to": to_date, "today": getdate()}
	scope = profile_query_conditions(frappe.session.user)
	if scope:
		where.append(scope)
	for key in ("branch", "tier"):
		if filters.get(key):
			where.append(f"`tabBank Customer Profile`.{key} = %({key})s")
			params[key] = filters[key]
	return " and ".join(where), params


def _merge(stats: dict, rows, names) -> None:
	"""Add the figures of grouped rows (group, tier, figures…) to ``stats`` under ``names``."""
	for row in rows:
		entry = stats.setdefault((row[0], row[1]), {})
		entry.update(dict(zip(names, row[2:], strict=True)))


def _stats(key, cond, params, to_date) -> dict[tuple, dict]:
	"""The figures per (group, tier): customers, the plan, contacts, satisfaction, depth and AUM."""
	stats: dict[tuple, dict] = {}
	_merge_plan(stats, key, cond, params)
	_merge_contacts(stats, key, cond, params, to_date)
	_merge_portfolio(stats, key, cond, params)
	return stats


def _merge_plan(stats, key, cond, params) -> None:
	"""Customers and those retained, then plan items planned, done, done on time and overdue."""
	_merge(
		stats,
		frappe.db.sql(
			f"""select {key}, count(*),
				sum(`tabBank Customer Profile`.lifecycle_stage not in ('Churn Risk', 'Dormant')
					or `tabBank Customer Profile`.lifecycle_stage is null)
			from `tabBank Customer Profile` where {cond} group by {key}""",
			params,
		),
		("customers", "retained"),
	)
	_merge(
		stats,
		frappe.db.sql(
			f"""select {key}, count(*), sum(v.status = 'Done'),
				sum(v.status = 'Done' and v.completed_on <= v.due_date),
				sum(v.status = 'Open' and v.due_date < %(today)s)
			from `tabBank Visit Plan` v join `tabBank Customer Profile` on `tabBank Customer Profile`.name = v.profile
			where {cond} and v.status <> 'Cancelled' and v.due_date between %(from)s and %(to)s
			group by {key}""",
			params,
		),
		("planned", "done", "on_time", "overdue"),
	)


def _merge_contacts(stats, key, cond, params, to_date) -> None:
	"""Customers contacted in the period (a visit done or an interaction) and their satisfaction."""
	_merge(
		stats,
		frappe.db.sql(
			f"""select {key}, count(*) from `tabBank Customer Profile`
			where {cond} and (
				exists(select 1 from `tabBank Visit Plan` v where v.profile = `tabBank Customer Profile`.name
					and v.status = 'Done' and v.completed_on between %(from)s and %(to)s)
				or exists(select 1 from `tabBank Interaction` i where i.customer = `tabBank Customer Profile`.customer
					and i.status = 'Completed' and i.actual_at between %(from)s and %(to_end)s))
			group by {key}""",
			{**params, "to_end": f"{to_date} 23:59:59"},
		),
		("contacted",),
	)
	_merge(
		stats,
		frappe.db.sql(
			f"""select {key}, avg(nullif(i.satisfaction, 0)) * 5
			from `tabBank Interaction` i join `tabBank Customer Profile` on `tabBank Customer Profile`.customer = i.customer
			where {cond} and i.status = 'Completed' and i.actual_at between %(from)s and %(to_end)s
			group by {key}""",
			{**params, "to_end": f"{to_date} 23:59:59"},
		),
		("satisfaction",),
	)


def _merge_portfolio(stats, key, cond, params) -> None:
	"""Product depth and AUM on the scoring snapshot, and AUM at the start of the period."""
	_merge(
		stats,
		frappe.db.sql(
			f"""select {key}, avg(s.products_held), sum(s.aum),
				sum((select s0.aum from `tabBank Financial Snapshot` s0
					where s0.customer = `tabBank Customer Profile`.customer and s0.as_of_date <= %(from)s
					order by s0.as_of_date desc limit 1))
			from `tabBank Customer Profile`
			join `tabBank Financial Snapshot` s on s.customer = `tabBank Customer Profile`.customer
				and s.as_of_date = `tabBank Customer Profile`.score_snapshot_date
			where {cond} group by {key}""",
			params,
		),
		("depth", "aum_now", "aum_then"),
	)


def _rows(filters, stats) -> list[dict]:
	"""One row per group and tier, by group then tier rank."""
	goals = _goals()
	names = _group_names(filters.group_by or "Relationship Manager", {k[0] for k in stats})
	ranks = dict(frappe.get_all("Bank Customer Tier", fields=["name", "rank"], as_list=True))
	data = []
	for (grp, tier), s in sorted(
		stats.items(), key=lambda kv: (str(kv[0][0] or ""), ranks.get(kv[0][1], 99))
	):
		data.append(_row(grp, tier, s, goals, names))
	return data


def _row(grp, tier, s: dict, goals: dict, names: dict) -> dict:
	"""One group and tier: the plan's figures, each KPI's actual and target, and the goals met."""
	actual = kpi.actuals(
		customers=s.get("customers") or 0,
		contacted=s.get("contacted") or 0,
		retained=s.get("retained") or 0,
		depth=s.get("depth"),
		aum_now=s.get("aum_now"),
		aum_then=s.get("aum_then"),
		satisfaction=s.get("satisfaction"),
	)
	attainment = kpi.attainment(actual, goals.get(tier, {}))
	planned = s.get("planned") or 0
	row = {
		"group": grp or _("Not assigned"),
		"group_name": names.get(grp) or grp or _("Not assigned"),
		"tier": tier,
		"customers": s.get("customers") or 0,
		"planned": planned,
		"done": s.get("done") or 0,
		"on_time": s.get("on_time") or 0,
		"overdue": s.get("overdue") or 0,
		"completion": flt(100.0 * (s.get("done") or 0) / planned, 1) if planned else None,
		"goals_met": _("{0} of {1}", context="Plan Compliance").format(attainment.met, attainment.total)
		if attainment.total
		else "",
		"goals_met_count": attainment.met,
		"goals_total": attainment.total,
	}
	for metric in kpi.KPIS:
		row[kpi.FIELD[metric]] = actual.get(metric)
		row[kpi.FIELD[metric] + "_target"] = goals.get(tier, {}).get(metric)
	return row


def _group_names(group_by: str, keys) -> dict:
	keys = [k for k in keys if k]
	if not keys:
		return {}
	if group_by == "Relationship Manager":
		return dict(
			frappe.get_all("User", filters={"name": ("in", keys)}, fields=["name", "full_name"], as_list=True)
		)
	if group_by == "Branch":
		return dict(
			frappe.get_all(
				"Bank Branch", filters={"name": ("in", keys)}, fields=["name", "branch_name"], as_list=True
			)
		)
	return {k: _(k) for k in keys}


def _goals() -> dict[str, dict[str, float]]:
	rows = frappe.get_all(
		"Bank Tier Goal",
		filters={"parenttype": "Bank Service Plan"},
		fields=["parent", "kpi", "target"],
	)
	tiers = dict(frappe.get_all("Bank Service Plan", fields=["name", "tier"], as_list=True))
	out: dict[str, dict] = {}
	for r in rows:
		out.setdefault(tiers.get(r.parent, r.parent), {})[r.kpi] = r.target
	return out


def _columns(filters):
	group_label = _(filters.group_by or "Relationship Manager")
	group_type = {"Relationship Manager": ("Link", "User"), "Branch": ("Link", "Bank Branch")}.get(
		filters.group_by or "Relationship Manager", ("Data", None)
	)
	columns = [
		{
			"label": group_label,
			"fieldname": "group",
			"fieldtype": group_type[0],
			"options": group_type[1],
			"width": 200,
		},
		{
			"label": _("Tier"),
			"fieldname": "tier",
			"fieldtype": "Link",
			"options": "Bank Customer Tier",
			"width": 90,
		},
		{"label": _("Customer Count"), "fieldname": "customers", "fieldtype": "Int", "width": 90},
		{"label": _("Planned"), "fieldname": "planned", "fieldtype": "Int", "width": 80},
		{"label": _("Completed"), "fieldname": "done", "fieldtype": "Int", "width": 80},
		{"label": _("Done on Time"), "fieldname": "on_time", "fieldtype": "Int", "width": 100},
		{"label": _("Overdue"), "fieldname": "overdue", "fieldtype": "Int", "width": 80},
		{"label": _("Completion (%)"), "fieldname": "completion", "fieldtype": "Percent", "width": 110},
	]
	for metric in kpi.KPIS:
		field = kpi.FIELD[metric]
		columns.append(
			{"label": _(metric), "fieldname": field, "fieldtype": "Float", "precision": 1, "width": 130}
		)
		columns.append(
			{
				"label": _("Target"),
				"fieldname": field + "_target",
				"fieldtype": "Float",
				"precision": 1,
				"width": 70,
			}
		)
	columns.append({"label": _("Goals Met"), "fieldname": "goals_met", "fieldtype": "Data", "width": 100})
	return columns


def _chart(data):
	top = data[:12]
	return {
		"data": {
			"labels": [f"{d['group_name']} · {_(d['tier'])}" for d in top],
			"datasets": [
				{"name": _("Planned"), "values": [d["planned"] for d in top]},
				{"name": _("Completed"), "values": [d["done"] for d in top]},
				{"name": _("Overdue"), "values": [d["overdue"] for d in top]},
			],
		},
		"type": "bar",
		"colors": ["#7cd6fd", "#28a745", "#ff5858"],
	}
