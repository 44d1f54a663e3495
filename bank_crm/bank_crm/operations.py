"""运行监控 (Bank CRM Operations): how the app's scheduled jobs, queues and backlogs are doing.

Built on Frappe's own records, not beside them:

- *Scheduled Job Type* and *Scheduled Job Log*: each of our jobs' last run, last success, last
  failure and the durations of its recent successful runs;
- our run records and their *Bank Job Shard* rows: for the jobs that work in sharded runs, the
  runs' durations, the open run, its failed shards and orphaned shards (``shards.orphans``);
- *RQ Job*: the failed background jobs of our methods on every queue;
- *System Health Report*: scheduler status, workers, queue lengths, failing scheduled jobs,
  e-mail and error counts (its own fetch methods, so the page says what Frappe's report says).

Two scheduled jobs (every ten minutes): orphaned shards get new jobs, and the CRM
Administrators are told (a Frappe Notification Log, with its e-mail) when a nightly job has not
completed by *Nightly Jobs Due By* in Bank CRM Settings — once per job and day.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import frappe
from frappe import _
from frappe.utils import cint, get_datetime, get_time, now_datetime

from bank_crm.core.access import CRM_ADMINISTRATOR
from bank_crm.utils import shards

SETTINGS = "Bank CRM Settings"
NIGHTLY = ("Daily", "Daily Long")
TREND = 7  # successful runs shown per job


def _seconds(start, end) -> float | None:
	if not start or not end:
		return None
	return round((get_datetime(end) - get_datetime(start)).total_seconds(), 1)


# -- jobs -------------------------------------------------------------------------------------


def _job_types() -> list[dict]:
	return frappe.get_all(
		"Scheduled Job Type",
		filters={"method": ("like", "bank_crm.%")},
		fields=["name", "method", "frequency", "cron_format", "last_execution", "stopped"],
		order_by="frequency, method",
	)


def _logs(job_type: str) -> dict:
	"""The job type's recent Scheduled Job Log rows summed up (newest first)."""
	rows = frappe.get_all(
		"Scheduled Job Log",
		filters={"scheduled_job_type": job_type},
		fields=["status", "creation", "modified", "details"],
		order_by="creation desc",
		limit=50,
	)
	done = [r for r in rows if r.status == "Complete"]
	failed = [r for r in rows if r.status == "Failed"]
	return {
		"last_started": rows[0].creation if rows else None,
		"last_status": rows[0].status if rows else None,
		"last_success": done[0].modified if done else None,
		"last_failure": failed[0].creation if failed else None,
		"last_failure_reason": (failed[0].details or "").strip().splitlines()[-1][:300] if failed else None,
		"recent_failures": len(failed),
		"durations": [_seconds(r.creation, r.modified) for r in done[:TREND]],
	}


def _runs(job: shards.Job) -> dict:
	"""The job's recent runs: last completed, durations, and what the open run is waiting for."""
	fields = ["name", "status", "creation", job.started_field, job.finished_field]
	if job.duration_field:
		fields.append(job.duration_field)
	runs = frappe.get_all(job.run_doctype, fields=fields, order_by="creation desc", limit=20)
	completed = [r for r in runs if r.status == "Completed"]

	def duration(r):
		return (
			r.get(job.duration_field)
			if job.duration_field
			else _seconds(r.get(job.started_field), r.get(job.finished_field))
		)

	open_run = next((r for r in runs if r.status in shards.UNFINISHED), None)
	out = {
		"run_doctype": job.run_doctype,
		"last_completed": completed[0].name if completed else None,
		"last_completed_at": completed[0].get(job.finished_field) if completed else None,
		"durations": [duration(r) for r in completed[:TREND]],
		"open_run": None,
	}
	if open_run:
		counts = dict(
			frappe.db.sql(
				"select status, count(*) from `tabBank Job Shard` where parenttype = %s and parent = %s group by status",
				(job.run_doctype, open_run.name),
			)
		)
		out["open_run"] = {
			"name": open_run.name,
			"status": open_run.status,
			"since": open_run.get(job.started_field) or open_run.creation,
			"shards": counts,
			"failed_shards": counts.get("Failed", 0),
			"orphaned_shards": len(shards.orphans(job, open_run.name)),
		}
	return out


def jobs() -> list[dict]:
	"""Every scheduled job of the app, with its Scheduled Job Log summary and, for sharded jobs,
	its runs."""
	registered = shards.registered_jobs()
	out = []
	for row in _job_types():
		entry = {
			"job_type": row.name,
			"method": row.method,
			"title": _title(row.method),
			"frequency": row.frequency,
			"cron_format": row.cron_format,
			"stopped": row.stopped,
			"last_execution": row.last_execution,
			"nightly": row.frequency in NIGHTLY,
			**_logs(row.name),
			"runs": [_runs(job) for job in registered.get(row.method, [])],
		}
		out.append(entry)
	return out


