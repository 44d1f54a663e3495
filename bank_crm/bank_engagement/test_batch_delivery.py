"""Batch delivery against the gateway simulator (``benchmarks/gateway_simulator.py``) on a real
site: signed batches, per-message results, retries of only the refused, an unusable number marked
on the profile and routed around, delivery receipts over HTTP (applied once, forged and unknown
ones refused and logged), a sender killed after its claim and a gateway down for a while — with
every message handed over once — and the timeline without a Communication per message."""

import importlib.util
import json
import random
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlencode

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import now_datetime

from bank_crm.bank_engagement import batch_delivery, contact, email_bulk, timeline
from bank_crm.core.delivery import sign
from bank_crm.tests.factories import Api, individual, make_customer, make_profile, new_id

ADAPTER = "Bank Channel Adapter"
MESSAGE = "Bank Outbound Message"
SECRET, RECEIPT_SECRET = "batch-signing-secret", "batch-receipt-secret"
NUMBERS = (
	"13900000001",
	"13900000002",
	"13900000003",
	"13900000004",
	"13900000005",
	"13900009999",
	"13900000000",
)


def simulator():
	path = Path(__file__).resolve().parents[2] / "benchmarks" / "gateway_simulator.py"
	spec = importlib.util.spec_from_file_location("bank_crm_gateway_simulator", path)
	module = importlib.util.module_from_spec(spec)
	spec.loader.exec_module(module)
	return module


