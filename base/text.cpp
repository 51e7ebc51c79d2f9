#include "base/text.h"

namespace kiln {

namespace {
constexpr std::size_t kMaxQuotedChars = 64;
bool is_printable(char c) { return c >= 0x20 && c <= 0x7e; }
}  // namespace

std::string quote(std::string_view s) {
  std::string out = "'";
  const std::size_t n = s.size() < kMaxQuotedChars ? s.size() : kMaxQuotedChars;
  static const char* hex = "0123456789abcdef";
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (is_printable(s[i]) && c != '\\' && c != '\'') {
      out += s[i];
    } else if (c == '\\' || c == '\'') {
      out += '\\';
      out += s[i];
    } else {  // control characters and non-ASCII bytes never reach the user's terminal raw
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  out += "'";
  if (s.size() > n) out += "... (" + std::to_string(s.size()) + " characters)";
  return out;
}

std::string bare_or_quoted(std::string_view s) {
  if (s.size() > kMaxQuotedChars) return quote(s);
  for (char c : s)
    if (c < 0x20 || c > 0x7e) return quote(s);
  return std::string(s);
}

std::string join_bounded(const std::vector<std::string>& items, bool quoted, std::size_t max_items) {
  std::string out;
  const std::size_t shown = items.size() <= max_items ? items.size() : max_items;
  for (std::size_t i = 0; i < shown; ++i) out += (i ? ", " : "") + (quoted ? quote(items[i]) : items[i]);
  if (items.size() > shown) out += ", ... and " + std::to_string(items.size() - shown) + " more";
  return out;
}

}  // namespace kiln
