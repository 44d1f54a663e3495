"""Outbound contacts: one Bank Outbound Message per contact, delivered through the channel given.

- Email: Frappe's Email Account (Communication + Email Queue, on the Customer timeline).
- SMS: Frappe's SMS Settings, plus a Communication (medium SMS) for the timeline.
- App Push / WeChat: the enabled Bank Channel Adapter's webhook, after commit in a background
  job; a signed JSON POST rendered from the adapter's template.
- Phone / Visit: an RM task (ToDo) through ``assign_to.add``.

A failed attempt is recorded on the message (attempts, last error, next attempt at) and
retried by ``retry_due`` (cron, every 5 minutes) with exponential backoff; after the last
attempt the message is Dead, an Error Log is written and CRM Administrators are notified.
Nothing is dropped silently. Which channel to use is decided elsewhere (routing).
"""

import json
import time

import requests

import frappe
from frappe import _
from frappe.utils import escape_html, get_datetime, getdate, now_datetime, nowdate

from bank_crm.core.delivery import (
	ADAPTER_CHANNELS,
	APP_PUSH,
	CHANNELS,
	CONTENT_CLASSES,
	DEAD,
	DEFAULT_FIRST_DELAY_MINUTES,
	DEFAULT_MAX_ATTEMPTS,
	EMAIL,
	FAILED,
	GREETING,
	IMPORTANT_NOTICE,
	MARKETING,
	MESSAGE_HEADER,
	PHONE,
	QUEUED,
	ROUTINE_TIP,
	SENT,
	SERVICE,
	SIGNATURE_HEADER,
	SKIPPED,
	SMS,
	STATUSES,
	TASK_CHANNELS,
	TASK_CREATED,
	VISIT,
	WECHAT,
	after_failure,
	sign,
)
from bank_crm.utils.bulk import in_list

__all__ = [
	"ADAPTER_CHANNELS",
	"APP_PUSH",
	"CHANNELS",
	"CONTENT_CLASSES",
	"DEAD",
	"EMAIL",
	"FAILED",
	"GREETING",
	"IMPORTANT_NOTICE",
	"MARKETING",
	"PHONE",
	"QUEUED",
	"ROUTINE_TIP",
	"SENT",
	"SERVICE",
	"SKIPPED",
	"SMS",
	"STATUSES",
	"TASK_CHANNELS",
	"TASK_CREATED",
	"VISIT",
	"WECHAT",
	"deliver",
	"dispatch",
	"retry_due",
]

MESSAGE = "Bank Outbound Message"
ADAPTER = "Bank Channel Adapter"
PROFILE = "Bank Customer Profile"
CRM_ADMINISTRATOR = "CRM Administrator"

RETRY_BATCH = 200
# The cron job runs on the default queue (300 s timeout): stop starting attempts before that.
RETRY_TIME_BUDGET_SECONDS = 240
# A queued webhook message whose job never ran (lost queue, worker down) is picked up by
# retry_due after this long.
QUEUED_GRACE_MINUTES = 10
# channels a gateway in batch mode may take (``batch_delivery``), and whose contact on file
BATCH_CHANNELS = (SMS, APP_PUSH, WECHAT)
CONTACT_KIND = {SMS: "mobile", APP_PUSH: APP_PUSH, WECHAT: WECHAT}

# Customer contact fields, first found wins: Bank Customer Profile, then ERPNext Customer.
CONTACT_FIELDS = {
	"email": (("email", "email_id"), "email_id"),
	"mobile": (("mobile", "mobile_no"), "mobile_no"),
	WECHAT: (("wechat_openid", "wechat_id"), None),
	APP_PUSH: (("app_user_id", "app_push_id"), None),
}


class OutboundError(frappe.ValidationError):
	"""Bad arguments to ``dispatch``."""


class DeliveryError(Exception):
	"""One delivery attempt failed; the message says why (already translated)."""


# -- dispatch -------------------------------------------------------------------------------


