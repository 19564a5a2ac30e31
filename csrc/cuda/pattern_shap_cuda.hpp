// The decision-pattern kernel on a CUDA device (no CUDA headers here: the bindings include it).
// Background histograms and queries run on the device with one thread per row, through the
// same per-row functions as the host emulation (core/row_walk.hpp); the tables are built on
// the host from the device's histogram by the CPU kernel's own code (core/leaf_tables.hpp).
// Everything is float64; each row's sums run in a fixed order, so results are deterministic.
// An object lives on one device (that of a device-array background, else the device current at
// construction) and makes it current for each call, from whichever host thread calls.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "core/forest.hpp"
#include "core/indices.hpp"
#include "core/players.hpp"
#include "core/progress.hpp"
#include "core/row_query_plan.hpp"
#include "cuda/device.hpp"

namespace assay::cuda {

// Where the values kernel keeps a row's sums while it walks the trees (pattern_shap_cuda.cu):
// kAuto is the default; the others exist so that benchmarks can compare them on a device.
enum class Accumulator : int { kAuto = 0, kLocal = 1, kShared = 2, kGlobal = 3 };

class CudaPatternShap {
 public:
  // The device an explainer of this background belongs on: the background's own when it is a
  // device array, else the calling thread's current device (ask on the caller's thread: a
  // worker thread's current device is 0).
  static int home_device(const Matrix& background);

  // device: where the tables go (home_device; a device-array background must be on it).
  // progress (may be null) counts background rows histogrammed; once it is stopped the
  // constructor throws core::Cancelled. A forest this kernel does not take throws
  // core::DeviceUnsupported (core/errors.hpp; see RowQueryPlan), a failed device allocation
  // DeviceMemoryError.
  CudaPatternShap(const core::Forest& f, const core::Players& players, core::Index index, Matrix background, int device,
                  int max_width, int64_t budget_bytes, core::Progress* progress = nullptr);
  ~CudaPatternShap();
  CudaPatternShap(const CudaPatternShap&) = delete;
  CudaPatternShap& operator=(const CudaPatternShap&) = delete;

  // out: host (n, layout().row_size()) C order, overwritten. Throws std::invalid_argument if X
  // holds an infinite value (checked on the device) or is device memory of another device.
  // progress (may be null) counts finished rows, a chunk at a time; once it is stopped the call
  // throws core::Cancelled and `out` is incomplete.
  // accumulator: a variant that cannot hold this layout's rows raises std::invalid_argument.
  void values(Matrix X, double* out, core::Progress* progress = nullptr,
              Accumulator accumulator = Accumulator::kAuto) const;
  std::vector<double> expected_value() const { return plan_.expected_value(); }
  const core::OutputLayout& layout() const { return plan_.layout(); }
  int32_t n_features() const { return plan_.n_features(); }
  int64_t n_trees() const { return plan_.n_trees(); }
  int64_t table_bytes() const { return plan_.table_bytes(); }
  int device() const { return device_; }

 private:
  struct Device;
  core::RowQueryPlan plan_;
  int device_;
  std::unique_ptr<Device> dev_;
};

}  // namespace assay::cuda
