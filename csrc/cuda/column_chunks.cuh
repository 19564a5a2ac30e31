// Rows of a matrix (row-major float64, on the host or on the device) handed to the tree kernels
// a chunk at a time, feature-major on the device: feature j of the chunk's row i is at
// columns[j * rows + i], so a warp's threads (consecutive rows) read a split's feature in one
// coalesced load instead of 32 scattered ones. Every chunk is checked for inf on the device.
#pragma once
#include <cstdint>

#include "cuda/device.hpp"
#include "cuda/device_array.cuh"

namespace assay::cuda {

class ColumnChunks {
 public:
  // name: the argument, for errors (a string literal: kept, not copied).
  ColumnChunks(Matrix m, int32_t n_features, int64_t chunk_rows, const char* name);
  int64_t chunk_rows() const { return chunk_; }
  // Rows [r0, r0 + rows) with rows <= chunk_rows(), feature-major; valid until the next call.
  // Throws std::invalid_argument naming the argument if they hold an infinite value.
  const double* columns(int64_t r0, int64_t rows);

  // Device bytes per row this class holds.
  static int64_t bytes_per_row(const Matrix& m, int32_t n_features) {
    return 8 * static_cast<int64_t>(n_features) * (m.on_device ? 1 : 2);
  }

 private:
  Matrix m_;
  int32_t F_;
  int64_t chunk_;
  const char* name_;
  DeviceArray<double> staging_, columns_;
  DeviceArray<unsigned int> found_;
};

}  // namespace assay::cuda
