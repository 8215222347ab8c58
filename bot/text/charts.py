"""Pictures sent in chat: the overdue-steps bar chart of the digest."""

from __future__ import annotations


def overdue_chart(overdue_by_unit: dict[str, int], day: str) -> bytes | None:
    """A small bar chart of overdue steps per unit (PNG), when there is anything overdue."""
    if not overdue_by_unit:
        return None
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
