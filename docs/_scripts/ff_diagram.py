"""Schematic of one Forward-Forward training step and of the three readouts
(drawn for the user guide).

Run by the ``.. plot::`` directive of matplotlib while the documentation is
built; nothing is trained here.
"""

import matplotlib.pyplot as plt
from _diagram import arrow, box

POS, NEG, LAYER, LOCAL, READ = "#d9f2d9", "#f9d6d5", "#dce8f7", "#fff2cc", "#eeeeee"


fig, ax = plt.subplots(figsize=(10, 9.4))
ax.set_xlim(0, 10)
ax.set_ylim(-1.5, 10)
ax.axis("off")

# inputs
box(
    ax,
    1.9,
    9.3,
    3.2,
    0.9,
    "positive: $[\\,x,\\ \\mathrm{onehot}(c)\\,]$\ntrue label $c$",
    POS,
)
box(
    ax,
    5.6,
    9.3,
    3.6,
    0.9,
    "negative: $[\\,x,\\ \\mathrm{onehot}(c')\\,]$\nwrong label $c' \\neq c$",
    NEG,
)

# layers are numbered from 0, as in loss_curve_ and the progress bar
layer_x, good_x, loss_x = 3.3, 6.3, 8.75
ys = [7.4, 4.6]
for i, y in enumerate(ys):
    box(
        ax,
        layer_x,
        y,
        3.4,
        1.0,
        f"layer {i}\n$h_{i} = \\mathrm{{ReLU}}(W_{i}\\, a_{i} + b_{i})$"
        + ("\n($a_0$: the input row)" if i == 0 else ""),
        LAYER,
    )
    box(
        ax,
        good_x,
        y,
        1.9,
        1.0,
        f"goodness\n$g_{i} = \\frac{{1}}{{d}}\\sum_j h_{{{i}j}}^2$",
        LOCAL,
    )
    box(
        ax,
        loss_x,
        y,
        2.3,
        1.0,
        f"local loss $L_{i}(g_{i}^+, g_{i}^-)$\nAdam step on\n$W_{i}, b_{i}$ only",
        LOCAL,
        size=9,
    )
    arrow(ax, (layer_x + 1.7, y), (good_x - 0.95, y))
    arrow(ax, (good_x + 0.95, y), (loss_x - 1.15, y))
    # the gradient stays inside the layer
    arrow(
        ax,
        (loss_x, y - 0.5),
        (layer_x + 0.6, y - 0.5 - 0.001),
        style="-|>",
        ls=(0, (3, 2)),
        color="#b85450",
    )
    ax.text(
        (loss_x + layer_x) / 2 + 0.3,
        y - 0.68,
        "gradient (this layer only)",
        ha="center",
        va="top",
        fontsize=8.5,
        color="#b85450",
    )

arrow(ax, (1.9, 8.85), (layer_x - 0.8, ys[0] + 0.5), color="#2e7d32")
arrow(ax, (5.6, 8.85), (layer_x + 0.8, ys[0] + 0.5), color="#c62828")

# normalization and detach between the layers
arrow(
    ax,
    (layer_x, ys[0] - 0.5),
    (layer_x, ys[1] + 0.5),
    text="$a_1 = h_0 / \\mathrm{rms}(h_0)$, detached:\n"
    "only the direction passes on,\nno gradient flows back",
    dx=0.45,
)
ax.plot([layer_x - 0.25, layer_x + 0.25], [6.0, 6.0], color="#b85450", lw=2.5)
arrow(
    ax,
    (layer_x, ys[1] - 0.5),
    (layer_x, 3.25),
    text="$h_1 / \\mathrm{rms}(h_1)$ to the next layer (if any)",
    dx=0.4,
)

# prediction: the three readouts
ax.text(
    5.0,
    2.95,
    "prediction: predict_proba by readout",
    ha="center",
    va="center",
    fontsize=10.5,
    fontweight="bold",
)
read_y, both_y = 1.75, -0.55
box(
    ax,
    2.55,
    read_y,
    4.7,
    1.6,
    'readout="goodness"\n'
    "for every label $k$, run $[\\,x,\\ \\mathrm{onehot}(k)\\,]$:\n"
    "$s_k(x) = \\beta \\sum_{\\ell} g_\\ell(x, k)$  ($\\beta$: symba_scale)\n"
    "$p_{\\mathrm{good}}(k \\mid x) = \\mathrm{softmax}_k(s_k(x))$",
    READ,
    size=9.5,
)
box(
    ax,
    7.45,
    read_y,
    4.7,
    1.6,
    'readout="softmax"\n'
    "one pass with the neutral label\n"
    "(label_strength / $K$ in every slot); a linear head\n"
    "on the normalized activities: $p_{\\mathrm{soft}}(k \\mid x)$",
    READ,
    size=9.5,
)
box(
    ax,
    5.0,
    both_y,
    7.6,
    1.05,
    'readout="both" (default of FFClassifier): the normalized geometric mean\n'
    "$\\log p = \\mathrm{log\\,softmax}\\left(\\frac{1}{2}\\,"
    "(\\log p_{\\mathrm{good}} + \\log p_{\\mathrm{soft}})\\right)$, "
    "$\\ p \\propto \\sqrt{p_{\\mathrm{good}}\\, p_{\\mathrm{soft}}}$",
    READ,
    size=9.5,
)
arrow(ax, (2.55, read_y - 0.8), (4.0, both_y + 0.55))
arrow(ax, (7.45, read_y - 0.8), (6.0, both_y + 0.55))
ax.set_title("One Forward-Forward training step on a mini-batch", fontsize=12)
fig.tight_layout()
