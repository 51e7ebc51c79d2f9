#include "python/src/arrays.h"

#include <memory>
#include <vector>

#include "base/errors.h"

namespace py = pybind11;

namespace kiln::python {

HostTensor host_tensor_from(const std::string& name, const py::array& array) {
  const py::dtype kind = array.dtype();
  if (kind.kind() != 'f' && kind.kind() != 'i' && kind.kind() != 'u')
    throw UsageError("Context.run: input '" + name + "' has dtype " + kind.attr("name").cast<std::string>() +
                     "; kiln takes real numbers (float32, or any float/int array converted to it)");
  const auto f32 = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(array);
  if (!f32) throw UsageError("Context.run: input '" + name + "' cannot be converted to float32");
  HostTensor t;
  t.name = name;
  for (py::ssize_t d = 0; d < f32.ndim(); ++d) t.shape.push_back(static_cast<std::int64_t>(f32.shape(d)));
  const float* data = f32.data();
  t.data.assign(data, data + f32.size());
  return t;
}

py::array numpy_from(HostTensor&& tensor) {
  auto owner = std::make_unique<std::vector<float>>(std::move(tensor.data));
  std::vector<py::ssize_t> shape(tensor.shape.begin(), tensor.shape.end());
  float* data = owner->data();
  py::capsule free_when_done(owner.get(), [](void* p) { delete static_cast<std::vector<float>*>(p); });
  owner.release();
  return py::array_t<float>(shape, data, free_when_done);
}

}  // namespace kiln::python
