"""FFConvClassifier at its default widths under scikit-learn's class-weight
check: the share of test rows predicted as class 0 per readout, on the
check's data (noisy blobs, class weights 1000 against 0.0001, 1000 epochs),
for the shipped blocks and two modifications patched in for the experiment::

    PYTHONPATH=$PWD python experiments/conv_class_weight.py shipped
    PYTHONPATH=$PWD python experiments/conv_class_weight.py unweighted_bn
    PYTHONPATH=$PWD python experiments/conv_class_weight.py class_bias
    PYTHONPATH=$PWD python experiments/conv_class_weight.py unweighted_bn,class_bias

``unweighted_bn``: batch statistics over the rows, ignoring their weights
(the losses stay weighted); ``class_bias``: a learned per-class bias added to
every block's class goodness. The check asks for class 0 on more than 87% of
the test rows.
"""

import sys

import numpy as np
import torch
from sklearn.datasets import make_blobs
from sklearn.model_selection import train_test_split

import skff.core.conv as conv
from skff import FFConvClassifier


def patch(variants):
    if "class_bias" in variants:
        init = conv.ChannelwiseConvNet.__init__
        class_goodness = conv.ChannelwiseConvNet.class_goodness

        def with_bias(self, *args, **kwargs):
            init(self, *args, **kwargs)
            for layer in self.layers:  # before the optimizers are made
                layer.class_bias = torch.nn.Parameter(torch.zeros(self.n_classes))

        conv.ChannelwiseConvNet.__init__ = with_bias
        conv.ChannelwiseConvNet.class_goodness = lambda self, i, h: (
            class_goodness(self, i, h) + self.layers[i].class_bias
        )
    if "unweighted_bn" in variants:
        forward = conv.BatchChannelNorm.forward
        conv.BatchChannelNorm.forward = lambda self, h, row_weight=None: forward(
            self, h, None
        )


def main(variants):
    torch.set_num_threads(1)
    patch(variants)
    for n_centers in (2, 3):
        X, y = make_blobs(centers=n_centers, random_state=0, cluster_std=20)
        X_train, X_test, y_train, _ = train_test_split(
            X, y, test_size=0.5, random_state=0
        )
        weights = {0: 1000, **{c: 1e-4 for c in range(1, n_centers)}}
        clf = FFConvClassifier(class_weight=weights, max_iter=1000, random_state=0)
        clf.fit(X_train, y_train)
        shares = {}
        for readout in ("goodness", "softmax", "both"):
            clf.set_params(readout=readout)
            shares[readout] = float(np.mean(clf.predict(X_test) == 0))
        print(",".join(sorted(variants)), f"{n_centers} centers", shares, flush=True)


if __name__ == "__main__":
    main(set(sys.argv[1].split(",")) if len(sys.argv) > 1 else {"shipped"})
