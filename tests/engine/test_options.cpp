#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/cli/options.h"
#include "base/errors.h"

namespace kiln {
namespace {

using ::testing::HasSubstr;

struct Argv {
  explicit Argv(std::vector<std::string> a) : args(std::move(a)) {
    for (auto& s : args) ptrs.push_back(s.data());
  }
  int argc() const { return static_cast<int>(ptrs.size()); }
  char** argv() { return ptrs.data(); }
  std::vector<std::string> args;
  std::vector<char*> ptrs;
};

struct Parsed {
  std::string model, device = "auto";
  std::int64_t batch = 0;
  double atol = 1e-5;
  bool layers = false;
};

OptionParser make_parser(Parsed& p) {
  OptionParser op("kiln test --model DIR", "A test command.");
  op.add_string("model", "DIR", "model folder", &p.model, true);
  op.add_choice("device", {"auto", "cpu", "gpu"}, "device", &p.device);
  op.add_int("batch", "N", "batch", &p.batch);
  op.add_double("atol", "X", "tolerance", &p.atol);
  op.add_flag("layers", "every layer", &p.layers);
  return op;
}

TEST(Options, ParsesBothSpellings) {
  Parsed p;
  OptionParser op = make_parser(p);
  Argv a({"kiln", "test", "--model", "m", "--device=cpu", "--batch", "7", "--atol=0.5", "--layers"});
  ASSERT_TRUE(op.parse(a.argc(), a.argv(), 2));
  EXPECT_EQ(p.model, "m");
  EXPECT_EQ(p.device, "cpu");
  EXPECT_EQ(p.batch, 7);
  EXPECT_DOUBLE_EQ(p.atol, 0.5);
  EXPECT_TRUE(p.layers);
}

TEST(Options, ErrorsNameTheOption) {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"kiln", "test"}, "missing --model DIR"},
      {{"kiln", "test", "--model", "m", "--bogus"}, "unknown option --bogus"},
      {{"kiln", "test", "--model", "m", "--device", "tpu"}, "--device: expected one of auto|cpu|gpu, got 'tpu'"},
      {{"kiln", "test", "--model", "m", "--batch", "7x"}, "--batch: expected an integer, got '7x'"},
      {{"kiln", "test", "--model", "m", "--atol", ""}, "--atol: expected a number"},
      {{"kiln", "test", "--model"}, "--model needs a value"},
      {{"kiln", "test", "--model", "m", "--layers=yes"}, "--layers takes no value"},
      {{"kiln", "test", "--model", "m", "stray"}, "unexpected argument 'stray'"},
  };
  for (const Case& c : cases) {
    Parsed p;
    OptionParser op = make_parser(p);
    Argv a(c.args);
    try {
      op.parse(a.argc(), a.argv(), 2);
      ADD_FAILURE() << "no error for " << ::testing::PrintToString(c.args);
    } catch (const UsageError& e) {
      EXPECT_THAT(e.what(), HasSubstr(c.message));
    }
  }
}

TEST(Options, HelpListsEveryOptionWithDefaults) {
  Parsed p;
  const std::string help = make_parser(p).help();
  EXPECT_THAT(help, HasSubstr("usage: kiln test --model DIR"));
  EXPECT_THAT(help, HasSubstr("--device auto|cpu|gpu"));
  EXPECT_THAT(help, HasSubstr("(default: auto)"));
  EXPECT_THAT(help, HasSubstr("(required)"));
  EXPECT_THAT(help, HasSubstr("--layers"));
}

}  // namespace
}  // namespace kiln
