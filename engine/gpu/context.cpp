#include "engine/gpu/context.h"

#include <cstdint>
#include <cstring>
#include <map>

#include "engine/gpu/check.h"
#include "engine/gpu/copy.h"
#include "engine/gpu/device_scope.h"
#include "engine/gpu/layout.h"
#include "engine/gpu/memory.h"
#include "engine/gpu/op.h"
#include "engine/shape_cache.h"

namespace kiln::gpu {

namespace {

// One set of input shapes a context runs: the engine's own (variant null) or a ShapeVariant it built,
// with the layers' prepared plans per batch.
struct ShapeState {
  std::shared_ptr<const ShapeVariant> variant;
  const Graph* graph = nullptr;
  const GpuEngine* engine = nullptr;
  // Declared last: prepared plans reference the variant's ops.
  std::map<std::int64_t, std::vector<std::unique_ptr<PreparedOp>>> prepared;

  const GpuOp* op(std::size_t layer) const {
    return variant ? variant->ops[layer].get() : engine->op(static_cast<int>(layer));
  }
};

}  // namespace

struct ExecutionContext::Resources {
  std::shared_ptr<const GpuEngine> engine;
  Stream own_stream;
  cudaStream_t stream = nullptr;
  CudnnHandle cudnn;
  CublasLtHandle cublaslt;
  DeviceBuffer arena;
  DeviceBuffer workspace;
  PinnedBuffer staging_in;    // the inputs at max batch, back to back
  PinnedBuffer staging_out;   // the outputs at max batch
  PinnedBuffer arena_mirror;  // keep_all_layer_outputs: the whole arena
  // Fp16: run()'s float32 inputs and outputs on the device, between the pinned staging and the
  // conversion kernels (laid out as staging_in / staging_out).
  DeviceBuffer device_in;
  DeviceBuffer device_out;
  std::vector<std::uint64_t> in_offsets;
  std::vector<std::uint64_t> out_offsets;
  std::vector<void*> tensors;
  // run_device_profiled's events: [before inputs, after inputs, after layer 0, ..., after outputs].
  // Empty until the first profiled run.
  std::vector<Event> profile_events;
  double last_shape_build_ms = 0;
  // Declared last: prepared plans reference the handles above and must go first.
  std::shared_ptr<ShapeState> own;  // the engine's own input shapes
  ShapeCache<ShapeState> shapes{ExecutionContext::kContextShapes};  // others, for a dynamic model
  std::shared_ptr<ShapeState> current;  // the state of the run being enqueued

  const Graph& graph() const { return current ? *current->graph : engine->graph(); }

  // The batch of `input_shapes` (full shapes, batch first, one batch for all), each checked against
  // the model; the key of their state is the shapes at max batch.
  std::int64_t check_shapes(const std::vector<Shape>& input_shapes, std::vector<Shape>& key) const {
    const Graph& g = engine->graph();
    if (input_shapes.size() != g.input_tensors().size()) {
      throw UsageError("the model takes " + std::to_string(g.input_tensors().size()) + " input(s), " +
                       std::to_string(input_shapes.size()) + " input shape(s) given");
    }
    key.clear();
    const std::int64_t batch = input_shapes[0].empty() ? 0 : input_shapes[0][0];
    for (std::size_t i = 0; i < input_shapes.size(); ++i) {
      const std::string problem = g.input_shape_problem(i, input_shapes[i]);
      if (!problem.empty()) throw UsageError(problem);
      if (input_shapes[i][0] != batch) {
        throw UsageError("input shape " + shape_to_string(input_shapes[i]) + " has another batch than the first input's " +
                         std::to_string(batch) + " (all inputs share one batch)");
      }
      key.push_back(Layer::at_batch(input_shapes[i], engine->max_batch()));
    }
    check_batch(batch);
    return batch;
  }