TITLES = {
	"bank_crm.bank_insight.need_detection.detect_needs": "Need detection",
	"bank_crm.bank_segmentation.segmentation.retier_every_customer": "Re-tiering and lifecycle",
	"bank_crm.bank_engagement.visit_planning.plan_visits_and_care": "Visit planning and care events",
	"bank_crm.bank_insight.activity_ingestion.purge_events": "Purge of old events",
	"bank_crm.bank_customer.anonymisation.anonymise_past_retention": "Anonymisation past retention",
	"bank_crm.bank_insight.prediction_scoring.score_customers": "Prediction scoring",
	"bank_crm.bank_customer.verification.refresh_verification_status": "Re-verification status",
	"bank_crm.bank_engagement.batch_delivery.reclaim_stale": "Gateway claims gone stale",
	"bank_crm.bank_engagement.outbound.retry_due": "Outbound retries",
	"bank_crm.bank_service.escalation.escalate_due": "SLA escalation",
	"bank_crm.bank_outreach.broadcasts.send_scheduled": "Scheduled broadcasts",
	"bank_crm.bank_crm.operations.reconcile_orphaned_shards": "Orphaned shards given new jobs",
	"bank_crm.bank_crm.operations.warn_late_nightly_jobs": "Late nightly jobs told",
}


def _title(method: str) -> str:
	"""A job's name for people, in their language (the method's name when it has none)."""
	return _(TITLES[method]) if method in TITLES else method.rsplit(".", 1)[1]


# -- backlogs --------------------------------------------------------------------------------


def backlogs(hours: int = 24) -> dict:
	"""What is waiting: events not yet read by need detection, outbound messages by status, and
	service requests and complaints whose next deadline is past or within ``hours``."""
	now = now_datetime()
	soon = now + timedelta(hours=hours)
	watermark = frappe.db.get_value(
		"Bank Signal Run", {"status": "Completed"}, "window_to", order_by="window_to desc"
	)
	events = frappe.db.sql(
		"select count(*), min(creation) from `tabBank Activity Event` where creation > %s",
		(watermark or datetime(1970, 1, 1),),
	)[0]
	messages = dict(
		frappe.db.sql(
			"select status, count(*) from `tabBank Outbound Message` "
			"where status in ('Queued', 'Sending', 'Failed', 'Dead') group by status"
		)
	)
	oldest_queued = frappe.db.sql(
		"select min(creation) from `tabBank Outbound Message` where status in ('Queued', 'Sending')"
	)[0][0]

	def deadlines(doctype):
		breached, due = frappe.db.sql(
			f"""select coalesce(sum(next_deadline <= %(now)s), 0), coalesce(sum(next_deadline > %(now)s), 0)
			from `tab{doctype}` where next_deadline <= %(soon)s""",
			{"now": now, "soon": soon},
		)[0]
		return {"breached": cint(breached), "due_soon": cint(due)}

	return {
		"hours": hours,
		"detection_watermark": watermark,
		"events_awaiting_detection": events[0],
		"oldest_event_waiting": events[1],
		"messages": {s: messages.get(s, 0) for s in ("Queued", "Sending", "Failed", "Dead")},
		"oldest_message_waiting": oldest_queued,
		"service_requests": deadlines("Bank Service Request"),
		"complaints": deadlines("Bank Complaint"),
	}


# -- Frappe's own health figures --------------------------------------------------------------


def health() -> dict:
	"""The System Health Report's background-job, scheduler, e-mail and error sections, fetched
	by its own methods (its form needs System Manager; this page shows them to the CRM
	Administrator too)."""
	from frappe.desk.doctype.system_health_report.system_health_report import SystemHealthReport

	report = SystemHealthReport({"doctype": "System Health Report"})
	for fetch in ("fetch_background_jobs", "fetch_scheduler", "fetch_email_stats", "fetch_errors"):
		getattr(report, fetch)()
	return {
		"scheduler_status": report.get("scheduler_status"),
		"total_background_workers": report.get("total_background_workers"),
		"workers": [
			{"queues": w.queues, "count": w.count, "failed_jobs": w.failed_jobs, "utilization": w.utilization}
			for w in report.get("background_workers") or []
		],
		"queues": [
			{"queue": q.queue, "pending_jobs": q.pending_jobs} for q in report.get("queue_status") or []
		],
		"failing_scheduled_jobs": [
			{"job": j.scheduled_job_type, "failure_rate": j.failure_rate}
			for j in report.get("failing_scheduled_jobs") or []
		],
		"oldest_unscheduled_job": report.get("oldest_unscheduled_job"),
		"pending_emails": report.get("pending_emails"),
		"failed_emails": report.get("failed_emails"),
		"errors_last_day": report.get("total_errors"),
	}


