"""Benchmark: a notice to every customer through batch gateways and Frappe's Email Queue, then
the gateways' delivery receipts, at bank scale.

Run from the bench's ``sites`` folder with the bench's Python (``aiosmtpd`` installed: the app's
``bench`` extra), against a site made for it (customers loaded by ``benchmarks/segmentation.py
--load``; the script sets contact details like a bank's, replaces the adapters and the outgoing
Email Account, and writes and deletes broadcasts), with no other RQ worker or web server of the
bench running (the script starts its own on 127.0.0.1):

    cd ~/frappe-bench/sites
    ../env/bin/python ../apps/bank_crm/benchmarks/outbound.py --site bench.localhost [--limit N]

What it starts, each on a free port of 127.0.0.1 (and checks that what answers is its own):
three gateway simulators (SMS, app push, WeChat: ``gateway_simulator.py``, receipts held until
released), an SMTP server (aiosmtpd, counting what it receives), gunicorn for the receipt
endpoint, and two RQ workers on ``long`` and two on ``short``.

Steps (README, "Outbound at bank scale"):

1. A notice to every customer (``--limit`` for fewer), approved: from the moment it is due to
   every gateway message accepted and every e-mail in the Email Queue — the planning (routing,
   consent, a delivery row per customer), the sending shards (messages in bulk), the gateways'
   senders; messages per second and each stage's share; each worker's peak memory.
2. The receipts of every accepted message, released at once by the simulators and applied by the
   endpoint: seconds to the last one applied.
3. Frappe's e-mail workers (``frappe.email.queue.flush``) delivering ``--emails`` of the queued
   e-mails to the SMTP server: e-mails per second out.
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parent))

from broadcasts import BODIES, connect, contact_details, make_broadcast, remove_broadcasts  # noqa: E402
from harness import Web  # noqa: E402  (this folder's: gunicorn on a free port, checked to be ours)
from harness import start_workers as harness_workers  # noqa: E402

TAG = "[bench-outbound]"
CHANNEL_ADAPTERS = {
	"SMS": "bench sms gateway",
	"App Push": "bench push gateway",
	"WeChat": "bench wechat gateway",
}
RECEIPT_SECRET = "bench-receipts"


def free_port() -> int:
	with socket.socket() as s:
		s.bind(("127.0.0.1", 0))
		return s.getsockname()[1]


def get_json(url: str, data: dict | None = None, timeout=30, host: str | None = None) -> dict:
	body = json.dumps(data).encode() if data is not None else None
	headers = {"Content-Type": "application/json", **({"Host": host} if host else {})}
	request = urllib.request.Request(url, data=body, headers=headers)
	with urllib.request.urlopen(request, timeout=timeout) as answer:
		return json.loads(answer.read())


def start_simulator(receipt_url: str, site: str) -> tuple[subprocess.Popen, str]:
	process = subprocess.Popen(
		[
			sys.executable,
			str(HERE.parent / "gateway_simulator.py"),
			"--port",
			"0",
			"--latency-ms",
			"20",
			"--refuse-share",
			"0.002",
			"--receipt-url",
			receipt_url,
			"--receipt-secret",
			RECEIPT_SECRET,
			"--hold-receipts",
			"--host-header",
			site,
		],
		stdout=subprocess.PIPE,
		text=True,
	)
	line = process.stdout.readline().strip()
	if not line.startswith("listening on "):
		raise SystemExit(f"gateway simulator did not start: {line}")
	url = line.removeprefix("listening on ")
	assert "accepted" in get_json(url + "/stats"), "what answers is not the simulator"
	return process, url


class Smtp:
	"""aiosmtpd on 127.0.0.1: counts the messages it receives."""

	def __init__(self):
		from aiosmtpd.controller import Controller

		self.count = 0

		class Handler:
			async def handle_DATA(handler, server, session, envelope):  # noqa: N805
				self.count += 1
				return "250 OK"

		self.port = free_port()
		self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
		self.controller.start()

	def stop(self):
		self.controller.stop()


def start_web(site: str) -> tuple[Web, int]:
	web = Web(site, workers=2)
	return web, web.port


def start_workers() -> list[subprocess.Popen]:
	"""Two RQ workers that take the long queue first, two the short queue first."""
	return [*harness_workers("long,short", 2), *harness_workers("short,long", 2)]


def peak_of(pid: int) -> int:
	"""The process's and its children's (RQ forks a job) peak resident memory, in MiB."""
	peak = 0
	for p in [pid, *_children(pid)]:
		try:
			for line in Path(f"/proc/{p}/status").read_text().splitlines():
				if line.startswith("VmHWM:"):
					peak = max(peak, int(line.split()[1]) // 1024)
		except OSError:
			continue
	return peak


def _children(pid: int) -> list[int]:
	try:
		return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
	except OSError:
		return []


def configure(frappe, site: str, simulators: dict[str, str], smtp_port: int, web_port: int):
	"""Batch adapters to the simulators (the only enabled ones) and the outgoing Email Account."""
	frappe.db.set_value("Bank Channel Adapter", {"enabled": 1}, "enabled", 0)
	for channel, name in CHANNEL_ADAPTERS.items():
		values = {
			"channel": channel,
			"enabled": 1,
			"batch_mode": 1,
			"batch_size": 500,
			"senders": 2,
			"requests_per_second": 0,
			"messages_per_second": 0,
			"webhook_url": simulators[channel] + "/batch",
			"timeout_seconds": 30,
			"max_attempts": 5,
			"first_retry_delay_minutes": 1,
		}
		if frappe.db.exists("Bank Channel Adapter", name):
			doc = frappe.get_doc("Bank Channel Adapter", name)
			doc.update(values)
		else:
			doc = frappe.get_doc({"doctype": "Bank Channel Adapter", "adapter_name": name, **values})
		doc.receipt_secret = RECEIPT_SECRET
		doc.flags.ignore_permissions = True
		doc.save()
	frappe.db.set_value("Email Account", {"default_outgoing": 1}, "default_outgoing", 0)
	account = "bench smtp"
	values = {
		"email_id": "notices@bank.example",
		"enable_outgoing": 1,
		"default_outgoing": 1,
		"smtp_server": "127.0.0.1",
		"smtp_port": smtp_port,
		"no_smtp_authentication": 1,
		"use_tls": 0,
		"use_ssl": 0,
	}
	if frappe.db.exists("Email Account", account):
		frappe.db.set_value("Email Account", account, values)
	else:
		frappe.get_doc({"doctype": "Email Account", "email_account_name": account, **values}).insert(
			ignore_permissions=True
		)
	frappe.db.set_single_value("Bank Outreach Settings", "send_shards", 3)
	frappe.db.set_single_value("Bank Outreach Settings", "send_batch_size", 2000)
	frappe.db.commit()


def clean(frappe):
	remove_broadcasts(frappe)
	frappe.db.sql(
		"delete from `tabEmail Queue Recipient` where parent in (select name from `tabEmail Queue` where reference_doctype = 'Bank Outbound Message')"
	)
	frappe.db.sql("delete from `tabEmail Queue` where reference_doctype = 'Bank Outbound Message'")
	frappe.db.commit()


def care_first_day(frappe, workers) -> dict:
	"""The care job's first full day: every customer whose birthday, anniversary, maturity or
	reassessment is inside a rule's window, recorded and acted on (greetings written in bulk and
	handed to the gateways, or queued as e-mail; RM tasks), two shards on the workers."""
	for sql in (
		"delete from `tabToDo` where reference_type = 'Bank Care Event'",
		"delete from `tabEmail Queue Recipient` where parent in (select q.name from `tabEmail Queue` q join `tabBank Outbound Message` m on m.name = q.reference_name where m.reference_doctype = 'Bank Care Event')",
		"delete from `tabEmail Queue` where reference_name in (select name from `tabBank Outbound Message` where reference_doctype = 'Bank Care Event')",
		"delete from `tabBank Outbound Message` where reference_doctype = 'Bank Care Event'",
		"delete from `tabBank Care Event`",
		"delete from `tabBank Job Shard` where parenttype = 'Bank Care Run'",
		"delete from `tabBank Care Run`",
	):
		frappe.db.sql(sql)
	frappe.db.commit()
	from bank_crm.bank_engagement import care_events

	started = time.perf_counter()
	run = care_events.enqueue_care(shard_count=2)
	frappe.db.commit()
	peaks = [0] * len(workers)
	status = None
	while time.perf_counter() - started < 3600:
		time.sleep(1)
		peaks = [max(p, peak_of(w.pid)) for p, w in zip(peaks, workers, strict=True)]
		frappe.db.rollback()
		status = frappe.db.get_value("Bank Care Run", run, "status")
		if status in ("Completed", "Failed"):
			break
	seconds = time.perf_counter() - started
	fields = ("status", "events_recorded", "events_acted", "greetings_sent", "tasks_created", "no_channel")
	messages = frappe.db.sql(
		"""select channel, status, count(*) from `tabBank Outbound Message`
		where reference_doctype = 'Bank Care Event' group by channel, status"""
	)
	return {
		"run": run,
		"seconds": round(seconds, 1),
		**{k: frappe.db.get_value("Bank Care Run", run, k) for k in fields},
		"messages": [list(m) for m in messages],
		"worker_peak_mib": peaks,
	}


def main():
	parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
	parser.add_argument("--site", required=True)
	parser.add_argument("--limit", type=int, default=0, help="customers (0: every customer)")
	parser.add_argument("--emails", type=int, default=5000, help="e-mails Frappe's workers deliver in step 3")
	parser.add_argument("--care", action="store_true", help="instead: the care job's first full day")
	args = parser.parse_args()
	print("contact details:", contact_details(args), flush=True)
	frappe = connect(args.site)
	# half of those with an address (a fifth of all) prefer e-mail: the notice goes about 80 / 20
	frappe.db.sql(
		"""update `tabBank Customer Profile` set preferred_channel = if(crc32(concat('e', name)) % 100 < 50
		and ifnull(email_id, '') != '', 'Email', null)"""
	)
	frappe.db.commit()
	clean(frappe)
	web, web_port = start_web(args.site)
	receipts = f"http://127.0.0.1:{web_port}/api/method/bank_crm.api.outbound.receipts?adapter="
	simulators, processes = {}, []
	for channel, name in CHANNEL_ADAPTERS.items():
		process, url = start_simulator(receipts + urllib.parse.quote(name), args.site)
		simulators[channel] = url
		processes.append(process)
	smtp = Smtp()
	configure(frappe, args.site, simulators, smtp.port, web_port)
	if args.care:
		workers = start_workers()
		try:
			print(json.dumps(care_first_day(frappe, workers), default=str), flush=True)
		finally:
			for w in workers:
				w.terminate()
			for p in processes:
				p.terminate()
			smtp.stop()
			web.stop()
		return
	customers = ""
	if args.limit:
		customers = "\n".join(
			frappe.db.sql_list(
				"select customer from `tabBank Customer Profile` order by name limit %s", (args.limit,)
			)
		)
	name = make_broadcast(frappe, "rate notice", state="Scheduled", customer_list=customers, **BODIES)
	workers = start_workers()
	report = {"broadcast": name}
	try:
		started = time.perf_counter()
		from bank_crm.bank_outreach import broadcasts

		broadcasts.send_scheduled()  # plans, marks it Sending and queues the send shards
		frappe.db.commit()
		report["plan_seconds"] = round(time.perf_counter() - started, 1)
		counts = frappe.db.sql(
			"select channel, count(*) from `tabBank Broadcast Recipient` where broadcast = %s and status = 'Queued' group by channel",
			(name,),
		)
		report["queued_by_channel"] = dict(counts)
		queued = sum(n for _c, n in counts)
		gateway_expected = sum(n for c, n in counts if c in CHANNEL_ADAPTERS)
		email_expected = sum(n for c, n in counts if c == "Email")
		messages_done_at = emails_done_at = first_pass_at = None
		peaks = [0] * len(workers)
		from bank_crm.bank_engagement import batch_delivery

		last_cron = time.perf_counter()
		while time.perf_counter() - started < 3600:
			time.sleep(2)
			peaks = [max(p, peak_of(w.pid)) for p, w in zip(peaks, workers, strict=True)]
			if time.perf_counter() - last_cron >= 60:  # the minutely cron, as the scheduler runs it
				batch_delivery.reclaim_stale()
				last_cron = time.perf_counter()
			frappe.db.rollback()
			sent = frappe.db.sql(
				"""select channel, count(*) from `tabBank Outbound Message` where reference_doctype = 'Bank Broadcast'
				and reference_name = %s and status in ('Sent', 'Dead') group by channel""",
				(name,),
			)
			by = dict(sent)
			gateway_done = sum(n for c, n in by.items() if c in CHANNEL_ADAPTERS)
			if first_pass_at is None:
				waiting = frappe.db.sql(
					"""select (select count(*) from `tabBank Broadcast Recipient` where broadcast = %(b)s
						and status = 'Queued') + (select count(*) from `tabBank Outbound Message`
						where reference_doctype = 'Bank Broadcast' and reference_name = %(b)s
						and status in ('Queued', 'Sending'))""",
					{"b": name},
				)[0][0]
				if not waiting:  # every message tried once: accepted, or refused and waiting to retry
					first_pass_at = time.perf_counter() - started
			if emails_done_at is None and by.get("Email", 0) >= email_expected:
				emails_done_at = time.perf_counter() - started
			if gateway_done >= gateway_expected and emails_done_at is not None:
				messages_done_at = time.perf_counter() - started
				break
		report["seconds_to_every_message_tried"] = round(first_pass_at or 0, 1)
		report["seconds_to_all_handed_over"] = round(messages_done_at or (time.perf_counter() - started), 1)
		report["seconds_to_emails_queued"] = round(emails_done_at or 0, 1)
		report["recipients"] = queued
		report["messages_per_second"] = (
			round(queued / report["seconds_to_every_message_tried"], 1) if first_pass_at else None
		)
		stats = {c: get_json(u + "/stats") for c, u in simulators.items()}
		report["gateways"] = {
			c: {k: s[k] for k in ("requests", "accepted", "duplicates", "refused", "throttled_requests")}
			for c, s in stats.items()
		}
		report["worker_peak_mib"] = peaks  # each worker's (and its job's fork) high-water mark
		print(json.dumps(report, default=str), flush=True)

		# 2. the receipts, released at once
		accepted = sum(s["accepted"] for s in stats.values())
		released = time.perf_counter()
		released_at = frappe.utils.now_datetime()
		for url in simulators.values():
			get_json(url + "/control", {"hold_receipts": False})
		applied = 0
		while time.perf_counter() - released < 1800:
			time.sleep(2)
			frappe.db.rollback()
			# every receipt the gateways send now (a few may be for other messages they accepted,
			# e.g. a care greeting's retry)
			applied = frappe.db.sql(
				"""select count(*) from `tabBank Outbound Message` where receipt_status is not null
				and adapter is not null and modified >= %s""",
				(released_at,),
			)[0][0]
			if applied >= accepted:
				break
		report["receipts"] = {
			"accepted_messages": accepted,
			"applied": applied,
			"seconds": round(time.perf_counter() - released, 1),
			"answers": {c: get_json(u + "/stats")["receipt_answers"][-1:] for c, u in simulators.items()},
		}
		print(json.dumps(report["receipts"], default=str), flush=True)
	finally:
		for w in workers:
			w.terminate()
		for w in workers:
			w.wait(timeout=60)
	# 3. Frappe's e-mail workers to the SMTP server
	frappe.db.sql(
		"""update `tabEmail Queue` set status = 'Expired' where status = 'Not Sent'
		and reference_doctype = 'Bank Outbound Message' and name not in (select name from (
			select name from `tabEmail Queue` where status = 'Not Sent' and reference_doctype = 'Bank Outbound Message'
			order by creation limit %s) keep)""",
		(args.emails,),
	)
	frappe.db.commit()
	from frappe.email.queue import flush

	started = time.perf_counter()
	before = smtp.count
	while smtp.count - before < args.emails and time.perf_counter() - started < 1800:
		flush()
		frappe.db.commit()
		if not frappe.db.count(
			"Email Queue", {"status": "Not Sent", "reference_doctype": "Bank Outbound Message"}
		):
			break
	out = smtp.count - before
	elapsed = time.perf_counter() - started
	report["email_out"] = {
		"emails": out,
		"seconds": round(elapsed, 1),
		"per_second": round(out / elapsed, 1) if elapsed else None,
	}
	print(json.dumps(report["email_out"]), flush=True)
	smtp.stop()
	for p in processes:
		p.terminate()
	web.stop()
	print(json.dumps(report, indent=1, default=str))


if __name__ == "__main__":
	os.environ.setdefault("PYTHONUNBUFFERED", "1")
	sys.exit(main())
