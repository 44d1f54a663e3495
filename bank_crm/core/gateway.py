"""Batch gateways (no Frappe): what goes out in one signed request, what comes back, what the
delivery receipts say, and how fast the sender may go.

The wire format of a channel adapter in batch mode (SMS platform, push service, WeChat):

- request: ``POST`` JSON ``{"channel": …, "messages": [{"id", "to", "text"}, …]}`` signed with
  the adapter's secret in ``X-Bank-CRM-Signature`` (``core.delivery.sign``); ``id`` is the
  message's own name, the gateway's idempotency key: a message sent twice (a worker killed
  after the request left) is accepted once, and answered with the same gateway id;
- answer: ``{"results": [{"id", "accepted": true, "gateway_id"} | {"id", "accepted": false,
  "reason", "retry": bool}]}``; a message missing from the answer counts as refused, to retry;
- receipts (the gateway calls back, signed with the receipt secret): ``{"receipts": [{"gateway_id",
  "status": delivered|failed|opened|clicked, "reason", "at"}]}``.

A refused or failed message is retried (``core.delivery.after_failure``) unless the reason says
retrying cannot help (the number or token does not exist), and an unusable contact is marked
on the profile so that routing falls back to the next channel.
"""

from __future__ import annotations

import hmac
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bank_crm.core.delivery import sign

DELIVERED, UNDELIVERED, OPENED, CLICKED = "Delivered", "Undelivered", "Opened", "Clicked"
RECEIPT_STATUSES = {"delivered": DELIVERED, "failed": UNDELIVERED, "opened": OPENED, "clicked": CLICKED}
# later news never overwrites more advanced news: a click implies the message arrived
RECEIPT_RANK = {DELIVERED: 1, UNDELIVERED: 1, OPENED: 2, CLICKED: 3}
# reasons after which the contact itself is unusable (not worth another try on this channel)
UNUSABLE_REASONS = frozenset(
	{
		"invalid_number",
		"unknown_number",
		"number_not_in_service",
		"invalid_token",
		"unregistered",
		"unsubscribed_channel",
	}
)
MAX_RECEIPTS = 50_000
MAX_REASON = 140


@dataclass(frozen=True)
class Outgoing:
	id: str
	to: str
	text: str


@dataclass(frozen=True)
class Result:
	id: str
	accepted: bool
	gateway_id: str | None = None
	reason: str | None = None
	retry: bool = True


@dataclass(frozen=True)
class Receipt:
	gateway_id: str
	status: str
	reason: str | None
	at: datetime | None


@dataclass
class Pace:
	"""A sender's pace under a gateway's limits (requests/s and messages/s), for one of
	``senders`` that share them: ``wait`` says how long to sleep before the next request."""

	requests_per_second: float
	messages_per_second: float
	senders: int = 1
	_next: float = field(default=0.0, repr=False)

	def wait(self, messages: int, now: float) -> float:
		"""Seconds to wait before sending ``messages`` at ``now`` (a monotonic clock)."""
		per_request = 0.0
		share = max(self.senders, 1)
		if self.requests_per_second > 0:
			per_request = share / self.requests_per_second
		if self.messages_per_second > 0:
			per_request = max(per_request, messages * share / self.messages_per_second)
		start = max(now, self._next)
		self._next = start + per_request
		return start - now


def request_body(channel: str, messages: Sequence[Outgoing]) -> bytes:
	"""The exact bytes of one batch request (signed as they are)."""
	return json.dumps(
		{"channel": channel, "messages": [{"id": m.id, "to": m.to, "text": m.text} for m in messages]},
		ensure_ascii=False,
		separators=(",", ":"),
	).encode("utf-8")


def results(answer: object, sent: Iterable[str]) -> dict[str, Result]:
	"""Each sent id's result from the gateway's answer; a malformed answer or a missing id is a
	refusal to retry ("no result"), never an acceptance."""
	ids = list(sent)
	out: dict[str, Result] = {}
	rows = answer.get("results") if isinstance(answer, Mapping) else None
	for row in rows if isinstance(rows, list) else ():
		if not isinstance(row, Mapping) or row.get("id") not in ids or row.get("id") in out:
			continue
		if row.get("accepted") is True and isinstance(row.get("gateway_id"), str) and row["gateway_id"]:
			out[row["id"]] = Result(row["id"], True, gateway_id=row["gateway_id"][:140])
		else:
			reason = _reason(row.get("reason")) or "refused"
			out[row["id"]] = Result(
				row["id"], False, reason=reason, retry=retryable(reason, row.get("retry"))
			)
	for i in ids:
		out.setdefault(i, Result(i, False, reason="no result", retry=True))
	return out


def retryable(reason: str | None, said: object = None) -> bool:
	"""Whether trying again may help: not for an unusable contact, else as the gateway said."""
	if (reason or "") in UNUSABLE_REASONS:
		return False
	return said is not False


def unusable(reason: str | None) -> bool:
	return (reason or "") in UNUSABLE_REASONS


def verify(body: bytes, secret: str | None, signature: str | None) -> bool:
	"""Whether ``signature`` is the adapter's signature of the exact ``body``."""
	if not secret or not signature:
		return False
	return hmac.compare_digest(sign(body, secret), signature)


def receipts(payload: object) -> tuple[list[Receipt], list[tuple[int, str]]]:
	"""The receipts of a callback and the problems of the rows that are not (index, why)."""
	rows = payload.get("receipts") if isinstance(payload, Mapping) else None
	if not isinstance(rows, list):
		return [], [(-1, "the body must be an object with a list of receipts")]
	if len(rows) > MAX_RECEIPTS:
		return [], [(-1, f"at most {MAX_RECEIPTS} receipts in one call")]
	good, bad = [], []
	for i, row in enumerate(rows):
		if not isinstance(row, Mapping):
			bad.append((i, "not an object"))
			continue
		gateway_id, status = row.get("gateway_id"), RECEIPT_STATUSES.get(str(row.get("status", "")).lower())
		if not isinstance(gateway_id, str) or not gateway_id or len(gateway_id) > 140:
			bad.append((i, "gateway_id missing"))
			continue
		if not status:
			bad.append((i, "status must be delivered, failed, opened or clicked"))
			continue
		good.append(Receipt(gateway_id, status, _reason(row.get("reason")), _time(row.get("at"))))
	return good, bad


def latest(found: Iterable[Receipt]) -> dict[str, Receipt]:
	"""One receipt per message: the most advanced, of equals the last (a replay changes nothing)."""
	out: dict[str, Receipt] = {}
	for r in found:
		kept = out.get(r.gateway_id)
		if kept is None or RECEIPT_RANK[r.status] >= RECEIPT_RANK[kept.status]:
			out[r.gateway_id] = r
	return out


def advances(stored: str | None, new: str) -> bool:
	"""Whether a receipt's status moves a message on from what is stored (the first final word,
	delivered or not, stands; an open or a click goes further; a replay changes nothing)."""
	return not stored or RECEIPT_RANK[new] > RECEIPT_RANK.get(stored, 0)


def batches(items: Sequence, size: int) -> list:
	size = max(1, int(size))
	return [items[i : i + size] for i in range(0, len(items), size)]


def requests_needed(messages: int, batch_size: int) -> int:
	return math.ceil(messages / max(1, batch_size))


def _reason(value: object) -> str | None:
	if value in (None, ""):
		return None
	return str(value)[:MAX_REASON]


def _time(value: object) -> datetime | None:
	if not isinstance(value, str):
		return None
	try:
		return datetime.fromisoformat(value.replace("Z", "+00:00")).replace(tzinfo=None)
	except ValueError:
		return None