def dispatch(
	customer: str,
	channel: str,
	subject: str,
	message: str,
	*,
	content_class: str | None = None,
	reference_doctype: str | None = None,
	reference_name: str | None = None,
	assign_to: str | None = None,
	due_date=None,
	idempotency_key: str | None = None,
	send_after=None,
	enqueue: bool = True,
) -> str:
	"""Send (or queue) one contact to ``customer`` through ``channel``; the message's name.

	With ``send_after`` (the customer's quiet hours), a message is queued and ``retry_due``
	sends it once that time has come; tasks (phone, visit) are created at once.

	With ``idempotency_key``, a second call with the same key returns the first message and
	sends nothing. With ``enqueue=False`` an app-push or WeChat message is left queued for the
	caller to hand to ``enqueue_deliveries`` with others (one job per batch, not per message).
	The caller checks the user's permissions; this runs as the system.
	"""
	if channel not in CHANNELS:
		frappe.throw(_("Unknown channel: {0}").format(channel), OutboundError)
	if content_class and content_class not in CONTENT_CLASSES:
		frappe.throw(_("Unknown content class: {0}").format(content_class), OutboundError)
	if not frappe.db.exists("Customer", customer):
		frappe.throw(_("Customer {0} does not exist").format(customer), OutboundError)
	if idempotency_key and (existing := _by_key(idempotency_key)):
		return existing
	if channel in BATCH_CHANNELS:
		from bank_crm.bank_engagement import batch_delivery

		if batch_delivery.batch_adapter(channel):  # the gateway takes batches: one of them
			key = idempotency_key or frappe.generate_hash(length=20)
			return batch_delivery.queue_many(
				[
					{
						"customer": customer,
						"customer_name": frappe.db.get_value("Customer", customer, "customer_name"),
						"channel": channel,
						"content_class": content_class,
						"subject": subject,
						"message": message,
						"recipient": contact_of(customer, CONTACT_KIND[channel]),
						"reference_doctype": reference_doctype if reference_name else None,
						"reference_name": reference_name if reference_doctype else None,
						"idempotency_key": key,
						"send_after": get_datetime(send_after) if send_after else None,
					}
				]
			)[key]

	doc = frappe.get_doc(
		{
			"doctype": MESSAGE,
			"customer": customer,
			"channel": channel,
			"content_class": content_class,
			"subject": subject,
			"message": message,
			"status": QUEUED,
			"attempts": 0,
			"recipient": assign_to if channel in TASK_CHANNELS else None,
			"due_date": due_date,
			"reference_doctype": reference_doctype if reference_name else None,
			"reference_name": reference_name if reference_doctype else None,
			"idempotency_key": idempotency_key or None,
		}
	)
	if idempotency_key:
		frappe.db.savepoint("bank_outbound_insert")
		try:
			doc.insert(ignore_permissions=True)
		except (frappe.DuplicateEntryError, frappe.UniqueValidationError):
			# a concurrent dispatch with the same key won the race
			frappe.db.rollback(save_point="bank_outbound_insert")
			frappe.clear_last_message()
			return _by_key(idempotency_key)
	else:
		doc.insert(ignore_permissions=True)

	if send_after and channel not in TASK_CHANNELS and get_datetime(send_after) > now_datetime():
		doc.db_set("next_attempt_at", get_datetime(send_after), update_modified=False)
		return doc.name
	if channel in ADAPTER_CHANNELS:
		# safety net: if the job is lost, retry_due picks the message up after the grace period
		doc.db_set(
			"next_attempt_at",
			frappe.utils.add_to_date(now_datetime(), minutes=QUEUED_GRACE_MINUTES),
			update_modified=False,
		)
		if enqueue:
			enqueue_delivery(doc.name)
	else:
		attempt(doc)
	return doc.name


def _by_key(key: str) -> str | None:
	return frappe.db.get_value(MESSAGE, {"idempotency_key": key}, "name")


def requeue(name: str):
	"""One more attempt for a failed or dead message, in a job after commit (a manual retry)."""
	frappe.db.set_value(
		MESSAGE,
		name,
		{
			"status": QUEUED,
			"next_attempt_at": frappe.utils.add_to_date(now_datetime(), minutes=QUEUED_GRACE_MINUTES),
		},
	)
	enqueue_delivery(name)


def enqueue_delivery(name: str):
	frappe.enqueue(
		"bank_crm.bank_engagement.outbound.deliver",
		queue="short",
		name=name,
		job_id=f"bank_outbound::{name}",
		deduplicate=True,
		enqueue_after_commit=True,
	)


def enqueue_deliveries(names: list[str], per_job: int = 200):
	"""Queued adapter messages delivered by jobs of ``per_job`` messages each, after commit."""
	for i in range(0, len(names), per_job):
		frappe.enqueue(
			"bank_crm.bank_engagement.outbound.deliver_many",
			queue="short",
			names=names[i : i + per_job],
			enqueue_after_commit=True,
		)


# -- attempts -------------------------------------------------------------------------------
def deliver_many(names: list[str]):
	"""Background job: ``deliver`` each message, each its own transaction (one failure stays
	with its message; a lost job is picked up by ``retry_due`` after the grace period)."""
	for name in names:
		try:
			deliver(name)
			frappe.db.commit()
		except Exception:
			frappe.db.rollback()
			frappe.log_error(title=_("Outbound message {0} not delivered").format(name))


