"""Demo data: ``bench --site SITE execute bank_crm.demo.load --kwargs "{'customers': 1000}"``;
``bench --site SITE execute bank_crm.demo.clear`` removes every demo record again.

This entry calls the parts in order, and no part calls another: the customers (``customers``,
which makes the branches and staff of ``staff`` first), the segmentation run, then the service
requests (``service``), engagement (``engagement``), behaviour (``insight``) and broadcasts
(``outreach``). What they share stands in ``base``.

Imports are deferred so that ``bank_crm.demo.generator`` stays importable without Frappe.
"""

from bank_crm.demo.base import CHUNK


def load(
	customers: int = 1000,
	seed: int = 42,
	chunk: int = CHUNK,
	today: str | None = None,
	months: int = 6,
	segment: bool = True,
	complete_setup: bool = False,
) -> dict:
	"""``complete_setup``: on a fresh site, complete ERPNext's setup wizard first (a demo bank
	in China: CNY, Asia/Shanghai); without it the command stops and says what to do."""
	import time

	from bank_crm.demo.wizard import ensure_setup_complete

	began = time.monotonic()
	ensure_setup_complete(bool(complete_setup))
	wizard = round(time.monotonic() - began, 1)
	result = load_parts(
		customers=int(customers),
		seed=int(seed),
		chunk=int(chunk),
		today=today,
		months=int(months),
		segment=bool(segment),
	)
	if complete_setup:
		result["seconds"]["setup_wizard"] = wizard
		result["seconds"]["total"] = round(result["seconds"]["total"] + wizard, 1)
	return result


def load_parts(
	customers: int = 1000,
	seed: int = 42,
	chunk: int = CHUNK,
	today: str | None = None,
	months: int = 6,
	segment: bool = True,
	demos: bool = True,
) -> dict:
	"""Add ``customers`` demo customers (and the branches and staff, once) with ``months`` of
	monthly financial snapshots, then run the segmentation so tiers and stages show at once.
	With ``demos`` (the default) it then adds the service, engagement and behaviour demos;
	the benchmarks load customers without them. Returns counts, and the seconds of each part."""
	import time

	from frappe.utils import getdate

	from bank_crm.demo import customers as demo_customers

	started = time.monotonic()
	today_date = getdate(today) if today else getdate()
	made = demo_customers.load(customers, seed=seed, chunk=chunk, today=today_date, months=months)
	seconds = {"customers": round(time.monotonic() - started, 1)}
	result = {"customers": made, "seconds": seconds}

	def part(name, run):
		began = time.monotonic()
		result[name] = run()
		seconds[name] = round(time.monotonic() - began, 1)

	if segment:
		from bank_crm.bank_segmentation.segmentation import run_segmentation

		part("segmentation_run", lambda: run_segmentation("On Demand", today=today_date))
	if demos:
		from bank_crm.demo import engagement, insight, outreach, prediction, service

		part("service", lambda: service.load(seed=seed))
		part("engagement", lambda: engagement.load(seed=seed, today=today_date))
		part("insight", lambda: insight.load(seed=seed))
		part("outreach", lambda: outreach.load(seed=seed))
		part("prediction", lambda: prediction.load(today=today_date))
	seconds["total"] = round(time.monotonic() - started, 1)
	print(f"bank_crm demo: {result}")
	return result


def clear() -> dict:
	"""Remove every demo record: the demos' records first, then the customers with their
	profiles, then the staff and branches."""
	import frappe

	from bank_crm.demo import customers, engagement, insight, outreach, prediction, service, staff
	from bank_crm.utils.traces import flush_search_queue, remove_orphan_search_rows

	flush_search_queue()
	prediction.clear()
	outreach.clear()
	insight.clear()
	service.clear()
	engagement.clear()
	result = customers.clear()
	result["users"] = staff.clear()
	flush_search_queue()
	remove_orphan_search_rows()
	frappe.db.commit()
	print(f"bank_crm demo cleared: {result}")
	return result
