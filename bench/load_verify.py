"""Load test of POST /api/v1/verify: `microcred serve --workers 2` on loopback, a threaded keep-alive client.

Bounded in requests and time, loopback only.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PORT = 8767


def _wait_for(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the server did not start")


def _prepare(data_dir: Path) -> tuple[dict[str, str], bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MICROCRED_")}
    env |= {"MICROCRED_DATA_DIR": str(data_dir), "MICROCRED_PUBLIC_BASE_URL": f"http://127.0.0.1:{PORT}"}
    cli = [sys.executable, "-m", "microcred.cli.app"]
    subprocess.run([*cli, "init"], env=env, check=True, capture_output=True)
    subprocess.run(
        [*cli, "issuer", "create", "--name", "Load University", "--slug", "load", "--country", "NL"],
        env=env,
        check=True,
        capture_output=True,
    )
    definition = data_dir / "mc.json"
    sys.path.insert(0, str(ROOT / "bench"))
    from bulk import DEFINITION

    definition.write_text(json.dumps(DEFINITION))
    mc = subprocess.run(
        [*cli, "microcredential", "create", "--issuer", "load", "--from", str(definition)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    out = data_dir / "award.json"
    subprocess.run(
        [*cli, "award", "--microcredential", mc, "--email", "ada@example.org", "--out", str(out)],
        env=env,
        check=True,
        capture_output=True,
    )
    return env, out.read_bytes()


def _client(body: bytes, stop_at: float, max_requests: int, latencies: list[float], failures: list[str]) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
    for _ in range(max_requests):
        if time.perf_counter() > stop_at:
            break
        start = time.perf_counter()
        connection.request("POST", "/api/v1/verify", body=body, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        payload = response.read()
        latencies.append(time.perf_counter() - start)
        if response.status != 200 or not json.loads(payload)["verified"]:
            failures.append(payload[:200].decode(errors="replace"))
    connection.close()


def measure(seconds: float = 10.0, clients: int = 8, workers: int = 2) -> dict[str, Any]:
    data_dir = Path(tempfile.mkdtemp())
    env, body = _prepare(data_dir)
    server = subprocess.Popen(
        [sys.executable, "-m", "microcred.cli.app", "serve", "--port", str(PORT), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(PORT)
        warm: list[float] = []
        _client(body, time.perf_counter() + 2, 400, warm, [])
        latencies: list[float] = []
        failures: list[str] = []
        stop_at = time.perf_counter() + seconds
        threads = [
            threading.Thread(target=_client, args=(body, stop_at, 100_000, latencies, failures)) for _ in range(clients)
        ]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - start
    finally:
        server.terminate()
        server.wait(timeout=30)
    ordered = sorted(latencies)
    return {
        "requests": len(latencies), "seconds": elapsed, "rate": len(latencies) / elapsed, "failures": len(failures),
        "p50_ms": statistics.median(ordered) * 1000, "p99_ms": ordered[int(len(ordered) * 0.99) - 1] * 1000,
        "clients": clients, "workers": workers,
    }  # fmt: skip


if __name__ == "__main__":
    print(json.dumps(measure(), indent=2))
