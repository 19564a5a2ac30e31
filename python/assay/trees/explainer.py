"""TreeExplainer: exact interventional SHAP values of a tree ensemble's raw output."""

from __future__ import annotations

import numpy as np

import warnings

from .. import _core
from .._device import cuda_available, resolve_device
from .._enums import Index
from ..errors import DeviceMemoryError, DeviceUnsupportedError
from .._memory import check_bytes
from .._inputs import align_columns, as_matrix, is_dataframe, reference_names
from .._validation import check_n_jobs
from .._progress import progress_callback
from ..explanation import category_labels, make_explanation
from . import model_files
from .convert import convert_model
from .forest import TreeModel
from .model_output import MODEL_OUTPUTS, model_objective, output_transform, transformed_shap_values
from .model_output import _IDENTITY as IDENTITY
from .model_output import expected_value as transformed_expected
from .players import player_count, resolve_groups

ALGORITHMS = ("pattern", "pairwise")

SHAPLEY, BANZHAF, INTERACTION, TAYLOR = Index.SHAPLEY, Index.BANZHAF, Index.INTERACTION, Index.TAYLOR
_PAIRS = (INTERACTION, TAYLOR)
_INDEX_NAMES = {SHAPLEY: "Shapley", BANZHAF: "Banzhaf", INTERACTION: "interaction", TAYLOR: "Shapley-Taylor"}


