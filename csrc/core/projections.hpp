// Batched exact box-constrained projections onto hyperplanes (CPU, OpenMP over problems).
#pragma once
#include <cstdint>

namespace assay::core {

// For i < B, h < H: project t[i] (B, d) onto {x : <w[i, h], x> = b[i, h]} (w (B, H, d), b (B, H))
// inside [lo, hi] ((d,) each, or both null for no box), minimising the l_inf (norm 0), l_1 (1)
// or l_2 (2) norm of the move. Writes distance (B, H) (+inf when infeasible), feasible (B, H)
// and, when delta is not null, the moves (B, H, d) (zeros when infeasible). T is float or
// double; everything is accumulated in double. Deterministic for any n_threads.
template <class T>
void project_hyperplanes(const double* t, const T* w, const double* b, int64_t B, int64_t H, int64_t d, int norm,
                         const double* lo, const double* hi, double* distance, uint8_t* feasible, double* delta,
                         int n_threads);

}  // namespace assay::core
