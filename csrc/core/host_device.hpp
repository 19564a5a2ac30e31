// Code shared by the C++ and CUDA kernels: one implementation of each per-problem routine,
// compiled for the host by g++ and for the device by nvcc (so the CPU tests exercise the very
// code the GPU runs).
#pragma once

#if defined(__CUDACC__)
#define ASSAY_HD __host__ __device__ __forceinline__
#else
#define ASSAY_HD inline
#endif
