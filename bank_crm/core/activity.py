"""Activity events and product holdings pushed in by the core systems: row checks and identity.

Each row is checked on its own (``bank_crm.core.values`` readers: no value can raise); a refused
row names its index, field and reason. Whether a customer, event type or product exists is the
service's question (one query per batch), not this module's.
"""

from __future__ import annotations

import decimal
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bank_crm.core import values
from bank_crm.core.snapshots import RowError

CHANNELS = (
	"Branch",
	"Mobile App",
	"Online Banking",
	"Phone",
	"ATM",
	"WeChat",
	"Self-service Terminal",
	"Other",
)
CATEGORIES = ("Deposit", "Wealth", "Fund", "Insurance", "Loan", "Card", "FX")
RISK_LEVELS = ("R1", "R2", "R3", "R4", "R5")
HOLDING_STATUSES = ("Active", "Matured", "Closed")

# ISO 4217 active codes (2024)
CURRENCIES = frozenset(
	"""AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN
	BWP BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN
	ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD
	JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU
	MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD
	RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY
	TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST XAF XAG XAU XBA XBB XBC XBD XCD
	XDR XOF XPD XPF XPT XSU XUA YER ZAR ZMW ZWL""".split()
)

MAX_ATTRIBUTES_BYTES = 4000
CLOCK_SKEW = timedelta(minutes=5)

EVENT_REQUIRED = ("external_id", "customer", "event_type", "event_time")
EVENT_OPTIONAL = ("source", "amount", "currency", "channel", "product", "attributes")
EVENT_CONTENT = (
	"customer",
	"event_type",
	"event_time",
	"amount",
	"currency",
	"channel",
	"product",
	"attributes",
)
HOLDING_REQUIRED = ("customer", "product", "opened_on", "amount")
HOLDING_OPTIONAL = ("maturity_date", "status", "source")
HOLDING_CONTENT = ("opened_on", "maturity_date", "amount", "status")


def event_key(source: str, external_id: str) -> str:
	"""The identity of an event: the same (source, external id) is the same event."""
	return hashlib.sha256(f"{source}\x1f{external_id}".encode()).hexdigest()[:24]


def event_name(key: str, event_time: datetime) -> str:
	"""The record name: time first, so that the table (clustered by name) grows at its end
	as events arrive, instead of taking every insert at a random place."""
	return f"EV{event_time:%Y%m%d%H%M%S}{key[:12]}"


def holding_key(customer: str, product: str) -> str:
	"""The record name of a holding: one per customer and product."""
	return "PH" + hashlib.sha256(f"{customer}\x1f{product}".encode()).hexdigest()[:22]


@dataclass(frozen=True)
class Context:
	now: datetime
	default_source: str = ""


_EVENT_REQUIRED = frozenset(EVENT_REQUIRED)
_EVENT_ALLOWED = frozenset(EVENT_REQUIRED) | frozenset(EVENT_OPTIONAL)
_CHANNEL_SET = frozenset(CHANNELS)


def clean_event(index: int, row, ctx: Context) -> tuple[dict | None, list[RowError]]:
	"""A typed event, or every reason it is refused."""
	fast = _clean_event_fast(row, ctx)
	if fast is not None:
		return fast, []
	return _clean_event_slow(index, row, ctx)


def _text_ok(value) -> bool:
	return (
		type(value) is str
		and 0 < len(value) <= values.MAX_TEXT
		and value.strip() == value
		and "\x00" not in value
	)


