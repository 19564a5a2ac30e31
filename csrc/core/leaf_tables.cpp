#include "core/leaf_tables.hpp"

#include <algorithm>

#include "core/leaf_paths.hpp"

namespace assay::core {

namespace {

inline int popcount(uint64_t v) { return popcount64(v); }

struct Family {
  int kind;    // IndexWeights::Kind
  int offset;  // weight read at m = |q'| - offset
};

// out[f * 2^d + q] = sum_{b >= q} counts[b] inv_n h_f(d - |b|, |q| - offset_f). Two exact ways
// to the same sums; take the cheaper for this histogram.
void superset_sums(const IndexWeights& w, int d, const double* counts, double inv_n, const Family* fam, int n_fam,
                   double* out, std::vector<double>& layer) {
  const int64_t S = int64_t{1} << d;
  int64_t enumerate_cost = 0;
  uint64_t occupied_layers = 0;
  for (int64_t b = 0; b < S; ++b) {
    if (counts[b] == 0.0) continue;
    enumerate_cost += int64_t{1} << popcount(static_cast<uint64_t>(b));
    occupied_layers |= uint64_t{1} << popcount(static_cast<uint64_t>(b));
  }
  if (enumerate_cost <= popcount(occupied_layers) * (d + 2) * S) {
    // Each occupied background pattern b adds to every submask q of b (O(sum 2^|b|)).
    std::vector<double> weight(static_cast<size_t>(n_fam) * (d + 1));
    for (int64_t b = 0; b < S; ++b) {
      if (counts[b] == 0.0) continue;
      const int k = popcount(static_cast<uint64_t>(b)), s = d - k;
      const double c = counts[b] * inv_n;
      for (int f = 0; f < n_fam; ++f)
        for (int m = 0; m <= k; ++m)
          weight[f * (d + 1) + m] = m >= fam[f].offset ? c * w.get(fam[f].kind, s, m - fam[f].offset) : 0.0;
      for (int64_t q = b;; q = (q - 1) & b) {
        const int m = popcount(static_cast<uint64_t>(q));
        for (int f = 0; f < n_fam; ++f) out[f * S + q] += weight[f * (d + 1) + m];
        if (q == 0) break;
      }
    }
    return;
  }
  // One popcount layer k at a time: F_k[q] = sum of counts over supersets b of q with |b| = k
  // (O(d 2^d) per occupied layer).
  layer.resize(S);
  for (int k = 0; k <= d; ++k) {
    if (!((occupied_layers >> k) & 1)) continue;
    for (int64_t b = 0; b < S; ++b) layer[b] = popcount(static_cast<uint64_t>(b)) == k ? counts[b] : 0.0;
    for (int j = 0; j < d; ++j) {
      const int64_t bit = int64_t{1} << j;
      for (int64_t b = 0; b < S; ++b)
        if (!(b & bit)) layer[b] += layer[b | bit];
    }
    const int s = d - k;
    for (int64_t q = 0; q < S; ++q) {
      if (layer[q] == 0.0) continue;
      const double c = layer[q] * inv_n;
      const int m = popcount(static_cast<uint64_t>(q));
      for (int f = 0; f < n_fam; ++f)
        if (m >= fam[f].offset) out[f * S + q] += c * w.get(fam[f].kind, s, m - fam[f].offset);
    }
  }
}

}  // namespace

void fill_leaf_table(const IndexWeights& w, int d, const double* counts, double inv_n, double scale, double* C,
                     std::vector<double>& scratch) {
  using W = IndexWeights;
  static constexpr Family kFamilies[] = {
      {W::kDiagX, 0}, {W::kDiagX, 1}, {W::kDiagZ, 0},                  // every index
      {W::kXX, 0},    {W::kXX, 1},    {W::kXX, 2},    {W::kXZ, 0}, {W::kXZ, 1}, {W::kZZ, 0},  // pairs
  };
  const bool pairs = w.pairs();
  const int n_fam = pairs ? 9 : 3;
  const int64_t S = int64_t{1} << d;
  scratch.assign(static_cast<size_t>(n_fam) * S, 0.0);
  std::vector<double> layer;
  superset_sums(w, d, counts, inv_n, kFamilies, n_fam, scratch.data(), layer);
  const double* DX0 = scratch.data();
  const double* DX1 = DX0 + S;
  const double* DZ0 = DX1 + S;
  for (int i = 0; i < d; ++i) {
    const int64_t bi = int64_t{1} << i;
    double* out = C + (pairs ? static_cast<int64_t>(i) * d + i : i) * S;
    for (int64_t q = 0; q < S; ++q) out[q] = scale * ((q & bi) ? DZ0[q] : DX0[q] - DX1[q | bi]);
  }
  if (!pairs) return;
  const double* XX0 = DZ0 + S;
  const double* XX1 = XX0 + S;
  const double* XX2 = XX1 + S;
  const double* XZ0 = XX2 + S;
  const double* XZ1 = XZ0 + S;
  const double* ZZ0 = XZ1 + S;
  for (int i = 0; i < d; ++i) {
    const int64_t bi = int64_t{1} << i;
    for (int j = 0; j < d; ++j) {
      if (j == i) continue;
      const int64_t bj = int64_t{1} << j;
      double* out = C + (static_cast<int64_t>(i) * d + j) * S;
      for (int64_t q = 0; q < S; ++q) {
        double v;
        if ((q & bi) && (q & bj)) v = ZZ0[q];
        else if (q & bj) v = XZ0[q] - XZ1[q | bi];  // i x-only, j z-only
        else if (q & bi) v = XZ0[q] - XZ1[q | bj];  // j x-only, i z-only
        else v = XX0[q] - XX1[q | bi] - XX1[q | bj] + XX2[q | bi | bj];
        out[q] = scale * v;
      }
    }
  }
}

}  // namespace assay::core
