"""Paths of before 0.2 (see ``bank_crm.services``): ``bank_crm.bank_insight.activity_ingestion``."""

from bank_crm.bank_insight.activity_ingestion import purge_events  # noqa: F401
