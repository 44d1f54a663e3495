"""Synthetic bank customers: deterministic, realistic, valid (frappe-free).

Everything a newcomer or a benchmark needs: Chinese names, resident ID numbers and unified
social credit codes with correct check characters, branches and RMs, risk assessments,
verification checks and a consent ledger. The same seed always gives the same data.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from bank_crm.core import identity, verification
from bank_crm.demo.base import DEMO_DOMAIN

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN_MALE = "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林欢阳建国志文博"
GIVEN_FEMALE = "芳娜敏静丽艳娟霞秀英华慧巧美琳颖雪倩婷玉萍红梅琴云莉兰凤洁燕丹佳怡欣悦"

# branch code, name, region, the 6-digit division code of its district, city word for companies
BRANCHES = (
	("0001", "总行营业部", "总行", "110102", "北京"),
	("0101", "北京朝阳支行", "华北", "110105", "北京"),
	("0201", "上海浦东支行", "华东", "310115", "上海"),
	("0301", "广州天河支行", "华南", "440106", "广州"),
	("0401", "深圳南山支行", "华南", "440305", "深圳"),
	("0501", "杭州西湖支行", "华东", "330106", "杭州"),
	("0601", "成都武侯支行", "西南", "510107", "成都"),
)
RMS_PER_BRANCH = 3

OCCUPATIONS = (
	"教师",
	"医生",
	"工程师",
	"公务员",
	"会计",
	"律师",
	"销售经理",
	"个体经营者",
	"程序员",
	"设计师",
	"退休",
	"企业主",
)
EMPLOYERS = (
	"市第一人民医院",
	"华为技术有限公司",
	"国家电网",
	"市实验中学",
	"中国移动",
	"自营",
	"阿里巴巴集团",
	"区人民政府",
	"",
)
INCOME_BANDS = ("Below 100k", "100k–300k", "300k–1M", "1M–5M", "Above 5M")
INCOME_WEIGHTS = (30, 40, 20, 8, 2)
COMPANY_WORDS = (
	"华信",
	"鼎盛",
	"恒通",
	"远航",
	"金桥",
	"瑞丰",
	"宏图",
	"新创",
	"天成",
	"博远",
	"中科",
	"东方",
	"汇智",
	"盛世",
)
COMPANY_TRADES = (
	("科技", "Technology"),
	("贸易", "Retail & Wholesale"),
	("制造", "Manufacturing"),
	("房地产开发", "Real Estate"),
	("物流", "Transportation"),
	("餐饮管理", "Food, Beverage & Tobacco"),
	("医药", "Pharmaceuticals"),
	("咨询服务", "Consulting"),
)
SCALES = ("Micro", "Small", "Medium", "Large")
SCALE_WEIGHTS = (35, 40, 20, 5)


@dataclass
class Staff:
	email: str
	first_name: str
	role: str  # "Relationship Manager" or "Branch Manager"
	branch: str


@dataclass
class DemoCustomer:
	seq: int
	customer_name: str
	customer_type: str  # ERPNext's: Individual or Company
	profile_type: str
	branch: str
	relationship_manager: str
	risk_level: str
	onboarded_on: date
	values: dict = field(default_factory=dict)  # profile fields
	shareholders: list = field(default_factory=list)
	financing_needs: list = field(default_factory=list)
	checks: list = field(default_factory=list)
	consents: list = field(default_factory=list)


def staff(domain: str = DEMO_DOMAIN) -> list[Staff]:
	rng = random.Random(7)
	people = []
	for code, _name, _region, _division, _city in BRANCHES:
		people.append(Staff(f"bm{code}@{domain}", _person_name(rng), "Branch Manager", code))
		for i in range(RMS_PER_BRANCH):
			people.append(
				Staff(f"rm{code}{chr(97 + i)}@{domain}", _person_name(rng), "Relationship Manager", code)
			)
	return people


def _person_name(rng: random.Random, gender: str | None = None) -> str:
	pool = GIVEN_MALE if (gender or rng.choice("MF")) in ("M", "Male") else GIVEN_FEMALE
	return rng.choice(SURNAMES) + "".join(rng.choice(pool) for _ in range(rng.choice((1, 2))))


def resident_id(division: str, born: date, seq: int, male: bool) -> str:
	"""A valid 18-character resident ID; the sequence digit's parity carries the gender."""
	sequence = (seq % 500) * 2 + (1 if male else 0)
	first17 = f"{division}{born:%Y%m%d}{sequence:03d}"
	return first17 + identity.id_check_character(first17)


