"""Paths of before 0.2 (see ``bank_crm.services``): ``bank_crm.bank_customer.anonymisation``."""

from bank_crm.bank_customer.anonymisation import anonymise_past_retention as daily  # noqa: F401
from bank_crm.bank_customer.anonymisation import run_anonymisation_shard  # noqa: F401
