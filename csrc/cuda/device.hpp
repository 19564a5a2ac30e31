// Plain C++ view of the CUDA side (no CUDA headers), for the bindings.
#pragma once

namespace assay::cuda {

// Number of usable CUDA devices; 0 when there is no driver or no device (never throws).
int device_count() noexcept;

// The calling thread's current device.
int current_device();

// The device whose memory p points at (the __cuda_array_interface__ pointer of argument
// `name`); -1 for managed memory, which every device reads. Throws std::invalid_argument naming
// `name` when p is host memory or no CUDA memory at all: a kernel reading it would fault and
// leave the CUDA context unusable for the rest of the process.
int device_of_pointer(const void* p, const char* name);

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
