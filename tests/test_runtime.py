"""Progress, Ctrl-C, pickling, Dask and plots: the runtime around the kernels."""

import os
import pickle
import signal
import threading
import time

import numpy as np
import pytest

import assay
from random_forests import random_rows, random_tree_model


@pytest.fixture(scope="module")
def case():
    rng = np.random.default_rng(0)
    model = random_tree_model(rng, 8, n_trees=40, max_depth=7)
    return model, random_rows(rng, model, 200), random_rows(rng, model, 3000)


def test_progress_callback_counts_every_row(case):
    model, bg, X = case
    seen = []
    ex = assay.TreeExplainer(model, bg, progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (40, 40)  # the table build counts trees
    seen.clear()
    ex.shap_values(X, progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (3000, 3000) and all(t == 3000 for _, t in seen)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    with pytest.raises(TypeError, match="progress"):
        ex.shap_values(X, progress="yes")


def test_ctrl_c_stops_a_long_call_quickly(case):
    model, bg, X = case
    ex = assay.TreeExplainer(model, bg, algorithm="pairwise")  # slow on purpose: ~seconds
    # Python's own Ctrl-C handler: a process started in the background by a non-interactive shell
    # (`cmd &`) inherits SIGINT ignored, and Python then installs no handler at all.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT))
    big = np.concatenate([X] * 4)  # seconds of work
    timer.start()
    t0 = time.perf_counter()
    try:
        with pytest.raises(KeyboardInterrupt):
            ex.shap_values(big)
    finally:
        timer.cancel()  # never let a late SIGINT escape the test
        signal.signal(signal.SIGINT, previous)
    assert time.perf_counter() - t0 < 1.3
    assert ex.shap_values(X[:5]).shape == (5, 8)  # still usable afterwards


def test_a_failing_progress_callback_stops_the_call(case):
    model, bg, X = case
    ex = assay.TreeExplainer(model, bg, algorithm="pairwise")

    def boom(done, total):
        raise RuntimeError("from the callback")

    with pytest.raises(RuntimeError, match="from the callback"):
        ex.shap_values(X, progress=boom)


def test_explainers_pickle_and_give_identical_results(case):
    model, bg, X = case
    ex = assay.TreeExplainer(model, bg, groups={"g": [0, 1]})
    ex.shap_interaction_values(X[:10])
    back = pickle.loads(pickle.dumps(ex))
    assert back.player_names == ex.player_names and back.expected_value == ex.expected_value
    assert np.array_equal(back.shap_interaction_values(X), ex.shap_interaction_values(X))


def test_dask_matches_the_single_process_call(case):
    pytest.importorskip("distributed")
    import dask.array as da
    import dask.dataframe as dd
    import pandas as pd
    from distributed import Client, LocalCluster

    import assay.dask

    model, bg, X = case
    ex = assay.TreeExplainer(model, bg)
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        Client(cluster),
    ):
        frame = dd.from_pandas(pd.DataFrame(X, columns=[f"x{i}" for i in range(8)]), npartitions=5)
        assert np.array_equal(assay.dask.shap_values(ex, frame).compute(), ex.shap_values(X))
        arr = da.from_array(X[:500], chunks=(120, 4))
        assert np.array_equal(assay.dask.shapley_taylor_values(ex, arr).compute(), ex.shapley_taylor_values(X[:500]))
    with pytest.raises(TypeError, match="data: expected a dask"):
        assay.dask.shap_values(ex, X)


def test_interaction_heatmap_and_hasse_plots(case, tmp_path):
    pytest.importorskip("matplotlib")
    import assay.plot
    from assay.rashomon import PartialOrder

    model, bg, X = case
    ex = assay.TreeExplainer(model, bg)
    st = ex.shapley_taylor_values(X[:50])
    assay.plot.interaction_heatmap(st, ex.player_names, path=tmp_path / "mean.png")
    assay.plot.interaction_heatmap(st, ex.player_names, row=3, path=tmp_path / "row.svg")
    assert (tmp_path / "mean.png").stat().st_size > 0 and (tmp_path / "row.svg").stat().st_size > 0
    rel = np.zeros((3, 3), dtype=bool)
    rel[0, 1] = True
    assay.plot.hasse(PartialOrder(rel), path=tmp_path / "h.png")
    with pytest.raises(ValueError, match="values: expected"):
        assay.plot.interaction_heatmap(st[:, 0], ex.player_names)
    rng = np.random.default_rng(0)
    assay.plot.roc(
        {"a": rng.normal(1, 1, 50), "b": rng.normal(2, 1, 50)},
        {"a": rng.normal(0, 1, 40), "b": rng.normal(0, 1, 40)},
        path=tmp_path / "roc.png",
    )
    assert (tmp_path / "roc.png").stat().st_size > 0
    with pytest.raises(ValueError, match="same detectors"):
        assay.plot.roc({"a": [1.0]}, {"b": [0.0]})


@pytest.mark.parametrize("user_setting", [None, "5"])
def test_importing_assay_leaves_the_environment_as_it_was(user_setting):
    # assay shortens its OpenMP threads' spin-wait for its own runtime only (assay._load_core): the
    # variable is gone after the import, and a user's own setting is never replaced.
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("GOMP_SPINCOUNT", "KMP_BLOCKTIME", "OMP_WAIT_POLICY")}
    if user_setting is not None:
        env["GOMP_SPINCOUNT"] = user_setting
    code = "import os, assay; print(os.environ.get('GOMP_SPINCOUNT'), os.environ.get('KMP_BLOCKTIME'))"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.split() == [str(user_setting), "None"]
