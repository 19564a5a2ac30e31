"""`assay demo` prints both efficiencies: exact against assay's own float64 output, and against
XGBoost's float32 margin (its rounding), so the README's ~1e-15 claim is visible and checked."""

import re

import pytest

from assay.cli.demo import demo


def test_demo_prints_the_exact_and_the_float32_efficiency(capsys):
    pytest.importorskip("xgboost")
    assert demo(rows=60, with_shap=False) == 0
    text = capsys.readouterr().out
    found = re.search(
        r"= ([0-9.e+-]+) against assay's float64 predict_raw \(exact\), ([0-9.e+-]+) against "
        r"XGBoost's float32 margin",
        text,
    )
    assert found, text
    exact, float32 = map(float, found.groups())
    assert exact < 1e-12
    assert float32 < 1e-4
