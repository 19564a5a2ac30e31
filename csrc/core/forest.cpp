#include "core/forest.hpp"

#include <stdexcept>
#include <string>
#include <type_traits>

namespace assay::core {

namespace {
[[noreturn]] void fail(const std::string& what) { throw std::invalid_argument("invalid forest: " + what); }
}  // namespace

void Forest::validate() {
  const int64_t nn = n_nodes();
  if (n_features < 1) fail("n_features must be >= 1");
  if (n_outputs < 1) fail("n_outputs must be >= 1");
  if (tree_offsets.size() < 2) fail("the forest has no trees");
  if (tree_offsets.front() != 0 || tree_offsets.back() != nn) fail("tree_offsets must start at 0 and end at n_nodes");
  if (static_cast<int64_t>(tree_output.size()) != n_trees()) fail("tree_output needs one entry per tree");
  auto check_len = [&](size_t got, int64_t want, const char* name) {
    if (static_cast<int64_t>(got) != want) fail(std::string(name) + " has the wrong length");
  };
  check_len(threshold.size(), nn, "threshold");
  check_len(left.size(), nn, "left");
  check_len(right.size(), nn, "right");
  check_len(default_left.size(), nn, "default_left");
  check_len(policy.size(), nn, "policy");
  check_len(cat_offset.size(), nn, "cat_offset");
  check_len(cat_nwords.size(), nn, "cat_nwords");
  check_len(value.size(), nn * n_outputs, "value");
  check_len(base_score.size(), n_outputs, "base_score");

  max_depth = 0;
  std::vector<uint8_t> seen;
  std::vector<std::pair<int32_t, int32_t>> stack;  // (local node, depth)
  for (int64_t t = 0; t < n_trees(); ++t) {
    const int64_t off = tree_offsets[t];
    const int64_t size = tree_offsets[t + 1] - off;
    if (size < 1) fail("tree " + std::to_string(t) + " has no nodes");
    if (tree_output[t] < -1 || tree_output[t] >= n_outputs) fail("tree_output out of range");
    seen.assign(size, 0);
    stack.assign(1, {0, 0});
    int64_t visited = 0;
    while (!stack.empty()) {
      auto [local, depth] = stack.back();
      stack.pop_back();
      if (seen[local]) fail("tree " + std::to_string(t) + " is not a tree (node reached twice)");
      seen[local] = 1;
      ++visited;
      if (depth > max_depth) max_depth = depth;
      const int64_t g = off + local;
      if (feature[g] < 0) continue;  // leaf
      if (feature[g] >= n_features) fail("split feature out of range");
      if (policy[g] >= static_cast<uint8_t>(SplitPolicy::kCount)) fail("unknown split policy");
      const int32_t l = left[g], r = right[g];
      if (l < 0 || l >= size || r < 0 || r >= size || l == r)
        fail("child index out of range in tree " + std::to_string(t));
      const auto p = static_cast<SplitPolicy>(policy[g]);
      if (p == SplitPolicy::kXgbCategorical || p == SplitPolicy::kLgbCategorical ||
          p == SplitPolicy::kLgbCategoricalNaN || p == SplitPolicy::kHgbCategorical) {
        if (cat_nwords[g] < 0 || cat_offset[g] < 0 ||
            cat_offset[g] + cat_nwords[g] > static_cast<int64_t>(cat_words.size()))
          fail("categorical bitset out of range");
      }
      stack.push_back({l, depth + 1});
      stack.push_back({r, depth + 1});
    }
    if (visited != size) fail("tree " + std::to_string(t) + " has unreachable nodes");
  }
}

Forest Forest::subforest(int64_t begin, int64_t end) const {
  if (begin < 0 || end > n_trees() || begin >= end)
    throw std::invalid_argument("trees: expected 0 <= begin < end <= " + std::to_string(n_trees()));
  Forest s;
  s.n_features = n_features;
  s.n_outputs = n_outputs;
  const int64_t first = tree_offsets[begin], last = tree_offsets[end];
  for (int64_t t = begin; t <= end; ++t) s.tree_offsets.push_back(tree_offsets[t] - first);
  s.tree_output.assign(tree_output.begin() + begin, tree_output.begin() + end);
  auto slice = [&](const auto& v, int64_t width) {
    return std::vector<typename std::decay_t<decltype(v)>::value_type>(v.begin() + first * width,
                                                                       v.begin() + last * width);
  };
  s.feature = slice(feature, 1);
  s.threshold = slice(threshold, 1);
  s.left = slice(left, 1);
  s.right = slice(right, 1);
  s.default_left = slice(default_left, 1);
  s.policy = slice(policy, 1);
  s.cat_nwords = slice(cat_nwords, 1);
  s.value = slice(value, n_outputs);
  s.cat_offset.resize(last - first);
  for (int64_t i = first; i < last; ++i) {  // copy only the bitsets these nodes use
    s.cat_offset[i - first] = static_cast<int64_t>(s.cat_words.size());
    s.cat_words.insert(s.cat_words.end(), cat_words.begin() + cat_offset[i],
                       cat_words.begin() + cat_offset[i] + cat_nwords[i]);
  }
  s.base_score.assign(n_outputs, 0.0);
  s.validate();
  return s;
}

}  // namespace assay::core