def deliver(name: str):
	"""Background job: one attempt for a queued or due message (row locked while it runs)."""
	row = frappe.db.get_value(
		MESSAGE, name, ["status", "next_attempt_at", "adapter"], as_dict=True, for_update=True
	)
	if not row or row.status not in (QUEUED, FAILED) or row.adapter in _batch_adapters():
		return
	if row.status == FAILED and row.next_attempt_at and get_datetime(row.next_attempt_at) > now_datetime():
		return
	attempt(frappe.get_doc(MESSAGE, name))


def retry_due(batch_size: int = RETRY_BATCH, time_budget: float = RETRY_TIME_BUDGET_SECONDS) -> int:
	"""Scheduler job (every 5 minutes): re-attempt failed messages whose time has come, and
	queued webhook messages whose job never ran. Returns the number of attempts made."""
	started = time.monotonic()
	done = 0
	while True:
		# a batch adapter's messages are its senders' (``batch_delivery``), not retried here
		batch = _batch_adapters()
		not_batch = f"and (adapter is null or adapter not in {in_list(batch)})" if batch else ""
		names = frappe.db.sql_list(
			f"""select name from `tab{MESSAGE}` where status in (%(failed)s, %(queued)s)
			and next_attempt_at <= %(now)s {not_batch}
			order by next_attempt_at asc limit {int(batch_size)}""",
			{"failed": FAILED, "queued": QUEUED, "now": now_datetime()},
		)
		for name in names:
			try:
				deliver(name)
			except Exception:
				frappe.db.rollback()
				frappe.log_error(
					title=_("Outbound message {0} could not be retried").format(name),
					reference_doctype=MESSAGE,
					reference_name=name,
				)
				# not again in this run (nor in a tight loop): try later
				frappe.db.set_value(
					MESSAGE,
					name,
					"next_attempt_at",
					frappe.utils.add_to_date(now_datetime(), minutes=QUEUED_GRACE_MINUTES),
					update_modified=False,
				)
			# each attempt has reached the outside world: record it before starting the next one
			frappe.db.commit()  # nosemgrep
			done += 1
			if time.monotonic() - started > time_budget:
				return done
		if len(names) < batch_size:
			return done


def _batch_adapters() -> list[str]:
	return frappe.get_all(ADAPTER, filters={"batch_mode": 1}, pluck="name")


def attempt(doc) -> None:
	"""One delivery attempt; the outcome is written to the message (never raised)."""
	frappe.db.savepoint("bank_outbound_attempt")
	try:
		HANDLERS[doc.channel](doc)
	except Exception as e:
		frappe.db.rollback(save_point="bank_outbound_attempt")
		error = str(e) if isinstance(e, DeliveryError | frappe.ValidationError) else repr(e)
		_record_failure(doc, error or e.__class__.__name__)
		frappe.clear_last_message()
		return
	doc.attempts = (doc.attempts or 0) + 1
	doc.next_attempt_at = None
	doc.last_error = None
	_save(doc)


def _save(doc):
	doc.modified = now_datetime()
	doc.db_update()


def _limits(doc) -> tuple[int, int]:
	if doc.channel in ADAPTER_CHANNELS:
		adapter = doc.adapter or _enabled_adapter(doc.channel)
		if adapter:
			values = frappe.db.get_value(
				ADAPTER, adapter, ["max_attempts", "first_retry_delay_minutes"], as_dict=True
			)
			if values:
				return values.max_attempts or DEFAULT_MAX_ATTEMPTS, values.first_retry_delay_minutes or 0
	return DEFAULT_MAX_ATTEMPTS, DEFAULT_FIRST_DELAY_MINUTES


def _record_failure(doc, error: str):
	max_attempts, delay = _limits(doc)
	outcome = after_failure(doc.attempts or 0, now_datetime(), max_attempts, delay)
	doc.status, doc.attempts, doc.next_attempt_at = outcome.status, outcome.attempts, outcome.next_attempt_at
	doc.last_error = error[:2000]
	_save(doc)
	if outcome.status == DEAD:
		_give_up(doc)


