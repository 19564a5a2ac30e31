// Failures the Python layer decides on by type, never by message text: the bindings register
// each as a Python exception (a ValueError subclass, so callers that catch ValueError still do).
// Messages state the fact; what to do about it is the Python layer's to say.
#pragma once
#include <stdexcept>
#include <string>

namespace assay::core {

// A leaf path has more distinct players than a kernel's per-leaf tables hold (the region tables'
// 12, the path-dependent weights' 64). Python: assay._core.TooManyPlayersError.
struct TooManyPlayers : std::invalid_argument {
  explicit TooManyPlayers(const std::string& what) : std::invalid_argument(what) {}
};

// The one-thread-per-row (device) kernel does not take this forest or background: too deep, too
// many output columns, a leaf wider than its tables, tables over the budget, too many background
// rows. The CPU kernel takes it. Python: assay._core.DeviceUnsupportedError.
struct DeviceUnsupported : std::invalid_argument {
  explicit DeviceUnsupported(const std::string& what) : std::invalid_argument(what) {}
};

}  // namespace assay::core
