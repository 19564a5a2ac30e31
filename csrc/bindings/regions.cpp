// Bindings of the GRANITE region kernel (core/anchored_regions.hpp).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <stdexcept>
#include <string>

#include "bindings/arrays.hpp"
#include "bindings/interruptible.hpp"
#include "core/anchored_regions.hpp"
#include "core/parallel.hpp"

namespace py = pybind11;
using assay::bindings::CArray;
using assay::bindings::rows_of;
using assay::bindings::run_interruptible;
using assay::bindings::to_vector;
using namespace assay::core;

namespace {

int64_t region_size(const CArray<int64_t>& rows) {
  if (rows.ndim() != 1) throw std::invalid_argument("rows: expected a 1-D array of row indices");
  return rows.shape(0);
}

// The players as given by Python: one id per feature (the identity when no groups).
Players region_players(const Forest& f, const CArray<int32_t>& player_of_feature, int32_t n_players) {
  Players p{n_players, to_vector(player_of_feature)};
  p.validate(f.n_features);
  return p;
}

}  // namespace

void bind_regions(py::module_& m) {
  py::class_<AnchoredRegions>(m, "AnchoredRegions")
      .def(py::init([](const Forest& f, const CArray<double>& X, int32_t output,
                       const CArray<int32_t>& player_of_feature, int32_t n_players, int n_jobs,
                       const py::object& progress) {
             const int64_t n = rows_of(X, f.n_features, "X");
             const Players players = region_players(f, player_of_feature, n_players);
             const double* x = X.data();
             AnchoredRegions* made = nullptr;
             run_interruptible(progress, static_cast<double>(n) * static_cast<double>(f.n_trees()), [&](Progress* p) {
               made = new AnchoredRegions(f, players, output, x, n, resolve_threads(n_jobs), p);
             });
             return made;
           }),
           py::arg("forest"), py::arg("X"), py::arg("output"), py::arg("player_of_feature"), py::arg("n_players"),
           py::arg("n_jobs") = -1, py::arg("progress") = py::none())
      .def_property_readonly("n_rows", &AnchoredRegions::n_rows)
      .def_property_readonly("n_players", &AnchoredRegions::n_players)
      .def_property_readonly("max_leaf_width", &AnchoredRegions::max_leaf_width)
      .def("n_entries", &AnchoredRegions::n_entries, py::arg("pairs"))
      .def(
          "effects",
          [](const AnchoredRegions& a, const CArray<int64_t>& rows, bool pairs) {
            const int64_t n = region_size(rows);
            const int64_t E = a.n_entries(pairs);
            py::array_t<double> p({static_cast<py::ssize_t>(n), static_cast<py::ssize_t>(E)});
            py::array_t<double> q({static_cast<py::ssize_t>(n), static_cast<py::ssize_t>(E)});
            double *pp = p.mutable_data(), *qq = q.mutable_data();
            const int64_t* r = rows.data();
            run_interruptible(py::none(), static_cast<double>(n) * E,
                              [&](Progress*) { a.effects(r, n, pairs, pp, qq); });
            return py::make_tuple(p, q);
          },
          py::arg("rows"), py::arg("pairs") = false)
      .def(
          "loss",
          [](const AnchoredRegions& a, const CArray<int64_t>& rows, bool pairs) {
            const int64_t n = region_size(rows);
            const int64_t* r = rows.data();
            double out = 0.0;
            run_interruptible(py::none(), static_cast<double>(n), [&](Progress*) { out = a.loss(r, n, pairs); });
            return out;
          },
          py::arg("rows"), py::arg("pairs") = false)
      .def(
          "split_losses",
          [](const AnchoredRegions& a, const CArray<int64_t>& rows, const CArray<double>& column,
             const CArray<double>& thresholds, bool pairs, int n_jobs, const py::object& progress) {
            const int64_t n = region_size(rows);
            if (column.ndim() != 1 || column.shape(0) != a.n_rows())
              throw std::invalid_argument("column: expected one value per row of X (" + std::to_string(a.n_rows()) +
                                          ")");
            if (thresholds.ndim() != 1) throw std::invalid_argument("thresholds: expected a 1-D array");
            const int64_t m = thresholds.shape(0);
            py::array_t<double> out({static_cast<py::ssize_t>(m), py::ssize_t{2}});
            double* o = out.mutable_data();
            const int64_t* r = rows.data();
            const double *col = column.data(), *t = thresholds.data();
            run_interruptible(progress, static_cast<double>(m) * static_cast<double>(n) * 64.0, [&](Progress* p) {
              a.split_losses(r, n, col, t, m, pairs, o, resolve_threads(n_jobs), p);
            });
            return out;
          },
          py::arg("rows"), py::arg("column"), py::arg("thresholds"), py::arg("pairs") = false, py::arg("n_jobs") = -1,
          py::arg("progress") = py::none());
}
