// Host launcher of the CUDA projection kernel (plain C++ view: no CUDA headers), for the bindings.
#pragma once
#include <cstdint>

namespace assay::cuda {

// Same contract as core::project_hyperplanes (csrc/core/projections.hpp), on device pointers:
// w is float32 when w_is_float, else float64. Runs on `stream` (a cudaStream_t as an integer;
// 0 is the legacy default stream) and returns without synchronising it.
void project_hyperplanes(const double* t, const void* w, bool w_is_float, const double* b, int64_t B, int64_t H,
                         int64_t d, int norm, const double* lo, const double* hi, double* distance, uint8_t* feasible,
                         double* delta, uintptr_t stream);

}  // namespace assay::cuda
