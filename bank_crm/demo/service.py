"""Demo service requests and complaints in every state, some breached, with escalations.

    bench --site SITE execute bank_crm.demo.service.load

Called by ``bank_crm.demo.load`` after the customers. Requests are registered and moved on
through the same controller methods and Workflow actions the desk uses (a few hundred
documents, as the staff who would do it), backdated so that live clocks, breaches and
escalations show at once. ``clear`` removes them again (``bank_crm.demo.clear`` calls it).
"""

import random

import frappe
from frappe.model.workflow import apply_workflow
from frappe.utils import add_to_date, now_datetime

from bank_crm.demo.base import CUSTOMER_PREFIX, DEMO_DOMAIN
from bank_crm.demo.staff import CPO, HANDLER, make_service_staff
from bank_crm.utils.traces import remove_traces

REQUEST = "Bank Service Request"
COMPLAINT = "Bank Complaint"
RIGHTS = "Bank Data Subject Request"
# personal-information requests: type, what the customer asks, workflow actions (handler, approver)
RIGHTS_SCRIPT = (
	("Explanation", "客户询问为什么被划入当前客户层级", ("Submit for Approval",)),
	("Consent Withdrawal", "客户要求不再接收营销信息", ("Submit for Approval", "Approve")),
	("Deletion", "客户要求删除本人全部个人信息", ("Submit for Approval", "Approve")),
	("Access", "客户要求复制本行持有的本人个人信息", ()),
)
CHANNELS = ("Branch Counter", "Phone", "Letter", "Regulator Referral")
PRODUCTS = ("借记卡", "信用卡", "个人住房贷款", "结构性存款", "理财产品", "手机银行", "对公结算账户")
SUBJECTS = {
	"Inquiry": ("查询理财产品到期收益", "咨询大额存单利率", "查询跨境汇款进度"),
	"Suggestion": ("建议延长网点营业时间", "建议手机银行增加适老模式"),
	"Business Application": ("申请提高信用卡额度", "申请开立对公账户", "申请办理个人经营贷"),
	"Complaint": (
		"理财产品销售时未充分揭示风险",
		"信用卡年费未经同意扣收",
		"网点排队时间过长",
		"手机银行转账失败未及时处理",
	),
}
# (request type, urgency, days ago registered, what happens next)
REQUEST_SCRIPT = (
	("Inquiry", "Normal", 0, "open"),
	("Inquiry", "Urgent", 2, "open"),  # response breached
	("Inquiry", "Normal", 0, "first_contact"),
	("Business Application", "Normal", 1, "in_progress"),
	("Business Application", "Urgent", 4, "in_progress"),  # resolution breached
	("Business Application", "Normal", 1, "task"),
	("Inquiry", "Normal", 1, "waiting"),
	("Suggestion", "Normal", 3, "resolved"),
	("Inquiry", "Normal", 5, "closed"),
	("Business Application", "Normal", 6, "reopened"),
	("Inquiry", "Emergency", 0, "in_progress"),
)
COMPLAINT_SCRIPT = (
	# days ago registered, actions to take
	(0, ()),
	(1, ("Acknowledge",)),
	(3, ("Acknowledge", "Start Investigation")),
	(20, ("Acknowledge", "Start Investigation")),  # past 15 days: breached, escalated
	(25, ("Acknowledge", "Start Investigation", "Request Extension")),
	(28, ("Acknowledge", "Start Investigation", "Request Extension", "Approve Extension")),
	(6, ("Acknowledge", "Start Investigation", "Propose Resolution")),
	(8, ("Acknowledge", "Start Investigation", "Propose Resolution", "Approve")),
	(9, ("Acknowledge", "Start Investigation", "Propose Resolution", "Approve", "Inform Customer")),
	(12, ("Acknowledge", "Start Investigation", "Propose Resolution", "Approve", "Inform Customer", "Close")),
	(40, ("Acknowledge", "Start Investigation", "Propose Resolution", "Approve", "Inform Customer", "Close")),
)


