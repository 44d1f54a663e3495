"""Paths of before 0.2 (see ``bank_crm.services``): ``bank_crm.bank_engagement.care_events``."""

from bank_crm.bank_engagement.care_events import run_care_shard  # noqa: F401
