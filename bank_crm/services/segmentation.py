"""Paths of before 0.2 (see ``bank_crm.services``): ``bank_crm.bank_segmentation.segmentation``."""

from bank_crm.bank_segmentation import segmentation
from bank_crm.bank_segmentation.segmentation import retier_every_customer as nightly  # noqa: F401


def run_shard(run: str, shard_no: int, batch_size: int | None = None, today=None):
	"""A shard job queued before 0.2 (its ``today`` is the run's own date)."""
	segmentation.run_shard(run, shard_no, batch_size)
