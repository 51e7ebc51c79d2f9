#include "tests/gpu/gpu_test_util.h"

#include <cuda_runtime_api.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <fstream>
#include <random>
#include <system_error>

#include "engine/cpu_executor.h"
#include "engine/gpu/memory.h"
#include "engine/model_dir.h"
#include "formats/dtype.h"
#include "formats/manifest.h"

namespace kiln::gpu::test {

std::string no_device_reason() {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) return std::string("no CUDA device: ") + cudaGetErrorString(status);
  if (count == 0) return "no CUDA device: cudaGetDeviceCount found 0 devices";
  return {};
}


double normalized_max_error(const HostTensor& actual, const HostTensor& expected) {
  EXPECT_EQ(actual.shape, expected.shape) << actual.name;
  if (actual.data.size() != expected.data.size()) return INFINITY;
  double max_diff = 0.0;
  double scale = 1e-6;
  for (std::size_t i = 0; i < actual.data.size(); ++i) {
    const double d = std::fabs(static_cast<double>(actual.data[i]) - expected.data[i]);
    max_diff = std::isnan(d) ? INFINITY : std::max(max_diff, d);
    scale = std::max(scale, std::fabs(static_cast<double>(expected.data[i])));
  }
  return max_diff / scale;
}

double expect_matches_cpu(const std::string& model_dir, const GpuEngineOptions& options, std::int64_t max_batch,
                          const std::vector<std::int64_t>& batches, double tol) {
  GraphBuildOptions gopts;
  gopts.max_batch = max_batch;
  const LoadedModel cpu_model = load_model(model_dir, gopts);
  const CpuExecutor cpu(cpu_model.graph, cpu_model.weights);
  auto engine = GpuEngine::load(model_dir, options, gopts);
  ExecutionContext ctx(engine);
  double worst = 0.0;
  for (std::int64_t batch : batches) {
    std::vector<HostTensor> in = random_inputs(cpu_model.graph, batch, static_cast<std::uint32_t>(batch) + 7u);
    // In fp16 the engine rounds its inputs to half first; the reference gets the same values, so a
    // discontinuous activation (softplus's threshold) is compared on the same side of its jump.
    if (options.precision == Precision::Fp16)
      for (HostTensor& t : in)
        for (float& v : t.data) v = half_to_float(float_to_half(v));
    const RunResult want = cpu.run(in, batch);
    const RunResult got = ctx.run(in, batch);
    EXPECT_EQ(got.outputs.size(), want.outputs.size());
    for (std::size_t i = 0; i < std::min(got.outputs.size(), want.outputs.size()); ++i) {
      const double err = normalized_max_error(got.outputs[i], want.outputs[i]);
      worst = std::max(worst, err);
      EXPECT_LE(err, tol) << "output " << want.outputs[i].name << " at batch " << batch << " (max batch "
                          << max_batch << ")";
    }
  }
  std::string impl;
  for (const LayerReport& r : engine->layer_reports()) impl += " " + r.name + "=[" + r.implementation + "]";
  std::printf("    worst normalized error %.3g (tol %.1g)%s\n", worst, tol, impl.c_str());
  return worst;
}

void expect_run_device_matches_run(ExecutionContext& ctx, const std::vector<HostTensor>& inputs,
                                   const RunResult& host, std::int64_t batch) {
  ASSERT_EQ(inputs.size(), 1u);
  const std::uint64_t in_bytes = inputs[0].data.size() * sizeof(float);
  DeviceBuffer d_in(in_bytes, "test input");
  ASSERT_EQ(cudaMemcpy(d_in.data(), inputs[0].data.data(), in_bytes, cudaMemcpyHostToDevice), cudaSuccess);
  std::vector<DeviceBuffer> outs;
  std::vector<float*> out_ptrs;
  for (const HostTensor& o : host.outputs) {
    outs.emplace_back(o.data.size() * sizeof(float), "test output");
    out_ptrs.push_back(outs.back().as<float>());
  }
  ctx.run_device({d_in.as<const float>()}, out_ptrs, batch);
  ctx.synchronize();
  for (std::size_t i = 0; i < outs.size(); ++i) {
    std::vector<float> back(host.outputs[i].data.size());
    ASSERT_EQ(cudaMemcpy(back.data(), out_ptrs[i], back.size() * sizeof(float), cudaMemcpyDeviceToHost), cudaSuccess);
    EXPECT_EQ(back, host.outputs[i].data) << host.outputs[i].name;
  }
}

}  // namespace kiln::gpu::test
