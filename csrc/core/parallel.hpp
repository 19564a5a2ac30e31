// OpenMP loops that carry exceptions out of the parallel region (treelite's pattern):
// the first exception thrown by any iteration is rethrown on the calling thread.
#pragma once
#include <cstdint>
#include <exception>
#include <mutex>

#ifdef ASSAY_WITH_OPENMP
#include <omp.h>
#endif

namespace assay::core {

// n_jobs <= 0 means all available threads.
inline int resolve_threads(int n_jobs) {
#ifdef ASSAY_WITH_OPENMP
  if (n_jobs <= 0) return omp_get_max_threads();
  return n_jobs;
#else
  (void)n_jobs;
  return 1;
#endif
}

// Runs body(i) for i in [0, n) on n_threads threads; chunks of `grain` iterations.
template <class Body>
void parallel_for(int64_t n, int n_threads, int64_t grain, Body&& body) {
  std::exception_ptr error;
  std::mutex error_mutex;
  (void)n_threads;
  (void)grain;
#ifdef ASSAY_WITH_OPENMP
#pragma omp parallel for num_threads(n_threads) schedule(dynamic, grain)
#endif
  for (int64_t i = 0; i < n; ++i) {
    try {
      body(i);
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace assay::core
