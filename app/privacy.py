"""Keep uploaded photos short-lived.

Gradio writes every upload and every image it sends back into a cache folder. The dashboard points that
cache at a private folder made for this process (mode 0700), has Gradio sweep it often, and removes it
when the process exits. Nothing else in the app writes image data to disk.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

# Gradio's delete_cache: (how often to sweep, in seconds; delete files older than this, in seconds).
CACHE_SWEEP_SECONDS = 60
CACHE_MAX_AGE_SECONDS = 300

_private_cache: Path | None = None


def private_cache_dir() -> Path:
    """Create (once) a private temporary folder for Gradio's cache and register its removal at exit."""
    global _private_cache
    if _private_cache is None:
        _private_cache = Path(tempfile.mkdtemp(prefix="strokepain-cache-"))
        os.chmod(_private_cache, 0o700)
        os.environ["GRADIO_TEMP_DIR"] = str(_private_cache)
        atexit.register(shutil.rmtree, _private_cache, ignore_errors=True)
    return _private_cache
