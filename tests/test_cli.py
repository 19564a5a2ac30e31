"""The command line: assay explain on saved XGBoost / LightGBM / scikit-learn models, assay bench;
progress in logs; the install extras CI relies on."""

import json
import pickle
import re
import sys
from pathlib import Path

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
            rc = main(
                [
                    "explain",
                    str(d / name),
                    "--data",
                    str(d / "X.csv"),
                    "--background",
                    str(d / "bg.parquet"),
                    "-o",
                    str(out),
                    "--no-progress",
                ]
            )
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
    rc = main(
        [
            "explain",
            str(d / "m.json"),
            "--data",
            str(d / "X.csv"),
            "--background",
            str(d / "bg.parquet"),
            "--interactions",
            "taylor",
            "--groups",
            str(d / "groups.json"),
            "-o",
            str(out),
            "--no-progress",
        ]
    )
    assert rc == 0
    got = pd.read_csv(out)
    ex = assay.TreeExplainer(models["m.json"], X.iloc[100:200], groups={"ab": ["a", "b"]})
    want = ex.shapley_taylor_values(X.iloc[:40])
    assert list(got.columns)[:3] == ["ab|ab", "ab|c", "ab|d"]
    assert np.allclose(got.to_numpy().reshape(want.shape), want, atol=1e-9)


@pytest.mark.parametrize(
    "args, message",
    [
        (["explain", "nope.json", "--data", "X.csv", "--background", "bg.parquet", "-o", "o.csv"], "no such file"),
        (["explain", "m.json", "--data", "X.txt", "--background", "bg.parquet", "-o", "o.csv"], "no such file"),
        (
            ["explain", "m.json", "--data", "X.csv", "--background", "bg.parquet", "-o", "o.xlsx"],
            "expected a .csv or .parquet output",
        ),
        (
            ["explain", "X.csv", "--data", "X.csv", "--background", "bg.parquet", "-o", "o.csv"],
            "unknown model file type",
        ),
    ],
)
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


_EXPLAIN_ARGS = {"--data": "X.csv", "--background": "bg.parquet", "-o": "out.csv"}


