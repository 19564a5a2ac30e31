#include "cuda/column_chunks.cuh"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "cuda/check.cuh"
#include "cuda/transpose.cuh"

namespace assay::cuda {

namespace {

__global__ void find_infinite_kernel(const double* a, int64_t count, unsigned int* found) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count; i += step)
    if (isinf(a[i])) {
      atomicOr(found, 1u);
      return;
    }
}

}  // namespace

ColumnChunks::ColumnChunks(Matrix m, int32_t n_features, int64_t chunk_rows, const char* name)
    : m_(m), F_(n_features), chunk_(std::max<int64_t>(1, chunk_rows)), name_(name), found_(1) {
  const auto cells = static_cast<size_t>(std::min(chunk_, std::max<int64_t>(m.rows, 1))) * std::max(F_, 1);
  if (!m.on_device) staging_.resize(cells);
  columns_.resize(cells);
}

const double* ColumnChunks::columns(int64_t r0, int64_t rows) {
  if (rows <= 0 || F_ == 0) return columns_.get();
  const double* row_major = m_.data + r0 * F_;
  const size_t count = static_cast<size_t>(rows) * F_;
  if (!m_.on_device) {
    ASSAY_CUDA_CHECK(cudaMemcpy(staging_.get(), row_major, count * sizeof(double), cudaMemcpyHostToDevice));
    row_major = staging_.get();
  }
  // Row-major (rows x F) is column-major (F x rows) of its transpose: transpose(in, F, rows).
  transpose(row_major, F_, rows, columns_.get());
  found_.zero();
  const auto blocks = static_cast<unsigned int>(std::min<int64_t>(4096, (static_cast<int64_t>(count) + 255) / 256));
  find_infinite_kernel<<<blocks, 256>>>(columns_.get(), static_cast<int64_t>(count), found_.get());
  ASSAY_CUDA_CHECK(cudaGetLastError());
  unsigned int host = 0;
  ASSAY_CUDA_CHECK(cudaMemcpy(&host, found_.get(), sizeof(host), cudaMemcpyDeviceToHost));
  if (host) throw std::invalid_argument(std::string(name_) + ": contains inf (NaN means missing; inf is not a value)");
  return columns_.get();
}

}  // namespace assay::cuda
