// The forest as every game sees it: the Forest, its players and its leaf paths (leaf_paths.hpp),
// built once and shared, read-only, by everything computed from it: the background's patterns
// and the cover weights (leaf_weights.hpp), then the tables of each index (pattern_shap.hpp).
// Shared ownership instead of copies: an explainer with four indices holds one forest, and no
// object keeps a pointer into a Forest it does not own (the paths index by offsets).
#pragma once
#include <memory>
#include <utility>

#include "core/forest.hpp"
#include "core/leaf_paths.hpp"
#include "core/players.hpp"

namespace assay::core {

struct ForestView {
  // players must be valid for the forest (Players::validate).
  ForestView(Forest f, Players p) : forest(std::move(f)), players(std::move(p)), paths(forest, players) {}
  ForestView(const ForestView&) = delete;  // shared, never copied
  ForestView& operator=(const ForestView&) = delete;

  const Forest forest;
  const Players players;
  const LeafPaths paths;
};

using ForestViewPtr = std::shared_ptr<const ForestView>;

}  // namespace assay::core
