"""OOD scores, detectors and metrics: Triton kernel vs torch reference (interpreter on the CPU),
detectors vs straightforward NumPy, metrics vs scikit-learn and hand cases with ties."""
import os

os.environ.setdefault("TRITON_INTERPRET", "1")  # before triton is first imported: kernels run on the CPU

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from assay import ood  # noqa: E402
from assay.ood import metrics  # noqa: E402


def _numpy_scores(l, T=1.0, g=0.1):
    l = l.astype(np.float64)
    m = l.max(1, keepdims=True)
    lse = (m + np.log(np.exp(l - m).sum(1, keepdims=True)))[:, 0]
    p = np.exp(l - lse[:, None])
    s = np.sort(l, axis=1)
    # 1 - p of the top class from the other classes' mass (exact when p rounds to 1)
    top = l.argmax(1)
    rest = np.where(np.arange(l.shape[1])[None, :] == top[:, None], -np.inf, l)
    one_minus = np.where(np.arange(l.shape[1])[None, :] == top[:, None],
                         np.exp(np.logaddexp.reduce(rest, axis=1) - lse)[:, None], 1 - p)
    return {"msp": p.max(1), "maxlogit": l.max(1), "energy": T * np.log(np.exp(l / T).sum(1)),
            "entropy": (p * l).sum(1) - lse, "gen": -(p ** g * one_minus ** g).sum(1), "margin": s[:, -1] - s[:, -2]}


@pytest.mark.parametrize("C", [2, 3, 10, 257, 1000])
def test_fused_kernel_matches_reference_and_numpy(C):
    pytest.importorskip("triton")
    g = torch.Generator().manual_seed(C)
    l = torch.randn(33, C, generator=g) * 4
    l[0, :2] = l[0].max() + 1.0         # tie at the top: margin 0
    l[1, 0] = 60.0                      # near one-hot: p ~ 1 for the top class
    fused = ood.logit_scores(l, temperature=1.7, backend="triton")
    ref = ood.logit_scores_ref(l, temperature=1.7)
    lean = ood.logit_scores(l, temperature=1.7)            # the CPU default
    want = _numpy_scores(l.numpy(), T=1.7)
    for k in ood.SCORES:
        scale = max(1.0, float(np.abs(want[k]).max()))
        assert np.allclose(ref[k].numpy(), want[k], rtol=1e-6, atol=1e-6 * scale), k
        assert np.allclose(fused[k].numpy(), want[k], rtol=2e-5, atol=2e-5 * scale), k
        assert np.allclose(lean[k].numpy(), want[k], rtol=2e-5, atol=2e-5 * scale), k
    l64 = l.double()
    for k, v in ood.logit_scores(l64, temperature=1.7, gen_top=3).items():
        assert torch.allclose(v, ood.logit_scores_ref(l64, temperature=1.7, gen_top=3)[k], rtol=1e-10, atol=1e-10), k
    assert float(fused["margin"][0]) == 0.0


def test_logit_scores_inputs_and_cpu_default():
    l = np.random.default_rng(0).normal(size=(5, 4))
    out = ood.logit_scores(l)           # NumPy in, torch reference on the CPU
    assert set(out) == set(ood.SCORES) and out["msp"].shape == (5,)
    top = ood.logit_scores(l, gen_top=2)
    p = torch.softmax(torch.from_numpy(l), 1)
    pg = torch.topk(p, 2, 1).values
    assert torch.allclose(top["gen"], -(pg ** 0.1 * (1 - pg) ** 0.1).sum(1))   # no p near 1 here
    for bad, exc in [(np.zeros(4), ValueError), (np.zeros((3, 1)), ValueError), ("x", TypeError),
                     (np.full((2, 3), np.nan), ValueError), (np.zeros((2, 3), dtype=int), TypeError)]:
        with pytest.raises(exc, match="logits"):
            ood.logit_scores(bad)
    with pytest.raises(ValueError, match="temperature"):
        ood.logit_scores(l, temperature=0)
    some = ood.logit_scores(l, which=("gen", "msp"))
    assert list(some) == ["msp", "gen"] and torch.equal(some["gen"], out["gen"])
    with pytest.raises(ValueError, match="which"):
        ood.logit_scores(l, which=("msp", "odin"))


