"""Small fitted models of every supported kind, with the library's own raw prediction."""

import numpy as np


def data(rng, n=600, d=6, nan_frac=0.0, classes=None):
    X = rng.normal(size=(n, d)).astype(np.float32).astype(np.float64)
    X[:, 1] = np.round(X[:, 1] * 2) / 2  # ties and repeated values
    score = X[:, 0] + X[:, 1] * X[:, 2] + 0.5 * np.sin(3 * X[:, 3])
    if nan_frac:
        X[rng.random(X.shape) < nan_frac] = np.nan
    if classes is None:
        return X, score + 0.1 * rng.normal(size=n)
    edges = np.quantile(score, np.linspace(0, 1, classes + 1)[1:-1])
    return X, np.digitize(score, edges)


def xgb_models(rng):
    import xgboost as xgb

    out = {}
    X, y = data(rng, nan_frac=0.05)
    out["xgb_reg"] = (xgb.XGBRegressor(n_estimators=15, max_depth=4).fit(X, y), X)
    Xc, yc = data(rng, classes=2, nan_frac=0.05)
    out["xgb_binary"] = (xgb.XGBClassifier(n_estimators=15, max_depth=3).fit(Xc, yc), Xc)
    Xm, ym = data(rng, classes=3, nan_frac=0.05)
    out["xgb_multiclass"] = (xgb.XGBClassifier(n_estimators=8, max_depth=3).fit(Xm, ym), Xm)
    out["xgb_parallel_trees"] = (
        xgb.XGBRegressor(n_estimators=5, num_parallel_tree=3, max_depth=3, subsample=0.8, colsample_bynode=0.8).fit(
            X, y
        ),
        X,
    )
    out["xgb_dart"] = (xgb.XGBRegressor(n_estimators=10, max_depth=3, booster="dart", rate_drop=0.3).fit(X, y), X)
    out["xgb_poisson"] = (
        xgb.XGBRegressor(n_estimators=10, max_depth=3, objective="count:poisson").fit(X, np.abs(y).round()),
        X,
    )
    es = xgb.XGBRegressor(n_estimators=200, max_depth=3, learning_rate=0.5, early_stopping_rounds=3)
    out["xgb_early_stopping"] = (es.fit(X[:400], y[:400], eval_set=[(X[400:], y[400:])], verbose=False), X)
    # categorical features (codes 0..39, more than 32 categories) with NaN
    Xk = X.copy()
    Xk[:, 4] = rng.integers(0, 40, len(X))
    Xk[rng.random(len(X)) < 0.05, 4] = np.nan
    yk = y + (Xk[:, 4] % 3 == 0)
    dm = xgb.DMatrix(Xk, yk, feature_types=["q", "q", "q", "q", "c", "q"], enable_categorical=True)
    booster = xgb.train({"max_depth": 4, "max_cat_to_onehot": 1}, dm, 10)
    out["xgb_categorical"] = (booster, Xk)
    return out


def xgb_raw(model, X):
    import xgboost as xgb

    if isinstance(model, xgb.Booster):
        ft = model.feature_types
        dm = xgb.DMatrix(X, feature_types=ft, enable_categorical=bool(ft and "c" in ft))
        return model.predict(dm, output_margin=True)
    return model.predict(X, output_margin=True)


def lgb_models(rng):
    import lightgbm as lgb

    p = dict(n_estimators=12, num_leaves=15, verbose=-1, min_child_samples=5)
    out = {}
    X, y = data(rng, nan_frac=0.05)
    out["lgb_reg"] = (lgb.LGBMRegressor(**p).fit(X, y), X)
    Xz = X.copy()
    Xz[rng.random(Xz.shape) < 0.1] = 0.0
    out["lgb_missing_none"] = (lgb.LGBMRegressor(use_missing=False, **p).fit(Xz, y), Xz)
    out["lgb_missing_zero"] = (lgb.LGBMRegressor(zero_as_missing=True, **p).fit(Xz, y), Xz)
    Xc, yc = data(rng, classes=2, nan_frac=0.05)
    out["lgb_binary"] = (lgb.LGBMClassifier(**p).fit(Xc, yc), Xc)
    Xm, ym = data(rng, classes=3)
    out["lgb_multiclass"] = (lgb.LGBMClassifier(**p).fit(Xm, ym), Xm)
    out["lgb_rf"] = (lgb.LGBMRegressor(boosting_type="rf", subsample=0.7, subsample_freq=1, **p).fit(X, y), X)
    Xk = X.copy()
    Xk[:, 4] = rng.integers(0, 60, len(X))
    yk = y + 2.0 * (Xk[:, 4] % 4 == 0)
    out["lgb_categorical"] = (
        lgb.LGBMRegressor(max_cat_to_onehot=1, cat_smooth=1, min_data_per_group=5, cat_l2=0.0, **p).fit(
            Xk, yk, categorical_feature=[4]
        ),
        Xk,
    )
    # later trees that cannot split become single leaves
    Xs = X[:40]
    out["lgb_single_leaf"] = (lgb.LGBMRegressor(n_estimators=6, min_child_samples=30, verbose=-1).fit(Xs, y[:40]), Xs)
    return out


