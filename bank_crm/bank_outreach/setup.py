"""Install and uninstall for the outreach module: the broadcast review Workflow, the default
frequency caps and the rate-change template (Chinese). Created once; idempotent."""

import frappe

from bank_crm.core.access import (
	BRANCH_MANAGER,
	COMPLIANCE_AUDITOR,
	CONSUMER_PROTECTION_OFFICER,
	CRM_ADMINISTRATOR,
	RELATIONSHIP_MANAGER,
)
from bank_crm.setup.workflows import make_workflow, remove_workflow

WORKFLOW = "Bank Broadcast Review"
SETTINGS = "Bank Outreach Settings"
AUTHORS = (RELATIONSHIP_MANAGER, BRANCH_MANAGER, CRM_ADMINISTRATOR)
REVIEWERS = (CONSUMER_PROTECTION_OFFICER, COMPLIANCE_AUDITOR)
DESK_USER = "Desk User"  # who may edit what, in each state, is the controller's rule
STATES = (
	# state, style, role that may edit in this state
	("Draft", "", DESK_USER),
	("Pending Review", "Warning", DESK_USER),
	("Approved", "Success", CRM_ADMINISTRATOR),
	("Scheduled", "Info", CRM_ADMINISTRATOR),
	("Sending", "Primary", CRM_ADMINISTRATOR),
	("Paused", "Warning", CRM_ADMINISTRATOR),
	("Sent", "Success", CRM_ADMINISTRATOR),
	("Cancelled", "Inverse", CRM_ADMINISTRATOR),
)
TRANSITIONS = (
	# from, action, to, roles (the server checks again: see the Bank Broadcast controller)
	("Draft", "Submit for Review", "Pending Review", AUTHORS),
	("Pending Review", "Approve", "Approved", REVIEWERS),
	("Pending Review", "Reject", "Draft", REVIEWERS),
	("Approved", "Schedule", "Scheduled", AUTHORS),
	("Approved", "Cancel", "Cancelled", (*AUTHORS, CONSUMER_PROTECTION_OFFICER)),
	("Scheduled", "Cancel", "Cancelled", (*AUTHORS, CONSUMER_PROTECTION_OFFICER)),
	("Sending", "Pause", "Paused", (*AUTHORS, CONSUMER_PROTECTION_OFFICER)),
	("Paused", "Resume", "Sending", (*AUTHORS, CONSUMER_PROTECTION_OFFICER)),
	("Paused", "Cancel", "Cancelled", (*AUTHORS, CONSUMER_PROTECTION_OFFICER)),
)
OUR_STATES = ("Pending Review", "Scheduled", "Sending", "Paused", "Sent")
OUR_ACTIONS = ("Submit for Review", "Schedule", "Pause", "Resume")

DEFAULT_CAPS = (("VIP", 2, 30), ("High-end", 3, 30), ("Mass", 4, 30), (None, 4, 30))
RATE_CHANGE = {
	"template_name": "利率调整通知",
	"content_class": "Important Notice",
	"description": "LPR 或存款利率调整时，告知客户对其存款、贷款和理财的影响。",
	"sms_text": "尊敬的{{ customer_name }}，本行存款挂牌利率将于近日调整，您的存款、贷款及理财收益可能受影响，详询您的客户经理{{ relationship_manager_name }}。",
	"app_push_text": "{{ customer_name }}您好：存款与贷款利率即将调整，点击查看对您的存款、贷款及理财的影响。",
	"wechat_text": "{{ customer_name }}您好：近期贷款市场报价利率（LPR）及本行存款挂牌利率调整。定期存款按存入日利率计息不受影响；浮动利率贷款将在下一个重定价日按新利率执行；理财产品收益以实际净值为准。如有疑问请联系您的客户经理{{ relationship_manager_name }}。",
	"email_subject": "利率调整对您账户的影响",
	"email_body": (
		"<p>尊敬的{{ customer_name }}：</p>"
		"<p>近期贷款市场报价利率（LPR）及本行存款挂牌利率调整，现将对您的影响说明如下：</p>"
		"<ul><li><b>存款</b>：已存入的定期存款按存入日利率计息至到期，到期续存按届时利率执行；活期存款自调整日起按新利率计息。</li>"
		"<li><b>贷款</b>：浮动利率贷款将在下一个利率重定价日按新的LPR加点执行，月供随之变化。</li>"
		"<li><b>理财</b>：理财产品不保本，收益以产品实际净值为准，利率变动可能影响其表现。</li></ul>"
		"<p>如需重新规划存款期限或资产配置，请联系您的客户经理{{ relationship_manager_name }}。</p>"
	),
}


def setup():
	make_workflow(
		WORKFLOW,
		"Bank Broadcast",
		"workflow_state",
		STATES,
		TRANSITIONS,
		no_self_approval=("Approve", "Reject"),
	)
	settings = frappe.get_single(SETTINGS)
	changed = False
	if not settings.frequency_caps:
		tiers = set(frappe.get_all("Bank Customer Tier", pluck="name"))
		for tier, messages, days in DEFAULT_CAPS:
			if tier is None or tier in tiers:
				settings.append("frequency_caps", {"tier": tier, "messages": messages, "days": days})
		changed = True
	for df in settings.meta.fields:
		if df.default is not None and settings.get(df.fieldname) in (None, ""):
			settings.set(df.fieldname, df.default)
			changed = True
	if changed:
		settings.flags.ignore_permissions = True
		settings.save()
	if not frappe.db.exists("Bank Broadcast Template", RATE_CHANGE["template_name"]):
		frappe.get_doc({"doctype": "Bank Broadcast Template", **RATE_CHANGE}).insert(ignore_permissions=True)


def remove():
	remove_workflow(WORKFLOW, OUR_STATES, OUR_ACTIONS)
