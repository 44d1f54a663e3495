"""Defaults the engagement module installs: a service plan per default tier and care rules.

Created once (editable afterwards; never overwritten by a later migrate)."""

import frappe

from bank_crm.core import cadence, care

M, RM, AUTO = cadence.MONTH, cadence.RELATIONSHIP_MANAGER, cadence.AUTOMATED

DEFAULT_PLANS = {
	"VIP": {
		"description": "贵宾: a visit every quarter, a call every month, a wealth salon twice a year",
		"contacts": [
			(cadence.VISIT, 3, M, RM, "Service", "Quarterly portfolio review"),
			(cadence.CALL, 1, M, RM, "Service", "Market update and needs check"),
			(cadence.SALON, 6, M, RM, "Marketing", "Wealth salon invitation"),
		],
		"themes": "Quarterly portfolio review\nMarket outlook\nFamily wealth and succession planning",
		"privileges": [
			("Dedicated RM", "One named RM and a deputy"),
			("Priority Handling", "Requests handled before other tiers"),
			("Tailored Wealth Plan", "Reviewed every quarter"),
			("Salon Invitations", "Two wealth salons a year"),
			("Priority Queue at Branch", ""),
		],
		"goals": [
			("Contact Coverage (%)", 100, "Customers with a completed contact in the period"),
			("Retention Rate (%)", 98, "Customers not Dormant or at Churn Risk"),
			("Product Depth", 5, "Average products held"),
			("AUM Growth (%)", 8, "Change in total AUM over the period"),
			("Satisfaction (1–5)", 4.7, "Average satisfaction recorded on contacts"),
		],
	},
	"High-end": {
		"description": "高端: a visit every half year, a call every two months, a monthly market brief",
		"contacts": [
			(cadence.VISIT, 6, M, RM, "Service", "Half-yearly wealth review"),
			(cadence.CALL, 2, M, RM, "Service", "Product maturity and needs check"),
			(cadence.MESSAGE, 1, M, AUTO, "Routine Tip", "Monthly market brief"),
		],
		"themes": "Wealth review\nDeposit and wealth product updates",
		"privileges": [
			("Priority Handling", "Requests handled before the Mass tier"),
			("Tailored Wealth Plan", "Reviewed every half year"),
		],
		"goals": [
			("Contact Coverage (%)", 90, "Customers with a completed contact in the period"),
			("Retention Rate (%)", 95, "Customers not Dormant or at Churn Risk"),
			("Product Depth", 3.5, "Average products held"),
			("AUM Growth (%)", 5, "Change in total AUM over the period"),
			("Satisfaction (1–5)", 4.5, "Average satisfaction recorded on contacts"),
		],
	},
	"Mass": {
		"description": "大众: an app or SMS touch every quarter",
		"contacts": [(cadence.MESSAGE, 3, M, AUTO, "Routine Tip", "Financial knowledge tips")],
		"themes": "Financial knowledge\nFraud prevention",
		"privileges": [],
		"goals": [
			("Contact Coverage (%)", 80, "Customers with a completed contact in the period"),
			("Retention Rate (%)", 90, "Customers not Dormant or at Churn Risk"),
			("Product Depth", 2, "Average products held"),
			("AUM Growth (%)", 3, "Change in total AUM over the period"),
			("Satisfaction (1–5)", 4.3, "Average satisfaction recorded on contacts"),
		],
	},
}

DEFAULT_CARE_RULES = (
	# event, lead days, action, tier, greeting
	(
		care.BIRTHDAY,
		3,
		care.GREETING,
		None,
		"尊敬的{customer_name}，祝您生日快乐！感谢您一直以来对我行的信任与支持。",
	),
	(care.BIRTHDAY, 7, care.RM_TASK, "VIP", ""),
	(care.ANNIVERSARY, 7, care.GREETING, None, "尊敬的{customer_name}，感谢您与我行相伴{years}年！"),
	(care.MATURITY, 30, care.RM_TASK, None, ""),
)


def setup():
	make_default_service_plans()
	set_engagement_defaults()


def make_default_service_plans():
	for tier, plan in DEFAULT_PLANS.items():
		if not frappe.db.exists("Bank Customer Tier", tier) or frappe.db.exists("Bank Service Plan", tier):
			continue
		frappe.get_doc(
			{
				"doctype": "Bank Service Plan",
				"tier": tier,
				"enabled": 1,
				"responsible_role": RM,
				"description": plan["description"],
				"content_themes": plan["themes"],
				"contacts": [
					{
						"contact_kind": k,
						"every": e,
						"unit": u,
						"responsible": r,
						"content_class": c,
						"theme": t,
					}
					for k, e, u, r, c, t in plan["contacts"]
				],
				"privileges": [{"privilege": p, "details": d} for p, d in plan["privileges"]],
				"goals": [{"kpi": k, "target": t, "description": d} for k, t, d in plan["goals"]],
			}
		).insert(ignore_permissions=True)


def set_engagement_defaults():
	settings = frappe.get_single("Bank Engagement Settings")
	if settings.care_rules:
		return
	settings.reminder_days = settings.reminder_days or 7
	settings.planning_batch_size = settings.planning_batch_size or 20000
	for event, lead, action, tier, greeting in DEFAULT_CARE_RULES:
		settings.append(
			"care_rules",
			{
				"event_type": event,
				"enabled": 1,
				"lead_days": lead,
				"action": action,
				"tier": tier,
				"greeting": greeting,
			},
		)
	settings.flags.ignore_permissions = True
	settings.save()
