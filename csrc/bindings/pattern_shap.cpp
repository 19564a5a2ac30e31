// The pattern pipeline (pattern_shap.hpp): a ForestView (forest + players), the game's leaf
// weights computed from it once (BackgroundPatterns from a background, CoverWeights from node
// covers), then one PatternShap table per index built from those weights. Every object holds
// the previous one by shared ownership, so Python may drop any of them in any order.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>

#include "bindings/arrays.hpp"
#include "bindings/interruptible.hpp"
#include "bindings/kernel_args.hpp"
#include "core/forest_view.hpp"
#include "core/indices.hpp"
#include "core/leaf_weights.hpp"
#include "core/parallel.hpp"
#include "core/pattern_shap.hpp"

namespace py = pybind11;
using namespace assay::core;
using assay::bindings::CArray;
using assay::bindings::make_players;
using assay::bindings::output_array;
using assay::bindings::output_shape;
using assay::bindings::rows_of;
using assay::bindings::run_interruptible;
using assay::bindings::to_vector;

namespace {

PatternOptions options(int dense_max_bits, int64_t budget) {
  PatternOptions opt;
  opt.dense_max_bits = dense_max_bits;
  opt.dense_budget_bytes = budget;
  return opt;
}

std::shared_ptr<ForestView> make_view(const Forest& f, const py::object& player_of_feature, int32_t n_players) {
  return std::make_shared<ForestView>(f, make_players(f, player_of_feature, n_players));
}

std::shared_ptr<BackgroundPatterns> count_background(const std::shared_ptr<ForestView>& view, const CArray<double>& bg,
                                                     int dense_max_bits, int64_t budget, int n_jobs,
                                                     const py::object& progress) {
  const int64_t nb = rows_of(bg, view->forest.n_features, "data");
  const PatternOptions opt = options(dense_max_bits, budget);
  const double* b = bg.data();
  std::shared_ptr<BackgroundPatterns> made;
  run_interruptible(progress, static_cast<double>(nb) * static_cast<double>(view->forest.n_trees()), [&](Progress* p) {
    made = std::make_shared<BackgroundPatterns>(view, b, nb, opt, resolve_threads(n_jobs), p);
  });
  return made;
}

std::shared_ptr<CoverWeights> cover_weights(const std::shared_ptr<ForestView>& view, const CArray<double>& node_cover,
                                            int dense_max_bits, int n_jobs) {
  if (node_cover.ndim() != 1 || node_cover.shape(0) != view->forest.n_nodes())
    throw std::invalid_argument("node_cover: expected a 1-D array with one value per node (" +
                                std::to_string(view->forest.n_nodes()) + ")");
  const std::vector<double> cover = to_vector(node_cover);
  py::gil_scoped_release release;
  return std::make_shared<CoverWeights>(view, cover, options(dense_max_bits, 0), resolve_threads(n_jobs));
}

std::unique_ptr<PatternShap> tabulate(std::shared_ptr<const LeafWeights> weights, int32_t index, int dense_max_bits,
                                      int64_t budget, int n_jobs, const py::object& progress) {
  const Index ix = index_from_int(index);
  const PatternOptions opt = options(dense_max_bits, budget);
  std::unique_ptr<PatternShap> made;
  run_interruptible(progress, static_cast<double>(weights->view().forest.n_trees()) * 64.0, [&](Progress* p) {
    made = std::make_unique<PatternShap>(std::move(weights), ix, opt, resolve_threads(n_jobs), p);
  });
  return made;
}

}  // namespace

