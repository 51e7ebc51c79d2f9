// Test hooks that make the Nth operation of one kind fail, so that tests can prove every failure path:
// each surfaces as a typed error naming the layer and the call, leaks nothing, and leaves the engine
// serving the next request. Disarmed (the default) a site costs one relaxed atomic load.
//
//   kiln::arm_fault(kiln::FaultSite::FileRead, 3);   // the third file read from now fails
//   ... load, expect FormatError ...
//   kiln::disarm_faults();
//
// Sites: HostAllocation (every buffer sized from a file or a caller: base/memory_limit.h), FileRead
// (formats/file_io.h), DeviceAllocation (engine/gpu/memory.h), LibraryCall (every checked CUDA, cuDNN
// and cuBLAS status: engine/gpu/check.h). Arming is global and meant for single-threaded tests.
#pragma once

#include <cstdint>

namespace kiln {

enum class FaultSite { HostAllocation, FileRead, DeviceAllocation, LibraryCall };

// The `nth` operation at `site` from now on fails (1 = the next one); once.
void arm_fault(FaultSite site, std::uint64_t nth);
void disarm_faults();

// Called by each site: true exactly when the armed operation is reached.
bool inject_fault(FaultSite site) noexcept;

// How many operations at `site` have been counted since it was last armed (tests use it to find how
// many sites a load or a run passes).
std::uint64_t fault_site_count(FaultSite site) noexcept;

}  // namespace kiln
