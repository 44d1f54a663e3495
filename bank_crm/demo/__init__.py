"""Demo data: ``bench --site SITE execute bank_crm.demo.load --kwargs "{'customers': 1000}"``.

Imports are deferred so that ``bank_crm.demo.generator`` stays importable without Frappe.
"""


def load(
	customers: int = 1000,
	seed: int = 42,
	chunk: int = 5000,
	today: str | None = None,
	months: int = 6,
	segment: bool = True,
	complete_setup: bool = False,
) -> dict:
	"""``complete_setup``: on a fresh site, complete ERPNext's setup wizard first (a demo bank
	in China: CNY, Asia/Shanghai); without it the command stops and says what to do."""
	import time

	from bank_crm.demo.loader import ensure_setup_complete
	from bank_crm.demo.loader import load as _load

	began = time.monotonic()
	ensure_setup_complete(bool(complete_setup))
	wizard = round(time.monotonic() - began, 1)
	result = _load(
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


def clear() -> dict:
	from bank_crm.demo.loader import clear as _clear

	return _clear()
