"""Check and benchmark: the desk's reads off the primary, on a real MariaDB replica.

A bank runs one MariaDB primary with replicas; Frappe sends the reads of ``@frappe.read_only()``
methods to the replica named in the site config (``read_from_replica``, ``replica_host``,
``replica_db_port``). bank_crm's customer-360, workbench and reports use it and say in their
answer which server answered (``served_by``). This script proves it on this machine:

1. Starts a second MariaDB server (``mariadbd``) on 127.0.0.1:``--port`` with its own data
   directory, ``server_id`` 2, ``read_only``, replicating only the site's database.
2. Copies the site's database with ``mariadb-dump --single-transaction --master-data`` (the
   primary's binary-log position is in the dump), loads it into the replica, gives the site's
   database user read access there, and starts replication from the primary.
3. Points the site at the replica, starts gunicorn on 127.0.0.1, logs in as a demo RM and
   calls the customer-360, the workbench and the RM Portfolio report ``--requests`` times each:
   every answer must come from the replica (its server id), and is timed.
4. Writes through the API as the RM (a planned contact): the row is on the primary, and reaches
   the replica through replication (the lag is measured).
5. Puts the site config back and stops the replica (``--keep`` leaves it running).

The primary must write a binary log (``log_bin``, ``server_id`` 1, ``binlog_format = ROW``; the
README's *Deployment* section has the settings). Run from the bench's ``sites`` folder with the
bench's Python, against a demo site:

    cd ~/frappe-bench/sites
    ../env/bin/python ../apps/bank_crm/benchmarks/replica.py --site dev.localhost
"""

import argparse
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PASSWORD = "Demo@Bank2026"
SERVER_ID = 2


def sh(*args, **kwargs):
	return subprocess.run(args, check=True, capture_output=True, text=True, **kwargs)


def mysql(port, password, sql, database=None, user="root"):
	args = [
		"mariadb",
		"-h127.0.0.1",
		f"-P{port}",
		f"-u{user}",
		*([f"-p{password}"] if password else []),
		"-N",
		"-B",
		"-e",
		sql,
	]
	if database:
		args.insert(1, database)
	return sh(*args).stdout.strip()


def site_config(site):
	import frappe

	frappe.init(site=site, sites_path=".")
	conf = dict(frappe.conf)
	frappe.destroy()
	return conf


def set_site_config(site, values: dict):
	path = Path(site) / "site_config.json"
	data = json.loads(path.read_text())
	for key, value in values.items():
		if value is None:
			data.pop(key, None)
		else:
			data[key] = value
	path.write_text(json.dumps(data, indent=1))


def start_replica(datadir: Path, port: int, database: str) -> subprocess.Popen:
	if datadir.exists():
		shutil.rmtree(datadir)
	datadir.mkdir(parents=True)
	sh(
		"mariadb-install-db",
		f"--datadir={datadir}",
		"--user=mysql",
		"--auth-root-authentication-method=normal",
	)
	shutil.chown(datadir, "mysql", "mysql")
	for p in datadir.rglob("*"):
		shutil.chown(p, "mysql", "mysql")
	server = subprocess.Popen(
		[
			"mariadbd",
			"--no-defaults",
			f"--datadir={datadir}",
			"--user=mysql",
			"--bind-address=127.0.0.1",
			f"--port={port}",
			f"--socket={datadir}/mysqld.sock",
			f"--pid-file={datadir}/mysqld.pid",
			f"--server-id={SERVER_ID}",
			f"--replicate-do-db={database}",
			"--read-only=1",
			"--skip-log-bin",
			"--character-set-server=utf8mb4",
			"--collation-server=utf8mb4_unicode_ci",
			"--innodb-buffer-pool-size=512M",
		],
		stdout=subprocess.DEVNULL,
		stderr=open(datadir.parent / f"replica-{port}.log", "w"),
	)
	for _ in range(60):
		try:
			sh("mariadb-admin", "-h127.0.0.1", f"-P{port}", "-uroot", "ping")
			return server
		except subprocess.CalledProcessError:
			time.sleep(0.5)
	server.kill()
	raise SystemExit(f"the replica did not start (see {datadir.parent}/replica-{port}.log)")


