"""Random IR ensembles of arbitrary shape, built directly (no model library): every split policy,
categorical bitsets, repeated features on a path, single-leaf trees, multi-output leaves."""

import numpy as np

from assay.trees.forest import ForestBuilder, SplitPolicy, TreeModel

_NUMERIC = [
    SplitPolicy.XGB_NUMERIC,
    SplitPolicy.LGB_NUMERIC_NONE,
    SplitPolicy.LGB_NUMERIC_ZERO,
    SplitPolicy.LGB_NUMERIC_NAN,
    SplitPolicy.SKLEARN_NUMERIC,
    SplitPolicy.HGB_NUMERIC,
]
_CATEGORICAL = [
    SplitPolicy.XGB_CATEGORICAL,
    SplitPolicy.LGB_CATEGORICAL,
    SplitPolicy.LGB_CATEGORICAL_NAN,
    SplitPolicy.HGB_CATEGORICAL,
]
N_CATEGORIES = 40


def random_tree_model(rng, n_features, n_trees, max_depth, n_outputs=1, cat_features=(), leaf_prob=0.15):
    """Random trees; node covers too (the path-dependent game's weights): random leaf weights,
    some zero, summed up the tree as training weights are."""
    builder = ForestBuilder(n_features, n_outputs)
    cover_rng = np.random.default_rng(n_features * 1000 + n_trees)  # its own stream: rng's draws are unchanged
    for _ in range(n_trees):
        feature, threshold, left, right, dleft, policy, value, cover = [], [], [], [], [], [], [], []
        categories = {}

        def grow(depth):
            idx = len(feature)
            for arr, v in ((feature, -1), (threshold, 0.0), (left, -1), (right, -1), (dleft, 0), (policy, 0)):
                arr.append(v)
            value.append(rng.normal(size=n_outputs))
            cover.append(0.0 if cover_rng.random() < 0.1 else float(cover_rng.integers(1, 50)))
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
            cover[idx] = cover[left[idx]] + cover[right[idx]]
            return idx

        grow(0)
        output = int(rng.integers(-1, n_outputs)) if n_outputs > 1 else -1
        val = np.array(value)
        builder.add_tree(
            feature=feature,
            threshold=threshold,
            left=left,
            right=right,
            default_left=dleft,
            policy=policy,
            value=val[:, output] if output >= 0 else val,
            output=output,
            categories=categories,
            cover=cover,
        )
    forest = builder.build(rng.normal(size=n_outputs))
    return TreeModel(
        forest=forest, source="random", n_features=n_features, n_outputs=n_outputs, node_cover=builder.node_cover()
    )


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
