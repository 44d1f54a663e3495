"""Fault drills: a database restart, a queue restart, killed web and background workers, and
desk users writing the customers the nightly run is updating — each ends with nothing lost and
nothing twice, or says what was.

Run from the bench's ``sites`` folder with the bench's Python, as root (the drills restart
MariaDB and the queue Redis), against the 1,000,000-customer site of the other benchmarks with
no scheduler, worker or web server of the bench running (the drills start their own, on free
ports, checked to be theirs — ``harness.py``):

    cd ~/frappe-bench/sites
    ../env/bin/python ../apps/bank_crm/benchmarks/drills.py --site bench.localhost [--drill NAME]

The drills (``--drill all`` runs them in this order):

- ``ingestion-db-restart``: an integration client streams event and snapshot batches and, like
  a core system, sends a batch again until it has an answer; MariaDB is restarted in the middle.
  Every row is stored once; retried batches are answered as duplicates.
- ``nightly-db-restart``: ``--customers`` profiles are made stale (tier and score), the nightly
  re-tiering starts on two workers, and MariaDB is restarted while its shards work. The next
  run resumes the same run record from the shards' checkpoints. Every stale profile is put
  right, with exactly one tier-history row.
- ``queue-restart``: the re-tiering's shard jobs and ``--messages`` SMS messages for a batch
  gateway (the outbound benchmark's simulator) wait on the queue with no worker; the queue Redis
  is restarted without saving (the jobs are gone). Workers start, the app's ten-minute
  reconciler and minutely gateway cron run: every shard completes and the gateway receives
  every message once.
- ``web-worker-kill``: a large event batch is in flight when its gunicorn worker is killed
  (SIGKILL); the client sends it again. Every row once.
- ``rq-worker-kill``: the work-horse of each RQ worker is killed mid-shard; the reconciler gives
  the orphaned shards new jobs. Every stale profile put right once.
- ``concurrent-writers``: relationship managers save the forms of their customers over HTTP
  (desk ``savedocs``) while the nightly run re-tiers the same customers; a save refused by a
  deadlock or lock timeout is saved again, as a user would. Every save's change is stored, and
  the nightly's tier too (no lost update either way).

Prints one JSON line per drill (README, "Fault drills").
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from harness import Web, start_workers, stop_all  # noqa: E402

PASSWORD = "Demo@Bank2026"
RETIER = "bank_crm.bank_segmentation.segmentation.retier_every_customer"
RUN = "Bank Segmentation Run"


def sh(command: str):
	subprocess.run(command, shell=True, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def connect(site):
	import frappe

	frappe.init(site=site, sites_path=".")
	frappe.connect()
	frappe.set_user("Administrator")
	return frappe


def reconnect(frappe, site, seconds=120):
	"""A fresh connection once the database answers again."""
	deadline = time.monotonic() + seconds
	while True:
		try:
			frappe.destroy()
		except Exception:
			pass
		try:
			return connect(site)
		except Exception:
			if time.monotonic() > deadline:
				raise
			time.sleep(1)


def bench_execute(site, method, **kwargs):
	"""``bench --site SITE execute METHOD`` — a process of its own, as the scheduler's job would be."""
	args = ["bench", "--site", site, "execute", method]
	if kwargs:
		args += ["--kwargs", json.dumps(kwargs)]
	return subprocess.run(args, cwd="..", capture_output=True, text=True, check=True).stdout


# -- the stale profiles the nightly must put right ----------------------------------------------


def settle(frappe, site, workers_needed=True):
	"""One complete re-tiering first, so that every profile is what a fresh run computes."""
	workers = start_workers("long,default,short", 2) if workers_needed else []
	try:
		run = start_retier(frappe)
		wait_run(frappe, site, run)
	finally:
		stop_all(workers)


def start_retier(frappe) -> str:
	"""The nightly re-tiering as the scheduler starts it (its job on the long queue); the name
	of the run record it makes."""
	before = frappe.db.sql(f"select max(creation) from `tab{RUN}`")[0][0]
	frappe.get_doc("Scheduled Job Type", {"method": RETIER}).enqueue(force=True)
	frappe.db.commit()
	for _ in range(300):
		time.sleep(1)
		frappe.db.commit()
		name = frappe.db.sql(
			f"select name from `tab{RUN}` where creation > %s order by creation desc limit 1",
			(before or "2000-01-01",),
		)
		if name:
			return name[0][0]
	raise SystemExit("the re-tiering did not start")


