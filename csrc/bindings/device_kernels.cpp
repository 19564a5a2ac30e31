// The one-thread-per-row kernel (core/row_query_plan.hpp): its host emulation, always built,
// which tests compare with the CPU kernel; and, in CUDA builds, the device kernel itself.
// Inputs of the device kernel may be NumPy arrays (copied in by chunks) or any object with
// __cuda_array_interface__ (torch, CuPy: read in place).
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <string>
#include <thread>

#include "bindings/arrays.hpp"
#include "bindings/cuda_array.hpp"
#include "bindings/interruptible.hpp"
#include "bindings/kernel_args.hpp"
#include "core/parallel.hpp"
#include "core/row_query_plan.hpp"

#ifdef ASSAY_WITH_CUDA
#include "cuda/pattern_shap_cuda.hpp"
#endif

namespace py = pybind11;
using namespace assay::core;
using assay::bindings::CArray;
using assay::bindings::CudaArrayView;
using assay::bindings::has_cuda_array_interface;
using assay::bindings::make_players;
using assay::bindings::output_array;
using assay::bindings::output_shape;
using assay::bindings::read_cuda_array;
using assay::bindings::rows_of;
using assay::bindings::run_interruptible;

namespace {

py::array_t<double> to_numpy(const std::vector<double>& v) {
  return py::array_t<double>(static_cast<py::ssize_t>(v.size()), v.data());
}

// The host emulation: histogram and queries by the device's per-row functions.
class RowQueryShap {
 public:
  RowQueryShap(const Forest& f, const CArray<double>& bg, const py::object& player_of_feature, int32_t n_players,
               int32_t index, int max_width, int64_t budget, int n_jobs)
      : plan_(f, make_players(f, player_of_feature, n_players), index_from_int(index), max_width, budget) {
    const int64_t nb = rows_of(bg, f.n_features, "data");
    if (nb < 1) throw std::invalid_argument("data: the background must have at least one row");
    std::vector<uint32_t> counts(static_cast<size_t>(plan_.n_cells()));
    {
      py::gil_scoped_release release;
      plan_.histogram_host(bg.data(), nb, counts.data(), resolve_threads(n_jobs));
      plan_.set_background(counts.data(), nb);
    }
  }
  py::array_t<double> values(const CArray<double>& X, int n_jobs, const py::object& out) const {
    const int64_t n = rows_of(X, plan_.n_features(), "X");
    auto result = output_array(out, output_shape(plan_.layout(), n));
    double* o = result.mutable_data();
    py::gil_scoped_release release;
    plan_.values_host(X.data(), n, o, resolve_threads(n_jobs));
    return result;
  }
  py::array_t<double> expected_value() const { return to_numpy(plan_.expected_value()); }
  int64_t table_bytes() const { return plan_.table_bytes(); }
  int64_t n_groups() const { return static_cast<int64_t>(plan_.groups().size()); }