  // Selects (building at its first use) the state for `input_shapes`; returns the run's batch.
  std::int64_t select(const std::vector<Shape>& input_shapes) {
    std::vector<Shape> key;
    const std::int64_t batch = check_shapes(input_shapes, key);
    if (key == engine->graph().input_shapes()) {
      current = own;
      return batch;
    }
    // A new size evicts the least recently used one when the cache is full: its plans may still have
    // work queued on the stream, so that work finishes first.
    if (!shapes.find(key) && shapes.size() >= shapes.capacity()) KILN_CUDA_CHECK(cudaStreamSynchronize(stream));
    current = shapes.get(key, [&] {
      FindScratch scratch;
      if (engine->options().algo == AlgoMode::Find) {
        // Candidates are timed in this context's own buffers, idle between runs.
        KILN_CUDA_CHECK(cudaStreamSynchronize(stream));
        scratch.tensors = tensors;
        scratch.workspace = workspace.data();
        scratch.workspace_bytes = workspace.size();
        scratch.stream = stream;
      }
      auto state = std::make_shared<ShapeState>();
      state->variant = engine->build_variant(key, engine->options().algo == AlgoMode::Find ? &scratch : nullptr);
      state->graph = &state->variant->graph;
      state->engine = engine.get();
      last_shape_build_ms = state->variant->build_ms;
      return state;
    });
    return batch;
  }

  // The engine's own input shapes at `batch`.
  std::vector<Shape> own_shapes(std::int64_t batch) const {
    std::vector<Shape> out;
    for (const Shape& s : engine->graph().input_shapes()) out.push_back(Layer::at_batch(s, batch));
    return out;
  }

  // True when tensor `t` is stored half (converted at the boundary); float32 tensors are copied.
  bool half(int t) const { return engine->tensor_precision(t) == Precision::Fp16; }

