// The extension module kiln._kiln; python/kiln/__init__.py is the API users see (kiln.load, Engine,
// Context) and documents it. Here: kiln's typed errors as Python exceptions, the engine and context
// classes, the GIL released around every run.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/errors.h"
#include "engine/runner.h"
#include "kiln/version.h"
#include "python/src/arrays.h"
#include "python/src/describe.h"
#include "python/src/device_array.h"
#include "python/src/session.h"

namespace py = pybind11;

namespace kiln::python {
namespace {

// pybind11 holds classes by non-const shared_ptr; the engine stays immutable behind this handle.
struct EngineHandle {
  std::shared_ptr<const Engine> engine;
};

void bind_errors(py::module_& m) {
  // pybind11 owns the exception objects (and keeps them past interpreter shutdown, so no C++ static
  // drops a reference after Python is gone). Translators run newest first: each kind after its base.
  py::register_exception<Error>(m, "Error", PyExc_RuntimeError);
  const py::handle error = m.attr("Error");
  py::register_exception<FormatError>(m, "FormatError", error);
  py::register_exception<ModelError>(m, "ModelError", error);
  py::register_exception<UsageError>(m, "UsageError", error);
  py::register_exception<LibraryError>(m, "LibraryError", error);
  const py::handle library_error = m.attr("LibraryError");
  py::register_exception<CudaError>(m, "CudaError", library_error);
  py::register_exception<CudnnError>(m, "CudnnError", library_error);
  py::register_exception<CublasError>(m, "CublasError", library_error);
}

std::vector<DeviceTensor> device_tensors(const std::vector<std::pair<std::uintptr_t, Shape>>& given) {
  std::vector<DeviceTensor> out;
  for (const auto& [address, shape] : given) out.push_back({address, shape});
  return out;
}

void bind_engine(py::module_& m) {
  py::class_<EngineHandle>(m, "Engine", "An immutable loaded model (use kiln.load)")
      .def_property_readonly("device", [](const EngineHandle& h) { return h.engine->on_gpu() ? "gpu" : "cpu"; })
      .def_property_readonly("gpu", [](const EngineHandle& h) { return h.engine->gpu_index(); })
      .def_property_readonly("description", [](const EngineHandle& h) { return h.engine->description(); })
      .def_property_readonly("precision", [](const EngineHandle& h) { return h.engine->precision(); })
      .def_property_readonly("max_batch", [](const EngineHandle& h) { return h.engine->graph().max_batch(); })
      .def_property_readonly("dynamic", [](const EngineHandle& h) { return h.engine->graph().dynamic(); })
      .def_property_readonly("hw_ranges",
                             [](const EngineHandle& h) {
                               // {input name: ((min_h, min_w), (max_h, max_w))} of the dynamic inputs
                               py::dict out;
                               for (const InputSpec& in : h.engine->graph().spec().inputs) {
                                 if (!in.dynamic_hw()) continue;
                                 out[py::str(in.name)] = py::make_tuple(py::make_tuple(in.min_hw[0], in.min_hw[1]),
                                                                        py::make_tuple(in.max_hw[0], in.max_hw[1]));
                               }
                               return out;
                             })
      .def_property_readonly("inputs",
                             [](const EngineHandle& h) {
                               const Graph& g = h.engine->graph();
                               return describe_tensors(g, g.input_tensors());
                             })
      .def_property_readonly("outputs",
                             [](const EngineHandle& h) {
                               const Graph& g = h.engine->graph();
                               return describe_tensors(g, g.output_tensors());
                             })
      .def("inspect", [](const EngineHandle& h) { return describe_engine(*h.engine); });

  py::class_<Context>(m, "Context", "Per-thread state of one engine (use Engine.context)")
      .def(py::init([](const EngineHandle& h) { return std::make_unique<Context>(h.engine); }), py::arg("engine"))
      .def(
          "run_host",
          [](Context& ctx, const std::vector<std::pair<std::string, py::array>>& inputs) {
            std::vector<HostTensor> tensors;
            for (const auto& [name, array] : inputs) tensors.push_back(host_tensor_from(name, array));
            RunResult result;
            {
              py::gil_scoped_release released;
              result = ctx.run(tensors);
            }
            std::vector<std::pair<std::string, py::array>> outputs;
            for (HostTensor& t : result.outputs) {
              std::string name = t.name;
              outputs.emplace_back(std::move(name), numpy_from(std::move(t)));
            }
            return outputs;
          },
          py::arg("inputs"))
      .def(
          "run_device",
          [](Context& ctx, const std::vector<std::pair<std::uintptr_t, Shape>>& inputs,
             const std::vector<std::pair<std::uintptr_t, Shape>>& outputs, std::optional<std::uintptr_t> stream) {
            const std::vector<DeviceTensor> in = device_tensors(inputs);
            const std::vector<DeviceTensor> out = device_tensors(outputs);
            py::gil_scoped_release released;
            ctx.run_device(in, out, stream);
          },
          py::arg("inputs"), py::arg("outputs"), py::arg("stream") = py::none())
      .def("output_shapes", &Context::output_shapes, py::arg("input_shapes"),
           py::call_guard<py::gil_scoped_release>())
      .def("prepare", &Context::prepare, py::arg("batch"), py::call_guard<py::gil_scoped_release>())
      .def("prepared_batches", &Context::prepared_batches);
}

}  // namespace
}  // namespace kiln::python

