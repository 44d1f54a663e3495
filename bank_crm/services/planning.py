"""Paths of before 0.2 (see ``bank_crm.services``): ``bank_crm.bank_engagement.visit_planning``."""

from bank_crm.bank_engagement.visit_planning import plan_visits_and_care as daily  # noqa: F401
from bank_crm.bank_engagement.visit_planning import run_planning, run_planning_shard  # noqa: F401
