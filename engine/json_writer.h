// A minimal streaming JSON writer for kiln's reports (compare, run, bench, profile). Produces
// indented, valid JSON: strings escaped, non-finite numbers written as null (JSON has no NaN).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kiln {

class JsonWriter {
 public:
  JsonWriter& begin_object(const std::string& key = "");
  JsonWriter& end_object();
  JsonWriter& begin_array(const std::string& key = "");
  JsonWriter& end_array();
  JsonWriter& value(const std::string& key, const std::string& v);
  JsonWriter& value(const std::string& key, const char* v) { return value(key, std::string(v)); }
  JsonWriter& value(const std::string& key, double v);
  JsonWriter& value(const std::string& key, std::int64_t v);
  JsonWriter& value(const std::string& key, std::uint64_t v);
  JsonWriter& value(const std::string& key, int v) { return value(key, static_cast<std::int64_t>(v)); }
  JsonWriter& value(const std::string& key, bool v);

  // The document so far; complete once every begin_* has its end_*.
  const std::string& str() const { return out_; }
  // Writes str() to `path`; throws kiln::Error when the file cannot be written.
  void save(const std::string& path) const;

  static std::string escape(const std::string& s);

 private:
  void key_prefix(const std::string& key);
  std::string out_;
  std::vector<bool> first_;  // per open container: nothing written in it yet
};

}  // namespace kiln
