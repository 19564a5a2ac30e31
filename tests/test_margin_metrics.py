"""Margin metrics (hand-computed cases, closed forms against dense numeric integration) and the
pseudo-margin regressor."""

import numpy as np
import pytest
import torch
from scipy.stats import kendalltau

from assay.robustness.exact import exact_margins_linear
from assay.robustness.metrics import (
    estimate_robust_accuracy,
    expected_robustness,
    logit_margins,
    margin_consistency,
    robust_accuracy_curve,
)
from assay.robustness.pseudo_margin import PseudoMargin


def test_logit_margins_numpy_and_torch():
    L = np.array([[1.0, 3.0, 2.0], [0.0, 0.0, -1.0], [-2.0, 5.0, 4.5]])
    np.testing.assert_array_equal(logit_margins(L), [1.0, 0.0, 0.5])
    t = logit_margins(torch.tensor(L, dtype=torch.float32))
    assert isinstance(t, torch.Tensor) and t.dtype == torch.float32
    np.testing.assert_array_equal(t.numpy(), [1.0, 0.0, 0.5])
    for bad in (
        np.ones((3, 1)),
        np.ones(3),
        np.array([[np.nan, 1.0]]),
        torch.ones(2, 1),
        torch.tensor([[1.0, np.inf]]),
    ):
        with pytest.raises(ValueError, match="logits"):
            logit_margins(bad)
    with pytest.raises(TypeError, match="logits"):
        logit_margins(torch.ones(2, 2, dtype=torch.int64))


def test_margin_consistency_hand_computed():
    im = np.array([0.1, 0.2, 0.5, 0.9])
    lm = np.array([0.3, 0.75, 0.8, 0.7])
    out = margin_consistency(im, lm, eps=0.25)
    # pairs: (0,1) (0,2) (0,3) (1,2) concordant, (1,3) (2,3) discordant -> (4 - 2) / 6
    assert out["kendall_tau"] == pytest.approx(1 / 3)
    assert out["pearson"] == pytest.approx(np.corrcoef(im, lm)[0, 1])
    assert out["n_nonrobust"] == 2
    assert out["auroc"] == pytest.approx(3 / 4)  # robust > non-robust for 3 of the 4 pairs
    # flagged by increasing logit margin: .3 (pos) .7 (neg) .75 (pos) .8 (neg): AP = (1 + 2/3) / 2
    assert out["aupr"] == pytest.approx(5 / 6)
    assert out["fpr_at_95_tpr"] == pytest.approx(0.5)
    # eps exactly on a margin: margin <= eps is non-robust
    assert margin_consistency(im, lm, eps=0.2)["n_nonrobust"] == 2
    # all on one side: detection undefined
    one_side = margin_consistency(im, lm, eps=5.0)
    assert np.isnan(one_side["auroc"]) and one_side["n_nonrobust"] == 4
    # +inf margins rank last for tau, are left out of pearson
    out = margin_consistency(np.array([0.1, np.inf, 0.3]), np.array([0.1, 0.9, 0.2]), eps=0.15)
    assert out["kendall_tau"] == pytest.approx(1.0) and out["pearson"] == pytest.approx(1.0)


def test_binary_linear_model_is_margin_consistent():
    rng = np.random.default_rng(0)
    W, b, x = rng.normal(size=(2, 6)), rng.normal(size=2), rng.normal(size=(200, 6))
    for p in ("inf", 2, 1):
        im = exact_margins_linear(W, b, x, norm=p).margin
        lm = logit_margins(x @ W.T + b)
        out = margin_consistency(im, lm, eps=float(np.median(im)))
        assert out["kendall_tau"] == pytest.approx(1.0) and out["auroc"] == pytest.approx(1.0)
        assert out["fpr_at_95_tpr"] == 0.0 and out["aupr"] == pytest.approx(1.0)
    # three classes are not consistent in general: the metric can tell
    W3 = rng.normal(size=(3, 6)) * np.array([[1.0], [5.0], [0.2]])
    im = exact_margins_linear(W3, np.zeros(3), x, norm=2).margin
    assert margin_consistency(im, logit_margins(x @ W3.T), eps=0.1)["kendall_tau"] < 0.95


def test_robust_accuracy_curve_hand_computed():
    m, c = np.array([0.1, 0.3, np.inf, 0.2]), np.array([True, True, True, False])
    np.testing.assert_allclose(
        robust_accuracy_curve(m, c, [0.0, 0.1, 0.25, 0.3, 5.0]), [3 / 4, 2 / 4, 2 / 4, 1 / 4, 1 / 4]
    )
    np.testing.assert_allclose(robust_accuracy_curve(torch.tensor(m), torch.tensor([1, 1, 1, 0]), [0.05]), [3 / 4])


