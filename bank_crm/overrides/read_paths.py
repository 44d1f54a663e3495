"""Paths of before 0.2 (see ``bank_crm.overrides``): ``bank_crm.permissions.read_paths``."""

from bank_crm.permissions.read_paths import (  # noqa: F401
	calendar_events,
	can_subscribe_doctype,
	dashboard_chart,
	download_template,
	event_list,
	export_data,
	export_report,
	export_report_view,
	get,
	get_count,
	get_group_by_count,
	run_report,
	search_link,
	search_widget,
)
