"""``python -m app.bench``: the dashboard's client round trip, as a script using it would see it.

Serves the dashboard on 127.0.0.1 in this process, then times ``gradio_client`` calls of the ``/assess``
endpoint (upload, face stage, both models, explanations of both stages, everything sent back) with
Grad-CAM and with LIME, on the bundled synthetic examples and the astronaut portrait, and of the
``/counterfactual`` endpoint (the photo last assessed, edited in memory and assessed again). ``--clients N``
runs N clients at once (each with its own session) to show queueing. Prints median, p95, min and max.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import app  # noqa: F401  (offline environment before Gradio is imported)
from app.examples import examples
from app.launch import LaunchOptions, launch


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def round_trips(url: str, photos: list[Path], method: str, repeats: int, clients: int = 1,
                samples: int = 128) -> list[float]:
    """Seconds per ``/assess`` call: ``clients`` clients each calling ``repeats`` times over ``photos``."""
    from gradio_client import Client, handle_file

    def one_client(_: int) -> list[float]:
        client = Client(url, verbose=False)
        times = []
        for i in range(repeats):
            started = time.perf_counter()
            out = client.predict(handle_file(str(photos[i % len(photos)])), False, "Decide from the photo",
                                 method, samples, api_name="/assess")
            times.append(time.perf_counter() - started)
            if out[-1] is None:
                raise RuntimeError(f"The dashboard refused a bundled example: {out[0]}")
        return times

    with ThreadPoolExecutor(max_workers=clients) as pool:
        return [t for times in pool.map(one_client, range(clients)) for t in times]


COUNTERFACTUALS = (("AU4 brow lowering", "Both sides"), ("AU6/7 lid narrowing", "Patient's left"),
                   ("AU9/10 upper-lip raise", "Patient's right"), ("AU43 eye closure", "Both sides"))


def counterfactual_trips(url: str, photos: list[Path], repeats: int) -> list[float]:
    """Seconds per ``/counterfactual`` call (one client; each photo assessed once, without timing)."""
    from gradio_client import Client, handle_file

    client = Client(url, verbose=False)
    times = []
    for i in range(repeats):
        if i % len(COUNTERFACTUALS) == 0:
            photo = photos[(i // len(COUNTERFACTUALS)) % len(photos)]
            client.predict(handle_file(str(photo)), False, "Decide from the photo", "none", 32,
                           api_name="/assess")
        group, sides = COUNTERFACTUALS[i % len(COUNTERFACTUALS)]
        started = time.perf_counter()
        text, _, data = client.predict(group, sides, 0.6, api_name="/counterfactual")
        times.append(time.perf_counter() - started)
        if data is None:
            raise RuntimeError(f"The dashboard refused a counterfactual: {text}")
    return times


def _row(label: str, times: list[float]) -> None:
    print(f"{label:<22}{statistics.median(times):>10.3f}{_percentile(times, 0.95):>8.3f}"
          f"{min(times):>8.3f}{max(times):>8.3f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.bench", description=__doc__)
    parser.add_argument("--repeats", type=int, default=12, help="calls per client and method")
    parser.add_argument("--clients", type=int, default=1, help="clients calling at the same time")
    parser.add_argument("--concurrency", type=int, default=2, help="the dashboard's --concurrency")
    parser.add_argument("--lime-samples", type=int, default=128)
    parser.add_argument("--methods", default="Grad-CAM,LIME", help="comma-separated: Grad-CAM, LIME")
    parser.add_argument("--json", type=Path, help="also write every round trip (seconds) to this file")
    args = parser.parse_args(argv)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    photos = [e.path for e in examples()]
    port = _free_port()
    options = LaunchOptions(port=port, concurrency=args.concurrency, queue_size=max(32, 4 * args.clients))
    demo = launch(options, block=False)
    url = f"http://127.0.0.1:{port}/"
    try:
        round_trips(url, photos[:1], "Grad-CAM", 2)  # warm-up: models loaded, first requests served
        print(f"client round trip of /assess, {args.clients} client(s) x {args.repeats} calls, "
              f"{len(photos)} photos, dashboard concurrency {args.concurrency}")
        print(f"{'explanations':<22}{'median s':>10}{'p95 s':>8}{'min s':>8}{'max s':>8}")
        measured = {}
        for method in methods:
            times = measured[method] = round_trips(url, photos, method, args.repeats, args.clients,
                                                   args.lime_samples)
            label = method if method == "Grad-CAM" else f"LIME ({args.lime_samples} samples)"
            _row(label, times)
        times = measured["counterfactual"] = counterfactual_trips(url, photos, args.repeats)
        _row("counterfactual", times)
    finally:
        demo.close()
    if args.json:
        args.json.write_text(json.dumps(measured))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
