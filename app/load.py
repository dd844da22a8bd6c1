"""``python -m app.load``: a load test of the dashboard on 127.0.0.1.

Starts ``python -m app`` in its own process (so its memory can be read), warms it up, then lets
``--clients`` clients send ``--requests`` ``/assess`` calls each (Grad-CAM, the bundled example photos),
all at once, within ``--timeout`` seconds. It reports failures, latency, how many requests waited in
Gradio's queue and the longest queue seen (the queue at work: with concurrency 2, the other clients wait
their turn) and the server's resident memory before and after.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from app.examples import examples

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class LoadResult:
    requests: int
    failures: list[str]
    latencies_s: list[float]
    max_queue_rank: int
    queued_requests: int
    rss_before_mb: float
    rss_after_mb: float
    wall_s: float

    @property
    def memory_growth_mb(self) -> float:
        return self.rss_after_mb - self.rss_before_mb

    def table(self) -> str:
        lat = sorted(self.latencies_s) or [float("nan")]
        p95 = lat[min(len(lat) - 1, int(round(0.95 * (len(lat) - 1))))]
        rows = [("requests", f"{self.requests}"), ("failures", f"{len(self.failures)}"),
                ("wall time", f"{self.wall_s:.1f} s"),
                ("latency p50 / p95 / max", f"{statistics.median(lat):.2f} / {p95:.2f} / {lat[-1]:.2f} s"),
                ("requests that waited in the queue", f"{self.queued_requests}"),
                ("longest queue seen", f"{self.max_queue_rank} waiting"),
                ("server memory before / after", f"{self.rss_before_mb:.0f} / {self.rss_after_mb:.0f} MB"),
                ("server memory growth", f"{self.memory_growth_mb:+.0f} MB")]
        return "\n".join(f"{name:<36}{value}" for name, value in rows)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_mb(pid: int) -> float:
    """Resident memory of process ``pid`` in MB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    raise RuntimeError(f"No VmRSS for process {pid}")


def start_server(concurrency: int = 2, queue_size: int = 64,
                 timeout: float = 120.0) -> tuple[subprocess.Popen, str]:
    """``python -m app`` on a free port; returns once it answers."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "GRADIO_TEMP_DIR"}
    command = [sys.executable, "-m", "app", "--port", str(port), "--concurrency", str(concurrency),
               "--queue-size", str(queue_size)]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("The dashboard exited during start-up")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return process, url
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise RuntimeError(f"The dashboard did not answer within {timeout:.0f} s")


def _client_run(url: str, photos: list[Path], requests: int,
                deadline: float) -> tuple[list[float], list[str], int, int]:
    from gradio_client import Client, handle_file

    client = Client(url, verbose=False, download_files=False)
    latencies, failures, deepest, queued = [], [], 0, 0
    for i in range(requests):
        if time.monotonic() > deadline:
            failures.append("not sent: the time limit was reached")
            continue
        started = time.perf_counter()
        job = client.submit(handle_file(str(photos[i % len(photos)])), False, "Decide from the photo",
                            "Grad-CAM", 64, api_name="/assess")
        waited = False
        while not job.done():
            status = job.status()
            if status.rank is not None and status.queue_size:
                waited = True
                deepest = max(deepest, int(status.queue_size))
            if time.monotonic() > deadline:
                job.cancel()
                break
            time.sleep(0.05)
        queued += waited
        try:
            outputs = job.result(timeout=max(1.0, deadline - time.monotonic()))
        except Exception as err:  # noqa: BLE001 - every failure is counted and reported
            failures.append(f"{type(err).__name__}: {str(err)[:120]}")
            continue
        latencies.append(time.perf_counter() - started)
        if outputs[-1] is None:
            failures.append(f"refused a bundled example: {outputs[0][:120]}")
    return latencies, failures, deepest, queued


def run_load(clients: int = 8, requests: int = 25, timeout: float = 900.0,
             concurrency: int = 2) -> LoadResult:
    """Run the load test against a fresh dashboard process and stop it afterwards."""
    photos = [e.path for e in examples()]
    process, url = start_server(concurrency=concurrency, queue_size=max(64, 2 * clients))
    try:
        _client_run(url, photos, 2, time.monotonic() + 120)  # warm-up: models loaded, first pages served
        before = rss_mb(process.pid)
        started = time.monotonic()
        deadline = started + timeout
        with ThreadPoolExecutor(max_workers=clients) as pool:
            runs = list(pool.map(lambda _: _client_run(url, photos, requests, deadline),
                                 range(clients)))
        wall = time.monotonic() - started
        after = rss_mb(process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
    return LoadResult(requests=clients * requests, failures=[f for run in runs for f in run[1]],
                      latencies_s=[t for run in runs for t in run[0]],
                      max_queue_rank=max(run[2] for run in runs), queued_requests=sum(run[3] for run in runs),
                      rss_before_mb=before, rss_after_mb=after, wall_s=wall)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.load", description=__doc__)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=25, help="requests per client")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds for the whole run")
    parser.add_argument("--concurrency", type=int, default=2, help="the dashboard's --concurrency")
    args = parser.parse_args(argv)
    result = run_load(args.clients, args.requests, args.timeout, args.concurrency)
    print(f"load test: {args.clients} clients x {args.requests} requests of /assess with Grad-CAM, "
          f"dashboard concurrency {args.concurrency}")
    print(result.table())
    for failure in result.failures[:10]:
        print("failure:", failure)
    return 0 if not result.failures else 1


if __name__ == "__main__":
    raise SystemExit(main())