def test_mahalanobis_and_rmds_match_numpy_and_stream():
    rng = np.random.default_rng(1)
    means = rng.normal(size=(3, 5)) * 3
    y = rng.integers(0, 3, 600)
    z = means[y] + rng.normal(size=(600, 5)) @ rng.normal(size=(5, 5))
    q = rng.normal(size=(40, 5)) * 3
    det = ood.Mahalanobis(ridge=0.0).fit(z, y)
    mu = np.stack([z[y == c].mean(0) for c in range(3)])
    cov = sum((z[y == c] - mu[c]).T @ (z[y == c] - mu[c]) for c in range(3)) / len(z)
    P = np.linalg.inv(cov)
    d = np.stack([np.einsum("nd,de,ne->n", q - mu[c], P, q - mu[c]) for c in range(3)], 1)
    assert np.allclose(det.score(q).numpy(), -d.min(1))
    P0 = np.linalg.inv(np.cov(z.T, bias=True))
    d0 = np.einsum("nd,de,ne->n", q - z.mean(0), P0, q - z.mean(0))
    rmds = ood.Mahalanobis(relative=True, ridge=0.0).fit(z, y)
    assert np.allclose(rmds.score(q).numpy(), -(d - d0[:, None]).min(1))
    streamed = ood.Mahalanobis(ridge=0.0)
    for part in np.array_split(np.arange(600), 7):
        streamed.partial_fit(z[part], y[part])
    assert np.allclose(streamed.score(q).numpy(), det.score(q).numpy())
    assert det.score(torch.from_numpy(q)).shape == (40,)


def test_knn_matches_brute_force_with_small_chunks():
    rng = np.random.default_rng(2)
    bank, q = rng.normal(size=(500, 8)), rng.normal(size=(37, 8))
    det = ood.KNN(k=7, chunk=64).fit(bank)
    bn = bank / np.linalg.norm(bank, axis=1, keepdims=True)
    qn = q / np.linalg.norm(q, axis=1, keepdims=True)
    dist = np.sqrt(np.maximum(((qn[:, None, :] - bn[None]) ** 2).sum(-1), 0))
    want = -np.sort(dist, axis=1)[:, 6]
    assert np.allclose(det.score(q, batch=10).numpy(), want, atol=1e-5)
    with pytest.raises(RuntimeError, match="not fitted"):
        ood.KNN().score(q)
    with pytest.raises(ValueError, match="features"):
        det.score(q[:, :3])


def test_metrics_match_scikit_learn_on_random_scores_with_ties():
    from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve
    rng = np.random.default_rng(3)
    for _ in range(50):
        a = np.round(rng.normal(1, 1, rng.integers(1, 60)), 1)
        b = np.round(rng.normal(0, 1, rng.integers(1, 60)), 1)
        y = np.r_[np.zeros(a.size), np.ones(b.size)]          # OOD positive
        s = -np.r_[a, b]                                      # flagged when the ID score is low
        r = metrics.evaluate(a, b)
        assert r["auroc"] == pytest.approx(roc_auc_score(y, s))
        assert r["aupr_out"] == pytest.approx(average_precision_score(y, s))
        assert r["aupr_in"] == pytest.approx(average_precision_score(1 - y, -s))
        fpr, tpr, _ = roc_curve(y, s)
        assert r["fpr_at_95_tpr"] == pytest.approx(fpr[np.flatnonzero(tpr >= 0.95)[0]])


