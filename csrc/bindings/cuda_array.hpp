// The one reader of __cuda_array_interface__ (v2/v3: torch, CuPy, Numba) for every binding that
// takes device arrays in place. It checks everything a kernel would otherwise trip over:
// a mask (refused: NaN marks a missing value), strides that are not C order (a dimension of
// extent 1 may have any), data not aligned to its element size (a misaligned load poisons the
// CUDA context), and optionally the element type and shape. Which GPU the data lives on is
// checked by the kernel that knows its own device (cuda/device.hpp). Plain C++: compiled in
// every build, so its checks are tested without a GPU (_core._cuda_array_view).
#pragma once
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace assay::bindings {

namespace py = pybind11;

struct CudaArrayView {
  uintptr_t address = 0;
  std::vector<int64_t> shape;
  std::string typestr;  // e.g. "<f8"

  int64_t itemsize() const { return std::stoll(typestr.substr(2)); }
  template <class T>
  T* data() const {
    return reinterpret_cast<T*>(address);
  }
};

inline bool has_cuda_array_interface(const py::object& x) { return py::hasattr(x, "__cuda_array_interface__"); }

inline std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + (shape[i] < 0 ? "any" : std::to_string(shape[i]));
  return s + (shape.size() == 1 ? ",)" : ")");
}

// Reads x's interface; `name` is the argument in error messages. typestr (e.g. "<f8") and shape
// are checked when given (-1 in shape: any extent).
inline CudaArrayView read_cuda_array(const py::object& x, const std::string& name, const std::string& typestr = "",
                                     const std::vector<int64_t>& shape = {}) {
  if (!has_cuda_array_interface(x))
    throw std::invalid_argument(name + ": expected a CUDA array (an object with __cuda_array_interface__)");
  const py::dict cai = x.attr("__cuda_array_interface__").cast<py::dict>();
  CudaArrayView v;
  v.shape = cai["shape"].cast<std::vector<int64_t>>();
  v.typestr = cai["typestr"].cast<std::string>();
  v.address = cai["data"].cast<py::tuple>()[0].cast<uintptr_t>();
  if (cai.contains("mask") && !cai["mask"].is_none())
    throw std::invalid_argument(name + ": masked device arrays are not read (NaN marks a missing value)");
  if (v.typestr.size() < 3 || v.typestr.find_first_not_of("0123456789", 2) != std::string::npos)
    throw std::invalid_argument(name + ": unreadable element type '" + v.typestr + "'");
  if (v.typestr[0] == '>')
    throw std::invalid_argument(name + ": big-endian device arrays are not read, got " + v.typestr);
  // The byte-order character aside ('<', or '|' where it does not apply).
  if (!typestr.empty() && v.typestr.substr(1) != typestr.substr(1))
    throw std::invalid_argument(name + ": expected element type " + typestr + ", got " + v.typestr);
  if (cai.contains("strides") && !cai["strides"].is_none()) {
    const auto strides = cai["strides"].cast<std::vector<int64_t>>();
    int64_t expected = v.itemsize();
    bool c_order = strides.size() == v.shape.size();
    for (size_t i = v.shape.size(); c_order && i-- > 0;) {
      c_order = v.shape[i] <= 1 || strides[i] == expected;
      expected *= v.shape[i];
    }
    if (!c_order) throw std::invalid_argument(name + ": expected a C-contiguous device array, got strides");
  }
  if (v.address % static_cast<uintptr_t>(v.itemsize()) != 0)
    throw std::invalid_argument(name + ": a device array's data must be aligned to its " +
                                std::to_string(v.itemsize()) + "-byte elements");
  if (!shape.empty()) {
    bool same = v.shape.size() == shape.size();
    for (size_t i = 0; same && i < shape.size(); ++i) same = shape[i] < 0 || v.shape[i] == shape[i];
    if (!same)
      throw std::invalid_argument(name + ": expected shape " + shape_text(shape) + ", got " + shape_text(v.shape));
  }
  return v;
}

}  // namespace assay::bindings
