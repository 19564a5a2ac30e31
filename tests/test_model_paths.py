"""A saved model's path works wherever the model does: assay.TreeExplainer("model.json", data=X)
reads it as `assay explain` does and equals the explainer of the model in memory, bit for bit."""

import pickle
from pathlib import Path

import numpy as np
import pytest

import assay


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """In-memory models and the files they were saved to: {file name: model}."""
    import lightgbm as lgb
    import xgboost as xgb

    d = tmp_path_factory.mktemp("models")
    rng = np.random.default_rng(3)
    X = rng.normal(size=(400, 5))
    X[::17, 2] = np.nan
    y = X[:, 0] * X[:, 1] + np.nan_to_num(X[:, 2]) + 0.1 * rng.normal(size=len(X))
    xm = xgb.XGBRegressor(n_estimators=15, max_depth=4).fit(X, y)
    xm.get_booster().save_model(d / "m.json")
    xm.get_booster().save_model(d / "m.ubj")
    lm = lgb.LGBMRegressor(n_estimators=15, num_leaves=15, verbose=-1).fit(X, y)
    lm.booster_.save_model(d / "m.txt")
    return X, d, {"m.json": xm, "m.ubj": xm, "m.txt": lm}


@pytest.mark.parametrize("name", ["m.json", "m.ubj", "m.txt"])
@pytest.mark.parametrize("as_type", [str, Path])
def test_explainer_of_a_path_equals_the_in_memory_model(saved, name, as_type):
    X, d, models = saved
    bg, fg = X[:100], X[100:160]
    from_file = assay.TreeExplainer(as_type(d / name), data=bg)
    in_memory = assay.TreeExplainer(models[name], data=bg)
    assert np.array_equal(from_file.shap_values(fg), in_memory.shap_values(fg))
    assert np.array_equal(from_file.shap_interaction_values(fg[:5]), in_memory.shap_interaction_values(fg[:5]))
    assert from_file.expected_value == in_memory.expected_value
    assert np.array_equal(
        assay.convert_model(as_type(d / name)).predict_raw(fg), in_memory.predict_raw(fg).reshape(-1, 1)
    )


def test_missing_model_file_names_model_and_the_path(tmp_path):
    path = tmp_path / "absent.json"
    with pytest.raises(FileNotFoundError, match=r"model: no such file: .*absent\.json"):
        assay.TreeExplainer(str(path), data=np.zeros((2, 2)))
    with pytest.raises(FileNotFoundError, match=r"model: a directory"):
        assay.convert_model(tmp_path)


@pytest.mark.parametrize(
    "name, message",
    [
        (
            "m.onnx",
            r"model: unknown model file type '\.onnx' for .*m\.onnx.*\.json/\.ubj for XGBoost, \.txt for LightGBM",
        ),
        ("m.pkl", r"model: unknown model file type '\.pkl' .*unpickle it yourself"),
    ],
)
def test_unknown_model_file_type_is_a_value_error(tmp_path, name, message):
    path = tmp_path / name
    path.write_bytes(pickle.dumps("not run"))
    with pytest.raises(ValueError, match=message):
        assay.convert_model(str(path))


@pytest.mark.parametrize("name", ["m.json", "m.ubj", "m.txt"])
def test_unreadable_model_file_is_a_value_error(tmp_path, name):
    path = tmp_path / name
    path.write_text("not a model\n")
    with pytest.raises(ValueError, match=rf"model: cannot read .*{name.replace('.', r'[.]')}.* model"):
        assay.convert_model(path)


def test_the_command_line_reads_model_files_with_the_same_loader(monkeypatch, saved):
    from assay.cli import explain
    from assay.trees import model_files

    X, d, _ = saved
    calls = []
    real = model_files.load_model_file
    monkeypatch.setattr(model_files, "load_model_file", lambda path, **kw: calls.append(path) or real(path, **kw))
    explain.load_model(d / "m.txt")
    assay.convert_model(str(d / "m.json"))
    assert [Path(p).name for p in calls] == ["m.txt", "m.json"]