def wait_run(frappe, site, run, seconds=1800, reconcile=False) -> str:
	deadline = time.monotonic() + seconds
	while time.monotonic() < deadline:
		time.sleep(3)
		try:
			frappe.db.commit()
			status = frappe.db.get_value(RUN, run, "status")
		except Exception:
			frappe = reconnect(frappe, site)
			continue
		if status == "Completed":
			return status
		if reconcile:
			bench_execute(site, "bank_crm.utils.shards.reconcile", min_age_minutes=0)
	raise SystemExit(f"{run} did not complete: {frappe.db.get_value(RUN, run, 'status')}")


def make_stale(frappe, count: int, rng) -> dict:
	"""``count`` VIP and High-end profiles set back to Mass with a zero score, as if their data
	had moved since the last run; returns their right values. Only profiles whose score itself
	gives their tier (at or above its minimum): one held in it by the downgrade margin would,
	from Mass, rightly stay below it."""
	rows = frappe.db.sql(
		"""select p.name, p.tier, p.value_score from `tabBank Customer Profile` p
		join `tabBank Tier Policy Tier` t on t.tier = p.tier
		join `tabBank Tier Policy` pol on pol.name = t.parent and pol.status = 'Active'
		where p.tier in ('VIP', 'High-end') and p.tier_override is null and p.value_score >= t.min_score
		order by p.name""",
	)
	chosen = rng.sample(list(rows), min(count, len(rows)))
	right = {name: (tier, float(score or 0)) for name, tier, score in chosen}
	names = list(right)
	for i in range(0, len(names), 5000):
		part = names[i : i + 5000]
		frappe.db.sql(
			f"""update `tabBank Customer Profile` set tier = 'Mass', value_score = 0
			where name in ({", ".join(["%s"] * len(part))})""",
			part,
		)
	frappe.db.commit()
	return right


def check_stale_put_right(frappe, right: dict, since) -> dict:
	names = list(right)
	missing_history = twice = 0
	wrong = []
	for i in range(0, len(names), 5000):
		part = names[i : i + 5000]
		marks = ", ".join(["%s"] * len(part))
		stored = dict(
			frappe.db.sql(f"select name, tier from `tabBank Customer Profile` where name in ({marks})", part)
		)
		wrong += [n for n in part if stored.get(n) != right[n][0]]
		history = dict(
			frappe.db.sql(
				f"""select profile, count(*) from `tabBank Tier History`
				where profile in ({marks}) and creation >= %s and from_tier = 'Mass' group by profile""",
				[*part, since],
			)
		)
		missing_history += sum(1 for n in part if not history.get(n))
		twice += sum(1 for n in part if history.get(n, 0) > 1)
	return {
		"stale": len(right),
		"not_put_right": len(wrong),
		"history_missing": missing_history,
		"history_twice": twice,
		"not_put_right_sample": sorted(wrong)[:5],
	}


def stale_with_workers(frappe, args, rng):
	"""A settled site, ``--customers`` profiles made stale, and two RQ workers started."""
	settle(frappe, args.site)
	since = frappe.utils.now_datetime()  # the site's time zone, as history rows are stamped
	return since, make_stale(frappe, args.customers, rng), start_workers("long,default,short", 2)


# -- the drills ----------------------------------------------------------------------------------


class Client:
	"""An integration client that sends a batch again until it gets an answer."""

	def __init__(self, web, site, token):
		self.url, self.headers = (
			web.url,
			{"Authorization": token, "Host": site, "Content-Type": "application/json"},
		)
		self.attempts = self.retries = self.retry_duplicates = self.retry_inserted = 0

	def send(self, path, body, give_up=300):
		deadline = time.monotonic() + give_up
		first = True
		while True:
			self.attempts += 1
			try:
				r = requests.post(self.url + path, data=json.dumps(body), headers=self.headers, timeout=120)
				if r.status_code == 200:
					answer = r.json()["message"]
					if not first:
						self.retry_duplicates += answer.get("duplicate", 0) + answer.get("unchanged", 0)
						self.retry_inserted += answer.get("inserted", 0)
					return answer
			except requests.RequestException:
				pass
			if time.monotonic() > deadline:
				raise SystemExit(f"no answer for a batch in {give_up} s")
			first = False
			self.retries += 1
			time.sleep(1)


