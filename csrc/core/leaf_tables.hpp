// One leaf's dense table. For a foreground row, let q be the mask of the leaf's players it
// fails (m = |q|). The background patterns b that reach the leaf together with it are the
// supersets of q, and for each, S_Z = q and S_X = the bits of ~q that b lacks (s = d - |b|).
// So every entry is a sum over supersets of q, weighted by functions of (d - |b|, |q|)
// (indices.hpp), with inclusion-exclusion on the bits that must be x-only:
//   player i in q:        sum_{b >= q} diagZ                      = DZ0[q]
//   player i not in q:    sum_{b >= q, i not in b} diagX          = DX0[q] - DX1[q | i]
//   pair i, j in q:       ZZ0[q]
//   pair, one in q (the other, k, x-only):                        = XZ0[q] - XZ1[q | k]
//   pair, neither in q:   XX0[q] - XX1[q | i] - XX1[q | j] + XX2[q | i | j]
// where H_o[q'] = sum_{b >= q'} c(b) h(d - |b|, |q'| - o): the offset o keeps the weight at
// m = |q| when it is read at a superset of q.
#pragma once
#include <cstdint>
#include <vector>

#include "core/indices.hpp"

namespace assay::core {

// Entries per mask: d players, or d^2 ordered pairs (i, j) -> i * d + j.
inline int64_t leaf_table_entries(int d, bool pairs) { return pairs ? static_cast<int64_t>(d) * d : d; }

// Writes C[e * 2^d + q] for every entry e and mask q, times `scale` (the leaf value, or 1).
// counts: the background histogram of the leaf's patterns (2^d cells); inv_n = 1 / n_bg.
void fill_leaf_table(const IndexWeights& w, int d, const double* counts, double inv_n, double scale, double* C,
                     std::vector<double>& scratch);

}  // namespace assay::core
