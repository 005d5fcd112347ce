"""The unsupervised core: the negative rows it makes, and its input shape."""

import numpy as np
import pytest
import torch

from skff.core import UnsupervisedFFNet, check_input_shape
from skff.core.negatives import blur_mask

rng = np.random.RandomState(0)
X = rng.rand(40, 12)  # every value distinct: each one names its row


def _negatives(kind, x=X, input_shape=None, seed=0):
    core = UnsupervisedFFNet(
        x.shape[1], [8], negatives=kind, input_shape=input_shape, seed=0
    )
    xt = torch.as_tensor(x, dtype=torch.float32)
    neg = core.negative(xt, torch.Generator().manual_seed(seed))
    return core, xt, neg


def _source_rows(xt, neg):
    """For every entry of ``neg``, the row of ``xt`` it was taken from."""
    match = neg.unsqueeze(0) == xt.unsqueeze(1)  # (source row, row, feature)
    assert bool(match.any(dim=0).all()), "an entry comes from no row"
    return match.float().argmax(dim=0)


# -- the negatives -------------------------------------------------------------------
@pytest.mark.parametrize("input_shape", [None, (1, 3, 4), (2, 6), (3, 2, 2)])
def test_hybrid_rows_mix_their_row_with_one_other(input_shape):
    _, xt, neg = _negatives("hybrid", input_shape=input_shape)
    src = _source_rows(xt, neg)
    own = torch.arange(len(xt)).unsqueeze(1)
    mixed = 0
    for i in range(len(xt)):
        others = set(src[i][src[i] != i].tolist())
        assert len(others) <= 1, "a hybrid row mixes more than two rows"
        mixed += bool(others)
    assert mixed > len(xt) // 2  # most rows do mix
    assert bool((src == own).any())
    if input_shape is not None and input_shape[0] > 1:
        # the mask is shared by the channels
        taken = (src == own).view(len(xt), input_shape[0], -1)
        assert bool((taken == taken[:, :1]).all())


def test_hybrid_masks_are_smooth():
    for spatial, axes in [((16, 16), (1, 2)), ((64,), (1,))]:
        m = blur_mask(200, spatial, torch.Generator().manual_seed(0))
        assert m.shape == (200, *spatial)
        for axis in axes:
            a, b = (
                m.narrow(axis, 0, m.shape[axis] - 1),
                m.narrow(axis, 1, m.shape[axis] - 1),
            )
            agree = (a == b).float().mean()
            assert agree > 0.8  # random bits agree with a neighbour half the time
        assert 0.3 < m.float().mean() < 0.7


def test_self_contrastive_pairs_a_row_with_itself_or_another():
    core, xt, neg = _negatives("self_contrastive")
    d = X.shape[1]
    assert core.layers[0].weight.shape[1] == 2 * d  # the input width doubles
    torch.testing.assert_close(core.positive(xt), torch.cat([xt, xt], dim=1))
    assert neg.shape == (len(X), 2 * d)
    torch.testing.assert_close(neg[:, :d], xt)
    src = _source_rows(xt, neg[:, d:])
    assert bool((src == src[:, :1]).all())  # the second half is one whole row
    assert bool((src[:, 0] != torch.arange(len(X))).all())  # never the row itself


def test_corrupt_rows_take_every_feature_from_another_row():
    _, xt, neg = _negatives("corrupt")
    src = _source_rows(xt, neg)
    assert bool((src != torch.arange(len(X)).unsqueeze(1)).all())
    # features are drawn independently: a row draws on many rows
    assert min(len(set(r.tolist())) for r in src) > 3


def test_a_single_row_is_its_own_partner():
    for kind in ("hybrid", "self_contrastive", "corrupt"):
        _, _, neg = _negatives(kind, x=X[:1])
        assert neg.shape[0] == 1


def test_negatives_are_seeded():
    for kind in ("hybrid", "self_contrastive", "corrupt"):
        a, b, c = (_negatives(kind, seed=s)[2] for s in (0, 0, 1))
        torch.testing.assert_close(a, b, rtol=0, atol=0)
        assert not torch.equal(a, c)


# -- the estimator --------------------------------------------------------------------


def test_the_core_has_no_head():
    core = UnsupervisedFFNet(12, [8, 4])
    assert not hasattr(core, "head")
    core.configure_training(learning_rate=0.01)
    losses = core.train_step(torch.as_tensor(X, dtype=torch.float32), None)
    assert losses.shape == (2,)  # one per layer, no head


@pytest.mark.parametrize(
    "shape", [(1, 5, 5), (12,), (1, 2, 2, 3), (0, 12), (True, 12), (1.0, 12)]
)
def test_bad_input_shape_raises(shape):
    with pytest.raises(ValueError, match="input_shape"):
        UnsupervisedFFNet(12, [8], input_shape=shape)
    with pytest.raises(ValueError, match="input_shape"):
        check_input_shape(shape, 12)


def test_input_shape_is_kept_as_ints():
    assert check_input_shape([np.int64(3), 2, 2], 12) == (3, 2, 2)
    core = UnsupervisedFFNet(12, [8], input_shape=[3, 4])
    assert core.input_shape == (3, 4)
    assert core.get_config()["input_shape"] == [3, 4]
