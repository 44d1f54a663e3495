"""ERPNext's setup wizard: until it is done nobody but Administrator can use the desk, so the
demo says so before it loads, or completes the wizard for a demo bank."""

import frappe
from frappe.utils import getdate


class SetupIncomplete(Exception):
	pass


def setup_complete() -> bool:
	return bool(frappe.db.get_single_value("System Settings", "setup_complete"))


def ensure_setup_complete(complete: bool = False):
	"""Until ERPNext's setup wizard is done, nobody but Administrator can use the desk: say so,
	or (``complete``) complete it for a demo bank."""
	if setup_complete():
		return
	if not complete:
		site = frappe.local.site
		raise SetupIncomplete(
			"ERPNext's setup wizard has not been completed on this site: until it is, no user but "
			"Administrator can open the desk (they see 'Not Permitted'). Complete it in the browser "
			f"as Administrator (/app/setup-wizard), or let the demo complete it for a demo bank:\n"
			f"  bench --site {site} execute bank_crm.demo.load --kwargs \"{{'complete_setup': True}}\""
		)
	from frappe.desk.page.setup_wizard.setup_wizard import setup_complete as run_setup_wizard

	year = getdate().year
	run_setup_wizard(
		{
			"language": "English",  # the site's; demo staff use Chinese
			"country": "China",
			"timezone": "Asia/Shanghai",
			"currency": "CNY",
			"company_name": "示范银行股份有限公司",
			"company_abbr": "SFYH",
			"company_tagline": "",
			"chart_of_accounts": "Standard",
			"fy_start_date": f"{year}-01-01",
			"fy_end_date": f"{year}-12-31",
			"full_name": "Administrator",
		}
	)
	frappe.db.commit()
	print("bank_crm demo: ERPNext's setup wizard completed (示范银行股份有限公司, CNY, Asia/Shanghai)")