def load(rounds: int | None = None, seed: int = 42) -> dict:
	"""Register demo requests and complaints for demo customers (``rounds`` passes over the
	scripts, default one per demo branch); returns counts."""
	make_service_staff()
	rng = random.Random(seed)
	customers = frappe.get_all(
		"Customer",
		filters={"name": ("like", CUSTOMER_PREFIX + "%"), "bank_relationship_manager": ("is", "set")},
		fields=["name", "bank_relationship_manager", "bank_branch"],
		order_by="name",
		limit=2000,
	)
	if not customers:
		return {"requests": 0, "complaints": 0}
	rng.shuffle(customers)
	rounds = rounds or 7
	user = frappe.session.user
	made = {"requests": 0, "complaints": 0}
	try:
		i = 0
		for _round in range(rounds):
			for script in REQUEST_SCRIPT:
				_request(customers[i % len(customers)], script, rng)
				made["requests"] += 1
				i += 1
			for days, actions in COMPLAINT_SCRIPT:
				_complaint(customers[i % len(customers)], days, actions, rng, customers)
				made["complaints"] += 1
				i += 1
			frappe.db.commit()
		made["personal_information_requests"] = _rights(customers)
		frappe.db.commit()
	finally:
		frappe.set_user(user)
	from bank_crm.bank_service.escalation import escalate_due

	made["escalation"] = escalate_due()
	frappe.db.commit()
	print(f"bank_crm demo service requests: {made}")
	return made


def _rights(customers) -> int:
	"""A few personal-information requests through their Workflow, as the handler and the
	consumer protection officer would take them."""
	from frappe.model.workflow import apply_workflow

	for customer, (kind, details, actions) in zip(
		customers[-len(RIGHTS_SCRIPT) :], RIGHTS_SCRIPT, strict=False
	):
		frappe.set_user(HANDLER.email)
		doc = frappe.get_doc(
			{
				"doctype": RIGHTS,
				"customer": customer.name,
				"request_type": kind,
				"withdraw_purpose": "Marketing" if kind == "Consent Withdrawal" else None,
				"channel": "Branch",
				"received_on": add_to_date(now_datetime(), days=-3).date(),
				"details": details,
				"identity_checked": 1 if actions else 0,
				"identity_method": "ID Card at Counter" if actions else None,
			}
		).insert()
		for action in actions:
			frappe.set_user(CPO.email if action == "Approve" else HANDLER.email)
			doc = apply_workflow(frappe.get_doc(RIGHTS, doc.name), action)
	return len(RIGHTS_SCRIPT)


def _register(customer, request_type, urgency, days_ago, rng):
	frappe.set_user(customer.bank_relationship_manager)
	registered = add_to_date(now_datetime(), days=-days_ago, hours=-rng.randint(0, 6))
	doc = frappe.get_doc(
		{
			"doctype": REQUEST,
			"customer": customer.name,
			"request_type": request_type,
			"urgency": urgency,
			"channel": rng.choice(CHANNELS),
			"product": rng.choice(PRODUCTS),
			"subject": rng.choice(SUBJECTS[request_type]),
			"description": "演示数据",
			"registered_on": registered,
		}
	)
	doc.insert()
	return doc


def _request(customer, script, rng):
	request_type, urgency, days_ago, step = script
	doc = _register(customer, request_type, urgency, days_ago, rng)
	if step == "open":
		return
	if step == "first_contact":
		doc.resolve("当场解答客户疑问", "Phone", first_contact=True)
		doc.save()
		doc.confirm_satisfaction(5, "很满意")
		doc.save()
		return
	doc.respond("已受理，正在处理", "Phone")
	if step == "waiting":
		doc.pause("请客户补充身份证明材料", "Phone")
	if step == "task":
		doc.add_task(
			"Risk",
			customer.bank_relationship_manager,
			add_to_date(now_datetime(), days=2),
			"风险部门复核授信材料",
		)
		doc.save()
		doc.assign_task(doc.tasks[-1])
		return
	if step in ("resolved", "closed", "reopened"):
		doc.resolve("已按客户要求办理完成", "Phone")
		doc.save()
		if step == "closed":
			doc.confirm_satisfaction(rng.choice((4, 5)), "处理及时")
		if step == "reopened":
			doc.confirm_satisfaction(2, "办理时间太长")
	doc.save()


