// Arguments every attribution kernel binding reads the same way: the players (features, or
// groups of features) and the result's shape.
#pragma once
#include <pybind11/pybind11.h>

#include <vector>

#include "bindings/arrays.hpp"
#include "core/forest.hpp"
#include "core/players.hpp"

namespace assay::bindings {

inline core::Players make_players(const core::Forest& f, const py::object& player_of_feature, int32_t n_players) {
  if (player_of_feature.is_none()) return core::Players::identity(f.n_features);
  core::Players p;
  p.n = n_players;
  p.of_feature = to_vector(player_of_feature.cast<CArray<int32_t>>());
  p.validate(f.n_features);
  return p;
}

inline std::vector<py::ssize_t> output_shape(const core::OutputLayout& layout, int64_t n) {
  if (layout.pairs) return {n, layout.players, layout.players, layout.outputs};
  return {n, layout.players, layout.outputs};
}

}  // namespace assay::bindings
