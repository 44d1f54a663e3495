"""Who sees which customers, stated once: the user's scope, the one test of a limited scope, the
one refusal, and the one "CRM Administrator only" check.

The decision is ``bank_crm.core.access``; this module feeds it the user's roles and managed
branches (once per request) and gives the rest of the app three answers:

- ``limited_scope(user)``: the scope of a relationship or branch manager (a portfolio, a
  branch), or None for head office, administrators and users without bank roles, on whom
  bank_crm imposes no row-level limit;
- ``refuse()``: the one answer for "not yours" and "not there" (HTTP 403), so that nothing,
  not even existence, is learnt;
- ``require_crm_administrator()``: the check of the methods only a CRM Administrator (or a
  System Manager) may call.
"""

import frappe
from frappe import _

from bank_crm.core.access import BANK_ROLES, BRANCH_MANAGER, CRM_ADMINISTRATOR, Scope, resolve_scope

ADMINISTRATORS = frozenset({CRM_ADMINISTRATOR, "System Manager"})


class RecordNotAvailable(frappe.PermissionError):
	"""A record the user may not open, or one that does not exist: the same answer for both."""


def managed_branches(user: str) -> list[str]:
	return frappe.get_all(
		"Bank Branch Member",
		filters={"user": user, "member_role": BRANCH_MANAGER, "parenttype": "Bank Branch"},
		pluck="parent",
	)


def get_scope(user: str | None = None) -> Scope:
	"""The user's scope, computed once per request."""
	user = user or frappe.session.user
	cache = getattr(frappe.local, "bank_crm_scopes", None)
	if cache is None:
		cache = frappe.local.bank_crm_scopes = {}
	if user not in cache:
		roles = frappe.get_roles(user)
		branches = managed_branches(user) if BRANCH_MANAGER in roles else []
		cache[user] = resolve_scope(user, roles, branches)
	return cache[user]


def clear_scope_cache():
	frappe.local.bank_crm_scopes = {}


def limited_scope(user: str | None = None) -> Scope | None:
	"""The user's scope when it limits which customers they see (an RM's portfolio, a branch
	manager's branches), else None."""
	scope = get_scope(user)
	return scope if scope.restricted and not scope.everything else None


def refuse():
	"""One answer for "not yours" and "not there"."""
	frappe.throw(
		_("You may not open this record, or it does not exist."),
		RecordNotAvailable,
		title=_("Not permitted"),
	)


def is_crm_administrator(user: str | None = None) -> bool:
	user = user or frappe.session.user
	return user == "Administrator" or bool(ADMINISTRATORS & set(frappe.get_roles(user)))


def require_crm_administrator():
	"""Refuse (403) anyone but a CRM Administrator or System Manager."""
	if not is_crm_administrator():
		frappe.throw(_("Only a CRM Administrator may do this."), frappe.PermissionError)


def can_use_app() -> bool:
	"""The Bank CRM tile on the apps screen: bank staff and system managers."""
	return frappe.session.user == "Administrator" or bool(
		set(frappe.get_roles()) & {*BANK_ROLES, "System Manager"}
	)
