#include "engine/json_writer.h"

#include <fstream>

#include "base/errors.h"

namespace kiln {

std::string json_text(const Json& doc) { return doc.dump(2, ' ', false, Json::error_handler_t::replace) + "\n"; }

void save_json(const std::string& path, const Json& doc) {
  std::ofstream f(path, std::ios::binary);
  f << json_text(doc);
  f.flush();
  if (!f) throw Error(path + ": cannot write JSON report");
}

// Pointers to the open containers stay valid: only the innermost one grows, and growing moves its
// children, never the container itself or the ones holding it.
Json& JsonWriter::insert(const std::string& key, Json v) {
  if (open_.empty()) return doc_ = std::move(v);
  Json& parent = *open_.back();
  if (parent.is_array()) {
    parent.push_back(std::move(v));
    return parent.back();
  }
  return parent[key] = std::move(v);
}

JsonWriter& JsonWriter::add(const std::string& key, Json v) {
  insert(key, std::move(v));
  return *this;
}

JsonWriter& JsonWriter::begin_object(const std::string& key) {
  open_.push_back(&insert(key, Json::object()));
  return *this;
}

JsonWriter& JsonWriter::end_object() {
  open_.pop_back();
  return *this;
}

JsonWriter& JsonWriter::begin_array(const std::string& key) {
  open_.push_back(&insert(key, Json::array()));
  return *this;
}

JsonWriter& JsonWriter::end_array() {
  open_.pop_back();
  return *this;
}

}  // namespace kiln
