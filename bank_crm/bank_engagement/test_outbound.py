"""Outbound channels: email through an Email Account, SMS through SMS Settings, app push and
WeChat through a webhook adapter (against a local HTTP server), phone and visit as RM tasks,
retries with backoff, dead letters, idempotency and row-level access over REST."""

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest.mock import patch
from urllib.parse import parse_qs

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import add_to_date, get_datetime, getdate, now_datetime

from bank_crm.bank_engagement import outbound, timeline
from bank_crm.bank_engagement.doctype.bank_channel_adapter.bank_channel_adapter import (
	AdapterValidationError,
)
from bank_crm.bank_engagement.outbound import (
	APP_PUSH,
	DEAD,
	EMAIL,
	FAILED,
	PHONE,
	QUEUED,
	ROUTINE_TIP,
	SENT,
	SMS,
	TASK_CREATED,
	VISIT,
	WECHAT,
	OutboundError,
	dispatch,
	retry_due,
)
from bank_crm.core.delivery import SIGNATURE_HEADER
from bank_crm.permissions import clear_scope_cache
from bank_crm.tests.factories import Api, api_token, make_customer, make_user

MESSAGE = "Bank Outbound Message"
ADAPTER = "Bank Channel Adapter"
SECRET = "whsec-test-1234"
TEMPLATE = """{"to": {{ recipient | tojson }}, "title": {{ subject | tojson }},
 "body": {{ message | tojson }}, "customer": {{ customer | tojson }},
 "name": {{ customer_name | tojson }}, "id": {{ message_name | tojson }}}"""


class FlakyServer:
	"""A local HTTP server that answers 500 to the first ``failures`` requests, then 200."""

	def __init__(self):
		self.failures = 0
		self.requests = []
		server = self

		class Handler(BaseHTTPRequestHandler):
			def do_POST(self):
				body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
				server.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
				failing = server.failures > 0
				server.failures -= 1 if failing else 0
				self.send_response(500 if failing else 200)
				self.end_headers()
				self.wfile.write(b"boom" if failing else b"ok")

			do_GET = do_POST

			def log_message(self, *args):
				pass

		self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
		self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
		self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
		self.thread.start()

	def reset(self, failures=0):
		self.failures, self.requests = failures, []

	def stop(self):
		self.httpd.shutdown()
		self.httpd.server_close()