def integration_token(frappe) -> str:
	from bank_crm.tests.factories import api_token, make_user

	user = make_user("drill-feed", ["Bank CRM Integration"])
	frappe.db.set_single_value("Bank CRM Settings", "ingest_calls_per_minute", 100_000)
	token = api_token(user)
	frappe.db.commit()
	return token


def customers(frappe, n, rng):
	rows = frappe.db.sql_list("select customer from `tabBank Customer Profile` order by name limit 200000")
	return rng.sample(rows, min(n, len(rows)))


def event_rows(prefix, start, n, who, rng):
	now = time.strftime("%Y-%m-%d %H:%M:%S")
	return [
		{
			"external_id": f"{prefix}-{start + i}",
			"customer": rng.choice(who),
			"event_type": "App Login",
			"event_time": now,
			"channel": "Mobile App",
		}
		for i in range(n)
	]


def drill_ingestion_db_restart(args, frappe, rng) -> dict:
	prefix = f"DRILL1-{int(time.time())}"
	as_of = f"2003-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
	frappe.db.sql("delete from `tabBank Financial Snapshot` where as_of_date = %s", as_of)
	frappe.db.commit()
	token = integration_token(frappe)
	who = customers(frappe, 5000, rng)
	frappe.destroy()
	web = Web(args.site, workers=2)
	client = Client(web, args.site, token)
	batches, size = args.batches, 2000
	restarted = threading.Event()

	def restart():
		time.sleep(args.restart_after)
		sh(args.db_restart)
		restarted.set()

	threading.Thread(target=restart, daemon=True).start()
	started = time.monotonic()
	snapshot_customers = set()
	try:
		for b in range(batches):
			client.send(
				"/api/method/bank_crm.api.insight.events",
				{"rows": event_rows(prefix, b * size, size, who, rng)},
			)
			part = who[(b * 100) % len(who) : (b * 100) % len(who) + 100]
			snapshot_customers.update(part)
			rows = [
				{
					"customer": c,
					"as_of_date": as_of,
					"deposit_balance": 1000.0,
					"loan_balance": 0,
					"aum": 0,
					"fee_income": 0,
					"composite_yield": 1.5,
					"products_held": 1,
				}
				for c in part
			]
			client.send("/api/method/bank_crm.api.ingest.snapshots", {"rows": rows})
	finally:
		web.stop()
	frappe = reconnect(frappe, args.site)
	stored = frappe.db.count("Bank Activity Event", {"external_id": ("like", f"{prefix}-%")})
	snaps = frappe.db.sql(
		"select count(*), count(distinct customer) from `tabBank Financial Snapshot` where as_of_date = %s",
		as_of,
	)[0]
	return {
		"drill": "ingestion-db-restart",
		"database_restarted": restarted.is_set(),
		"seconds": round(time.monotonic() - started, 1),
		"events_sent": batches * size,
		"events_stored": stored,
		"lost": batches * size - stored,
		"snapshots_sent": len(snapshot_customers),
		"snapshots_stored": snaps[0],
		"snapshots_twice": snaps[0] - snaps[1],
		"client_retries": client.retries,
		"rows_a_retry_found_on_file": client.retry_duplicates,
		"rows_a_retry_inserted": client.retry_inserted,
	}


def drill_nightly_db_restart(args, frappe, rng) -> dict:
	since, right, workers = stale_with_workers(frappe, args, rng)
	try:
		run = start_retier(frappe)
		# wait until its shards are working, then restart the database under them
		for _ in range(600):
			time.sleep(0.5)
			frappe.db.commit()
			if frappe.db.count("Bank Job Shard", {"parent": run, "status": "Running"}):
				break
		time.sleep(args.restart_after)
		shards_then = frappe.db.get_all(
			"Bank Job Shard", {"parent": run}, ["shard_no", "status", "checkpoint"]
		)
		sh(args.db_restart)
		frappe = reconnect(frappe, args.site)
		time.sleep(5)
		after_restart = frappe.db.get_all(
			"Bank Job Shard", {"parent": run}, ["shard_no", "status", "checkpoint"]
		)
		# the next run (the scheduler's next start of the job) resumes the same run record
		resumed = start_retier_again(frappe, args.site)
		wait_run(frappe, args.site, run)
	finally:
		stop_all(workers)
	frappe = reconnect(frappe, args.site)
	result = check_stale_put_right(frappe, right, since)
	return {
		"drill": "nightly-db-restart",
		"run": run,
		"resumed_same_run": resumed in (None, run),
		"shards_at_restart": [dict(s) for s in shards_then],
		"shards_after_restart": [dict(s) for s in after_restart],
		**result,
	}


