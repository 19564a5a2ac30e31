"""The command line: assay explain on saved XGBoost / LightGBM / scikit-learn models, assay bench."""
import json
import pickle

import numpy as np
import pandas as pd
import pytest

import assay
from assay.cli import main


@pytest.fixture
def tables(tmp_path):
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(300, 4)), columns=["a", "b", "c", "d"])
    y = X["a"] * X["b"] + X["c"] + 0.1 * rng.normal(size=300)
    X.iloc[:40].to_csv(tmp_path / "X.csv", index=False)
    X.iloc[100:200].to_parquet(tmp_path / "bg.parquet", index=False)
    return X, y, tmp_path


def _saved_models(X, y, d):
    import lightgbm as lgb
    import xgboost as xgb
    from sklearn.ensemble import RandomForestRegressor
    xm = xgb.XGBRegressor(n_estimators=10, max_depth=3).fit(X, y)
    xm.get_booster().save_model(d / "m.json")
    xm.get_booster().save_model(d / "m.ubj")
    lm = lgb.LGBMRegressor(n_estimators=10, num_leaves=7, verbose=-1).fit(X, y)
    lm.booster_.save_model(d / "m.txt")
    rf = RandomForestRegressor(n_estimators=5, max_depth=4, random_state=0).fit(X, y)
    with open(d / "m.pkl", "wb") as f:
        pickle.dump(rf, f)
    return {"m.json": xm, "m.ubj": xm, "m.txt": lm, "m.pkl": rf}


def test_explain_saved_models_matches_the_api(tables):
    X, y, d = tables
    for name, model in _saved_models(X, y, d).items():
        out = d / f"{name}.parquet"
        with pytest.warns(UserWarning, match="trust") if name.endswith(".pkl") else _no_warning():
            rc = main([ "explain", str(d / name), "--data", str(d / "X.csv"), "--background", str(d / "bg.parquet"),
                        "-o", str(out), "--no-progress"])
        assert rc == 0
        got = pd.read_parquet(out)
        want = assay.TreeExplainer(model, X.iloc[100:200]).shap_values(X.iloc[:40])
        assert list(got.columns) == ["a", "b", "c", "d"]
        assert np.allclose(got.to_numpy(), want, atol=1e-9), name


def test_explain_interactions_and_groups(tables):
    X, y, d = tables
    models = _saved_models(X, y, d)
    (d / "groups.json").write_text(json.dumps({"ab": ["a", "b"]}))
    out = d / "st.csv"
    rc = main(["explain", str(d / "m.json"), "--data", str(d / "X.csv"), "--background", str(d / "bg.parquet"),
               "--interactions", "taylor", "--groups", str(d / "groups.json"), "-o", str(out), "--no-progress"])
    assert rc == 0
    got = pd.read_csv(out)
    ex = assay.TreeExplainer(models["m.json"], X.iloc[100:200], groups={"ab": ["a", "b"]})
    want = ex.shapley_taylor_values(X.iloc[:40])
    assert list(got.columns)[:3] == ["ab|ab", "ab|c", "ab|d"]
    assert np.allclose(got.to_numpy().reshape(want.shape), want, atol=1e-9)


@pytest.mark.parametrize("args, message", [
    (["explain", "nope.json", "--data", "X.csv", "--background", "bg.parquet", "-o", "o.csv"], "no such file"),
    (["explain", "m.json", "--data", "X.txt", "--background", "bg.parquet", "-o", "o.csv"], "no such file"),
    (["explain", "m.json", "--data", "X.csv", "--background", "bg.parquet", "-o", "o.xlsx"], "expected a .csv or .parquet output"),
    (["explain", "X.csv", "--data", "X.csv", "--background", "bg.parquet", "-o", "o.csv"], "unknown model file type"),
])
def test_explain_errors_are_one_line(tables, args, message, capsys, monkeypatch):
    X, y, d = tables
    _saved_models(X, y, d)
    monkeypatch.chdir(d)
    assert main(args + ["--no-progress"]) == 2
    assert message in capsys.readouterr().err


def test_bench_runs_without_peers(capsys):
    assert main(["bench", "--size", "200x100", "--models", "xgb6", "--peers", "none"]) == 0
    assert "assay" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["bench", "--size", "big"])


class _no_warning:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
