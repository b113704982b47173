"""C²AM's batch contrastive losses on hand-made embeddings, against values
written out by hand from the C²AM paper's formulas (Xie et al., CVPR 2022)."""
import math

import pytest
import torch

from mmwsss.models.losses import SimMaxLoss, SimMinLoss
from mmwsss.models.losses.contrastive import (cosine_similarity_matrix,
                                              rank_weights, row_ranks)

LO, HI = 5e-4, 0.9995
C45 = math.sqrt(0.5)  # cos 45°
A = 0.25


def embeddings() -> torch.Tensor:
    """e0 = x, e1 = x + y (45° from both), e2 = y (orthogonal to e0)."""
    return torch.tensor([[1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])


def nll(s: float) -> float:
    return -math.log(s)


def test_similarity_is_clamped():
    sim = cosine_similarity_matrix(embeddings(), embeddings())
    expected = torch.tensor([[HI, C45, LO], [C45, HI, C45], [LO, C45, HI]])
    torch.testing.assert_close(sim, expected)


def test_ranks_are_stable_on_ties():
    sim = torch.tensor([[0.9, 0.5, 0.5, 0.7]])
    assert row_ranks(sim).tolist() == [[0, 2, 3, 1]]


def test_rank_weights_code_and_paper():
    sim = cosine_similarity_matrix(embeddings(), embeddings())
    e = math.exp
    # code: row rank - 1, the diagonal (row max) gets e^α
    code = torch.tensor([[e(A), 1, e(-A)], [1, e(A), e(-A)],
                         [e(-A), 1, e(A)]])
    torch.testing.assert_close(rank_weights(sim, A, 'code'), code)
    # paper: ranks among the other samples (diagonal value is irrelevant)
    paper = rank_weights(sim, A, 'paper')
    off = ~torch.eye(3, dtype=torch.bool)
    torch.testing.assert_close(paper[off], code[off])


def test_simmax_code_averages_all_pairs_with_diagonal():
    e = math.exp
    terms = [
        nll(HI) * e(A) + nll(C45) + nll(LO) * e(-A),  # row 0
        nll(C45) + nll(HI) * e(A) + nll(C45) * e(-A),  # row 1 (tie: j=0 first)
        nll(LO) * e(-A) + nll(C45) + nll(HI) * e(A),  # row 2
    ]
    loss = SimMaxLoss(alpha=A)(embeddings())
    assert loss.item() == pytest.approx(sum(terms) / 9, rel=1e-5)


def test_simmax_paper_averages_pairs_i_ne_j():
    e = math.exp
    pairs = [
        nll(C45) + nll(LO) * e(-A),  # row 0: j=1 rank 0, j=2 rank 1
        nll(C45) + nll(C45) * e(-A),  # row 1
        nll(C45) + nll(LO) * e(-A),  # row 2
    ]
    loss = SimMaxLoss(alpha=A, average='paper')(embeddings())
    assert loss.item() == pytest.approx(sum(pairs) / 6, rel=1e-5)


def test_simmax_identical_embeddings_hit_the_clamp():
    x = torch.ones(4, 3, requires_grad=True)
    e = math.exp
    # every similarity is 0.9995; stable ranks 0..3 in every row
    row = sum(nll(HI) * e(-A * (r - 1)) for r in range(4))
    loss = SimMaxLoss(alpha=A)(x)
    assert loss.item() == pytest.approx(row * 4 / 16, rel=1e-4)
    loss.backward()  # finite, no NaN from log(1) or log(0)
    assert torch.isfinite(x.grad).all()


def test_simmax_paper_single_sample_is_zero_not_nan():
    x = torch.ones(1, 3, requires_grad=True)
    loss = SimMaxLoss(average='paper')(x)
    assert loss.item() == 0.0
    loss.backward()


def test_simmin_values_and_clamping():
    bg = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    fg = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
    # S = [[HI, C45], [LO, C45]]
    expected = (-math.log(1 - HI) - math.log(1 - C45) - math.log(1 - LO)
                - math.log(1 - C45)) / 4
    assert SimMinLoss()(bg, fg).item() == pytest.approx(expected, rel=1e-5)
    # loss_weight scales
    assert SimMinLoss(loss_weight=2.0)(bg, fg).item() == pytest.approx(
        2 * expected, rel=1e-5)


def test_bad_arguments():
    with pytest.raises(ValueError, match='average'):
        SimMaxLoss(average='batch')
    with pytest.raises(ValueError, match='N×C'):
        SimMinLoss()(torch.ones(2, 3), torch.ones(2, 4))