def test_metric_conventions_on_hand_cases():
    # perfect separation, higher = more ID
    assert metrics.evaluate([3, 4, 5], [0, 1, 2]) == {"auroc": 1.0, "aupr_in": 1.0, "aupr_out": 1.0,
                                                       "fpr_at_95_tpr": 0.0}
    # all tied: AUROC 1/2; every threshold flags everyone, so FPR at 95% TPR is 1
    r = metrics.evaluate([1, 1], [1, 1, 1])
    assert r["auroc"] == 0.5 and r["fpr_at_95_tpr"] == 1.0
    # ties grouped: the OOD rows at 1 can only be caught together with the ID row at 1
    assert metrics.fpr_at_tpr([1, 2, 3, 4], [0, 1], 0.95) == 0.25
    assert metrics.fpr_at_tpr([1, 2, 3, 4], [0, 1], 0.5) == 0.0
    # ID as the positive class: flag ID when the score is high
    assert metrics.fpr_at_tpr([2, 3], [1, 2.5], 0.95, positive="id") == 0.5
    with pytest.raises(ValueError, match="scores_ood"):
        metrics.evaluate([1.0], [])
    with pytest.raises(ValueError, match="positive"):
        metrics.roc_curve([1.0], [0.0], positive="both")


def test_feature_transforms_match_their_definitions():
    rng = np.random.default_rng(4)
    z = torch.from_numpy(np.abs(rng.normal(size=(6, 20))))
    W, b = torch.from_numpy(rng.normal(size=(3, 20))), torch.from_numpy(rng.normal(size=3))
    clip = ood.transforms.react_threshold(z, 80)
    assert float(ood.transforms.react(z, clip).max()) <= clip + 1e-12
    zn = z.numpy()
    for mode in "pbs":
        out = ood.transforms.ash(z, 75, mode).numpy()
        for r in range(6):
            keep = zn[r] >= np.sort(zn[r])[-5]                        # top 25% of 20 = 5
            assert np.all(out[r][~keep] == 0)
            want = {"p": zn[r][keep], "b": np.full(keep.sum(), zn[r].sum() / keep.sum()),
                    "s": zn[r][keep] * np.exp(zn[r].sum() / zn[r][keep].sum())}[mode]
            assert np.allclose(out[r][keep], want)
    sc = ood.transforms.scale(z, 75).numpy()
    top = np.sort(zn, 1)[:, -5:].sum(1)
    assert np.allclose(sc, zn * np.exp(zn.sum(1) / top)[:, None])
    Wd = ood.transforms.dice_weights(W, z, sparsity=0.5).numpy()
    contrib = W.numpy() * zn.mean(0)
    assert np.array_equal(Wd != 0, contrib >= np.sort(contrib.ravel())[-30])
    e = ood.transforms.energy(z, W, b).numpy()
    assert np.allclose(e, np.log(np.exp(zn @ W.numpy().T + b.numpy()).sum(1)))


def _clusters(rng, n=900, d=12, C=3, shift=5.0):
    y = rng.integers(0, C, n)
    z = rng.normal(size=(n, d))
    z[np.arange(n), y] += shift
    W = np.zeros((C, d))
    W[np.arange(C), np.arange(C)] = 1.0
    return z, y, W, np.zeros(C)


def test_vim_matches_numpy_and_detects_shifted_data():
    rng = np.random.default_rng(5)
    z, y, W, b = _clusters(rng)
    det = ood.ViM(dim=4).fit(z, head=(W, b))
    u = -np.linalg.pinv(W) @ b
    zc = z - u
    vals, vecs = np.linalg.eigh(zc.T @ zc / len(z))
    R = vecs[:, :8]
    resid = np.linalg.norm(zc @ R, axis=1)
    alpha = (z @ W.T + b).max(1).mean() / resid.mean()
    q = rng.normal(size=(50, 12)) * 3
    want = np.log(np.exp(q @ W.T + b).sum(1)) - alpha * np.linalg.norm((q - u) @ R, axis=1)
    assert np.allclose(det.score(q).numpy(), want)
    assert np.allclose(det.score(q, backend="triton").numpy(), want, rtol=1e-4, atol=1e-4 * np.abs(want).max())
    assert ood.metrics.auroc(det.score(z[:300]), det.score(q)) > 0.9


