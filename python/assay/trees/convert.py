"""One entry point from any supported model to the IR; model libraries are imported lazily."""
from __future__ import annotations

from .forest import TreeModel

SUPPORTED = (
    "xgboost.Booster, xgboost.XGBRegressor/XGBClassifier/XGBRanker/XGBRF*, "
    "lightgbm.Booster, lightgbm.LGBMRegressor/LGBMClassifier/LGBMRanker, "
    "sklearn DecisionTree*, RandomForest*, ExtraTrees*, GradientBoosting*, HistGradientBoosting* "
    "(regressor and classifier)"
)


def _module_root(model) -> str:
    return type(model).__module__.split(".")[0]


def convert_model(model) -> TreeModel:
    """Convert a fitted XGBoost, LightGBM or scikit-learn tree model to assay's IR."""
    if isinstance(model, TreeModel):
        return model
    root = _module_root(model)
    if root == "xgboost":
        from ._xgboost import convert_xgboost

        return convert_xgboost(model)
    if root == "lightgbm":
        from ._lightgbm import convert_lightgbm

        return convert_lightgbm(model)
    if root == "sklearn":
        from ._sklearn import convert_sklearn

        return convert_sklearn(model)
    raise TypeError(f"model: unsupported model type {type(model).__module__}.{type(model).__name__}; supported: {SUPPORTED}")
