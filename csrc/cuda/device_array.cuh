// An owning device buffer (RAII): freed on every path, exceptions included.
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <vector>

#include "cuda/check.cuh"

namespace assay::cuda {

template <class T>
class DeviceArray {
 public:
  DeviceArray() = default;
  explicit DeviceArray(size_t count) { resize(count); }
  explicit DeviceArray(const std::vector<T>& host) { upload(host); }
  ~DeviceArray() { release(); }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;

  void resize(size_t count) {
    if (count == size_) return;
    release();
    if (count > 0) ASSAY_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&ptr_), count * sizeof(T)));
    size_ = count;
  }
  void upload(const std::vector<T>& host) {
    resize(host.size());
    if (size_ > 0) ASSAY_CUDA_CHECK(cudaMemcpy(ptr_, host.data(), size_ * sizeof(T), cudaMemcpyHostToDevice));
  }
  void zero() {
    if (size_ > 0) ASSAY_CUDA_CHECK(cudaMemset(ptr_, 0, size_ * sizeof(T)));
  }
  T* get() const { return ptr_; }
  size_t size() const { return size_; }

 private:
  void release() {
    if (ptr_) cudaFree(ptr_);
    ptr_ = nullptr;
    size_ = 0;
  }
  T* ptr_ = nullptr;
  size_t size_ = 0;
};

}  // namespace assay::cuda
