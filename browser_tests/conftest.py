"""Browser tests: the desk as relationship and branch managers see it, in Chinese, in Chromium.

They run against a demo site served on 127.0.0.1 (``.ci/run`` does it: demo data, then
``browser_tests/serve.py``), driven by PyPI ``playwright`` with Debian's ``chromium`` — never
a downloaded browser. Settings (environment):

- ``BANK_CRM_BROWSER_URL``: the site, e.g. ``http://127.0.0.1:8011`` (without it every test is
  skipped, saying why);
- ``BANK_CRM_SCREENSHOTS``: the folder for the screenshots (default: a new folder under the
  system's temp dir, printed at the end);
- ``BANK_CRM_CHROMIUM``: the browser (default ``/usr/bin/chromium``);
- ``BANK_CRM_ADMIN_PASSWORD``: Administrator's password, to find records outside a user's scope
  (default ``admin``).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.parse import quote
from urllib.request import HTTPCookieProcessor, Request, build_opener

import pytest

URL = os.environ.get("BANK_CRM_BROWSER_URL", "").rstrip("/")
CHROMIUM = os.environ.get("BANK_CRM_CHROMIUM", "/usr/bin/chromium")
PASSWORD = "Demo@Bank2026"
RM = "rm0101a@demo.bank-crm.example"
BM = "bm0101@demo.bank-crm.example"
HOST_CHART_RACE = "Failed to execute 'removeChild' on 'Node'"
CJK = re.compile(r"[\u3400-\u9fff]")
# English words in the page's chrome (titles, headings, labels, buttons, table heads) that may
# stay as they are in Chinese: codes, abbreviations, brands
ALLOWED = re.compile(
	r"^(ID|AUM|SMS|App|WeChat|Email|CNY|R[1-5]|C[1-5]|VIP|OK|PDF|CSV|Excel|ERPNext|Frappe|LPR|DEMO-[\w-]+|[\w.+-]+@[\w.-]+)$"
)


def english_phrases(texts) -> list[str]:
	"""Texts with no Chinese at all and at least one English word that is not a code."""
	out = []
	for text in texts:
		text = " ".join((text or "").split())
		if not text or CJK.search(text):
			continue
		words = [w for w in re.findall(r"[A-Za-z][A-Za-z'-]+", text) if not ALLOWED.match(w)]
		if words and len(" ".join(words)) >= 3:
			out.append(text)
	return sorted(set(out))


def pytest_configure(config):
	config.addinivalue_line("markers", "browser: runs in Chromium against a demo site")


@pytest.fixture(scope="session")
def base_url():
	if not URL:
		pytest.skip("BANK_CRM_BROWSER_URL is not set: no demo site to test against (.ci/run sets it)")
	if not Path(CHROMIUM).exists():
		pytest.skip(f"no Chromium at {CHROMIUM} (Debian package 'chromium')")
	return URL


@pytest.fixture(scope="session")
def shots():
	folder = os.environ.get("BANK_CRM_SCREENSHOTS") or tempfile.mkdtemp(
		prefix=time.strftime("bank_crm-screens-%Y%m%d-%H%M%S-")
	)
	Path(folder).mkdir(parents=True, exist_ok=True)
	yield Path(folder)
	print(f"\nscreenshots: {folder}")


@pytest.fixture(scope="session")
def browser(base_url):
	playwright_api = pytest.importorskip("playwright.sync_api", reason="PyPI playwright is not installed")
	with playwright_api.sync_playwright() as p:
		chromium = p.chromium.launch(
			executable_path=CHROMIUM,
			args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"],
		)
		yield chromium
		chromium.close()


class Desk:
	"""A logged-in page that records console errors and failed requests (the realtime socket,
	not served here, excepted)."""

	def __init__(self, browser, base_url, shots, user):
		self.context = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="zh-CN")
		self.page = self.context.new_page()
		self.base, self.shots, self.user = base_url, shots, user
		self.errors: list[str] = []
		self.page.on("pageerror", self._page_error)
		self.page.on("console", self._console)
		self.page.goto(f"{base_url}/login")
		self.page.fill("#login_email", user)
		self.page.fill("#login_password", PASSWORD)
		self.page.click(".btn-login")
		self.page.wait_for_url(re.compile(r".*/app/.*"), timeout=30_000)
		self.settle()

	def _page_error(self, error):
		raw = getattr(error, "stack", "") or ""
		stack = " | ".join(line.strip() for line in raw.splitlines()[1:6])
		if HOST_CHART_RACE in str(error) and "boundDrawFn" in raw:
			# Frappe Charts' own ResizeObserver redrawing a dashboard chart the workspace has just
			# re-rendered (frappe/charts#368, open upstream): the chart is drawn, the user sees
			# nothing; reported, not counted
			print(f"known host error (frappe/charts#368) at {self.page.url}: {error}")
			return
		self.errors.append(f"page error: {error} [{stack}] at {self.page.url}")

	def _console(self, message):
		url = (message.location or {}).get("url", "")
		if message.type == "error" and "socket.io" not in url and "socket.io" not in message.text:
			self.errors.append(f"console: {message.text[:300]} ({url})")

	def settle(self, ms=1500):
		self.page.wait_for_load_state("networkidle", timeout=30_000)
		self.page.wait_for_timeout(ms)

	def open(self, route: str):
		self.page.goto(f"{self.base}/app/{route}")
		self.settle()

	def shot(self, name: str):
		path = self.shots / f"{self.user.split('@')[0]}-{name}.png"
		self.page.screenshot(path=str(path), full_page=True)
		return path

	def chrome_texts(self) -> list[str]:
		"""Text of the page's chrome: titles, headings, labels, buttons, table heads, sidebar."""
		return self.page.eval_on_selector_all(
			".page-head .title-text, .layout-main h4, .layout-main h5, .layout-main th, "
			".layout-main .control-label, .layout-main button:visible, .layout-main .section-head, "
			".layout-main .widget-title, .layout-main .text-muted.small, .desk-sidebar .sidebar-item-label, "
			".layout-main .dt-cell__content--header-1, .layout-main .dt-cell__content--header-2",
			"els => els.filter(e => e.offsetParent !== null && e.getBoundingClientRect().width > 2"
			" && !e.closest('.sr-only, .visually-hidden')).map(e => e.innerText)",
		)

	def assert_clean(self, what: str):
		assert not self.errors, f"{what}: {self.errors}"
		untranslated = english_phrases(self.chrome_texts())
		assert not untranslated, f"{what}: untranslated in the page's chrome: {untranslated}"

	def close(self):
		self.context.close()


@pytest.fixture
def desk(browser, base_url, shots):
	opened = []

	def login(user):
		d = Desk(browser, base_url, shots, user)
		opened.append(d)
		return d

	yield login
	for d in opened:
		d.close()


@pytest.fixture(scope="session")
def admin_api(base_url):
	"""GET as Administrator over REST (to find records outside a user's scope)."""
	jar = CookieJar()
	opener = build_opener(HTTPCookieProcessor(jar))
	body = json.dumps({"usr": "Administrator", "pwd": os.environ.get("BANK_CRM_ADMIN_PASSWORD", "admin")})
	opener.open(Request(f"{base_url}/api/method/login", body.encode(), {"Content-Type": "application/json"}))

	def get(doctype, filters, fields):
		query = f"filters={quote(json.dumps(filters))}&fields={quote(json.dumps(fields))}&limit_page_length=1"
		with opener.open(f"{base_url}/api/resource/{quote(doctype)}?{query}") as response:
			return json.load(response)["data"]

	return get
