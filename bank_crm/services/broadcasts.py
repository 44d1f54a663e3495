"""Paths of before 0.2 (see ``bank_crm.services``): ``bank_crm.bank_outreach.broadcasts``."""

from bank_crm.bank_outreach.broadcasts import send_scheduled, send_shard, start_sending  # noqa: F401
