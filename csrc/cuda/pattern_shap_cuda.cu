#include "cuda/pattern_shap_cuda.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "core/row_walk.hpp"
#include "cuda/check.cuh"
#include "cuda/column_chunks.cuh"
#include "cuda/device_array.cuh"
#include "cuda/transpose.cuh"

namespace assay::cuda {

using core::GroupQuery;
using core::LeafQuery;
using core::RowNode;

namespace {

constexpr int kThreads = 128;
constexpr int kHistogramSharedCells = 12 * 1024;    // 48 KiB of uint32 per block, the default limit
constexpr int64_t kChunkBytes = int64_t{512} << 20;  // device scratch per chunk of rows
// A chunk is also cut by work (node visits), so that Ctrl-C and progress act within a second or
// so, but never below one full wave of threads on a large GPU.
constexpr int64_t kChunkNodeVisits = int64_t{1} << 34;
constexpr int64_t kMinChunkRows = int64_t{1} << 18;
constexpr int64_t kMaxGridY = 65535;

// The tables, trees and leaves as the kernels read them.
struct Tables {
  const RowNode* nodes;
  const int64_t* tree_node_begin;
  const int64_t* tree_leaf_begin;
  const LeafQuery* leaves;
  const GroupQuery* groups;
  const int32_t* columns;
  const uint32_t* cat_words;
  const double* tables;
  const double* values;
  int64_t n_trees;
  int32_t n_features;
  int32_t n_outputs;
};

// One block row per tree (tree first_tree + blockIdx.y), over a feature-major chunk of n rows
// (feature j of row r at bg[j * n + r]). A tree's cells are contiguous; when they fit in the
// launch's shared_cells, the block counts into shared memory and adds its totals to the global
// histogram once.
__global__ void histogram_kernel(Tables tb, int64_t first_tree, const double* bg, int64_t n, int64_t shared_cells,
                                 uint32_t* counts) {
  extern __shared__ uint32_t local[];
  const int64_t t = first_tree + blockIdx.y;
  const LeafQuery* first = tb.leaves + tb.tree_leaf_begin[t];
  const LeafQuery* last = tb.leaves + tb.tree_leaf_begin[t + 1] - 1;
  const int64_t first_cell = first->cells;
  const int64_t n_cells = last->cells + (int64_t{1} << last->width) - first_cell;
  const bool shared = n_cells <= shared_cells;  // the same for the whole block
  if (shared)
    for (int64_t i = threadIdx.x; i < n_cells; i += blockDim.x) local[i] = 0;
  __syncthreads();
  const RowNode* nodes = tb.nodes + tb.tree_node_begin[t];
  const auto n_nodes = static_cast<int32_t>(tb.tree_node_begin[t + 1] - tb.tree_node_begin[t]);
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t r = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; r < n; r += step) {
    core::walk_row(nodes, n_nodes, tb.cat_words, bg + r, n, [&](int32_t slot, uint64_t pattern) {
      const LeafQuery& q = tb.leaves[slot];
      const int64_t cell = q.cells + static_cast<int64_t>(pattern & core::low_bits(q.width));
      if (shared) atomicAdd(&local[cell - first_cell], 1u);
      else atomicAdd(&counts[cell], 1u);
    });
  }
  __syncthreads();
  if (shared)
    for (int64_t i = threadIdx.x; i < n_cells; i += blockDim.x)
      if (local[i]) atomicAdd(&counts[first_cell + i], local[i]);
}

// One thread per row, every tree in order, through a per-row accumulator `o` (entry c, output k
// at o[(c * K + k) * stride]); feature j of the row at x[j * x_stride].
__device__ void accumulate_row(const Tables& tb, const double* x, int64_t x_stride, double* o, int64_t stride) {
  for (int64_t t = 0; t < tb.n_trees; ++t) {
    const RowNode* nodes = tb.nodes + tb.tree_node_begin[t];
    const auto n_nodes = static_cast<int32_t>(tb.tree_node_begin[t + 1] - tb.tree_node_begin[t]);
    core::walk_row(
        nodes, n_nodes, tb.cat_words, x, x_stride, tb.groups,
        [&](int32_t slot, uint64_t pattern) {
          const LeafQuery& q = tb.leaves[slot];
          if (q.width > 0)
            core::add_leaf_contributions(q, pattern, tb.tables, tb.columns, tb.values, tb.n_outputs, o, stride);
        },
        [&](int32_t group, uint32_t state) {
          core::add_group_contributions(tb.groups[group], state, tb.tables, tb.columns, tb.n_outputs, o, stride);
        });
  }
}

// Where a row's sums live while it walks the trees (Accumulator, pattern_shap_cuda.hpp):
// - local: the thread's own array (local memory, L1-cached), written out once: rows of up to
//   kLocalEntries entries;
// - shared: the block's shared memory, entry c of thread i at [c * blockDim + i] (no bank
//   conflicts: a warp's threads update the same entry together), written out once: rows of up
//   to kSharedEntries entries;
// - global: in place in the entry-major output (zeroed first), whose updates coalesce across a
//   warp: rows of any size.
// Every variant adds the same terms in the same order: the results are bitwise equal.
constexpr int kLocalEntries = 64;
constexpr int kSharedEntries = 48;  // kThreads * 48 doubles = 48 KiB, the default shared-memory limit

// X: a feature-major chunk of n rows; out: entry-major, entry c of row r at out[c * n + r].
__global__ void values_kernel(Tables tb, const double* X, int64_t n, int64_t row_size, Accumulator where, double* out) {
  extern __shared__ double block_sums[];
  const int64_t r = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (r >= n) return;  // no block-wide synchronisation below
  const double* x = X + r;
  if (where == Accumulator::kLocal) {
    double acc[kLocalEntries];
    for (int64_t c = 0; c < row_size; ++c) acc[c] = 0.0;
    accumulate_row(tb, x, n, acc, 1);
    for (int64_t c = 0; c < row_size; ++c) out[c * n + r] = acc[c];
  } else if (where == Accumulator::kShared) {
    double* acc = block_sums + threadIdx.x;
    for (int64_t c = 0; c < row_size; ++c) acc[c * blockDim.x] = 0.0;
    accumulate_row(tb, x, n, acc, blockDim.x);
    for (int64_t c = 0; c < row_size; ++c) out[c * n + r] = acc[c * blockDim.x];
  } else {
    accumulate_row(tb, x, n, out + r, n);
  }
}

// The variant a call uses: auto picks local for short rows, global for the rest.
Accumulator resolve(Accumulator asked, int64_t row_size) {
  if (asked == Accumulator::kAuto) return row_size <= kLocalEntries ? Accumulator::kLocal : Accumulator::kGlobal;
  const int64_t limit = asked == Accumulator::kLocal    ? kLocalEntries
                        : asked == Accumulator::kShared ? kSharedEntries
                                                        : -1;
  if (limit >= 0 && row_size > limit)
    throw std::invalid_argument("accumulator: rows of " + std::to_string(row_size) + " entries do not fit (limit " +
                                std::to_string(limit) + ")");
  return asked;
}

unsigned int blocks_for(int64_t items, int threads, int64_t cap) {
  return static_cast<unsigned int>(std::max<int64_t>(1, std::min<int64_t>(cap, (items + threads - 1) / threads)));
}

// Rows per chunk: within kChunkBytes of device scratch (bytes_per_row), and within
// kChunkNodeVisits of work unless that would leave the GPU half idle.
int64_t chunk_rows(int64_t rows, int64_t bytes_per_row, int64_t nodes_per_row) {
  const int64_t by_memory = std::max<int64_t>(1, kChunkBytes / std::max<int64_t>(bytes_per_row, 1));
  const int64_t by_work = std::max(kMinChunkRows, kChunkNodeVisits / std::max<int64_t>(nodes_per_row, 1));
  return std::max<int64_t>(1, std::min({rows, by_memory, by_work}));
}

// A device array argument must lie in memory the home device reads: its own, or managed memory.
void check_device_matrix(const Matrix& m, int32_t n_features, int device, const char* name) {
  if (!m.on_device || m.rows == 0 || n_features == 0) return;
  const int d = device_of_memory(m.data, static_cast<size_t>(m.rows) * n_features * sizeof(double), name);
  if (d >= 0 && d != device)
    throw std::invalid_argument(std::string(name) + ": a device array on CUDA device " + std::to_string(d) +
                                ", but this explainer's tables are on device " + std::to_string(device) +
                                " (move the array there, or build the explainer with data on device " +
                                std::to_string(d) + ")");
}

}  // namespace

