"""Check: the app's churn model on data no one here generated — the public bank-churn data set
"Churn_Modelling.csv" (10,000 customers of a European bank: credit score, geography, gender,
age, tenure, balance, number of products, credit card, active member, estimated salary, and
whether the customer left; widely published, e.g. on Kaggle as "Bank Customer Churn").

The file is not in this repository; pass its path. Run from the bench's ``sites`` folder with the
bench's Python, against a site of its own (a fresh site with ERPNext and bank_crm, the setup
wizard done; the check adds 10,000 customers):

    cd ~/frappe-bench/sites
    ../env/bin/python ../apps/bank_crm/benchmarks/public_churn.py --site churn.localhost \\
        --csv /path/to/Churn_Modelling.csv load      # customers, snapshots, holdings, events
    ../env/bin/python ../apps/bank_crm/benchmarks/public_churn.py --site churn.localhost train
    ../env/bin/python ../apps/bank_crm/benchmarks/public_churn.py --csv /path/... by-hand

How the rows become the bank's history (everything through the app's own ingestion: profiles
as the desk saves them, snapshots, holdings and events through the bulk endpoints' functions):

- Every other row (odd row numbers) is known on the as-of date A, the others on B, 92 days
  later: the model trains on A and is tested out of time on B, as the app validates every model.
- Tenure → the relationship's start; balance → the deposit balance of three monthly snapshots
  before the as-of date; number of products and credit card → holdings; active member → app
  logins in the 60 days before the as-of date (an inactive member last logged in 80–89 days
  before); gender and age → the profile (used for the fairness check, never as features).
- "Exited" → the relationship ends 20 days after the as-of date. A customer known on A who
  stays ends on B − 10, so that B's test holds only B's customers.
- Not mapped, because the app has no such field: credit score, geography, estimated salary.

``by-hand`` is what a data scientist does with the same split and no app: LightGBM and a
logistic regression on the file's columns — all of them, and only those the app reads.
"""

import argparse
import csv
import json
import sys
import time
from datetime import date, timedelta

A, B = date(2026, 3, 1), date(2026, 6, 1)
HORIZON = 60
PREFIX = "PUB-"
MODEL_NAME = "Public data set churn model"
DIVISIONS = (
	"110101 110102 110105 110106 110107 110108 110109 110111 110112 110113 "
	"110114 110115 110116 110117 110118 110119 120101 120102 120103 120104"
).split()
PRODUCTS = (
	("PUB-DEP", "Savings account", "Deposit", "R1"),
	("PUB-FUND", "Bond fund", "Fund", "R2"),
	("PUB-INS", "Annuity insurance", "Insurance", "R2"),
	("PUB-WM", "Wealth plan", "Wealth", "R2"),
	("PUB-CARD", "Credit card", "Card", "R1"),
)
APP_COLUMNS = ("Tenure", "Balance", "NumOfProducts", "HasCrCard", "IsActiveMember")


def read(path: str) -> list[dict]:
	"""The file's well-formed rows (some published copies carry a stray row at the end)."""
	with open(path, newline="", encoding="utf-8") as f:
		rows = list(csv.DictReader(f))
	good = [r for r in rows if r.get("Exited") in ("0", "1") and r.get("Gender") in ("Male", "Female")]
	if len(good) < len(rows):
		print(f"skipped {len(rows) - len(good)} malformed row(s)", file=sys.stderr)
	return good


def as_of(row: dict) -> date:
	return A if int(row["RowNumber"]) % 2 else B


def connect(site):
	import frappe

	frappe.init(site=site, sites_path=".")
	frappe.connect()
	frappe.set_user("Administrator")
	return frappe


