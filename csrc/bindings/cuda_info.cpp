// Whether this build has the CUDA kernels, and whether a device is present.
#include <pybind11/pybind11.h>

#ifdef ASSAY_WITH_CUDA
#include "cuda/device.hpp"
#endif

namespace py = pybind11;

void bind_cuda_info(py::module_& m) {
#ifdef ASSAY_WITH_CUDA
  m.attr("built_with_cuda") = true;
  py::register_exception<assay::cuda::DeviceMemoryError>(m, "DeviceMemoryError", PyExc_MemoryError);
  m.def("cuda_device_count", &assay::cuda::device_count);
#else
  m.attr("built_with_cuda") = false;
  m.def("cuda_device_count", []() { return 0; });
#endif
}
