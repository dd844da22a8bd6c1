"""Keep uploaded photos short-lived.

Gradio writes every upload and every image it sends back into a cache folder. The dashboard points that
cache at a private folder made for this process (mode 0700, named after the process id), deletes each
upload as soon as it has been read, has Gradio sweep the images it sends back every 30 seconds, and
removes the folder however the process stops:

- a normal exit or Ctrl-C: an ``atexit`` handler;
- SIGTERM or SIGHUP (a service manager stopping the dashboard, a closed terminal): a signal handler that
  removes the folder, then exits;
- a hard kill (SIGKILL, a crash, a power cut) cannot run any handler, so every start first removes the
  cache folders of earlier dashboard processes that are no longer running (:func:`clear_stale_caches`).

Nothing else in the app writes image data to disk.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import signal
import tempfile
import threading
import time
from pathlib import Path

# Gradio's delete_cache: (how often to sweep, in seconds; delete files older than this, in seconds).
# Uploads are deleted as soon as they are read (forget_upload); the sweep removes the images sent back.
CACHE_SWEEP_SECONDS = 30
CACHE_MAX_AGE_SECONDS = 120

CACHE_PREFIX = "strokepain-cache-"
_OWNER = re.compile(rf"^{re.escape(CACHE_PREFIX)}(?P<pid>\d+)-")

_private_cache: Path | None = None


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # a process of another user holds that id
    return True


def clear_stale_caches(parent: Path | None = None) -> list[Path]:
    """Remove this app's cache folders in ``parent`` (default: the system temporary folder) whose owning
    process is no longer running; returns the folders removed. Folders of running dashboards are kept."""
    parent = Path(parent or tempfile.gettempdir())
    removed = []
    for folder in parent.glob(f"{CACHE_PREFIX}*"):
        match = _OWNER.match(folder.name)
        if match is None or not folder.is_dir() or folder.is_symlink():
            continue
        pid = int(match.group("pid"))
        if pid != os.getpid() and not _running(pid):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def remove_private_cache() -> None:
    """Delete this process's cache folder (if made) with everything in it."""
    if _private_cache is not None:
        shutil.rmtree(_private_cache, ignore_errors=True)


def _remove_and_exit(signum: int, _frame: object) -> None:
    remove_private_cache()
    raise SystemExit(128 + signum)


def remove_cache_on_signals() -> None:
    """Remove the cache folder when SIGTERM or SIGHUP stops the process (main thread only)."""
    for signum in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(signum) in (signal.SIG_DFL, None):
            signal.signal(signum, _remove_and_exit)


#: Seconds an upload's bytes stay in memory after its cached copy is deleted. Gradio stores uploads by
#: content hash, so two clients sending the same photo at the same moment share one cached file; the
#: second request finds the bytes here instead of a file the first one already deleted.
RECENT_UPLOAD_SECONDS = 20.0

_recent_uploads: dict[Path, tuple[float, bytes]] = {}
_recent_lock = threading.Lock()


def _in_private_cache(path: Path) -> Path | None:
    if _private_cache is None:
        return None
    try:
        target = Path(path).resolve()
        target.relative_to(_private_cache.resolve())
    except (OSError, ValueError):
        return None
    return target


def forget_upload(path: Path) -> bool:
    """Delete an upload's cached copy (and the folder Gradio made for it) as soon as it has been read.

    Only files inside this process's private cache are touched; anything else (a bundled example served
    from its own folder) is left alone. Returns True when something was deleted.
    """
    target = _in_private_cache(path)
    if target is None or not target.is_file():
        return False
    target.unlink(missing_ok=True)
    folder = target.parent
    if folder != _private_cache.resolve() and not any(folder.iterdir()):  # type: ignore[union-attr]
        folder.rmdir()
    return True


def read_upload(path: Path) -> bytes:
    """The bytes of an uploaded file, its cached copy deleted at once (see :func:`forget_upload`).

    The bytes are kept in memory for :data:`RECENT_UPLOAD_SECONDS` under the cached path, for a
    simultaneous request that uploaded the very same file. Raises OSError when there is no such file.
    """
    now = time.monotonic()
    target = _in_private_cache(path)
    with _recent_lock:
        for key in [k for k, (seen, _) in _recent_uploads.items() if now - seen > RECENT_UPLOAD_SECONDS]:
            del _recent_uploads[key]
        try:
            data = Path(path).read_bytes()
        except FileNotFoundError:
            if target is not None and target in _recent_uploads:
                return _recent_uploads[target][1]
            raise
        if target is not None:
            _recent_uploads[target] = (now, data)
            forget_upload(target)
    return data


def private_cache_dir() -> Path:
    """Create (once) a private temporary folder for Gradio's cache, after clearing the folders that
    stopped dashboards left behind, and register its removal at exit."""
    global _private_cache
    if _private_cache is None:
        clear_stale_caches()
        _private_cache = Path(tempfile.mkdtemp(prefix=f"{CACHE_PREFIX}{os.getpid()}-"))
        os.chmod(_private_cache, 0o700)
        os.environ["GRADIO_TEMP_DIR"] = str(_private_cache)
        atexit.register(remove_private_cache)
    return _private_cache
