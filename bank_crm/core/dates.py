"""Calendar helpers shared by the core (no Frappe)."""

from __future__ import annotations

from datetime import date


def add_years(d: date, years: int) -> date:
	"""Same day ``years`` later; 29 February becomes 28 February in a common year."""
	try:
		return d.replace(year=d.year + years)
	except ValueError:
		return d.replace(year=d.year + years, day=28)


def add_months(d: date, months: int) -> date:
	"""Same day ``months`` later, clamped to the month's last day."""
	month_index = d.month - 1 + months
	year, month = d.year + month_index // 12, month_index % 12 + 1
	for day in (d.day, 30, 29, 28):
		try:
			return date(year, month, min(d.day, day))
		except ValueError:
			continue
	raise AssertionError("unreachable")