PYBIND11_MODULE(_kiln, m) {
  using namespace kiln::python;
  m.doc() = "kiln's runtime (see the kiln package for the documented API)";
  bind_errors(m);
  bind_engine(m);
  bind_device_array(m);
  m.def(
      "load",
      [](const std::string& path, const std::string& device, const std::string& precision, const std::string& algo,
         std::int64_t max_batch, std::int64_t workspace_mb, const std::string& plan_cache, int gpu,
         const std::string& fp32_layers) {
        LoadOptions o{device, precision, algo, max_batch, workspace_mb, plan_cache, gpu, fp32_layers};
        std::shared_ptr<const Engine> engine;
        {
          py::gil_scoped_release released;
          engine = Engine::load(path, o);
        }
        return EngineHandle{std::move(engine)};
      },
      py::arg("path"), py::arg("device"), py::arg("precision"), py::arg("algo"), py::arg("max_batch"),
      py::arg("workspace_mb"), py::arg("plan_cache"), py::arg("gpu") = 0, py::arg("fp32_layers") = "");
  m.def(
      "load_replicas",
      [](const std::string& path, const std::vector<int>& devices, const std::string& precision, const std::string& algo,
         std::int64_t max_batch, std::int64_t workspace_mb, const std::string& plan_cache,
         const std::string& fp32_layers) {
        LoadOptions o{"gpu", precision, algo, max_batch, workspace_mb, plan_cache, 0, fp32_layers};
        std::vector<std::shared_ptr<const Engine>> engines;
        {
          py::gil_scoped_release released;
          engines = Engine::load_replicas(path, devices, o);
        }
        std::vector<EngineHandle> out;
        for (auto& e : engines) out.push_back(EngineHandle{std::move(e)});
        return out;
      },
      py::arg("path"), py::arg("devices"), py::arg("precision"), py::arg("algo"), py::arg("max_batch"),
      py::arg("workspace_mb"), py::arg("plan_cache"), py::arg("fp32_layers") = "");
  m.def("gpu_available", []() {
    std::string why_not;
    const bool ok = kiln::gpu_available(&why_not);
    return std::make_pair(ok, why_not);
  });
  m.attr("__version__") = KILN_VERSION_STRING;
  m.attr("built_with_cuda") = KILN_BUILT_WITH_CUDA;
  m.attr("built_with_cudnn") = KILN_BUILT_WITH_CUDNN;
}
