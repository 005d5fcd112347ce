"""Schematic of a residual Forward-Forward block in FFConvClassifier (drawn for
the user guide).

Run by the ``.. plot::`` directive of matplotlib while the documentation is
built; nothing is trained here.
"""

import matplotlib.pyplot as plt
from _diagram import arrow, box

LAYER, LOCAL, SKIP, INPUT = "#dce8f7", "#fff2cc", "#f3e5f5", "#d9f2d9"
GRAD = "#b85450"


fig, ax = plt.subplots(figsize=(10, 5.8))
ax.set_xlim(0, 10)
ax.set_ylim(0.8, 8.3)
ax.axis("off")

main_x, loss_x, skip_x = 3.2, 7.9, 0.9
box(ax, main_x, 7.6, 3.4, 0.75, "$s_{b-1}$: what block $b-1$ passes on", INPUT, 9.5)
box(
    ax,
    main_x,
    5.9,
    3.4,
    1.1,
    "block $b$: conv ('same') $\\to$ ReLU\n$\\to$ pool (last block of a stage)"
    "\n$\\to$ normalization = $h_b$",
    LAYER,
    size=9.5,
)
box(
    ax,
    loss_x,
    5.9,
    3.0,
    1.1,
    "class goodness $g_{b,c}$ of $h_b$\n$L_b$ = cross-entropy\nAdam step on block "
    "$b$ only",
    LOCAL,
    size=9,
)
box(
    ax,
    skip_x,
    4.2,
    1.6,
    1.3,
    "shortcut\n(no parameters):\naverage-pool,\nzero channels",
    SKIP,
    size=8.5,
)
ax.add_patch(plt.Circle((main_x, 3.2), 0.28, fc="white", ec="0.3", lw=1.2))
ax.text(main_x, 3.2, "+", ha="center", va="center", fontsize=14)
box(
    ax,
    main_x,
    1.5,
    4.6,
    0.9,
    "$s_b = h_b + \\mathrm{shortcut}(s_{b-1})$\nto block $b+1$ and to the softmax head",
    INPUT,
    size=9.5,
)

arrow(ax, (main_x, 7.2), (main_x, 6.45))
ax.text(main_x + 0.1, 6.85, "detached", fontsize=8.5, color="0.3")
arrow(ax, (main_x + 1.7, 5.9), (loss_x - 1.5, 5.9))
arrow(ax, (loss_x, 5.35), (main_x + 0.9, 5.35), ls=(0, (3, 2)), color=GRAD, rad=-0.25)
ax.text(
    (loss_x + main_x) / 2 + 0.6,
    4.55,
    "gradient: this block only",
    ha="center",
    fontsize=8.5,
    color=GRAD,
)
arrow(ax, (main_x, 5.35), (main_x, 3.48))
arrow(ax, (main_x - 1.7, 7.6), (skip_x, 4.85), rad=0.25)
arrow(ax, (skip_x + 0.1, 3.55), (main_x - 0.28, 3.2), rad=0.2)
ax.text(
    skip_x - 0.55,
    2.6,
    "no gradient\nthrough the\nshortcut",
    fontsize=8,
    color="0.35",
    ha="left",
)
arrow(ax, (main_x, 2.92), (main_x, 1.95))
ax.set_title(
    'A residual block of FFConvClassifier (shortcut="add", pooling_schedule="stage")',
    fontsize=12,
)
fig.tight_layout()
