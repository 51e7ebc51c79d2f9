// `kiln bench --device gpu`: trtexec-style measurement of the GPU engine.
//
// One lane per --streams (per device with --devices, GpuEngine::load_replicas): an ExecutionContext on its own stream, device input/output buffers, pinned
// host copies and (with --cuda-graph) the captured run. Iterations go to the lanes round robin; each
// records CUDA events around its H2D copies, its compute and its D2H copies into a ring of slots, so
// the host runs up to kRing iterations ahead of the GPU and waits only when it reuses a slot. Enqueue
// time is the host time spent submitting one iteration. With several devices one host thread feeds every
// lane in turn, each call made with the lane's device current (DeviceScope); the memory figures are the
// first device's.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "engine/bench/bench.h"
#include "base/errors.h"
#include "engine/gpu/check.h"
#include "engine/gpu/context.h"
#include "engine/gpu/device_scope.h"
#include "engine/gpu/memory.h"

namespace kiln::bench {

namespace {

using gpu::DeviceBuffer;
using gpu::Event;
using gpu::PinnedBuffer;

constexpr std::size_t kRing = 3;

struct Slot {
  Event start, inputs_in, computed, end;
  double enqueue_ms = 0;
  bool pending = false;
  bool measured = false;
};

struct Lane {
  Lane(std::shared_ptr<const gpu::GpuEngine> engine, std::size_t engine_index)
      : device(engine->options().device), share(engine_index), ctx(std::move(engine)) {}
  int device;
  std::size_t share;          // which engine (BenchResult::devices entry) the lane runs on
  std::int64_t measured = 0;  // measured iterations it completed
  gpu::ExecutionContext ctx;
  std::vector<DeviceBuffer> d_in, d_out;
  std::vector<const float*> in_ptrs;
  std::vector<float*> out_ptrs;
  PinnedBuffer h_in, h_out;  // every input (output) back to back
  std::vector<std::uint64_t> in_bytes, out_bytes;
  std::vector<Shape> shapes;  // the inputs', batch first
  gpu::CapturedRun graph;
  std::vector<Slot> slots;
  std::size_t next = 0;
};

// Tracks the lowest free device memory seen, for the peak above the level after CUDA init.
struct MemoryWatch {
  std::size_t baseline = 0, lowest = 0;
  void sample() {
    std::size_t free = 0, total = 0;
    KILN_CUDA_CHECK(cudaMemGetInfo(&free, &total));
    lowest = std::min(lowest, free);
  }
  std::uint64_t peak() const { return baseline > lowest ? baseline - lowest : 0; }
};

std::unique_ptr<Lane> make_lane(const std::shared_ptr<const gpu::GpuEngine>& engine,
                                const std::vector<HostTensor>& inputs, std::size_t share) {
  const gpu::DeviceScope on(engine->options().device);  // its buffers and events on its device
  auto lane = std::make_unique<Lane>(engine, share);
  lane->shapes = shapes_of(inputs);
  std::uint64_t in_total = 0, out_total = 0;
  for (const HostTensor& t : inputs) lane->in_bytes.push_back(t.data.size() * sizeof(float));
  // Builds the inputs' size first if it is not the engine's own (a dynamic model).
  for (const Shape& s : lane->ctx.output_shapes(lane->shapes)) lane->out_bytes.push_back(element_count(s) * sizeof(float));
  for (std::uint64_t b : lane->in_bytes) in_total += b;
  for (std::uint64_t b : lane->out_bytes) out_total += b;
  lane->h_in = PinnedBuffer(in_total, "bench inputs (pinned)");
  lane->h_out = PinnedBuffer(out_total, "bench outputs (pinned)");
  std::uint64_t off = 0;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    std::memcpy(lane->h_in.data() + off, inputs[i].data.data(), lane->in_bytes[i]);
    lane->d_in.emplace_back(lane->in_bytes[i], "bench input buffer");
    lane->in_ptrs.push_back(lane->d_in.back().as<float>());
    KILN_CUDA_CHECK(
        cudaMemcpy(lane->d_in.back().data(), lane->h_in.data() + off, lane->in_bytes[i], cudaMemcpyHostToDevice));
    off += lane->in_bytes[i];
  }
  for (std::uint64_t b : lane->out_bytes) {
    lane->d_out.emplace_back(b, "bench output buffer");
    lane->out_ptrs.push_back(lane->d_out.back().as<float>());
  }
  for (std::size_t i = 0; i < kRing; ++i) {
    lane->slots.push_back(Slot{gpu::make_event(), gpu::make_event(), gpu::make_event(), gpu::make_event()});
  }
  lane->ctx.prepare(lane->shapes);
  return lane;
}

void copy_in(Lane& lane) {
  std::uint64_t off = 0;
  for (std::size_t i = 0; i < lane.d_in.size(); ++i) {
    KILN_CUDA_CHECK(cudaMemcpyAsync(lane.d_in[i].data(), lane.h_in.data() + off, lane.in_bytes[i],
                                    cudaMemcpyHostToDevice, lane.ctx.stream()));
    off += lane.in_bytes[i];
  }
}

void copy_out(Lane& lane) {
  std::uint64_t off = 0;
  for (std::size_t i = 0; i < lane.d_out.size(); ++i) {
    KILN_CUDA_CHECK(cudaMemcpyAsync(lane.h_out.data() + off, lane.d_out[i].data(), lane.out_bytes[i],
                                    cudaMemcpyDeviceToHost, lane.ctx.stream()));
    off += lane.out_bytes[i];
  }
}

void compute(Lane& lane) {
  if (lane.graph)
    lane.graph.replay();
  else
    lane.ctx.run_device(lane.in_ptrs, lane.out_ptrs, lane.shapes);
}

double elapsed_ms(const Event& from, const Event& to) {
  float ms = 0;
  KILN_CUDA_CHECK(cudaEventElapsedTime(&ms, from.get(), to.get()));
  return static_cast<double>(ms);
}

// Waits for a pending slot of `lane` and, if it was measured, stores its times.
void collect(Lane& lane, Slot& slot, bool transfers, Samples& out) {
  if (!slot.pending) return;
  KILN_CUDA_CHECK(cudaEventSynchronize(slot.end.get()));
  slot.pending = false;
  if (!slot.measured) return;
  ++lane.measured;
  out.latency.push_back(elapsed_ms(slot.start, slot.end));
  out.enqueue.push_back(slot.enqueue_ms);
  if (transfers) {
    out.h2d.push_back(elapsed_ms(slot.start, slot.inputs_in));
    out.compute.push_back(elapsed_ms(slot.inputs_in, slot.computed));
    out.d2h.push_back(elapsed_ms(slot.computed, slot.end));
  } else {
    out.compute.push_back(out.latency.back());
  }
}

void enqueue_iteration(Lane& lane, const BenchConfig& c, bool measured, Samples& out) {
  const gpu::DeviceScope on(lane.device);
  Slot& slot = lane.slots[lane.next];
  lane.next = (lane.next + 1) % lane.slots.size();
  collect(lane, slot, c.transfers, out);
  const cudaStream_t stream = lane.ctx.stream();
  const auto t = Clock::now();
  KILN_CUDA_CHECK(cudaEventRecord(slot.start.get(), stream));
  if (c.transfers) {
    copy_in(lane);
    KILN_CUDA_CHECK(cudaEventRecord(slot.inputs_in.get(), stream));
  }
  compute(lane);
  if (c.transfers) {
    KILN_CUDA_CHECK(cudaEventRecord(slot.computed.get(), stream));
    copy_out(lane);
  }
  KILN_CUDA_CHECK(cudaEventRecord(slot.end.get(), stream));
  slot.enqueue_ms = ms_since(t);
  slot.pending = true;
  slot.measured = measured;
}

void drain(std::vector<std::unique_ptr<Lane>>& lanes, bool transfers, Samples& out) {
  for (auto& lane : lanes) {
    for (Slot& slot : lane->slots) collect(*lane, slot, transfers, out);
  }
}

}  // namespace