class TreeExplainer:
    """Exact interventional (a.k.a. "independent") attributions for tree ensembles.

    The game explained is v(S) = mean over background rows z of f(x_S, z_rest), where f is the
    model's raw output (margin / log-odds for boosted models, class probabilities for
    forest classifiers). Players are the features, or the groups given by `groups` (a dict
    name -> columns or a list of column lists; columns by index or name; unlisted features
    stay players of their own, after the groups). Shapley values sum to f(x) - expected_value.

    model_output (interventional game, as in shap): "raw" (default); "probability" (sigmoid of a
    binary classifier's log-odds; a scikit-learn forest classifier's raw output already is one);
    "log_loss" (needs y: logistic log loss of binary classifiers, squared error of regressors).
    shap's definition for a non-linear g: per background row z, the single-reference values
    phi(x, z) are rescaled to sum to g(f(x)) - g(f(z)), then averaged over z; expected_value is
    mean_z g(f(z)) (for log_loss a function expected_value(y)). SHAP values only, on the CPU,
    at O(rows x background rows x trees) work (the C++ kernel groups background rows by leaf
    pattern); objective= overrides what the raw output is read to be.

    Without `data` (feature_perturbation="auto" or "tree_path_dependent", as in shap) the game
    is the path-dependent one: v(S) follows x at splits on S and weights both children by their
    training cover elsewhere (XGBoost hessian sums, LightGBM counts, scikit-learn weighted
    samples); expected_value is then the cover-weighted mean output. Every index is defined
    from the coalition values alone, so all four carry over (SHAP equals XGBoost's
    pred_contribs, interaction values its pred_interactions). It runs on the CPU.

    Methods: shap_values, banzhaf_values (first order); shap_interaction_values (Shapley
    interaction index in shap's convention) and shapley_taylor_values (order 2), both
    (n, P, P[, K]); predict_raw; calling the explainer returns an Explanation. Each takes shap's
    (X, y=None) (y is ignored: the raw output does not depend on labels) and the keyword-only
    `out=`: a C-contiguous float64 array of the result's shape (for example a np.memmap) that is
    filled instead of allocating one, and `progress=`.

    Columns: a DataFrame (`data` or `X`) is matched by column name against the names the model
    was trained with (XGBoost feature_names, LightGBM feature_name(), scikit-learn
    feature_names_in_), or, when the model has none, against the columns of the `data` frame.
    The same names in another order are reordered to the model's order (results are bit for bit
    those of the ordered frame); missing, extra, renamed or duplicated columns raise ValueError
    listing them. A NumPy array is read by position, also after a DataFrame background (as the
    model libraries do).

    algorithm="pattern" (default) builds per-leaf tables from the background (Shapley tables
    in the constructor, the others on first use); each call then costs
    O(rows * trees * (nodes + table entries)), independent of the background size.
    algorithm="pairwise" is the slow reference that walks every (row, background row, tree).

    device: "auto" (default) runs the pattern kernel on a CUDA device when assay was built with
    CUDA (ASSAY_CUDA=ON) and one is present, else on the CPU; "cuda" insists (an error says how to
    get a CUDA build); "cpu" never uses the GPU. On CUDA, `data` and `X` may also be device arrays
    (torch / CuPy: anything with __cuda_array_interface__, C-contiguous float64, read in place);
    results are NumPy arrays either way, in float64 and equal to the CPU kernel's up to summation
    order (~1e-12 relative). Tables the device kernel does not take (a tree deeper than 64, a
    leaf with more than dense_max_bits players on its path, tables over max_table_bytes or over
    the device's free memory) are built for the CPU under "auto", with a warning, and raise
    under "cuda" (assay.errors.DeviceUnsupportedError, a ValueError, or DeviceMemoryError, a
    MemoryError); no other error falls back. `device` says where the Shapley tables are; an index whose tables fall back
    later (pairwise tables are d times larger) runs on the CPU while the others stay on the GPU.

    progress: True draws a tqdm progress bar for the table builds and every call (a callable
    receives (done, total)); each method also takes progress= to override it. Long calls stop
    within a block of rows on Ctrl-C (KeyboardInterrupt). The explainer pickles as its model and
    background (e.g. to Dask workers, see assay.dask); the tables are rebuilt where it lands.
    """

    def __init__(
        self,
        model,
        data=None,
        feature_names=None,
        n_jobs: int = -1,
        algorithm: str = "pattern",
        dense_max_bits: int = 16,
        max_table_bytes: int = 2**31,
        groups=None,
        progress=False,
        device: str = "auto",
        feature_perturbation: str = "auto",
        model_output: str = "raw",
        objective=None,
    ):
        if algorithm not in ALGORITHMS:
            raise ValueError(f"algorithm: expected one of {ALGORITHMS}, got {algorithm!r}")
        self.feature_perturbation = _resolve_perturbation(feature_perturbation, data)
        path_dependent = self.feature_perturbation == PATH_DEPENDENT
        if path_dependent and algorithm == "pairwise":
            raise ValueError(
                "algorithm='pairwise' walks background rows; the path-dependent game has none: use algorithm='pattern'"
            )
        if path_dependent and device == "cuda":
            raise ValueError("device='cuda': the path-dependent game runs on the CPU; use device='cpu' or 'auto'")
        if not (isinstance(dense_max_bits, (int, np.integer)) and 0 <= dense_max_bits <= 24):
            raise ValueError(f"dense_max_bits: expected an int in [0, 24], got {dense_max_bits!r}")
        if (
            isinstance(max_table_bytes, bool)
            or not isinstance(max_table_bytes, (int, np.integer))
            or max_table_bytes < 0
        ):
            raise ValueError(f"max_table_bytes: expected a non-negative int, got {max_table_bytes!r}")
        self.n_jobs = check_n_jobs(n_jobs)
        self.algorithm = algorithm
        self._device_request = device
        self.device = "cpu" if path_dependent else resolve_device(device)
        if algorithm == "pairwise" and self.device == "cuda":
            if device == "cuda":
                raise ValueError("algorithm='pairwise' runs on the CPU only: use device='cpu' or algorithm='pattern'")
            self.device = "cpu"
        self.progress = progress
        # The library's own model, kept for check_additivity and tree_limit (None for an IR model).
        self._source = (
            model_files.load_model_file(model)
            if model_files.is_model_path(model)
            else (None if isinstance(model, TreeModel) else model)
        )
        self.model = convert_model(self._source if self._source is not None else model)
        self._options = dict(
            n_jobs=n_jobs,
            algorithm=algorithm,
            dense_max_bits=dense_max_bits,
            max_table_bytes=max_table_bytes,
            groups=groups,
            progress=progress,
            device=device,
            feature_perturbation=self.feature_perturbation,
            model_output=model_output,
            objective=objective,
        )
        self.model_output, self._objective = model_output, objective
        self._transform = self._resolve_output(model_output, objective, path_dependent)
        self._limited = {}  # tree_limit -> the explainer of the model's first rounds
        if path_dependent and self.model.node_cover is None:
            raise ValueError(
                f"model: this {self.model.source} model carries no node covers (training weight per "
                "node), which the path-dependent game needs; pass background data= instead"
            )
        # DataFrames are matched by column name against the model's training names, else the
        # background frame's (see align_columns); arrays are positional.
        self._column_names = reference_names(self.model.feature_names, data.columns if is_dataframe(data) else None)
        self._input_names = self._column_names if is_dataframe(data) else None
        self.data = None if path_dependent else self._matrix(data, "data")
        self.feature_names = self._resolve_names(feature_names)
        self._player_of, self.player_names = resolve_groups(groups, self.model.n_features, self.feature_names)
        self.n_players = player_count(self._player_of, self.model.n_features)
        self.n_outputs = self.model.n_outputs
        self._table_options = (int(dense_max_bits), int(max_table_bytes))
        self._kernels = {}
        self._weights = None  # _leaf_weights: shared by the CPU tables of every index
        if self._transform != IDENTITY:
            # shap's expected value of a transformed output: mean_z g(f(z)); for log_loss a function of y.
            if model_output == "log_loss":
                self.expected_value = self._log_loss_expected_value
            else:
                self.expected_value = transformed_expected(
                    self.model, self.data, model_output, objective=self._objective, n_jobs=self.n_jobs
                )
            return
        if algorithm == "pattern":
            mean = self._kernel(SHAPLEY).expected_value()  # from the background histograms
        else:
            mean = self.model.predict_raw(self.data, self.n_jobs).mean(axis=0)
        self.expected_value = float(mean[0]) if self.n_outputs == 1 else mean

    def _resolve_output(self, model_output, objective, path_dependent):
        """The kernel transform of model_output (IDENTITY for raw, or where the raw output already
        is the requested one); ValueError where shap's definition does not apply."""
        if model_output not in MODEL_OUTPUTS:
            raise ValueError(f"model_output: expected one of {MODEL_OUTPUTS}, got {model_output!r}")
        if model_output == "raw":
            return IDENTITY
        if path_dependent:
            raise ValueError(
                f"model_output={model_output!r}: the path-dependent game explains the raw output only "
                "(as in shap); pass background data= for the interventional game"
            )
        if objective is None and self._source is not None:
            self._objective = model_objective(self._source)[0]
        return output_transform(model_output, self._objective, self.model.n_outputs, self.model.source)

    def _log_loss_expected_value(self, y):
        """shap's expected_value(y) for model_output="log_loss": mean_z loss(f(z), y), per label."""
        return transformed_expected(
            self.model, self.data, "log_loss", y=y, objective=self._objective, n_jobs=self.n_jobs
        )

    def _transformed_values(self, X, y, out, progress):
        """(values, base) of a transformed output (per (row, background row) pair; CPU)."""
        if _is_device_array(X):
            raise ValueError(f"X: model_output={self.model_output!r} runs on the CPU; pass a NumPy array")
        return transformed_shap_values(
            self.model,
            self._matrix(X, "X"),
            self.data,
            self.model_output,
            y=y,
            objective=self._objective,
            player_of=self._player_of,
            n_players=self.n_players,
            n_jobs=self.n_jobs,
            progress=self.progress if progress is None else progress,
            out=out,
        )

    @property
    def _tables(self):
        """The Shapley tables (pattern algorithm), for inspection."""
        return self._kernels.get(SHAPLEY)

    def _kernel(self, index, progress=None):
        if index not in self._kernels and self.device == "cuda":
            kernel = self._device_kernel(index, progress)
            if kernel is not None:
                self._kernels[index] = kernel
            elif not self._kernels:  # nothing on the GPU: the explainer runs on the CPU
                self.device = "cpu"
        if index not in self._kernels:
            bits, budget = self._table_options
            weights = self._leaf_weights(progress)
            with progress_callback(
                self.progress if progress is None else progress, weights.n_trees, "tables (trees)"
            ) as cb:
                self._kernels[index] = _core.PatternShap(
                    weights,
                    index=index,
                    dense_max_bits=bits,
                    dense_budget_bytes=budget,
                    n_jobs=self.n_jobs,
                    progress=cb,
                )
        return self._kernels[index]

    def _leaf_weights(self, progress=None):
        """The game's per-leaf pattern weights, computed once and shared by every index's tables:
        the background's decision patterns, or the node covers' products (path-dependent)."""
        if self._weights is None:
            bits, budget = self._table_options
            view = _core.ForestView(self.model.forest, player_of_feature=self._player_of, n_players=self.n_players)
            if self.feature_perturbation == PATH_DEPENDENT:
                self._weights = _core.CoverWeights(view, self.model.node_cover, bits, self.n_jobs)
            else:
                with progress_callback(
                    self.progress if progress is None else progress, view.n_trees, "background (trees)"
                ) as cb:
                    self._weights = _core.BackgroundPatterns(view, self.data, bits, budget, self.n_jobs, progress=cb)
        return self._weights

    def _device_kernel(self, index, progress):
        """The CUDA kernel of this index, or None (with a warning) where "auto" falls back to the CPU."""
        bits, budget = self._table_options
        with progress_callback(
            self.progress if progress is None else progress, _n_rows(self.data), "background rows"
        ) as cb:
            callback = _CallbackErrors(cb)
            try:
                return _core.CudaPatternShap(
                    self.model.forest,
                    self.data,
                    player_of_feature=self._player_of,
                    n_players=self.n_players,
                    index=index,
                    max_width=bits,
                    budget_bytes=budget,
                    progress=None if cb is None else callback,
                )
            except (DeviceUnsupportedError, DeviceMemoryError) as err:
                # Only these two say the CPU kernel would take the forest: any other error (a bad
                # argument, a user's progress callback that raised) is raised, never a reason to fall back.
                if callback.raised:
                    raise
                if self._device_request == "cuda" or _is_device_array(self.data):
                    advice = (
                        "pass data as a NumPy array to run on the CPU"
                        if _is_device_array(self.data)
                        else "use device='cpu' (or 'auto', which falls back to the CPU with a warning)"
                    )
                    raise type(err)(f"{err}; the CPU kernel takes this forest: {advice}") from None
                warnings.warn(
                    f"assay: the {_INDEX_NAMES[index]} tables of this forest are built for the CPU ({err})",
                    RuntimeWarning,
                    stacklevel=4,
                )
                return None

    def __dask_tokenize__(self):
        # A stable identity for Dask graphs: the same explainer is one key, shipped once.
        if "_token" not in self.__dict__:
            import uuid

            self._token = uuid.uuid4().hex
        return ("assay.TreeExplainer", self._token)

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_kernels"] = {}  # compiled tables do not pickle; rebuilt on first use
        state["_weights"] = None
        state["_limited"] = {}
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        if self.device == "cuda" and not cuda_available():  # unpickled where there is no GPU
            resolve_device(self._device_request)  # device="cuda" raises and says why
            self.device = "cpu"

    def _matrix(self, X, name):
        if _is_device_array(X):
            return self._device_matrix(X, name)
        X = align_columns(X, self._column_names, name)
        if self.model.input_transform is not None:
            X = self.model.input_transform(X)
        return as_matrix(X, name, self.model.n_features)

    def _device_matrix(self, X, name):
        # Read in place by the CUDA kernel, which checks dtype, layout and inf on the device.
        if self.device != "cuda":
            raise ValueError(
                f"{name}: a CUDA array needs device='cuda' (this explainer runs on the CPU); pass a NumPy array instead"
            )
        if self.model.input_transform is not None:
            raise ValueError(
                f"{name}: this model encodes its categorical columns on the host; pass a DataFrame or NumPy array"
            )
        shape = tuple(X.__cuda_array_interface__["shape"])
        if len(shape) != 2 or shape[1] != self.model.n_features:
            raise ValueError(f"{name}: expected a 2-D array with {self.model.n_features} columns, got shape {shape}")
        if shape[0] == 0:
            raise ValueError(f"{name}: expected at least one row, got an empty array")
        return X

    def _resolve_names(self, feature_names):
        d = self.model.n_features
        if feature_names is not None:
            names = list(map(str, feature_names))
            if len(names) != d:
                raise ValueError(f"feature_names: expected {d} names, got {len(names)}")
            return names
        return self._input_names or self.model.feature_names or [f"x{i}" for i in range(d)]

    def _values(self, X, index, out, progress=None):
        X = self._matrix(X, "X")
        P, K = self.n_players, self.n_outputs
        n_rows = _n_rows(X)
        shape = (n_rows,) + ((P, P) if index in _PAIRS else (P,)) + ((K,) if K > 1 else ())
        core_out = None
        if out is None:
            _check_result_size(shape, index in _PAIRS)
        else:
            if not (
                isinstance(out, np.ndarray)
                and out.shape == shape
                and out.dtype == np.float64
                and out.flags.c_contiguous
                and out.flags.writeable
            ):
                raise ValueError(
                    f"out: expected a writable C-contiguous float64 array of shape {shape}, got {_describe_out(out)}"
                )
            core_out = out.reshape(shape + (1,)) if K == 1 else out  # the kernel's (.., K) layout, a view
        progress = self.progress if progress is None else progress
        on_device = False
        if self.algorithm == "pattern":
            kernel = self._kernel(index, progress)
            on_device = _is_device_kernel(kernel)
        if _is_device_array(X) and not on_device:
            raise ValueError(
                f"X: the {_INDEX_NAMES[index]} tables of this forest are on the CPU (see the warning "
                "when they were built); pass a NumPy array"
            )
        if on_device:
            with progress_callback(progress, n_rows, "rows") as cb:
                result = kernel.values(X, out=core_out, progress=cb)  # counts rows a device chunk at a time
        elif self.algorithm == "pattern":
            with progress_callback(progress, n_rows, "rows") as cb:
                result = kernel.values(X, self.n_jobs, out=core_out, progress=cb)
        else:
            with progress_callback(progress, n_rows, "rows") as cb:
                result = _core.values_pairwise(
                    self.model.forest,
                    X,
                    self.data,
                    player_of_feature=self._player_of,
                    n_players=P,
                    index=index,
                    n_jobs=self.n_jobs,
                    out=core_out,
                    progress=cb,
                )
        return out if out is not None else result.reshape(shape)

    # Every method takes shap's (X, y=None) positionally; out and progress are keyword-only so that a
    # label vector given as shap users do can never land in `out`.
    def shap_values(
        self,
        X,
        y=None,
        *,
        out=None,
        progress=None,
        tree_limit=None,
        check_additivity: bool = False,
        approximate: bool = False,
    ) -> np.ndarray:
        """Exact SHAP values of the model's raw output (interventional, or path-dependent without
        a background).

        Returns (n, P), or (n, P, K) for K outputs; each row sums to f(x) - expected_value.
        check_additivity: also compare sum(phi) + expected_value with the model library's own raw
        prediction and raise ValueError (as shap does) where they differ beyond float32 rounding
        (1e-4 of the output scale); off by default, since the values add up to predict_raw by
        construction. approximate: shap's Saabas approximation; assay's exact values are cheaper,
        so True warns and returns the exact values.
        """
        if approximate:
            warnings.warn(
                "approximate=True: assay computes exact SHAP values, which are cheaper here than "
                "shap's approximation; approximate is ignored",
                UserWarning,
                stacklevel=2,
            )
        return self._explain(X, SHAPLEY, out, progress, tree_limit, check_additivity, y)

    def banzhaf_values(self, X, y=None, *, out=None, progress=None, tree_limit=None) -> np.ndarray:
        """Exact interventional Banzhaf values: each player's marginal contribution averaged
        uniformly over all coalitions of the other players (rows do not sum to f(x) - E f).

        Returns (n, P) or (n, P, K).
        """
        return self._explain(X, BANZHAF, out, progress, tree_limit)

    def shap_interaction_values(self, X, y=None, *, out=None, progress=None, tree_limit=None) -> np.ndarray:
        """Exact interventional Shapley interaction values in shap's convention.

        Off-diagonal entries (i, j) and (j, i) each hold half the Shapley interaction index of
        the pair; the diagonal holds the rest of each player's SHAP value, so every row
        phi[n, i, :] sums to the SHAP value of player i. Returns (n, P, P) or (n, P, P, K).
        """
        return self._explain(X, INTERACTION, out, progress, tree_limit)

    def shapley_taylor_values(self, X, y=None, *, out=None, progress=None, tree_limit=None) -> np.ndarray:
        """Exact order-2 Shapley-Taylor interaction values.

        The diagonal holds the main effects f(x_i, z_rest) - f(z) averaged over the background,
        each pair's interaction is split in halves over (i, j) and (j, i), and all entries sum to
        f(x) - expected_value. Returns (n, P, P) or (n, P, P, K).
        """
        return self._explain(X, TAYLOR, out, progress, tree_limit)

    def _explain(self, X, index, out, progress, tree_limit=None, check_additivity=False, y=None):
        if tree_limit is not None:
            # shap's tree_limit: the first rounds of the model, explained by an explainer of their own.
            X = align_columns(X, self._column_names, "X")
            return self._of_first_rounds(tree_limit)._explain(X, index, out, progress, None, check_additivity, y)
        if self._transform != IDENTITY:
            if index != SHAPLEY:
                raise ValueError(
                    f"model_output={self.model_output!r}: shap's rescaling defines SHAP values only; "
                    f"explain the raw output for {_INDEX_NAMES[index]} values"
                )
            if check_additivity:
                raise ValueError("check_additivity: compares with the raw output; it applies to model_output='raw'")
            return self._transformed_values(X, y, out, progress)[0]
        values = self._values(X, index, out, progress)
        if check_additivity:
            if self._source is None or _is_device_array(X):
                raise ValueError(
                    "check_additivity: needs the model library's own model and a host array "
                    "(this explainer was given an assay IR model or X is a CUDA array)"
                )
            from .source_model import check_additivity as check

            check(values, self.expected_value, self._source, align_columns(X, self._column_names, "X"))
        return values

    def _of_first_rounds(self, tree_limit):
        if (
            isinstance(tree_limit, bool)
            or not isinstance(tree_limit, (int, np.integer))
            or not (tree_limit == -1 or tree_limit >= 1)
        ):
            raise ValueError(
                f"tree_limit: expected a number of boosting rounds >= 1, -1 for all or None for the "
                f"model's default, got {tree_limit!r}"
            )
        if self._source is None:
            raise ValueError("tree_limit: needs the model library's own model (this explainer was given an IR model)")
        if tree_limit not in self._limited:
            from .source_model import first_rounds

            options = dict(self._options, objective=self._objective)  # the cut model has no library object
            self._limited[tree_limit] = TreeExplainer(
                first_rounds(self._source, int(tree_limit)), data=self.data, feature_names=self.feature_names, **options
            )
        return self._limited[tree_limit]

    def predict_raw(self, X) -> np.ndarray:
        """The raw output the explainer explains, computed from assay's own copy of the trees.

        X: (n, d) NumPy array or DataFrame (columns matched by name as in shap_values).
        Returns (n,) for one output, (n, K) for K outputs: the margin of boosted models, class
        probabilities of scikit-learn forest classifiers, the prediction of regressors.
        """
        if _is_device_array(X):
            raise ValueError("X: predict_raw runs on the CPU; pass a NumPy array")
        out = self.model.predict_raw(self._matrix(X, "X"), self.n_jobs)
        return out[:, 0] if self.n_outputs == 1 else out

    def __call__(
        self,
        X,
        y=None,
        *,
        interactions: bool = False,
        check_additivity: bool = False,
        tree_limit=None,
        approximate: bool = False,
    ):
        """SHAP values of X as an Explanation (shap.Explanation when shap is installed); with
        interactions=True, the interaction values (n, P, P[, K]) instead, as shap's
        explainer(X, interactions=True). check_additivity, tree_limit and approximate as in
        shap_values.

        values: as shap_values(X); base_values: expected_value per row; data: the numeric matrix
        explained (pandas categorical columns as their codes, NaN for missing); display_data: the
        same rows with categorical columns as their labels (what shap's plots show), or None when
        X has no categorical column; feature_names: the player names. For grouped players, data
        is None (a group has no single value). y: the labels, used by model_output="log_loss"
        (whose base_values are then per row), ignored otherwise.
        """
        if interactions:
            values = self.shap_interaction_values(X, tree_limit=tree_limit)
        elif self._transform != IDENTITY and tree_limit is None:
            values, expected = self._transformed_values(X, y, None, None)
        else:
            values = self.shap_values(
                X, y, tree_limit=tree_limit, check_additivity=check_additivity, approximate=approximate
            )
        if self._transform == IDENTITY or tree_limit is not None or interactions:
            expected = self.expected_value if tree_limit is None else self._of_first_rounds(tree_limit).expected_value
            if callable(expected):  # log_loss under tree_limit: per-row expected values
                expected = expected(y)
        per_row = self.model_output == "log_loss" and not interactions  # the expected loss depends on each label
        data = display = None
        if self._player_of is None and not _is_device_array(X):
            data = self._matrix(X, "X")
            display = category_labels(align_columns(X, self._column_names, "X"))
        return make_explanation(values, expected, data, self.player_names, display, per_row=per_row)

    def __repr__(self):
        f = self.model.forest
        return (
            f"TreeExplainer({self.model.source}, trees={f.n_trees}, features={self.model.n_features}, "
            f"players={self.n_players}, outputs={self.n_outputs}, "
            f"background={None if self.data is None else _n_rows(self.data)}, "
            f"feature_perturbation={self.feature_perturbation!r}, "
            f"algorithm={self.algorithm!r}, device={self.device!r})"
        )