# -- load -------------------------------------------------------------------------------------
def cmd_load(site: str, path: str):
	frappe = connect(site)
	from bank_crm.api import ingest, insight
	from bank_crm.demo.generator import resident_id

	rows = read(path)
	started = time.perf_counter()
	for code, title, category, risk in PRODUCTS:
		if not frappe.db.exists("Bank Product", code):
			frappe.get_doc(
				{
					"doctype": "Bank Product",
					"product_code": code,
					"product_name": title,
					"category": category,
					"risk_level": risk,
				}
			).insert()
	defaults = {
		"customer_group": frappe.db.get_value("Customer Group", {"is_group": 0}, "name"),
		"territory": frappe.db.get_value("Territory", {"is_group": 0}, "name"),
	}
	customers = 0
	for row in rows:
		name = PREFIX + row["CustomerId"]
		if frappe.db.exists("Customer", name):
			continue
		n, day = int(row["RowNumber"]), as_of(row)
		born = day - timedelta(days=365 * int(row["Age"]) + n % 300)
		male = row["Gender"] == "Male"
		exited = row["Exited"] == "1"
		frappe.get_doc(
			{
				"doctype": "Customer",
				"customer_name": f"{row['Surname']} {row['CustomerId']}",
				"customer_type": "Individual",
				**defaults,
			}
		).insert(set_name=name)
		frappe.get_doc(
			{
				"doctype": "Bank Customer Profile",
				"customer": name,
				"profile_type": "Individual",
				"legal_name": row["Surname"],
				"id_type": "Resident ID Card",
				"id_number": resident_id(DIVISIONS[(n // 500) % len(DIVISIONS)], born, n % 500, male),
				"date_of_birth": born,
				"gender": "Male" if male else "Female",
				"relationship_since": day - timedelta(days=365 * int(row["Tenure"]) + 20),
				"relationship_ended_on": day + timedelta(days=20)
				if exited
				else (B - timedelta(days=10) if day == A else None),
			}
		).insert()
		customers += 1
		if customers % 500 == 0:
			frappe.db.commit()
	frappe.db.commit()
	profiles_s = time.perf_counter() - started

	snapshots, holdings, events = [], [], []
	for row in rows:
		name, day = PREFIX + row["CustomerId"], as_of(row)
		since = day - timedelta(days=365 * int(row["Tenure"]) + 20)
		for back in (61, 31, 1):
			snapshots.append(
				{
					"customer": name,
					"as_of_date": str(day - timedelta(days=back)),
					"deposit_balance": float(row["Balance"]),
					"aum": 0,
					"loan_balance": 0,
					"fee_income": 0,
					"composite_yield": 0,
					"products_held": int(row["NumOfProducts"]),
				}
			)
		owned = ["PUB-DEP", "PUB-FUND", "PUB-INS", "PUB-WM"][: int(row["NumOfProducts"])]
		if row["HasCrCard"] == "1":
			owned.append("PUB-CARD")
		for code in owned:
			holdings.append(
				{"customer": name, "product": code, "opened_on": str(since), "amount": 0, "status": "Active"}
			)
		n = int(row["RowNumber"])
		logins = [5 + 9 * k + n % 4 for k in range(6)] if row["IsActiveMember"] == "1" else [80 + n % 10]
		for k, back in enumerate(logins):
			events.append(
				{
					"external_id": f"{name}-login-{k}",
					"customer": name,
					"event_type": "App Login",
					"event_time": f"{day - timedelta(days=back)} 09:30:00",
					"channel": "Mobile App",
				}
			)
	errors = 0
	for start in range(0, len(snapshots), 20_000):
		errors += len(ingest.snapshots(rows=snapshots[start : start + 20_000])["errors"])
	for start in range(0, len(holdings), 20_000):
		errors += len(insight.holdings(rows=holdings[start : start + 20_000])["errors"])
	for start in range(0, len(events), 20_000):
		errors += len(insight.events(rows=events[start : start + 20_000], source="public-churn")["errors"])
	frappe.db.commit()
	print(
		json.dumps(
			{
				"customers_added": customers,
				"snapshots": len(snapshots),
				"holdings": len(holdings),
				"events": len(events),
				"rows_refused": errors,
				"profiles_s": round(profiles_s, 1),
				"total_s": round(time.perf_counter() - started, 1),
			}
		)
	)


# -- the app's model ----------------------------------------------------------------------------
def cmd_train(site: str):
	frappe = connect(site)
	from bank_crm.bank_insight import prediction_models

	doc = frappe.get_doc(
		{
			"doctype": "Bank Prediction Model",
			"model_name": MODEL_NAME,
			"kind": "Churn",
			"horizon_days": HORIZON,
			"drop_share": 50,
			"training_dates": str(A),
			"validation_date": str(B),
			"rounds": 200,
			"num_leaves": 15,
			"purpose": "Check on the public bank-churn data set",
		}
	).insert()
	frappe.db.commit()
	started = time.perf_counter()
	report = prediction_models.train_and_validate(doc.name)
	doc.reload()
	print(
		json.dumps(
			{
				"model": doc.name,
				"status": doc.status,
				"training_rows": doc.training_rows,
				"training_positives": doc.training_positives,
				"test_rows": report["rows"],
				"test_positives": report["positives"],
				"app_model": report["model"],
				"app_logistic_baseline": report["baselines"]["logistic_regression"],
				"app_churn_rule_baseline": report["baselines"].get("churn_risk_rule"),
				"gate": doc.gate_reason,
				"seconds": round(time.perf_counter() - started, 1),
			},
			default=str,
		)
	)


# -- by hand ------------------------------------------------------------------------------------
def cmd_by_hand(path: str):
	import lightgbm as lgb
	import numpy as np
	from sklearn.linear_model import LogisticRegression
	from sklearn.metrics import roc_auc_score
	from sklearn.pipeline import make_pipeline
	from sklearn.preprocessing import StandardScaler

	rows = read(path)
	geographies = sorted({r["Geography"] for r in rows})

	def matrix(subset, columns):
		out = []
		for r in subset:
			x = [float(r[c]) for c in columns if c not in ("Geography", "Gender")]
			if "Gender" in columns:
				x.append(1.0 if r["Gender"] == "Male" else 0.0)
			if "Geography" in columns:
				x += [1.0 if r["Geography"] == g else 0.0 for g in geographies]
			out.append(x)
		return np.array(out)

	train = [r for r in rows if as_of(r) == A]
	test = [r for r in rows if as_of(r) == B]
	y_train = np.array([int(r["Exited"]) for r in train])
	y_test = np.array([int(r["Exited"]) for r in test])
	every = (
		"CreditScore",
		"Geography",
		"Gender",
		"Age",
		"Tenure",
		"Balance",
		"NumOfProducts",
		"HasCrCard",
		"IsActiveMember",
		"EstimatedSalary",
	)
	out = {"train_rows": len(train), "test_rows": len(test), "test_positives": int(y_test.sum())}
	for label, columns in (("every_column", every), ("columns_the_app_reads", APP_COLUMNS)):
		x_train, x_test = matrix(train, columns), matrix(test, columns)
		gbm = lgb.LGBMClassifier(
			n_estimators=200, learning_rate=0.05, num_leaves=15, verbose=-1, random_state=7
		)
		gbm.fit(x_train, y_train)
		logistic = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(x_train, y_train)
		out[label] = {
			"lightgbm_roc_auc": round(float(roc_auc_score(y_test, gbm.predict_proba(x_test)[:, 1])), 4),
			"logistic_roc_auc": round(float(roc_auc_score(y_test, logistic.predict_proba(x_test)[:, 1])), 4),
		}
	print(json.dumps(out))


def main():
	parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
	parser.add_argument("step", choices=("load", "train", "by-hand"))
	parser.add_argument("--site")
	parser.add_argument("--csv")
	args = parser.parse_args()
	if args.step in ("load", "by-hand") and not args.csv:
		parser.error("--csv: the path of Churn_Modelling.csv")
	if args.step in ("load", "train") and not args.site:
		parser.error("--site: the site to load into")
	if args.step == "load":
		cmd_load(args.site, args.csv)
	elif args.step == "train":
		cmd_train(args.site)
	else:
		cmd_by_hand(args.csv)


if __name__ == "__main__":
	sys.exit(main())
