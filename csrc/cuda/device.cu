#include "cuda/device.hpp"

#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

#include "cuda/check.cuh"

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

int current_device() {
  int d = 0;
  ASSAY_CUDA_CHECK(cudaGetDevice(&d));
  return d;
}

void use_device(int device) { ASSAY_CUDA_CHECK(cudaSetDevice(device)); }

namespace {

int device_of_pointer(const void* p, const char* name) {
  cudaPointerAttributes a{};
  const cudaError_t err = cudaPointerGetAttributes(&a, p);
  if (err != cudaSuccess) {
    cudaGetLastError();  // not sticky: clear it so later calls do not report it
    throw std::invalid_argument(std::string(name) +
                                ": its __cuda_array_interface__ pointer is not readable CUDA memory (" +
                                cudaGetErrorString(err) + ")");
  }
  if (a.type == cudaMemoryTypeManaged) return -1;
  if (a.type != cudaMemoryTypeDevice)
    throw std::invalid_argument(std::string(name) +
                                ": its __cuda_array_interface__ pointer is host memory, not device memory "
                                "(pass host data as a NumPy array)");
  return a.device;
}

}  // namespace

int device_of_memory(const void* p, size_t bytes, const char* name) {
  const int first = device_of_pointer(p, name);
  if (bytes <= 1) return first;
  // The shape is the caller's word; its last byte at least must be memory of the same kind.
  const int last = device_of_pointer(static_cast<const char*>(p) + (bytes - 1), name);
  if (last != first)
    throw std::invalid_argument(std::string(name) +
                                ": its __cuda_array_interface__ shape runs past the memory it "
                                "points at");
  return first;
}

DeviceScope::DeviceScope(int device) : previous_(current_device()), switched_(previous_ != device) {
  if (switched_) ASSAY_CUDA_CHECK(cudaSetDevice(device));
}

DeviceScope::~DeviceScope() {
  if (switched_) cudaSetDevice(previous_);  // a destructor does not throw; this cannot fail for a device that worked
}

}  // namespace assay::cuda
