// kiln.DeviceArray: float32 device memory that kiln allocates for outputs when the inputs are CUDA
// arrays from a library other than PyTorch (PyTorch inputs get torch tensors). It exposes
// __cuda_array_interface__ (version 3), so CuPy, Numba or PyTorch take it without a copy, and keeps
// the memory alive while any of them holds the object.
#pragma once

#include <pybind11/pybind11.h>

#include <cstdint>
#include <vector>

#include "engine/gpu/memory.h"
#include "formats/manifest.h"

namespace kiln::python {

class DeviceArray {
 public:
  // Allocates product(shape) floats on CUDA device `device` (-1: the current one), the caller's current
  // device kept (CudaError when that fails).
  explicit DeviceArray(Shape shape, int device = -1);
  const Shape& shape() const { return shape_; }
  std::uintptr_t address() const { return reinterpret_cast<std::uintptr_t>(buffer_.data()); }
  std::uint64_t nbytes() const { return buffer_.size(); }
  pybind11::dict cuda_array_interface() const;
  // A host copy (synchronous), for callers without a CUDA array library.
  pybind11::object to_numpy() const;

 private:
  Shape shape_;
  gpu::DeviceBuffer buffer_;
};

void bind_device_array(pybind11::module_& m);

}  // namespace kiln::python