  // Converts float32 logical-order data into tensor `t`'s arena block (half), or copies it.
  void put_input(int t, const void* src, std::int64_t batch) {
    void* dst = tensors[static_cast<std::size_t>(t)];
    if (half(t)) {
      const Shape s = shape_at(t, batch);
      launch_copy(logical_view(src, s, ElementType::F32), activation_view(dst, s, Precision::Fp16), stream);
    } else {
      KILN_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes_at(t, batch), cudaMemcpyDefault, stream));
    }
  }
  // The reverse, for outputs.
  void get_output(int t, void* dst, std::int64_t batch) {
    const void* src = tensors[static_cast<std::size_t>(t)];
    if (half(t)) {
      const Shape s = shape_at(t, batch);
      launch_copy(activation_view(src, s, Precision::Fp16), logical_view(dst, s, ElementType::F32), stream);
    } else {
      KILN_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes_at(t, batch), cudaMemcpyDefault, stream));
    }
  }
  Shape shape_at(int t, std::int64_t batch) const {
    return Layer::at_batch(graph().tensors()[static_cast<std::size_t>(t)].shape, batch);
  }

  std::uint64_t bytes_at(int tensor, std::int64_t batch) const {
    return element_count(Layer::at_batch(graph().tensors()[static_cast<std::size_t>(tensor)].shape, batch)) *
           sizeof(float);
  }

  OpRunEnv env() const {
    OpRunEnv e;
    e.cudnn = cudnn.get();
    e.cublaslt = cublaslt.get();
    e.stream = stream;
    e.workspace = workspace.data();
    e.workspace_bytes = workspace.size();
    e.tensors = &tensors;
    e.plans = &engine->plan_cache_ref();  // per layer: plan_cache_ref(layer)
    return e;
  }

  void check_batch(std::int64_t batch) const {
    if (batch < 1 || batch > engine->max_batch()) {
      throw UsageError("batch " + std::to_string(batch) + " is outside 1.." + std::to_string(engine->max_batch()) +
                       " (the max batch this engine was loaded with)");
    }
  }

  // The current state's prepared plans for `batch`, built at the first call for that batch.
  const std::vector<std::unique_ptr<PreparedOp>>& plans_for(std::int64_t batch) {
    check_batch(batch);
    auto& prepared = current->prepared;
    auto it = prepared.find(batch);
    if (it != prepared.end()) return it->second;
    std::vector<std::unique_ptr<PreparedOp>> ops;
    OpRunEnv e = env();
    for (std::size_t i = 0; i < graph().layers().size(); ++i) {
      LayerScope scope(graph().layers()[i]->name());
      e.plans = &engine->plan_cache_ref(static_cast<int>(i));
      ops.push_back(current->op(i)->prepare(e, batch));
    }
    return prepared.emplace(batch, std::move(ops)).first->second;
  }

  // `after_layer`, when given, holds one event per layer, recorded after the layer's work (profiling).
  // A layer's converted inputs (Note [mixed precision]) are made before its work, within its events.
  void enqueue(std::int64_t batch, const Event* after_layer = nullptr) {
    const auto& ops = plans_for(batch);
    OpRunEnv e = env();
    const bool sync_each = engine->options().sync_each_layer;
    const auto& conversions = engine->conversions();
    std::size_t next = 0;
    for (std::size_t i = 0; i < ops.size(); ++i) {
      for (; next < conversions.size() && conversions[next].step == static_cast<int>(i); ++next) {
        const PrecisionConversion& c = conversions[next];
        LayerScope scope(graph().layers()[i]->name());
        const Shape s = shape_at(c.source, batch);
        launch_copy(activation_view(tensors[static_cast<std::size_t>(c.source)], s, engine->tensor_precision(c.source)),
                    activation_view(tensors[static_cast<std::size_t>(c.copy)], s, engine->tensor_precision(c.copy)), stream);
      }
      if (ops[i]) {
        LayerScope scope(graph().layers()[i]->name());
        e.plans = &engine->plan_cache_ref(static_cast<int>(i));
        ops[i]->run(e);
        if (sync_each) KILN_CUDA_CHECK(cudaStreamSynchronize(stream));
      }
      if (after_layer) KILN_CUDA_CHECK(cudaEventRecord(after_layer[i].get(), stream));
    }
  }

  // Every run_device pointer must be memory of the engine's device, checked on every call (a buffer
  // freed and another allocated at the same address on another device must not pass).
  void check_pointers(const std::vector<const float*>& inputs, const std::vector<float*>& outputs,
                      const std::vector<int>& in_ids, const std::vector<int>& out_ids) const {
    const int device = engine->options().device;
    const auto check = [&](const void* p, const char* role, int t) {
      const std::string problem = device_pointer_problem(p, device);
      if (!problem.empty()) {
        throw UsageError(std::string("run_device: ") + role + " '" + graph().tensors()[static_cast<std::size_t>(t)].name +
                         "' " + problem);
      }
    };
    for (std::size_t i = 0; i < inputs.size(); ++i) check(inputs[i], "input", in_ids[i]);
    for (std::size_t i = 0; i < outputs.size(); ++i) check(outputs[i], "output", out_ids[i]);
  }

  // run_device's body; with `events` (layers + 3 of them) it records the profiling events.
  void device_run(const std::vector<const float*>& inputs, const std::vector<float*>& outputs,
                  const std::vector<Shape>& input_shapes, const std::vector<Event>* events) {
    const DeviceScope scope(engine->options().device);  // select() may drop an older size's plans
    const std::int64_t batch = select(input_shapes);
    const Graph& g = graph();
    const auto& in_ids = g.input_tensors();
    const auto& out_ids = g.output_tensors();
    if (inputs.size() != in_ids.size() || outputs.size() != out_ids.size()) {
      throw UsageError("run_device: the model takes " + std::to_string(in_ids.size()) + " input(s) and gives " +
                       std::to_string(out_ids.size()) + " output(s), got " + std::to_string(inputs.size()) + " and " +
                       std::to_string(outputs.size()) + " pointer(s)");
    }
    const auto name = [&](int t) { return g.tensors()[static_cast<std::size_t>(t)].name; };
    // Float data a kernel reads or writes must be 4-byte aligned; a misaligned pointer would fault later,
    // inside a kernel, as an asynchronous error naming nothing.
    const auto misaligned = [](const void* p) { return reinterpret_cast<std::uintptr_t>(p) % alignof(float) != 0; };
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      if (!inputs[i]) throw UsageError("run_device: input '" + name(in_ids[i]) + "' is null");
      if (misaligned(inputs[i])) throw UsageError("run_device: input '" + name(in_ids[i]) + "' is not 4-byte aligned");
    }
    for (std::size_t i = 0; i < outputs.size(); ++i) {
      if (!outputs[i]) throw UsageError("run_device: output '" + name(out_ids[i]) + "' is null");
      if (misaligned(outputs[i])) throw UsageError("run_device: output '" + name(out_ids[i]) + "' is not 4-byte aligned");
    }
    check_pointers(inputs, outputs, in_ids, out_ids);
    plans_for(batch);
    const std::size_t layers = g.layers().size();
    if (events) KILN_CUDA_CHECK(cudaEventRecord((*events)[0].get(), stream));
    for (std::size_t i = 0; i < in_ids.size(); ++i) put_input(in_ids[i], inputs[i], batch);
    if (events) KILN_CUDA_CHECK(cudaEventRecord((*events)[1].get(), stream));
    enqueue(batch, events ? events->data() + 2 : nullptr);
    for (std::size_t i = 0; i < out_ids.size(); ++i) get_output(out_ids[i], outputs[i], batch);
    if (events) KILN_CUDA_CHECK(cudaEventRecord((*events)[layers + 2].get(), stream));
  }
};