def start_retier_again(frappe, site):
	"""The job started again (as the next nightly would); returns the run it worked on."""
	bench_execute(site, RETIER)
	frappe.db.commit()
	return frappe.db.get_value(RUN, {}, "name", order_by="creation desc")


def drill_queue_restart(args, frappe, rng) -> dict:
	outbound = _module("outbound")
	settle(frappe, args.site)
	since = frappe.utils.now_datetime()  # the site's time zone, as history rows are stamped
	right = make_stale(frappe, args.customers, rng)
	web = Web(args.site, workers=1)
	receipts = f"{web.url}/api/method/bank_crm.api.outbound.receipts?adapter="
	simulators, processes, workers = {}, [], []
	smtp = outbound.Smtp()  # the Email Account checks its server when saved
	try:
		for channel, name in outbound.CHANNEL_ADAPTERS.items():
			process, url = outbound.start_simulator(receipts + requests.utils.quote(name), args.site)
			simulators[channel], processes = url, [*processes, process]
		outbound.configure(frappe, args.site, simulators, smtp.port, web.port)
		sms_url = simulators["SMS"]
		before = requests.get(sms_url + "/stats", timeout=10).json()
		# no worker yet: the re-tiering's shard jobs and the senders' jobs wait on the queue
		bench_execute(args.site, RETIER)
		frappe.db.commit()
		run = frappe.db.get_value(RUN, {}, "name", order_by="creation desc")
		from bank_crm.bank_engagement import batch_delivery

		who = frappe.db.sql(
			"select customer, mobile_no from `tabBank Customer Profile` where ifnull(mobile_no, '') != '' limit %s",
			(args.messages,),
		)
		tag = f"drill3-{int(time.time())}"
		batch_delivery.queue_many(
			[
				{
					"customer": c,
					"channel": "SMS",
					"content_class": "Service",
					"subject": "drill",
					"message": "尊敬的客户，您的存款已到账。",
					"recipient": m,
					"idempotency_key": f"{tag}-{c}",
				}
				for c, m in who
			]
		)
		frappe.db.commit()
		waiting = _site_jobs(frappe)
		sh(args.queue_restart)
		lost = waiting - _site_jobs(frappe)
		workers = start_workers("long,default,short", 2)
		deadline = time.monotonic() + 1800
		while time.monotonic() < deadline:
			time.sleep(5)
			# the scheduler's crons, as they would run (the reconciler every ten minutes, the
			# gateways' every minute) — called here at once instead of waiting for them
			bench_execute(args.site, "bank_crm.utils.shards.reconcile", min_age_minutes=0)
			bench_execute(args.site, "bank_crm.bank_engagement.batch_delivery.reclaim_stale")
			frappe.db.commit()
			sent = frappe.db.count(
				"Bank Outbound Message", {"idempotency_key": ("like", f"{tag}-%"), "status": "Sent"}
			)
			if frappe.db.get_value(RUN, run, "status") == "Completed" and sent == len(who):
				break
		stats = requests.get(sms_url + "/stats", timeout=10).json()
		result = check_stale_put_right(frappe, right, since)
		statuses = dict(
			frappe.db.sql(
				"select status, count(*) from `tabBank Outbound Message` where idempotency_key like %s group by status",
				(f"{tag}-%",),
			)
		)
	finally:
		stop_all(workers)
		stop_all(processes)
		smtp.stop()
		web.stop()
	return {
		"drill": "queue-restart",
		"jobs_waiting_before": waiting,
		"jobs_lost_by_restart": lost,
		"run": run,
		"run_status": frappe.db.get_value(RUN, run, "status"),
		**result,
		"messages": len(who),
		"message_statuses": statuses,
		"gateway_accepted": stats["accepted"] - before["accepted"],
		"gateway_duplicates": stats["duplicates"] - before["duplicates"],
	}


def _site_jobs(frappe) -> int:
	from frappe.utils.background_jobs import get_queue, get_queue_list

	return sum(
		1
		for q in get_queue_list()
		for job in get_queue(q).get_jobs()
		if job.kwargs.get("site") == frappe.local.site
	)


