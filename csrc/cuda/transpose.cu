#include "cuda/transpose.cuh"

#include <algorithm>

#include "cuda/check.cuh"

namespace assay::cuda {

namespace {

constexpr int64_t kMaxGridY = 65535;

// Through 32 x 32 shared tiles; this launch covers the columns from first_col on, 32 per block row.
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

}  // namespace

void transpose(const double* in, int64_t n, int64_t cols, double* out) {
  if (n <= 0 || cols <= 0) return;
  const int64_t col_tiles = (cols + 31) / 32;
  for (int64_t t0 = 0; t0 < col_tiles; t0 += kMaxGridY) {
    const dim3 grid(static_cast<unsigned int>((n + 31) / 32),
                    static_cast<unsigned int>(std::min(kMaxGridY, col_tiles - t0)));
    transpose_kernel<<<grid, dim3(32, 8)>>>(in, n, cols, t0 * 32, out);
    ASSAY_CUDA_CHECK(cudaGetLastError());
  }
}

}  // namespace assay::cuda