ExecutionContext::ExecutionContext(std::shared_ptr<const GpuEngine> engine, cudaStream_t stream)
    : r_(std::make_unique<Resources>()) {
  if (!engine) throw UsageError("ExecutionContext: the engine is null");
  r_->engine = std::move(engine);
  const GpuEngine& eng = *r_->engine;
  const Graph& g = eng.graph();
  const DeviceScope scope(eng.options().device);  // Note [device discipline]
  try {
    check_stream_device(stream, eng.options().device);
    if (!stream) r_->own_stream = make_stream();
    r_->stream = stream ? stream : r_->own_stream.get();
    r_->cudnn = make_cudnn_handle();
    KILN_CUDNN_CHECK(cudnnSetStream(r_->cudnn.get(), r_->stream));
    r_->cublaslt = make_cublaslt_handle();
    r_->arena = DeviceBuffer(eng.memory_plan().arena_bytes, "the activation arena");
    r_->workspace = DeviceBuffer(eng.workspace_bytes(), "the shared workspace");
    for (std::uint64_t off : eng.memory_plan().offsets) {
      r_->tensors.push_back(r_->arena.data() + off);
    }
    std::uint64_t in_bytes = 0;
    for (int t : g.input_tensors()) {
      r_->in_offsets.push_back(in_bytes);
      in_bytes += r_->bytes_at(t, eng.max_batch());
    }
    std::uint64_t out_bytes = 0;
    for (int t : g.output_tensors()) {
      r_->out_offsets.push_back(out_bytes);
      out_bytes += r_->bytes_at(t, eng.max_batch());
    }
    r_->staging_in = PinnedBuffer(in_bytes, "pinned input staging");
    r_->staging_out = PinnedBuffer(out_bytes, "pinned output staging");
    if (eng.options().precision == Precision::Fp16) {
      r_->device_in = DeviceBuffer(in_bytes, "float32 input staging on the device (fp16 engine)");
      r_->device_out = DeviceBuffer(out_bytes, "float32 output staging on the device (fp16 engine)");
    }
    if (eng.options().keep_all_layer_outputs) {
      r_->arena_mirror = PinnedBuffer(r_->arena.size(), "pinned copy of the arena (keep_all_layer_outputs)");
    }
    r_->own = std::make_shared<ShapeState>();
    r_->own->graph = &g;
    r_->own->engine = &eng;
    r_->current = r_->own;
  } catch (...) {
    r_.reset();  // what was made, freed with the device still current
    throw;
  }
}

ExecutionContext::~ExecutionContext() { release(); }
ExecutionContext::ExecutionContext(ExecutionContext&&) noexcept = default;
ExecutionContext& ExecutionContext::operator=(ExecutionContext&& other) noexcept {
  if (this != &other) {
    release();
    r_ = std::move(other.r_);
  }
  return *this;
}

// Finishes the stream's work and frees everything with the engine's device current.
void ExecutionContext::release() noexcept {
  if (!r_) return;  // moved from
  const DeviceScope scope(r_->engine->options().device, kNoThrow);
  if (r_->stream) KILN_CUDA_LOG(cudaStreamSynchronize(r_->stream));
  r_.reset();
}

cudaStream_t ExecutionContext::stream() const { return r_->stream; }
const GpuEngine& ExecutionContext::engine() const { return *r_->engine; }
const void* ExecutionContext::device_tensor(int index) const { return r_->tensors.at(static_cast<std::size_t>(index)); }

std::vector<std::int64_t> ExecutionContext::prepared_batches() const {
  std::vector<std::int64_t> out;
  for (const auto& kv : r_->own->prepared) out.push_back(kv.first);
  return out;
}