def _module(name):
	spec = importlib.util.spec_from_file_location(f"drills_{name}", HERE / f"{name}.py")
	mod = importlib.util.module_from_spec(spec)
	spec.loader.exec_module(mod)
	return mod


def drill_web_worker_kill(args, frappe, rng) -> dict:
	prefix = f"DRILL4-{int(time.time())}"
	token = integration_token(frappe)
	who = customers(frappe, 5000, rng)
	frappe.destroy()
	web = Web(args.site, workers=2)
	client = Client(web, args.site, token)
	size = 10_000
	killed = []

	def kill():
		time.sleep(0.8)  # the batch is being checked and written
		for pid in web.worker_pids():
			os.kill(pid, signal.SIGKILL)
			killed.append(pid)

	try:
		threading.Thread(target=kill, daemon=True).start()
		first = client.send(
			"/api/method/bank_crm.api.insight.events", {"rows": event_rows(prefix, 0, size, who, rng)}
		)
	finally:
		web.stop()
	frappe = reconnect(frappe, args.site)
	stored = frappe.db.count("Bank Activity Event", {"external_id": ("like", f"{prefix}-%")})
	return {
		"drill": "web-worker-kill",
		"workers_killed": len(killed),
		"rows_sent": size,
		"rows_stored": stored,
		"lost": size - stored,
		"client_retries": client.retries,
		"answer": {k: v for k, v in first.items() if k != "errors"},
		"rows_a_retry_found_on_file": client.retry_duplicates,
	}


def drill_rq_worker_kill(args, frappe, rng) -> dict:
	since, right, workers = stale_with_workers(frappe, args, rng)
	killed = []
	try:
		run = start_retier(frappe)
		for _ in range(600):
			time.sleep(0.5)
			frappe.db.commit()
			if frappe.db.count("Bank Job Shard", {"parent": run, "status": "Running"}) >= 2:
				break
		time.sleep(args.restart_after)
		for w in workers:  # RQ forks a work-horse per job: kill it, as the OOM killer would
			path = Path(f"/proc/{w.pid}/task/{w.pid}/children")
			for pid in path.read_text().split() if path.exists() else []:
				os.kill(int(pid), signal.SIGKILL)
				killed.append(int(pid))
		time.sleep(3)
		frappe.db.commit()
		orphaned = frappe.db.get_all(
			"Bank Job Shard", {"parent": run, "status": ("!=", "Completed")}, pluck="shard_no"
		)
		wait_run(frappe, args.site, run, reconcile=True)
	finally:
		stop_all(workers)
	frappe = reconnect(frappe, args.site)
	return {
		"drill": "rq-worker-kill",
		"run": run,
		"work_horses_killed": len(killed),
		"shards_left_unfinished": orphaned,
		**check_stale_put_right(frappe, right, since),
	}


