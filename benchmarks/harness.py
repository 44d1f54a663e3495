"""The servers the benchmarks and drills start, each on 127.0.0.1 and checked to be ours.

Every server takes a free port, or the port it is given, and a given port that is already taken
stops the script at once. Before anything is measured the harness asks the server for the token
it put in that server's environment and for the site it answers for
(``bank_crm.tests.harness_wsgi``): another program listening there, or a server of another
bench, is never measured in our place.

Run from the bench's ``sites`` folder with the bench's Python, like every benchmark here.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ENV_BIN = Path(sys.executable).parent


def free_port() -> int:
	with socket.socket() as s:
		s.bind(("127.0.0.1", 0))
		return s.getsockname()[1]


def claim_port(port: int | None) -> int:
	"""``port``, or a free one when it is None or 0; a taken port ends the script with the reason."""
	if not port:
		return free_port()
	with socket.socket() as s:
		try:
			s.bind(("127.0.0.1", port))
		except OSError as e:
			raise SystemExit(
				f"port {port} of 127.0.0.1 is taken by another program ({e}); free it or pass another"
			) from None
	return port


def identify(url: str, token: str, site: str, timeout: float = 2) -> dict:
	"""What answers at ``url``; raises unless it is the server started with ``token`` for ``site``."""
	with urllib.request.urlopen(
		urllib.request.Request(url + "/__harness__", headers={"Host": site}), timeout=timeout
	) as r:
		answer = json.loads(r.read())
	if answer.get("token") != token:
		raise RuntimeError(f"{url} is answered by another server, not the one this script started")
	if answer.get("site") != site or not answer.get("site_here"):
		raise RuntimeError(f"{url} does not serve the site {site}: {answer}")
	return answer


class Web:
	"""gunicorn (``workers`` sync workers) for one site, as production runs Frappe."""

	def __init__(
		self,
		site: str,
		workers: int = 2,
		port: int | None = None,
		timeout: int = 120,
		log=None,
		preload=False,
	):
		self.site = site
		self.port = claim_port(port)
		self.url = f"http://127.0.0.1:{self.port}"
		self.token = secrets.token_hex(16)
		env = {**os.environ, "BANK_CRM_HARNESS_TOKEN": self.token}
		self.process = subprocess.Popen(
			[
				str(ENV_BIN / "gunicorn"),
				"-b",
				f"127.0.0.1:{self.port}",
				"-w",
				str(workers),
				"-t",
				str(timeout),
				"--graceful-timeout",
				"5",
				*(["--preload"] if preload else []),
				"bank_crm.tests.harness_wsgi:application",
			],
			stdout=log or subprocess.DEVNULL,
			stderr=log or subprocess.DEVNULL,
			env=env,
		)
		self.wait()

	def wait(self, seconds: float = 60):
		deadline = time.monotonic() + seconds
		while True:
			if self.process.poll() is not None:
				raise SystemExit(f"gunicorn on port {self.port} stopped (exit {self.process.returncode})")
			try:
				return identify(self.url, self.token, self.site)
			except RuntimeError:
				self.stop()
				raise
			except OSError:
				if time.monotonic() > deadline:
					self.stop()
					raise SystemExit(
						f"gunicorn on port {self.port} did not answer in {seconds:.0f} s"
					) from None
				time.sleep(0.5)

	def worker_pids(self) -> list[int]:
		"""The gunicorn workers (children of the master)."""
		path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
		return [int(p) for p in path.read_text().split()] if path.exists() else []

	def stop(self):
		if self.process.poll() is None:
			self.process.terminate()
			try:
				self.process.wait(timeout=30)
			except subprocess.TimeoutExpired:
				self.process.kill()


def start_workers(queues: str = "short,default,long", count: int = 1, log=None) -> list[subprocess.Popen]:
	"""``count`` RQ workers of the bench (``bench worker``), each listening on ``queues``."""
	return [
		subprocess.Popen(
			[
				str(ENV_BIN / "python"),
				"-m",
				"frappe.utils.bench_helper",
				"frappe",
				"worker",
				"--queue",
				queues,
			],
			stdout=log or subprocess.DEVNULL,
			stderr=log or subprocess.DEVNULL,
		)
		for _ in range(count)
	]


def stop_all(processes):
	for p in processes:
		if p.poll() is None:
			p.terminate()
	for p in processes:
		try:
			p.wait(timeout=60)
		except subprocess.TimeoutExpired:
			p.kill()