def _clean_event_fast(row, ctx: Context) -> dict | None:
	"""The common case in one pass (tens of thousands of rows a second); None sends the row to
	the path that names every error. For any row it accepts, the result equals that path's."""
	try:
		if not (_EVENT_REQUIRED <= row.keys() <= _EVENT_ALLOWED):
			return None
		external_id, customer, event_type, raw_time = (
			row["external_id"],
			row["customer"],
			row["event_type"],
			row["event_time"],
		)
		source = row.get("source", ctx.default_source)
		if source is None:
			source = ctx.default_source
		if not (
			_text_ok(external_id)
			and _text_ok(customer)
			and _text_ok(event_type)
			and (source == "" or _text_ok(source))
			and type(raw_time) is str
			and 16 <= len(raw_time) <= 32
			and raw_time.strip() == raw_time
		):
			return None
		moment = datetime.fromisoformat(raw_time)
		if moment.tzinfo is not None or moment.year < 1900 or moment > ctx.now + CLOCK_SKEW:
			return None
		amount, currency = row.get("amount"), row.get("currency")
		if amount is None:
			if currency is not None:
				return None
		elif type(amount) not in (int, float) or not -values.MAX_AMOUNT <= amount <= values.MAX_AMOUNT:
			return None
		elif type(currency) is not str or currency not in CURRENCIES:
			return None
		channel, product = row.get("channel"), row.get("product")
		if channel is not None and channel not in _CHANNEL_SET:
			return None
		if product is not None and not _text_ok(product):
			return None
		attributes = row.get("attributes")
		if attributes is not None:
			return None  # rare: checked, and serialised, by the full path
	except (AttributeError, KeyError, TypeError, ValueError):
		return None
	key = event_key(source, external_id)
	return {
		"external_id": external_id,
		"source": source,
		"customer": customer,
		"event_type": event_type,
		"event_time": moment,
		"amount": None if amount is None else float(amount),
		"currency": currency,
		"channel": channel,
		"product": product,
		"attributes": None,
		"event_key": key,
		"name": event_name(key, moment),
	}


def _clean_event_slow(index: int, row, ctx: Context) -> tuple[dict | None, list[RowError]]:
	if not isinstance(row, Mapping):
		return None, [RowError(index, "", "each row must be an object")]
	errors: list[RowError] = []
	out: dict = {}
	allowed = set(EVENT_REQUIRED) | set(EVENT_OPTIONAL)
	for name in sorted((k for k in row if k not in allowed), key=values.shown)[:20]:
		errors.append(RowError(index, values.shown(name), "is not an event field"))

	def take(field, result):
		value, reason = result
		if reason:
			errors.append(RowError(index, field, reason, (values.shown(row.get(field)),)))
		else:
			out[field] = value

	take("external_id", values.text(row.get("external_id")))
	source = row.get("source", ctx.default_source)
	take("source", values.text(source if source is not None else ctx.default_source, required=False))
	out["source"] = out.get("source") or ""
	take("customer", values.text(row.get("customer")))
	take("event_type", values.text(row.get("event_type")))
	moment, reason = values.iso_datetime(row.get("event_time"))
	if reason:
		errors.append(RowError(index, "event_time", reason, (values.shown(row.get("event_time")),)))
	elif moment > ctx.now + CLOCK_SKEW:
		errors.append(RowError(index, "event_time", "{0} is in the future", (moment.isoformat(sep=" "),)))
	else:
		out["event_time"] = moment
	if values.is_missing(row.get("amount")):
		out["amount"] = None
	else:
		take("amount", values.number(row.get("amount")))
	currency = row.get("currency")
	if values.is_missing(currency):
		if out.get("amount") is not None:
			errors.append(RowError(index, "currency", "is required with an amount"))
		out["currency"] = None
	elif not isinstance(currency, str) or currency.strip().upper() not in CURRENCIES:
		errors.append(
			RowError(index, "currency", "{0} is not an ISO 4217 currency code", (values.shown(currency),))
		)
	else:
		out["currency"] = currency.strip().upper()
	channel = row.get("channel")
	if values.is_missing(channel):
		out["channel"] = None
	elif channel not in CHANNELS:
		errors.append(
			RowError(index, "channel", "{0} is not one of {1}", (values.shown(channel), ", ".join(CHANNELS)))
		)
	else:
		out["channel"] = channel
	product, reason = values.text(row.get("product"), required=False)
	if reason:
		errors.append(RowError(index, "product", reason, (values.MAX_TEXT,)))
	out["product"] = product
	attributes = row.get("attributes")
	if attributes in (None, {}, ""):
		out["attributes"] = None
	elif not isinstance(attributes, Mapping):
		errors.append(RowError(index, "attributes", "must be an object"))
	else:
		try:
			text = json.dumps(attributes, sort_keys=True, ensure_ascii=False, allow_nan=False)
		except (TypeError, ValueError, RecursionError):
			errors.append(RowError(index, "attributes", "must hold only text, numbers and lists"))
		else:
			if len(text.encode()) > MAX_ATTRIBUTES_BYTES:
				errors.append(
					RowError(index, "attributes", "is larger than {0} bytes", (MAX_ATTRIBUTES_BYTES,))
				)
			else:
				out["attributes"] = text
	if errors:
		return None, errors
	out["event_key"] = event_key(out["source"], out["external_id"])
	out["name"] = event_name(out["event_key"], out["event_time"])
	return out, []


