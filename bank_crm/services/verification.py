"""Paths of before 0.2 (see ``bank_crm.services``): ``bank_crm.bank_customer.verification``."""

from bank_crm.bank_customer.verification import refresh_verification_status  # noqa: F401
