// A small command-line option parser for the kiln tool: `--name value`, `--name=value` and flags,
// generated --help, and UsageError (never exit) on unknown or malformed options.
//
// kiln parses its own options because the GPU hosts it must build on carry no CLI library.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace kiln {

class OptionParser {
 public:
  // `usage` is the synopsis line ("kiln run --model DIR [options]"); `summary` one paragraph.
  OptionParser(std::string usage, std::string summary);

  void add_flag(const std::string& name, const std::string& help, bool* target);
  void add_string(const std::string& name, const std::string& metavar, const std::string& help, std::string* target,
                  bool required = false);
  void add_int(const std::string& name, const std::string& metavar, const std::string& help, std::int64_t* target);
  void add_double(const std::string& name, const std::string& metavar, const std::string& help, double* target);
  // A string restricted to `choices`.
  void add_choice(const std::string& name, const std::vector<std::string>& choices, const std::string& help,
                  std::string* target);

  // Parses argv[first..argc). Returns false when --help was given (help already printed to stdout).
  // Throws UsageError naming the option on anything malformed or missing.
  bool parse(int argc, char** argv, int first);

  std::string help() const;

 private:
  struct Option {
    std::string name, metavar, help;
    bool is_flag = false;
    bool required = false;
    bool seen = false;
    std::string default_text;
    std::function<void(const std::string&)> set;
  };
  Option& add(const std::string& name, const std::string& metavar, const std::string& help);
  std::string usage_, summary_;
  std::vector<Option> options_;
};

}  // namespace kiln