struct CudaPatternShap::Device {
  DeviceArray<RowNode> nodes;
  DeviceArray<int64_t> tree_node_begin, tree_leaf_begin;
  DeviceArray<LeafQuery> leaves;
  DeviceArray<GroupQuery> groups;
  DeviceArray<int32_t> columns;
  DeviceArray<uint32_t> cat_words;
  DeviceArray<double> tables, values;

  Tables view(const core::RowQueryPlan& p) const {
    // A forest without groups hands the walk a null pointer: it then never looks for one.
    return {nodes.get(),     tree_node_begin.get(), tree_leaf_begin.get(), leaves.get(), groups.get(),   columns.get(),
            cat_words.get(), tables.get(),          values.get(),          p.n_trees(),  p.n_features(), p.n_outputs()};
  }
};

int CudaPatternShap::home_device(const Matrix& background) {
  if (background.on_device && background.rows > 0) {
    const int d = device_of_memory(background.data, sizeof(double), "data");
    if (d >= 0) return d;
  }
  return current_device();
}

CudaPatternShap::CudaPatternShap(const core::Forest& f, const core::Players& players, core::Index index,
                                 Matrix background, int device, int max_width, int64_t budget_bytes,
                                 core::Progress* progress)
    : plan_(f, players, index, max_width, budget_bytes), device_(device) {
  if (background.rows < 1) throw std::invalid_argument("data: the background must have at least one row");
  if (background.rows > int64_t{0xFFFFFFFF})
    throw std::invalid_argument("data: the background must have fewer than 2^32 rows");
  // Every buffer is made and, on an error, freed while the home device is current.
  const DeviceScope on(device_);
  const int32_t F = plan_.n_features();
  check_device_matrix(background, F, device_, "data");
  auto dev = std::make_unique<Device>();
  // A caller's device array may still be being written on another stream (torch, CuPy).
  if (background.on_device) ASSAY_CUDA_CHECK(cudaDeviceSynchronize());
  dev->nodes.upload(plan_.nodes());
  dev->tree_node_begin.upload(plan_.tree_node_begin());
  dev->tree_leaf_begin.upload(plan_.tree_leaf_begin());
  dev->leaves.upload(plan_.leaves());
  dev->groups.upload(plan_.groups());
  dev->columns.upload(plan_.columns());
  dev->cat_words.upload(plan_.cat_words());
  dev->values.upload(plan_.values());
  DeviceArray<uint32_t> counts(static_cast<size_t>(plan_.n_cells()));
  counts.zero();
  const auto nodes_per_row = static_cast<int64_t>(plan_.nodes().size());
  ColumnChunks chunks(background, F,
                      chunk_rows(background.rows, ColumnChunks::bytes_per_row(background, F), nodes_per_row), "data");
  const Tables tb = dev->view(plan_);
  for (int64_t r0 = 0; r0 < background.rows; r0 += chunks.chunk_rows()) {
    core::throw_if_stopped(progress);
    const int64_t rows = std::min(chunks.chunk_rows(), background.rows - r0);
    const double* bg = chunks.columns(r0, rows);
    // One block row per tree, in batches of kMaxGridY trees; shared memory sized to the batch's
    // largest tree that fits (a fixed 48 KiB would cap the blocks per SM for small trees).
    for (int64_t t0 = 0; t0 < plan_.n_trees(); t0 += kMaxGridY) {
      const int64_t t1 = std::min(plan_.n_trees(), t0 + kMaxGridY);
      int64_t shared_cells = 0;
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t cells = plan_.tree_cells(t);
        if (cells <= kHistogramSharedCells) shared_cells = std::max(shared_cells, cells);
      }
      const dim3 grid(blocks_for(rows, kThreads, 1024), static_cast<unsigned int>(t1 - t0));
      histogram_kernel<<<grid, kThreads, static_cast<size_t>(shared_cells) * sizeof(uint32_t)>>>(
          tb, t0, bg, rows, shared_cells, counts.get());
      ASSAY_CUDA_CHECK(cudaGetLastError());
    }
    ASSAY_CUDA_CHECK(cudaDeviceSynchronize());  // progress counts rows whose counts are in
    core::advance(progress, rows);
  }
  std::vector<uint32_t> host(static_cast<size_t>(plan_.n_cells()));
  ASSAY_CUDA_CHECK(cudaMemcpy(host.data(), counts.get(), host.size() * sizeof(uint32_t), cudaMemcpyDeviceToHost));
  plan_.set_background(host.data(), background.rows);
  dev->tables.upload(plan_.tables());
  dev_ = std::move(dev);
}