std::vector<std::vector<Shape>> ExecutionContext::prepared_shapes() const {
  std::vector<std::vector<Shape>> out;
  if (!r_->own->prepared.empty()) out.push_back(r_->engine->graph().input_shapes());
  for (const auto& key : r_->shapes.keys()) out.push_back(key);
  return out;
}

double ExecutionContext::last_shape_build_ms() const { return r_->last_shape_build_ms; }

void ExecutionContext::prepare(std::int64_t batch) { prepare(r_->own_shapes(batch)); }

void ExecutionContext::prepare(const std::vector<Shape>& input_shapes) {
  const DeviceScope scope(r_->engine->options().device);
  r_->plans_for(r_->select(input_shapes));
}

std::vector<Shape> ExecutionContext::output_shapes(const std::vector<Shape>& input_shapes) {
  const DeviceScope scope(r_->engine->options().device);
  const std::int64_t batch = r_->select(input_shapes);
  std::vector<Shape> out;
  for (int t : r_->graph().output_tensors()) out.push_back(r_->shape_at(t, batch));
  return out;
}

void ExecutionContext::synchronize() {
  const DeviceScope scope(r_->engine->options().device);
  KILN_CUDA_CHECK(cudaStreamSynchronize(r_->stream));
}

RunResult ExecutionContext::run(const std::vector<HostTensor>& inputs, std::int64_t batch, const RunOptions& options) {
  Resources& s = *r_;
  s.check_batch(batch);
  if (options.keep_layer_outputs && !s.engine->options().keep_all_layer_outputs) {
    throw UsageError("keep_layer_outputs needs an engine loaded with keep_all_layer_outputs (fusion and memory "
                     "reuse otherwise overwrite intermediate layers)");
  }
  const DeviceScope scope(s.engine->options().device);
  // The inputs' own shapes pick the graph (a dynamic model's size); a fixed model has only its own.
  std::vector<Shape> shapes = s.engine->graph().run_shapes(inputs);
  for (Shape& shape : shapes) shape = Layer::at_batch(shape, batch);
  s.select(shapes);
  const Graph& g = s.graph();
  g.check_run_inputs(inputs, batch);
  const auto& in_ids = g.input_tensors();
  s.plans_for(batch);
  for (std::size_t i = 0; i < in_ids.size(); ++i) {
    const std::uint64_t bytes = s.bytes_at(in_ids[i], batch);
    std::byte* staged = s.staging_in.data() + s.in_offsets[i];
    std::memcpy(staged, inputs[i].data.data(), bytes);
    if (s.half(in_ids[i])) {
      std::byte* dev = s.device_in.data() + s.in_offsets[i];
      KILN_CUDA_CHECK(cudaMemcpyAsync(dev, staged, bytes, cudaMemcpyHostToDevice, s.stream));
      s.put_input(in_ids[i], dev, batch);
    } else {
      KILN_CUDA_CHECK(cudaMemcpyAsync(s.tensors[static_cast<std::size_t>(in_ids[i])], staged, bytes,
                                      cudaMemcpyHostToDevice, s.stream));
    }
  }
  s.enqueue(batch);
  const auto& out_ids = g.output_tensors();
  for (std::size_t i = 0; i < out_ids.size(); ++i) {
    const std::uint64_t bytes = s.bytes_at(out_ids[i], batch);
    std::byte* staged = s.staging_out.data() + s.out_offsets[i];
    if (s.half(out_ids[i])) {
      std::byte* dev = s.device_out.data() + s.out_offsets[i];
      s.get_output(out_ids[i], dev, batch);
      KILN_CUDA_CHECK(cudaMemcpyAsync(staged, dev, bytes, cudaMemcpyDeviceToHost, s.stream));
    } else {
      KILN_CUDA_CHECK(cudaMemcpyAsync(staged, s.tensors[static_cast<std::size_t>(out_ids[i])], bytes,
                                      cudaMemcpyDeviceToHost, s.stream));
    }
  }
  if (options.keep_layer_outputs && s.arena.size() > 0) {
    KILN_CUDA_CHECK(cudaMemcpyAsync(s.arena_mirror.data(), s.arena.data(), s.arena.size(), cudaMemcpyDeviceToHost,
                                    s.stream));
  }
  KILN_CUDA_CHECK(cudaStreamSynchronize(s.stream));

  // `precision`: how `src` is laid out (outputs arrive as float32; the arena mirror as the engine stores).
  auto host_tensor = [&](int t, const std::byte* src, Precision precision) {
    const GraphTensor& gt = g.tensors()[static_cast<std::size_t>(t)];
    HostTensor h{gt.name, Layer::at_batch(gt.shape, batch), {}};
    h.data = unpack_activation(src, h.shape, precision);
    return h;
  };
  RunResult r;
  for (std::size_t i = 0; i < out_ids.size(); ++i) {
    r.outputs.push_back(host_tensor(out_ids[i], s.staging_out.data() + s.out_offsets[i], Precision::Fp32));
  }
  if (options.keep_layer_outputs) {
    const auto& offsets = s.engine->memory_plan().offsets;
    for (std::size_t l = 0; l < g.layers().size(); ++l) {
      const int t = g.output_tensor_of(static_cast<int>(l));
      r.layers.push_back(host_tensor(t, s.arena_mirror.data() + offsets[static_cast<std::size_t>(t)],
                                     s.engine->tensor_precision(t)));
    }
  }
  return r;
}