def test_grood_gradients_and_nearest_neighbours():
    rng = np.random.default_rng(6)
    z, y, W, b = _clusters(rng)
    det = ood.GROOD().fit(z, y, head=(W, b))
    protos = np.stack([z[y == c].mean(0) for c in range(3)])
    p_o = protos.mean(0)

    def grads(a):
        dist = np.linalg.norm(a[:, None, :] - np.vstack([protos, p_o])[None], axis=2)
        soft = np.exp(-dist) / np.exp(-dist).sum(1, keepdims=True)
        return soft[:, -1:] * (a - p_o) / np.linalg.norm(a - p_o, axis=1, keepdims=True)

    correct = (z @ W.T + b).argmax(1) == y
    bank = grads(z[correct])
    q = rng.normal(size=(40, 12)) * 2
    want = -np.min(np.linalg.norm(grads(q)[:, None, :] - bank[None], axis=2), axis=1)
    assert np.allclose(det.score(q).numpy(), want, atol=1e-9)
    assert np.allclose(det.score(q, backend="triton").numpy(), want, atol=1e-5)   # fused nearest-neighbour kernel


def test_combinations_beat_each_informative_score_alone():
    rng = np.random.default_rng(7)
    n = 3000
    S_id = rng.normal(size=(n, 3))                     # three independent scores
    S_ood = rng.normal(size=(n, 3)) - np.array([0.8, 0.8, 0.8])
    calib, test_id = S_id[: n // 2], S_id[n // 2:]
    single = max(ood.metrics.auroc(test_id[:, j], S_ood[:, j]) for j in range(3))
    for method in ("fisher", "copula", "center_outward", "vote"):
        comb = ood.Combine(method=method, n_reference=800).fit(calib)
        a = ood.metrics.auroc(comb.score(test_id), comb.score(S_ood))
        if method in ("fisher", "copula"):       # one-sided joins of independent evidence: better than any one
            assert a > single + 0.03, (method, a, single)
        else:  # vote is coarse; center-outward is two-sided (unusually high scores count as outlying too)
            assert a > 0.6, (method, a)
    with pytest.raises(ValueError, match="3 detector columns"):
        ood.Combine().fit(calib).score(S_ood[:, :2])
    with pytest.raises(RuntimeError, match="not fitted"):
        ood.Combine().score(S_ood)


def test_center_outward_ranks_the_centre_highest():
    rng = np.random.default_rng(8)
    calib = rng.normal(size=(600, 2))
    comb = ood.Combine("center_outward", n_reference=600).fit(calib)
    s = comb.score(np.array([[0.0, 0.0], [3.0, 0.0], [-3.0, -3.0]]))
    assert s[0] > s[1] and s[0] > s[2]


@pytest.mark.parametrize("relative", [False, True])
def test_fused_mahalanobis_kernel_matches_torch(relative):
    pytest.importorskip("triton")
    rng = np.random.default_rng(9)
    C, d = 21, 37                                     # not multiples of the 16-wide tiles
    y = rng.integers(0, C, 800)
    z = rng.normal(size=(800, d)) + rng.normal(size=(C, d))[y] * 2
    q = rng.normal(size=(45, d)) * 2
    det = ood.Mahalanobis(relative=relative).fit(z, y)
    want = det.score(q, backend="torch").numpy()
    got = det.score(q, backend="triton").numpy()
    assert np.allclose(got, want, rtol=1e-4, atol=1e-4 * np.abs(want).max())


@pytest.mark.parametrize("k, bank_rows", [(1, 70), (7, 300), (16, 129)])
def test_fused_knn_kernel_matches_torch(k, bank_rows):
    pytest.importorskip("triton")
    rng = np.random.default_rng(10 + k)
    bank, q = rng.normal(size=(bank_rows, 20)), rng.normal(size=(37, 20))
    det = ood.KNN(k=k).fit(bank)
    assert np.allclose(det.score(q, backend="triton").numpy(), det.score(q, backend="torch").numpy(), atol=1e-5)
    euclid = ood.KNN(k=k, normalise=False).fit(bank)
    assert np.allclose(euclid.score(q, backend="triton").numpy(), euclid.score(q, backend="torch").numpy(), atol=1e-4)
    with pytest.raises(ValueError, match="k <= 256"):
        ood.KNN(k=300).fit(rng.normal(size=(400, 4))).score(q[:, :4], backend="triton")
