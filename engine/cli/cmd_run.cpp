#include <cstdio>

#include "engine/cli/commands.h"
#include "engine/cli/options.h"
#include "engine/cli/runner.h"
#include "engine/errors.h"
#include "engine/model_dir.h"

namespace kiln {

int cmd_run(int argc, char** argv) {
  RunnerOptions ro;
  std::string input, output;
  OptionParser p("kiln run --model DIR --input FILE --output FILE [options]",
                 "Runs the model on the tensors of FILE (a .manifest + .bin pair, such as the exporter's\n"
                 "golden/inputs.manifest; tensor names must match the model's inputs) and writes the outputs as\n"
                 "another pair (FILE.manifest + FILE.bin). The input's first dimension is the batch.");
  p.add_string("model", "DIR", "model folder (or its model.yaml)", &ro.model, true);
  p.add_string("input", "FILE", "input tensors (.manifest); default: DIR/golden/inputs.manifest", &input);
  p.add_string("output", "FILE", "where to write the outputs (.manifest)", &output, true);
  p.add_choice("device", {"auto", "cpu", "gpu"}, "where to run; auto = the GPU when one is present", &ro.device);
  p.add_int("max-batch", "N", "largest batch to plan for (0 = the model's)", &ro.max_batch);
  if (!p.parse(argc, argv, 2)) return 0;
  if (input.empty()) input = model_folder(resolve_model_yaml(ro.model)) + "/golden/inputs.manifest";

  std::vector<HostTensor> inputs = read_host_tensors(input);
  if (inputs.empty()) throw UsageError(input + ": holds no tensors");
  const std::int64_t batch = inputs.front().shape.empty() ? 1 : inputs.front().shape[0];
  if (ro.max_batch == 0) ro.max_batch = batch;
  auto runner = make_runner(ro);
  std::fprintf(stderr, "device: %s\n", runner->device_description().c_str());
  inputs = match_inputs(runner->graph(), std::move(inputs), input);
  const RunResult result = runner->run(inputs, batch, RunOptions{});
  write_host_tensors(output, result.outputs);
  for (const HostTensor& t : result.outputs) {
    std::printf("%s %s -> %s\n", t.name.c_str(), shape_to_string(t.shape).c_str(), output.c_str());
  }
  return 0;
}

}  // namespace kiln
