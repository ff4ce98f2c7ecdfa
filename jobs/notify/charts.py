"""The one chart helper of Écoute's emails and report: matplotlib (Agg, no display), one house style.

fig, ax = new_figure(height=3.2)
...draw...
uri = svg_data_uri(fig)        # for the self-contained HTML report
png = png_bytes(fig)           # for emails (inline CID images)
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

STYLE: dict[RcKeyType, Any] = {
    "svg.fonttype": "none",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend with the house style."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update(STYLE)
    return plt


def new_figure(height: float = 3.2, width: float = 10, ncols: int = 1) -> tuple[Any, Any]:
    return pyplot().subplots(1, ncols, figsize=(width, height))


def no_data(ax: Any, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="#777")
    ax.set_xticks([])
    ax.set_yticks([])


def svg_data_uri(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight")
    pyplot().close(fig)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def png_bytes(fig: Any, dpi: int = 110) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    pyplot().close(fig)
    return buffer.getvalue()


def chart_png(
    times: Sequence[datetime],
    observed: Sequence[float],
    usual: Sequence[float] | None,
    *,
    title: str,
    observed_label: str,
    usual_label: str,
    highlight_from: datetime | None = None,
) -> bytes:
    """The alert and digest emails' chart: bars of what was seen, the usual level as a step line."""
    import matplotlib.dates as mdates

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 2.4), dpi=100)
    width = (times[1] - times[0]).total_seconds() / 86400 * 0.9 if len(times) > 1 else 0.03
    colours = ["#c0392b" if highlight_from and t >= highlight_from else "#e08e79" for t in times]
    ax.bar(times, observed, width=width, color=colours, label=observed_label, align="edge")
    if usual is not None:
        ax.step(times, usual, where="post", color="#2c3e50", linewidth=1.6, label=usual_label)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="upper left", frameon=False)
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%d/%m %Hh"))
    ax.tick_params(labelsize=7)
    fig.tight_layout()
    return png_bytes(fig, dpi=100)