def clean_holding(index: int, row, today: date) -> tuple[dict | None, list[RowError]]:
	"""A typed holding, or every reason it is refused."""
	if not isinstance(row, Mapping):
		return None, [RowError(index, "", "each row must be an object")]
	errors: list[RowError] = []
	out: dict = {}
	allowed = set(HOLDING_REQUIRED) | set(HOLDING_OPTIONAL)
	for name in sorted((k for k in row if k not in allowed), key=values.shown)[:20]:
		errors.append(RowError(index, values.shown(name), "is not a holding field"))
	for field in ("customer", "product"):
		value, reason = values.text(row.get(field))
		if reason:
			errors.append(RowError(index, field, reason, (values.MAX_TEXT,)))
		else:
			out[field] = value
	opened, reason = values.iso_date(row.get("opened_on"), latest=today)
	if reason:
		errors.append(RowError(index, "opened_on", reason, (values.shown(row.get("opened_on")),)))
	else:
		out["opened_on"] = opened
	if values.is_missing(row.get("maturity_date")):
		out["maturity_date"] = None
	else:
		matures, reason = values.iso_date(row.get("maturity_date"))
		if reason:
			errors.append(RowError(index, "maturity_date", reason, (values.shown(row.get("maturity_date")),)))
		elif opened and matures < opened:
			errors.append(
				RowError(index, "maturity_date", "is before the opening date {0}", (opened.isoformat(),))
			)
		else:
			out["maturity_date"] = matures
	amount, reason = values.number(row.get("amount"), minimum=0)
	if reason:
		errors.append(RowError(index, "amount", reason))
	else:
		out["amount"] = amount
	status = row.get("status")
	if values.is_missing(status):
		out["status"] = "Active"
	elif status not in HOLDING_STATUSES:
		errors.append(
			RowError(
				index, "status", "{0} is not one of {1}", (values.shown(status), ", ".join(HOLDING_STATUSES))
			)
		)
	else:
		out["status"] = status
	source, reason = values.text(row.get("source"), required=False)
	if reason:
		errors.append(RowError(index, "source", reason, (values.MAX_TEXT,)))
	out["source"] = source
	if errors:
		return None, errors
	out["name"] = holding_key(out["customer"], out["product"])
	return out, []


def _comparable(value):
	if isinstance(value, datetime):
		return value.replace(microsecond=0).isoformat()
	if isinstance(value, date):
		return value.isoformat()
	if isinstance(value, float | int | decimal.Decimal) and not isinstance(value, bool):
		return round(float(value), 2) or None  # a number column stores "no amount" as 0
	if isinstance(value, str) and value.startswith("{"):
		try:
			return json.dumps(json.loads(value), sort_keys=True)
		except ValueError:
			return value
	return value or None


def first_difference(sent: Mapping, stored: Mapping, fields) -> str | None:
	"""The first field whose content differs between a sent row and the stored one."""
	for field in fields:
		if _comparable(sent.get(field)) != _comparable(stored.get(field)):
			return field
	return None