class TestBatchDelivery(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		frappe.set_user("Administrator")
		cls.server, cls.gateway = simulator().make_server(0, signing_secret=SECRET, keep_receipts=True)
		import threading

		threading.Thread(target=cls.server.serve_forever, daemon=True).start()
		cls.url = f"http://127.0.0.1:{cls.server.server_address[1]}"
		tag = frappe.generate_hash(length=6)
		cls.customers = []
		rng = random.Random(tag)
		for i, number in enumerate(NUMBERS):
			customer = make_customer(f"批量短信 {tag} {i}")
			born = date(rng.randint(1950, 2000), rng.randint(1, 12), rng.randint(1, 28))
			make_profile(
				individual(
					customer,
					date_of_birth=born,
					id_number=new_id(born),
					mobile_no=number,
					app_user_id=f"app-{tag}-{i}",
					allow_sms=1,
					preferred_channel="SMS",
					consents=[
						{
							"purpose": "Service",
							"channel": "All Channels",
							"granted_on": "2026-01-05 10:00:00",
							"evidence_type": "Signed Form",
						}
					],
				)
			)
			cls.customers.append(customer)
		cls.others = frappe.get_all(ADAPTER, filters={"channel": "SMS", "enabled": 1}, pluck="name")
		frappe.db.set_value(ADAPTER, {"channel": "SMS", "enabled": 1}, "enabled", 0)
		cls.adapter = frappe.get_doc(
			{
				"doctype": ADAPTER,
				"adapter_name": f"Batch SMS {tag}",
				"channel": "SMS",
				"enabled": 1,
				"batch_mode": 1,
				"batch_size": 3,
				"senders": 1,
				"requests_per_second": 50,
				"messages_per_second": 1000,
				"webhook_url": cls.url + "/batch",
				"signing_secret": SECRET,
				"receipt_secret": RECEIPT_SECRET,
				"timeout_seconds": 5,
				"max_attempts": 3,
				"first_retry_delay_minutes": 1,
			}
		).insert()
		frappe.db.commit()

	@classmethod
	def tearDownClass(cls):
		cls.server.shutdown()
		cls.gateway.stop()
		names = frappe.get_all(MESSAGE, {"customer": ("in", cls.customers)}, pluck="name")
		frappe.db.delete(MESSAGE, {"name": ("in", names or [""])})
		frappe.db.delete("Email Queue", {"reference_name": ("in", names or [""])})
		frappe.db.delete(ADAPTER, cls.adapter.name)
		for name in cls.others:
			frappe.db.set_value(ADAPTER, name, "enabled", 1)
		frappe.db.commit()
		super().tearDownClass()

	def setUp(self):
		frappe.set_user("Administrator")
		self.gateway.reset()
		self.gateway.settings.update(down=False, latency_ms=0, refuse_share=0.0)

	def queue(self, tag: str, customers=None) -> dict[str, str]:
		rows = [
			{
				"customer": c,
				"channel": "SMS",
				"content_class": "Important Notice",
				"subject": "利率调整",
				"message": f"尊敬的客户：存款利率自下周一起调整。{tag}",
				"recipient": frappe.db.get_value("Bank Customer Profile", {"customer": c}, "mobile_no"),
				"idempotency_key": f"{tag}|{c}",
			}
			for c in customers or self.customers
		]
		keyed = batch_delivery.queue_many(rows, wake=False)
		frappe.db.commit()
		return keyed

	def statuses(self, keyed) -> dict[str, str]:
		return dict(
			frappe.get_all(MESSAGE, {"name": ("in", list(keyed.values()))}, ["name", "status"], as_list=True)
		)

	def post_receipts(self, payload: dict, secret: str = RECEIPT_SECRET, adapter=None):
		body = json.dumps(payload).encode()
		frappe.db.commit()  # the request runs on its own connection; afterwards, read anew
		try:
			return Api().post_raw(
				"/api/method/bank_crm.api.outbound.receipts?"
				+ urlencode({"adapter": adapter or self.adapter.name}),
				body,
				headers={"X-Bank-CRM-Signature": sign(body, secret)},
			)
		finally:
			frappe.db.commit()

	def test_signed_batches_results_receipts_and_an_unusable_number(self):
		tag = frappe.generate_hash(length=6)
		keyed = self.queue(tag)
		self.assertEqual(self.queue(tag), keyed, "queued again with the same keys: nothing twice")
		self.assertEqual(frappe.db.count(MESSAGE, {"idempotency_key": ("like", f"{tag}|%")}), len(NUMBERS))

		done = batch_delivery.send_due(self.adapter.name, idle_checks=1, retry_wait=0)
		stats = self.gateway.stats
		self.assertEqual(stats["requests"], 3, "7 messages in batches of 3")
		self.assertEqual(stats["bad_signatures"], 0)
		self.assertEqual((done["accepted"], done["refused"]), (6, 1))
		by_customer = {
			r.customer: r
			for r in frappe.get_all(
				MESSAGE,
				{"name": ("in", list(keyed.values()))},
				["customer", "status", "gateway_message_id", "last_error", "communication"],
			)
		}
		invalid = self.customers[NUMBERS.index("13900000000")]
		self.assertEqual(by_customer[invalid].status, "Dead", "retrying an invalid number cannot help")
		self.assertEqual(by_customer[invalid].last_error, "invalid_number")
		sent = [r for c, r in by_customer.items() if c != invalid]
		self.assertTrue(all(r.status == "Sent" and r.gateway_message_id for r in sent))
		self.assertFalse(any(r.communication for r in by_customer.values()), "no Communication per message")
		# the number is unusable: SMS is routed around it from now on
		profile = frappe.get_doc("Bank Customer Profile", {"customer": invalid})
		self.assertTrue(profile.mobile_unusable)
		self.assertIn("invalid_number", profile.unusable_contact_note)
		self.assertNotIn("SMS", contact.preferences_of(profile).reachable)
		self.assertIn("Phone", contact.preferences_of(profile).reachable)

		# receipts over HTTP, signed: delivered, and a number the gateway learnt was invalid
		receipts = self.gateway.take_receipts()
		self.assertEqual(len(receipts), 6)
		answer = self.post_receipts({"receipts": receipts})
		self.assertEqual(answer.status_code, 200, answer.text)
		self.assertEqual(answer.json["message"]["applied"], 6)
		late = self.customers[NUMBERS.index("13900009999")]
		row = frappe.db.get_value(
			MESSAGE, keyed[f"{tag}|{late}"], ["receipt_status", "receipt_reason"], as_dict=True
		)
		self.assertEqual((row.receipt_status, row.receipt_reason), ("Undelivered", "invalid_number"))
		self.assertTrue(frappe.db.get_value("Bank Customer Profile", {"customer": late}, "mobile_unusable"))
		delivered = frappe.db.count(
			MESSAGE, {"name": ("in", list(keyed.values())), "receipt_status": "Delivered"}
		)
		self.assertEqual(delivered, 5)
		# replayed: nothing changes
		again = self.post_receipts({"receipts": receipts}).json["message"]
		self.assertEqual((again["applied"], again["unchanged"]), (0, 6))
		# forged, or for ids the adapter never gave: refused and logged, never applied
		logs = frappe.db.count("Error Log")
		forged = self.post_receipts(
			{"receipts": [{"gateway_id": receipts[0]["gateway_id"], "status": "clicked"}]}, secret="guess"
		)
		self.assertEqual(forged.status_code, 401)
		unknown = self.post_receipts({"receipts": [{"gateway_id": "G-NOT-OURS", "status": "delivered"}]})
		self.assertEqual(unknown.json["message"]["unknown"], 1)
		self.assertEqual(frappe.db.count("Error Log"), logs + 2)
		self.assertEqual(
			frappe.db.count(MESSAGE, {"name": ("in", list(keyed.values())), "receipt_status": "Clicked"}), 0
		)
		# the timeline shows the messages with their receipts
		items = timeline.customer_messages("Customer", self.customers[0])
		self.assertTrue(items)
		self.assertTrue("Delivered" in items[0]["content"] or "已送达" in items[0]["content"], items[0])

	def test_a_killed_sender_and_a_gateway_down_hand_every_message_over_once(self):
		tag = frappe.generate_hash(length=6)
		customers = self.customers[:5]
		keyed = self.queue(tag, customers)
		# a sender claims them and dies before it hears the answer — which the gateway had sent
		claimed = batch_delivery._claim(self.adapter.name, 100)
		self.assertEqual(len(claimed), 5)
		body = json.dumps(
			{"channel": "SMS", "messages": [{"id": n, "to": r, "text": m} for n, r, m, _a in claimed]}
		).encode()
		self.assertEqual(self.gateway.batch(body, sign(body, SECRET))[0], 200)
		self.assertEqual(set(self.statuses(keyed).values()), {"Sending"})
		self.assertEqual(
			batch_delivery.send_due(self.adapter.name, idle_checks=1, retry_wait=0)["requests"], 0
		)
		# the repair job makes them due again once the claim is stale; the gateway is down now
		batch_delivery.reclaim_stale(now_datetime() + timedelta(minutes=batch_delivery.STALE_MINUTES + 1))
		self.assertEqual(set(self.statuses(keyed).values()), {"Queued"})
		self.gateway.settings["down"] = True
		batch_delivery.send_due(self.adapter.name, idle_checks=1, retry_wait=0)
		rows = frappe.get_all(
			MESSAGE, {"name": ("in", list(keyed.values()))}, ["status", "attempts", "last_error"]
		)
		self.assertTrue(
			all(r.status == "Failed" and r.attempts == 1 and "503" in r.last_error for r in rows), rows
		)
		# back up; their retry is due: each goes again with its id, and the gateway takes it once
		self.gateway.settings["down"] = False
		frappe.db.sql(
			f"update `tab{MESSAGE}` set next_attempt_at = %s where name in %s",
			(now_datetime() - timedelta(minutes=1), list(keyed.values())),
		)
		frappe.db.commit()
		batch_delivery.send_due(self.adapter.name, idle_checks=1, retry_wait=0)
		self.assertEqual(set(self.statuses(keyed).values()), {"Sent"})
		self.assertEqual(self.gateway.stats["accepted"], 5, "handed over once")
		self.assertEqual(self.gateway.stats["duplicates"], 5, "the resent ones were recognised")

	def test_a_broadcast_goes_out_through_the_batch_gateway_and_its_report_shows_the_receipts(self):
		from unittest.mock import patch

		from bank_crm.bank_outreach import broadcasts
		from bank_crm.bank_outreach.report.broadcast_performance import broadcast_performance

		doc = frappe.get_doc(
			{
				"doctype": "Bank Broadcast",
				"title": "批量网关测试",
				"content_class": "Routine Tip",
				"sms_text": "{{ customer_name }}您好：存款利率调整。",
				"customer_list": "\n".join(self.customers),
			}
		)
		doc.flags.ignore_permissions = True
		doc.insert()
		frappe.db.set_value("Bank Broadcast", doc.name, "workflow_state", "Scheduled", update_modified=False)
		frappe.db.commit()
		with patch.object(broadcasts, "enqueue_send") as started:
			broadcasts.send_scheduled()  # planned, Sending, its shards queued …
			frappe.db.commit()
			# … and their worker killed before any row went out: the next cron goes on with it
			broadcasts.send_scheduled()
		ours = [c.args[0] for c in started.call_args_list if c.args[0] == doc.name]
		self.assertEqual(len(ours), 2, "started, then taken up again")
		with patch.object(broadcasts, "enqueue_send"):
			broadcasts.send(doc.name)
		frappe.db.commit()
		rows = frappe.get_all(
			"Bank Broadcast Recipient",
			{"broadcast": doc.name},
			["customer", "status", "channel", "outbound_message"],
		)
		self.assertEqual({r.status for r in rows}, {"Sent"}, rows)
		self.assertEqual({r.channel for r in rows}, {"SMS"})
		names = [r.outbound_message for r in rows]
		# the sending shard handed them to the gateway itself, in batches of 3
		handed = frappe.get_all(MESSAGE, {"name": ("in", names)}, ["status", "adapter", "gateway_message_id"])
		self.assertEqual(sorted(m.status for m in handed), ["Dead"] + ["Sent"] * 6, handed)
		self.assertTrue(all(m.adapter == self.adapter.name for m in handed))
		self.assertEqual(self.gateway.stats["requests"], 3)
		self.assertEqual(batch_delivery.send_due(self.adapter.name, idle_checks=1)["requests"], 0)
		self.post_receipts({"receipts": self.gateway.take_receipts()})
		columns, data, *_rest = broadcast_performance.execute({"group_by": "Channel", "broadcast": doc.name})
		sms = next(d for d in data if d["group"] == "SMS")
		self.assertEqual((sms["delivered"], sms["undelivered"]), (5, 1))
		self.assertIn("invalid_number (2)", sms["reasons"])  # one refused at once, one by receipt
		self.assertIn("receipt_rate", [c["fieldname"] for c in columns])
		frappe.db.delete("Bank Broadcast Recipient", {"broadcast": doc.name})
		frappe.db.delete("Bank Broadcast", doc.name)
		frappe.db.commit()

	def test_emails_for_many_customers_go_into_frappes_email_queue_in_bulk(self):
		if not email_bulk.outgoing_account():
			frappe.get_doc(
				{
					"doctype": "Email Account",
					"email_account_name": "Bank CRM Batch Outgoing",
					"email_id": "crm-batch@example.com",
					"enable_outgoing": 1,
					"default_outgoing": 1,
					"smtp_server": "127.0.0.1",
					"smtp_port": 2525,
					"no_smtp_authentication": 1,
				}
			).insert(ignore_permissions=True)
		tag = frappe.generate_hash(length=6)
		rows = [
			{
				"customer": c,
				"recipient": f"client-{i}-{tag}@example.com",
				"subject": "利率调整",
				"message": f"<p>尊敬的客户{c}：利率调整。</p>",
				"customer_name": c,
				"idempotency_key": f"{tag}|{c}",
			}
			for i, c in enumerate(self.customers[:3])
		]
		rows[0]["send_after"] = now_datetime() + timedelta(hours=9)  # the customer's quiet hours
		keyed = email_bulk.queue_emails(rows)
		self.assertEqual(email_bulk.queue_emails(rows), keyed, "nothing twice")
		queues = frappe.get_all(
			"Email Queue",
			{"reference_doctype": MESSAGE, "reference_name": ("in", list(keyed.values()))},
			["name", "status", "message", "sender"],
		)
		self.assertEqual(len(queues), 3)
		self.assertTrue(all(q.status == "Not Sent" and q.sender and q.message for q in queues), queues)
		deferred = {
			q.reference_name: q.send_after
			for q in frappe.get_all(
				"Email Queue", {"name": ("in", [q.name for q in queues])}, ["reference_name", "send_after"]
			)
		}
		self.assertTrue(deferred[keyed[rows[0]["idempotency_key"]]], "deferred to after the quiet hours")
		self.assertFalse(deferred[keyed[rows[1]["idempotency_key"]]], "each e-mail keeps its own time")
		recipients = frappe.get_all(
			"Email Queue Recipient", {"parent": ("in", [q.name for q in queues])}, pluck="recipient"
		)
		# each e-mail is what Frappe itself builds for that body, made from one shared build
		import email as mail
		import email.policy

		def parts(mime):
			parsed = mail.message_from_string(mime, policy=mail.policy.SMTP)
			return [
				p.get_payload(decode=True) for p in parsed.walk() if p.get_content_type().startswith("text/")
			]

		account = email_bulk.outgoing_account()
		template = email_bulk._Template(account, account.default_sender)
		for row in rows:
			made = template.message(row, "M")
			full = template._build(row["subject"], row["message"], row, "M")
			self.assertEqual(parts(made["message"]), parts(full["message"]))
			self.assertNotEqual(made["message_id"], full["message_id"])
		self.assertEqual(len(template.cache), 1, "one build shared by the three customers")
		# an e-mail sent in bulk has no Communication: the customer's timeline shows it itself
		shown = json.dumps(timeline.customer_messages("Customer", rows[0]["customer"]), default=str)
		self.assertIn(keyed[rows[0]["idempotency_key"]], shown)
		self.assertEqual(sorted(recipients), sorted(r["recipient"] for r in rows))
		frappe.db.rollback()
		# Frappe keeps the outgoing account found in the process: forget the rolled-back one
		frappe.local.outgoing_email_account = {}
