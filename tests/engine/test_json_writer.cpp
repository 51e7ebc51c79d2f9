// kiln's JSON reports on nlohmann::json: key order kept, always valid JSON (non-finite numbers as null,
// invalid UTF-8 replaced), the streaming writer the bench reports use.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "base/errors.h"
#include "engine/json_writer.h"

namespace kiln {
namespace {

using ::testing::HasSubstr;

TEST(JsonWriter, StreamsNestedContainersInTheOrderWritten) {
  JsonWriter j;
  j.begin_object().value("tool", "kiln bench").value("batch", 4).value("ms", 2.5);
  j.begin_object("load").value("parse_ms", 1.0).end_object();
  j.begin_array("warnings").value("ignored key", "noisy").value("", "slow").end_array();
  j.begin_array("layers");
  for (int i = 0; i < 40; ++i) j.begin_object().value("index", i).end_object();  // growing arrays move nothing open
  j.end_array().value("pass", true).end_object();
  const Json parsed = Json::parse(j.str());
  EXPECT_EQ(parsed["tool"], "kiln bench");
  EXPECT_EQ(parsed["load"]["parse_ms"], 1.0);
  EXPECT_EQ(parsed["warnings"], Json({"noisy", "slow"}));
  EXPECT_EQ(parsed["layers"].size(), 40u);
  EXPECT_EQ(parsed["layers"][39]["index"], 39);
  EXPECT_EQ(parsed["pass"], true);
  std::vector<std::string> keys;
  for (const auto& [k, v] : parsed.items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"tool", "batch", "ms", "load", "warnings", "layers", "pass"}));
  EXPECT_THAT(j.str(), HasSubstr("{\n  \"tool\": \"kiln bench\",\n  \"batch\": 4,"));
  EXPECT_EQ(j.str().back(), '\n');
}

TEST(JsonWriter, NonFiniteNumbersAreNullAndBadUtf8IsReplaced) {
  Json j = {{"nan", std::nan("")},
            {"inf", std::numeric_limits<double>::infinity()},
            {"path", std::string("caf\xc3\xa9/\xff\"q\"\n")}};
  const std::string text = json_text(j);
  EXPECT_THAT(text, HasSubstr("\"nan\": null"));
  EXPECT_THAT(text, HasSubstr("\"inf\": null"));
  const Json back = Json::parse(text);  // throws on invalid JSON or UTF-8
  EXPECT_EQ(back["path"], "caf\xc3\xa9/\xef\xbf\xbd\"q\"\n");
}

TEST(JsonWriter, SaveNamesTheFileItCannotWrite) {
  try {
    save_json("/nonexistent-kiln-folder/report.json", Json::object());
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("/nonexistent-kiln-folder/report.json: cannot write JSON report"));
  }
}

}  // namespace
}  // namespace kiln
