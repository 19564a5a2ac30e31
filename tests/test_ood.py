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
    one_minus = np.where(
        np.arange(l.shape[1])[None, :] == top[:, None], np.exp(np.logaddexp.reduce(rest, axis=1) - lse)[:, None], 1 - p
    )
    pt = np.exp(l / T - (l / T).max(1, keepdims=True))
    return {
        "msp": (pt / pt.sum(1, keepdims=True)).max(1),
        "maxlogit": l.max(1),
        "energy": T * np.log(np.exp(l / T).sum(1)),
        "entropy": (p * l).sum(1) - lse,
        "gen": -(p**g * one_minus**g).sum(1),
        "margin": s[:, -1] - s[:, -2],
    }


@pytest.mark.parametrize("C", [2, 3, 10, 257, 1000])
def test_fused_kernel_matches_reference_and_numpy(C):
    pytest.importorskip("triton")
    g = torch.Generator().manual_seed(C)
    l = torch.randn(33, C, generator=g) * 4
    l[0, :2] = l[0].max() + 1.0  # tie at the top: margin 0
    l[1, 0] = 60.0  # near one-hot: p ~ 1 for the top class
    fused = ood.logit_scores(l, temperature=1.7, backend="triton")
    ref = ood.logit_scores_ref(l, temperature=1.7)
    lean = ood.logit_scores(l, temperature=1.7)  # the CPU default
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
    out = ood.logit_scores(l)  # NumPy in, NumPy out (the torch path on the CPU)
    assert set(out) == set(ood.SCORES) and out["msp"].shape == (5,) and isinstance(out["msp"], np.ndarray)
    top = ood.logit_scores(l, gen_top=2)
    p = torch.softmax(torch.from_numpy(l), 1)
    pg = torch.topk(p, 2, 1).values
    assert np.allclose(top["gen"], -(pg**0.1 * (1 - pg) ** 0.1).sum(1).numpy())  # no p near 1 here
    for bad, exc in [
        (np.zeros(4), ValueError),
        (np.zeros((3, 1)), ValueError),
        ("x", TypeError),
        (np.full((2, 3), np.nan), ValueError),
        (np.zeros((2, 3), dtype=int), TypeError),
    ]:
        with pytest.raises(exc, match="logits"):
            ood.logit_scores(bad)
    with pytest.raises(ValueError, match="temperature"):
        ood.logit_scores(l, temperature=0)
    some = ood.logit_scores(l, which=("gen", "msp"))
    assert list(some) == ["msp", "gen"] and np.array_equal(some["gen"], out["gen"])
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
    assert np.allclose(det.score(q), -d.min(1))
    P0 = np.linalg.inv(np.cov(z.T, bias=True))
    d0 = np.einsum("nd,de,ne->n", q - z.mean(0), P0, q - z.mean(0))
    rmds = ood.Mahalanobis(relative=True, ridge=0.0).fit(z, y)
    assert np.allclose(rmds.score(q), -(d - d0[:, None]).min(1))
    streamed = ood.Mahalanobis(ridge=0.0)
    for part in np.array_split(np.arange(600), 7):
        streamed.partial_fit(z[part], y[part])
    assert np.allclose(streamed.score(q), det.score(q))
    assert det.score(torch.from_numpy(q)).shape == (40,)


def test_knn_matches_brute_force_with_small_chunks():
    rng = np.random.default_rng(2)
    bank, q = rng.normal(size=(500, 8)), rng.normal(size=(37, 8))
    det = ood.KNN(k=7, chunk=64).fit(bank)
    bn = bank / np.linalg.norm(bank, axis=1, keepdims=True)
    qn = q / np.linalg.norm(q, axis=1, keepdims=True)
    dist = np.sqrt(np.maximum(((qn[:, None, :] - bn[None]) ** 2).sum(-1), 0))
    want = -np.sort(dist, axis=1)[:, 6]
    assert np.allclose(det.score(q, batch=10), want, atol=1e-5)
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
        y = np.r_[np.zeros(a.size), np.ones(b.size)]  # OOD positive
        s = -np.r_[a, b]  # flagged when the ID score is low
        r = metrics.evaluate(a, b)
        assert r["auroc"] == pytest.approx(roc_auc_score(y, s))
        assert r["aupr_out"] == pytest.approx(average_precision_score(y, s))
        assert r["aupr_in"] == pytest.approx(average_precision_score(1 - y, -s))
        fpr, tpr, _ = roc_curve(y, s)
        assert r["fpr_at_95_tpr"] == pytest.approx(fpr[np.flatnonzero(tpr >= 0.95)[0]])


