"""Demo broadcasts: a rate-change notice, a financial-knowledge tip and a marketing campaign, each
written by a demo branch manager, approved by the consumer protection officer through the review
workflow and sent through the real sending path (messages that no gateway on a demo site can
deliver show as failed, with the reason, and retry). Some customers opt out of the campaign.
"""

from __future__ import annotations

import random

import frappe
from frappe.model.workflow import apply_workflow

from bank_crm.bank_outreach.setup import RATE_CHANGE
from bank_crm.demo.base import DEMO_DOMAIN
from bank_crm.demo.staff import CPO

BROADCAST = "Bank Broadcast"


def load(seed: int = 42) -> dict:
	author = f"bm0101@{DEMO_DOMAIN}"
	reviewer = CPO.email
	if not (frappe.db.exists("User", author) and frappe.db.exists("User", reviewer)):
		return {}
	branch = frappe.db.get_value(
		"Bank Branch Member", {"user": author, "member_role": "Branch Manager"}, "parent"
	)
	wealth = frappe.db.get_value("Bank Product", {"category": "Wealth", "risk_level": "R3"}, "name")
	specs = [
		{
			"title": "利率调整通知（演示）",
			**{k: v for k, v in RATE_CHANGE.items() if k not in ("template_name", "description")},
			"template": RATE_CHANGE["template_name"],
		},
		{
			"title": "防范电信诈骗小贴士",
			"content_class": "Routine Tip",
			"sms_text": "{{ customer_name }}您好：银行不会通过电话索要验证码，请勿向任何人透露。",
			"app_push_text": "防诈提醒：银行工作人员不会索要您的短信验证码和密码。",
			"tiers": [{"tier": "Mass"}],
		},
		{
			"title": "鑫享一年期理财新品发售",
			"content_class": "Marketing",
			"app_push_text": "{{ customer_name }}您好：{{ product_name }}现已发售，业绩比较基准详见产品说明书。",
			"sms_text": "{{ product_name }}现已发售，详询客户经理{{ relationship_manager_name }}。",
			"email_subject": "{{ product_name }}发售",
			"email_body": "<p>尊敬的{{ customer_name }}：</p><p>{{ product_name }}现已发售，欢迎咨询。</p>",
			"products": [{"product": wealth}] if wealth else [],
			"risk_disclosure": "理财非存款，产品有风险，投资须谨慎。",
			"conditions": [{"kind": "Holds No Category", "value": "Wealth"}],
		},
	]
	rng = random.Random(f"{seed}-outreach")
	made = []
	for spec in specs:
		frappe.set_user(author)
		doc = frappe.get_doc({"doctype": BROADCAST, "branches": [{"branch": branch}], **spec}).insert()
		apply_workflow(doc, "Submit for Review")
		frappe.set_user(reviewer)
		apply_workflow(frappe.get_doc(BROADCAST, doc.name), "Approve")
		frappe.set_user(author)
		apply_workflow(frappe.get_doc(BROADCAST, doc.name), "Schedule")
		frappe.set_user("Administrator")
		frappe.db.commit()
		made.append(doc.name)
	from bank_crm.bank_outreach import broadcasts

	broadcasts.send_scheduled()
	for name in made:
		broadcasts.send(name)
		# the demo does not wait out the customers' quiet hours: the deferred rows go now
		frappe.db.set_value(
			"Bank Broadcast Recipient",
			{"broadcast": name, "status": "Queued", "send_after": ("is", "set")},
			"send_after",
			None,
		)
		broadcasts.send(name)
	from bank_crm.api.outreach import withdraw_marketing

	campaign = made[-1]
	opted = frappe.get_all(
		"Bank Broadcast Recipient", filters={"broadcast": campaign, "status": "Sent"}, pluck="customer"
	)
	for customer in rng.sample(opted, min(len(opted), 5)):
		withdraw_marketing(customer, f"退订链接（演示） {campaign}", broadcast=campaign)
	frappe.db.commit()
	return {"broadcasts": made}


def clear():
	if not frappe.db.table_exists(BROADCAST):
		return
	from bank_crm.utils.traces import remove_traces

	names = frappe.get_all(BROADCAST, filters={"owner": ("like", f"%@{DEMO_DOMAIN}")}, pluck="name")
	if names:
		remove_traces([BROADCAST], names)
		frappe.db.delete("Bank Broadcast Recipient", {"broadcast": ("in", names)})
		for child in (
			"Bank Broadcast Tier",
			"Bank Broadcast Branch",
			"Bank Broadcast RM",
			"Bank Broadcast Product",
			"Bank Broadcast Filter",
		):
			frappe.db.delete(child, {"parent": ("in", names)})
		frappe.db.delete(BROADCAST, {"name": ("in", names)})
