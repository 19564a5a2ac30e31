// The only translation unit that knows about Python: read pointers and shapes, release the
// GIL, call core::, return arrays.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "bindings/arrays.hpp"
#include "bindings/interruptible.hpp"
#include "bindings/kernel_args.hpp"
#include "core/errors.hpp"
#include "core/forest.hpp"
#include "core/indices.hpp"
#include "core/pairwise_shap.hpp"
#include "core/parallel.hpp"
#include "core/predict.hpp"
#include "core/split_decision.hpp"
#include "core/transformed_shap.hpp"

namespace py = pybind11;
using namespace assay::core;
using assay::bindings::CArray;
using assay::bindings::make_players;
using assay::bindings::new_array;
using assay::bindings::output_array;
using assay::bindings::output_shape;
using assay::bindings::rows_of;
using assay::bindings::run_interruptible;
using assay::bindings::to_vector;

namespace {

// The arrays by name (ASSAY_FOREST_ARRAYS in forest.hpp): a missing or unknown name is an error
// that lists them, never a silently shifted field.
Forest make_forest(int32_t n_features, int32_t n_outputs, const py::dict& arrays) {
  Forest f;
  f.n_features = n_features;
  f.n_outputs = n_outputs;
  std::vector<std::string> missing, known;
#define ASSAY_READ_ARRAY(name)                                                                                \
  known.push_back(#name);                                                                                     \
  if (arrays.contains(#name)) f.name = to_vector(arrays[#name].cast<CArray<decltype(f.name)::value_type>>()); \
  else missing.push_back(#name);
  ASSAY_FOREST_ARRAYS(ASSAY_READ_ARRAY)
#undef ASSAY_READ_ARRAY
  std::vector<std::string> unknown;
  for (const auto& item : arrays) {
    const auto key = py::str(item.first).cast<std::string>();
    if (std::find(known.begin(), known.end(), key) == known.end()) unknown.push_back(key);
  }
  if (!missing.empty() || !unknown.empty()) {
    auto join = [](const std::vector<std::string>& v) {
      std::string out;
      for (const auto& x : v) out += (out.empty() ? "" : ", ") + x;
      return out.empty() ? std::string("none") : out;
    };
    throw std::invalid_argument("Forest: missing arrays: " + join(missing) + "; unknown arrays: " + join(unknown));
  }
  f.validate();
  return f;
}

py::tuple forest_names() {
  py::list names;
#define ASSAY_NAME(name) names.append(#name);
  ASSAY_FOREST_ARRAYS(ASSAY_NAME)
#undef ASSAY_NAME
  return py::tuple(names);
}

py::array_t<double> predict(const Forest& f, const CArray<double>& X, int n_jobs) {
  const int64_t n = rows_of(X, f.n_features, "X");
  auto out = new_array({n, f.n_outputs});
  double* o = out.mutable_data();
  const double* x = X.data();
  py::gil_scoped_release release;
  predict_raw(f, x, n, o, resolve_threads(n_jobs));
  return out;
}

template <class T>
py::array_t<T> to_array(const std::vector<T>& v) {
  return py::array_t<T>(static_cast<py::ssize_t>(v.size()), v.data());
}

// The Forest's arrays by name (copies).
py::dict forest_arrays(const Forest& f) {
  py::dict arrays;
#define ASSAY_WRITE_ARRAY(name) arrays[#name] = to_array(f.name);
  ASSAY_FOREST_ARRAYS(ASSAY_WRITE_ARRAY)
#undef ASSAY_WRITE_ARRAY
  return arrays;
}

// The IR as (n_features, n_outputs, arrays by name): for pickling (Dask workers, multiprocessing).
py::tuple forest_state(const Forest& f) { return py::make_tuple(f.n_features, f.n_outputs, forest_arrays(f)); }

Forest forest_from_state(const py::tuple& t) {
  if (t.size() != 3) throw std::invalid_argument("Forest state: expected (n_features, n_outputs, arrays)");
  return make_forest(t[0].cast<int32_t>(), t[1].cast<int32_t>(), t[2].cast<py::dict>());
}

py::array_t<double> values_pairwise(const Forest& f, const CArray<double>& X, const CArray<double>& bg,
                                    const py::object& player_of_feature, int32_t n_players, int32_t index, int n_jobs,
                                    const py::object& out, const py::object& progress) {
  const int64_t n = rows_of(X, f.n_features, "X");
  const int64_t nb = rows_of(bg, f.n_features, "data");
  if (nb < 1) throw std::invalid_argument("data: the background must have at least one row");
  const Players players = make_players(f, player_of_feature, n_players);
  const Index ix = index_from_int(index);
  auto result = output_array(out, output_shape(OutputLayout(players, f.n_outputs, ix), n));
  double* o = result.mutable_data();
  const double *x = X.data(), *b = bg.data();
  const double work = static_cast<double>(n) * static_cast<double>(nb) * static_cast<double>(f.n_trees());
  run_interruptible(progress, work,
                    [&](Progress* p) { pairwise_values(f, players, ix, x, n, b, nb, o, resolve_threads(n_jobs), p); });
  return result;
}

// Shapley values of a transformed output (transformed_shap.hpp): returns (values (n, P, K), base (n, K)).
py::tuple values_transformed(const Forest& f, const CArray<double>& X, const CArray<double>& bg, int32_t transform,
                             const py::object& y, const py::object& player_of_feature, int32_t n_players, int n_jobs,
                             const py::object& out, const py::object& progress, int64_t budget_bytes) {
  const int64_t n = rows_of(X, f.n_features, "X");
  const int64_t nb = rows_of(bg, f.n_features, "data");
  if (nb < 1) throw std::invalid_argument("data: the background must have at least one row");
  const OutputTransform tr = transform_from_int(transform);
  std::vector<double> labels;
  if (!y.is_none()) {
    const auto ya = y.cast<CArray<double>>();
    if (ya.ndim() != 1 || ya.shape(0) != n)
      throw std::invalid_argument("y: expected a 1-D array with one label per row of X (" + std::to_string(n) + ")");
    labels = to_vector(ya);
  }
  if (budget_bytes < 0) throw std::invalid_argument("budget_bytes: expected a non-negative number of bytes");
  const Players players = make_players(f, player_of_feature, n_players);
  auto result = output_array(out, output_shape(OutputLayout(players, f.n_outputs, Index::kShapley), n));
  auto base = new_array({static_cast<py::ssize_t>(n), static_cast<py::ssize_t>(f.n_outputs)});
  double *o = result.mutable_data(), *b = base.mutable_data();
  const double *x = X.data(), *z = bg.data(), *yl = y.is_none() ? nullptr : labels.data();
  const double work = static_cast<double>(n) * static_cast<double>(nb) * static_cast<double>(f.n_trees());
  run_interruptible(progress, work, [&](Progress* p) {
    transformed_values(f, players, tr, x, yl, n, z, nb, o, b, resolve_threads(n_jobs), p, budget_bytes);
  });
  return py::make_tuple(result, base);
}

}  // namespace

// The core's enums and typed errors, bound first: the kernels' default arguments use them.
void bind_enums_and_errors(py::module_& m) {
  // Members convert to int (__int__, __index__): a binding that takes an index as int32_t takes a
  // member, an IntEnum (assay._enums) or a plain code alike, and index_from_int checks it. They do
  // not compare equal to ints (C++ enum classes), hence the IntEnums on the Python side.
  py::enum_<Index>(m, "Index", "The attribution indices (csrc/core/indices.hpp).")
      .value("SHAPLEY", Index::kShapley)
      .value("BANZHAF", Index::kBanzhaf)
      .value("INTERACTION", Index::kInteraction, "Shapley interaction index, shap's convention")
      .value("TAYLOR", Index::kTaylor, "Shapley-Taylor index of order 2");
  py::enum_<SplitPolicy>(m, "SplitPolicy", "How a node's split reads a value (csrc/core/split_decision.hpp).")
      .value("XGB_NUMERIC", SplitPolicy::kXgbNumeric)
      .value("LGB_NUMERIC_NONE", SplitPolicy::kLgbNumericNone)
      .value("LGB_NUMERIC_ZERO", SplitPolicy::kLgbNumericZero)
      .value("LGB_NUMERIC_NAN", SplitPolicy::kLgbNumericNaN)
      .value("SKLEARN_NUMERIC", SplitPolicy::kSklearnNumeric)
      .value("HGB_NUMERIC", SplitPolicy::kHgbNumeric)
      .value("XGB_CATEGORICAL", SplitPolicy::kXgbCategorical)
      .value("LGB_CATEGORICAL_NAN", SplitPolicy::kLgbCategoricalNaN)
      .value("LGB_CATEGORICAL", SplitPolicy::kLgbCategorical)
      .value("HGB_CATEGORICAL", SplitPolicy::kHgbCategorical);
  static_assert(static_cast<int>(SplitPolicy::kCount) == 10, "bind every SplitPolicy above");
  py::register_exception<std::bad_alloc>(m, "KernelMemoryError", PyExc_MemoryError);
  py::register_exception<TooManyPlayers>(m, "TooManyPlayersError", PyExc_ValueError);
  py::register_exception<DeviceUnsupported>(m, "DeviceUnsupportedError", PyExc_ValueError);
}

// Defined in the other binding files (one per kernel family).
void bind_cuda_info(py::module_& m);
void bind_device_kernels(py::module_& m);
void bind_projections(py::module_& m);
void bind_regions(py::module_& m);
void bind_pattern_shap(py::module_& m);
void bind_ubjson(py::module_& m);

PYBIND11_MODULE(_core, m) {
  m.doc() = "assay's compiled kernels (private: use the assay package)";
  // The stub (python/assay/_core.pyi) is generated from this module; its signatures' spelling
  // depends on pybind11's major.minor version (tests/test_core_contracts.py).
  m.attr("pybind11_version") = std::to_string(PYBIND11_VERSION_MAJOR) + "." + std::to_string(PYBIND11_VERSION_MINOR);
  // The OpenMP runtime reads its settings now, while assay._load_core has the spin-wait variables
  // set: libgomp did when it was loaded, LLVM's libomp (the release wheels) does on first use.
  resolve_threads(-1);
  bind_enums_and_errors(m);
  bind_cuda_info(m);
  bind_device_kernels(m);
  bind_projections(m);
  bind_regions(m);
  bind_ubjson(m);

  py::class_<Forest>(m, "Forest", "The flat tree-ensemble IR every kernel reads (csrc/core/forest.hpp).")
      .def(py::init([](int32_t n_features, int32_t n_outputs, const py::kwargs& arrays) {
             return make_forest(n_features, n_outputs, arrays);
           }),
           py::arg("n_features"), py::arg("n_outputs"),
           "Forest(n_features, n_outputs, **arrays): one keyword per name in Forest.ARRAYS.")
      .def_property_readonly_static("ARRAYS", [](const py::object&) { return forest_names(); })
      .def("arrays", &forest_arrays, "The arrays by name (copies), as the constructor takes them.")
      .def_property_readonly("n_trees", &Forest::n_trees)
      .def("subforest", &Forest::subforest, py::arg("begin"), py::arg("end"))
      .def(py::pickle(&forest_state, &forest_from_state))
      .def_property_readonly("n_nodes", &Forest::n_nodes)
      .def_property_readonly("n_features", [](const Forest& f) { return f.n_features; })
      .def_property_readonly("n_outputs", [](const Forest& f) { return f.n_outputs; })
      .def_property_readonly("max_depth", [](const Forest& f) { return f.max_depth; })
      .def(
          "goes_left",
          [](const Forest& f, const CArray<double>& X) {
            // (n, n_nodes): where each row goes at every split (1 = left; leaves 0). For the
            // slow reference of the path-dependent game, which walks the trees in Python.
            const int64_t n = rows_of(X, f.n_features, "X");
            py::array_t<uint8_t> out({static_cast<py::ssize_t>(n), static_cast<py::ssize_t>(f.n_nodes())});
            uint8_t* o = out.mutable_data();
            const double* x = X.data();
            for (int64_t r = 0; r < n; ++r)
              for (int64_t g = 0; g < f.n_nodes(); ++g)
                o[r * f.n_nodes() + g] = f.feature[g] >= 0 && goes_left(f, g, x[r * f.n_features + f.feature[g]]);
            return out;
          },
          py::arg("X"))
      .def("split_thresholds", [](const Forest& f) {
        // (feature, threshold) of every numeric split: tests probe inputs exactly on them.
        std::vector<int32_t> feat;
        std::vector<double> thr;
        for (int64_t i = 0; i < f.n_nodes(); ++i) {
          if (f.feature[i] < 0) continue;
          const auto p = static_cast<SplitPolicy>(f.policy[i]);
          if (p == SplitPolicy::kXgbCategorical || p == SplitPolicy::kLgbCategorical ||
              p == SplitPolicy::kLgbCategoricalNaN || p == SplitPolicy::kHgbCategorical)
            continue;
          feat.push_back(f.feature[i]);
          thr.push_back(f.threshold[i]);
        }
        return py::make_tuple(py::array_t<int32_t>(feat.size(), feat.data()),
                              py::array_t<double>(thr.size(), thr.data()));
      });

  m.def("predict_raw", &predict, py::arg("forest"), py::arg("X"), py::arg("n_jobs") = -1);
  m.def("values_pairwise", &values_pairwise, py::arg("forest"), py::arg("X"), py::arg("data"),
        py::arg("player_of_feature") = py::none(), py::arg("n_players") = 0, py::arg("index") = Index::kShapley,
        py::arg("n_jobs") = -1, py::arg("out") = py::none(), py::arg("progress") = py::none());
  m.def("values_transformed", &values_transformed, py::arg("forest"), py::arg("X"), py::arg("data"),
        py::arg("transform"), py::arg("y") = py::none(), py::arg("player_of_feature") = py::none(),
        py::arg("n_players") = 0, py::arg("n_jobs") = -1, py::arg("out") = py::none(), py::arg("progress") = py::none(),
        py::arg("budget_bytes") = int64_t{1} << 28);

  bind_pattern_shap(m);  // after Forest: its constructors take one
}
