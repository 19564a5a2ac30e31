// Whether this build has the CUDA kernels, and whether a device is present.
#include <pybind11/pybind11.h>

#include "cuda/device.hpp"  // plain C++: DeviceMemoryError is registered in every build

namespace py = pybind11;

void bind_cuda_info(py::module_& m) {
  // Registered in CPU builds too, so that the Python layer can name it (it is never raised there).
  py::register_exception<assay::cuda::DeviceMemoryError>(m, "DeviceMemoryError", PyExc_MemoryError);
#ifdef ASSAY_WITH_CUDA
  m.attr("built_with_cuda") = true;
  m.def("cuda_device_count", &assay::cuda::device_count);
#else
  m.attr("built_with_cuda") = false;
  m.def("cuda_device_count", []() { return 0; });
#endif
}
