"""Frappe's WSGI application with one more answer, for the servers our test and benchmark
harnesses start: ``GET /__harness__`` returns the token the harness put in the server's
environment (``BANK_CRM_HARNESS_TOKEN``), the site the request resolves to and whether that site
is in this server's ``sites`` folder. A harness asks before it measures anything, so another
program that already listens on the port, or a server of another bench, is never tested in its
place. Without the environment variable (every real deployment) nothing is added.

    BANK_CRM_HARNESS_TOKEN=… gunicorn -b 127.0.0.1:PORT bank_crm.tests.harness_wsgi:application
"""

import json
import os

import frappe.app

PATH = "/__harness__"


def wrap(app, site: str | None = None):
	token = os.environ.get("BANK_CRM_HARNESS_TOKEN")
	if not token:
		return app

	def application(environ, start_response):
		if environ.get("PATH_INFO") != PATH:
			return app(environ, start_response)
		name = (
			site
			or frappe.app._site
			or environ.get("HTTP_X_FRAPPE_SITE_NAME")
			or (environ.get("HTTP_HOST") or "").split(":")[0]
		)
		body = json.dumps(
			{
				"token": token,
				"site": name,
				"site_here": os.path.isfile(os.path.join(name, "site_config.json")),
				"pid": os.getpid(),
			}
		).encode()
		start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
		return [body]

	return application


application = wrap(frappe.app.application)
