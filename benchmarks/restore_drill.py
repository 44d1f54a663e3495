"""Drill: back a site up, restore it into a new site, and prove the copy is the bank's data.

Run from the bench's ``sites`` folder with the bench's Python, against the 1,000,000-customer
site of the other benchmarks (nothing may write to it during the drill: stop its workers and
scheduler first):

    cd ~/frappe-bench/sites
    ../env/bin/python ../apps/bank_crm/benchmarks/restore_drill.py --site bench.localhost \\
        --target restored.localhost

It follows the README's runbook, step by step, and times each step:

1. the row count and ``CHECKSUM TABLE`` of every bank table (``tabBank …``), of ``tabCustomer``
   and of ``__Auth`` (the encrypted ID numbers), and the full ID numbers of a sample of profiles,
   read on the source;
2. ``bench --site SOURCE backup --with-files`` (the database, public and private files, and
   ``…-site_config_backup.json`` with the site's encryption key);
3. ``bench new-site TARGET``, ``bench --site TARGET restore … --with-public-files
   --with-private-files``, then the encryption key copied from the backed-up site config
   (``bench --site TARGET set-config encryption_key …``), ``bench --site TARGET migrate``;
4. on the target: the same counts and checksums; the same full ID numbers for the sample; an RM
   logs in over HTTP (gunicorn on a free port, checked to be ours) and sees exactly their own
   customers (count through the REST API, and another RM's customer refused); the security
   check's encryption-key finding;
5. the wrong key: the target given a new key (as a restore without the original key would be),
   the security check must fail with the reason, and revealing a full ID must say the key is
   wrong instead of showing anything; then the right key back, and both pass again.

Prints one JSON report (README, "Backup and restore"). ``--skip-backup FILE`` restores an
existing backup (the SQL file; its files and site config beside it); ``--keep`` keeps the
target site.
"""

import argparse
import glob
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import Web  # noqa: E402

PASSWORD = "Demo@Bank2026"


def bench(*args, timed: dict | None = None, label: str | None = None):
	"""One ``bench`` command in the bench's folder; its time into ``timed[label]``."""
	started = time.perf_counter()
	result = subprocess.run(["bench", *args], cwd="..", capture_output=True, text=True)
	if result.returncode:
		raise SystemExit(
			f"bench {' '.join(args[:3])} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
		)
	if timed is not None:
		timed[label] = round(time.perf_counter() - started, 1)
	return result.stdout


def tables(frappe) -> list[str]:
	names = frappe.db.sql_list(
		"select table_name from information_schema.tables where table_schema = database() "
		"and (table_name like 'tabBank %%' or table_name in ('tabCustomer', '__Auth')) order by table_name"
	)
	return names


def fingerprint(site: str) -> dict:
	"""Row count and CHECKSUM TABLE of each bank table of ``site``."""
	import frappe

	frappe.init(site=site, sites_path=".")
	frappe.connect()
	try:
		out = {}
		for table in tables(frappe):
			count = frappe.db.sql(f"select count(*) from `{table}`")[0][0]
			checksum = frappe.db.sql(f"checksum table `{table}`")[0][1]
			out[table] = [count, int(checksum or 0)]
		return out
	finally:
		frappe.destroy()


def sample_ids(site: str, names: list[str] | None = None, size: int = 200) -> dict:
	"""Full ID numbers of ``names`` (or of a random sample of profiles) decrypted on ``site``."""
	import frappe
	from frappe.utils.password import get_decrypted_password

	frappe.init(site=site, sites_path=".")
	frappe.connect()
	try:
		if names is None:
			every = frappe.db.sql_list(
				"select name from `__Auth` where doctype = 'Bank Customer Profile' and fieldname = 'id_number'"
			)
			names = random.Random(7).sample(every, min(size, len(every)))
		return {n: get_decrypted_password("Bank Customer Profile", n, "id_number") for n in names}
	finally:
		frappe.destroy()


def rm_scope(site: str, rm: str) -> dict:
	"""What ``rm`` sees over HTTP, against what the database says is theirs."""
	import frappe

	frappe.init(site=site, sites_path=".")
	frappe.connect()
	try:
		own = frappe.db.count("Bank Customer Profile", {"relationship_manager": rm})
		foreign = frappe.db.get_value("Bank Customer Profile", {"relationship_manager": ("!=", rm)}, "name")
	finally:
		frappe.destroy()
	web = Web(site, workers=1)
	try:
		session = requests.Session()
		headers = {"Host": site, "Accept": "application/json"}
		login = session.post(
			f"{web.url}/api/method/login", json={"usr": rm, "pwd": PASSWORD}, headers=headers
		)
		login.raise_for_status()
		count = session.get(
			f"{web.url}/api/method/frappe.client.get_count",
			params={"doctype": "Bank Customer Profile"},
			headers=headers,
			timeout=300,
		).json()["message"]
		other = session.get(f"{web.url}/api/resource/Bank Customer Profile/{foreign}", headers=headers)
		return {
			"rm": rm,
			"own_in_database": own,
			"seen_over_rest": count,
			"other_rm_customer_status": other.status_code,
		}
	finally:
		web.stop()


