"""A gateway simulator: an SMS platform and a push service on 127.0.0.1, for the integration tests
and the outbound benchmarks (``core.gateway`` has the wire format).

    python benchmarks/gateway_simulator.py --port 0 --latency-ms 20 --refuse-share 0.01 \\
        --receipt-url http://127.0.0.1:8000/api/method/bank_crm.api.outbound.receipts?adapter=SMS \\
        --receipt-secret s3cret --signing-secret s3cret

It prints ``listening on http://127.0.0.1:PORT`` and serves until killed:

- ``POST /batch`` — a signed batch (``X-Bank-CRM-Signature`` checked when a signing secret is
  set: a bad one is answered 401). Each message is accepted with a gateway id, or refused:
  numbers ending in ``0000`` as ``invalid_number`` (retrying cannot help), and a configurable share
  at random as ``throttled`` (retry). A message id seen before is answered with its first gateway
  id and never counted twice: the idempotency a real platform gives by client message id.
  Above ``--max-rps`` requests per second it answers 429; while ``down`` it answers 503.
- Receipts: every accepted message gets one, after ``--receipt-delay-s``, posted in batches of up
  to ``--receipt-batch`` to the receipt URL, signed with the receipt secret: ``delivered``, or
  ``failed``/``invalid_number`` for numbers ending in ``9999`` (the gateway learns it later).
- ``--hold-receipts`` keeps them until ``POST /control {"hold_receipts": false}`` (a benchmark times
  them apart from the send).
- ``GET /stats`` — counts (requests, unique accepted, duplicates, refused, receipts posted and
  answered); ``POST /control`` — change settings at run time (``{"down": true}``, ``{"latency_ms":
  200}`` …); ``POST /reset`` — forget everything.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import random
import sys
import threading
import time
import urllib.request
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SIGNATURE_HEADER = "X-Bank-CRM-Signature"


def sign(body: bytes, secret: str) -> str:
	return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class Gateway:
	def __init__(self, **settings):
		self.settings = {
			"latency_ms": 0,
			"refuse_share": 0.0,
			"max_rps": 0,
			"down": False,
			"signing_secret": None,
			"receipt_url": None,
			"receipt_secret": None,
			"receipt_delay_s": 1.0,
			"receipt_batch": 5000,
			"keep_receipts": False,  # receipts kept for ``take_receipts`` instead of posted
			"hold_receipts": False,
			"host_header": None,  # the Host the receipts carry (a site served by address, not by name)  # receipts kept until ``/control {"hold_receipts": false}``
			"seed": 7,
		}
		self.settings.update({k: v for k, v in settings.items() if v is not None})
		self.lock = threading.Lock()
		self.reset()
		self._stop = threading.Event()
		self._receipts = threading.Thread(target=self._post_receipts, daemon=True)
		self._receipts.start()

	def reset(self):
		with getattr(self, "lock", threading.Lock()):
			self.rng = random.Random(self.settings["seed"])
			self.accepted: dict[str, str] = {}  # message id → gateway id
			self.to: dict[str, str] = {}
			self.stats = {
				"requests": 0,
				"messages": 0,
				"accepted": 0,
				"duplicates": 0,
				"refused": 0,
				"throttled_requests": 0,
				"bad_signatures": 0,
				"receipts_posted": 0,
				"receipt_calls": 0,
				"receipt_answers": [],
			}
			self.pending: deque[tuple[float, dict]] = deque()  # in the order they fall due
			self.window: list[float] = []

	# -- a batch ------------------------------------------------------------------------------
	def batch(self, body: bytes, signature: str | None) -> tuple[int, dict]:
		s = self.settings
		if s["latency_ms"]:
			time.sleep(s["latency_ms"] / 1000)
		with self.lock:
			self.stats["requests"] += 1
			if s["down"]:
				return 503, {"error": "down"}
			if s["signing_secret"] and not (
				signature and hmac.compare_digest(sign(body, s["signing_secret"]), signature)
			):
				self.stats["bad_signatures"] += 1
				return 401, {"error": "bad signature"}
			now = time.monotonic()
			if s["max_rps"]:
				self.window = [t for t in self.window if now - t < 1.0]
				if len(self.window) >= s["max_rps"]:
					self.stats["throttled_requests"] += 1
					return 429, {"error": "rate limit"}
				self.window.append(now)
			messages = json.loads(body).get("messages", [])
			results = []
			for m in messages:
				self.stats["messages"] += 1
				mid, to = m.get("id"), str(m.get("to") or "")
				if mid in self.accepted:  # the same message again: the same answer, handed over once
					self.stats["duplicates"] += 1
					results.append({"id": mid, "accepted": True, "gateway_id": self.accepted[mid]})
					continue
				if to.endswith("0000") or not to:
					self.stats["refused"] += 1
					results.append({"id": mid, "accepted": False, "reason": "invalid_number", "retry": False})
					continue
				if s["refuse_share"] and self.rng.random() < s["refuse_share"]:
					self.stats["refused"] += 1
					results.append({"id": mid, "accepted": False, "reason": "throttled", "retry": True})
					continue
				gid = "G" + hashlib.sha1(mid.encode()).hexdigest()[:20]
				self.accepted[mid] = gid
				self.to[gid] = to
				self.stats["accepted"] += 1
				results.append({"id": mid, "accepted": True, "gateway_id": gid})
				if s["receipt_url"] or s.get("keep_receipts"):
					failed = to.endswith("9999")
					self.pending.append(
						(
							now + float(s["receipt_delay_s"]),
							{
								"gateway_id": gid,
								"status": "failed" if failed else "delivered",
								**({"reason": "invalid_number"} if failed else {}),
							},
						)
					)
			return 200, {"results": results}

	# -- receipts -----------------------------------------------------------------------------
	def _post_receipts(self):
		while not self._stop.is_set():
			time.sleep(0.2)
			with self.lock:
				if not self.settings["receipt_url"] or self.settings["hold_receipts"]:
					continue  # kept for ``take_receipts``, or until released
				now = time.monotonic()
				due = []
				while self.pending and self.pending[0][0] <= now:
					due.append(self.pending.popleft()[1])
				url, secret, size = (
					self.settings["receipt_url"],
					self.settings["receipt_secret"],
					int(self.settings["receipt_batch"]),
				)
			for start in range(0, len(due), size):
				chunk = due[start : start + size]
				body = json.dumps({"receipts": chunk}).encode()
				request = urllib.request.Request(
					url,
					data=body,
					headers={
						"Content-Type": "application/json",
						SIGNATURE_HEADER: sign(body, secret or ""),
						**(
							{"Host": self.settings["host_header"]} if self.settings.get("host_header") else {}
						),
					},
				)
				try:
					with urllib.request.urlopen(request, timeout=60) as answer:
						status, text = answer.status, answer.read()[:300].decode()
				except Exception as e:  # the CRM is down: the receipts wait for the next round
					status, text = getattr(e, "code", 0), str(e)[:300]
					if status in (0, 500, 502, 503):
						with self.lock:
							self.pending.extendleft(reversed([(0.0, r) for r in chunk]))
						time.sleep(1.0)
						continue
				with self.lock:
					self.stats["receipt_calls"] += 1
					self.stats["receipts_posted"] += len(chunk)
					self.stats["receipt_answers"] = (self.stats["receipt_answers"] + [[status, text]])[-5:]

	def take_receipts(self) -> list[dict]:
		"""The receipts waiting to be posted, at once and taken (the tests post them themselves)."""
		with self.lock:
			taken = [r for _t, r in self.pending]
			self.pending.clear()
		return taken

	def stop(self):
		self._stop.set()


def make_server(port: int = 0, **settings) -> tuple[ThreadingHTTPServer, Gateway]:
	gateway = Gateway(**settings)

	class Handler(BaseHTTPRequestHandler):
		def _answer(self, status: int, payload: dict):
			data = json.dumps(payload).encode()
			self.send_response(status)
			self.send_header("Content-Type", "application/json")
			self.send_header("Content-Length", str(len(data)))
			self.end_headers()
			self.wfile.write(data)

		def do_POST(self):
			body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
			if self.path.startswith("/batch"):
				self._answer(*gateway.batch(body, self.headers.get(SIGNATURE_HEADER)))
			elif self.path == "/control":
				gateway.settings.update(json.loads(body or b"{}"))
				self._answer(200, gateway.settings)
			elif self.path == "/reset":
				gateway.reset()
				self._answer(200, {})
			else:
				self._answer(404, {})

		def do_GET(self):
			if self.path == "/stats":
				with gateway.lock:
					self._answer(200, {**gateway.stats, "pending_receipts": len(gateway.pending)})
			else:
				self._answer(404, {})

		def log_message(self, *args):
			pass

	server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
	server.daemon_threads = True
	return server, gateway


def main():
	parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
	parser.add_argument("--port", type=int, default=0, help="0: a free port (printed)")
	parser.add_argument("--latency-ms", type=float, default=0)
	parser.add_argument("--refuse-share", type=float, default=0.0)
	parser.add_argument("--max-rps", type=int, default=0)
	parser.add_argument("--signing-secret")
	parser.add_argument("--receipt-url")
	parser.add_argument("--receipt-secret")
	parser.add_argument("--receipt-delay-s", type=float, default=1.0)
	parser.add_argument("--receipt-batch", type=int, default=5000)
	parser.add_argument("--hold-receipts", action="store_true", help="post none until released by /control")
	parser.add_argument("--host-header", help="the Host header of the receipt calls (the site's name)")
	args = parser.parse_args()
	try:
		server, _gateway = make_server(
			args.port,
			latency_ms=args.latency_ms,
			refuse_share=args.refuse_share,
			max_rps=args.max_rps,
			signing_secret=args.signing_secret,
			receipt_url=args.receipt_url,
			receipt_secret=args.receipt_secret,
			receipt_delay_s=args.receipt_delay_s,
			receipt_batch=args.receipt_batch,
			hold_receipts=args.hold_receipts,
			host_header=args.host_header,
		)
	except OSError as e:  # the port is taken: say so at once
		print(f"cannot listen on 127.0.0.1:{args.port}: {e}", file=sys.stderr)
		return 2
	print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
	server.serve_forever()


if __name__ == "__main__":
	sys.exit(main())
