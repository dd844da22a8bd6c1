"""Launch options of the dashboard and the launch itself.

``python -m app`` serves on http://127.0.0.1:7860 by default. A share link needs Gradio's tunnel binary;
this app never downloads it, so without a local copy ``--share`` says so and keeps serving locally.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860


@dataclass(frozen=True)
class LaunchOptions:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    share: bool = False
    auth: tuple[str, str] | None = None
    max_upload_mb: float = 15.0
    concurrency: int = 2
    queue_size: int = 32


def parse_auth(text: str | None) -> tuple[str, str] | None:
    """``"user:password"`` -> ("user", "password"); None or "" -> None; anything else is an error."""
    if not text:
        return None
    user, sep, password = text.partition(":")
    if not sep or not user or not password:
        raise ValueError("Login must be given as USER:PASSWORD (or set STROKEPAIN_AUTH).")
    return user, password


def parse_args(argv: list[str] | None = None) -> LaunchOptions:
    parser = argparse.ArgumentParser(prog="python -m app", description=__doc__)
    parser.add_argument("--host", default=DEFAULT_HOST, help="interface to listen on (default %(default)s)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port (default %(default)s)")
    parser.add_argument("--share", action="store_true", help="ask Gradio for a public share link")
    parser.add_argument("--auth", default=os.environ.get("STROKEPAIN_AUTH"),
                        help="require a login, USER:PASSWORD (default: $STROKEPAIN_AUTH, else none)")
    parser.add_argument("--max-upload-mb", type=float, default=15.0, help="largest upload accepted")
    parser.add_argument("--concurrency", type=int, default=2, help="assessments run at the same time")
    parser.add_argument("--queue-size", type=int, default=32,
                        help="requests waiting before new ones are refused")
    args = parser.parse_args(argv)
    try:
        auth = parse_auth(args.auth)
    except ValueError as err:
        parser.error(str(err))
    return LaunchOptions(args.host, args.port, args.share, auth, args.max_upload_mb, args.concurrency,
                         args.queue_size)


def share_binary_path() -> Path:
    """Where Gradio looks for its tunnel binary (never downloaded by this app)."""
    from gradio import tunneling

    return Path(tunneling.BINARY_PATH)


def share_available() -> tuple[bool, str]:
    """Whether a share link can be attempted, and a message for the console when it cannot."""
    path = share_binary_path()
    if path.exists():
        return True, ""
    return False, (
        f"A share link needs Gradio's tunnel program at {path}. It is not installed and this app does "
        "not download anything at run time, so the dashboard is served locally only. Copy the file "
        "there (or serve behind your own reverse proxy) to share it."
    )


#: glibc malloc arenas for the server process. Gradio runs handlers in a pool of threads and glibc gives
#: threads their own arenas, which kept freed memory: 200 requests from 8 clients grew the server by
#: 239 MB with the default and 163 MB with two arenas (``python -m app.load``).
MALLOC_ARENAS = 2


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Cap glibc's malloc arenas (``mallopt(M_ARENA_MAX)``); False where there is no glibc."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if not name or not sys.platform.startswith("linux"):
        return False
    try:
        return bool(ctypes.CDLL(name).mallopt(-8, arenas))  # -8 is M_ARENA_MAX
    except (OSError, AttributeError):
        return False


def launch(options: LaunchOptions, *, block: bool = True):
    """Build and launch the dashboard; returns the Blocks (already serving when ``block`` is False)."""
    from app.ui import build_demo

    limit_malloc_arenas()
    share = options.share
    if share:
        share, why_not = share_available()
        if not share:
            print(why_not, flush=True)
    demo = build_demo()
    demo.queue(default_concurrency_limit=options.concurrency, max_size=options.queue_size)
    demo.launch(
        server_name=options.host,
        server_port=options.port,
        share=share,
        auth=options.auth,
        max_file_size=int(options.max_upload_mb * 1024 * 1024),
        show_error=False,
        footer_links=["api"],
        prevent_thread_lock=not block,
        quiet=not block,
    )
    return demo
