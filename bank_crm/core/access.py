"""Row-level access: who sees which customers.

One criterion feeds both the list filter (``permission_query_conditions``) and the document
check (``has_permission``): a user sees everything (head office), or the customers whose
owning RM they are, or those of the branches they manage — the union when several apply.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

RELATIONSHIP_MANAGER = "Relationship Manager"
BRANCH_MANAGER = "Branch Manager"
COMPLAINT_HANDLER = "Complaint Handler"
CONSUMER_PROTECTION_OFFICER = "Consumer Protection Officer"
CRM_ADMINISTRATOR = "CRM Administrator"
COMPLIANCE_AUDITOR = "Compliance Auditor"
INTEGRATION = "Bank CRM Integration"

BANK_ROLES = (
	RELATIONSHIP_MANAGER,
	BRANCH_MANAGER,
	COMPLAINT_HANDLER,
	CONSUMER_PROTECTION_OFFICER,
	CRM_ADMINISTRATOR,
	COMPLIANCE_AUDITOR,
)
# Roles that see every customer (head office, and the platform's own administrators).
ALL_SCOPE_ROLES = frozenset(
	{
		"Administrator",
		"System Manager",
		CRM_ADMINISTRATOR,
		COMPLIANCE_AUDITOR,
		CONSUMER_PROTECTION_OFFICER,
		COMPLAINT_HANDLER,
	}
)
# Roles whose view of customers is limited to a portfolio or a branch.
SCOPED_ROLES = frozenset({RELATIONSHIP_MANAGER, BRANCH_MANAGER})


@dataclass(frozen=True)
class Scope:
	everything: bool = False
	rm_user: str | None = None  # sees customers whose owning RM is this user
	branches: tuple[str, ...] = ()  # sees customers of these branches
	restricted: bool = True  # False: bank_crm imposes nothing (a user without bank roles)

	@property
	def sees_nothing(self) -> bool:
		return self.restricted and not self.everything and not self.rm_user and not self.branches


def resolve_scope(user: str, roles: Iterable[str], managed_branches: Iterable[str] = ()) -> Scope:
	"""The scope of ``user`` given their roles and the branches they manage."""
	roles = set(roles)
	if user == "Administrator" or roles & ALL_SCOPE_ROLES:
		return Scope(everything=True, restricted=False)
	if not roles & SCOPED_ROLES:
		return Scope(restricted=False)
	rm_user = user if RELATIONSHIP_MANAGER in roles else None
	branches = tuple(sorted(set(managed_branches))) if BRANCH_MANAGER in roles else ()
	return Scope(rm_user=rm_user, branches=branches)


def allows(scope: Scope, relationship_manager: str | None, branch: str | None) -> bool:
	"""Whether a record owned by ``relationship_manager`` in ``branch`` is within ``scope``."""
	if not scope.restricted or scope.everything:
		return True
	if scope.rm_user and relationship_manager == scope.rm_user:
		return True
	return bool(branch and branch in scope.branches)