def security(site: str) -> dict:
	"""The security check's encryption-key finding, and what revealing a full ID answers."""
	import frappe

	frappe.init(site=site, sites_path=".")
	frappe.connect()
	frappe.set_user("Administrator")
	try:
		from bank_crm.bank_crm.page.bank_crm_security import bank_crm_security

		finding = next(f for f in bank_crm_security.findings() if f.key == "encryption_key")
		rendered = bank_crm_security.render(finding)
		profile = frappe.db.get_value("Bank Customer Profile", {"id_number_masked": ("is", "set")}, "name")
		from bank_crm.api.profile import reveal_id_number

		frappe.local.lang = "zh"
		try:
			revealed, refused = bool(reveal_id_number(profile, "restore drill")), None
		except Exception as e:
			revealed, refused = False, str(e)
		frappe.db.rollback()
		return {
			"check_passes": finding.status == "pass",
			"current": rendered.get("current"),
			"reveal_ok": revealed,
			"reveal_refused_with": refused,
		}
	finally:
		frappe.destroy()


def confirm_key_backup(site: str):
	"""The runbook's first step: the key is in the bank's vault, confirmed on the security page."""
	import frappe

	frappe.init(site=site, sites_path=".")
	frappe.connect()
	frappe.set_user("Administrator")
	try:
		from bank_crm.bank_crm.page.bank_crm_security import bank_crm_security

		bank_crm_security.confirm_key_backup()
		frappe.db.commit()
	finally:
		frappe.destroy()


def backup_and_restore(args, root: str, report: dict, note) -> str:
	"""Steps 2 and 3 of the runbook, timed; returns the original encryption key."""
	seconds = report["seconds"]
	if args.skip_backup:
		sql = args.skip_backup
	else:
		bench("--site", args.site, "backup", "--with-files", timed=seconds, label="backup (RPO)")
		sql = max(glob.glob(f"{args.site}/private/backups/*-database.sql.gz"), key=os.path.getmtime)
	stem = sql.removesuffix("-database.sql.gz")
	files = {
		"database": sql,
		"public": f"{stem}-files.tar",
		"private": f"{stem}-private-files.tar",
		"config": f"{stem}-site_config_backup.json",
	}
	report["backup_mib"] = {
		k: round(os.path.getsize(v) / 2**20, 1) for k, v in files.items() if os.path.exists(v)
	}
	note("backed up")
	restore_started = time.perf_counter()
	bench(
		"new-site", args.target, "--db-root-password", root, "--admin-password", PASSWORD,
		timed=seconds, label="new-site",
	)  # fmt: skip
	bench(
		"--site", args.target, "restore", os.path.abspath(sql),
		"--with-public-files", os.path.abspath(files["public"]),
		"--with-private-files", os.path.abspath(files["private"]),
		"--db-root-password", root,
		timed=seconds, label="restore",
	)  # fmt: skip
	key = json.load(open(files["config"]))["encryption_key"]
	bench("--site", args.target, "set-config", "encryption_key", key)
	bench("--site", args.target, "migrate", timed=seconds, label="migrate")
	seconds["restore end to end (RTO)"] = round(time.perf_counter() - restore_started, 1)
	note("restored")
	return key


def main():
	parser = argparse.ArgumentParser()
	parser.add_argument("--site", required=True)
	parser.add_argument("--target", required=True)
	parser.add_argument("--rm", default="rm0101b@demo.bank-crm.example")
	parser.add_argument("--skip-backup", help="restore this backup's SQL file instead of taking a new one")
	parser.add_argument("--keep", action="store_true", help="keep the target site")
	parser.add_argument("--db-root-password", default=None)
	parser.add_argument(
		"--verify-only", action="store_true", help="check an existing target against the source, no backup"
	)
	args = parser.parse_args()
	root = args.db_root_password or json.load(open("common_site_config.json")).get("root_password")
	if os.path.exists(args.target) and not args.verify_only:
		raise SystemExit(f"{args.target} exists; drop it first (bench drop-site {args.target})")

	report = {"site": args.site, "target": args.target, "seconds": {}}

	def note(step):  # each step's figures as soon as it ends (a long drill that fails keeps them)
		print(json.dumps({"step": step, "seconds": report["seconds"]}, default=str), flush=True)

	seconds = report["seconds"]
	if not args.verify_only:
		confirm_key_backup(args.site)
	started = time.perf_counter()
	before = fingerprint(args.site)
	seconds["source checksums"] = round(time.perf_counter() - started, 1)
	report["tables"] = len(before)
	report["rows"] = sum(c for c, _ in before.values())
	report["profiles"] = before.get("tabBank Customer Profile", [0])[0]
	ids = sample_ids(args.site)
	note("source counted")

	if args.verify_only:
		key = json.load(open(f"{args.target}/site_config.json"))["encryption_key"]
	else:
		key = backup_and_restore(args, root, report, note)
	started = time.perf_counter()
	after = fingerprint(args.target)
	seconds["target checksums"] = round(time.perf_counter() - started, 1)
	report["tables_differing"] = {
		t: [before.get(t), after.get(t)] for t in set(before) | set(after) if before.get(t) != after.get(t)
	}
	restored_ids = sample_ids(args.target, list(ids))
	report["id_sample"] = len(ids)
	report["id_sample_equal"] = sum(1 for n, v in ids.items() if v and restored_ids.get(n) == v)
	note("target counted")
	report["rm_scope"] = rm_scope(args.target, args.rm)
	report["right_key"] = security(args.target)

	from cryptography.fernet import Fernet

	bench("--site", args.target, "set-config", "encryption_key", Fernet.generate_key().decode())
	report["wrong_key"] = security(args.target)
	bench("--site", args.target, "set-config", "encryption_key", key)
	report["key_restored"] = security(args.target)

	if not args.keep:
		bench("drop-site", args.target, "--db-root-password", root, "--no-backup", "--force")
	print(json.dumps(report, indent=1, ensure_ascii=False, default=str))


if __name__ == "__main__":
	main()
