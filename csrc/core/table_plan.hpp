// One table policy for every executor (the CPU block walker in pattern_shap.hpp, the
// one-thread-per-row plan of the device in row_query_plan.hpp): which leaves share a group
// table (leaf_groups.hpp), which get a dense table, which stay sparse, within one memory budget.
//   1. Small subtrees of trees whose leaves carry one output become groups (~3x fewer gathers).
//   2. If the groups and every other leaf's dense table do not fit together, the groups whose
//      table is larger than their members' (a split inside the subtree on a player already on
//      the path adds a state bit, not a player) are dropped: they cost memory the leaves need.
//   3. The other leaves, narrowest first, get dense tables while the budget lasts; the rest
//      (and any leaf wider than max_bits) are sparse. Root leaves and trees with a path of
//      more than 64 players get no table (the CPU explains such trees pairwise).
// The CPU answers sparse leaves pairwise over their patterns; the device needs every leaf
// dense and refuses a plan with sparse leaves.
#pragma once
#include <cstdint>
#include <vector>

#include "core/forest.hpp"
#include "core/leaf_groups.hpp"
#include "core/leaf_paths.hpp"

namespace assay::core {

struct TablePlan {
  enum Kind : uint8_t { kNone = 0, kDense = 1, kSparse = 2, kGrouped = 3 };
  std::vector<uint8_t> kind;  // per leaf
  LeafGroups groups;
  int64_t n_dense = 0;        // leaves with a table of their own or in a group
  int64_t n_sparse = 0;
  int64_t dense_doubles = 0;  // the dense leaves' tables (the groups' are groups.table_doubles)
};

// pairs: tables of a pairwise index (d^2 entries per leaf instead of d).
TablePlan plan_tables(const Forest& f, const LeafPaths& paths, bool pairs, int max_bits, int64_t budget_bytes);

}  // namespace assay::core
