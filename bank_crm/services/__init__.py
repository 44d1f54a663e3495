"""The dotted paths of jobs before 0.2, kept for one release (removed in 0.3).

Until 0.1 the jobs lived in ``bank_crm.services``. A site upgraded with ``bench migrate`` while
jobs of those paths wait in Redis loses none of them: a job queued by its dotted path
(``frappe.enqueue("bank_crm.services.….run_shard", …)``) finds it in the small modules of this
package, each of which only hands the call on to where the work lives now; a scheduled job
queued under its old path (Frappe queues ``run_scheduled_job(job_type=<path>)``, and migrate
has replaced the *Scheduled Job Type* of that path by the new one) is redirected to the new
path by ``redirect_renamed_job``, a ``before_job`` hook.
"""

RUN_SCHEDULED_JOB = "frappe.core.doctype.scheduled_job_type.scheduled_job_type.run_scheduled_job"

# old scheduled path → new scheduled path
RENAMED_SCHEDULED_JOBS = {
	"bank_crm.services.signals.hourly": "bank_crm.bank_insight.need_detection.detect_needs",
	"bank_crm.services.segmentation.nightly": "bank_crm.bank_segmentation.segmentation.retier_every_customer",
	"bank_crm.services.planning.daily": "bank_crm.bank_engagement.visit_planning.plan_visits_and_care",
	"bank_crm.services.activity.purge_events": "bank_crm.bank_insight.activity_ingestion.purge_events",
	"bank_crm.services.rights.daily": "bank_crm.bank_customer.anonymisation.anonymise_past_retention",
	"bank_crm.services.verification.refresh_verification_status": (
		"bank_crm.bank_customer.verification.refresh_verification_status"
	),
	"bank_crm.services.outbound.retry_due": "bank_crm.bank_engagement.outbound.retry_due",
	"bank_crm.services.service_requests.escalate_due": "bank_crm.bank_service.escalation.escalate_due",
	"bank_crm.services.broadcasts.send_scheduled": "bank_crm.bank_outreach.broadcasts.send_scheduled",
}


def redirect_renamed_job(method=None, kwargs=None, transaction_type=None):
	"""``before_job``: a scheduled job queued under a path of before 0.2 runs its new job type."""
	if method == RUN_SCHEDULED_JOB and isinstance(kwargs, dict):
		old = kwargs.get("job_type")
		if old in RENAMED_SCHEDULED_JOBS:
			kwargs["job_type"] = RENAMED_SCHEDULED_JOBS[old]
