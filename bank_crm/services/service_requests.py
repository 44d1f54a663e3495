"""Paths of before 0.2 (see ``bank_crm.services``): ``bank_crm.bank_service.escalation``."""

from bank_crm.bank_service.escalation import escalate_due  # noqa: F401