class TestOutbound(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		frappe.set_user("Administrator")
		cls.server = FlakyServer()
		cls.rm_a = make_user("obm-rm-a", ["Relationship Manager"])
		cls.rm_b = make_user("obm-rm-b", ["Relationship Manager"])
		cls.admin = make_user("obm-admin", ["CRM Administrator"])
		tag = frappe.generate_hash(length=6)
		cls.customer_a = make_customer(f"外呼测试 A {tag}", rm=cls.rm_a)
		cls.customer_b = make_customer(f"外呼测试 B {tag}", rm=cls.rm_b)
		frappe.db.set_value(
			"Customer", cls.customer_a, {"email_id": "client-a@example.com", "mobile_no": "138-0013 8000"}
		)

	@classmethod
	def tearDownClass(cls):
		cls.server.stop()
		super().tearDownClass()

	def setUp(self):
		frappe.set_user("Administrator")
		self.server.reset()
		self.queued = []
		# In tests Frappe sends notification emails at once, and Email Queue commits its status:
		# keep everything in the test's transaction so that the class rollback removes it.
		commit = patch.object(frappe.db, "commit")
		commit.start()
		self.addCleanup(commit.stop)
		enqueue = patch.object(outbound, "enqueue_delivery", side_effect=self.queued.append)
		enqueue.start()
		self.addCleanup(enqueue.stop)
		frappe.db.set_value(ADAPTER, {"enabled": 1}, "enabled", 0)
		# messages already waiting on the site (e.g. demo data) must not reach the test's server;
		# the change is rolled back with the test's transaction
		frappe.db.sql(
			"""update `tabBank Outbound Message` set next_attempt_at = '2999-01-01'
			where status in ('Queued', 'Failed')"""
		)

	def make_adapter(self, channel=APP_PUSH, **values):
		return frappe.get_doc(
			{
				"doctype": ADAPTER,
				"adapter_name": f"Test {channel} {frappe.generate_hash(length=6)}",
				"channel": channel,
				"enabled": 1,
				"webhook_url": self.server.url + "/hook",
				"http_headers": json.dumps({"X-Api-Key": "k-1"}),
				"signing_secret": SECRET,
				"payload_template": TEMPLATE,
				"timeout_seconds": 5,
				"max_attempts": 3,
				"first_retry_delay_minutes": 2,
				**values,
			}
		).insert()

	def message(self, name):
		return frappe.get_doc(MESSAGE, name)

	def make_due(self, name):
		frappe.db.set_value(MESSAGE, name, "next_attempt_at", add_to_date(now_datetime(), minutes=-1))

	def retry(self):
		return retry_due()  # its commit per attempt is patched out in setUp

	# -- webhook adapters ------------------------------------------------------------------

	def test_webhook_sent_signed_and_rendered_after_commit(self):
		adapter = self.make_adapter()
		name = dispatch(
			self.customer_a,
			APP_PUSH,
			"利率调整",
			'Deposit rates "change" & more\n今天',
			content_class=ROUTINE_TIP,
		)
		self.assertEqual(self.queued, [name])  # delivery waits for the commit, in a job
		self.assertEqual(self.message(name).status, QUEUED)
		self.assertEqual(self.server.requests, [])

		outbound.deliver(name)
		doc = self.message(name)
		self.assertEqual((doc.status, doc.attempts, doc.adapter), (SENT, 1, adapter.name))
		self.assertTrue(doc.sent_at)
		self.assertIsNone(doc.next_attempt_at)
		[request] = self.server.requests
		payload = json.loads(request["body"])
		self.assertEqual(
			payload,
			{
				"to": self.customer_a,
				"title": "利率调整",
				"body": 'Deposit rates "change" & more\n今天',
				"customer": self.customer_a,
				"name": frappe.db.get_value("Customer", self.customer_a, "customer_name"),
				"id": name,
			},
		)
		expected = "sha256=" + hmac.new(SECRET.encode(), request["body"], hashlib.sha256).hexdigest()
		self.assertEqual(request["headers"][SIGNATURE_HEADER], expected)
		self.assertEqual(request["headers"]["X-Api-Key"], "k-1")
		self.assertEqual(request["headers"]["X-Bank-CRM-Message"], name)
		# on the customer's timeline, without a Communication of its own
		self.assertFalse(doc.communication)
		self.assertIn(name, json.dumps(timeline.customer_messages("Customer", self.customer_a), default=str))
		# delivering again does nothing
		outbound.deliver(name)
		self.assertEqual(len(self.server.requests), 1)

	def test_messages_left_for_a_batch_are_delivered_by_one_job(self):
		self.make_adapter()
		names = [
			dispatch(self.customer_a, APP_PUSH, "批量", f"第{i}条", content_class=ROUTINE_TIP, enqueue=False)
			for i in range(3)
		]
		self.assertEqual(self.queued, [], "no job per message")
		self.assertEqual({self.message(n).status for n in names}, {QUEUED})
		with patch.object(frappe, "enqueue") as enqueue:
			outbound.enqueue_deliveries(names, per_job=2)
		self.assertEqual([c.kwargs["names"] for c in enqueue.call_args_list], [names[:2], names[2:]])
		outbound.deliver_many(names)
		self.assertEqual({self.message(n).status for n in names}, {SENT})
		self.assertEqual(len(self.server.requests), 3)

	def test_webhook_failure_is_logged_and_retried_with_backoff(self):
		self.make_adapter(channel=WECHAT)
		self.server.reset(failures=2)
		name = dispatch(self.customer_a, WECHAT, "Service", "Your card is ready")
		before = now_datetime()
		outbound.deliver(name)
		doc = self.message(name)
		self.assertEqual((doc.status, doc.attempts), (FAILED, 1))
		self.assertIn("HTTP 500", doc.last_error)
		delay = get_datetime(doc.next_attempt_at) - before
		self.assertTrue(
			timedelta(minutes=2) - timedelta(seconds=5) <= delay <= timedelta(minutes=2, seconds=5)
		)

		# not due yet: retry_due leaves it alone
		self.retry()
		self.assertEqual(len(self.server.requests), 1)

		self.make_due(name)
		self.retry()
		doc = self.message(name)
		self.assertEqual((doc.status, doc.attempts), (FAILED, 2))
		delay = get_datetime(doc.next_attempt_at) - now_datetime()
		self.assertTrue(timedelta(minutes=3) < delay <= timedelta(minutes=4))  # 2 min × 2

		self.make_due(name)
		self.retry()
		doc = self.message(name)
		self.assertEqual((doc.status, doc.attempts), (SENT, 3))
		self.assertIsNone(doc.last_error)
		self.assertEqual(len(self.server.requests), 3)

	def test_exhausted_attempts_are_dead_logged_and_notified(self):
		self.make_adapter(max_attempts=2)
		self.server.reset(failures=100)
		name = dispatch(self.customer_a, APP_PUSH, "Greeting", "Happy birthday")
		outbound.deliver(name)
		self.assertEqual(self.message(name).status, FAILED)
		self.make_due(name)
		self.retry()
		doc = self.message(name)
		self.assertEqual((doc.status, doc.attempts), (DEAD, 2))
		self.assertIsNone(doc.next_attempt_at)
		self.assertTrue(frappe.db.exists("Error Log", {"reference_doctype": MESSAGE, "reference_name": name}))
		self.assertTrue(
			frappe.db.exists(
				"Notification Log", {"document_type": MESSAGE, "document_name": name, "for_user": self.admin}
			)
		)
		self.make_due(name)
		self.retry()
		self.assertEqual(len(self.server.requests), 2)  # dead stays dead

	def test_manual_retry_of_a_dead_message(self):
		from bank_crm.api.outbound import retry

		self.make_adapter(max_attempts=1)
		self.server.reset(failures=1)
		name = dispatch(self.customer_a, APP_PUSH, "Notice", "Fixed later")
		outbound.deliver(name)
		self.assertEqual(self.message(name).status, DEAD)

		frappe.set_user(self.rm_a)
		with self.assertRaises(frappe.PermissionError):
			retry(name)
		frappe.set_user("Administrator")
		self.assertEqual(retry(name), QUEUED)
		self.assertEqual(self.queued[-1], name)
		outbound.deliver(name)
		doc = self.message(name)
		self.assertEqual((doc.status, doc.attempts), (SENT, 2))
		with self.assertRaises(frappe.ValidationError):
			retry(name)  # nothing to retry

	def test_unreachable_webhook_and_missing_adapter_fail_with_retry(self):
		name = dispatch(self.customer_a, APP_PUSH, "Tip", "No adapter yet")
		outbound.deliver(name)
		doc = self.message(name)
		self.assertEqual((doc.status, doc.attempts), (FAILED, 1))
		self.assertIn("No enabled Bank Channel Adapter", doc.last_error)

		self.make_adapter(webhook_url="http://127.0.0.1:9/hook", timeout_seconds=2)
		self.make_due(name)
		self.retry()
		doc = self.message(name)
		self.assertEqual((doc.status, doc.attempts), (FAILED, 2))
		self.assertIn("Webhook request failed", doc.last_error)

	def test_lost_job_is_picked_up_after_the_grace_period(self):
		self.make_adapter()
		name = dispatch(self.customer_a, APP_PUSH, "Tip", "The job never ran")
		self.retry()
		self.assertEqual(self.message(name).status, QUEUED)
		self.make_due(name)
		self.retry()
		self.assertEqual(self.message(name).status, SENT)

	def test_adapter_validation(self):
		self.make_adapter()
		with self.assertRaises(AdapterValidationError):  # a second enabled adapter for the channel
			self.make_adapter()
		self.make_adapter(enabled=0)
		with self.assertRaises(AdapterValidationError):
			self.make_adapter(channel=WECHAT, payload_template='{"to": {{ recipient }}}')  # not JSON
		with self.assertRaises(AdapterValidationError):
			self.make_adapter(channel=WECHAT, http_headers='{"Bad Header": "x"}')
		with self.assertRaises(AdapterValidationError):
			self.make_adapter(channel=WECHAT, http_headers="[1, 2]")
		with self.assertRaises(AdapterValidationError):
			self.make_adapter(channel=WECHAT, max_attempts=0)

	# -- email and SMS ---------------------------------------------------------------------

	def test_email_goes_to_email_queue_and_the_timeline(self):
		frappe.get_doc(
			{
				"doctype": "Email Account",
				"email_account_name": "Bank CRM Test Outgoing",
				"email_id": "crm-outgoing@example.com",
				"enable_outgoing": 1,
				"default_outgoing": 1,
				"smtp_server": "127.0.0.1",
				"smtp_port": 2525,
				"no_smtp_authentication": 1,
			}
		).insert(ignore_permissions=True)
		name = dispatch(self.customer_a, EMAIL, "Rate change", "Deposit rates go up\nfrom Monday")
		doc = self.message(name)
		self.assertEqual(
			(doc.status, doc.recipient, doc.attempts), (SENT, "client-a@example.com", 1), doc.last_error
		)
		comm = frappe.get_doc("Communication", doc.communication)
		self.assertEqual((comm.reference_doctype, comm.reference_name), ("Customer", self.customer_a))
		self.assertEqual(comm.communication_medium, "Email")
		queue = frappe.get_all(
			"Email Queue", filters={"communication": comm.name}, fields=["name", "status", "email_account"]
		)
		self.assertEqual(len(queue), 1)
		self.assertEqual(queue[0].email_account, "Bank CRM Test Outgoing")
		recipients = frappe.get_all("Email Queue Recipient", {"parent": queue[0].name}, pluck="recipient")
		self.assertEqual(recipients, ["client-a@example.com"])

	def test_email_without_address_fails_and_keeps_nothing(self):
		name = dispatch(self.customer_b, EMAIL, "Rate change", "No address on file")
		doc = self.message(name)
		self.assertEqual((doc.status, doc.attempts), (FAILED, 1))
		self.assertIn("no email address", doc.last_error)
		self.assertFalse(doc.communication)
		self.assertTrue(doc.next_attempt_at)

	def test_sms_through_sms_settings(self):
		settings = frappe.get_single("SMS Settings")
		settings.sms_gateway_url = self.server.url + "/sms"
		settings.message_parameter = "text"
		settings.receiver_parameter = "to"
		settings.use_post = 1
		settings.save(ignore_permissions=True)
		name = dispatch(self.customer_a, SMS, "Tip", "Beware of phone fraud")
		doc = self.message(name)
		self.assertEqual((doc.status, doc.recipient), (SENT, "138-0013 8000"))
		[request] = self.server.requests
		form = parse_qs(request["body"].decode())
		self.assertEqual(form["to"], ["13800138000"])
		self.assertEqual(form["text"], ["Beware of phone fraud"])
		self.assertFalse(doc.communication)  # the timeline shows the message itself
		self.assertIn(name, json.dumps(timeline.customer_messages("Customer", self.customer_a), default=str))

		# the gateway fails: Failed with retry; retry_due sends it again
		self.server.reset(failures=1)
		name = dispatch(self.customer_a, SMS, "Tip", "Second tip")
		doc = self.message(name)
		self.assertEqual((doc.status, doc.attempts), (FAILED, 1))
		self.make_due(name)
		self.retry()
		self.assertEqual(self.message(name).status, SENT)

	def test_sms_without_settings_is_a_failure(self):
		frappe.db.set_single_value("SMS Settings", "sms_gateway_url", "")
		name = dispatch(self.customer_a, SMS, "Tip", "Nowhere to go")
		doc = self.message(name)
		self.assertEqual(doc.status, FAILED)
		self.assertIn("SMS Settings not configured", doc.last_error)

	# -- tasks -----------------------------------------------------------------------------

	def test_phone_and_visit_create_tasks_for_the_owning_rm(self):
		due = getdate("2026-12-03")
		name = dispatch(self.customer_a, PHONE, "Call about maturity", "Term deposit matures", due_date=due)
		doc = self.message(name)
		self.assertEqual((doc.status, doc.recipient), (TASK_CREATED, self.rm_a))
		todo = frappe.get_doc("ToDo", doc.todo)
		self.assertEqual(
			(todo.allocated_to, todo.reference_type, todo.reference_name, todo.date, todo.status),
			(self.rm_a, "Customer", self.customer_a, due, "Open"),
		)
		self.assertIn("Call about maturity", todo.description)
		# a second contact gets its own task
		second = self.message(dispatch(self.customer_a, VISIT, "Visit", "Annual review"))
		self.assertNotEqual(second.todo, doc.todo)
		self.assertEqual(frappe.db.get_value("ToDo", second.todo, "allocated_to"), self.rm_a)
		# explicit assignee
		third = self.message(
			dispatch(self.customer_a, PHONE, "Cover", "Colleague calls", assign_to=self.rm_b)
		)
		self.assertEqual(frappe.db.get_value("ToDo", third.todo, "allocated_to"), self.rm_b)

	def test_task_without_rm_fails(self):
		orphan = make_customer(f"无客户经理 {frappe.generate_hash(length=6)}")
		doc = self.message(dispatch(orphan, PHONE, "Call", "Nobody to call"))
		self.assertEqual(doc.status, FAILED)
		self.assertIn("no relationship manager", doc.last_error)

	# -- dispatch --------------------------------------------------------------------------

	def test_idempotency_key_sends_once(self):
		key = "care:birthday:" + frappe.generate_hash(length=8)
		first = dispatch(self.customer_a, PHONE, "Birthday", "Call", idempotency_key=key)
		second = dispatch(self.customer_a, PHONE, "Birthday", "Call", idempotency_key=key)
		self.assertEqual(first, second)
		self.assertEqual(frappe.db.count(MESSAGE, {"idempotency_key": key}), 1)
		self.assertEqual(
			frappe.db.count(
				"ToDo", {"reference_name": self.customer_a, "description": ("like", "%Birthday%")}
			),
			1,
		)
		# messages without a key never collide
		dispatch(self.customer_a, PHONE, "No key", "x")
		dispatch(self.customer_a, PHONE, "No key", "y")

	def test_bad_arguments(self):
		with self.assertRaises(OutboundError):
			dispatch(self.customer_a, "Fax", "x", "y")
		with self.assertRaises(OutboundError):
			dispatch(self.customer_a, SMS, "x", "y", content_class="Spam")
		with self.assertRaises(OutboundError):
			dispatch("No Such Customer", SMS, "x", "y")


class TestOutboundAccess(FrappeTestCase):
	"""An RM reads the delivery log of own customers only, through REST."""

	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		frappe.set_user("Administrator")
		cls.rm_a = make_user("obm-acc-rm-a", ["Relationship Manager"])
		cls.rm_b = make_user("obm-acc-rm-b", ["Relationship Manager"])
		tag = frappe.generate_hash(length=6)
		cls.customer_a = make_customer(f"外呼权限 A {tag}", rm=cls.rm_a)
		cls.customer_b = make_customer(f"外呼权限 B {tag}", rm=cls.rm_b)
		cls.msg_a = dispatch(cls.customer_a, PHONE, "Call A", "x")
		cls.msg_b = dispatch(cls.customer_b, PHONE, "Call B", "y")
		cls.adapter = (
			frappe.get_doc(
				{
					"doctype": ADAPTER,
					"adapter_name": f"Test access {tag}",
					"channel": WECHAT,
					"enabled": 0,
					"webhook_url": "https://push.example.com/hook",
					"http_headers": json.dumps({"X-Api-Key": "secret-key"}),
					"payload_template": TEMPLATE,
				}
			)
			.insert()
			.name
		)
		cls.token = api_token(cls.rm_a)
		frappe.db.commit()  # the API runs in another thread on its own connection
		clear_scope_cache()

	@classmethod
	def tearDownClass(cls):
		frappe.set_user("Administrator")
		todos = frappe.get_all(MESSAGE, {"name": ("in", [cls.msg_a, cls.msg_b])}, pluck="todo")
		frappe.db.delete(MESSAGE, {"name": ("in", [cls.msg_a, cls.msg_b])})
		frappe.db.delete("ToDo", {"name": ("in", todos)})
		frappe.db.delete(ADAPTER, {"name": cls.adapter})
		for customer in (cls.customer_a, cls.customer_b):
			for doctype in ("Comment", "Communication"):
				frappe.db.delete(doctype, {"reference_doctype": "Customer", "reference_name": customer})
			frappe.db.delete("DocShare", {"share_doctype": "Customer", "share_name": customer})
			frappe.db.delete("Customer", {"name": customer})
		frappe.db.commit()
		super().tearDownClass()

	def test_rm_sees_own_customers_messages_only(self):
		api = Api(self.token)
		response = api.get(
			f"/api/resource/{MESSAGE}",
			filters=[["customer", "in", [self.customer_a, self.customer_b]]],
			fields=["name", "customer"],
		)
		self.assertEqual(response.status_code, 200, response.text)
		self.assertEqual([r["name"] for r in response.json["data"]], [self.msg_a])
		self.assertEqual(api.get(f"/api/resource/{MESSAGE}/{self.msg_a}").status_code, 200)
		self.assertEqual(api.get(f"/api/resource/{MESSAGE}/{self.msg_b}").status_code, 403)
		# read-only for users
		response = api.post(f"/api/resource/{MESSAGE}", {"customer": self.customer_a, "channel": "SMS"})
		self.assertEqual(response.status_code, 403)

	def test_rm_reads_adapters_without_endpoint_and_headers(self):
		response = Api(self.token).get(f"/api/resource/{ADAPTER}/{self.adapter}")
		self.assertEqual(response.status_code, 200, response.text)
		data = response.json["data"]
		self.assertEqual(data["channel"], WECHAT)
		self.assertNotIn("http_headers", data)
		self.assertNotIn("webhook_url", data)
		self.assertNotIn("secret-key", response.text)
