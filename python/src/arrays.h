// numpy <-> kiln::HostTensor for the bindings. Host inputs are converted to float32 C-contiguous
// (one copy, into the HostTensor); outputs hand their vector to numpy without copying.
#pragma once

#include <pybind11/numpy.h>

#include <string>

#include "engine/host_tensor.h"

namespace kiln::python {

// Copies `array` (any real dtype; converted to float32) into a HostTensor named `name`.
HostTensor host_tensor_from(const std::string& name, const pybind11::array& array);

// A numpy float32 array that owns `tensor`'s data (moved out of it).
pybind11::array numpy_from(HostTensor&& tensor);

}  // namespace kiln::python
