// The flat tree-ensemble IR every kernel works on. Converters (Python) fill it; kernels
// never see XGBoost, LightGBM or scikit-learn. Struct-of-arrays, node indices local to a tree.
#pragma once
#include <cmath>
#include <cstdint>
#include <vector>

namespace assay::core {

// Split semantics exact to the source library (see DESIGN.md "split semantics as a policy").
enum class SplitPolicy : uint8_t {
  kXgbNumeric = 0,        // float32(x) < float32(t); NaN -> default direction
  kLgbNumericNone = 1,    // NaN (and |x| <= 1e-35) is read as 0.0, then x <= t in double
  kLgbNumericZero = 2,    // NaN is read as 0.0; |x| <= 1e-35 -> default; else x <= t
  kLgbNumericNaN = 3,     // NaN -> default; else x <= t
  kSklearnNumeric = 4,    // float32(x) <= t (t double); NaN -> default (missing_go_to_left)
  kHgbNumeric = 5,        // x <= t in double; NaN -> default (missing_go_to_left)
  kXgbCategorical = 6,    // category in set -> right; NaN -> default; invalid category -> left
  kLgbCategoricalNaN = 7, // category in set -> left; NaN or negative -> right
  kLgbCategorical = 8,    // as above but NaN is read as category 0
  kHgbCategorical = 9,    // category in set -> left; NaN, negative or unknown -> default
  kCount = 10,
};

struct Forest {
  int32_t n_features = 0;
  int32_t n_outputs = 1;                // K
  std::vector<int64_t> tree_offsets;    // n_trees + 1; tree t owns nodes [off[t], off[t+1])
  std::vector<int32_t> tree_output;     // per tree: -1 = leaves carry K values, k = only output k
  std::vector<int32_t> feature;         // per node; -1 marks a leaf
  std::vector<double> threshold;        // per node (numeric splits)
  std::vector<int32_t> left, right;     // per node, local to the tree
  std::vector<uint8_t> default_left;    // per node: direction of missing values
  std::vector<uint8_t> policy;          // per node: SplitPolicy
  std::vector<int64_t> cat_offset;      // per node: first word of its category bitset
  std::vector<int32_t> cat_nwords;      // per node: bitset length in 32-bit words
  std::vector<uint32_t> cat_words;      // all bitsets
  std::vector<double> value;            // n_nodes * K leaf values (internal nodes ignored)
  std::vector<double> base_score;       // K

  int64_t n_trees() const { return static_cast<int64_t>(tree_offsets.size()) - 1; }
  int64_t n_nodes() const { return static_cast<int64_t>(feature.size()); }
  int32_t max_depth = 0;                // filled by validate()

  // Throws std::invalid_argument on any inconsistency (bad child, cycle, shared node,
  // out-of-range feature or bitset). After it returns, kernels may index without checks.
  void validate();

  // Trees [begin, end) as a forest of their own (same features and outputs, zero base score):
  // per-tree attributions for Rashomon sets of sub-forests.
  Forest subforest(int64_t begin, int64_t end) const;
};

inline bool bitset_contains(const uint32_t* words, int32_t nwords, double x) {
  // x is a category; only non-negative integers below the bitset size can be members.
  if (!(x >= 0.0) || x >= 32.0 * nwords) return false;
  const int64_t c = static_cast<int64_t>(x);
  return (words[c >> 5] >> (c & 31)) & 1u;
}

// LightGBM's kZeroThreshold is the float 1e-35f; compared in double it is 1.0000000180025095e-35.
constexpr double kLgbZero = static_cast<double>(1e-35f);

// Does a sample with value x go left at a split with this policy, default direction,
// threshold and category bitset?
inline bool decide(SplitPolicy policy, bool dl, double t, const uint32_t* words, int32_t nwords, double x) {
  switch (policy) {
    case SplitPolicy::kXgbNumeric:
      if (std::isnan(x)) return dl;
      return static_cast<float>(x) < static_cast<float>(t);
    // LightGBM's predictor keeps only |x| > 1e-35 (kZeroThreshold) of a row: tinier values read as 0.
    case SplitPolicy::kLgbNumericNone:
      if (std::isnan(x) || std::fabs(x) <= kLgbZero) x = 0.0;
      return x <= t;
    case SplitPolicy::kLgbNumericZero:
      if (std::isnan(x) || std::fabs(x) <= kLgbZero) return dl;
      return x <= t;
    case SplitPolicy::kLgbNumericNaN:
      if (std::isnan(x)) return dl;
      if (std::fabs(x) <= kLgbZero) x = 0.0;
      return x <= t;
    case SplitPolicy::kSklearnNumeric:
      if (std::isnan(x)) return dl;
      return static_cast<double>(static_cast<float>(x)) <= t;
    case SplitPolicy::kHgbNumeric:
      if (std::isnan(x)) return dl;
      return x <= t;
    case SplitPolicy::kXgbCategorical: {
      if (std::isnan(x)) return dl;
      const double c = std::trunc(static_cast<double>(static_cast<float>(x)));
      if (c < 0.0) return true;
      return !bitset_contains(words, nwords, c);
    }
    case SplitPolicy::kLgbCategoricalNaN:
    case SplitPolicy::kLgbCategorical: {
      if (std::isnan(x)) {
        if (policy == SplitPolicy::kLgbCategoricalNaN) return false;
        x = 0.0;
      }
      const double c = std::trunc(x);
      if (c < 0.0) return false;
      return bitset_contains(words, nwords, c);
    }
    case SplitPolicy::kHgbCategorical: {
      // Unknown categories (beyond the bitset) go the missing way, like NaN and negatives.
      if (std::isnan(x) || x < 0.0 || x >= 32.0 * nwords) return dl;
      return bitset_contains(words, nwords, std::trunc(x));
    }
    default:
      return dl;  // unreachable after validate()
  }
}

inline bool goes_left(const Forest& f, int64_t node, double x) {
  return decide(static_cast<SplitPolicy>(f.policy[node]), f.default_left[node] != 0, f.threshold[node],
                f.cat_words.data() + f.cat_offset[node], f.cat_nwords[node], x);
}

}  // namespace assay::core
