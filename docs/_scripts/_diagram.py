"""Drawing helpers shared by the user guide's schematic diagrams (imported by
the scripts beside this file, which the ``.. plot::`` directive runs)."""

from matplotlib.patches import FancyArrowPatch, FancyBboxPatch


def box(ax, x, y, w, h, text, color, size=10):
    """A rounded box of width ``w`` and height ``h`` centred on ``(x, y)``,
    with ``text`` in it."""
    ax.add_patch(
        FancyBboxPatch(
            (x - w / 2, y - h / 2),
            w,
            h,
            boxstyle="round,pad=0.02,rounding_size=0.08",
            fc=color,
            ec="0.3",
            lw=1.2,
        )
    )
    ax.text(x, y, text, ha="center", va="center", fontsize=size)


def arrow(
    ax, start, end, style="-|>", ls="-", color="0.2", text=None, dx=0.12, rad=0.0
):
    """An arrow from ``start`` to ``end`` (bent by ``rad``), with ``text``
    beside its middle."""
    ax.add_patch(
        FancyArrowPatch(
            start,
            end,
            arrowstyle=style,
            connectionstyle=f"arc3,rad={rad}",
            mutation_scale=14,
            lw=1.4,
            ls=ls,
            color=color,
        )
    )
    if text:
        mx, my = (start[0] + end[0]) / 2, (start[1] + end[1]) / 2
        ax.text(mx + dx, my, text, ha="left", va="center", fontsize=9, color=color)
