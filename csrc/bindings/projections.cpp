// Bindings of the exact hyperplane projections: NumPy arrays for the C++ kernel and, in a CUDA
// build, CUDA tensors (read through __cuda_array_interface__) for the CUDA kernel. Dtypes and
// contiguity were settled in Python (assay/robustness/projection.py); shapes are checked again
// here so that a caller of the private module cannot read out of bounds.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "bindings/arrays.hpp"
#include "bindings/cuda_array.hpp"
#include "bindings/interruptible.hpp"
#include "core/parallel.hpp"
#include "core/projection_problem.hpp"
#include "core/projections.hpp"

#ifdef ASSAY_WITH_CUDA
#include "cuda/projections.hpp"
#endif

namespace py = pybind11;
using assay::bindings::CArray;
using assay::bindings::CudaArrayView;
using assay::bindings::read_cuda_array;

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

py::tuple project(const CArray<double>& t, const py::array& w, const CArray<double>& b, int norm, const py::object& lo,
                  const py::object& hi, bool return_delta, int n_jobs) {
  if (w.dtype().is(py::dtype::of<float>()))
    return project_cpu<float>(t, w.cast<CArray<float>>(), b, norm, lo, hi, return_delta, n_jobs);
  if (w.dtype().is(py::dtype::of<double>()))
    return project_cpu<double>(t, w.cast<CArray<double>>(), b, norm, lo, hi, return_delta, n_jobs);
  throw std::invalid_argument("w: expected float32 or float64");
}

#ifdef ASSAY_WITH_CUDA
void project_cuda(const py::object& t, const py::object& w, const py::object& b, int norm, const py::object& lo,
                  const py::object& hi, const py::object& distance, const py::object& feasible, const py::object& delta,
                  uintptr_t stream) {
  const CudaArrayView wv = read_cuda_array(w, "w");
  if (wv.shape.size() != 3) throw std::invalid_argument("w: expected a 3-D array (B, H, d)");
  const int64_t B = wv.shape[0], H = wv.shape[1], d = wv.shape[2];
  const bool w_float = wv.typestr.substr(1) == "f4";
  if (!w_float && wv.typestr.substr(1) != "f8") throw std::invalid_argument("w: expected float32 or float64");
  const auto* tp = read_cuda_array(t, "t", "<f8", {B, d}).data<const double>();
  const auto* bp = read_cuda_array(b, "b", "<f8", {B, H}).data<const double>();
  const double *lop = nullptr, *hip = nullptr;
  if (lo.is_none() != hi.is_none()) throw std::invalid_argument("box: expected both lo and hi, or neither");
  if (!lo.is_none()) {
    lop = read_cuda_array(lo, "lo", "<f8", {d}).data<const double>();
    hip = read_cuda_array(hi, "hi", "<f8", {d}).data<const double>();
  }
  auto* dp = read_cuda_array(distance, "distance", "<f8", {B, H}).data<double>();
  auto* fp = read_cuda_array(feasible, "feasible", "|b1", {B, H}).data<uint8_t>();
  double* xp = delta.is_none() ? nullptr : read_cuda_array(delta, "delta", "<f8", {B, H, d}).data<double>();
  py::gil_scoped_release release;
  assay::cuda::project_hyperplanes(tp, wv.data<const void>(), w_float, bp, B, H, d, norm, lop, hip, dp, fp, xp, stream);
}
#endif

}  // namespace

void bind_projections(py::module_& m) {
  using assay::core::projection::Norm;
  // Members convert to int (the kernels take the code); assay.robustness.projection maps its
  // norm names ("inf", 2, 1) to these by name.
  py::enum_<Norm>(m, "Norm", "The norms of the exact projections (csrc/core/projection_problem.hpp).")
      .value("LINF", Norm::kLinf)
      .value("L1", Norm::kL1)
      .value("L2", Norm::kL2);
  // The one __cuda_array_interface__ reader (bindings/cuda_array.hpp), for its tests without a GPU.
  m.def(
      "_cuda_array_view",
      [](const py::object& x, const std::string& name, const std::string& typestr, const std::vector<int64_t>& shape) {
        const CudaArrayView v = read_cuda_array(x, name, typestr, shape);
        return py::make_tuple(v.address, v.shape, v.typestr);
      },
      py::arg("x"), py::arg("name") = "x", py::arg("typestr") = "", py::arg("shape") = std::vector<int64_t>{});
  m.def("project_hyperplanes", &project, py::arg("t"), py::arg("w"), py::arg("b"), py::arg("norm"), py::arg("lo"),
        py::arg("hi"), py::arg("return_delta") = true, py::arg("n_jobs") = -1);
#ifdef ASSAY_WITH_CUDA
  m.def("project_hyperplanes_cuda", &project_cuda, py::arg("t"), py::arg("w"), py::arg("b"), py::arg("norm"),
        py::arg("lo"), py::arg("hi"), py::arg("distance"), py::arg("feasible"), py::arg("delta"), py::arg("stream"));
#endif
}