void bind_pattern_shap(py::module_& m) {
  py::class_<ForestView, std::shared_ptr<ForestView>>(
      m, "ForestView", "A forest and its players (features, or groups of features), shared by its games' objects.")
      .def(py::init(&make_view), py::arg("forest"), py::arg("player_of_feature") = py::none(), py::arg("n_players") = 0)
      .def_property_readonly("n_players", [](const ForestView& v) { return v.players.n; })
      .def_property_readonly("n_trees", [](const ForestView& v) { return v.forest.n_trees(); })
      .def_property_readonly("n_leaves", [](const ForestView& v) { return v.paths.n_leaves(); });

  py::class_<LeafWeights, std::shared_ptr<LeafWeights>>(
      m, "LeafWeights", "A game's per-leaf pattern weights, computed once and shared by the tables of every index.")
      .def("expected_value",
           [](const LeafWeights& w) {
             const std::vector<double> mean = w.expected_value();
             return py::array_t<double>(static_cast<py::ssize_t>(mean.size()), mean.data());
           })
      .def_property_readonly("n_trees", [](const LeafWeights& w) { return w.view().forest.n_trees(); })
      .def_property_readonly("stored_bytes", &LeafWeights::stored_bytes)
      .def_property_readonly("n_fallback_trees", &LeafWeights::n_fallback_trees);

  py::class_<BackgroundPatterns, LeafWeights, std::shared_ptr<BackgroundPatterns>>(
      m, "BackgroundPatterns", "The background's decision patterns per leaf (the interventional game).")
      .def(py::init(&count_background), py::arg("view"), py::arg("data"), py::arg("dense_max_bits") = 16,
           py::arg("dense_budget_bytes") = int64_t{1} << 31, py::arg("n_jobs") = -1, py::arg("progress") = py::none())
      .def_property_readonly("n_rows", &BackgroundPatterns::n_rows)
      .def_property_readonly("n_histogram_leaves", &BackgroundPatterns::n_histogram_leaves);

  py::class_<CoverWeights, LeafWeights, std::shared_ptr<CoverWeights>>(
      m, "CoverWeights", "Products of node-cover ratios per leaf (the path-dependent game).")
      .def(py::init(&cover_weights), py::arg("view"), py::arg("node_cover"), py::arg("dense_max_bits") = 16,
           py::arg("n_jobs") = -1);

  py::class_<PatternShap>(m, "PatternShap", "The tables of one index over a game's leaf weights.")
      .def(py::init([](const std::shared_ptr<LeafWeights>& weights, int32_t index, int dense_max_bits, int64_t budget,
                       int n_jobs, const py::object& progress) {
             return tabulate(weights, index, dense_max_bits, budget, n_jobs, progress);
           }),
           py::arg("weights"), py::arg("index") = Index::kShapley, py::arg("dense_max_bits") = 16,
           py::arg("dense_budget_bytes") = int64_t{1} << 31, py::arg("n_jobs") = -1, py::arg("progress") = py::none())
      // One call from a forest and a background: its own view and weights (one index).
      .def(py::init([](const Forest& f, const CArray<double>& bg, int dense_max_bits, int64_t budget, int n_jobs,
                       const py::object& player_of_feature, int32_t n_players, int32_t index,
                       const py::object& progress) {
             const auto view = make_view(f, player_of_feature, n_players);
             index_from_int(index);  // a bad index fails before the background is read
             auto weights = count_background(view, bg, dense_max_bits, budget, n_jobs, progress);
             return tabulate(weights, index, dense_max_bits, budget, n_jobs, py::none());
           }),
           py::arg("forest"), py::arg("data"), py::arg("dense_max_bits") = 16,
           py::arg("dense_budget_bytes") = int64_t{1} << 31, py::arg("n_jobs") = -1,
           py::arg("player_of_feature") = py::none(), py::arg("n_players") = 0, py::arg("index") = Index::kShapley,
           py::arg("progress") = py::none())
      .def_static(
          "path_dependent",
          [](const Forest& f, const CArray<double>& node_cover, int dense_max_bits, int64_t budget, int n_jobs,
             const py::object& player_of_feature, int32_t n_players, int32_t index, const py::object& progress) {
            const auto view = make_view(f, player_of_feature, n_players);
            auto weights = cover_weights(view, node_cover, dense_max_bits, n_jobs);
            return tabulate(weights, index, dense_max_bits, budget, n_jobs, progress);
          },
          py::arg("forest"), py::arg("node_cover"), py::arg("dense_max_bits") = 16,
          py::arg("dense_budget_bytes") = int64_t{1} << 31, py::arg("n_jobs") = -1,
          py::arg("player_of_feature") = py::none(), py::arg("n_players") = 0, py::arg("index") = Index::kShapley,
          py::arg("progress") = py::none())
      .def(
          "values",
          [](const PatternShap& ps, const CArray<double>& X, int n_jobs, const py::object& out,
             const py::object& progress) {
            const int64_t n = rows_of(X, ps.n_features(), "X");
            auto result = output_array(out, output_shape(ps.layout(), n));
            double* o = result.mutable_data();
            const double* x = X.data();
            const double work = static_cast<double>(n) * static_cast<double>(ps.n_trees());
            run_interruptible(progress, work, [&](Progress* p) { ps.values(x, n, o, resolve_threads(n_jobs), p); });
            return result;
          },
          py::arg("X"), py::arg("n_jobs") = -1, py::arg("out") = py::none(), py::arg("progress") = py::none())
      .def_property_readonly("n_dense_leaves", &PatternShap::n_dense_leaves)
      .def_property_readonly("n_sparse_leaves", &PatternShap::n_sparse_leaves)
      .def_property_readonly("n_fallback_trees", &PatternShap::n_fallback_trees)
      .def_property_readonly("n_leaf_groups", &PatternShap::n_leaf_groups)
      .def("expected_value",
           [](const PatternShap& ps) {
             const std::vector<double> mean = ps.expected_value();
             return py::array_t<double>(static_cast<py::ssize_t>(mean.size()), mean.data());
           })
      .def_property_readonly("table_bytes", &PatternShap::table_bytes);
}