# The arguments every index method shares, appended to each docstring so that each stands alone.
_ARGUMENTS_DOC = """
        Arguments:
          X: (n, d) NumPy array or pandas DataFrame. A DataFrame's columns are matched by name
             to the model's features and reordered to the model's order (missing, extra or
             duplicated columns raise ValueError); a NumPy array is read by position. On an
             explainer running on the GPU, also a CUDA array (C-contiguous float64).
          y: shap's second argument (explainer.shap_values(X, y)): the labels of X's rows, used
             only by model_output="log_loss" (SHAP values only); ignored otherwise, since the raw
             output does not depend on labels.
          out: keyword-only; a writable C-contiguous float64 array of the result's shape (e.g. a
             np.memmap) filled in place and returned, instead of allocating the result.
          progress: keyword-only; True (a progress bar), False, or a callable receiving
             (done, total); None uses the explainer's own setting.
          tree_limit: keyword-only, as in shap: explain the model's first tree_limit boosting
             rounds (-1: every round; None: the model's default, e.g. up to XGBoost's
             best_iteration). XGBoost, LightGBM and CatBoost models; the tables of each limit are built
             on first use and kept.
"""
for _method in (
    TreeExplainer.shap_values,
    TreeExplainer.banzhaf_values,
    TreeExplainer.shap_interaction_values,
    TreeExplainer.shapley_taylor_values,
):
    _method.__doc__ += _ARGUMENTS_DOC


