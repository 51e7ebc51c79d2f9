// The GPU-vs-CPU-reference layer table that every op family adds rows to: a Case is a small model
// (inputs, YAML layer lines, random weights, the output checked). layer_test.cpp defines the tests
// (every case loads for max batch 3 and runs at 3, 1 and 2 in fp32, fp16 and, where asked, tf32);
// a family's own file gives its rows to them with
//   INSTANTIATE_TEST_SUITE_P(MyOps, GpuLayerTest, ::testing::ValuesIn(my_cases()), case_label);
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "tests/gpu/gpu_test_util.h"

namespace kiln::gpu::test {

struct Case {
  std::string label;
  std::vector<std::pair<std::string, Shape>> inputs;
  std::vector<std::string> layers;
  std::vector<TestModel::Tensor> weights;
  std::string output;
  bool tf32_too = false;  // convolutions and linear: also check Precision::Tf32
};

inline void PrintTo(const Case& c, std::ostream* os) { *os << c.label; }

// "[1,2,3]", a YAML flow sequence.
std::string dims(const std::vector<std::int64_t>& v);

// A case of one layer named `l` (its output is checked).
Case single(const std::string& label, const std::vector<std::pair<std::string, Shape>>& inputs,
            const std::string& layer, const std::vector<TestModel::Tensor>& weights = {});

// The test name of a case: its label.
std::string case_label(const ::testing::TestParamInfo<Case>& info);

class GpuLayerTest : public ::testing::TestWithParam<Case> {};

}  // namespace kiln::gpu::test
