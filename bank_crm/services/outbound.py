"""Paths of before 0.2 (see ``bank_crm.services``): ``bank_crm.bank_engagement.outbound``."""

from bank_crm.bank_engagement.outbound import deliver, deliver_many, retry_due  # noqa: F401
