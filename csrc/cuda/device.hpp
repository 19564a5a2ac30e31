// Plain C++ view of the CUDA side (no CUDA headers), for the bindings.
#pragma once

namespace assay::cuda {

// Number of usable CUDA devices; 0 when there is no driver or no device (never throws).
int device_count() noexcept;

}  // namespace assay::cuda
