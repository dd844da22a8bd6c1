"""The dashboard's upload cache does not outlive the process, however it stops."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from app.privacy import CACHE_PREFIX, clear_stale_caches

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_dashboard(tmp: Path) -> tuple[subprocess.Popen, Path]:
    """``python -m app`` with its temporary folder in ``tmp``; returns once it answers, with its cache."""
    env = {k: v for k, v in os.environ.items() if k != "GRADIO_TEMP_DIR"}
    env["TMPDIR"] = str(tmp)
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "app", "--port", str(port)], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            time.sleep(0.5)
        if process.poll() is not None:
            pytest.fail("the dashboard exited during start-up")
    else:
        process.kill()
        pytest.fail("the dashboard did not answer within 90 s")
    caches = list(tmp.glob(f"{CACHE_PREFIX}{process.pid}-*"))
    assert len(caches) == 1, caches
    return process, caches[0]


def test_sigterm_removes_the_cache_with_the_uploads_in_it(tmp_path):
    process, cache = _start_dashboard(tmp_path)
    upload = cache / "upload" / "photo.png"
    upload.parent.mkdir()
    upload.write_bytes(b"pretend photo")
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 128 + signal.SIGTERM
    assert not cache.exists()


def test_a_hard_kill_leaves_nothing_after_the_next_start(tmp_path):
    process, cache = _start_dashboard(tmp_path)
    (cache / "photo.png").write_bytes(b"pretend photo")
    process.kill()
    process.wait(timeout=30)
    assert cache.exists()  # nothing can run on SIGKILL ...
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        other = tmp_path / f"{CACHE_PREFIX}{alive.pid}-running"
        other.mkdir()
        unrelated = tmp_path / "strokepain-notes"
        unrelated.mkdir()
        # ... so the next start clears the folders of dashboards that are gone, and only those
        assert clear_stale_caches(tmp_path) == [cache]
        assert not cache.exists() and other.exists() and unrelated.exists()
    finally:
        alive.kill()
        alive.wait()
