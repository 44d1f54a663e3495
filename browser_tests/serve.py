"""Frappe's development web server for one site, bound to 127.0.0.1 (``frappe.app.serve`` binds
every address). It serves /assets like ``bench serve``; the browser tests run against it.

    cd ~/frappe-bench/sites && ../env/bin/python /path/to/bank_crm/browser_tests/serve.py SITE PORT
"""

import logging
import os
import sys

from werkzeug.serving import run_simple

import frappe.app as frappe_app

from bank_crm.tests.harness_wsgi import wrap

site, port = sys.argv[1], int(sys.argv[2])
frappe_app._site = site
frappe_app._sites_path = os.path.abspath(".")
# with BANK_CRM_HARNESS_TOKEN set, /__harness__ tells the harness this server is its own
application = wrap(frappe_app.application_with_statics(), site)
logging.getLogger("werkzeug").setLevel(logging.WARNING)
try:
	run_simple("127.0.0.1", port, application, use_reloader=False, use_debugger=False, threaded=True)
except OSError as e:  # the port is taken: say so at once, never serve beside another server
	print(f"cannot listen on 127.0.0.1:{port}: {e}", file=sys.stderr)
	sys.exit(2)