def drill_concurrent_writers(args, frappe, rng) -> dict:
	settle(frappe, args.site)
	since = frappe.utils.now_datetime()  # the site's time zone, as history rows are stamped
	rms = frappe.db.sql_list(
		"select distinct relationship_manager from `tabBank Customer Profile` where relationship_manager like 'rm%%' limit 4"
	)
	right = {}
	targets = {}
	for rm in rms:
		rows = frappe.db.sql(
			"""select p.name, p.tier, p.value_score from `tabBank Customer Profile` p
			join `tabBank Tier Policy Tier` t on t.tier = p.tier
			join `tabBank Tier Policy` pol on pol.name = t.parent and pol.status = 'Active'
			where p.relationship_manager = %s and p.tier in ('VIP', 'High-end') and p.tier_override is null
				and p.value_score >= t.min_score
			order by p.name limit %s""",
			(rm, args.writer_customers // len(rms)),
		)
		targets[rm] = [r[0] for r in rows]
		right.update({r[0]: (r[1], float(r[2] or 0)) for r in rows})
	names = list(right)
	for i in range(0, len(names), 5000):
		part = names[i : i + 5000]
		frappe.db.sql(
			f"update `tabBank Customer Profile` set tier = 'Mass', value_score = 0 where name in ({', '.join(['%s'] * len(part))})",
			part,
		)
	frappe.db.commit()
	web = Web(args.site, workers=4)
	workers = start_workers("long,default,short", 2)
	saves, refusals, stop = [], [], threading.Event()

	def rm_user(rm, profiles):
		s = requests.Session()
		headers = {"Host": args.site, "Accept": "application/json"}
		s.post(
			f"{web.url}/api/method/login", json={"usr": rm, "pwd": PASSWORD}, headers=headers
		).raise_for_status()
		import re

		token = re.search(
			r'frappe\.csrf_token\s*=\s*"([^"]+)"', s.get(f"{web.url}/app", headers=headers).text
		).group(1)
		headers["X-Frappe-CSRF-Token"] = token
		for name in profiles:
			if stop.is_set():  # only when the drill gives up
				break
			mark = f"drill5-{rng.randrange(10**9)}"
			for _attempt in range(5):
				doc = s.get(
					f"{web.url}/api/method/frappe.desk.form.load.getdoc",
					params={"doctype": "Bank Customer Profile", "name": name},
					headers=headers,
				).json()["docs"][0]
				time.sleep(0.2)  # the user edits the form while the nightly may run under it
				doc["employer"] = mark
				r = s.post(
					f"{web.url}/api/method/frappe.desk.form.save.savedocs",
					data={"doc": json.dumps(doc), "action": "Save"},
					headers=headers,
				)
				if r.status_code == 200:
					saves.append((name, mark))
					break
				refusals.append((name, r.status_code, r.text[:200]))

	try:
		run = start_retier(frappe)
		threads = [threading.Thread(target=rm_user, args=(rm, targets[rm])) for rm in rms]
		for t in threads:
			t.start()
		wait_run(frappe, args.site, run)
		for t in threads:
			t.join(timeout=900)
		stop.set()
		# profiles saved after the run finished are re-tiered by the next one, as every night
		run2 = start_retier(frappe)
		wait_run(frappe, args.site, run2)
	finally:
		stop_all(workers)
		web.stop()
	frappe = reconnect(frappe, args.site)
	lost_saves = sum(
		1 for name, mark in saves if frappe.db.get_value("Bank Customer Profile", name, "employer") != mark
	)
	result = check_stale_put_right(frappe, right, since)
	deadlocks = [r for r in refusals if "Deadlock" in r[2] or "Lock wait" in r[2] or r[1] in (409, 417)]
	return {
		"drill": "concurrent-writers",
		"rms": len(rms),
		"saves": len(saves),
		"saves_refused_then_retried": len(refusals),
		"of_which_lock_conflicts": len(deadlocks),
		"refusals_sample": refusals[:3],
		"saves_lost": lost_saves,
		**result,
	}


DRILLS = {
	"ingestion-db-restart": drill_ingestion_db_restart,
	"nightly-db-restart": drill_nightly_db_restart,
	"queue-restart": drill_queue_restart,
	"web-worker-kill": drill_web_worker_kill,
	"rq-worker-kill": drill_rq_worker_kill,
	"concurrent-writers": drill_concurrent_writers,
}


def main():
	parser = argparse.ArgumentParser()
	parser.add_argument("--site", required=True)
	parser.add_argument("--drill", default="all", choices=["all", *DRILLS])
	parser.add_argument("--customers", type=int, default=20_000, help="stale profiles per nightly drill")
	parser.add_argument("--messages", type=int, default=5_000)
	parser.add_argument("--writer-customers", type=int, default=400, help="profiles the RMs save")
	parser.add_argument("--batches", type=int, default=30)
	parser.add_argument("--restart-after", type=float, default=3, help="seconds into the work")
	parser.add_argument("--db-restart", default="service mariadb restart")
	parser.add_argument(
		"--queue-restart",
		# without its last dump too: the jobs are gone, as after a crash or a new queue host
		default="redis-cli -p 11000 shutdown nosave; sleep 1; cd .. && rm -f config/pids/redis_queue.rdb && "
		"redis-server config/redis_queue.conf --bind 127.0.0.1 --daemonize yes; sleep 1",
	)
	args = parser.parse_args()
	rng = random.Random(21)
	for name in DRILLS if args.drill == "all" else [args.drill]:
		frappe = connect(args.site)
		result = DRILLS[name](args, frappe, rng)
		print(json.dumps(result, ensure_ascii=False, default=str), flush=True)
		try:
			frappe.destroy()
		except Exception:
			pass


if __name__ == "__main__":
	main()
