"""Install and uninstall for personal-information rights: the Workflow of data-subject requests.
Called from ``bank_crm.install``; idempotent."""

from bank_crm.core.access import COMPLAINT_HANDLER, CONSUMER_PROTECTION_OFFICER, CRM_ADMINISTRATOR
from bank_crm.setup.workflows import make_workflow, remove_workflow

WORKFLOW = "Bank Personal Information Request"
STATES = (
	# state, style, role that may edit in this state
	("Registered", "", COMPLAINT_HANDLER),
	("Pending Approval", "Warning", CONSUMER_PROTECTION_OFFICER),
	("Returned", "Danger", COMPLAINT_HANDLER),
	("Completed", "Success", CONSUMER_PROTECTION_OFFICER),
)
HANDLERS = (COMPLAINT_HANDLER, CONSUMER_PROTECTION_OFFICER, CRM_ADMINISTRATOR)
APPROVERS = (CONSUMER_PROTECTION_OFFICER, CRM_ADMINISTRATOR)
TRANSITIONS = (
	# from, action, to, roles
	("Registered", "Submit for Approval", "Pending Approval", HANDLERS),
	("Returned", "Submit for Approval", "Pending Approval", HANDLERS),
	("Pending Approval", "Approve", "Completed", APPROVERS),
	("Pending Approval", "Reject", "Returned", APPROVERS),
)
OUR_STATES = ("Registered", "Returned", "Completed", "Pending Approval")
OUR_ACTIONS = ("Submit for Approval",)  # Approve and Reject are Frappe's own


def setup():
	make_workflow(
		WORKFLOW,
		"Bank Data Subject Request",
		"workflow_state",
		STATES,
		TRANSITIONS,
		no_self_approval=("Approve",),
	)


def remove():
	remove_workflow(WORKFLOW, OUR_STATES, OUR_ACTIONS)
