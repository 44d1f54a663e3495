"""Benchmark: prediction features, training and nightly scoring at bank scale.

Run from the bench's ``sites`` folder with the bench's Python, against a site made for it (bank
customers loaded, e.g. by ``benchmarks/segmentation.py --load``; the script adds a model record
and scores every customer):

    cd ~/frappe-bench/sites
    ../env/bin/python ../apps/bank_crm/benchmarks/prediction.py --site bench.localhost

Steps, each in its own process so that its peak memory (VmHWM) is its own, each printed as a
table row (README, "Benchmarks"):

1. Features of every customer for one as-of date: ``prediction_data.read_batch`` in batches and
   ``core.prediction_features.derive`` — the code training and scoring share.
2. Training a churn model on every customer of one as-of date, with the labels of
   ``prediction_training`` (a LightGBM fit of ``--rounds`` trees). When the site's history gives
   only one outcome (a site loaded for the benchmarks has no leavers), the fit runs on the same
   rows with the label "total balance in the lowest tenth" instead, and the row says so: the time
   is the fit's, the model is not one to use.
3. Nightly scoring of every customer by that model, in ``--shards`` key-range shards, each in its
   own process as RQ workers run them.
"""

import argparse
import json
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from memory import peak_mib  # this folder's: the process's own peak (VmHWM)

HERE = Path(__file__).resolve()
MODEL_NAME = "Benchmark churn model"


def connect(site):
	import frappe

	frappe.init(site=site, sites_path=".")
	frappe.connect()
	frappe.set_user("Administrator")
	return frappe


def cmd_features(site, as_of):
	connect(site)
	from bank_crm.bank_insight import prediction_data
	from bank_crm.core import prediction_features as pf

	started = time.perf_counter()
	after, rows = "", 0
	while batch := prediction_data.read_batch(date.fromisoformat(as_of), after=after, limit=20_000):
		after = batch[-1][0].profile
		for _person, aggregates in batch:
			pf.derive(aggregates)
		rows += len(batch)
	print(
		json.dumps(
			{
				"seconds": round(time.perf_counter() - started, 1),
				"peak_mib": round(peak_mib()),
				"customers": rows,
			}
		)
	)


