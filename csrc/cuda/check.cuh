// Every CUDA runtime call goes through ASSAY_CUDA_CHECK: a failure becomes a C++ exception that
// names the call, the file and the line (pybind11 turns it into a Python RuntimeError).
#pragma once
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

#define ASSAY_CUDA_CHECK(call)                                                                      \
  do {                                                                                             \
    const cudaError_t assay_cuda_err_ = (call);                                                    \
    if (assay_cuda_err_ != cudaSuccess)                                                            \
      throw std::runtime_error(std::string("CUDA error: ") + cudaGetErrorString(assay_cuda_err_) + \
                               " in " #call " at " __FILE__ ":" + std::to_string(__LINE__));       \
  } while (0)