def timed(session, url, params, n):
	times, servers = [], set()
	for _ in range(n):
		started = time.perf_counter()
		r = session.get(url, params=params)
		times.append((time.perf_counter() - started) * 1000)
		if not r.ok:
			raise RuntimeError(f"{url}: {r.status_code} {r.text[:3000]}")
		served = r.json()["message"]["served_by"]
		servers.add((served["server"], served["server_id"]))
	ordered = sorted(times)
	return {
		"median_ms": round(statistics.median(times), 1),
		"p95_ms": round(ordered[max(0, round(0.95 * len(ordered)) - 1)], 1),
		"served_by": sorted(servers),
	}


def main():
	import requests

	parser = argparse.ArgumentParser()
	parser.add_argument("--site", required=True)
	parser.add_argument("--rm", default="rm0101a@demo.bank-crm.example")
	parser.add_argument("--port", type=int, default=3317, help="the replica's port")
	parser.add_argument("--web-port", type=int, default=8768)
	parser.add_argument("--requests", type=int, default=20)
	parser.add_argument("--datadir", default=str(Path(tempfile.gettempdir()) / "bank_crm-replica" / "data"))
	parser.add_argument("--keep", action="store_true")
	args = parser.parse_args()

	conf = site_config(args.site)
	root = conf.get("root_password") or os.environ.get("BANK_CRM_DB_ROOT_PASSWORD")
	primary_port = int(conf.get("db_port") or 3306)
	database, db_password = conf["db_name"], conf["db_password"]
	log_bin, primary_id, binlog_format = mysql(
		primary_port, root, "select @@log_bin, @@server_id, @@binlog_format"
	).split("\t")
	if log_bin != "1" or primary_id == str(SERVER_ID):
		raise SystemExit(
			"The primary MariaDB writes no binary log (or has server_id 2): set log_bin, server_id = 1 "
			"and binlog_format = ROW in its configuration and restart it (README, Deployment)."
		)
	report = {"site": args.site, "primary": {"server_id": int(primary_id), "binlog_format": binlog_format}}

	# 1. the replica server; 2. the copy, the site's user, replication
	datadir = Path(args.datadir)
	started = time.perf_counter()
	server = start_replica(datadir, args.port, database)
	repl_password = secrets.token_urlsafe(16)
	mysql(
		primary_port,
		root,
		f"create user if not exists 'bank_crm_repl'@'127.0.0.1' identified by '{repl_password}'; "
		f"alter user 'bank_crm_repl'@'127.0.0.1' identified by '{repl_password}'; "
		"grant replication slave on *.* to 'bank_crm_repl'@'127.0.0.1'",
	)
	dump = datadir.parent / "site.sql"
	with open(dump, "w") as out:
		subprocess.run(
			[
				"mariadb-dump",
				"-h127.0.0.1",
				f"-P{primary_port}",
				"-uroot",
				f"-p{root}",
				"--single-transaction",
				"--master-data=1",
				"--databases",
				database,
			],
			check=True,
			stdout=out,
		)
	# the primary first: naming the host resets the coordinates, which the dump then sets
	mysql(
		args.port,
		"",
		"drop user if exists ''@'localhost'; "  # an anonymous user would shadow the site's user
		f"create user if not exists '{database}'@'127.0.0.1' identified by '{db_password}'; "
		f"create user if not exists '{database}'@'localhost' identified by '{db_password}'; "
		f"grant select on `{database}`.* to '{database}'@'127.0.0.1'; "
		f"grant select on `{database}`.* to '{database}'@'localhost'; "
		f"change master to master_host='127.0.0.1', master_port={primary_port}, "
		f"master_user='bank_crm_repl', master_password='{repl_password}'",
	)
	with open(dump) as source:  # with the primary's binary-log position (--master-data)
		subprocess.run(["mariadb", "-h127.0.0.1", f"-P{args.port}", "-uroot"], stdin=source, check=True)
	mysql(args.port, "", "start slave")
	report["replica"] = {
		"server_id": SERVER_ID,
		"port": args.port,
		"copied_in_s": round(time.perf_counter() - started, 1),
	}
	set_site_config(
		args.site, {"read_from_replica": 1, "replica_host": "127.0.0.1", "replica_db_port": args.port}
	)
	web = None
	try:
		# 3. the desk's reads, as the RM, over HTTP
		web = subprocess.Popen(
			[
				str(Path(sys.executable).parent / "gunicorn"),
				"-b",
				f"127.0.0.1:{args.web_port}",
				"-w",
				"2",
				"frappe.app:application",
			],
			stdout=subprocess.DEVNULL,
			stderr=subprocess.DEVNULL,
		)
		base = f"http://127.0.0.1:{args.web_port}"
		session = requests.Session()
		session.headers["Host"] = args.site
		for _ in range(60):
			try:
				if session.get(f"{base}/api/method/ping").ok:
					break
			except requests.ConnectionError:
				time.sleep(0.5)
		session.post(f"{base}/api/method/login", data={"usr": args.rm, "pwd": PASSWORD}).raise_for_status()
		customers = session.get(
			f"{base}/api/resource/Bank Customer Profile",
			params={"fields": json.dumps(["customer"]), "limit_page_length": 1},
		).json()["data"]
		customer = customers[0]["customer"]
		report["reads"] = {
			"customer-360": timed(
				session,
				f"{base}/api/method/bank_crm.api.customer360.get",
				{"customer": customer},
				args.requests,
			),
			"workbench": timed(session, f"{base}/api/method/bank_crm.api.workbench.get", {}, args.requests),
			"report: RM Portfolio": timed(
				session,
				f"{base}/api/method/frappe.desk.query_report.run",
				{"report_name": "RM Portfolio"},
				args.requests,
			),
		}
		# 4. a write goes to the primary and reaches the replica
		subject = f"replica check {secrets.token_hex(4)}"
		written = session.post(
			f"{base}/api/resource/Bank Interaction",
			json={
				"customer": customer,
				"interaction_type": "Call",
				"status": "Planned",
				"subject": subject,
				"planned_at": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(time.time() + 86400)),
			},
		)
		written.raise_for_status()
		name = written.json()["data"]["name"]
		query = f"select count(*) from `tabBank Interaction` where name = '{name}'"
		on_primary = mysql(primary_port, root, query, database)
		waited = time.perf_counter()
		while mysql(args.port, "", query, database) != "1" and time.perf_counter() - waited < 30:
			time.sleep(0.05)
		report["write"] = {
			"on_primary": on_primary == "1",
			"on_replica_after_ms": round((time.perf_counter() - waited) * 1000),
		}
		mysql(primary_port, root, f"delete from `tabBank Interaction` where name = '{name}'", database)
		status = sh("mariadb", "-h127.0.0.1", f"-P{args.port}", "-uroot", "-e", "show slave status\\G").stdout
		report["replication"] = {
			line.split(":", 1)[0].strip(): line.split(":", 1)[1].strip()
			for line in status.splitlines()
			if line.strip().startswith(
				("Slave_IO_Running", "Slave_SQL_Running:", "Seconds_Behind_Master", "Last_Error")
			)
		}
	finally:
		if web:
			web.terminate()
			web.wait()
		set_site_config(args.site, {"read_from_replica": None, "replica_host": None, "replica_db_port": None})
		if not args.keep:
			server.terminate()
			server.wait()
			shutil.rmtree(datadir, ignore_errors=True)
			dump.unlink(missing_ok=True)
	ok = all(r["served_by"] == [("replica", SERVER_ID)] for r in report["reads"].values())
	ok = ok and report["write"]["on_primary"]
	report["ok"] = ok
	print(json.dumps(report, indent=1, default=str))
	if not ok:
		raise SystemExit(1)


if __name__ == "__main__":
	main()
