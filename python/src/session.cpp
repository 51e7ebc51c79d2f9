#include "python/src/session.h"

#include <cuda_runtime.h>

#include <cstdio>
#include <sstream>

#include "base/errors.h"
#include "engine/cpu_executor.h"
#include "engine/gpu/check.h"
#include "engine/gpu/context.h"
#include "engine/gpu/device_scope.h"
#include "engine/gpu/engine.h"
#include "engine/gpu/resource.h"
#include "engine/model_dir.h"
#include "engine/runner.h"

namespace kiln::python {

namespace {

RunnerOptions gpu_runner_options(const std::string& path, const LoadOptions& options) {
  RunnerOptions o;
  o.model = path;
  o.device = "gpu";
  o.max_batch = options.max_batch;
  o.precision = options.precision;
  o.algo = options.algo;
  o.workspace_mb = options.workspace_mb;
  o.plan_cache = options.plan_cache;
  o.gpu = options.gpu;
  o.fp32_layers = options.fp32_layers;
  return o;
}

}  // namespace

std::vector<std::shared_ptr<const Engine>> Engine::load_replicas(const std::string& path, const std::vector<int>& gpus,
                                                                 const LoadOptions& options) {
  if (gpus.empty()) throw UsageError("load_replicas: devices is empty; name at least one GPU, e.g. [0, 1]");
  for (int d : gpus)
    if (d < 0) throw UsageError("load_replicas: devices: " + std::to_string(d) + " is not a GPU index (0, 1, ...)");
  std::string why_not;
  if (!gpu_available(&why_not)) throw UsageError("load_replicas: no usable GPU (" + why_not + ")");
  std::vector<std::shared_ptr<const Engine>> out;
  for (std::shared_ptr<const gpu::GpuEngine>& g : load_gpu_replicas(gpu_runner_options(path, options), gpus)) {
    std::shared_ptr<Engine> engine(new Engine());
    engine->gpu_ = std::move(g);
    engine->precision_ = options.precision;
    out.push_back(std::move(engine));
  }
  return out;
}

std::shared_ptr<const Engine> Engine::load(const std::string& path, const LoadOptions& options) {
  if (options.device != "cpu" && options.device != "gpu" && options.device != "auto")
    throw UsageError("device: expected 'cpu', 'gpu' or 'auto', got '" + options.device + "'");
  if (options.gpu < 0) throw UsageError("device: gpu index " + std::to_string(options.gpu) + " is negative");
  std::string why_not;
  const bool gpu = options.device != "cpu" && gpu_available(&why_not);
  if (options.device == "gpu" && !gpu)
    throw UsageError("device='gpu': no usable GPU (" + why_not + "); load with device='cpu' for the CPU reference path");
  std::shared_ptr<Engine> engine(new Engine());
  if (gpu) {
    engine->gpu_ = load_gpu_engine(gpu_runner_options(path, options));
    engine->precision_ = options.precision;
  } else {
    if (!options.fp32_layers.empty())
      throw UsageError("fp32_layers='" + options.fp32_layers + "' keeps layers of an fp16 GPU engine in float32; the CPU " +
                       "reference path computes every layer in fp32" + (why_not.empty() ? std::string() : " (" + why_not + ")"));
    if (options.precision != "fp32")
      throw UsageError("precision='" + options.precision + "' needs the GPU; the CPU reference path computes in fp32" +
                       (why_not.empty() ? std::string() : " (" + why_not + ")"));
    engine->cpu_model_ = std::make_unique<LoadedModel>(load_model(path, GraphBuildOptions{options.max_batch, 256, {}}));
    engine->cpu_executor_ = std::make_unique<CpuExecutor>(engine->cpu_model_->graph, engine->cpu_model_->weights);
  }
  return engine;
}

Engine::~Engine() = default;

int Engine::gpu_index() const { return gpu_ ? gpu_->options().device : -1; }

const Graph& Engine::graph() const { return gpu_ ? gpu_->graph() : cpu_model_->graph; }

std::string Engine::description() const {
  return gpu_ ? gpu_->device_description() : std::string("cpu (reference path, fp32)");
}

// Two events per context order its stream against the caller's (Context::run_device).
struct Context::Events {
  gpu::Event inputs_ready = gpu::make_event();
  gpu::Event outputs_ready = gpu::make_event();
};

Context::Context(std::shared_ptr<const Engine> engine) : engine_(std::move(engine)) {
  if (engine_->on_gpu()) {
    gpu_context_ = std::make_unique<gpu::ExecutionContext>(engine_->gpu_engine());
    // The events are recorded on streams of the engine's device, so they are made there.
    const gpu::DeviceScope on_engine_device(engine_->gpu_index());
    events_ = std::make_unique<Events>();
  }
}

Context::~Context() {
  if (events_) {
    const gpu::DeviceScope on_engine_device(engine_->gpu_index(), gpu::kNoThrow);
    events_.reset();
  }
}

RunResult Context::run(const std::vector<HostTensor>& inputs) {
  std::vector<HostTensor> ordered = match_inputs(engine_->graph(), inputs, "Context.run");
  const std::int64_t batch = ordered.at(0).shape.at(0);
  if (gpu_context_) return gpu_context_->run(ordered, batch);
  return engine_->cpu_executor()->run(ordered, batch);
}

std::int64_t Context::checked_batch(const std::vector<Shape>& input_shapes) const {
  const Graph& g = engine_->graph();
  if (input_shapes.size() != g.input_tensors().size())
    throw UsageError("Context.run: the model takes " + std::to_string(g.input_tensors().size()) + " input(s), got " +
                     std::to_string(input_shapes.size()));
  const Shape& first = input_shapes.at(0);
  if (first.empty()) throw UsageError("Context.run: input '" + g.tensors()[g.input_tensors()[0]].name + "' is a scalar");
  const std::int64_t batch = first[0];
  if (batch < 1 || batch > g.max_batch())
    throw UsageError("Context.run: batch " + std::to_string(batch) + " is outside 1.." + std::to_string(g.max_batch()) +
                     " (load with a larger max_batch)");
  return batch;
}

void Context::check_device_tensor(const DeviceTensor& t, const std::string& name, const Shape& want) const {
  if (t.shape != want)
    throw UsageError("Context.run: '" + name + "' has shape " + shape_to_string(t.shape) + ", the model needs " +
                     shape_to_string(want));
  if (t.address == 0) throw UsageError("Context.run: '" + name + "' has a null data pointer");
  cudaPointerAttributes attributes{};
  const cudaError_t status = cudaPointerGetAttributes(&attributes, reinterpret_cast<const void*>(t.address));
  if (status != cudaSuccess) {
    (void)cudaGetLastError();  // clear the sticky-free error this query may leave
    throw UsageError("Context.run: '" + name + "': its data pointer is not CUDA memory (" +
                     cudaGetErrorString(status) + ")");
  }
  const int device = engine_->gpu_engine()->options().device;
  const bool on_device = attributes.type == cudaMemoryTypeDevice || attributes.type == cudaMemoryTypeManaged;
  if (!on_device || attributes.device != device) {
    std::ostringstream what;
    what << "Context.run: '" << name << "' lives in "
         << (on_device ? "the memory of GPU " + std::to_string(attributes.device) : std::string("host memory"))
         << "; the engine runs on GPU " << device;
    throw UsageError(what.str());
  }
}

void Context::run_device(const std::vector<DeviceTensor>& inputs, const std::vector<DeviceTensor>& outputs,
                         std::optional<std::uintptr_t> caller_stream) {
  if (!gpu_context_)
    throw UsageError("Context.run: device tensors need an engine loaded on the GPU; this one runs on the CPU "
                     "(pass host arrays, or load with device='gpu')");
  const Graph& g = engine_->graph();
  std::vector<Shape> shapes;
  for (const DeviceTensor& t : inputs) shapes.push_back(t.shape);
  checked_batch(shapes);
  if (outputs.size() != g.output_tensors().size())
    throw UsageError("Context.run: the model has " + std::to_string(g.output_tensors().size()) + " output(s), got " +
                     std::to_string(outputs.size()) + " output buffer(s)");
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    const std::string problem = g.input_shape_problem(k, inputs[k].shape);
    if (!problem.empty()) throw UsageError("Context.run: " + problem);
  }
  // The outputs' shapes follow the inputs' (a dynamic model's size; a fixed one's batch).
  const std::vector<Shape> out_shapes = gpu_context_->output_shapes(shapes);
  std::vector<const float*> in;
  std::vector<float*> out;
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    check_device_tensor(inputs[k], g.tensors()[g.input_tensors()[k]].name, inputs[k].shape);
    in.push_back(reinterpret_cast<const float*>(inputs[k].address));
  }
  for (std::size_t k = 0; k < outputs.size(); ++k) {
    check_device_tensor(outputs[k], g.tensors()[g.output_tensors()[k]].name, out_shapes[k]);
    out.push_back(reinterpret_cast<float*>(outputs[k].address));
  }
  const cudaStream_t own = gpu_context_->stream();
  const gpu::DeviceScope on_engine_device(engine_->gpu_index());
  if (caller_stream) {
    const auto caller = reinterpret_cast<cudaStream_t>(*caller_stream);
    gpu::check_stream_device(caller, engine_->gpu_index());
    KILN_CUDA_CHECK(cudaEventRecord(events_->inputs_ready.get(), caller));
    KILN_CUDA_CHECK(cudaStreamWaitEvent(own, events_->inputs_ready.get(), 0));
    gpu_context_->run_device(in, out, shapes);
    KILN_CUDA_CHECK(cudaEventRecord(events_->outputs_ready.get(), own));
    KILN_CUDA_CHECK(cudaStreamWaitEvent(caller, events_->outputs_ready.get(), 0));
  } else {
    gpu_context_->run_device(in, out, shapes);
    gpu_context_->synchronize();
  }
}

std::vector<Shape> Context::output_shapes(const std::vector<Shape>& input_shapes) {
  const std::int64_t batch = checked_batch(input_shapes);
  if (gpu_context_) return gpu_context_->output_shapes(input_shapes);
  std::vector<Shape> key;
  for (std::size_t k = 0; k < input_shapes.size(); ++k) {
    const std::string problem = engine_->graph().input_shape_problem(k, input_shapes[k]);
    if (!problem.empty()) throw UsageError("Context.run: " + problem);
    key.push_back(Layer::at_batch(input_shapes[k], engine_->graph().max_batch()));
  }
  const std::shared_ptr<const Graph> g = engine_->cpu_executor()->graph_for(key);
  std::vector<Shape> out;
  for (int t : g->output_tensors()) out.push_back(Layer::at_batch(g->tensors()[static_cast<std::size_t>(t)].shape, batch));
  return out;
}

void Context::prepare(std::int64_t batch) {
  if (gpu_context_) gpu_context_->prepare(batch);
}

std::vector<std::int64_t> Context::prepared_batches() const {
  return gpu_context_ ? gpu_context_->prepared_batches() : std::vector<std::int64_t>{};
}

}  // namespace kiln::python
