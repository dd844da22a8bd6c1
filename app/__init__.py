"""The Gradio dashboard.

Importing this package, before Gradio itself is imported, switches off everything in Gradio and the
Hugging Face client that could reach the network (analytics, hub look-ups) and points Gradio's cache at a
private, short-lived folder (see :mod:`app.privacy`).
"""

import os

from app.privacy import private_cache_dir

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

if "GRADIO_TEMP_DIR" not in os.environ:
    private_cache_dir()
