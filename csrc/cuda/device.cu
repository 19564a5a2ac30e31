#include "cuda/device.hpp"

#include <cuda_runtime.h>

namespace assay::cuda {

int device_count() noexcept {
  int n = 0;
  // No driver, an old driver or no device all mean "no CUDA here": report 0, not an error.
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky error
    return 0;
  }
  return n;
}

}  // namespace assay::cuda
