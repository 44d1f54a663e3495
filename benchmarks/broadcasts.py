"""Benchmark: a broadcast's preview, its planning and its sending at bank scale.

Run from the bench's ``sites`` folder with the bench's Python, against a site made for it
(bank_crm installed, nothing else of value in it: the script changes contact details and
writes and deletes broadcasts), with no other RQ worker of the bench running (the script
starts its own):

    cd ~/frappe-bench/sites
    ../env/bin/python ../apps/bank_crm/benchmarks/segmentation.py --site bench.localhost \\
        --customers 1000000 --load --skip segmentation,ingestion,import,naive   # the customers, once
    ../env/bin/python ../apps/bank_crm/benchmarks/broadcasts.py --site bench.localhost \\
        --segment 300000 --send 20000

Steps, each printed and returned as JSON (README, "Benchmarks"):

1. Contact details like a bank's, written in one UPDATE: a mobile number for 95 % of customers,
   an email address for 40 %, a WeChat id for 30 %, the bank's app for 50 %, channels allowed
   accordingly, quiet hours (22:00–08:00) for 10 %.
2. Preview of a broadcast (an important notice with SMS, app-push, WeChat and email bodies) to
   branches holding about ``--segment`` customers, as head office: the median of 3 runs; then
   of the same notice to every customer.
3. Planning the same broadcast (routing, consent, delivery rows written) in its own process, so
   that its peak memory is its own; then planned again (nothing new is written).
4. Sending an app-push notice to ``--send`` customers through a Bank Channel Adapter to a
   webhook sink on 127.0.0.1, with two RQ workers (``long`` and ``short`` queues): messages
   per second from the start of the send job to the last message sent.
"""

import argparse
import json
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HERE = Path(__file__).resolve()
TAG = "[bench]"
BODIES = {
	"sms_text": "尊敬的{{ customer_name }}，本行存款挂牌利率将于近日调整，详询客户经理{{ relationship_manager_name }}。",
	"app_push_text": "{{ customer_name }}您好：存款与贷款利率即将调整，点击查看对您的影响。",
	"wechat_text": "{{ customer_name }}您好：近期LPR及本行存款挂牌利率调整，详情请咨询您的客户经理。",
	"email_subject": "利率调整对您账户的影响",
	"email_body": "<p>尊敬的{{ customer_name }}：</p><p>近期贷款市场报价利率及本行存款挂牌利率调整。</p>",
}


def connect(site):
	import frappe

	frappe.init(site=site, sites_path=".")
	frappe.connect()
	frappe.set_user("Administrator")
	return frappe


def peak_mib() -> float:
	from memory import peak_mib as own  # this folder's: the process's own peak (VmHWM)

	return own()


def sub(args, *extra) -> dict:
	out = subprocess.run(
		[sys.executable, str(HERE), "--site", args.site, *extra], capture_output=True, text=True, check=False
	)
	if out.returncode != 0:
		print(out.stdout, out.stderr, file=sys.stderr)
		raise SystemExit(f"step {extra} failed")
	return json.loads(out.stdout.strip().splitlines()[-1])


def remove_broadcasts(frappe):
	names = frappe.db.sql_list("select name from `tabBank Broadcast` where title like %s", (f"{TAG}%",))
	if not names:
		return
	from bank_crm.utils.bulk import in_list

	listed = in_list(names)
	frappe.db.sql(f"delete from `tabBank Broadcast Recipient` where broadcast in {listed}")
	frappe.db.sql(
		f"delete from `tabCommunication` where name in (select communication from `tabBank Outbound Message` where reference_name in {listed})"
	)
	frappe.db.sql(f"delete from `tabBank Outbound Message` where reference_name in {listed}")
	for child in ("Bank Broadcast Branch", "Bank Broadcast Tier", "Bank Broadcast Filter"):
		frappe.db.sql(f"delete from `tab{child}` where parent in {listed}")
	frappe.db.sql(f"delete from `tabBank Broadcast` where name in {listed}")
	frappe.db.commit()


def make_broadcast(frappe, title, state="Draft", **values):
	doc = frappe.get_doc(
		{
			"doctype": "Bank Broadcast",
			"title": f"{TAG} {title}",
			"content_class": "Important Notice",
			**values,
		}
	)
	doc.flags.ignore_permissions = True
	doc.insert()
	if state != "Draft":  # the review is not what is measured
		frappe.db.set_value("Bank Broadcast", doc.name, "workflow_state", state, update_modified=False)
	frappe.db.commit()
	return doc.name