def _give_up(doc):
	"""Dead: an Error Log and a notification to every CRM Administrator."""
	title = _("Outbound {0} message {1} to {2} gave up after {3} attempts").format(
		_(doc.channel), doc.name, doc.customer, doc.attempts
	)
	frappe.log_error(
		title=title,
		message=f"{title}\n\n{doc.last_error}",
		reference_doctype=MESSAGE,
		reference_name=doc.name,
	)
	from frappe.desk.doctype.notification_log.notification_log import make_notification_logs

	admins = frappe.get_all(
		"Has Role", filters={"role": CRM_ADMINISTRATOR, "parenttype": "User"}, pluck="parent", distinct=True
	)
	if admins:
		make_notification_logs(
			{
				"type": "Alert",
				"document_type": MESSAGE,
				"document_name": doc.name,
				"subject": escape_html(title),
				"email_content": escape_html(doc.last_error or ""),
				"from_user": "Administrator",
			},
			admins,
		)


# -- channels -------------------------------------------------------------------------------


def _send_email(doc):
	from frappe.core.doctype.communication.email import _make
	from frappe.email.doctype.email_account.email_account import EmailAccount

	doc.recipient = doc.recipient or contact_of(doc.customer, "email")
	if not doc.recipient:
		raise DeliveryError(_("Customer {0} has no email address").format(doc.customer))
	account = EmailAccount.find_outgoing(match_by_doctype="Customer")
	if not account:
		raise DeliveryError(_("No outgoing Email Account is set up"))
	result = _make(
		doctype="Customer",
		name=doc.customer,
		recipients=[doc.recipient],
		subject=doc.subject or _(doc.content_class or doc.channel),
		content=_html(doc.message),
		sender=account.default_sender if account.get("email_id") else None,
		send_email=True,
		communication_medium="Email",
		add_signature=False,
	)
	doc.communication = result["name"]
	_link_reference(doc)
	doc.status, doc.sent_at = SENT, now_datetime()


def _send_sms(doc):
	from frappe.core.doctype.sms_settings.sms_settings import send_sms

	doc.recipient = doc.recipient or contact_of(doc.customer, "mobile")
	if not doc.recipient:
		raise DeliveryError(_("Customer {0} has no mobile number").format(doc.customer))
	if not frappe.db.get_single_value("SMS Settings", "sms_gateway_url"):
		# send_sms would only show "Please Update SMS Settings" and return
		raise DeliveryError(_("SMS Settings not configured: set the SMS Gateway URL"))
	send_sms([doc.recipient], doc.message or doc.subject, success_msg=False)
	# no Communication per message: the timeline shows the message itself (``timeline``)
	doc.status, doc.sent_at = SENT, now_datetime()


def _post_webhook(doc):
	adapter_name = _enabled_adapter(doc.channel)
	if not adapter_name:
		raise DeliveryError(_("No enabled Bank Channel Adapter for {0}").format(_(doc.channel)))
	adapter = frappe.get_doc(ADAPTER, adapter_name)
	doc.adapter = adapter.name
	doc.recipient = doc.recipient or contact_of(doc.customer, doc.channel) or doc.customer
	body = render_payload(adapter.payload_template, message_context(doc))
	headers = {"Content-Type": "application/json; charset=utf-8", MESSAGE_HEADER: doc.name}
	headers.update({k: str(v) for k, v in adapter.get_headers().items()})
	secret = adapter.get_password("signing_secret", raise_exception=False)
	if secret:
		headers[SIGNATURE_HEADER] = sign(body, secret)
	try:
		response = requests.post(
			adapter.webhook_url, data=body, headers=headers, timeout=adapter.timeout_seconds or 10
		)
	except requests.RequestException as e:
		raise DeliveryError(_("Webhook request failed: {0}").format(e)) from e
	if not 200 <= response.status_code < 300:
		raise DeliveryError(
			_("Webhook answered HTTP {0}: {1}").format(response.status_code, (response.text or "")[:500])
		)
	doc.status, doc.sent_at = SENT, now_datetime()