def test_metric_conventions_on_hand_cases():
    # perfect separation, higher = more ID
    assert metrics.evaluate([3, 4, 5], [0, 1, 2]) == {
        "auroc": 1.0,
        "aupr_in": 1.0,
        "aupr_out": 1.0,
        "fpr_at_95_tpr": 0.0,
    }
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
            keep = zn[r] >= np.sort(zn[r])[-5]  # top 25% of 20 = 5
            assert np.all(out[r][~keep] == 0)
            want = {
                "p": zn[r][keep],
                "b": np.full(keep.sum(), zn[r].sum() / keep.sum()),
                "s": zn[r][keep] * np.exp(zn[r].sum() / zn[r][keep].sum()),
            }[mode]
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
    assert np.allclose(det.score(q), want)
    assert np.allclose(det.score(q, backend="triton"), want, rtol=1e-4, atol=1e-4 * np.abs(want).max())
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
    assert np.allclose(det.score(q), want, atol=1e-9)
    assert np.allclose(det.score(q, backend="triton"), want, atol=1e-5)  # fused nearest-neighbour kernel


def test_combinations_beat_each_informative_score_alone():
    rng = np.random.default_rng(7)
    n = 3000
    S_id = rng.normal(size=(n, 3))  # three independent scores
    S_ood = rng.normal(size=(n, 3)) - np.array([0.8, 0.8, 0.8])
    calib, test_id = S_id[: n // 2], S_id[n // 2 :]
    single = max(ood.metrics.auroc(test_id[:, j], S_ood[:, j]) for j in range(3))
    for method in ("fisher", "copula", "center_outward", "vote"):
        comb = ood.Combine(method=method, n_reference=800).fit(calib)
        a = ood.metrics.auroc(comb.score(test_id), comb.score(S_ood))
        if method in ("fisher", "copula"):  # one-sided joins of independent evidence: better than any one
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
    C, d = 21, 37  # not multiples of the 16-wide tiles
    y = rng.integers(0, C, 800)
    z = rng.normal(size=(800, d)) + rng.normal(size=(C, d))[y] * 2
    q = rng.normal(size=(45, d)) * 2
    det = ood.Mahalanobis(relative=relative).fit(z, y)
    want = det.score(q, backend="torch")
    got = det.score(q, backend="triton")
    assert np.allclose(got, want, rtol=1e-4, atol=1e-4 * np.abs(want).max())


@pytest.mark.parametrize("k, bank_rows", [(1, 70), (7, 300), (16, 129)])
def test_fused_knn_kernel_matches_torch(k, bank_rows):
    pytest.importorskip("triton")
    rng = np.random.default_rng(10 + k)
    bank, q = rng.normal(size=(bank_rows, 20)), rng.normal(size=(37, 20))
    det = ood.KNN(k=k).fit(bank)
    assert np.allclose(det.score(q, backend="triton"), det.score(q, backend="torch"), atol=1e-5)
    euclid = ood.KNN(k=k, normalise=False).fit(bank)
    assert np.allclose(euclid.score(q, backend="triton"), euclid.score(q, backend="torch"), atol=1e-4)
    with pytest.raises(ValueError, match="k <= 256"):
        ood.KNN(k=300).fit(rng.normal(size=(400, 4))).score(q[:, :4], backend="triton")


# --- input kinds, MSP temperature, Mahalanobis refits, ASH / SCALE / DICE as the authors' code


def _fitted_detectors(rng):
    z, y, W, b = _clusters(rng, n=240, d=6)
    return (
        z,
        y,
        W,
        b,
        {
            "mahalanobis": ood.Mahalanobis().fit(z, y),
            "rmds": ood.Mahalanobis(relative=True).fit(z, y),
            "knn": ood.KNN(k=3).fit(z),
            "vim": ood.ViM(dim=2).fit(z, head=(W, b)),
            "grood": ood.GROOD().fit(z, y, head=(W, b)),
        },
    )


def test_outputs_follow_the_input_kind():
    rng = np.random.default_rng(20)
    z, y, W, b, dets = _fitted_detectors(rng)
    q = np.abs(rng.normal(size=(5, 6)))
    calls = {name: det.score for name, det in dets.items()}
    calls.update(
        {
            "logit_scores": lambda a: ood.logit_scores(a)["msp"],
            "logit_scores_ref": lambda a: ood.logit_scores_ref(a)["gen"],
            "logit_scores_torch": lambda a: ood.logit_scores_torch(a)["energy"],
            "react": lambda a: ood.transforms.react(a, 1.0),
            "ash": lambda a: ood.transforms.ash(a, 50, "b"),
            "scale": lambda a: ood.transforms.scale(a, 50),
            "energy": lambda a: ood.transforms.energy(a, W, b),
            "dice": lambda a: ood.transforms.dice_weights(W, a, 0.5),
            "combine": ood.Combine().fit(np.abs(rng.normal(size=(50, 6)))).score,
        }
    )
    for name, f in calls.items():
        as_numpy, as_tensor = f(q), f(torch.from_numpy(q))
        assert isinstance(as_numpy, np.ndarray), name  # was a torch.Tensor for every detector
        assert isinstance(as_tensor, torch.Tensor), name
        assert np.allclose(as_numpy, as_tensor.numpy()), name
    # several arrays: a tensor among them gives a tensor
    assert isinstance(ood.transforms.energy(q, torch.from_numpy(W), b), torch.Tensor)
    assert isinstance(ood.transforms.dice_weights(torch.from_numpy(W), q), torch.Tensor)
    # float32 NumPy in: float32 NumPy out where the path keeps the input dtype
    assert ood.logit_scores(q.astype(np.float32))["msp"].dtype == np.float32


@pytest.mark.parametrize(
    "bad, exc, words",
    [
        (np.ones((4, 6), dtype=np.int64), TypeError, "feats: expected a floating-point"),
        (np.ones((4, 6), dtype=bool), TypeError, "feats: expected a floating-point"),
        (np.ones((4, 6), dtype=np.complex64), TypeError, "feats: expected a floating-point"),
        (np.full((4, 6), 1.0, dtype=object), TypeError, "feats: expected a floating-point"),
        (np.full((4, 6), np.inf), ValueError, "feats: contains NaN or inf"),
        (np.zeros((0, 6)), ValueError, "feats: expected at least one row"),
        (np.zeros(6), ValueError, "feats: expected a 2-D array"),
        ([[1.0, 2.0], [3.0]], TypeError, "feats"),
        ("abc", TypeError, "feats: expected a torch.Tensor or NumPy array"),
    ],
)
def test_bad_feats_name_the_argument(bad, exc, words):
    rng = np.random.default_rng(21)
    z, y, W, b, dets = _fitted_detectors(rng)
    calls = [det.score for det in dets.values()] + [
        lambda a: ood.Mahalanobis().fit(a, y[:4]),
        lambda a: ood.KNN().fit(a),
        lambda a: ood.transforms.react(a, 1.0),
        lambda a: ood.transforms.ash(a),
        lambda a: ood.transforms.energy(a, W, b),
    ]
    for call in calls:
        with pytest.raises(exc) as info:
            call(bad)
        assert words in str(info.value)
        if isinstance(bad, np.ndarray) and bad.dtype != object:
            with pytest.raises(exc) as info:
                call(torch.from_numpy(bad))
            assert words in str(info.value)


def test_bad_labels_and_heads_name_the_argument():
    z = np.random.default_rng(22).normal(size=(10, 3))
    for bad, exc, words in [
        (np.zeros(10), TypeError, "labels: expected an integer"),
        (np.arange(9), ValueError, "labels"),
        (-np.arange(10), ValueError, "labels: expected non-negative"),
    ]:
        for fit in (ood.Mahalanobis().fit, lambda a, y: ood.GROOD().fit(a, y)):
            with pytest.raises(exc, match=words):
                fit(z, bad)
    with pytest.raises(TypeError, match="head W: expected a floating-point"):
        ood.ViM(dim=1).fit(z, head=(np.ones((2, 3), dtype=int), np.zeros(2)))
    with pytest.raises(ValueError, match="head b: expected at least one value"):
        ood.ViM(dim=1).fit(z, head=(np.ones((2, 3)), np.zeros(0)))
    with pytest.raises(ValueError, match="b: expected 2 values"):
        ood.transforms.energy(z, np.ones((2, 3)), np.zeros(3))


@pytest.mark.parametrize("T", [0.5, 1.0, 2.5])
def test_msp_temperature_is_the_max_softmax_of_scaled_logits(T):
    l = torch.randn(40, 7, generator=torch.Generator().manual_seed(23), dtype=torch.float64) * 3
    want = torch.softmax(l / T, dim=1).max(dim=1).values
    energy = T * torch.logsumexp(l / T, dim=1)
    for out in (
        ood.logit_scores(l, temperature=T),
        ood.logit_scores(l, temperature=T, which=("msp",)),
        ood.logit_scores_ref(l, temperature=T),
        ood.logit_scores_torch(l, temperature=T),
    ):
        assert torch.allclose(out["msp"], want, rtol=1e-12, atol=0)
        assert "energy" not in out or torch.allclose(out["energy"], energy, rtol=1e-12, atol=0)
    pytest.importorskip("triton")
    fused = ood.logit_scores(l.float(), temperature=T, backend="triton")
    assert torch.allclose(fused["msp"].double(), want, rtol=1e-5, atol=0)
    assert torch.allclose(fused["energy"].double(), energy, rtol=1e-5, atol=0)


@pytest.mark.parametrize("relative", [False, True])
def test_mahalanobis_refit_drops_the_cached_factor(relative):
    """The Triton path caches a Cholesky factor of the precision: every fit / partial_fit drops it."""
    pytest.importorskip("triton")
    rng = np.random.default_rng(24)
    z1, y1 = rng.normal(size=(300, 6)), rng.integers(0, 3, 300)
    z2, y2 = rng.normal(size=(300, 6)) * np.array([4.0, 1, 1, 0.3, 2, 1]) + 2, rng.integers(0, 4, 300)
    q = rng.normal(size=(20, 6)) * 2

    def close(a, b):
        return np.allclose(a, b, rtol=1e-4, atol=1e-4 * np.abs(b).max())

    det = ood.Mahalanobis(relative=relative).fit(z1, y1)
    before = {bk: det.score(q, backend=bk) for bk in ("torch", "triton")}  # the Triton call builds the factor
    det.fit(z2, y2)
    want = ood.Mahalanobis(relative=relative).fit(z2, y2).score(q, backend="torch")
    for bk in ("torch", "triton"):
        assert not close(det.score(q, backend=bk), before[bk]), bk
        assert close(det.score(q, backend=bk), want), bk  # the Triton path used the old factor
    det.partial_fit(z1, y1)  # streaming more rows in: new statistics again
    want = ood.Mahalanobis(relative=relative).fit(np.vstack([z2, z1]), np.r_[y2, y1]).score(q, backend="torch")
    for bk in ("torch", "triton"):
        assert close(det.score(q, backend=bk), want), bk


def _ash_authors(x, percentile, mode):
    """The authors' ash_p / ash_b / ash_s and SCALE's scale (mode "scale") on (B, C) rows seen as
    (B, C, 1, 1) maps, transcribed from their code."""
    inp = x.clone()
    x = x.clone().view(x.shape[0], x.shape[1], 1, 1)
    b, c, h, w = x.shape
    s1 = x.sum(dim=[1, 2, 3])
    n = x.shape[1:].numel()
    k = n - int(np.round(n * percentile / 100.0))
    t = x.view((b, c * h * w))
    v, i = torch.topk(t, k, dim=1)
    if mode == "b":
        fill = (s1 / k).unsqueeze(dim=1).expand(v.shape)
        t.zero_().scatter_(dim=1, index=i, src=fill)
        return x.view(b, c)
    t.zero_().scatter_(dim=1, index=i, src=v)
    if mode == "p":
        return x.view(b, c)
    s2 = x.sum(dim=[1, 2, 3])
    base = inp.view(b, c, 1, 1) if mode == "scale" else x
    return (base * torch.exp((s1 / s2)[:, None, None, None])).view(b, c)


@pytest.mark.parametrize("percentile", [0, 50, 65, 90, 97.3])
def test_ash_and_scale_match_the_authors_code_with_ties(percentile):
    rng = np.random.default_rng(25)
    z = rng.integers(0, 4, size=(60, 37)).astype(np.float64)  # many ties at every k-th value
    z[:10, 3:] = 0.0  # rows with fewer positives than k
    z[10:20] = np.abs(rng.normal(size=(10, 37)))
    zt = torch.from_numpy(z)
    k = 37 - int(np.round(37 * percentile / 100.0))
    for mode in ("p", "b", "s"):
        got = ood.transforms.ash(zt, percentile, mode)
        assert torch.allclose(got, _ash_authors(zt, percentile, mode), rtol=1e-12, atol=0), mode
        if mode == "b":  # exactly k entries carry sum / k
            assert torch.all((got != 0).sum(1) == k)
            assert torch.allclose(got.sum(1), zt.sum(1), rtol=1e-12)
    assert torch.allclose(
        ood.transforms.scale(zt, percentile), _ash_authors(zt, percentile, "scale"), rtol=1e-12, atol=0
    )


def test_ash_b_keeps_exactly_k_when_the_kth_value_is_tied():
    row = torch.tensor([[3.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]], dtype=torch.float64)
    got = ood.transforms.ash(row, 80, "b")  # k = 10 - round(8) = 2
    assert sorted(got[0].tolist(), reverse=True)[:3] == [3.0, 3.0, 0.0] and got[0, 0] == 3.0  # was 1.5 on 4 entries


def test_ash_s_and_scale_leave_all_zero_rows_unscaled():
    z = torch.zeros(3, 8, dtype=torch.float64)
    z[1] = torch.arange(8.0)
    for out in (ood.transforms.ash(z, 75, "s"), ood.transforms.scale(z, 75)):
        assert torch.isfinite(out).all()  # the authors' code gives NaN (0 / 0)
        assert torch.equal(out[0], z[0]) and torch.equal(out[2], z[2])
        assert torch.isnan(_ash_authors(z, 75, "s")[0]).all()
    with pytest.raises(ValueError, match="percentile"):
        ood.transforms.ash(z, 99)  # k = 8 - round(7.92) = 0: nothing kept


def _dice_authors(W, feats, p):
    """DICE's mask, as the authors compute it: numpy percentile of the contributions, strict >."""
    contrib = feats.mean(0)[None, :] * W
    return W * (contrib > np.percentile(contrib, p))


@pytest.mark.parametrize("p", [0, 10, 50, 70, 90, 99])
def test_dice_keeps_the_authors_count_on_random_and_tied_contributions(p):
    rng = np.random.default_rng(26)
    cases = [
        (rng.normal(size=(7, 64)), np.abs(rng.normal(size=(30, 64)))),
        (rng.normal(size=(1, 448)), np.abs(rng.normal(size=(20, 448)))),
        (rng.integers(-2, 3, size=(5, 40)).astype(float), np.ones((4, 40))),  # heavy ties
        (rng.integers(-2, 3, size=(5, 40)).astype(float), rng.integers(0, 3, size=(6, 40)).astype(float)),
    ]
    for W, feats in cases:
        got = ood.transforms.dice_weights(W, feats, sparsity=p / 100)
        want = _dice_authors(W, feats, p)
        assert isinstance(got, np.ndarray) and np.array_equal(got, want), (W.shape, p)


def test_dice_448_weights_at_sparsity_0_7_keep_135():
    rng = np.random.default_rng(0)
    W, z = rng.normal(size=(1, 448)), np.abs(rng.normal(size=(20, 448)))
    assert int((ood.transforms.dice_weights(W, z, sparsity=0.7) != 0).sum()) == 135  # was round(0.3 * 448) = 134