# -- steps ----------------------------------------------------------------------------------
def contact_details(args) -> dict:
	frappe = connect(args.site)
	started = time.perf_counter()
	frappe.db.sql(
		"""update `tabBank Customer Profile` set
			mobile_no = if(crc32(name) % 100 < 95, concat('139', lpad(crc32(name) % 100000000, 8, '0')), null),
			email_id = if(crc32(name) % 100 < 40, concat(lower(replace(name, '-', '')), '@example.cn'), null),
			wechat_id = if(crc32(concat('w', name)) % 100 < 30, concat('wx_', crc32(name)), null),
			app_user_id = if(crc32(concat('a', name)) % 100 < 50, concat('app_', crc32(name)), null),
			allow_sms = 1, allow_phone = 1, allow_visit = 1, allow_email = 1, allow_wechat = 1, allow_app_push = 1,
			preferred_channel = null, do_not_contact = 0,
			quiet_hours_start = if(crc32(concat('q', name)) % 100 < 10, '22:00:00', null),
			quiet_hours_end = if(crc32(concat('q', name)) % 100 < 10, '08:00:00', null)"""
	)
	changed = frappe.db._cursor.rowcount
	frappe.db.commit()
	return {"profiles": changed, "seconds": round(time.perf_counter() - started, 1)}


def segment_branches(frappe, target: int) -> tuple[list[str], int]:
	"""Branches whose customers come closest to ``target`` (largest first, skipping a branch that
	would overshoot by more than it would leave short)."""
	chosen, total = [], 0
	for branch, n in frappe.db.sql(
		"select branch, count(*) from `tabBank Customer Profile` group by branch order by 2 desc"
	):
		if total + n - target <= target - total:
			chosen.append(branch)
			total += n
	return chosen, total


def preview_step(args) -> dict:
	frappe = connect(args.site)
	from bank_crm.bank_outreach import broadcasts

	remove_broadcasts(frappe)
	branches, in_branches = segment_branches(frappe, args.segment)
	name = make_broadcast(frappe, "segment", branches=[{"branch": b} for b in branches], **BODIES)
	doc = frappe.get_doc("Bank Broadcast", name)
	times, result = [], None
	for _ in range(3):
		started = time.perf_counter()
		result = broadcasts.preview(doc)
		times.append(time.perf_counter() - started)
	everyone = make_broadcast(frappe, "everyone", **BODIES)
	started = time.perf_counter()
	whole = broadcasts.preview(frappe.get_doc("Bank Broadcast", everyone))
	whole_seconds = time.perf_counter() - started
	return {
		"broadcast": name,
		"branches": len(branches),
		"recipients": result["recipients"],
		"queued": result["queued"],
		"skipped": result["skipped"],
		"by_channel": result["by_channel"],
		"by_reason": result["by_reason"],
		"classes": result["classes"],
		"seconds_median": round(statistics.median(times), 2),
		"seconds_runs": [round(t, 2) for t in times],
		"everyone_recipients": whole["recipients"],
		"everyone_seconds": round(whole_seconds, 2),
		"peak_mib": round(peak_mib()),
	}


def cmd_plan(site, name):
	frappe = connect(site)
	from bank_crm.bank_outreach import broadcasts

	started = time.perf_counter()
	out = broadcasts.plan(frappe.get_doc("Bank Broadcast", name))
	frappe.db.commit()
	print(
		json.dumps({**out, "seconds": round(time.perf_counter() - started, 1), "peak_mib": round(peak_mib())})
	)


class Sink(BaseHTTPRequestHandler):
	count = 0
	lock = threading.Lock()

	def do_POST(self):
		self.rfile.read(int(self.headers.get("Content-Length") or 0))
		with Sink.lock:
			Sink.count += 1
		self.send_response(200)
		self.send_header("Content-Length", "2")
		self.end_headers()
		self.wfile.write(b"{}")

	def log_message(self, *a):
		pass


def push_adapter(frappe, port: int):
	"""The only enabled adapter: app push to a webhook on 127.0.0.1:``port``."""
	frappe.db.set_value("Bank Channel Adapter", {"enabled": 1}, "enabled", 0)
	adapter = frappe.db.get_value("Bank Channel Adapter", {"adapter_name": f"{TAG} push"})
	values = {
		"channel": "App Push",
		"enabled": 1,
		"webhook_url": f"http://127.0.0.1:{port}/push",
		"payload_template": '{"to": {{ recipient | tojson }}, "text": {{ message | tojson }}}',
		"timeout_seconds": 5,
		"max_attempts": 3,
	}
	if adapter:
		frappe.db.set_value("Bank Channel Adapter", adapter, values)
	else:
		frappe.get_doc({"doctype": "Bank Channel Adapter", "adapter_name": f"{TAG} push", **values}).insert(
			ignore_permissions=True
		)
	frappe.db.commit()