def _create_task(doc):
	from frappe.desk.form.assign_to import add

	user = doc.recipient or frappe.db.get_value("Customer", doc.customer, "bank_relationship_manager")
	if not user:
		raise DeliveryError(
			_("Customer {0} has no relationship manager to give the task to").format(doc.customer)
		)
	doc.recipient = user
	target = (doc.reference_doctype, doc.reference_name) if doc.reference_name else ("Customer", doc.customer)
	description = _("{0}: {1}").format(_(doc.channel), escape_html(doc.subject or ""))
	if doc.message:
		description += "<br>" + _html(doc.message)
	date = getdate(doc.due_date) if doc.due_date else getdate(nowdate())
	open_todo = {
		"reference_type": target[0],
		"reference_name": target[1],
		"allocated_to": user,
		"status": "Open",
	}
	before = set(frappe.get_all("ToDo", filters=open_todo, pluck="name"))
	if not before:
		add(
			{
				"assign_to": [user],
				"doctype": target[0],
				"name": target[1],
				"description": description,
				"date": date,
			},
			ignore_permissions=True,
		)
		created = set(frappe.get_all("ToDo", filters=open_todo, pluck="name")) - before
		todo = next(iter(created), None)
	else:
		# assign_to.add keeps one open ToDo per user and document; every contact gets its own task
		todo = None
	if not todo:
		todo = (
			frappe.get_doc(
				{
					"doctype": "ToDo",
					"allocated_to": user,
					"reference_type": target[0],
					"reference_name": target[1],
					"description": description,
					"date": date,
					"assigned_by": frappe.session.user,
				}
			)
			.insert(ignore_permissions=True)
			.name
		)
	doc.todo = todo
	if target[0] != "Customer":
		frappe.get_doc("Customer", doc.customer).add_comment(
			"Info", _("{0} task for {1}: {2}").format(_(doc.channel), user, escape_html(doc.subject or ""))
		)
	doc.status = TASK_CREATED


HANDLERS = {
	EMAIL: _send_email,
	SMS: _send_sms,
	APP_PUSH: _post_webhook,
	WECHAT: _post_webhook,
	PHONE: _create_task,
	VISIT: _create_task,
}


# -- helpers --------------------------------------------------------------------------------


def contact_of(customer: str, kind: str) -> str | None:
	"""The customer's email / mobile / external ID: Bank Customer Profile first, then Customer."""
	profile_fields, customer_field = CONTACT_FIELDS[kind]
	meta = frappe.get_meta(PROFILE)
	fields = [f for f in profile_fields if meta.has_field(f)]
	if fields:
		values = frappe.db.get_value(PROFILE, {"customer": customer}, fields, as_dict=True) or {}
		for f in fields:
			if values.get(f):
				return values[f].strip()
	if customer_field:
		value = frappe.db.get_value("Customer", customer, customer_field)
		return value.strip() if value else None
	return None


def _enabled_adapter(channel: str) -> str | None:
	return frappe.db.get_value(ADAPTER, {"channel": channel, "enabled": 1}, "name")


def message_context(doc) -> dict:
	"""Variables of an adapter's payload template."""
	return {
		"customer": doc.customer,
		"customer_name": frappe.db.get_value("Customer", doc.customer, "customer_name"),
		"recipient": doc.recipient,
		"subject": doc.subject or "",
		"message": doc.message or "",
		"content_class": doc.content_class or "",
		"channel": doc.channel,
		"reference_doctype": doc.reference_doctype or "",
		"reference_name": doc.reference_name or "",
		"reference": {"doctype": doc.reference_doctype, "name": doc.reference_name},
		"message_name": doc.name,
	}


def sample_context(channel: str | None = None) -> dict:
	"""A made-up message for checking a template on save."""
	return {
		"customer": "CUST-00001",
		"customer_name": '王小明 "Sample" <test>',
		"recipient": "external-id-1",
		"subject": "Sample subject",
		"message": 'Line one\nLine "two" & more',
		"content_class": ROUTINE_TIP,
		"channel": channel or APP_PUSH,
		"reference_doctype": "",
		"reference_name": "",
		"reference": {"doctype": None, "name": None},
		"message_name": "sample-message",
	}


def render_payload(template: str, context: dict) -> bytes:
	"""Render the Jinja template and check it is JSON; the exact bytes to send (and sign)."""
	rendered = _compiled(template or "").render(context) if template else ""
	try:
		value = json.loads(rendered)
	except ValueError as e:
		raise DeliveryError(_("The payload is not valid JSON ({0}): {1}").format(e, rendered[:200])) from e
	return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _compiled(template: str):
	"""The payload template compiled once per request or job (as ``frappe.render_template``
	would each time: the sandboxed environment, no dunder access)."""
	cache = getattr(frappe.local, "bank_crm_payload_templates", None)
	if cache is None:
		cache = frappe.local.bank_crm_payload_templates = {}
	if template not in cache:
		if ".__" in template:
			frappe.throw(_("Illegal template"))
		cache[template] = frappe.get_jenv().from_string(template)
	return cache[template]


def _html(text: str | None) -> str:
	return escape_html(text or "").replace("\n", "<br>")


def _link_reference(doc):
	if doc.reference_doctype and doc.reference_name and doc.communication:
		comm = frappe.get_doc("Communication", doc.communication)
		comm.add_link(doc.reference_doctype, doc.reference_name)
		comm.save(ignore_permissions=True)
