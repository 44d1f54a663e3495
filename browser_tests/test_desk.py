"""The desk in Chromium, in Chinese, as a relationship manager and a branch manager: workspace,
workbench, customer-360, a form and a report; acting on a need; nothing outside the user's
scope. Each page fails on a console error or an untranslated string in its chrome."""

import re

from conftest import BM, RM, english_phrases


def test_the_chrome_check_finds_english_and_lets_codes_pass():
	assert english_phrases(["客户经理", "Open Customer", "DEMO-C-0000001", "AUM", "R3", "查看 View all"]) == [
		"Open Customer"
	]


def test_a_relationship_manager_works_the_day(desk, admin_api):
	rm = desk(RM)
	assert rm.page.url.endswith("/app/rm-workbench"), f"login should lead to the workbench, not {rm.page.url}"
	rm.page.wait_for_selector(".bank-crm-workbench-plan")
	rm.shot("workbench")
	rm.assert_clean("workbench")

	# act on a need from the workbench: dismiss it with a reason
	needs = rm.page.locator(".bank-crm-workbench-needs button[data-action='dismiss']")
	if needs.count():
		before = rm.page.locator(".bank-crm-workbench-needs .badge").inner_text()
		needs.first.click()
		rm.page.wait_for_selector(".modal.show textarea")
		rm.page.fill(".modal.show textarea", "浏览器测试：客户已在他行办理")
		rm.page.click(".modal.show .btn-primary")
		rm.settle()
		after = rm.page.locator(".bank-crm-workbench-needs .badge").inner_text()
		assert int(after) == int(before) - 1, (before, after)

	# one of the RM's own customers, from the workbench, opens in the customer-360
	own = rm.page.locator("a[href^='/app/customer-360/']").first.get_attribute("href")
	rm.open(own.removeprefix("/app/"))
	rm.page.wait_for_selector(".bank-crm-360-header")
	rm.shot("customer-360")
	rm.assert_clean("customer-360")

	rm.open("bank-crm")
	rm.shot("workspace")
	rm.assert_clean("workspace")
	sidebar = rm.page.eval_on_selector_all(
		".desk-sidebar .sidebar-item-label", "els => els.map(e => e.innerText)"
	)
	assert sidebar and all(re.search(r"[\u3400-\u9fff]", s) for s in sidebar), sidebar

	customer = own.rsplit("/", 1)[-1]
	rm.open(f"customer/{customer}")
	rm.page.wait_for_selector(".form-layout")
	rm.shot("customer-form")
	rm.assert_clean("customer form")

	rm.open("query-report/RM Portfolio")
	rm.page.wait_for_selector(".dt-scrollable .dt-row")
	rm.shot("rm-portfolio")
	rm.assert_clean("RM Portfolio")
	rows = rm.page.locator(".dt-scrollable .dt-row").count()
	assert rows == 1, f"an RM sees the own line only, not {rows}"


def test_another_rms_customer_shows_nothing(desk, admin_api):
	[other] = admin_api(
		"Bank Customer Profile",
		[["relationship_manager", "!=", RM], ["relationship_manager", "is", "set"]],
		["customer", "customer_name", "name"],
	)
	rm = desk(RM)
	rm.open(f"customer-360/{other['customer']}")
	rm.page.wait_for_timeout(1000)
	body = rm.page.inner_text(".layout-main")
	assert other["customer_name"] not in body
	assert "无权" in body, body[:300]
	rm.shot("customer-360-refused")
	rm.open(f"bank-customer-profile/{other['name']}")
	body = rm.page.inner_text("body")
	assert other["customer_name"] not in body
	rm.shot("profile-refused")


def test_a_branch_manager_sees_the_branch_and_picks_an_rm(desk):
	bm = desk(BM)
	assert bm.page.url.endswith("/app/rm-workbench"), bm.page.url
	bm.page.wait_for_selector(".bank-crm-workbench-plan")
	assert "网点工作台" in bm.page.inner_text(".page-head")
	bm.shot("workbench-branch")
	bm.assert_clean("branch workbench")
	select = bm.page.locator("select[data-fieldname='rm']")
	options = select.locator("option").all_inner_texts()
	assert len(options) >= 3, options
	select.select_option(index=1)
	bm.settle()
	bm.shot("workbench-one-rm")
	bm.assert_clean("workbench filtered by RM")

	bm.open("query-report/RM Portfolio")
	bm.page.wait_for_selector(".dt-scrollable .dt-row")
	bm.shot("rm-portfolio-branch")
	bm.assert_clean("RM Portfolio (branch)")
	assert bm.page.locator(".dt-scrollable .dt-row").count() >= 2
