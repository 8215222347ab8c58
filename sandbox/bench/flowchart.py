"""What a flowchart costs: every SOP drawn cold (layout, SVG, PNG) and again from the cache.

`python -m sandbox.bench.flowchart` prints measured numbers only.
"""

from __future__ import annotations

import statistics
import time

from bot.sop.catalog import load_catalog
from bot.text.flowchart import FlowchartCache, layout, png, svg


def main() -> None:
    catalog = load_catalog()
    parts: dict[str, list[float]] = {"layout": [], "svg": [], "png": [], "cold": [], "cached": []}
    for sop in catalog:
        t0 = time.perf_counter()
        chart = layout(sop, catalog.roles)
        t1 = time.perf_counter()
        text = svg(chart, sop.name)
        t2 = time.perf_counter()
        png(text, chart.width, chart.height)
        t3 = time.perf_counter()
        parts["layout"].append((t1 - t0) * 1000)
        parts["svg"].append((t2 - t1) * 1000)
        parts["png"].append((t3 - t2) * 1000)
    cache = FlowchartCache(catalog.roles)
    for sop in catalog:
        t0 = time.perf_counter()
        cache.get(sop)
        parts["cold"].append((time.perf_counter() - t0) * 1000)
    for sop in catalog:
        t0 = time.perf_counter()
        cache.get(sop)
        parts["cached"].append((time.perf_counter() - t0) * 1000)
    print(f"{len(catalog)} SOP, PNG 2× (sisi terpanjang ≤ 2560 px)")
    for name, values in parts.items():
        print(f"  {name:<7} median {statistics.median(values):8.2f} ms   max {max(values):8.2f} ms")


if __name__ == "__main__":
    main()
