// How a sample's value decides a split, exact to each source library: one definition shared by
// the C++ kernels and the CUDA kernels (host_device.hpp), so both read every split the same way.
#pragma once
#include <cmath>
#include <cstdint>

#include "core/host_device.hpp"

namespace assay::core {

// Split semantics exact to the source library: every node of the IR carries one policy (forest.hpp),
// so one kernel serves every library (README.md "Supported models" and "How it works").
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

ASSAY_HD bool bitset_contains(const uint32_t* words, int32_t nwords, double x) {
  // x is a category; only non-negative integers below the bitset size can be members.
  if (!(x >= 0.0) || x >= 32.0 * nwords) return false;
  const int64_t c = static_cast<int64_t>(x);
  return (words[c >> 5] >> (c & 31)) & 1u;
}

// LightGBM's kZeroThreshold is the float 1e-35f; compared in double it is 1.0000000180025095e-35.
constexpr double kLgbZero = static_cast<double>(1e-35f);

// Does a sample with value x go left at a split with this policy, default direction,
// threshold and category bitset?
ASSAY_HD bool decide(SplitPolicy policy, bool dl, double t, const uint32_t* words, int32_t nwords, double x) {
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
    default: return dl;  // unreachable after validate()
  }
}

}  // namespace assay::core
