#include "formats/rules.h"

namespace kiln::rules {

namespace {

bool is_printable(char c) { return c >= 0x20 && c <= 0x7e; }

std::string describe_char(char c) {
  if (is_printable(c)) return std::string("'") + c + "'";
  static const char* hex = "0123456789abcdef";
  const auto u = static_cast<unsigned char>(c);
  return std::string("byte 0x") + hex[u >> 4] + hex[u & 15];
}
}  // namespace

bool is_name_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
         c == ':' || c == '/' || c == '-';
}

std::string check_name(std::string_view name) {
  if (name.empty()) return "is empty";
  if (name.size() > kMaxNameChars)
    return "is " + std::to_string(name.size()) + " characters long, expected at most " + std::to_string(kMaxNameChars);
  for (char c : name)
    if (!is_name_char(c)) return "contains " + describe_char(c) + ", expected only A-Z a-z 0-9 _ . : / -";
  return {};
}

std::string check_file_name(std::string_view name) {
  if (name.empty()) return "is empty";
  if (name.size() > kMaxFileNameChars)
    return "is " + std::to_string(name.size()) + " characters long, expected at most " +
           std::to_string(kMaxFileNameChars);
  for (char c : name) {
    if (c == '/' || c == '\\')
      return "contains " + describe_char(c) + ": expected a file name in the same folder, not a path";
    if (!is_printable(c)) return "contains " + describe_char(c) + ", expected printable ASCII";
  }
  if (name == ".") return "is '.', expected a file name";
  if (name.find("..") != std::string_view::npos) return "contains '..', expected a file name in the same folder";
  return {};
}

std::string where(const std::string& path, int line) {
  if (line <= 0) return path + ": ";
  return path + ":" + std::to_string(line) + ": ";
}

}  // namespace kiln::rules
