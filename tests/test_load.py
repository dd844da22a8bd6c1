"""Load test of the live dashboard: several clients at once, no failures, bounded memory growth.

CI runs a small version; ``STROKEPAIN_FULL_LOAD=1`` runs the full one (8 clients x 25 requests), as
``python -m app.load`` does.
"""

from __future__ import annotations

import os

from app.load import run_load

FULL = os.environ.get("STROKEPAIN_FULL_LOAD") == "1"


def test_concurrent_clients_all_get_answers_and_memory_stays_bounded():
    clients, requests = (8, 25) if FULL else (3, 3)
    result = run_load(clients=clients, requests=requests, timeout=1500 if FULL else 300)
    print(result.table())
    assert result.failures == []
    assert len(result.latencies_s) == clients * requests
    assert result.queued_requests > 0  # more clients than the dashboard's concurrency: some waited
    assert result.memory_growth_mb < 200