 private:
  RowQueryPlan plan_;
};

#ifdef ASSAY_WITH_CUDA
// A matrix argument of the device kernel; a NumPy array is kept alive here while it is read.
struct MatrixArg {
  assay::cuda::Matrix m{nullptr, 0, false};
  CArray<double> host;
};

MatrixArg matrix_arg(const py::object& a, int64_t n_features, const char* name) {
  MatrixArg arg;
  if (has_cuda_array_interface(a)) {
    const CudaArrayView v = read_cuda_array(a, name, "<f8", {-1, n_features});
    arg.m = {v.data<const double>(), v.shape[0], true};
    return arg;
  }
  arg.host = a.cast<CArray<double>>();
  arg.m = {arg.host.data(), rows_of(arg.host, n_features, name), false};
  return arg;
}

// run_interruptible runs fn on this thread or on a fresh worker thread. A fresh thread's current
// device is 0: there the kernel's device is made current for good (the thread ends with fn), so
// that no DeviceScope restores device 0 on exit and creates a context on it. On the calling
// thread the kernel's own DeviceScope switches and restores.
template <class Fn>
void run_on_device(const py::object& progress, double work, int device, Fn&& fn) {
  const std::thread::id caller = std::this_thread::get_id();
  run_interruptible(progress, work, [&](Progress* p) {
    if (std::this_thread::get_id() != caller) assay::cuda::use_device(device);
    fn(p);
  });
}

// Background rows are counted on the device: progress (None or a callable) counts them.
std::unique_ptr<assay::cuda::CudaPatternShap> make_cuda_kernel(const Forest& f, const py::object& bg,
                                                               const py::object& player_of_feature, int32_t n_players,
                                                               int32_t index, int max_width, int64_t budget,
                                                               const py::object& progress) {
  using assay::cuda::CudaPatternShap;
  const Players players = make_players(f, player_of_feature, n_players);
  const MatrixArg data = matrix_arg(bg, f.n_features, "data");
  const int device = CudaPatternShap::home_device(data.m);  // on the caller's thread (see run_on_device)
  std::unique_ptr<CudaPatternShap> made;
  const double work = static_cast<double>(data.m.rows) * static_cast<double>(f.n_trees());
  run_on_device(progress, work, device, [&](Progress* p) {
    made = std::make_unique<CudaPatternShap>(f, players, index_from_int(index), data.m, device, max_width, budget, p);
  });
  return made;
}
#endif

}  // namespace

void bind_device_kernels(py::module_& m) {
  py::class_<RowQueryShap>(m, "RowQueryShap")
      .def(py::init<const Forest&, const CArray<double>&, const py::object&, int32_t, int32_t, int, int64_t, int>(),
           py::arg("forest"), py::arg("data"), py::arg("player_of_feature") = py::none(), py::arg("n_players") = 0,
           py::arg("index") = Index::kShapley, py::arg("max_width") = 16, py::arg("budget_bytes") = int64_t{1} << 31,
           py::arg("n_jobs") = -1)
      .def("values", &RowQueryShap::values, py::arg("X"), py::arg("n_jobs") = -1, py::arg("out") = py::none())
      .def("expected_value", &RowQueryShap::expected_value)
      .def_property_readonly("table_bytes", &RowQueryShap::table_bytes)
      .def_property_readonly("n_groups", &RowQueryShap::n_groups);

#ifdef ASSAY_WITH_CUDA
  using assay::cuda::CudaPatternShap;
  py::class_<CudaPatternShap>(m, "CudaPatternShap")
      .def(py::init(&make_cuda_kernel), py::arg("forest"), py::arg("data"), py::arg("player_of_feature") = py::none(),
           py::arg("n_players") = 0, py::arg("index") = Index::kShapley, py::arg("max_width") = 16,
           py::arg("budget_bytes") = int64_t{1} << 31, py::arg("progress") = py::none())
      .def(
          "values",
          [](const CudaPatternShap& k, const py::object& X, const py::object& out, const py::object& progress,
             int accumulator) {
            if (accumulator < 0 || accumulator > 3)
              throw std::invalid_argument("accumulator: expected 0 (auto), 1 (local), 2 (shared) or 3 (global), got " +
                                          std::to_string(accumulator));
            const MatrixArg x = matrix_arg(X, k.n_features(), "X");
            auto result = output_array(out, output_shape(k.layout(), x.m.rows));
            double* o = result.mutable_data();
            const double work = static_cast<double>(x.m.rows) * static_cast<double>(k.n_trees());
            const auto where = static_cast<assay::cuda::Accumulator>(accumulator);
            run_on_device(progress, work, k.device(), [&](Progress* p) { k.values(x.m, o, p, where); });
            return result;
          },
          py::arg("X"), py::arg("out") = py::none(), py::arg("progress") = py::none(), py::arg("accumulator") = 0)
      .def_property_readonly("device", &CudaPatternShap::device)
      .def("expected_value", [](const CudaPatternShap& k) { return to_numpy(k.expected_value()); })
      .def_property_readonly("table_bytes", &CudaPatternShap::table_bytes);
#endif
}
