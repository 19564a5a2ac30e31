# Type stub of the compiled module assay._core (csrc/bindings/module.cpp).
from typing import Callable, ClassVar, Optional, Union

import numpy as np
from numpy.typing import NDArray

# The core's enums (csrc/core/indices.hpp, split_decision.hpp). Members of a C++ enum class: they
# convert to int (int(), __index__) but neither equal nor subclass it; assay._enums makes IntEnums
# of them. Every binding that takes an index takes an Index member, an IntEnum one or a plain int.
class _CoreEnum:
    __members__: ClassVar[dict[str, object]]
    def __init__(self, value: int) -> None: ...
    def __int__(self) -> int: ...
    def __index__(self) -> int: ...
    def __hash__(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def value(self) -> int: ...

class Index(_CoreEnum):
    SHAPLEY: ClassVar[Index]
    BANZHAF: ClassVar[Index]
    INTERACTION: ClassVar[Index]  # Shapley interaction index, shap's convention
    TAYLOR: ClassVar[Index]  # Shapley-Taylor index of order 2

class SplitPolicy(_CoreEnum):
    XGB_NUMERIC: ClassVar[SplitPolicy]
    LGB_NUMERIC_NONE: ClassVar[SplitPolicy]
    LGB_NUMERIC_ZERO: ClassVar[SplitPolicy]
    LGB_NUMERIC_NAN: ClassVar[SplitPolicy]
    SKLEARN_NUMERIC: ClassVar[SplitPolicy]
    HGB_NUMERIC: ClassVar[SplitPolicy]
    XGB_CATEGORICAL: ClassVar[SplitPolicy]
    LGB_CATEGORICAL_NAN: ClassVar[SplitPolicy]
    LGB_CATEGORICAL: ClassVar[SplitPolicy]
    HGB_CATEGORICAL: ClassVar[SplitPolicy]

IndexArg = Union[Index, int]
Progress = Optional[Callable[[int], None]]  # None or a callable receiving the count done so far

# Typed errors (csrc/core/errors.hpp): the Python layer decides by type, never by message.
class KernelMemoryError(MemoryError): ...  # a host allocation failed (std::bad_alloc)
class TooManyPlayersError(ValueError): ...  # a leaf path wider than a kernel's per-leaf tables
class DeviceUnsupportedError(ValueError): ...  # the one-thread-per-row (CUDA) kernel does not take this forest
class DeviceMemoryError(MemoryError): ...  # a device allocation failed (registered in every build, raised by CUDA ones)

built_with_cuda: bool
def cuda_device_count() -> int: ...  # 0 without a CUDA build, driver or device

class Forest:
    def __init__(self, n_features: int, n_outputs: int, tree_offsets: NDArray[np.int64], tree_output: NDArray[np.int32],
                 feature: NDArray[np.int32], threshold: NDArray[np.float64], left: NDArray[np.int32],
                 right: NDArray[np.int32], default_left: NDArray[np.uint8], policy: NDArray[np.uint8],
                 cat_offset: NDArray[np.int64], cat_nwords: NDArray[np.int32], cat_words: NDArray[np.uint32],
                 value: NDArray[np.float64], base_score: NDArray[np.float64]) -> None: ...
    @property
    def n_trees(self) -> int: ...
    @property
    def n_nodes(self) -> int: ...
    @property
    def n_features(self) -> int: ...
    @property
    def n_outputs(self) -> int: ...
    @property
    def max_depth(self) -> int: ...
    def subforest(self, begin: int, end: int) -> Forest: ...
    def goes_left(self, X: NDArray[np.float64]) -> NDArray[np.uint8]: ...  # (n, n_nodes), 1 = left
    def split_thresholds(self) -> tuple[NDArray[np.int32], NDArray[np.float64]]: ...

def predict_raw(forest: Forest, X: NDArray[np.float64], n_jobs: int = -1) -> NDArray[np.float64]: ...
# index: an Index (or its code: 0 Shapley, 1 Banzhaf, 2 Shapley interaction (shap's convention),
# 3 Shapley-Taylor order 2). Results are (n, P, K) for first-order indices and (n, P, P, K) for
# pairwise ones. progress counts (row, background row, tree) triples.
def values_pairwise(forest: Forest, X: NDArray[np.float64], data: NDArray[np.float64],
                    player_of_feature: Optional[NDArray[np.int32]] = None, n_players: int = 0,
                    index: IndexArg = Index.SHAPLEY, n_jobs: int = -1, out: Optional[NDArray[np.float64]] = None,
                    progress: Progress = None) -> NDArray[np.float64]: ...
# Shapley values of a transformed output (csrc/core/transformed_shap.hpp), per (row, background row)
# pair. transform: 0 identity, 1 sigmoid, 2 logistic log loss log(1 + e^f) - y f, 3 squared loss
# (f - y)^2 (shap's codes); y: one label per row, for 2 and 3. Returns (values (n, P, K), base
# (n, K)): base[i] = mean over the background of g(f(z), y_i), and values[i] sums to g(f(x_i), y_i)
# - base[i]. progress counts (row, tree) pairs.
def values_transformed(forest: Forest, X: NDArray[np.float64], data: NDArray[np.float64], transform: int,
                       y: Optional[NDArray[np.float64]] = None, player_of_feature: Optional[NDArray[np.int32]] = None,
                       n_players: int = 0, n_jobs: int = -1, out: Optional[NDArray[np.float64]] = None,
                       progress: Progress = None,
                       budget_bytes: int = ...) -> tuple[NDArray[np.float64], NDArray[np.float64]]: ...

# progress counts background rows x trees in the constructor (trees in path_dependent) and rows x
# trees in values.
class PatternShap:
    def __init__(self, forest: Forest, data: NDArray[np.float64], dense_max_bits: int = 16,
                 dense_budget_bytes: int = ..., n_jobs: int = -1,
                 player_of_feature: Optional[NDArray[np.int32]] = None, n_players: int = 0,
                 index: IndexArg = Index.SHAPLEY, progress: Progress = None) -> None: ...
    # The path-dependent game from node covers (one non-negative weight per node): no background.
    @staticmethod
    def path_dependent(forest: Forest, node_cover: NDArray[np.float64], dense_max_bits: int = 16,
                       dense_budget_bytes: int = ..., n_jobs: int = -1,
                       player_of_feature: Optional[NDArray[np.int32]] = None, n_players: int = 0,
                       index: IndexArg = Index.SHAPLEY, progress: Progress = None) -> PatternShap: ...
    def values(self, X: NDArray[np.float64], n_jobs: int = -1, out: Optional[NDArray[np.float64]] = None,
               progress: Progress = None) -> NDArray[np.float64]: ...
    def expected_value(self) -> NDArray[np.float64]: ...
    @property
    def n_dense_leaves(self) -> int: ...
    @property
    def n_sparse_leaves(self) -> int: ...
    @property
    def n_fallback_trees(self) -> int: ...
    @property
    def n_leaf_groups(self) -> int: ...
    @property
    def table_bytes(self) -> int: ...

# The one-thread-per-row kernel (csrc/core/row_query_plan.hpp, csrc/bindings/device_kernels.cpp):
# RowQueryShap runs the device's per-row code on the host (always built; tests compare it with
# PatternShap); CudaPatternShap, in CUDA builds only, runs it on the device. data / X of the
# latter may be NumPy arrays or C-contiguous float64 CUDA arrays (__cuda_array_interface__) of the
# kernel's own device or managed memory; progress (None or a callable) counts background rows in
# the constructor and foreground rows in values, and Ctrl-C stops both. Both constructors raise
# DeviceUnsupportedError for a forest this kernel does not take (PatternShap takes every one).
class RowQueryShap:
    def __init__(self, forest: Forest, data: NDArray[np.float64], player_of_feature: Optional[NDArray[np.int32]] = None,
                 n_players: int = 0, index: IndexArg = Index.SHAPLEY, max_width: int = 16, budget_bytes: int = ...,
                 n_jobs: int = -1) -> None: ...
    def values(self, X: NDArray[np.float64], n_jobs: int = -1,
               out: Optional[NDArray[np.float64]] = None) -> NDArray[np.float64]: ...
    def expected_value(self) -> NDArray[np.float64]: ...
    @property
    def table_bytes(self) -> int: ...
    @property
    def n_groups(self) -> int: ...  # small subtrees answered as one table (leaf_groups.hpp)

class CudaPatternShap:
    def __init__(self, forest: Forest, data: object, player_of_feature: Optional[NDArray[np.int32]] = None,
                 n_players: int = 0, index: IndexArg = Index.SHAPLEY, max_width: int = 16, budget_bytes: int = ...,
                 progress: Progress = None) -> None: ...
    # accumulator (benchmarks): 0 auto, 1 local, 2 shared, 3 global (pattern_shap_cuda.hpp)
    def values(self, X: object, out: Optional[NDArray[np.float64]] = None,
               progress: Progress = None, accumulator: int = 0) -> NDArray[np.float64]: ...
    def expected_value(self) -> NDArray[np.float64]: ...
    @property
    def table_bytes(self) -> int: ...
    @property
    def device(self) -> int: ...  # the CUDA device holding its tables

# Exact box-constrained projections onto hyperplanes (csrc/bindings/projections.cpp).
# norm: 0 l_inf, 1 l_1, 2 l_2; lo / hi: (d,) float64 or both None (no box); w float32 or float64.
# Returns (distance (B, H) float64, feasible (B, H) bool, delta (B, H, d) float64 or None).
def project_hyperplanes(t: NDArray[np.float64], w: NDArray[np.floating], b: NDArray[np.float64], norm: int,
                        lo: Optional[NDArray[np.float64]], hi: Optional[NDArray[np.float64]],
                        return_delta: bool = True, n_jobs: int = -1
                        ) -> tuple[NDArray[np.float64], NDArray[np.bool_], Optional[NDArray[np.float64]]]: ...
# CUDA builds only: the same on CUDA arrays (__cuda_array_interface__), writing into distance /
# feasible / delta (delta may be None) on the given stream (a cudaStream_t as an int).
def project_hyperplanes_cuda(t: object, w: object, b: object, norm: int, lo: object, hi: object,
                             distance: object, feasible: object, delta: object, stream: int) -> None: ...

class AnchoredRegions:
    """GRANITE's anchored decomposition of a forest on regions (row subsets) of a fixed X."""
    def __init__(self, forest: Forest, X: NDArray[np.float64], output: int,
                 player_of_feature: NDArray[np.int32], n_players: int,
                 n_jobs: int = -1, progress: Progress = None) -> None: ...
    @property
    def n_rows(self) -> int: ...
    @property
    def n_players(self) -> int: ...
    @property
    def max_leaf_width(self) -> int: ...
    def n_entries(self, pairs: bool) -> int: ...
    def effects(self, rows: NDArray[np.int64], pairs: bool = False) -> tuple[NDArray[np.float64], NDArray[np.float64]]: ...
    def loss(self, rows: NDArray[np.int64], pairs: bool = False) -> float: ...
    def split_losses(self, rows: NDArray[np.int64], column: NDArray[np.float64], thresholds: NDArray[np.float64],
                     pairs: bool = False, n_jobs: int = -1, progress: Progress = None) -> NDArray[np.float64]: ...
