// Bindings of the exact hyperplane projections: NumPy arrays for the C++ kernel and, in a CUDA
// build, CUDA tensors (read through __cuda_array_interface__) for the CUDA kernel. Dtypes and
// contiguity were settled in Python (assay/robustness/projection.py); shapes are checked again
// here so that a caller of the private module cannot read out of bounds.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "bindings/arrays.hpp"
#include "bindings/interruptible.hpp"
#include "core/parallel.hpp"
#include "core/projections.hpp"

#ifdef ASSAY_WITH_CUDA
#include "cuda/projections.hpp"
#endif

namespace py = pybind11;
using assay::bindings::CArray;

namespace {

void expect_shape(const std::vector<int64_t>& got, const std::vector<int64_t>& want, const char* name) {
  if (got != want) {
    std::string g, w;
    for (auto v : got) g += std::to_string(v) + ",";
    for (auto v : want) w += std::to_string(v) + ",";
    throw std::invalid_argument(std::string(name) + ": expected shape (" + w + ") got (" + g + ")");
  }
}

template <class A>
std::vector<int64_t> shape_of(const A& a) {
  return std::vector<int64_t>(a.shape(), a.shape() + a.ndim());
}

struct Box {
  const double* lo = nullptr;
  const double* hi = nullptr;
};

template <class T>
py::tuple project_cpu(const CArray<double>& t, const CArray<T>& w, const CArray<double>& b, int norm,
                      const py::object& lo, const py::object& hi, bool return_delta, int n_jobs) {
  if (w.ndim() != 3) throw std::invalid_argument("w: expected a 3-D array (B, H, d)");
  const int64_t B = w.shape(0), H = w.shape(1), d = w.shape(2);
  expect_shape(shape_of(t), {B, d}, "t");
  expect_shape(shape_of(b), {B, H}, "b");
  if (lo.is_none() != hi.is_none()) throw std::invalid_argument("box: expected both lo and hi, or neither");
  Box box;
  CArray<double> lo_a, hi_a;
  if (!lo.is_none()) {
    lo_a = lo.cast<CArray<double>>();
    hi_a = hi.cast<CArray<double>>();
    expect_shape(shape_of(lo_a), {d}, "lo");
    expect_shape(shape_of(hi_a), {d}, "hi");
    box = Box{lo_a.data(), hi_a.data()};
  }
  py::array_t<double> distance({B, H});
  py::array_t<bool> feasible({B, H});
  py::object delta = py::none();
  double* delta_ptr = nullptr;
  if (return_delta) {
    py::array_t<double> out({B, H, d});
    delta_ptr = out.mutable_data();
    delta = out;
  }
  double* dist_ptr = distance.mutable_data();
  auto* feas_ptr = reinterpret_cast<uint8_t*>(feasible.mutable_data());
  const double *tp = t.data(), *bp = b.data();
  const T* wp = w.data();
  const int threads = assay::core::resolve_threads(n_jobs);
  const double work = static_cast<double>(B) * static_cast<double>(H) * static_cast<double>(d);
  assay::bindings::run_interruptible(py::none(), work, [&](assay::core::Progress*) {
    assay::core::project_hyperplanes<T>(tp, wp, bp, B, H, d, norm, box.lo, box.hi, dist_ptr, feas_ptr, delta_ptr,
                                        threads);
  });
  return py::make_tuple(distance, feasible, delta);
}

py::tuple project(const CArray<double>& t, const py::array& w, const CArray<double>& b, int norm,
                  const py::object& lo, const py::object& hi, bool return_delta, int n_jobs) {
  if (w.dtype().is(py::dtype::of<float>()))
    return project_cpu<float>(t, w.cast<CArray<float>>(), b, norm, lo, hi, return_delta, n_jobs);
  if (w.dtype().is(py::dtype::of<double>()))
    return project_cpu<double>(t, w.cast<CArray<double>>(), b, norm, lo, hi, return_delta, n_jobs);
  throw std::invalid_argument("w: expected float32 or float64");
}

#ifdef ASSAY_WITH_CUDA
// A device buffer described by __cuda_array_interface__ (v2/v3): pointer, shape, element type,
// C-contiguous (strides absent or None).
struct DeviceView {
  void* data = nullptr;
  std::vector<int64_t> shape;
  std::string typestr;
};

DeviceView device_view(const py::object& x, const char* name) {
  if (!py::hasattr(x, "__cuda_array_interface__"))
    throw std::invalid_argument(std::string(name) + ": expected a CUDA array (__cuda_array_interface__)");
  const py::dict cai = x.attr("__cuda_array_interface__");
  if (cai.contains("strides") && !cai["strides"].is_none())
    throw std::invalid_argument(std::string(name) + ": expected a C-contiguous CUDA array");
  DeviceView v;
  v.data = reinterpret_cast<void*>(cai["data"].cast<py::tuple>()[0].cast<uintptr_t>());
  for (auto s : cai["shape"].cast<py::tuple>()) v.shape.push_back(s.cast<int64_t>());
  v.typestr = cai["typestr"].cast<std::string>();
  return v;
}

DeviceView typed_view(const py::object& x, const char* name, const std::vector<int64_t>& shape, const char* type) {
  DeviceView v = device_view(x, name);
  expect_shape(v.shape, shape, name);
  if (v.typestr.substr(1) != type) throw std::invalid_argument(std::string(name) + ": expected element type " + type);
  return v;
}

void project_cuda(const py::object& t, const py::object& w, const py::object& b, int norm, const py::object& lo,
                  const py::object& hi, const py::object& distance, const py::object& feasible,
                  const py::object& delta, uintptr_t stream) {
  const DeviceView wv = device_view(w, "w");
  if (wv.shape.size() != 3) throw std::invalid_argument("w: expected a 3-D array (B, H, d)");
  const int64_t B = wv.shape[0], H = wv.shape[1], d = wv.shape[2];
  const bool w_float = wv.typestr.substr(1) == "f4";
  if (!w_float && wv.typestr.substr(1) != "f8") throw std::invalid_argument("w: expected float32 or float64");
  const auto* tp = static_cast<const double*>(typed_view(t, "t", {B, d}, "f8").data);
  const auto* bp = static_cast<const double*>(typed_view(b, "b", {B, H}, "f8").data);
  const double *lop = nullptr, *hip = nullptr;
  if (lo.is_none() != hi.is_none()) throw std::invalid_argument("box: expected both lo and hi, or neither");
  if (!lo.is_none()) {
    lop = static_cast<const double*>(typed_view(lo, "lo", {d}, "f8").data);
    hip = static_cast<const double*>(typed_view(hi, "hi", {d}, "f8").data);
  }
  auto* dp = static_cast<double*>(typed_view(distance, "distance", {B, H}, "f8").data);
  auto* fp = static_cast<uint8_t*>(typed_view(feasible, "feasible", {B, H}, "b1").data);
  double* xp = delta.is_none() ? nullptr : static_cast<double*>(typed_view(delta, "delta", {B, H, d}, "f8").data);
  py::gil_scoped_release release;
  assay::cuda::project_hyperplanes(tp, wv.data, w_float, bp, B, H, d, norm, lop, hip, dp, fp, xp, stream);
}
#endif

}  // namespace

void bind_projections(py::module_& m) {
  m.def("project_hyperplanes", &project, py::arg("t"), py::arg("w"), py::arg("b"), py::arg("norm"), py::arg("lo"),
        py::arg("hi"), py::arg("return_delta") = true, py::arg("n_jobs") = -1);
#ifdef ASSAY_WITH_CUDA
  m.def("project_hyperplanes_cuda", &project_cuda, py::arg("t"), py::arg("w"), py::arg("b"), py::arg("norm"),
        py::arg("lo"), py::arg("hi"), py::arg("distance"), py::arg("feasible"), py::arg("delta"),
        py::arg("stream"));
#endif
}
