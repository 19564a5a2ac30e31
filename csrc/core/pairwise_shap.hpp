// The exact reference: interventional SHAP by recursion over each (foreground, background,
// tree) triple. Cost O(N_f * N_b * trees * leaves); every faster kernel is tested against it.
#pragma once
#include <cstdint>

#include "core/forest.hpp"

namespace assay::core {

// phi is (n_fg, n_features, K) C order, overwritten. Background rows weigh 1/n_bg each.
// Only trees in [tree_begin, tree_end) are visited (the pattern kernel's per-tree fallback).
void pairwise_shap(const Forest& f, const double* fg, int64_t n_fg, const double* bg, int64_t n_bg,
                   double* phi, int n_threads);

// Adds the contribution of trees [tree_begin, tree_end) for one foreground row to phi_row (n_features * K).
void pairwise_shap_row(const Forest& f, const double* x, const double* bg, int64_t n_bg,
                       int64_t tree_begin, int64_t tree_end, double* phi_row);

}  // namespace assay::core
