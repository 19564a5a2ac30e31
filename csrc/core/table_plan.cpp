#include "core/table_plan.hpp"

#include <algorithm>
#include <numeric>

#include "core/leaf_tables.hpp"

namespace assay::core {

TablePlan plan_tables(const Forest& f, const LeafPaths& paths, bool pairs, int max_bits, int64_t budget_bytes) {
  const int64_t L = paths.n_leaves();
  const int64_t budget = budget_bytes / static_cast<int64_t>(sizeof(double));
  auto leaf_doubles = [&](int64_t s) {
    const int d = paths.leaf_width[s];
    return leaf_table_entries(d, pairs) * (int64_t{1} << std::min(d, 40));
  };
  auto tabulable = [&](int64_t s) {
    const int d = paths.leaf_width[s];
    return d > 0 && d <= max_bits && !paths.tree_too_wide[paths.leaf_tree[s]];
  };
  TablePlan plan;
  std::vector<uint8_t> groupable(f.n_trees());
  for (int64_t t = 0; t < f.n_trees(); ++t)
    groupable[t] = (f.n_outputs == 1 || f.tree_output[t] >= 0) && !paths.tree_too_wide[t];
  plan.groups = find_leaf_groups(paths, groupable, std::min(max_bits, kMaxGroupBits), budget, pairs);
  auto member_doubles = [&](const LeafGroup& g) {
    int64_t members = 0;
    for (int64_t s = g.leaf_begin; s < g.leaf_end; ++s) members += leaf_doubles(s);
    return members;
  };
  int64_t all_dense = plan.groups.table_doubles;
  for (const LeafGroup& g : plan.groups.groups) all_dense -= member_doubles(g);
  for (int64_t s = 0; s < L; ++s)
    if (tabulable(s)) all_dense += leaf_doubles(s);
  if (all_dense > budget)
    drop_leaf_groups(plan.groups, paths, [&](const LeafGroup& g) { return g.table_size() <= member_doubles(g); });

  plan.kind.assign(L, TablePlan::kNone);
  for (const LeafGroup& g : plan.groups.groups)
    for (int64_t s = g.leaf_begin; s < g.leaf_end; ++s) {
      plan.kind[s] = paths.leaf_width[s] > 0 ? TablePlan::kGrouped : TablePlan::kNone;
      ++plan.n_dense;
    }
  int64_t used = plan.groups.table_doubles;
  for (int64_t s : paths.leaves_narrow_first()) {
    const int d = paths.leaf_width[s];
    if (d == 0 || plan.kind[s] != TablePlan::kNone || paths.tree_too_wide[paths.leaf_tree[s]]) continue;
    if (tabulable(s) && used + leaf_doubles(s) <= budget) {
      plan.kind[s] = TablePlan::kDense;
      used += leaf_doubles(s);
      plan.dense_doubles += leaf_doubles(s);
      ++plan.n_dense;
    } else {
      plan.kind[s] = TablePlan::kSparse;
      ++plan.n_sparse;
    }
  }
  return plan;
}

}  // namespace assay::core
