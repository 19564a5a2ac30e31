"""Random IR ensembles of arbitrary shape, built directly (no model library): every split policy,
categorical bitsets, repeated features on a path, single-leaf trees, multi-output leaves."""
import numpy as np

from assay.trees.forest import ForestBuilder, SplitPolicy, TreeModel

_NUMERIC = [SplitPolicy.XGB_NUMERIC, SplitPolicy.LGB_NUMERIC_NONE, SplitPolicy.LGB_NUMERIC_ZERO,
            SplitPolicy.LGB_NUMERIC_NAN, SplitPolicy.SKLEARN_NUMERIC, SplitPolicy.HGB_NUMERIC]
_CATEGORICAL = [SplitPolicy.XGB_CATEGORICAL, SplitPolicy.LGB_CATEGORICAL, SplitPolicy.LGB_CATEGORICAL_NAN,
                SplitPolicy.HGB_CATEGORICAL]
N_CATEGORIES = 40


def random_tree_model(rng, n_features, n_trees, max_depth, n_outputs=1, cat_features=(), leaf_prob=0.15):
    builder = ForestBuilder(n_features, n_outputs)
    for _ in range(n_trees):
        feature, threshold, left, right, dleft, policy, value = [], [], [], [], [], [], []
        categories = {}

        def grow(depth):
            idx = len(feature)
            for arr, v in ((feature, -1), (threshold, 0.0), (left, -1), (right, -1), (dleft, 0), (policy, 0)):
                arr.append(v)
            value.append(rng.normal(size=n_outputs))
            if depth >= max_depth or (depth > 0 and rng.random() < leaf_prob):
                return idx
            f = int(rng.integers(n_features))
            feature[idx] = f
            dleft[idx] = int(rng.integers(2))
            if f in cat_features:
                policy[idx] = int(rng.choice(_CATEGORICAL))
                categories[idx] = sorted(rng.choice(N_CATEGORIES, size=int(rng.integers(1, 25)), replace=False))
            else:
                policy[idx] = int(rng.choice(_NUMERIC))
                threshold[idx] = float(np.float32(rng.normal()))
            left[idx] = grow(depth + 1)
            right[idx] = grow(depth + 1)
            return idx

        grow(0)
        output = int(rng.integers(-1, n_outputs)) if n_outputs > 1 else -1
        val = np.array(value)
        builder.add_tree(feature=feature, threshold=threshold, left=left, right=right, default_left=dleft,
                         policy=policy, value=val[:, output] if output >= 0 else val, output=output,
                         categories=categories)
    forest = builder.build(rng.normal(size=n_outputs))
    return TreeModel(forest=forest, source="random", n_features=n_features, n_outputs=n_outputs)


def random_rows(rng, model, n, cat_features=(), nan_frac=0.1, threshold_frac=0.2):
    """Rows mixing normals, exact thresholds, zeros, tiny values and NaN; categories for categorical columns."""
    d = model.n_features
    X = rng.normal(size=(n, d)).astype(np.float32).astype(np.float64)
    feats, thrs = model.forest.split_thresholds()
    for c in range(d):
        if c in cat_features:
            X[:, c] = rng.integers(-1, N_CATEGORIES + 3, n)
            continue
        options = thrs[feats == c]
        pick = rng.random(n) < threshold_frac
        if options.size and pick.any():
            X[pick, c] = rng.choice(options, size=int(pick.sum()))
        X[rng.random(n) < 0.05, c] = 0.0
    X[rng.random(X.shape) < nan_frac] = np.nan
    return X
