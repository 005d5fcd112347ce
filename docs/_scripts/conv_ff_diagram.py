"""Schematic of channel-wise competitive training in FFConvClassifier (drawn for
the user guide).

Run by the ``.. plot::`` directive of matplotlib while the documentation is
built; nothing is trained here.
"""

import matplotlib.pyplot as plt
from _diagram import arrow, box
from matplotlib.patches import Rectangle

LAYER, LOCAL, READ, INPUT = "#dce8f7", "#fff2cc", "#eeeeee", "#d9f2d9"
GROUPS = plt.get_cmap("tab10").colors  # one colour per class (K = 10 here)
K = 10


def channel_groups(ax, x, y, w, h, label):
    """The block's output channels as K coloured groups."""
    cw = w / K
    for c in range(K):
        ax.add_patch(
            Rectangle(
                (x - w / 2 + c * cw, y - h / 2),
                cw,
                h,
                fc=GROUPS[c],
                ec="white",
                lw=1.0,
                alpha=0.75,
            )
        )
        ax.text(
            x - w / 2 + (c + 0.5) * cw,
            y,
            str(c),
            ha="center",
            va="center",
            fontsize=8,
            color="white",
        )
    ax.text(x, y + h / 2 + 0.12, label, ha="center", va="bottom", fontsize=9)


fig, ax = plt.subplots(figsize=(10, 7.8))
ax.set_xlim(0, 10)
ax.set_ylim(0.4, 10)
ax.axis("off")

box(
    ax,
    2.1,
    9.35,
    3.6,
    0.8,
    "a row of $X$, reshaped to input_shape\n$(C, H, W)$ or $(C, L)$; no label",
    INPUT,
)

block_x, group_x, loss_x = 2.1, 5.35, 8.55
ys = [7.45, 4.45]
for b, y in enumerate(ys):
    box(
        ax,
        block_x,
        y,
        2.8,
        1.0,
        f"block {b}\nconv ('same') $\\to$ ReLU $\\to$ pool\n$h_{b}$: $C_{b}$ channels",
        LAYER,
        size=9.5,
    )
    channel_groups(
        ax,
        group_x,
        y + 0.25,
        2.9,
        0.42,
        f"$h_{b} / \\mathrm{{rms}}(h_{b})$, channels split into $K$ groups",
    )
    ax.text(
        group_x,
        y - 0.28,
        f"$g_{{{b},c}}$ = mean of squares over group $c$\nand over all positions",
        ha="center",
        va="top",
        fontsize=9,
    )
    box(
        ax,
        loss_x,
        y,
        2.2,
        1.1,
        f"$L_{b} = -\\log\\,\\mathrm{{softmax}}(s\\, g_{b})_y$\n"
        f"Adam step on block {b}\nonly",
        LOCAL,
        size=9,
    )
    arrow(ax, (block_x + 1.4, y), (group_x - 1.5, y))
    arrow(ax, (group_x + 1.5, y), (loss_x - 1.1, y))
    arrow(
        ax,
        (loss_x, y - 0.55),
        (block_x + 0.6, y - 0.5),
        ls=(0, (3, 2)),
        color="#b85450",
        rad=-0.12,
    )
    ax.text(
        (loss_x + block_x) / 2 + 0.3,
        y - 1.3,
        "gradient (this block only)",
        ha="center",
        va="top",
        fontsize=8.5,
        color="#b85450",
    )

arrow(ax, (block_x, 8.95), (block_x, ys[0] + 0.5), color="#2e7d32")
arrow(
    ax,
    (block_x, ys[0] - 0.5),
    (block_x, ys[1] + 0.5),
    text="$h_0 / \\mathrm{rms}(h_0)$, detached",
    dx=0.15,
)
ax.plot([block_x - 0.25, block_x + 0.25], [5.85, 5.85], color="#b85450", lw=2.5)
arrow(
    ax,
    (block_x, ys[1] - 0.5),
    (block_x, 2.85),
    text="to the next block (if any)",
    dx=0.15,
)

box(
    ax,
    5.0,
    1.65,
    9.4,
    1.6,
    "prediction, one pass and no label in the input: "
    "$p(c \\mid x) = \\mathrm{softmax}_c(s \\sum_b g_{b,c}(x))$ "
    '(readout="goodness")\n'
    'readout="softmax": a linear head on the detached, average-pooled, '
    "normalized block outputs\n"
    'readout="both": their normalized geometric mean;   '
    "block_scores(X): every $g_{b,c}$",
    READ,
    size=9.5,
)
ax.set_title(
    'One training step of FFConvClassifier, label_mode="channelwise" '
    "($K$ classes, $s$ = symba_scale)",
    fontsize=12,
)
fig.tight_layout()
