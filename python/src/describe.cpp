#include "python/src/describe.h"

#include <pybind11/stl.h>

#include "engine/gpu/engine.h"
#include "engine/json_writer.h"
#include "engine/layer_info.h"

namespace py = pybind11;

namespace kiln::python {

py::list describe_tensors(const Graph& g, const std::vector<int>& ids) {
  py::list out;
  for (int id : ids) {
    py::dict t;
    t["name"] = g.tensors()[id].name;
    t["shape"] = g.tensors()[id].shape;
    out.append(t);
  }
  return out;
}

py::dict describe_engine(const Engine& engine) {
  Json j = model_json(engine.graph(), engine.description());
  j["precision"] = engine.precision();
  const gpu::GpuEngine* gpu = engine.gpu_engine().get();
  j["activation_bytes"] = gpu ? gpu->memory_plan().arena_bytes : engine.graph().plan().arena_bytes;
  if (gpu) {
    const auto& reports = gpu->layer_reports();
    for (std::size_t i = 0; i < reports.size(); ++i) {
      j["layers"][i]["implementation"] = reports[i].implementation;
      j["layers"][i]["workspace_bytes"] = reports[i].workspace_bytes;
    }
    j["workspace_bytes"] = gpu->workspace_bytes();
  }
  // One conversion through Python's json keeps the types model_json chose (ints, floats, lists, null).
  return py::module_::import("json").attr("loads")(json_text(j));
}

}  // namespace kiln::python