def lgb_raw(model, X):
    raw = model.predict(X, raw_score=True)
    dump = model.booster_.dump_model(num_iteration=-1)
    if dump.get("average_output"):
        # LightGBM's raw_score in RF mode is the un-averaged sum; its prediction averages.
        raw = raw / (len(dump["tree_info"]) // dump["num_tree_per_iteration"])
    return raw


def sklearn_models(rng):
    from sklearn import ensemble, tree

    out = {}
    X, y = data(rng)
    Xn, yn = data(rng, nan_frac=0.05)
    Xc, yc = data(rng, classes=3)
    Xb, yb = data(rng, classes=2)
    out["sk_tree_reg"] = (tree.DecisionTreeRegressor(max_depth=6).fit(Xn, yn), Xn)
    out["sk_tree_clf"] = (tree.DecisionTreeClassifier(max_depth=5).fit(Xc, yc), Xc)
    out["sk_rf_reg"] = (ensemble.RandomForestRegressor(n_estimators=8, max_depth=6).fit(Xn, yn), Xn)
    out["sk_rf_clf"] = (ensemble.RandomForestClassifier(n_estimators=8, max_depth=6).fit(Xc, yc), Xc)
    out["sk_et_reg"] = (ensemble.ExtraTreesRegressor(n_estimators=8, max_depth=6).fit(X, y), X)
    out["sk_et_clf"] = (ensemble.ExtraTreesClassifier(n_estimators=8, max_depth=6).fit(Xb, yb), Xb)
    out["sk_gb_reg"] = (ensemble.GradientBoostingRegressor(n_estimators=10, max_depth=3).fit(X, y), X)
    out["sk_gb_binary"] = (ensemble.GradientBoostingClassifier(n_estimators=10, max_depth=3).fit(Xb, yb), Xb)
    out["sk_gb_multiclass"] = (ensemble.GradientBoostingClassifier(n_estimators=6, max_depth=3).fit(Xc, yc), Xc)
    out["sk_hgb_reg"] = (ensemble.HistGradientBoostingRegressor(max_iter=10).fit(Xn, yn), Xn)
    Xcn, ycn = data(rng, classes=3, nan_frac=0.05)
    out["sk_hgb_clf"] = (ensemble.HistGradientBoostingClassifier(max_iter=6).fit(Xcn, ycn), Xcn)
    Xk = Xn.copy()
    Xk[:, 4] = rng.integers(0, 30, len(Xk))
    Xk[rng.random(len(Xk)) < 0.05, 4] = np.nan
    out["sk_hgb_categorical"] = (
        ensemble.HistGradientBoostingRegressor(max_iter=10, categorical_features=[4]).fit(Xk, yn + (Xk[:, 4] % 3 == 0)),
        Xk,
    )
    return out


def sklearn_raw(model, X):
    name = type(model).__name__
    if name.startswith("HistGradientBoosting"):
        return model._raw_predict(X)
    if name == "GradientBoostingClassifier":
        return model.decision_function(X)
    if name.endswith("Classifier"):
        return model.predict_proba(X)
    return model.predict(X)


def all_models(rng):
    models = {}
    for family, raw in ((xgb_models, xgb_raw), (lgb_models, lgb_raw), (sklearn_models, sklearn_raw)):
        for name, (model, X) in family(rng).items():
            models[name] = (model, X, raw)
    return models
