#include "cuda/pattern_shap_cuda.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "core/row_walk.hpp"
#include "cuda/check.cuh"
#include "cuda/device.hpp"
#include "cuda/device_array.cuh"

namespace assay::cuda {

using core::LeafQuery;
using core::RowNode;

namespace {

constexpr int kThreads = 128;
constexpr int kHistogramSharedCells = 12 * 1024;        // 48 KiB of uint32 per block
constexpr int64_t kChunkBytes = int64_t{512} << 20;      // device scratch per chunk of rows

// The tables, trees and leaves as the kernels read them.
struct Tables {
  const RowNode* nodes;
  const int64_t* tree_node_begin;
  const int64_t* tree_leaf_begin;
  const LeafQuery* leaves;
  const int32_t* columns;
  const uint32_t* cat_words;
  const double* tables;
  const double* values;
  int64_t n_trees;
  int32_t n_features;
  int32_t n_outputs;
};

// One block row per tree (tree first_tree + blockIdx.y). A tree's cells are contiguous; when
// they fit, the block counts into shared memory and adds its totals to the global histogram once.
__global__ void histogram_kernel(Tables tb, int64_t first_tree, const double* bg, int64_t n_bg, uint32_t* counts) {
  extern __shared__ uint32_t local[];
  const int64_t t = first_tree + blockIdx.y;
  const LeafQuery* first = tb.leaves + tb.tree_leaf_begin[t];
  const LeafQuery* last = tb.leaves + tb.tree_leaf_begin[t + 1] - 1;
  const int64_t first_cell = first->cells;
  const int64_t n_cells = last->cells + (int64_t{1} << last->width) - first_cell;
  const bool shared = n_cells <= kHistogramSharedCells;
  if (shared)
    for (int64_t i = threadIdx.x; i < n_cells; i += blockDim.x) local[i] = 0;
  __syncthreads();
  const RowNode* nodes = tb.nodes + tb.tree_node_begin[t];
  const auto n_nodes = static_cast<int32_t>(tb.tree_node_begin[t + 1] - tb.tree_node_begin[t]);
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t r = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; r < n_bg; r += step) {
    core::walk_row(nodes, n_nodes, tb.cat_words, bg + r * tb.n_features, 1, [&](int32_t slot, uint64_t pattern) {
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
// at o[(c * K + k) * stride]).
__device__ void accumulate_row(const Tables& tb, const double* x, double* o, int64_t stride) {
  for (int64_t t = 0; t < tb.n_trees; ++t) {
    const RowNode* nodes = tb.nodes + tb.tree_node_begin[t];
    const auto n_nodes = static_cast<int32_t>(tb.tree_node_begin[t + 1] - tb.tree_node_begin[t]);
    core::walk_row(nodes, n_nodes, tb.cat_words, x, 1, [&](int32_t slot, uint64_t pattern) {
      const LeafQuery& q = tb.leaves[slot];
      if (q.width > 0) core::add_leaf_contributions(q, pattern, tb.tables, tb.columns, tb.values, tb.n_outputs, o, stride);
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

__global__ void values_kernel(Tables tb, const double* X, int64_t n, int64_t row_size, Accumulator where,
                              double* out) {
  extern __shared__ double block_sums[];
  const int64_t r = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (r >= n) return;  // no block-wide synchronisation below
  const double* x = X + r * tb.n_features;
  if (where == Accumulator::kLocal) {
    double acc[kLocalEntries];
    for (int64_t c = 0; c < row_size; ++c) acc[c] = 0.0;
    accumulate_row(tb, x, acc, 1);
    for (int64_t c = 0; c < row_size; ++c) out[c * n + r] = acc[c];
  } else if (where == Accumulator::kShared) {
    double* acc = block_sums + threadIdx.x;
    for (int64_t c = 0; c < row_size; ++c) acc[c * blockDim.x] = 0.0;
    accumulate_row(tb, x, acc, blockDim.x);
    for (int64_t c = 0; c < row_size; ++c) out[c * n + r] = acc[c * blockDim.x];
  } else {
    accumulate_row(tb, x, out + r, n);
  }
}

// The variant a call uses: auto picks local for short rows, global for the rest.
Accumulator resolve(Accumulator asked, int64_t row_size) {
  if (asked == Accumulator::kAuto) return row_size <= kLocalEntries ? Accumulator::kLocal : Accumulator::kGlobal;
  const int64_t limit = asked == Accumulator::kLocal ? kLocalEntries : asked == Accumulator::kShared ? kSharedEntries : -1;
  if (limit >= 0 && row_size > limit)
    throw std::invalid_argument("accumulator: rows of " + std::to_string(row_size) + " entries do not fit (limit " +
                                std::to_string(limit) + ")");
  return asked;
}

// (cols x n) column-major -> (n x cols) row-major, through 32 x 32 shared tiles; this launch
// covers the columns from first_col on, 32 per block row.
__global__ void transpose_kernel(const double* in, int64_t n, int64_t cols, int64_t first_col, double* out) {
  __shared__ double tile[32][33];
  const int64_t r0 = static_cast<int64_t>(blockIdx.x) * 32, c0 = first_col + static_cast<int64_t>(blockIdx.y) * 32;
  for (int j = threadIdx.y; j < 32; j += blockDim.y) {
    const int64_t c = c0 + j, r = r0 + threadIdx.x;
    if (c < cols && r < n) tile[j][threadIdx.x] = in[c * n + r];
  }
  __syncthreads();
  for (int j = threadIdx.y; j < 32; j += blockDim.y) {
    const int64_t r = r0 + j, c = c0 + threadIdx.x;
    if (c < cols && r < n) out[r * cols + c] = tile[threadIdx.x][j];
  }
}

__global__ void count_infinite_kernel(const double* a, int64_t count, unsigned int* found) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count; i += step)
    if (isinf(a[i])) {
      atomicOr(found, 1u);
      return;
    }
}

unsigned int blocks_for(int64_t items, int threads, int64_t cap = 65535) {
  return static_cast<unsigned int>(std::max<int64_t>(1, std::min<int64_t>(cap, (items + threads - 1) / threads)));
}

constexpr int64_t kMaxGridY = 65535;

// gridDim.y is at most 65535: wide rows (pair values of over 1448 players) take several launches.
void transpose(const double* in, int64_t n, int64_t cols, double* out) {
  const int64_t col_tiles = (cols + 31) / 32;
  for (int64_t t0 = 0; t0 < col_tiles; t0 += kMaxGridY) {
    const dim3 grid(static_cast<unsigned int>((n + 31) / 32), static_cast<unsigned int>(std::min(kMaxGridY, col_tiles - t0)));
    transpose_kernel<<<grid, dim3(32, 8)>>>(in, n, cols, t0 * 32, out);
    ASSAY_CUDA_CHECK(cudaGetLastError());
  }
}

// The device the explainer lives on: that of a device-array background, else the current one.
int home_device(const Matrix& background) {
  if (background.on_device && background.rows > 0) {
    const int d = device_of_pointer(background.data, "data");
    if (d >= 0) return d;
  }
  return current_device();
}

// A device array argument must be memory the home device reads: its own, or managed memory.
void check_on_device(const Matrix& m, int device, const char* name) {
  if (!m.on_device || m.rows == 0) return;
  const int d = device_of_pointer(m.data, name);
  if (d >= 0 && d != device)
    throw std::invalid_argument(std::string(name) + ": a device array on CUDA device " + std::to_string(d) +
                                ", but this explainer's tables are on device " + std::to_string(device) +
                                " (move the array there, or build the explainer with data on device " +
                                std::to_string(d) + ")");
}

void throw_if_infinite(const double* a, int64_t count, const char* name) {
  DeviceArray<unsigned int> found(1);
  found.zero();
  count_infinite_kernel<<<blocks_for(count, 256, 4096), 256>>>(a, count, found.get());
  ASSAY_CUDA_CHECK(cudaGetLastError());
  unsigned int host = 0;
  ASSAY_CUDA_CHECK(cudaMemcpy(&host, found.get(), sizeof(host), cudaMemcpyDeviceToHost));
  if (host) throw std::invalid_argument(std::string(name) + ": contains inf (NaN means missing; inf is not a value)");
}

// Rows of a matrix on the device: the caller's own memory, or a chunk copied in.
class RowChunks {
 public:
  RowChunks(Matrix m, int32_t n_features, int64_t chunk_rows) : m_(m), F_(n_features), chunk_(chunk_rows) {
    if (!m.on_device) staging_.resize(static_cast<size_t>(std::min(chunk_rows, m.rows)) * F_);
  }
  int64_t chunk_rows() const { return chunk_; }
  const double* rows(int64_t r0, int64_t count) {
    if (m_.on_device) return m_.data + r0 * F_;
    ASSAY_CUDA_CHECK(cudaMemcpy(staging_.get(), m_.data + r0 * F_, static_cast<size_t>(count) * F_ * sizeof(double),
                                cudaMemcpyHostToDevice));
    return staging_.get();
  }

 private:
  Matrix m_;
  int32_t F_;
  int64_t chunk_;
  DeviceArray<double> staging_;
};

}  // namespace

struct CudaPatternShap::Device {
  DeviceArray<RowNode> nodes;
  DeviceArray<int64_t> tree_node_begin, tree_leaf_begin;
  DeviceArray<LeafQuery> leaves;
  DeviceArray<int32_t> columns;
  DeviceArray<uint32_t> cat_words;
  DeviceArray<double> tables, values;

  Tables view(const core::RowQueryPlan& p) const {
    return {nodes.get(),   tree_node_begin.get(), tree_leaf_begin.get(), leaves.get(),   columns.get(),
            cat_words.get(), tables.get(),        values.get(),          p.n_trees(),    p.n_features(),
            p.n_outputs()};
  }
};

CudaPatternShap::CudaPatternShap(const core::Forest& f, const core::Players& players, core::Index index,
                                 Matrix background, int max_width, int64_t budget_bytes, core::Progress* progress)
    : plan_(f, players, index, max_width, budget_bytes), device_(home_device(background)) {
  if (background.rows < 1) throw std::invalid_argument("data: the background must have at least one row");
  if (background.rows > int64_t{0xFFFFFFFF}) throw std::invalid_argument("data: the background must have fewer than 2^32 rows");
  // Every buffer is made and, on an error, freed while the home device is current.
  const DeviceScope on(device_);
  auto dev = std::make_unique<Device>();
  // A caller's device array may still be being written on another stream (torch, CuPy).
  if (background.on_device) ASSAY_CUDA_CHECK(cudaDeviceSynchronize());
  dev->nodes.upload(plan_.nodes());
  dev->tree_node_begin.upload(plan_.tree_node_begin());
  dev->tree_leaf_begin.upload(plan_.tree_leaf_begin());
  dev->leaves.upload(plan_.leaves());
  dev->columns.upload(plan_.columns());
  dev->cat_words.upload(plan_.cat_words());
  dev->values.upload(plan_.values());
  DeviceArray<uint32_t> counts(static_cast<size_t>(plan_.n_cells()));
  counts.zero();
  const int32_t F = plan_.n_features();
  RowChunks chunks(background, F, std::max<int64_t>(1, kChunkBytes / (8 * std::max<int32_t>(F, 1))));
  const Tables tb = dev->view(plan_);
  for (int64_t r0 = 0; r0 < background.rows; r0 += chunks.chunk_rows()) {
    core::throw_if_stopped(progress);
    const int64_t rows = std::min(chunks.chunk_rows(), background.rows - r0);
    const double* bg = chunks.rows(r0, rows);
    if (background.on_device) throw_if_infinite(bg, rows * F, "data");
    // One block row per tree, in batches of kMaxGridY trees.
    for (int64_t t0 = 0; t0 < plan_.n_trees(); t0 += kMaxGridY) {
      const dim3 grid(blocks_for(rows, kThreads, 1024), static_cast<unsigned int>(std::min(kMaxGridY, plan_.n_trees() - t0)));
      histogram_kernel<<<grid, kThreads, kHistogramSharedCells * sizeof(uint32_t)>>>(tb, t0, bg, rows, counts.get());
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
  const Accumulator where = resolve(accumulator, plan_.layout().row_size());
  if (X.rows <= 0) return;
  const DeviceScope on(device_);  // declared first: the buffers below are freed on this device
  check_on_device(X, device_, "X");
  if (X.on_device) ASSAY_CUDA_CHECK(cudaDeviceSynchronize());  // see the constructor
  const int32_t F = plan_.n_features();
  const int64_t row_size = plan_.layout().row_size();
  // Per chunk: the rows (if copied in) and two (rows x row_size) buffers.
  const int64_t per_row = 8 * (2 * row_size + (X.on_device ? 0 : F));
  const int64_t chunk = std::max<int64_t>(1, std::min<int64_t>(X.rows, kChunkBytes / per_row));
  RowChunks chunks(X, F, chunk);
  DeviceArray<double> entry_major(static_cast<size_t>(chunk * row_size)), row_major(static_cast<size_t>(chunk * row_size));
  const Tables tb = dev_->view(plan_);
  for (int64_t r0 = 0; r0 < X.rows; r0 += chunk) {
    core::throw_if_stopped(progress);
    const int64_t rows = std::min(chunk, X.rows - r0);
    const double* x = chunks.rows(r0, rows);
    throw_if_infinite(x, rows * F, "X");
    if (where == Accumulator::kGlobal)
      ASSAY_CUDA_CHECK(cudaMemset(entry_major.get(), 0, static_cast<size_t>(rows * row_size) * sizeof(double)));
    const size_t shared_bytes = where == Accumulator::kShared ? kThreads * row_size * sizeof(double) : 0;
    values_kernel<<<blocks_for(rows, kThreads, INT32_MAX), kThreads, shared_bytes>>>(tb, x, rows, row_size, where,
                                                                                    entry_major.get());
    ASSAY_CUDA_CHECK(cudaGetLastError());
    transpose(entry_major.get(), rows, row_size, row_major.get());
    ASSAY_CUDA_CHECK(cudaMemcpy(out + r0 * row_size, row_major.get(), static_cast<size_t>(rows * row_size) * sizeof(double),
                                cudaMemcpyDeviceToHost));
    core::advance(progress, rows);
  }
}

}  // namespace assay::cuda
