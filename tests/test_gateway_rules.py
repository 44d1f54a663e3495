"""Batch gateways: requests, answers, receipts and pace, as plain data."""

import json
from datetime import datetime

from bank_crm.core import gateway
from bank_crm.core.delivery import sign


def test_a_request_carries_each_message_with_its_own_id_recipient_and_text():
	body = gateway.request_body(
		"SMS", [gateway.Outgoing("M1", "13800000001", "您好"), gateway.Outgoing("M2", "13800000002", "Hi")]
	)
	assert json.loads(body) == {
		"channel": "SMS",
		"messages": [
			{"id": "M1", "to": "13800000001", "text": "您好"},
			{"id": "M2", "to": "13800000002", "text": "Hi"},
		],
	}
	assert gateway.verify(body, "s3cret", sign(body, "s3cret"))
	assert not gateway.verify(body + b" ", "s3cret", sign(body, "s3cret"))
	assert not gateway.verify(body, None, sign(body, "s3cret"))


def test_results_accept_refuse_and_never_accept_what_the_gateway_did_not_answer():
	answer = {
		"results": [
			{"id": "M1", "accepted": True, "gateway_id": "G1"},
			{"id": "M2", "accepted": False, "reason": "invalid_number"},
			{"id": "M3", "accepted": False, "reason": "throttled", "retry": True},
			{"id": "M9", "accepted": True, "gateway_id": "G9"},  # not ours: ignored
			{"id": "M4", "accepted": True},  # no gateway id: not an acceptance
		]
	}
	out = gateway.results(answer, ["M1", "M2", "M3", "M4", "M5"])
	assert out["M1"] == gateway.Result("M1", True, gateway_id="G1")
	assert out["M2"].accepted is False and out["M2"].retry is False and gateway.unusable(out["M2"].reason)
	assert out["M3"].retry is True
	assert out["M4"].accepted is False and out["M4"].retry is True
	assert out["M5"] == gateway.Result("M5", False, reason="no result", retry=True)
	assert set(out) == {"M1", "M2", "M3", "M4", "M5"}
	assert all(not r.accepted for r in gateway.results("<html>502</html>", ["A", "B"]).values())


def test_receipts_are_checked_row_by_row_and_the_most_advanced_news_wins():
	good, bad = gateway.receipts(
		{
			"receipts": [
				{"gateway_id": "G1", "status": "delivered", "at": "2026-12-07T08:00:01Z"},
				{"gateway_id": "G2", "status": "failed", "reason": "invalid_number"},
				{"gateway_id": "G1", "status": "clicked"},
				{"gateway_id": "G1", "status": "delivered"},  # a late replay
				{"gateway_id": "", "status": "delivered"},
				{"gateway_id": "G3", "status": "lost"},
				"junk",
			]
		}
	)
	assert [i for i, _why in bad] == [4, 5, 6]
	assert good[0].at == datetime(2026, 12, 7, 8, 0, 1)
	final = gateway.latest(good)
	assert final["G1"].status == gateway.CLICKED
	assert final["G2"].status == gateway.UNDELIVERED and final["G2"].reason == "invalid_number"
	assert gateway.receipts([1, 2])[1] and gateway.receipts({"receipts": "x"})[1]


def test_a_receipt_moves_a_message_on_only_forward():
	assert gateway.advances(None, gateway.DELIVERED)
	assert gateway.advances(gateway.DELIVERED, gateway.OPENED)
	assert not gateway.advances(gateway.CLICKED, gateway.DELIVERED)
	assert not gateway.advances(gateway.DELIVERED, gateway.DELIVERED)  # a replay
	assert not gateway.advances(gateway.UNDELIVERED, gateway.DELIVERED)  # the first final word stands


def test_the_pace_keeps_to_the_gateways_limits_shared_by_the_senders():
	pace = gateway.Pace(requests_per_second=10, messages_per_second=500, senders=2)
	# two senders share 10 requests/s: one request every 0.2 s each; 100 messages take 0.4 s of 250/s
	assert pace.wait(100, now=0.0) == 0.0
	assert pace.wait(100, now=0.0) == 0.4
	assert abs(pace.wait(10, now=0.5) - 0.3) < 1e-9
	assert gateway.Pace(0, 0).wait(1000, now=5.0) == 0.0


def test_batches_and_requests():
	assert gateway.batches(list(range(5)), 2) == [[0, 1], [2, 3], [4]]
	assert gateway.requests_needed(1_000_000, 100) == 10_000
