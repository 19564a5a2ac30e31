import os

import numpy as np
import pytest

os.environ.setdefault("OMP_NUM_THREADS", "2")


def pytest_collection_modifyitems(config, items):
    try:
        from assay import cuda_available  # noqa: F401  (CUDA issue)

        has_gpu = cuda_available()
    except ImportError:
        has_gpu = False
    if not has_gpu:
        skip = pytest.mark.skip(reason="no CUDA device / CUDA build")
        for item in items:
            if "gpu" in item.keywords:
                item.add_marker(skip)


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


def adversarial_rows(model, X, rng, n=400, nan_frac=0.1, on_threshold_frac=0.25):
    """Rows drawn from X with NaN, values exactly on split thresholds and one float32 ulp around them."""
    feats, thrs = model.forest.split_thresholds()
    keep = np.isfinite(thrs)  # sklearn puts "missing values only" splits at inf
    feats, thrs = feats[keep], thrs[keep]
    A = X[rng.integers(0, len(X), n)].astype(np.float64).copy()
    if len(thrs):
        mask = rng.random(A.shape) < on_threshold_frac
        for r, c in zip(*np.nonzero(mask)):
            options = thrs[feats == c]
            if options.size:
                t = options[rng.integers(options.size)]
                kind = rng.integers(3)
                if kind == 1:
                    t = float(np.nextafter(np.float32(t), np.float32(np.inf)))
                elif kind == 2:
                    t = float(np.nextafter(np.float32(t), np.float32(-np.inf)))
                A[r, c] = t
    if nan_frac:
        A[rng.random(A.shape) < nan_frac] = np.nan
    return A


def assert_close_scaled(got, want, rel, what=""):
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    scale = max(1.0, float(np.nanmax(np.abs(want))) if want.size else 1.0)
    diff = float(np.max(np.abs(got - want))) if got.size else 0.0
    assert diff <= rel * scale, f"{what}: max abs diff {diff:.3g} > {rel:g} x scale {scale:.3g}"
