#include "engine/cli/options.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "base/errors.h"

namespace kiln {

namespace {

std::string first_word(const std::string& usage) {
  const auto second_space = usage.find(' ', usage.find(' ') + 1);
  return usage.substr(0, second_space);
}

}  // namespace

OptionParser::OptionParser(std::string usage, std::string summary)
    : usage_(std::move(usage)), summary_(std::move(summary)) {}

OptionParser::Option& OptionParser::add(const std::string& name, const std::string& metavar, const std::string& help) {
  Option o;
  o.name = name;
  o.metavar = metavar;
  o.help = help;
  options_.push_back(std::move(o));
  return options_.back();
}

void OptionParser::add_flag(const std::string& name, const std::string& help, bool* target) {
  Option& o = add(name, "", help);
  o.is_flag = true;
  o.set = [target](const std::string&) { *target = true; };
}

void OptionParser::add_string(const std::string& name, const std::string& metavar, const std::string& help,
                              std::string* target, bool required) {
  Option& o = add(name, metavar, help);
  o.required = required;
  if (!target->empty()) o.default_text = *target;
  o.set = [target](const std::string& v) { *target = v; };
}

void OptionParser::add_int(const std::string& name, const std::string& metavar, const std::string& help,
                           std::int64_t* target) {
  Option& o = add(name, metavar, help);
  o.default_text = std::to_string(*target);
  o.set = [target, name](const std::string& v) {
    errno = 0;
    char* end = nullptr;
    const long long x = std::strtoll(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0' || errno == ERANGE) {
      throw UsageError("--" + name + ": expected an integer, got '" + v + "'");
    }
    *target = x;
  };
}

void OptionParser::add_double(const std::string& name, const std::string& metavar, const std::string& help,
                              double* target) {
  Option& o = add(name, metavar, help);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%g", *target);
  o.default_text = buf;
  o.set = [target, name](const std::string& v) {
    errno = 0;
    char* end = nullptr;
    const double x = std::strtod(v.c_str(), &end);
    if (v.empty() || *end != '\0' || errno == ERANGE) {
      throw UsageError("--" + name + ": expected a number, got '" + v + "'");
    }
    *target = x;
  };
}

void OptionParser::add_choice(const std::string& name, const std::vector<std::string>& choices,
                              const std::string& help, std::string* target) {
  std::string metavar;
  for (const auto& c : choices) metavar += (metavar.empty() ? "" : "|") + c;
  Option& o = add(name, metavar, help);
  o.default_text = *target;
  o.set = [target, name, choices, metavar](const std::string& v) {
    for (const auto& c : choices) {
      if (c == v) {
        *target = v;
        return;
      }
    }
    throw UsageError("--" + name + ": expected one of " + metavar + ", got '" + v + "'");
  };
}

bool OptionParser::parse(int argc, char** argv, int first) {
  for (int i = first; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(help().c_str(), stdout);
      return false;
    }
    if (arg.rfind("--", 0) != 0) {
      throw UsageError("unexpected argument '" + arg + "' (see `" + first_word(usage_) + " --help`)");
    }
    std::string name = arg.substr(2), value;
    bool has_value = false;
    if (const auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    Option* opt = nullptr;
    for (Option& o : options_) {
      if (o.name == name) opt = &o;
    }
    if (!opt) throw UsageError("unknown option --" + name + " (see `" + first_word(usage_) + " --help`)");
    if (opt->is_flag) {
      if (has_value) throw UsageError("--" + name + " takes no value");
    } else if (!has_value) {
      if (i + 1 >= argc) throw UsageError("--" + name + " needs a value (" + opt->metavar + ")");
      value = argv[++i];
    }
    opt->set(value);
    opt->seen = true;
  }
  for (const Option& o : options_) {
    if (o.required && !o.seen) {
      throw UsageError("missing --" + o.name + " " + o.metavar + " (see `" + first_word(usage_) + " --help`)");
    }
  }
  return true;
}

std::string OptionParser::help() const {
  std::ostringstream out;
  out << "usage: " << usage_ << "\n\n" << summary_ << "\n\noptions:\n";
  for (const Option& o : options_) {
    std::string left = "  --" + o.name + (o.metavar.empty() ? "" : " " + o.metavar);
    if (left.size() < 30) left.resize(30, ' ');
    else left += "\n" + std::string(30, ' ');
    out << left << o.help;
    if (o.required) out << " (required)";
    else if (!o.default_text.empty()) out << " (default: " << o.default_text << ")";
    out << "\n";
  }
  out << "  --help                      this text\n";
  return out.str();
}

}  // namespace kiln
