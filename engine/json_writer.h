// kiln's JSON reports (compare, run, inspect, bench, profile) on nlohmann::json.
//
// Documents are nlohmann::ordered_json, so keys stay in the order written (scripts and people read
// them in that order). As written to files: indented by 2, non-finite numbers as null (JSON has no
// NaN; nlohmann writes them so), invalid UTF-8 (a path or name from a file) replaced by U+FFFD, so
// the file is always valid JSON.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace kiln {

using Json = nlohmann::ordered_json;

// The document as kiln writes it (see above), ending in a newline.
std::string json_text(const Json& doc);
// Writes json_text(doc) to `path`; throws kiln::Error naming the path when it cannot be written.
void save_json(const std::string& path, const Json& doc);

// A streaming front end for code that writes a document in order (the bench and profile reports):
// begin_*/end_* open and close containers; `key` is ignored inside an array.
class JsonWriter {
 public:
  JsonWriter& begin_object(const std::string& key = "");
  JsonWriter& end_object();
  JsonWriter& begin_array(const std::string& key = "");
  JsonWriter& end_array();
  JsonWriter& value(const std::string& key, const std::string& v) { return add(key, v); }
  JsonWriter& value(const std::string& key, const char* v) { return add(key, v); }
  JsonWriter& value(const std::string& key, double v) { return add(key, v); }
  JsonWriter& value(const std::string& key, std::int64_t v) { return add(key, v); }
  JsonWriter& value(const std::string& key, std::uint64_t v) { return add(key, v); }
  JsonWriter& value(const std::string& key, int v) { return add(key, v); }
  JsonWriter& value(const std::string& key, bool v) { return add(key, v); }

  const Json& document() const { return doc_; }
  std::string str() const { return json_text(doc_); }
  void save(const std::string& path) const { save_json(path, doc_); }

 private:
  JsonWriter& add(const std::string& key, Json v);
  Json& insert(const std::string& key, Json v);
  Json doc_;
  std::vector<Json*> open_;  // the containers begun and not yet ended, innermost last
};

}  // namespace kiln