def cmd_train(site, as_ofs, rounds):
	frappe = connect(site)
	from bank_crm.bank_insight import prediction_models, prediction_training
	from bank_crm.core import prediction_features as pf

	target = prediction_training.Target(prediction_training.CHURN, 60, 0.5)
	started = time.perf_counter()
	data = prediction_training.Dataset()
	for as_of in as_ofs.split(","):
		data.extend(prediction_training.dataset(target, date.fromisoformat(as_of)))
	read = time.perf_counter() - started
	labels = "churn within 60 days"
	if sum(data.y) in (0, len(data.y)):
		total = pf.FEATURES.index("total_balance")
		cut = sorted(row[total] for row in data.x)[len(data.x) // 10]
		data.y = [int(row[total] <= cut) for row in data.x]
		labels = "stand-in: total balance in the lowest tenth (the site has no leavers)"
	fit_started = time.perf_counter()
	booster = prediction_training.train(data, rounds=rounds, seed=42)
	fit = time.perf_counter() - fit_started
	# the model record the scoring step uses, as the training job leaves it (then made active)
	name = frappe.db.get_value("Bank Prediction Model", {"model_name": MODEL_NAME}, "name")
	if name:
		frappe.db.delete("Bank Prediction Model", {"name": name})
	today = date.today()
	doc = frappe.get_doc(
		{
			"doctype": "Bank Prediction Model",
			"model_name": MODEL_NAME,
			"kind": "Churn",
			"horizon_days": 60,
			"training_dates": str(today - timedelta(days=120)),
			"validation_date": today - timedelta(days=90),
		}
	).insert()
	text = booster.model_to_string()
	file = frappe.get_doc(
		{
			"doctype": "File",
			"file_name": f"{doc.name}.txt",
			"attached_to_doctype": "Bank Prediction Model",
			"attached_to_name": doc.name,
			"is_private": 1,
			"content": text,
		}
	).insert()
	import hashlib

	frappe.db.set_value(
		"Bank Prediction Model",
		{"status": "Active"},
		"status",
		"Retired",
	)
	frappe.db.set_value(
		"Bank Prediction Model",
		doc.name,
		{
			"status": "Active",
			"passes": 1,
			"model_file": file.file_url,
			"model_hash": hashlib.sha256(text.encode()).hexdigest(),
			"reference_sample": json.dumps(prediction_models.reference_sample(booster, data)),
		},
	)
	frappe.db.commit()
	print(
		json.dumps(
			{
				"seconds": round(time.perf_counter() - started, 1),
				"reading_seconds": round(read, 1),
				"fit_seconds": round(fit, 1),
				"peak_mib": round(peak_mib()),
				"rows": len(data.y),
				"positives": sum(data.y),
				"features": len(pf.FEATURES),
				"rounds": rounds,
				"labels": labels,
				"model": doc.name,
			}
		)
	)


def cmd_start(site, shards):
	connect(site)
	from bank_crm.bank_insight import prediction_scoring
	from bank_crm.utils import shards as engine

	run = engine.resume_or_start(
		prediction_scoring.RUN,
		{"run_date": date.today()},
		prediction_scoring.PROFILE,
		shards,
		values=lambda: {"models": "\n".join(prediction_scoring.active_models())},
	)
	print(json.dumps({"run": run.name}))


def cmd_shard(site, run, shard):
	frappe = connect(site)
	from bank_crm.bank_insight import prediction_scoring

	prediction_scoring.score_shard(run, shard)
	print(json.dumps({"peak_mib": round(peak_mib())}))
	frappe.destroy()


def sub(site, *args) -> dict:
	out = subprocess.run([sys.executable, str(HERE), "--site", site, *args], capture_output=True, text=True)
	if out.returncode:
		print(out.stdout, out.stderr, file=sys.stderr)
		raise SystemExit(f"step {args} failed")
	return json.loads(out.stdout.strip().splitlines()[-1])


def scoring(site, shards) -> dict:
	run = sub(site, "--cmd", "start", "--shards", str(shards))["run"]
	started = time.perf_counter()
	procs = [
		subprocess.Popen(
			[sys.executable, str(HERE), "--site", site, "--cmd", "shard", "--run", run, "--shard", str(i)],
			stdout=subprocess.PIPE,
			text=True,
		)
		for i in range(shards)
	]
	peaks = [json.loads(p.communicate()[0].strip().splitlines()[-1])["peak_mib"] for p in procs]
	seconds = time.perf_counter() - started
	frappe = connect(site)
	doc = frappe.get_doc("Bank Prediction Run", run)
	if doc.status != "Completed":
		raise SystemExit(f"scoring run {run} did not complete: {doc.status} {doc.error_log}")
	return {
		"seconds": round(seconds, 1),
		"peak_mib": max(peaks),
		"customers": doc.customers_scored,
		"changed": doc.scores_changed,
		"high": doc.high_churn,
		"score_psi": doc.score_psi,
	}


def main():
	parser = argparse.ArgumentParser()
	parser.add_argument("--site", required=True)
	parser.add_argument("--cmd")
	parser.add_argument("--shards", type=int, default=2)
	parser.add_argument("--rounds", type=int, default=200)
	parser.add_argument("--as-of", default=None, help=argparse.SUPPRESS)
	parser.add_argument("--run", help=argparse.SUPPRESS)
	parser.add_argument("--shard", type=int, help=argparse.SUPPRESS)
	args = parser.parse_args()
	if args.cmd == "features":
		return cmd_features(args.site, args.as_of)
	if args.cmd == "train":
		return cmd_train(args.site, args.as_of, args.rounds)
	if args.cmd == "start":
		return cmd_start(args.site, args.shards)
	if args.cmd == "shard":
		return cmd_shard(args.site, args.run, args.shard)
	today = date.today()
	report = {
		"features_one_date": sub(args.site, "--cmd", "features", "--as-of", str(today - timedelta(days=1))),
	}
	print("features:", report["features_one_date"], flush=True)
	# one as-of date after the site's latest snapshots: a million rows
	dates = str(today - timedelta(days=1))
	report["training"] = sub(args.site, "--cmd", "train", "--as-of", dates, "--rounds", str(args.rounds))
	print("training:", report["training"], flush=True)
	report["scoring_first"] = scoring(args.site, args.shards)
	print("scoring:", report["scoring_first"], flush=True)
	report["scoring_again"] = scoring(args.site, args.shards)
	print("scoring again:", report["scoring_again"], flush=True)
	print(json.dumps(report, indent=1))


if __name__ == "__main__":
	main()