def _complaint(customer, days_ago, actions, rng, customers):
	request = _register(customer, "Complaint", rng.choice(("Normal", "Urgent")), days_ago, rng)
	frappe.set_user("Administrator")
	complaint = frappe.get_doc(COMPLAINT, request.complaint)
	complaint.category = rng.choice(
		(
			"Service Attitude",
			"Fees and Charges",
			"Product Mis-selling",
			"Digital Channels",
			"Wealth Management",
		)
	)
	if rng.random() < 0.3:
		complaint.subject_staff = customer.bank_relationship_manager
	complaint.save()
	approver = f"bm{customer.bank_branch}@{DEMO_DOMAIN}" if customer.bank_branch else CPO.email
	if not frappe.db.exists("User", approver):
		approver = CPO.email
	for action in actions:
		complaint.reload()
		if action == "Propose Resolution":
			complaint.resolution_proposal = "退还相关费用并向客户致歉"
			complaint.save()
		if action == "Request Extension":
			complaint.extension_reason = "需第三方机构出具核查报告"
			complaint.save()
		if action == "Close":
			complaint.root_cause_category = rng.choice(("Process", "People", "System", "Product Design"))
			complaint.lessons_learned = "加强销售环节风险揭示与双录复核"
			complaint.append(
				"rectification_actions",
				{
					"action": "组织网点员工专项培训",
					"action_owner": approver,
					"due_date": add_to_date(now_datetime(), days=30).date(),
				},
			)
			complaint.save()
		user = approver if action in ("Approve", "Approve Extension") else HANDLER.email
		frappe.set_user(user)
		apply_workflow(complaint.as_dict(), action)
		frappe.set_user("Administrator")
	if actions and actions[-1] in ("Approve", "Inform Customer", "Close"):
		# backdate the decision within the clock, so compliance figures look like a real month
		decided = add_to_date(request.registered_on, days=min(days_ago, rng.randint(5, 14))).date()
		frappe.db.set_value(
			COMPLAINT,
			complaint.name,
			{"decided_on": decided, "regulatory_breached": 0},
			update_modified=False,
		)
	if actions and actions[-1] == "Inform Customer":
		frappe.set_user(customer.bank_relationship_manager)
		req = frappe.get_doc(REQUEST, request.name)
		if req.status == "Resolved":
			req.confirm_satisfaction(rng.choice((2, 4)), "演示")
			req.save()
	frappe.set_user("Administrator")


def clear() -> dict:
	"""Remove demo requests, complaints and what hangs off them."""
	counts = {}
	if not frappe.db.table_exists(REQUEST):
		return counts
	like = CUSTOMER_PREFIX + "%"
	requests = frappe.get_all(REQUEST, {"customer": ("like", like)}, pluck="name")
	complaints = frappe.get_all(COMPLAINT, {"customer": ("like", like)}, pluck="name")
	for doctype, names in ((REQUEST, requests), (COMPLAINT, complaints)):
		for i in range(0, len(names), 5000):
			chunk = names[i : i + 5000]
			for child in ("Bank Request Task", "Bank Request Update", "Bank Rectification Action"):
				frappe.db.delete(child, {"parenttype": doctype, "parent": ("in", chunk)})
			remove_traces([doctype], chunk)
			frappe.db.delete(doctype, {"name": ("in", chunk)})
		counts[doctype] = len(names)
	frappe.db.delete("Bank Escalation Log", {"customer": ("like", like)})
	if frappe.db.table_exists(RIGHTS):
		rights = frappe.get_all(RIGHTS, {"customer": ("like", like)}, pluck="name")
		remove_traces([RIGHTS], rights)  # the exports attached go with their File rows
		frappe.db.delete(RIGHTS, {"name": ("in", rights)})
		counts[RIGHTS] = len(rights)
	frappe.db.commit()
	return counts
