"""Install and uninstall for tiering: the Workflow that approves a manual tier override.
Called from ``bank_crm.install``; idempotent."""

from bank_crm.core.access import BRANCH_MANAGER, RELATIONSHIP_MANAGER
from bank_crm.setup.workflows import make_workflow, remove_workflow

WORKFLOW = "Bank Tier Override Approval"
STATES = (
	# state, style, role that may edit in this state, document status (the override is submitted)
	("Draft", "", RELATIONSHIP_MANAGER, 0),
	("Pending Approval", "Warning", BRANCH_MANAGER, 0),
	("Approved", "Success", BRANCH_MANAGER, 1),
	("Rejected", "Danger", BRANCH_MANAGER, 0),
	("Cancelled", "Inverse", BRANCH_MANAGER, 2),
)
TRANSITIONS = (
	# from, action, to, roles
	("Draft", "Submit for Approval", "Pending Approval", (RELATIONSHIP_MANAGER, BRANCH_MANAGER)),
	("Pending Approval", "Approve", "Approved", (BRANCH_MANAGER,)),
	("Pending Approval", "Reject", "Rejected", (BRANCH_MANAGER,)),
	("Approved", "Cancel", "Cancelled", (BRANCH_MANAGER,)),
)
# states and actions we may have added (Approve, Reject and Approved, Rejected are Frappe's own)
OUR_STATES = ("Draft", "Pending Approval", "Cancelled")
OUR_ACTIONS = ("Submit for Approval", "Cancel")


def setup():
	make_workflow(
		WORKFLOW, "Bank Tier Override", "status", STATES, TRANSITIONS, no_self_approval=("Approve", "Reject")
	)


def remove():
	remove_workflow(WORKFLOW, OUR_STATES, OUR_ACTIONS)