CudaPatternShap::~CudaPatternShap() {
  try {
    const DeviceScope on(device_);
    dev_.reset();
  } catch (...) {
    dev_.reset();
  }
}

void CudaPatternShap::values(Matrix X, double* out, core::Progress* progress, Accumulator accumulator) const {
  const int64_t row_size = plan_.layout().row_size();
  const Accumulator where = resolve(accumulator, row_size);
  if (X.rows <= 0) return;
  const DeviceScope on(device_);  // declared first: the buffers below are freed on this device
  const int32_t F = plan_.n_features();
  check_device_matrix(X, F, device_, "X");
  if (X.on_device) ASSAY_CUDA_CHECK(cudaDeviceSynchronize());  // see the constructor
  // Per chunk: the rows (ColumnChunks) and two (rows x row_size) result buffers.
  const int64_t chunk =
      chunk_rows(X.rows, ColumnChunks::bytes_per_row(X, F) + 16 * row_size, static_cast<int64_t>(plan_.nodes().size()));
  ColumnChunks chunks(X, F, chunk, "X");
  DeviceArray<double> entry_major(static_cast<size_t>(chunk * row_size)),
      row_major(static_cast<size_t>(chunk * row_size));
  const Tables tb = dev_->view(plan_);
  for (int64_t r0 = 0; r0 < X.rows; r0 += chunk) {
    core::throw_if_stopped(progress);
    const int64_t rows = std::min(chunk, X.rows - r0);
    const double* x = chunks.columns(r0, rows);
    if (where == Accumulator::kGlobal)
      ASSAY_CUDA_CHECK(cudaMemset(entry_major.get(), 0, static_cast<size_t>(rows * row_size) * sizeof(double)));
    const size_t shared_bytes = where == Accumulator::kShared ? kThreads * row_size * sizeof(double) : 0;
    values_kernel<<<blocks_for(rows, kThreads, INT32_MAX), kThreads, shared_bytes>>>(tb, x, rows, row_size, where,
                                                                                     entry_major.get());
    ASSAY_CUDA_CHECK(cudaGetLastError());
    transpose(entry_major.get(), rows, row_size, row_major.get());
    ASSAY_CUDA_CHECK(cudaMemcpy(out + r0 * row_size, row_major.get(),
                                static_cast<size_t>(rows * row_size) * sizeof(double), cudaMemcpyDeviceToHost));
    core::advance(progress, rows);
  }
}

}  // namespace assay::cuda