void ExecutionContext::run_device(const std::vector<const float*>& inputs, const std::vector<float*>& outputs,
                                  std::int64_t batch) {
  r_->check_batch(batch);
  r_->device_run(inputs, outputs, r_->own_shapes(batch), nullptr);
}

void ExecutionContext::run_device(const std::vector<const float*>& inputs, const std::vector<float*>& outputs,
                                  const std::vector<Shape>& input_shapes) {
  r_->device_run(inputs, outputs, input_shapes, nullptr);
}

CapturedRun ExecutionContext::capture_device(const std::vector<const float*>& inputs,
                                             const std::vector<float*>& outputs, std::int64_t batch) {
  r_->check_batch(batch);
  return capture_device(inputs, outputs, r_->own_shapes(batch));
}

CapturedRun ExecutionContext::capture_device(const std::vector<const float*>& inputs,
                                             const std::vector<float*>& outputs,
                                             const std::vector<Shape>& input_shapes) {
  const DeviceScope scope(r_->engine->options().device);
  prepare(input_shapes);
  r_->device_run(inputs, outputs, input_shapes, nullptr);
  synchronize();
  CapturedRun run =
      CapturedRun::capture(r_->stream, [&] { r_->device_run(inputs, outputs, input_shapes, nullptr); });
  run.keep_alive(r_->current);  // its plans, should the context drop this shape later
  return run;
}

ProfiledRun ExecutionContext::run_device_profiled(const std::vector<const float*>& inputs,
                                                  const std::vector<float*>& outputs, std::int64_t batch) {
  r_->check_batch(batch);
  return run_device_profiled(inputs, outputs, r_->own_shapes(batch));
}

ProfiledRun ExecutionContext::run_device_profiled(const std::vector<const float*>& inputs,
                                                  const std::vector<float*>& outputs,
                                                  const std::vector<Shape>& input_shapes) {
  Resources& s = *r_;
  const DeviceScope scope(s.engine->options().device);
  s.select(input_shapes);  // the layer count below is that shape's graph's (the same for every shape)
  const std::int64_t batch = input_shapes.at(0).at(0);
  const std::size_t layers = s.graph().layers().size();
  while (s.profile_events.size() < layers + 3) s.profile_events.push_back(make_event());
  s.device_run(inputs, outputs, input_shapes, &s.profile_events);
  synchronize();
  const auto elapsed = [&](std::size_t from, std::size_t to) {
    float ms = 0;
    KILN_CUDA_CHECK(cudaEventElapsedTime(&ms, s.profile_events[from].get(), s.profile_events[to].get()));
    return static_cast<double>(ms);
  };
  ProfiledRun r;
  r.input_copy_ms = elapsed(0, 1);
  for (std::size_t i = 0; i < layers; ++i) {
    const auto& ops = s.current->prepared.at(batch);
    r.ran.push_back(ops[i] != nullptr);
    r.layer_ms.push_back(ops[i] ? elapsed(i + 1, i + 2) : 0.0);
  }
  r.output_copy_ms = elapsed(layers + 1, layers + 2);
  r.total_ms = elapsed(0, layers + 2);
  return r;
}

}  // namespace kiln::gpu