INTERVENTIONAL, PATH_DEPENDENT = "interventional", "tree_path_dependent"
_PERTURBATIONS = ("auto", INTERVENTIONAL, PATH_DEPENDENT)


def _resolve_perturbation(feature_perturbation, data) -> str:
    """shap's rule: "auto" is interventional with a background, path-dependent without one."""
    if feature_perturbation not in _PERTURBATIONS:
        raise ValueError(f"feature_perturbation: expected one of {_PERTURBATIONS}, got {feature_perturbation!r}")
    if feature_perturbation == "auto":
        return INTERVENTIONAL if data is not None else PATH_DEPENDENT
    if feature_perturbation == INTERVENTIONAL and data is None:
        raise ValueError(
            "data: feature_perturbation='interventional' averages over background rows; pass data= "
            "(e.g. a few hundred training rows), or use 'tree_path_dependent' without data"
        )
    if feature_perturbation == PATH_DEPENDENT and data is not None:
        raise ValueError(
            "data: the 'tree_path_dependent' game weights the trees' branches by their training "
            "covers and uses no background; pass data=None, or 'interventional' to use the data"
        )
    return feature_perturbation


def _is_device_array(a) -> bool:
    return hasattr(a, "__cuda_array_interface__")


class _CallbackErrors:
    """A progress callback (or None) that remembers whether it raised."""

    def __init__(self, callback):
        self.callback, self.raised = callback, False

    def __call__(self, done):
        if self.callback is None:
            return
        try:
            self.callback(done)
        except BaseException:
            self.raised = True
            raise


def _is_device_kernel(kernel) -> bool:
    device_kernel = getattr(_core, "CudaPatternShap", None)  # CUDA builds only
    return device_kernel is not None and isinstance(kernel, device_kernel)


def _n_rows(a) -> int:
    return int(a.__cuda_array_interface__["shape"][0]) if _is_device_array(a) else a.shape[0]


def _check_result_size(shape, pairs: bool):
    kind = "interaction matrices" if pairs else "values"
    check_bytes(
        8 * float(np.prod(shape, dtype=np.float64)),
        f"X: the {kind} for {shape[0]} rows",
        "pass out= a np.memmap (np.lib.format.open_memmap) to write them to disk, or explain X in chunks",
    )


def _describe_out(out):
    return (
        f"{type(out).__name__} of shape {getattr(out, 'shape', None)}, dtype {getattr(out, 'dtype', None)}, "
        f"C-contiguous {getattr(getattr(out, 'flags', None), 'c_contiguous', None)}"
    )
