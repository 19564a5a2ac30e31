// Cooperative cancellation and progress for long kernels. A kernel adds the work it finishes to
// `done` and starts no new work once `stop` is set; the binding sets it on Ctrl-C (the kernel
// then winds down within one block of rows or one tree) and reads `done` for progress bars.
#pragma once
#include <atomic>
#include <cstdint>
#include <stdexcept>

namespace assay::core {

struct Progress {
  std::atomic<bool> stop{false};
  std::atomic<int64_t> done{0};

  bool stopped() const { return stop.load(std::memory_order_relaxed); }
  void add(int64_t n) { done.fetch_add(n, std::memory_order_relaxed); }
};

// Thrown by a kernel that stopped early; its outputs are incomplete.
struct Cancelled : std::runtime_error {
  Cancelled() : std::runtime_error("cancelled") {}
};

inline bool stopped(const Progress* p) { return p != nullptr && p->stopped(); }
inline void advance(Progress* p, int64_t n) {
  if (p != nullptr) p->add(n);
}
inline void throw_if_stopped(const Progress* p) {
  if (stopped(p)) throw Cancelled();
}

}  // namespace assay::core
