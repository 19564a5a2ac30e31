// Matrix transposition on the device (legacy default stream), for the layouts the tree kernels
// want: feature-major rows in (one coalesced load per warp and split), row-major results out.
#pragma once
#include <cstdint>

namespace assay::cuda {

// in: (cols x n) column-major, i.e. in[c * n + r]; out: (n x cols) row-major, out[r * cols + c].
// Any sizes (grids are split where CUDA limits them).
void transpose(const double* in, int64_t n, int64_t cols, double* out);

}  // namespace assay::cuda
