"""Pictures sent in chat: the overdue-steps bar chart of the digest.

matplotlib costs the process that imports it 100+ MB, so the bot never imports it: charts are
drawn in a short-lived worker process (started on the first chart, stopped after ``IDLE_SECONDS``
without one), and each PNG is cached by its content (many supervisors share a picture).
"""

from __future__ import annotations

import atexit
import hashlib
import json
import multiprocessing
import threading
from collections import OrderedDict
from concurrent.futures import ProcessPoolExecutor

IDLE_SECONDS = 20.0
CACHE_SIZE = 64
RENDER_TIMEOUT = 120.0

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None
_idle_timer: threading.Timer | None = None
_cache: OrderedDict[str, bytes] = OrderedDict()
stats = {"rendered": 0, "cached": 0, "workers_started": 0}


def overdue_chart(overdue_by_unit: dict[str, int], day: str) -> bytes | None:
    """A small bar chart of overdue steps per unit (PNG), when there is anything overdue.

    Blocking (it waits for the worker): call it from a thread, not on the event loop.
    """
    if not overdue_by_unit:
        return None
    key = hashlib.sha256(json.dumps([sorted(overdue_by_unit.items()), day], ensure_ascii=False).encode()).hexdigest()
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            stats["cached"] += 1
            return _cache[key]
        pool = _worker()
    png = pool.submit(draw_overdue_chart, dict(overdue_by_unit), day).result(timeout=RENDER_TIMEOUT)
    with _lock:
        _cache[key] = png
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
        stats["rendered"] += 1
        _arm_idle_timer()
    return png


def _worker() -> ProcessPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        stats["workers_started"] += 1
    return _pool


def _arm_idle_timer() -> None:
    global _idle_timer
    if _idle_timer is not None:
        _idle_timer.cancel()
    _idle_timer = threading.Timer(IDLE_SECONDS, shutdown_worker)
    _idle_timer.daemon = True
    _idle_timer.start()


def shutdown_worker() -> None:
    """Stop the chart worker (idle, or the bot stopping); the next chart starts a new one."""
    global _pool, _idle_timer
    with _lock:
        pool, _pool = _pool, None
        if _idle_timer is not None:
            _idle_timer.cancel()
            _idle_timer = None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


atexit.register(shutdown_worker)


def draw_overdue_chart(overdue_by_unit: dict[str, int], day: str) -> bytes:
    """Runs in the worker process: the only place matplotlib is imported."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    units = sorted(overdue_by_unit, key=lambda u: -overdue_by_unit[u])[:8]
    counts = [overdue_by_unit[u] for u in units]
    labels = [u if len(u) <= 38 else u[:36] + "…" for u in units]
    fig, ax = plt.subplots(figsize=(6, 0.5 + 0.45 * len(units)), dpi=100)
    ax.barh(labels[::-1], counts[::-1], color="#c0392b")
    ax.set_xlabel("Langkah terlambat")
    ax.set_title(f"Langkah terlambat per unit — {day}", fontsize=10)
    for i, c in enumerate(counts[::-1]):
        ax.text(c, i, f" {c}", va="center", fontsize=9)
    ax.xaxis.get_major_locator().set_params(integer=True)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()