def send_step(args) -> dict:
	frappe = connect(args.site)
	from bank_crm.bank_outreach import broadcasts

	# a taken port fails here at once; 0 takes a free one
	server = ThreadingHTTPServer(("127.0.0.1", args.port), Sink)
	threading.Thread(target=server.serve_forever, daemon=True).start()
	push_adapter(frappe, server.server_address[1])
	customers = frappe.db.sql_list(
		"""select customer from `tabBank Customer Profile` where app_user_id is not null and quiet_hours_start is null
		and exists (select 1 from `tabBank Consent Record` r where r.parent = `tabBank Customer Profile`.name
			and r.purpose = 'Service' and r.withdrawn_on is null)
		order by name limit %s""",
		(args.send,),
	)
	name = make_broadcast(
		frappe,
		"send",
		state="Scheduled",
		app_push_text=BODIES["app_push_text"],
		customer_list="\n".join(customers),
	)
	frappe.db.commit()
	started = time.perf_counter()
	broadcasts.send_scheduled()  # plans, marks it Sending and queues the send job
	frappe.db.commit()
	planned = time.perf_counter() - started
	queued = frappe.db.count("Bank Broadcast Recipient", {"broadcast": name, "status": "Queued"})
	env_bin = Path(sys.executable).parent
	workers = [
		subprocess.Popen(
			[
				str(env_bin / "python"),
				"-m",
				"frappe.utils.bench_helper",
				"frappe",
				"worker",
				"--queue",
				"long,short",
			],
			cwd=".",
			stdout=subprocess.DEVNULL,
			stderr=subprocess.DEVNULL,
		)
		for _ in range(2)
	]
	try:
		sent, deadline = 0, time.time() + 3600
		while time.time() < deadline:
			time.sleep(2)
			frappe.db.rollback()
			sent = frappe.db.sql(
				"select count(*) from `tabBank Outbound Message` where reference_name = %s and status = 'Sent'",
				(name,),
			)[0][0]
			if sent >= queued:
				break
		elapsed = time.perf_counter() - started - planned
	finally:
		for w in workers:
			w.terminate()
		for w in workers:
			w.wait(timeout=30)
		server.shutdown()
	frappe.db.rollback()
	return {
		"broadcast": name,
		"recipients": len(customers),
		"queued": queued,
		"plan_seconds": round(planned, 1),
		"sent": sent,
		"webhook_requests": Sink.count,
		"send_seconds": round(elapsed, 1),
		"messages_per_second": round(sent / elapsed, 1) if elapsed else None,
		"state": frappe.db.get_value("Bank Broadcast", name, "workflow_state"),
	}


def main():
	parser = argparse.ArgumentParser()
	parser.add_argument("--site", required=True)
	parser.add_argument("--step")
	parser.add_argument("--name")
	parser.add_argument("--segment", type=int, default=300_000)
	parser.add_argument("--send", type=int, default=20_000)
	parser.add_argument("--port", type=int, default=0, help="0: a free port")
	parser.add_argument("--skip", default="", help="comma-separated: contacts,preview,plan,send")
	args = parser.parse_args()
	if args.step == "plan":
		return cmd_plan(args.site, args.name)
	skip = set(filter(None, args.skip.split(",")))
	report = {}
	if "contacts" not in skip:
		report["contacts"] = contact_details(args)
		print("contacts", report["contacts"], file=sys.stderr, flush=True)
	if "preview" not in skip:
		report["preview"] = preview_step(args)
		print("preview", report["preview"], file=sys.stderr, flush=True)
		if "plan" not in skip:
			report["plan"] = sub(args, "--step", "plan", "--name", report["preview"]["broadcast"])
			print("plan", report["plan"], file=sys.stderr, flush=True)
			report["plan_again"] = sub(args, "--step", "plan", "--name", report["preview"]["broadcast"])
			print("plan again", report["plan_again"], file=sys.stderr, flush=True)
	if "send" not in skip:
		report["send"] = send_step(args)
		print("send", report["send"], file=sys.stderr, flush=True)
	print(json.dumps(report, indent=1, ensure_ascii=False))


if __name__ == "__main__":
	main()
