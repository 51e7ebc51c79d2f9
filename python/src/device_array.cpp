#include "python/src/device_array.h"

#include <cuda_runtime.h>
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include "engine/gpu/check.h"
#include "engine/gpu/device_scope.h"
#include "layers/layer.h"

namespace py = pybind11;

namespace kiln::python {

namespace {
std::uint64_t float_bytes(const Shape& shape) {
  std::uint64_t n = 1;
  for (std::int64_t d : shape) {
    if (d < 0) throw UsageError("DeviceArray: negative dimension in shape " + shape_to_string(shape));
    n *= static_cast<std::uint64_t>(d);
  }
  return n * sizeof(float);
}

gpu::DeviceBuffer allocate_on(int device, std::uint64_t bytes) {
  if (device < 0) return gpu::DeviceBuffer(bytes, "kiln.DeviceArray");
  const gpu::DeviceScope on_device(device);
  return gpu::DeviceBuffer(bytes, "kiln.DeviceArray");
}
}  // namespace

DeviceArray::DeviceArray(Shape shape, int device)
    : shape_(std::move(shape)), buffer_(allocate_on(device, float_bytes(shape_))) {}

py::dict DeviceArray::cuda_array_interface() const {
  py::dict d;
  py::list dims;
  for (std::int64_t s : shape_) dims.append(s);
  d["shape"] = py::tuple(dims);
  d["typestr"] = "<f4";
  // A zero-size array has no buffer; the interface asks for address 0 then.
  d["data"] = py::make_tuple(address(), false);
  d["strides"] = py::none();
  d["version"] = 3;
  d["stream"] = py::none();  // kiln synchronizes (or orders by events) before handing the array out
  return d;
}

py::object DeviceArray::to_numpy() const {
  std::vector<py::ssize_t> dims(shape_.begin(), shape_.end());
  py::array_t<float> host(dims);
  if (nbytes() > 0) KILN_CUDA_CHECK(cudaMemcpy(host.mutable_data(), buffer_.data(), nbytes(), cudaMemcpyDeviceToHost));
  return host;  // implicitly moved into the py::object
}

void bind_device_array(py::module_& m) {
  py::class_<DeviceArray>(m, "DeviceArray",
                          "float32 device memory holding one kiln output; exposes __cuda_array_interface__")
      .def(py::init<Shape, int>(), py::arg("shape"), py::arg("device") = -1)
      .def_property_readonly("shape", [](const DeviceArray& a) { return py::tuple(py::cast(a.shape())); })
      .def_property_readonly("dtype", [](const DeviceArray&) { return "float32"; })
      .def_property_readonly("nbytes", &DeviceArray::nbytes)
      .def_property_readonly("data_ptr", &DeviceArray::address)
      .def_property_readonly("__cuda_array_interface__", &DeviceArray::cuda_array_interface)
      .def("numpy", &DeviceArray::to_numpy, "Copies the array to host memory (synchronous).")
      .def("__repr__", [](const DeviceArray& a) { return "kiln.DeviceArray(shape=" + shape_to_string(a.shape()) + ")"; });
}

}  // namespace kiln::python
