// Reading NumPy arrays in the binding layer: shape checks only. All dtype and contiguity
// coercion happens in Python (python/assay/_validation.py); these checks stop a caller of the
// private module from reading out of bounds.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace assay::bindings {

namespace py = pybind11;
template <class T>
using CArray = py::array_t<T, py::array::c_style | py::array::forcecast>;

// Number of rows of a 2-D (rows, n_features) array; throws ValueError otherwise.
inline int64_t rows_of(const CArray<double>& a, int64_t n_features, const char* name) {
  if (a.ndim() != 2 || a.shape(1) != n_features)
    throw std::invalid_argument(std::string(name) + ": expected a 2-D array with " + std::to_string(n_features) +
                                " columns");
  return a.shape(0);
}

template <class T>
std::vector<T> to_vector(const CArray<T>& a) {
  return std::vector<T>(a.data(), a.data() + a.size());
}

// A new C-order float64 array of the given shape.
inline py::array_t<double> new_array(std::vector<py::ssize_t> shape) { return py::array_t<double>(shape); }

// `out` if given (a writable C-contiguous float64 array of exactly this shape, e.g. a slice of
// a np.memmap: results go straight into it), else a new array.
inline py::array_t<double> output_array(const py::object& out, const std::vector<py::ssize_t>& shape) {
  if (out.is_none()) return new_array(shape);
  if (!py::isinstance<py::array>(out)) throw std::invalid_argument("out: expected a NumPy array");
  auto a = py::reinterpret_borrow<py::array>(out);
  if (!a.dtype().is(py::dtype::of<double>()) || !(a.flags() & py::array::c_style) || !a.writeable())
    throw std::invalid_argument("out: expected a writable C-contiguous float64 array");
  bool same = a.ndim() == static_cast<py::ssize_t>(shape.size());
  for (size_t i = 0; same && i < shape.size(); ++i) same = a.shape(i) == shape[i];
  if (!same) throw std::invalid_argument("out: wrong shape for the result");
  return py::reinterpret_borrow<py::array_t<double>>(a);
}

}  // namespace assay::bindings
