// CUDA projection kernel: one warp per problem. The lanes share the per-coordinate phases of the
// shared routine (csrc/core/projection_problem.hpp: dot product, knots, the first bracketing
// round, the moves) with fixed-order shuffle reductions (deterministic); lane 0 then runs the
// same sequential bracket_and_select as the CPU on the few candidates left.
#include <cuda_runtime.h>

#include <algorithm>
#include <stdexcept>
#include <string>

#include "core/projection_problem.hpp"
#include "cuda/check.cuh"
#include "cuda/projections.hpp"

namespace assay::cuda {

namespace {

using namespace assay::core::projection;

constexpr int kWarp = 32;
constexpr int kWarpsPerBlock = 4;
constexpr unsigned kAll = 0xffffffffu;
constexpr int64_t kScratchBytes = int64_t{256} << 20;  // knots of the warps in flight

// Tree reductions in a fixed order, result broadcast from lane 0 (every lane sees the same bits).
__device__ double warp_sum(double x) {
  for (int o = kWarp / 2; o > 0; o /= 2) x += __shfl_down_sync(kAll, x, o);
  return __shfl_sync(kAll, x, 0);
}

__device__ double warp_max(double x) {
  for (int o = kWarp / 2; o > 0; o /= 2) x = max_of(x, __shfl_down_sync(kAll, x, o));
  return __shfl_sync(kAll, x, 0);
}

__device__ double warp_norm(int norm, double x) { return norm == kLinf ? warp_max(x) : warp_sum(x); }

__device__ void write_empty(double* delta, int64_t d, int lane) {
  if (delta != nullptr)
    for (int64_t j = lane; j < d; j += kWarp) delta[j] = 0.0;
}

// First bracketing round over all d knots, spread over the lanes; compacts the candidates to
// the front of `knots` (ballot + prefix count, in place: a step writes only below what it read).
__device__ int64_t warp_bracket_round(int norm, Knot* knots, int64_t d, double c, Known& known, int lane) {
  double p[kSamples], curve[kSamples];
  for (int s = 0; s < kSamples; ++s) curve[s] = 0;
  sample_keys(knots, d, p);
  for (int64_t j = lane; j < d; j += kWarp) add_to_curves(norm, knots[j], p, curve);
  for (int s = 0; s < kSamples; ++s) curve[s] = warp_sum(curve[s]);
  const Bracket br = bracket_of(norm, p, curve, c, known);
  Known mine{0.0, 0.0, 0.0};
  int64_t m = 0;
  for (int64_t j0 = 0; j0 < d; j0 += kWarp) {
    const int64_t j = j0 + lane;
    Knot x{0.0, 0.0, 0};
    bool keep = false;
    if (j < d) {
      x = knots[j];
      keep = settle(norm, x, br, mine) == 0;
    }
    const unsigned ballot = __ballot_sync(kAll, keep);
    __syncwarp();
    if (keep) knots[m + __popc(ballot & ((1u << lane) - 1u))] = x;
    m += __popc(ballot);
    __syncwarp();
  }
  known.sat += warp_sum(mine.sat);
  known.slope += warp_sum(mine.slope);
  known.top = max_of(known.top, warp_max(mine.top));
  return m;
}

__device__ Free warp_free(Free f) {
  for (int o = kWarp / 2; o > 0; o /= 2) {
    const Free other{__shfl_down_sync(kAll, f.sum, o), __shfl_down_sync(kAll, f.best, o),
                     static_cast<int64_t>(__shfl_down_sync(kAll, static_cast<long long>(f.best_index), o))};
    f = merge_free(f, other);
  }
  return Free{__shfl_sync(kAll, f.sum, 0), __shfl_sync(kAll, f.best, 0),
              static_cast<int64_t>(__shfl_sync(kAll, static_cast<long long>(f.best_index), 0))};
}

// Phase 4 over the lanes: the moves and their norm (every lane gets the norm).
template <class T>
__device__ double warp_moves(int norm, const double* tp, const T* wp, int64_t d, const Setup& s, const Solution& sol,
                             const double* lo, const double* hi, double* dl, int lane) {
  double acc = 0;
  for (int64_t j = lane; j < d; j += kWarp) {
    const double ws = s.flip * static_cast<double>(wp[j]);
    const double x = delta_of(norm, sol, ws, room(ws, tp[j], lo, hi, j), j);
    acc = accumulate_norm(norm, acc, x);
    if (dl != nullptr) dl[j] = x;
  }
  acc = warp_norm(norm, acc);
  return norm == kL2 ? sqrt(acc) : acc;
}

template <class T>
__global__ void project_kernel(const double* t, const T* w, const double* b, int64_t P, int64_t H, int64_t d, int norm,
                               const double* lo, const double* hi, double* distance, uint8_t* feasible, double* delta,
                               Knot* scratch, int64_t n_warps) {
  const int lane = threadIdx.x % kWarp;
  const int64_t warp = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) / kWarp;
  if (warp >= n_warps) return;  // whole warps only: blockDim is a multiple of 32
  Knot* knots = scratch + warp * d;
  for (int64_t p = warp; p < P; p += n_warps) {
    const double* tp = t + (p / H) * d;
    const T* wp = w + p * d;
    double* dl = delta == nullptr ? nullptr : delta + p * d;
    double dot = 0;
    for (int64_t j = lane; j < d; j += kWarp) dot += static_cast<double>(wp[j]) * tp[j];
    const Setup s = make_setup(b[p], warp_sum(dot));
    if (lo == nullptr && s.c > 0) {  // no box: the closed form
      Free f{0.0, 0.0, 0};
      for (int64_t j = lane; j < d; j += kWarp) add_free(norm, static_cast<double>(wp[j]), j, f);
      f = warp_free(f);
      if ((norm == kL1 ? f.best : f.sum) > 0) {
        const double dist = warp_moves(norm, tp, wp, d, s, solve_free(norm, f, s.c), lo, hi, dl, lane);
        if (lane == 0) {
          feasible[p] = 1;
          distance[p] = dist;
        }
        continue;
      }
    }
    double capacity = 0;
    if (s.c > 0) {
      for (int64_t j = lane; j < d; j += kWarp) {
        const double ws = s.flip * static_cast<double>(wp[j]);
        const double r = room(ws, tp[j], lo, hi, j);
        knots[j] = make_knot(norm, ws, r, j);
        capacity += capacity_of(ws, r);
      }
      capacity = warp_sum(capacity);
    }
    if (s.c == 0 || !(capacity >= s.c)) {
      write_empty(dl, d, lane);
      if (lane == 0) {
        feasible[p] = s.c == 0;
        distance[p] = s.c == 0 ? 0.0 : infinity();
      }
      continue;
    }
    __syncwarp();
    Known known{0.0, 0.0, 0.0};
    const int64_t m = warp_bracket_round(norm, knots, d, s.c, known, lane);
    Solution sol{0.0, 0.0, 0, 0.0};
    if (lane == 0) sol = bracket_and_select(norm, knots, m, s.c, known);
    sol.lam = __shfl_sync(kAll, sol.lam, 0);
    sol.critical_key = __shfl_sync(kAll, sol.critical_key, 0);
    sol.critical_index = __shfl_sync(kAll, static_cast<long long>(sol.critical_index), 0);
    sol.part = __shfl_sync(kAll, sol.part, 0);
    const double dist = warp_moves(norm, tp, wp, d, s, sol, lo, hi, dl, lane);
    if (lane == 0) {
      feasible[p] = 1;
      distance[p] = dist;
    }
    __syncwarp();  // lane 0 is done with the knots before the next problem overwrites them
  }
}

template <class T>
void launch(const double* t, const T* w, const double* b, int64_t P, int64_t H, int64_t d, int norm, const double* lo,
            const double* hi, double* distance, uint8_t* feasible, double* delta, cudaStream_t stream) {
  const int64_t per_warp = d * static_cast<int64_t>(sizeof(Knot));
  const int64_t n_warps = std::max<int64_t>(1, std::min<int64_t>(P, kScratchBytes / per_warp));
  void* scratch = nullptr;
  ASSAY_CUDA_CHECK(cudaMallocAsync(&scratch, static_cast<size_t>(n_warps * per_warp), stream));
  const int64_t blocks = (n_warps + kWarpsPerBlock - 1) / kWarpsPerBlock;
  project_kernel<T><<<static_cast<unsigned>(blocks), kWarpsPerBlock * kWarp, 0, stream>>>(
      t, w, b, P, H, d, norm, lo, hi, distance, feasible, delta, static_cast<Knot*>(scratch), n_warps);
  const cudaError_t launched = cudaGetLastError();
  ASSAY_CUDA_CHECK(cudaFreeAsync(scratch, stream));
  ASSAY_CUDA_CHECK(launched);
}

}  // namespace

void project_hyperplanes(const double* t, const void* w, bool w_is_float, const double* b, int64_t B, int64_t H,
                         int64_t d, int norm, const double* lo, const double* hi, double* distance, uint8_t* feasible,
                         double* delta, uintptr_t stream) {
  if (B < 0 || H < 0 || d < 1) throw std::invalid_argument("project_hyperplanes: expected B, H >= 0 and d >= 1");
  if (norm != kLinf && norm != kL1 && norm != kL2)
    throw std::invalid_argument("norm: expected 0 (l_inf), 1 (l_1) or 2 (l_2), got " + std::to_string(norm));
  if ((lo == nullptr) != (hi == nullptr)) throw std::invalid_argument("box: expected both lo and hi, or neither");
  const int64_t P = B * H;
  if (P == 0) return;
  auto s = reinterpret_cast<cudaStream_t>(stream);
  if (w_is_float) launch(t, static_cast<const float*>(w), b, P, H, d, norm, lo, hi, distance, feasible, delta, s);
  else launch(t, static_cast<const double*>(w), b, P, H, d, norm, lo, hi, distance, feasible, delta, s);
}

}  // namespace assay::cuda
