"""The wrong labels of negative data (skff.core.negatives)."""

import pytest
import torch

from skff.core import hardest_wrong_labels, sample_wrong_labels, uniform_wrong_labels


@pytest.mark.parametrize("k", [1, 3, 9])
def test_negatives_never_equal_true_label(k):
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 10, (5000,), generator=g)
    probs = torch.softmax(torch.randn(5000, 10, generator=g) * 5, dim=1)
    probs[torch.arange(5000), y] = 1.0  # all mass on the true class
    for neg in (
        uniform_wrong_labels(y, 10, g, k=k),
        sample_wrong_labels(probs, y, g, k=k),
        hardest_wrong_labels(probs, y, k=k),
    ):
        assert neg.shape == (5000, k)
        assert not torch.any(neg == y.unsqueeze(1))
        assert neg.min() >= 0 and neg.max() <= 9
        # k distinct wrong labels per row
        assert torch.all(neg.sort(dim=1).values.diff(dim=1) > 0)
    # uniform negatives cover all other classes about equally
    counts = torch.bincount(
        uniform_wrong_labels(torch.zeros(9000, dtype=torch.long), 10, g, k=k).ravel()
    )
    assert counts[0] == 0 and counts[1:].min() > 800 * k


def test_hardest_negatives_are_the_top_wrong_classes():
    probs = torch.tensor([[0.1, 0.4, 0.2, 0.3], [0.7, 0.05, 0.1, 0.15]])
    y = torch.tensor([1, 0])
    assert hardest_wrong_labels(probs, y, k=2).tolist() == [[3, 2], [3, 2]]


def test_hard_negatives_follow_probabilities():
    g = torch.Generator().manual_seed(0)
    y = torch.zeros(4000, dtype=torch.long)
    probs = torch.tensor([[0.5, 0.4, 0.1, 0.0]]).repeat(4000, 1)
    counts = torch.bincount(sample_wrong_labels(probs, y, g).ravel(), minlength=4)
    assert counts[0] == 0
    assert 0.75 < counts[1] / 4000 < 0.85 and counts[3] < 20
