// Plain C++ view of the CUDA side (no CUDA headers), for the bindings.
#pragma once
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace assay::cuda {

// A C-order float64 matrix on the host or on the device.
struct Matrix {
  const double* data;
  int64_t rows;
  bool on_device;
};

// A device allocation failed (the bindings raise it as assay._core.DeviceMemoryError, a MemoryError).
struct DeviceMemoryError : std::runtime_error {
  explicit DeviceMemoryError(const std::string& what) : std::runtime_error(what) {}
};

// Number of usable CUDA devices; 0 when there is no driver or no device (never throws).
int device_count() noexcept;

// The calling thread's current device, and making one current for good.
int current_device();
void use_device(int device);

// The device whose memory [p, p + bytes) lies in (the __cuda_array_interface__ memory of argument
// `name`; both ends are checked); -1 for managed memory, which every device reads. Throws
// std::invalid_argument naming `name` when either end is host memory or no CUDA memory, or the
// ends lie on different devices: a kernel reading it would fault and leave the CUDA context
// unusable for the rest of the process.
int device_of_memory(const void* p, size_t bytes, const char* name);

// Makes `device` current for this scope and restores the previous one after (the CUDA runtime's
// current device is per host thread: a worker thread, or a caller that switched devices, would
// otherwise launch on device 0 with another device's pointers).
class DeviceScope {
 public:
  explicit DeviceScope(int device);
  ~DeviceScope();
  DeviceScope(const DeviceScope&) = delete;
  DeviceScope& operator=(const DeviceScope&) = delete;

 private:
  int previous_;
  bool switched_;
};

}  // namespace assay::cuda