def credit_code(division: str, seq: int, rng: random.Random) -> str:
	"""A valid unified social credit code for a company registered in ``division``; distinct
	``seq`` numbers give distinct codes."""
	alphabet = identity.USCC_ALPHABET
	digits, n = [], seq
	for _ in range(7):
		n, r = divmod(n, len(alphabet))
		digits.append(alphabet[r])
	org = "".join(rng.choice(alphabet) for _ in range(2)) + "".join(reversed(digits))
	first17 = "91" + division + org
	return first17 + identity.uscc_check_character(first17)


# Birth date and sequence number come from a bijection of the customer number, so that
# resident ID numbers never repeat (up to 10.5 million customers per region).
_BIRTH_DAYS = 21_000
_ID_SPACE = _BIRTH_DAYS * 500


def birth_and_sequence(seq: int, today: date) -> tuple[date, int]:
	k = (seq * 7919) % _ID_SPACE
	return today - timedelta(days=20 * 365 + k // 500), k % 500


def customers(count: int, start: int = 1, seed: int = 42, today: date | None = None) -> list[DemoCustomer]:
	"""``count`` customers numbered from ``start``; 80 % individuals, 20 % companies."""
	today = today or date.today()
	team = staff()
	rms = [s for s in team if s.role == "Relationship Manager"]
	divisions = {b[0]: b[3] for b in BRANCHES}
	cities = {b[0]: b[4] for b in BRANCHES}
	out = []
	for seq in range(start, start + count):
		rng = random.Random(seed * 1_000_003 + seq)
		rm = rms[seq % len(rms)]
		onboarded = today - timedelta(days=rng.randint(30, 15 * 365))
		risk_level = rng.choices(verification.RISK_LEVELS, (60, 32, 8))[0]
		if rng.random() < 0.8:
			c = _individual(seq, rng, rm, divisions[rm.branch], onboarded, risk_level, today)
		else:
			c = _company(seq, rng, rm, divisions[rm.branch], cities[rm.branch], onboarded, risk_level, today)
		c.consents = _consents(rng, onboarded, today)
		out.append(c)
	return out


def _individual(seq, rng, rm, division, onboarded, risk_level, today) -> DemoCustomer:
	male = rng.random() < 0.5
	name = _person_name(rng, "M" if male else "F")
	born, sequence = birth_and_sequence(seq, today)
	number = resident_id(division, born, sequence, male)
	assessed = today - timedelta(days=rng.randint(0, 540)) if rng.random() < 0.85 else None
	values = {
		"legal_name": name,
		"id_type": identity.RESIDENT_ID,
		"id_number": number,
		"date_of_birth": born,
		"gender": "Male" if male else "Female",
		"nationality": "China",
		"occupation": rng.choice(OCCUPATIONS),
		"employer": rng.choice(EMPLOYERS) or None,
		"income_band": rng.choices(INCOME_BANDS, INCOME_WEIGHTS)[0],
		"marital_status": rng.choice(("Single", "Married", "Married", "Divorced")),
		"dependants": rng.choice((0, 0, 1, 1, 2, 3)),
		"risk_tolerance": rng.choice(("C1", "C2", "C3", "C3", "C4", "C5")) if assessed else None,
		"risk_assessment_date": assessed,
	}
	c = DemoCustomer(
		seq, name, "Individual", verification.INDIVIDUAL, rm.branch, rm.email, risk_level, onboarded, values
	)
	c.checks = _checks(
		rng, (verification.IDENTITY, verification.ADDRESS, verification.INCOME), onboarded, today, rm.email
	)
	return c


def _company(seq, rng, rm, division, city, onboarded, risk_level, today) -> DemoCustomer:
	trade, industry = rng.choice(COMPANY_TRADES)
	name = f"{city}{rng.choice(COMPANY_WORDS)}{trade}有限公司"
	scale = rng.choices(SCALES, SCALE_WEIGHTS)[0]
	low, high = {"Micro": (10, 100), "Small": (100, 1000), "Medium": (1000, 10000), "Large": (10000, 500000)}[
		scale
	]
	capital = round(rng.uniform(low, high)) * 10_000  # CNY
	revenue = capital * rng.uniform(0.5, 6)
	assets = revenue * rng.uniform(0.8, 2.5)
	values = {
		"unified_social_credit_code": credit_code(division, seq, rng),
		"legal_representative": _person_name(rng),
		"industry": industry,
		"business_scale": scale,
		"established_on": onboarded - timedelta(days=rng.randint(0, 20 * 365)),
		"registered_capital": float(capital),
		"annual_revenue": round(revenue, 2),
		"financial_year": str(today.year - 1),
		"total_assets": round(assets, 2),
		"total_liabilities": round(assets * rng.uniform(0.2, 0.85), 2),
		"net_profit": round(revenue * rng.uniform(-0.05, 0.2), 2),
	}
	c = DemoCustomer(
		seq, name, "Company", verification.CORPORATE, rm.branch, rm.email, risk_level, onboarded, values
	)
	remaining = 100.0
	for i in range(rng.randint(1, 4)):
		pct = (
			remaining
			if i == 3
			else min(remaining, round(rng.uniform(min(5.0, remaining / 2), remaining * 0.8), 2))
		)
		remaining = round(remaining - pct, 2)
		c.shareholders.append(
			{
				"shareholder_name": _person_name(rng)
				if rng.random() < 0.7
				else f"{city}{rng.choice(COMPANY_WORDS)}投资有限公司",
				"shareholder_type": "Individual",
				"shareholding_percent": pct,
				"is_beneficial_owner": int(pct >= 25),
				"is_controlling": int(i == 0),
			}
		)
		if remaining <= 1:
			break
	for _ in range(rng.choice((0, 0, 1, 2))):
		c.financing_needs.append(
			{
				"purpose": rng.choice(("Working Capital", "Fixed Assets", "Trade Finance", "Refinancing")),
				"amount": float(rng.choice((50, 100, 300, 500, 1000, 3000)) * 10_000),
				"currency": "CNY",
				"term_months": rng.choice((6, 12, 24, 36, 60)),
				"urgency": rng.choice(("Low", "Medium", "High", "Urgent")),
				"needed_by": today + timedelta(days=rng.randint(15, 180)),
				"need_status": rng.choice(("Open", "Open", "In Discussion")),
			}
		)
	types = (verification.BUSINESS_LICENCE, verification.LEGAL_REPRESENTATIVE, verification.BENEFICIAL_OWNERS)
	c.checks = _checks(rng, types, onboarded, today, rm.email)
	return c


def _checks(rng, types, onboarded, today, checker) -> list[dict]:
	roll = rng.random()
	if roll < 0.05:
		return []
	rows = []
	last_check = today - timedelta(days=rng.randint(0, 4 * 365))
	checked_on = max(onboarded, last_check)
	for i, check_type in enumerate(types):
		result = verification.PASSED
		if roll < 0.12 and i == len(types) - 1:
			result = verification.PENDING
		elif 0.12 <= roll < 0.15 and i == 0:
			result = verification.FAILED
		rows.append(
			{
				"check_type": check_type,
				"source": rng.choice(verification.SOURCES),
				"result": result,
				"checked_on": checked_on if result != verification.PENDING else None,
				"checked_by": checker if result != verification.PENDING else None,
				"provider": rng.choice(
					("公安部身份核查", "国家企业信用信息公示系统", "水电费账单", "柜面核验", "")
				)
				or None,
			}
		)
	return rows


def _consents(rng, onboarded, today) -> list[dict]:
	granted = datetime.combine(onboarded, datetime.min.time()) + timedelta(hours=10)
	rows = [
		{
			"purpose": "Service",
			"channel": "All Channels",
			"granted_on": granted,
			"withdrawn_on": None,
			"evidence_type": "Signed Form",
		}
	]
	if rng.random() < 0.6:
		withdrawn = None
		if rng.random() < 0.15:
			withdrawn = granted + timedelta(days=rng.randint(1, max(1, (today - onboarded).days)))
		rows.append(
			{
				"purpose": "Marketing",
				"channel": rng.choice(("All Channels", "SMS", "App Push", "WeChat")),
				"granted_on": granted,
				"withdrawn_on": withdrawn,
				"evidence_type": rng.choice(("Signed Form", "App Consent")),
			}
		)
	if rng.random() < 0.5:
		rows.append(
			{
				"purpose": "Sensitive Data",
				"channel": "All Channels",
				"granted_on": granted,
				"withdrawn_on": None,
				"evidence_type": "Signed Form",
			}
		)
	return rows


def month_ends(today: date, months: int) -> list[date]:
	"""The last ``months`` month-end dates before ``today``, oldest first."""
	out = []
	d = today.replace(day=1) - timedelta(days=1)
	for _ in range(months):
		out.append(d)
		d = d.replace(day=1) - timedelta(days=1)
	return out[::-1]


def _pattern(rng: random.Random) -> str:
	return rng.choices(("steady", "churn", "dormant", "prospect", "grower"), (74, 8, 5, 3, 10))[0]


def snapshot_pattern(seq: int, seed: int = 42) -> str:
	"""The balance pattern of demo customer ``seq`` (the first draw of its snapshot history)."""
	return _pattern(random.Random(seed * 7919 + seq))


def snapshot_history(c: DemoCustomer, months: int, today: date, seed: int = 42) -> list[dict]:
	"""Monthly snapshots with realistic patterns: growth, churn (a sharp fall), dormancy,
	prospects without data; corporates an order of magnitude larger."""
	rng = random.Random(seed * 7919 + c.seq)
	corporate = c.profile_type == verification.CORPORATE
	pattern = _pattern(rng)
	if pattern == "prospect" or months <= 0:
		return []
	scale = 50 if corporate else 1
	deposit = rng.lognormvariate(11.0, 1.4) * scale  # median ≈ 60k CNY for individuals
	aum = rng.lognormvariate(12.2, 1.3) * scale if rng.random() < (0.3 if corporate else 0.45) else 0.0
	loan = rng.lognormvariate(13.0, 1.0) * scale if rng.random() < (0.5 if corporate else 0.2) else 0.0
	products = (
		rng.randint(1, 3) + (1 if aum else 0) + (1 if loan else 0) + (rng.randint(0, 3) if corporate else 0)
	)
	yld = rng.uniform(1.2, 3.8)
	if pattern == "dormant":
		deposit, aum, loan, products = rng.uniform(0, 80), 0.0, 0.0, 1
	# some steady customers dip like a leaver for a while, then recover: a slide alone is no churn
	dip = pattern == "steady" and rng.random() < 0.1
	rows = []
	dates = month_ends(today, months)
	for i, as_of in enumerate(dates):
		months_left = len(dates) - i
		if pattern == "churn" and months_left <= 2:
			deposit *= 0.45
			aum *= 0.4
			products = max(1, products - 1)
		elif (pattern == "churn" or dip) and 3 <= months_left <= 5:
			# the early signs a model can learn: a slow slide (under the Churn Risk rule's 30 % in
			# 90 days), with most leavers no longer using the app (``demo.insight``)
			deposit *= 0.9
			aum *= 0.9
		elif dip:
			deposit *= 1.08
			aum *= 1.05
		elif pattern == "grower":
			deposit *= rng.uniform(1.03, 1.12)
			aum *= rng.uniform(1.03, 1.15)
		elif pattern == "steady":
			deposit *= rng.uniform(0.96, 1.05)
			aum *= rng.uniform(0.97, 1.05)
		fee = (aum * 0.0008 + loan * 0.0003 + deposit * 0.0001) * rng.uniform(0.5, 1.5)
		rows.append(
			{
				"customer": None,  # filled by the loader
				"as_of_date": as_of,
				"deposit_balance": round(deposit, 2),
				"loan_balance": round(loan, 2),
				"aum": round(aum, 2),
				"fee_income": round(fee, 2),
				"composite_yield": round(yld + rng.uniform(-0.1, 0.1), 4),
				"products_held": products,
				"source": "demo",
			}
		)
	return rows


def qualitative_scores(c: DemoCustomer, seed: int = 42) -> dict:
	"""About a third of customers carry an RM's qualitative assessment."""
	rng = random.Random(seed * 104729 + c.seq)
	if rng.random() > 0.35:
		return {}
	scores = {"qual_cooperation_potential": rng.randint(2, 5)}
	if c.profile_type == verification.CORPORATE:
		scores["qual_industry_influence"] = rng.randint(1, 5)
	return scores
