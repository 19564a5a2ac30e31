// Every CUDA runtime call goes through ASSAY_CUDA_CHECK: a failure becomes a C++ exception that
// names the call, the file and the line (pybind11 turns it into a Python RuntimeError; an
// out-of-memory error into DeviceMemoryError, a MemoryError, so callers can fall back).
#pragma once
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

#include "cuda/device.hpp"

#define ASSAY_CUDA_CHECK(call)                                                                                \
  do {                                                                                                        \
    const cudaError_t assay_cuda_err_ = (call);                                                               \
    if (assay_cuda_err_ != cudaSuccess) {                                                                     \
      const std::string assay_cuda_msg_ = std::string("CUDA error: ") + cudaGetErrorString(assay_cuda_err_) + \
                                          " in " #call " at " __FILE__ ":" + std::to_string(__LINE__);        \
      if (assay_cuda_err_ == cudaErrorMemoryAllocation) {                                                     \
        cudaGetLastError(); /* not sticky: clear it */                                                        \
        throw ::assay::cuda::DeviceMemoryError(assay_cuda_msg_);                                              \
      }                                                                                                       \
      throw std::runtime_error(assay_cuda_msg_);                                                              \
    }                                                                                                         \
  } while (0)
