"""One entry point from any supported model to the IR; model libraries are imported lazily."""

from __future__ import annotations

from ..errors import UnsupportedModelError
from .forest import TreeModel
from . import model_files

SUPPORTED = (
    "xgboost.Booster, xgboost.XGBRegressor/XGBClassifier/XGBRanker/XGBRF*, "
    "lightgbm.Booster, lightgbm.LGBMRegressor/LGBMClassifier/LGBMRanker, "
    "sklearn DecisionTree*, RandomForest*, ExtraTrees*, GradientBoosting*, HistGradientBoosting* "
    "(regressor and classifier), "
    "catboost.CatBoost/CatBoostRegressor/CatBoostClassifier/CatBoostRanker (numeric and one-hot categorical splits); "
    "or the path (str / os.PathLike) of an XGBoost .json/.ubj, LightGBM .txt or CatBoost .cbm model file"
)


def _module_root(model) -> str:
    return type(model).__module__.split(".")[0]


def convert_model(model) -> TreeModel:
    """Convert a fitted XGBoost, LightGBM, scikit-learn or CatBoost tree model to assay's IR. A path to a
    saved XGBoost (.json, .ubj), LightGBM (.txt) or CatBoost (.cbm) model is read as the command line reads it."""
    if isinstance(model, TreeModel):
        return model
    if model_files.is_model_path(model):
        model = model_files.load_model_file(model)
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
    if root == "catboost":
        from ._catboost import convert_catboost

        return convert_catboost(model)
    raise UnsupportedModelError(
        f"model: unsupported model type {type(model).__module__}.{type(model).__name__}; supported: {SUPPORTED}"
    )
