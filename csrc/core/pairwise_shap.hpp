// The exact reference: every index by recursion over each (foreground, background, tree)
// triple. Cost O(N_f * N_b * trees * leaves); every faster kernel is tested against it.
#pragma once
#include <cstdint>

#include "core/forest.hpp"
#include "core/indices.hpp"
#include "core/players.hpp"
#include "core/progress.hpp"

namespace assay::core {

// out is (n_fg, OutputLayout row) C order, overwritten. Background rows weigh 1/n_bg each.
// progress (optional) counts finished rows; its stop flag abandons the call (Cancelled).
void pairwise_values(const Forest& f, const Players& players, Index ix, const double* fg, int64_t n_fg,
                     const double* bg, int64_t n_bg, double* out, int n_threads, Progress* progress = nullptr);

// Adds the values of trees [tree_begin, tree_end) for one foreground row to out_row (the
// pattern kernel's fallback for trees whose paths are too wide for bit patterns).
void pairwise_values_row(const Forest& f, const Players& players, const IndexWeights& w, const double* x,
                         const double* bg, int64_t n_bg, int64_t tree_begin, int64_t tree_end, double* out_row);

// The same with background row b weighing bg_weight[b] instead of 1 / n_bg (per-row weights of
// the transformed outputs, transformed_shap.hpp); bg_weight == nullptr is the uniform 1 / n_bg.
void pairwise_values_row_weighted(const Forest& f, const Players& players, const IndexWeights& w, const double* x,
                                  const double* bg, const double* bg_weight, int64_t n_bg, int64_t tree_begin,
                                  int64_t tree_end, double* out_row);

}  // namespace assay::core
