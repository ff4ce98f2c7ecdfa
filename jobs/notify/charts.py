"""The one chart helper of Écoute's emails and report: matplotlib (Agg, no display), one house style.

    fig, ax = new_figure(height=3.2)
    ...draw...
    uri = svg_data_uri(fig)        # for the self-contained HTML report
    png = png_bytes(fig)           # for emails (inline CID images)
"""

from __future__ import annotations

import base64
import io
from typing import Any

STYLE = {"svg.fonttype": "none", "font.size": 9, "axes.spines.top": False, "axes.spines.right": False}


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
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    pyplot().close(fig)
    return buffer.getvalue()
