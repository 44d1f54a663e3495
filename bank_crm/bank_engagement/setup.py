"""Defaults the engagement module installs: a service plan per default tier and care rules.

Created once (editable afterwards; never overwritten by a later migrate)."""

import frappe

from bank_crm.core import cadence, care

M, RM, AUTO = cadence.MONTH, cadence.RELATIONSHIP_MANAGER, cadence.AUTOMATED

DEFAULT_PLANS = {
	"VIP": {
		"description": "贵宾客户：每季度上门拜访一次，每月电话联系一次，每半年邀请参加一次财富沙龙",
		"contacts": [
			(cadence.VISIT, 3, M, RM, "Service", "季度资产配置检视"),
			(cadence.CALL, 1, M, RM, "Service", "市场动态沟通与需求了解"),
			(cadence.SALON, 6, M, RM, "Marketing", "财富沙龙邀请"),
		],
		"themes": "季度资产配置检视\n市场展望\n家族财富与传承规划",
		"privileges": [
			("Dedicated RM", "指定一名客户经理及一名备岗"),
			("Priority Handling", "服务请求优先于其他层级处理"),
			("Tailored Wealth Plan", "每季度检视一次"),
			("Salon Invitations", "每年两场财富沙龙"),
			("Priority Queue at Branch", ""),
		],
		"goals": [
			("Contact Coverage (%)", 100, "期间内完成过接触的客户占比"),
			("Retention Rate (%)", 98, "未处于休眠或流失风险的客户占比"),
			("Product Depth", 5, "平均持有产品数"),
			("AUM Growth (%)", 8, "期间内AUM总额的变化"),
			("Satisfaction (1–5)", 4.7, "接触记录中客户满意度的平均值"),
		],
	},
	"High-end": {
		"description": "高端客户：每半年上门拜访一次，每两个月电话联系一次，每月推送市场简报",
		"contacts": [
			(cadence.VISIT, 6, M, RM, "Service", "半年度财富检视"),
			(cadence.CALL, 2, M, RM, "Service", "产品到期与需求沟通"),
			(cadence.MESSAGE, 1, M, AUTO, "Routine Tip", "月度市场简报"),
		],
		"themes": "财富检视\n存款与理财产品动态",
		"privileges": [
			("Priority Handling", "服务请求优先于大众客户处理"),
			("Tailored Wealth Plan", "每半年检视一次"),
		],
		"goals": [
			("Contact Coverage (%)", 90, "期间内完成过接触的客户占比"),
			("Retention Rate (%)", 95, "未处于休眠或流失风险的客户占比"),
			("Product Depth", 3.5, "平均持有产品数"),
			("AUM Growth (%)", 5, "期间内AUM总额的变化"),
			("Satisfaction (1–5)", 4.5, "接触记录中客户满意度的平均值"),
		],
	},
	"Mass": {
		"description": "大众客户：每季度通过App或短信触达一次",
		"contacts": [(cadence.MESSAGE, 3, M, AUTO, "Routine Tip", "金融知识小贴士")],
		"themes": "金融知识\n防范电信诈骗",
		"privileges": [],
		"goals": [
			("Contact Coverage (%)", 80, "期间内完成过接触的客户占比"),
			("Retention Rate (%)", 90, "未处于休眠或流失风险的客户占比"),
			("Product Depth", 2, "平均持有产品数"),
			("AUM Growth (%)", 3, "期间内AUM总额的变化"),
			("Satisfaction (1–5)", 4.3, "接触记录中客户满意度的平均值"),
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
	(care.RISK_REASSESSMENT, 30, care.RM_TASK, None, ""),
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
		if not any(
			r.event_type == care.RISK_REASSESSMENT for r in settings.care_rules
		) and not frappe.db.get_default(
			"bank_crm_reassessment_rule_added"
		):  # sites installed before the rule: added once, the administrator may remove it
			settings.append(
				"care_rules",
				{"event_type": care.RISK_REASSESSMENT, "enabled": 1, "lead_days": 30, "action": care.RM_TASK},
			)
			settings.flags.ignore_permissions = True
			settings.save()
			frappe.db.set_default("bank_crm_reassessment_rule_added", "1")
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