def _forbid(*args, **kwargs):
    raise AssertionError("work started before every argument was checked")


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"-o": "out.xlsx"}, "-o: expected a .csv or .parquet output, got out.xlsx"),
        ({"-o": "no_such_dir/out.csv"}, "-o: no such directory: no_such_dir"),
        ({"--background": "absent.csv"}, "--background: no such file: absent.csv"),
        ({"--data": "X.json"}, "--data: no such file: X.json"),
        ({"--groups": "absent.json"}, "--groups: no such file: absent.json"),
        ({"--n-jobs": "0"}, "--n-jobs: expected -1 or a positive number of threads, got 0"),
        ({"model": "absent.json"}, "model: no such file: 'absent.json'"),
    ],
)
def test_explain_checks_every_argument_before_loading_or_computing(tables, bad, message, capsys, monkeypatch):
    import xgboost as xgb

    X, y, d = tables
    _saved_models(X, y, d)
    monkeypatch.chdir(d)
    # Any loading or computing fails the test: the bad argument must be refused before all of it.
    for owner, name in [
        (assay, "TreeExplainer"),
        (assay, "convert_model"),
        (xgb, "Booster"),
        (pd, "read_csv"),
        (pd, "read_parquet"),
    ]:
        monkeypatch.setattr(owner, name, _forbid)
    options = {**_EXPLAIN_ARGS, **bad}
    argv = ["explain", options.pop("model", "m.json")] + [v for kv in options.items() for v in kv]
    assert main(argv + ["--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def _help_entries(text):
    """{option: its help text} from argparse's --help output (the help may start on the next line)."""
    entries, current = {}, None
    for line in text.splitlines():
        start = re.match(r"^  (\S.*?)(?:\s{2,}(\S.*))?$", line)
        if start and not line.startswith("   "):
            words = [w.rstrip(",") for w in start.group(1).split()]
            current = ([w for w in words if w.startswith("-")] or words)[-1]
            entries[current] = start.group(2) or ""
        elif current and line.startswith("   "):
            entries[current] = (entries[current] + " " + line.strip()).strip()
        else:
            current = None
    return entries


@pytest.mark.parametrize(
    "command, options",
    [
        (
            "explain",
            [
                "model",
                "--data",
                "--background",
                "--kind",
                "--interactions",
                "--groups",
                "--n-jobs",
                "--no-progress",
                "--output",
            ],
        ),
        ("bench", ["--size", "--models", "--peers"]),
        ("demo", ["--rows", "--no-shap"]),
    ],
)
def test_every_option_has_a_help_text(command, options, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    entries = _help_entries(capsys.readouterr().out)
    assert set(options) <= set(entries), entries
    undocumented = [o for o, text in entries.items() if len(text) < 10]
    assert not undocumented, entries


def test_bench_trains_on_a_set_scaled_to_the_size(capsys, monkeypatch):
    from assay.cli import bench

    X_train, y_train, fg, bg = bench.make_data(*bench.parse_size("300x100"))
    assert X_train.shape == (1000, 20) and y_train.shape == (1000,)
    assert fg.shape == (300, 20) and bg.shape == (100, 20)
    assert len(bench.make_data(*bench.parse_size("10k"))[0]) == 20_000
    assert len(bench.make_data(*bench.parse_size("100k"))[0]) == 20_000
    fitted = []  # rows each model was fitted on

    def recorded(make):
        def factory():
            model, fit = make(), None
            fit = model.fit
            model.fit = lambda X, y: fitted.append(len(X)) or fit(X, y)
            return model

        return factory

    monkeypatch.setitem(bench.MODELS, "xgb6", recorded(bench.MODELS["xgb6"]))
    assert main(["bench", "--size", "30x20", "--models", "xgb6", "--peers", "none"]) == 0
    assert fitted == [1000]
    assert "training on 1000 rows" in capsys.readouterr().out


def test_progress_in_a_log_is_one_line_per_tenth(capsys):
    from assay._progress import progress_callback

    with progress_callback(True, 1000, "rows") as report:
        for done in range(1001):
            report(done)
    err = capsys.readouterr().err
    lines = err.splitlines()  # splits at \r too: a bar's redraws would count
    assert lines == [f"rows: {p}% ({10 * p}/1000)" for p in range(10, 101, 10)]
    with progress_callback(True, 7, "tables (trees)") as report:
        report(3)
        report(7)
    assert capsys.readouterr().err.splitlines() == ["tables (trees): 40% (3/7)", "tables (trees): 100% (7/7)"]


def test_explain_progress_in_a_log_has_few_lines(tables, capsys):
    X, y, d = tables
    _saved_models(X, y, d)
    rc = main(
        [
            "explain",
            str(d / "m.json"),
            "--data",
            str(d / "X.csv"),
            "--background",
            str(d / "bg.parquet"),
            "-o",
            str(d / "out.csv"),
        ]
    )
    assert rc == 0
    lines = capsys.readouterr().err.splitlines()
    assert 3 <= len(lines) <= 33, lines  # three reports (background, tables, rows), at most 11 lines each
    assert all(
        re.fullmatch(r"(background \(trees\)|tables \(trees\)|rows): \d+% \(\d+/\d+\)", line) for line in lines
    ), lines


REPO = Path(__file__).resolve().parents[1]


def test_install_extras_state_ranges_not_pins():
    # A pin in an extra downgrades the user's own copy of that package (torch==2.13.0 did).
    if not (REPO / "pyproject.toml").is_file() or sys.version_info < (3, 11):
        pytest.skip("needs the source tree's pyproject.toml and tomllib (Python 3.11)")
    import tomllib

    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    pinned = [req for reqs in extras.values() for req in reqs if re.search(r"===?\s*[\w.]*\d\s*($|;|,)", req)]
    assert not pinned, pinned
    assert "torch>=2.1" in extras["test"]


def test_ci_installs_the_cpu_torch_before_the_readme_command_and_logs_versions():
    script = REPO / ".ci" / "run"
    if not script.is_file():
        pytest.skip("needs the source tree's .ci/run")
    lines = [line.strip() for line in script.read_text().splitlines() if not line.strip().startswith("#")]
    readme = next(
        i for i, line in enumerate(lines) if line.startswith('pip install ".[test]" && python -m pytest tests -q')
    )
    torch = next(i for i, line in enumerate(lines) if re.match(r"pip install (-q )?torch==", line))
    freeze = next(i for i, line in enumerate(lines) if line.startswith("pip freeze"))
    assert torch < readme < freeze


def _explain_to_frame(d, data, model="m.json"):
    out = d / f"out_{data}.csv"
    rc = main(
        [
            "explain",
            str(d / model),
            "--data",
            str(d / data),
            "--background",
            str(d / "bg.parquet"),
            "-o",
            str(out),
            "--no-progress",
        ]
    )
    return rc, (pd.read_csv(out) if rc == 0 else None)


@pytest.mark.parametrize("model", ["m.json", "m.txt", "m.pkl"])
def test_explain_matches_input_columns_by_name(tables, model, capsys):
    X, y, d = tables
    _saved_models(X, y, d)
    X.iloc[:40][["c", "a", "d", "b"]].to_csv(d / "X_reordered.csv", index=False)
    X.iloc[:40].rename(columns={"c": "see"}).to_csv(d / "X_renamed.csv", index=False)
    with pytest.warns(UserWarning, match="trust") if model.endswith(".pkl") else _no_warning():
        ordered = _explain_to_frame(d, "X.csv", model)
        reordered = _explain_to_frame(d, "X_reordered.csv", model)
        renamed = _explain_to_frame(d, "X_renamed.csv", model)
    assert ordered[0] == reordered[0] == 0
    pd.testing.assert_frame_equal(reordered[1], ordered[1], check_exact=True)
    assert renamed[0] == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--data" in err and "'see'" in err and "missing 'c'" in err, err


class _no_warning:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
