"""运行监控: the overview for CRM Administrators only, the late-nightly notification (once per job
and day), and the reconciler that gives orphaned shards new jobs."""

from datetime import datetime, timedelta
from unittest.mock import patch

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import add_to_date, now_datetime

from bank_crm.api import operations as api
from bank_crm.bank_crm import operations
from bank_crm.tests.factories import make_user
from bank_crm.utils import shards

RETIER = "bank_crm.bank_segmentation.segmentation.retier_every_customer"
RUN = "Bank Segmentation Run"


def _job_type(method: str) -> str:
	return frappe.db.get_value("Scheduled Job Type", {"method": method})


class TestOperations(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		from frappe.core.doctype.scheduled_job_type.scheduled_job_type import sync_jobs

		sync_jobs()
		cls.admin = make_user("ops.admin", ["CRM Administrator"])
		cls.rm = make_user("ops.rm", ["Relationship Manager"])
		frappe.db.commit()  # the users outlive each test's rollback

	def tearDown(self):
		frappe.set_user("Administrator")
		frappe.db.rollback()

	def test_only_a_crm_administrator_sees_the_overview(self):
		frappe.set_user(self.rm)
		self.assertRaises(frappe.PermissionError, api.overview)
		frappe.set_user(self.admin)
		data = api.overview()
		methods = {j["method"]: j for j in data["jobs"]}
		self.assertIn(RETIER, methods)
		self.assertEqual(methods[RETIER]["runs"][0]["run_doctype"], RUN)
		self.assertTrue(methods[RETIER]["nightly"])
		self.assertIn("events_awaiting_detection", data["backlogs"])
		self.assertIn("scheduler_status", data["health"])  # Frappe's System Health Report's figure
		self.assertIsInstance(data["failed_background_jobs"], list)

	def test_a_failed_run_shows_its_last_failure_and_durations(self):
		job_type = _job_type(RETIER)
		frappe.db.delete("Scheduled Job Log", {"scheduled_job_type": job_type})  # rolled back after
		start = add_to_date(now_datetime(), hours=-2)
		for status, minutes in (("Complete", 3), ("Failed", 1)):
			log = frappe.get_doc(
				{
					"doctype": "Scheduled Job Log",
					"scheduled_job_type": job_type,
					"status": status,
					"details": "Traceback\nOperationalError: (2013, 'Lost connection')"
					if status == "Failed"
					else None,
				}
			)
			log.db_insert()
			frappe.db.sql(
				"update `tabScheduled Job Log` set creation = %s, modified = %s where name = %s",
				(start, start + timedelta(minutes=minutes), log.name),
			)
			start += timedelta(minutes=30)
		entry = next(j for j in operations.jobs() if j["method"] == RETIER)
		self.assertEqual(entry["last_status"], "Failed")
		self.assertIn("Lost connection", entry["last_failure_reason"])
		self.assertEqual(entry["durations"][0], 180.0)

	def test_a_late_nightly_job_is_told_to_the_administrators_once_a_day(self):
		frappe.db.set_single_value("Bank CRM Settings", "nightly_due_by", "07:00:00")
		frappe.db.delete("Notification Log", {"document_type": "Scheduled Job Type"})
		job_type = _job_type(RETIER)
		frappe.db.delete("Scheduled Job Log", {"scheduled_job_type": job_type})  # rolled back after
		today = now_datetime().date()
		before_due = datetime.combine(today, datetime.min.time()) + timedelta(hours=6)
		after_due = before_due + timedelta(hours=2)
		self.assertEqual(operations.late_nightly_jobs(before_due), [])

		told = operations.warn_late_nightly_jobs(after_due)
		self.assertIn(job_type, told)
		notes = frappe.get_all(
			"Notification Log",
			filters={"document_type": "Scheduled Job Type", "document_name": job_type},
			fields=["for_user", "subject"],
		)
		self.assertIn(self.admin, {n.for_user for n in notes})
		self.assertNotIn(self.rm, {n.for_user for n in notes})
		self.assertEqual(operations.warn_late_nightly_jobs(after_due + timedelta(minutes=10)), [])

		# completed today (its log and its run record): no longer late
		log = frappe.get_doc(
			{"doctype": "Scheduled Job Log", "scheduled_job_type": job_type, "status": "Complete"}
		)
		log.db_insert()
		frappe.get_doc(
			{
				"doctype": RUN,
				"run_type": "Nightly",
				"run_date": today,
				"status": "Completed",
				"finished_at": now_datetime(),
			}
		).db_insert()
		late = {
			e["job_type"] for e in operations.late_nightly_jobs(datetime.combine(today, datetime.max.time()))
		}
		self.assertNotIn(job_type, late)

	def test_orphaned_shards_get_new_jobs_and_live_ones_do_not(self):
		run = frappe.get_doc(
			{
				"doctype": RUN,
				"run_type": "Nightly",
				"run_date": now_datetime().date(),
				"status": "Running",
				"shards": [
					{"shard_no": 1, "range_from": "", "range_to": "m", "status": "Completed"},
					{"shard_no": 2, "range_from": "m", "range_to": "t", "status": "Queued"},  # its job lost
					{
						"shard_no": 3,
						"range_from": "t",
						"range_to": "",
						"status": "Running",
					},  # a worker holds it
				],
			}
		).insert(ignore_permissions=True)
		# twenty minutes ago on the site's clock (the database's now() may be in another time zone)
		frappe.db.sql(
			"update `tabBank Job Shard` set modified = %s where parent = %s",
			(add_to_date(now_datetime(), minutes=-20), run.name),
		)
		held = shards.lock_name(f"{run.name}:3")
		self.assertEqual(frappe.db.sql("select get_lock(%s, 0)", (held,))[0][0], 1)
		try:
			job = shards.registered_jobs()[RETIER][0]
			self.assertEqual(shards.orphans(job, run.name), [2])
			with patch("frappe.enqueue") as enqueue:
				queued = shards.reconcile()
			self.assertEqual(queued.get(run.name), [2])
			ids = [c.kwargs["job_id"] for c in enqueue.call_args_list if c.kwargs.get("run") == run.name]
			self.assertEqual(ids, [f"{job.shard_method}:{run.name}:2"])
		finally:
			frappe.db.sql("select release_lock(%s)", (held,))
		# the worker holding shard 3 died (its lock is free): shard 3 is orphaned too
		self.assertEqual(sorted(shards.orphans(job, run.name)), [2, 3])

	def test_every_scheduled_job_of_the_app_has_a_title(self):
		methods = frappe.get_all(
			"Scheduled Job Type", filters={"method": ("like", "bank_crm.%")}, pluck="method"
		)
		self.assertTrue(methods)
		self.assertEqual(sorted(set(methods) - set(operations.TITLES)), [])
