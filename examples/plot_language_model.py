"""
A character-level language model trained with Forward-Forward
=============================================================

Fit :class:`skff.FFLanguageModel` on Python's own documentation (always
available), compare its two readouts, plot its training curve and let it
continue a prompt.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

from skff import FFLanguageModel
from skff.datasets import load_default_text

torch.set_num_threads(1)
docs = [d for d in load_default_text() if len(d) > 200]
train = [d[: int(0.9 * len(d))] for d in docs][:30]
test = [d[int(0.9 * len(d)) :] for d in docs][:30]

# %%
lm = FFLanguageModel(context_size=10, hidden_size=256, max_iter=3, random_state=0)
lm.fit(train)
print(f"vocabulary: {len(lm.classes_)} characters")
print(f"test perplexity per character: {lm.perplexity(test):.2f}")
# the default readout combines the per-candidate goodness with the softmax
# head (one pass per candidate character): the better readout in the Devil's
# Dictionary benchmark after 6 epochs (on this small 3-epoch run the two are
# close); the softmax head alone is one pass, the fastest
lm.set_params(readout="softmax")
print(f"with readout='softmax': {lm.perplexity(test):.2f}")
lm.set_params(readout="both")

# %%
losses = np.array(lm.loss_curve_)
plt.plot(losses[:, :-1], label=[f"layer {i}" for i in range(losses.shape[1] - 1)])
plt.plot(losses[:, -1], "--", label="softmax head")
plt.xlabel("epoch")
plt.ylabel("local loss")
plt.legend()
plt.show()

# %%
print(
    lm.generate("The return statement ", n_chars=200, temperature=0.7, random_state=0)
)
