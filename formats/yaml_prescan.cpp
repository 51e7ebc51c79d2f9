#include "formats/yaml_prescan.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include <cstdint>
#include <sstream>

#include "base/errors.h"
#include "base/text.h"
#include "formats/rules.h"

namespace kiln::yaml {

namespace {

[[noreturn]] void fail_at(const std::string& path, int line, int column, const std::string& what) {
  throw FormatError(path + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + what);
}

std::string hex_byte(unsigned char c) {
  static const char* digits = "0123456789abcdef";
  return std::string("0x") + digits[c >> 4] + digits[c & 15];
}

// Length of the UTF-8 sequence starting at s[i] (1-4), or 0 when it is malformed: a stray
// continuation byte, a truncated sequence, an overlong form, a surrogate or a value above U+10FFFF.
std::size_t utf8_length(const std::string& s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  if (c < 0x80) return 1;
  std::size_t n = 0;
  std::uint32_t cp = 0;
  if ((c & 0xe0) == 0xc0) {
    n = 2, cp = c & 0x1f;
  } else if ((c & 0xf0) == 0xe0) {
    n = 3, cp = c & 0x0f;
  } else if ((c & 0xf8) == 0xf0) {
    n = 4, cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (b(i + k) & 0x3f);
  }
  const std::uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

void check_bytes(const std::string& text, const std::string& path) {
  int line = 1, column = 1;
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      ++line, column = 1, ++i;
      continue;
    }
    if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f) {
      fail_at(path, line, column,
              "byte " + hex_byte(c) + (c == 0 ? " (NUL)" : " (a control character)") +
                  " is not allowed in a model file (it is UTF-8 text)");
    }
    const std::size_t n = utf8_length(text, i);
    if (n == 0) fail_at(path, line, column, "byte " + hex_byte(c) + " is not valid UTF-8 (the model file is UTF-8 text)");
    i += n;
    ++column;
  }
}

// Counts and bounds what the event parser reports; builds nothing.
class Limits final : public YAML::EventHandler {
 public:
  Limits(const std::string& path, const PrescanLimits& limits) : path_(path), limits_(limits) {}

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& m, YAML::anchor_t anchor) override { node(m, anchor); }
  void OnAlias(const YAML::Mark& m, YAML::anchor_t) override {
    fail(m, "YAML aliases (*name) are not allowed in a model file (kiln_export never writes them; write the value "
            "out in full)");
  }
  void OnScalar(const YAML::Mark& m, const std::string&, YAML::anchor_t anchor, const std::string& value) override {
    node(m, anchor);
    if (value.size() > limits_.scalar_bytes) {
      fail(m, "a value of " + std::to_string(value.size()) + " characters, expected at most " +
                  std::to_string(limits_.scalar_bytes) + " (" + quote(value) + ")");
    }
  }
  void OnSequenceStart(const YAML::Mark& m, const std::string&, YAML::anchor_t anchor, YAML::EmitterStyle::value) override {
    open(m, anchor);
  }
  void OnSequenceEnd() override { --depth_; }
  void OnMapStart(const YAML::Mark& m, const std::string&, YAML::anchor_t anchor, YAML::EmitterStyle::value) override {
    open(m, anchor);
  }
  void OnMapEnd() override { --depth_; }

 private:
  [[noreturn]] void fail(const YAML::Mark& m, const std::string& what) const {
    fail_at(path_, m.line + 1, m.column + 1, what);
  }
  void node(const YAML::Mark& m, YAML::anchor_t anchor) {
    if (anchor != YAML::NullAnchor) {
      fail(m, "YAML anchors (&name) are not allowed in a model file (kiln_export never writes them; write every "
              "value out in full)");
    }
    if (++nodes_ > limits_.nodes) {
      fail(m, "more than " + std::to_string(limits_.nodes) + " YAML nodes (values, lists and maps)");
    }
  }
  void open(const YAML::Mark& m, YAML::anchor_t anchor) {
    node(m, anchor);
    if (++depth_ > limits_.depth) {
      fail(m, "lists and maps nested more than " + std::to_string(limits_.depth) + " deep");
    }
  }

  const std::string& path_;
  PrescanLimits limits_;
  std::uint64_t nodes_ = 0;
  std::size_t depth_ = 0;
};

}  // namespace

void prescan(const std::string& text, const std::string& path, const PrescanLimits& bounds) {
  check_bytes(text, path);
  std::istringstream in(text);
  YAML::Parser parser(in);
  Limits limits(path, bounds);
  parser.HandleNextDocument(limits);  // syntax errors throw YAML::ParserException: the caller words them
}

std::string explain_syntax_error(const std::string& m) {
  struct Known {
    const char* yaml_cpp;
    const char* kiln;
  };
  static const Known known[] = {
      {"end of map not found", "a map is not closed (a missing '}' or a line indented differently from its neighbours)"},
      {"end of map flow not found", "a map in braces is not closed (a missing '}')"},
      {"end of sequence not found", "a list is not closed (a missing ']' or a line indented differently)"},
      {"end of sequence flow not found", "a list in brackets is not closed (a missing ']')"},
      {"illegal map value", "a ':' where no map value can start (check the indentation and the spaces after ':')"},
      {"block sequence entries are not allowed in this context",
       "a '- ' list entry where a value was expected (check the indentation)"},
      {"invalid node; first invalid key", "a key that is not a plain value"},
      {"end of string not found", "a quoted string is not closed"},
      {"unknown escape character", "an unknown escape (\\x) in a double-quoted string"},
      {"bad file", "the YAML structure is nested too deeply or malformed"},
  };
  for (const Known& k : known) {
    if (m.rfind(k.yaml_cpp, 0) == 0) return k.kiln + std::string(" [yaml-cpp: ") + quote(m) + "]";
  }
  return quote(m);
}

}  // namespace kiln::yaml