def test_expected_robustness_closed_form_vs_integration():
    m, c = np.array([0.1, 0.3, np.inf, 0.2]), np.array([1, 1, 1, 0])
    assert expected_robustness(m, c, 0.4) == pytest.approx((0.1 + 0.3 + 0.4 + 0.0) / 4 / 0.4)
    rng = np.random.default_rng(1)
    m = rng.exponential(0.2, size=300)
    m[:10] = 0.0
    m[10:20] = np.inf
    c = rng.random(300) < 0.8
    for E in (0.05, 0.3, 2.0):
        grid = np.linspace(0, E, 400001)
        ra = robust_accuracy_curve(m, c, grid)
        numeric = np.sum((ra[1:] + ra[:-1]) / 2 * np.diff(grid)) / E
        assert expected_robustness(m, c, E) == pytest.approx(numeric, abs=1e-5)


def test_estimate_robust_accuracy_exact_on_whole_consistent_set():
    rng = np.random.default_rng(2)
    W, b, x = rng.normal(size=(2, 5)), rng.normal(size=2), rng.normal(size=(500, 5))
    logits = x @ W.T + b
    margins = exact_margins_linear(W, b, x, norm="inf").margin
    correct = rng.random(500) < 0.9
    for eps in (0.0, 0.05, float(np.median(margins)), 100.0):
        est = estimate_robust_accuracy(logits, np.arange(500), margins, eps, correct)
        assert est.estimate == pytest.approx(robust_accuracy_curve(margins, correct, [eps])[0])
    # a random half: the threshold transfers, close to the truth on a consistent model
    idx = rng.permutation(500)[:250]
    eps = float(np.median(margins))
    est = estimate_robust_accuracy(logits, idx, margins[idx], eps)
    assert est.subset_robust_fraction == pytest.approx(np.mean(margins[idx] > eps))
    assert abs(est.estimate - np.mean(margins > eps)) < 0.06


def test_estimate_robust_accuracy_hand_computed():
    logits = np.array([[0.0, 1.0], [0.0, 3.0], [2.0, 0.0], [0.0, 4.0], [0.5, 0.0]])  # margins 1 3 2 4 .5
    est = estimate_robust_accuracy(logits, np.array([0, 1, 2]), np.array([0.1, 0.5, 0.2]), eps=0.15)
    # subset: logit margins 1, 3, 2, robust = 2 of 3 -> threshold between 1 and 2
    assert est.threshold == pytest.approx(1.5) and est.estimate == pytest.approx(3 / 5)
    est = estimate_robust_accuracy(logits, np.array([0, 1, 2]), np.array([0.1, 0.5, 0.2]), eps=1.0)
    assert est.threshold == np.inf and est.estimate == 0.0
    est = estimate_robust_accuracy(
        logits, np.array([0, 1]), np.array([0.1, 0.5]), eps=0.0, correct=np.array([1, 0, 1, 1, 0])
    )
    assert est.threshold == -np.inf and est.estimate == pytest.approx(3 / 5)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: margin_consistency([0.1, -0.2], [0.1, 0.2], 0.1), "input_margins"),
        (lambda: margin_consistency([0.1, np.nan], [0.1, 0.2], 0.1), "input_margins"),
        (lambda: margin_consistency([0.1, 0.2], [0.1], 0.1), "logit_margins"),
        (lambda: margin_consistency([0.1, 0.2], [0.1, -1.0], 0.1), "logit_margins"),
        (lambda: margin_consistency([0.1, 0.2], [0.1, np.inf], 0.1), "logit_margins"),
        (lambda: margin_consistency([0.1, 0.2], [0.1, 0.2], -0.1), "eps"),
        (lambda: margin_consistency([0.1, 0.2], [0.1, 0.2], np.nan), "eps"),
        (lambda: margin_consistency([0.1, 0.2], [0.1, 0.2], "a"), "eps"),
        (lambda: margin_consistency(np.ones((2, 2)), [0.1, 0.2], 0.1), "input_margins"),
        (lambda: robust_accuracy_curve([0.1, 0.2], [1, 0, 1], [0.1]), "correct"),
        (lambda: robust_accuracy_curve([0.1, 0.2], [1, 2], [0.1]), "correct"),
        (lambda: robust_accuracy_curve([0.1, 0.2], [1, 0], [-0.1]), "eps_grid"),
        (lambda: robust_accuracy_curve([0.1, 0.2], [1, 0], []), "eps_grid"),
        (lambda: robust_accuracy_curve([], [], [0.1]), "margins"),
        (lambda: expected_robustness([0.1, 0.2], [1, 0], 0.0), "max_eps"),
        (lambda: expected_robustness([0.1, 0.2], [1, 0], np.inf), "max_eps"),
        (lambda: expected_robustness([0.1, -0.2], [1, 0], 1.0), "margins"),
        (lambda: estimate_robust_accuracy(np.ones((3, 1)), [0], [0.1], 0.1), "logits"),
        (lambda: estimate_robust_accuracy(np.ones((3, 2)), [3], [0.1], 0.1), "attack_subset_idx"),
        (lambda: estimate_robust_accuracy(np.ones((3, 2)), [0, 0], [0.1, 0.1], 0.1), "attack_subset_idx"),
        (lambda: estimate_robust_accuracy(np.ones((3, 2)), [0.0], [0.1], 0.1), "attack_subset_idx"),
        (lambda: estimate_robust_accuracy(np.ones((3, 2)), [], [], 0.1), "attack_subset_idx"),
        (lambda: estimate_robust_accuracy(np.ones((3, 2)), [0, 1], [0.1], 0.1), "subset_margins"),
        (lambda: estimate_robust_accuracy(np.ones((3, 2)), [0], [0.1], -1.0), "eps"),
        (lambda: estimate_robust_accuracy(np.ones((3, 2)), [0], [0.1], 0.1, correct=[1, 0]), "correct"),
    ],
)
def test_metrics_bad_input(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


def _monotone_data(seed=0, n=600):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n, 4))
    return X, (X[:, 0] + 1.2) ** 2 * 0.3 + 0.05 * X[:, 1] ** 2