def failed_background_jobs(limit: int = 20) -> list[dict]:
	"""Failed RQ jobs of our methods on this site (what the RQ Job list shows), one row per job
	and error with how many failed so, the latest first."""
	from rq.job import Job

	from frappe.core.doctype.rq_job.rq_job import fetch_job_ids, serialize_job
	from frappe.utils.background_jobs import get_queue, get_queue_list

	groups: dict[tuple, dict] = {}
	for name in get_queue_list():
		queue = get_queue(name)
		for job in Job.fetch_many(fetch_job_ids(queue, "failed"), connection=queue.connection):
			if not job or job.kwargs.get("site") != frappe.local.site:
				continue
			row = serialize_job(job)
			if not str(row.job_name).startswith("bank_crm."):
				continue
			error = (row.exc_info or "").strip().splitlines()[-1][:300] if row.exc_info else ""
			group = groups.setdefault(
				(row.job_name, row.queue, error),
				{"job_name": row.job_name, "queue": row.queue, "error": error, "count": 0, "ended_at": None},
			)
			group["count"] += 1
			ended = row.ended_at or row.modified
			if ended and (group["ended_at"] is None or str(ended) > str(group["ended_at"])):
				group["ended_at"] = ended
	return sorted(groups.values(), key=lambda r: str(r["ended_at"]), reverse=True)[:limit]


def overview() -> dict:
	return {
		"generated_at": now_datetime(),
		"nightly_due_by": _due_by_text(),
		"late_nightly_jobs": [j["job_type"] for j in late_nightly_jobs()],
		"jobs": jobs(),
		"backlogs": backlogs(),
		"health": health(),
		"failed_background_jobs": failed_background_jobs(),
	}


# -- the ten-minute jobs -----------------------------------------------------------------------


def _due_by_text() -> str:
	due_by = frappe.db.get_single_value(SETTINGS, "nightly_due_by")
	return get_time(due_by).strftime("%H:%M") if due_by else ""


def reconcile_orphaned_shards():
	"""Scheduler entry (every ten minutes): orphaned shards of unfinished runs get new jobs."""
	queued = shards.reconcile()
	if queued:
		frappe.logger("bank_crm").info(f"orphaned shards queued again: {queued}")
	return queued


def _completed_since(entry: dict, since: datetime) -> bool:
	"""A nightly job has completed since ``since``: its Scheduled Job Log says so and, for a job
	that works in sharded runs, each of its run records finished too (its shards may run on long
	after the scheduled job handed them to the queue)."""
	if not entry["last_success"] or get_datetime(entry["last_success"]) < since:
		return False
	return all(
		r["last_completed_at"] and get_datetime(r["last_completed_at"]) >= since for r in entry["runs"]
	)


def late_nightly_jobs(now: datetime | None = None) -> list[dict]:
	"""The nightly jobs that have not completed today although *Nightly Jobs Due By* has passed."""
	now = now or now_datetime()
	due_by = frappe.db.get_single_value(SETTINGS, "nightly_due_by")
	if not due_by:
		return []
	midnight = datetime.combine(now.date(), datetime.min.time())
	if now < datetime.combine(now.date(), get_time(due_by)):
		return []
	return [e for e in jobs() if e["nightly"] and not e["stopped"] and not _completed_since(e, midnight)]


def warn_late_nightly_jobs(now: datetime | None = None) -> list[str]:
	"""Scheduler entry (every ten minutes): tell the CRM Administrators of each nightly job that
	is late today, once per job and day (a Notification Log on the Scheduled Job Type)."""
	from frappe.desk.doctype.notification_log.notification_log import enqueue_create_notification

	now = now or now_datetime()
	late = late_nightly_jobs(now)
	if not late:
		return []
	admins = _administrators()
	told = []
	for entry in late:
		already = frappe.db.exists(
			"Notification Log",
			{
				"document_type": "Scheduled Job Type",
				"document_name": entry["job_type"],
				"creation": (">=", now.date()),
			},
		)
		if already or not admins:
			continue
		enqueue_create_notification(
			admins,
			{
				"type": "Alert",
				"document_type": "Scheduled Job Type",
				"document_name": entry["job_type"],
				"subject": _("Nightly job {0} has not completed by {1}").format(
					entry["title"], _due_by_text()
				),
				"email_content": _(
					"Last success: {0}. Last failure: {1}. See Bank CRM Operations (/app/bank-crm-operations)."
				).format(entry["last_success"] or _("never"), entry["last_failure_reason"] or _("none")),
			},
		)
		told.append(entry["job_type"])
	return told


def _administrators() -> list[str]:
	"""Enabled users with the CRM Administrator role (Frappe's own lookup; never Administrator)."""
	from frappe.utils.user import get_users_with_role

	return get_users_with_role(CRM_ADMINISTRATOR)
