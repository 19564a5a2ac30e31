#include "core/predict.hpp"

#include "core/parallel.hpp"

namespace assay::core {

void predict_raw(const Forest& f, const double* X, int64_t n, double* out, int n_threads) {
  const int32_t K = f.n_outputs;
  parallel_for(n, n_threads, 256, [&](int64_t i) {
    const double* x = X + i * f.n_features;
    double* o = out + i * K;
    for (int32_t k = 0; k < K; ++k) o[k] = f.base_score[k];
    for (int64_t t = 0; t < f.n_trees(); ++t) {
      const double* v = &f.value[find_leaf(f, t, x) * K];
      const int32_t only = f.tree_output[t];
      if (only >= 0) {
        o[only] += v[only];
      } else {
        for (int32_t k = 0; k < K; ++k) o[k] += v[k];
      }
    }
  });
}

}  // namespace assay::core