BenchResult run_gpu_bench(const BenchConfig& c, std::int64_t workspace_mb) {
  check_config(c);
  const gpu::GpuEngineOptions options = gpu::engine_options_from(c.precision, c.algo, workspace_mb, c.plan_cache, c.fp32_layers);
  BenchResult r;
  r.config = c;

  const std::vector<int> devices = c.devices.empty() ? std::vector<int>{options.device} : c.devices;
  auto t = Clock::now();
  for (auto d = devices.rbegin(); d != devices.rend(); ++d) {  // the first device is left current
    KILN_CUDA_CHECK(cudaSetDevice(*d));
    KILN_CUDA_CHECK(cudaFree(nullptr));  // creates the context now, so it is not billed to the engine
  }
  r.load.cuda_init_ms = ms_since(t);
  MemoryWatch mem;
  std::size_t total = 0;
  KILN_CUDA_CHECK(cudaMemGetInfo(&mem.baseline, &total));
  mem.lowest = mem.baseline;

  t = Clock::now();
  GraphBuildOptions graph_options;
  graph_options.max_batch = c.batch;
  std::vector<std::shared_ptr<const gpu::GpuEngine>> engines;
  if (c.devices.empty()) {
    engines.push_back(gpu::GpuEngine::load(c.model, options, graph_options));
  } else {
    engines = gpu::GpuEngine::load_replicas(c.model, devices, options, graph_options);
  }
  const std::shared_ptr<const gpu::GpuEngine>& engine = engines[0];
  const double load_ms = ms_since(t);
  for (const auto& e : engines) {  // several devices: the phases of every engine's load, summed
    const gpu::LoadTimings& lt = e->load_timings();
    r.load.parse_ms += lt.parse_ms;
    r.load.upload_ms += lt.upload_ms;
    r.load.select_ms += lt.select_ms;
    r.device_description += (r.device_description.empty() ? "" : "; ") + e->device_description();
    if (!c.devices.empty()) r.devices.push_back({e->options().device, e->device_description(), 0});
  }
  r.load.other_ms = std::max(0.0, load_ms - r.load.parse_ms - r.load.upload_ms - r.load.select_ms);
  r.config.model_name = engine->graph().spec().name;
  mem.sample();

  const std::vector<HostTensor> inputs = bench_inputs(engine->graph(), c);
  r.flops_per_batch = graph_flops(*run_graph(engine->graph(), inputs), c.batch);
  for (const HostTensor& in : inputs) r.input_shapes += (r.input_shapes.empty() ? "" : ",") + shape_to_string(in.shape);
  t = Clock::now();
  std::vector<std::unique_ptr<Lane>> lanes;
  for (std::size_t e = 0; e < engines.size(); ++e) {
    for (std::int64_t i = 0; i < c.streams; ++i) lanes.push_back(make_lane(engines[e], inputs, e));
  }
  r.load.context_ms = ms_since(t);
  r.load.shape_build_ms = lanes[0]->ctx.last_shape_build_ms();
  mem.sample();

  // The first result: inputs in, one run, outputs back, as an application's first call would.
  t = Clock::now();
  {
    const gpu::DeviceScope on(lanes[0]->device);
    copy_in(*lanes[0]);
    compute(*lanes[0]);
    copy_out(*lanes[0]);
    lanes[0]->ctx.synchronize();
  }
  r.load.first_inference_ms = ms_since(t);
  mem.sample();

  r.plan_cache = {true, engine->plan_cache().directory(), 0, 0, 0, 0, 0, engine->plan_cache().first_problem()};
  std::vector<const PlanCache*> counted;  // the replicas of one load share a cache: count it once
  for (const auto& e : engines) {
    if (std::find(counted.begin(), counted.end(), &e->plan_cache()) != counted.end()) continue;
    counted.push_back(&e->plan_cache());
    const PlanCacheStats cache = e->plan_cache().stats();
    r.plan_cache.hits += cache.hits;
    r.plan_cache.misses += cache.misses;
    r.plan_cache.rejected += cache.rejected;
    r.plan_cache.written += cache.written;
    r.plan_cache.write_failures += cache.write_failures;
  }

  if (c.cuda_graph) {
    t = Clock::now();
    for (auto& lane : lanes) lane->graph = lane->ctx.capture_device(lane->in_ptrs, lane->out_ptrs, lane->shapes);
    r.load.graph_capture_ms = ms_since(t);
    mem.sample();
  }

  Samples ignored;
  std::size_t turn = 0;
  t = Clock::now();
  do {
    enqueue_iteration(*lanes[turn++ % lanes.size()], c, false, ignored);
    ++r.warmup_iterations;
  } while (ms_since(t) < c.warmup_ms);
  drain(lanes, c.transfers, ignored);

  MeasureLoop loop(c);
  std::int64_t submitted = 0;
  loop.start();
  while (loop.more(submitted)) {
    enqueue_iteration(*lanes[turn++ % lanes.size()], c, true, r.samples);
    ++submitted;
  }
  drain(lanes, c.transfers, r.samples);
  r.wall_s = loop.finish();
  mem.sample();

  r.memory.known = true;
  r.memory.weights = engine->weight_bytes();
  r.memory.arena = engine->memory_plan().arena_bytes;
  r.memory.workspace = engine->workspace_bytes();
  r.memory.contexts = c.streams;
  for (const auto& lane : lanes) {
    if (!r.devices.empty()) r.devices[lane->share].iterations += lane->measured;
    if (lane->share != 0) continue;  // the memory figures are the first device's
    for (const DeviceBuffer& b : lane->d_in) r.memory.io_buffers += b.size();
    for (const DeviceBuffer& b : lane->d_out) r.memory.io_buffers += b.size();
  }
  // cudaMemGetInfo sees the driver's view: memory this process freed earlier and got back, or another
  // process freeing memory meanwhile, can hide kiln's own allocations. Kiln's buffers are a floor.
  const std::uint64_t allocated = r.memory.weights + r.memory.io_buffers +
                                  static_cast<std::uint64_t>(c.streams) * (r.memory.arena + r.memory.workspace);
  r.memory.peak = std::max<std::uint64_t>(mem.peak(), allocated);
  return r;
}

}  // namespace kiln::bench
