"""Paths of before 0.2 (see ``bank_crm.services``): ``bank_crm.bank_insight.need_detection``."""

from bank_crm.bank_insight.need_detection import detect, detect_shard  # noqa: F401
from bank_crm.bank_insight.need_detection import detect_needs as hourly  # noqa: F401