def test_pseudo_margin_learns_a_monotone_relation_deterministically():
    X, m = _monotone_data()
    pm = PseudoMargin(hidden=32, epochs=40, seed=3).fit(X[:400], m[:400])
    pred = pm.predict(X[400:])
    assert pred.shape == (200,) and np.all(pred >= 0)
    assert kendalltau(pred, m[400:]).statistic > 0.85
    assert np.median(np.abs(pred - m[400:]) / m[400:]) < 0.2
    again = PseudoMargin(hidden=32, epochs=40, seed=3).fit(X[:400], m[:400]).predict(X[400:])
    np.testing.assert_array_equal(pred, again)
    other = PseudoMargin(hidden=32, epochs=40, seed=4).fit(X[:400], m[:400]).predict(X[400:])
    assert not np.array_equal(pred, other)
    # a constant feature does not break the standardisation
    Xc = np.c_[X, np.ones(len(X))]
    assert np.all(np.isfinite(PseudoMargin(hidden=8, epochs=5).fit(Xc[:400], m[:400]).predict(Xc[400:])))


def test_pseudo_margin_ranking_weight_helps_on_heavy_tails():
    # exp(6 x0) spans 5 decades: squared error is dominated by the few largest margins, the
    # ranking term weighs every pair equally
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(600, 4))
    m = np.exp(6 * X[:, 0]) * (1 + 0.5 * X[:, 1])
    taus = [
        kendalltau(
            PseudoMargin(hidden=16, epochs=30, ranking_weight=w).fit(X[:400], m[:400]).predict(X[400:]), m[400:]
        ).statistic
        for w in (0.0, 1.0)
    ]
    assert taus[1] > 0.8 and taus[1] >= taus[0] - 0.01


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(hidden=0), "hidden"),
        (dict(hidden=2.5), "hidden"),
        (dict(epochs=0), "epochs"),
        (dict(lr=0), "lr"),
        (dict(lr=-1.0), "lr"),
        (dict(batch_size=0), "batch_size"),
        (dict(ranking_weight=-1.0), "ranking_weight"),
        (dict(seed=-1), "seed"),
        (dict(seed=True), "seed"),
    ],
)
def test_pseudo_margin_bad_params(kw, match):
    with pytest.raises((ValueError, TypeError), match=match):
        PseudoMargin(**kw)


def test_pseudo_margin_bad_data():
    X, m = _monotone_data(n=20)
    pm = PseudoMargin(epochs=1)
    with pytest.raises(RuntimeError, match="fit"):
        pm.predict(X)
    for feats, marg, match in (
        (X, m[:5], "margins"),
        (X, -m, "margins"),
        (X, np.r_[m[:-1], np.inf], "margins"),
        (X[:, 0], m, "features"),
        (np.r_[X[:-1], [[np.nan] * 4]], m, "features"),
    ):
        with pytest.raises(ValueError, match=match):
            pm.fit(feats, marg)
    pm.fit(X, m)
    with pytest.raises(ValueError, match="features"):
        pm.predict(X[:, :3])
