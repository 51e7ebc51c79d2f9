#include "engine/cli/options.h"

#include <charconv>
#include <cstdio>
#include <memory>

#include "base/errors.h"
#include "base/text.h"

namespace kiln::cli {

namespace {

// CLI11 gives a flag a type size of 1 but expects no value for it.
bool is_flag(const CLI::Option* o) { return o->get_expected_max() == 0; }

// kiln's help layout: usage line first, "options:" with metavars and defaults, the details last.
class KilnFormatter : public CLI::Formatter {
 public:
  std::string make_help(const CLI::App* app, std::string name, CLI::AppFormatMode mode) const override {
    if (mode == CLI::AppFormatMode::Sub) return CLI::Formatter::make_help(app, name, mode);
    std::string out = make_usage(app, name) + "\n" + app->get_description() + "\n";
    out += make_groups(app, mode) + make_subcommands(app, mode);
    if (!app->get_footer().empty()) out += "\n" + app->get_footer() + "\n";
    return out;
  }
  std::string make_usage(const CLI::App* app, std::string name) const override {
    std::string out = "usage: " + name;
    if (!app->get_subcommands({}).empty()) out += " <command>";
    for (const CLI::Option* o : app->get_options()) {
      if (o->get_required()) out += " " + o->get_name() + " " + o->get_type_name();
    }
    return out + " [options]\n";
  }
  std::string make_group(std::string, bool positional, std::vector<const CLI::Option*> opts) const override {
    std::string out = "\noptions:\n";
    for (const CLI::Option* o : opts) out += make_option(o, positional);
    return out;
  }
  std::string make_subcommands(const CLI::App* app, CLI::AppFormatMode) const override {
    const auto commands = app->get_subcommands({});
    if (commands.empty()) return "";
    std::string out = "\ncommands:\n";
    for (const CLI::App* c : commands) out += make_subcommand(c);
    return out;
  }
  std::string make_option_opts(const CLI::Option* o) const override {
    return is_flag(o) ? "" : " " + o->get_type_name();
  }
  std::string make_option_desc(const CLI::Option* o) const override {
    if (o->get_required()) return o->get_description() + " (required)";
    if (is_flag(o)) return o->get_description();
    const std::string& d = o->get_default_str();
    return o->get_description() + " (default: " + (d.empty() ? "none" : d) + ")";
  }
};

// Checks the whole text, where CLI11 2.1.2 saturates out-of-range integers and reads "" as 0.
template <typename T>
CLI::Validator parses_as(const std::string& expected) {
  return CLI::Validator(
      [expected](std::string& v) -> std::string {
        T x{};
        const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
        if (v.empty() || ec != std::errc() || end != v.data() + v.size())
          return "expected " + expected + ", got " + quote(v);
        return "";
      },
      "");  // no description: it would be appended to the metavar in the help
}

std::string joined(const std::vector<std::string>& v, const char* separator) {
  std::string s;
  for (const std::string& x : v) s += (s.empty() ? "" : separator) + x;
  return s;
}

// The option whose name CLI11's message starts with ("--model: 1 required DIR missing", "layers was
// given a disallowed flag override"); nullptr when none does.
const CLI::Option* option_in_message(const CLI::App& cmd, const std::string& message) {
  for (const CLI::Option* o : cmd.get_options()) {
    for (const std::string& n : o->get_lnames()) {
      if (message.rfind("--" + n + ":", 0) == 0 || message.rfind(n + " ", 0) == 0) return o;
    }
  }
  return nullptr;
}

const CLI::App& command_of(const CLI::App& tool) {
  const auto chosen = tool.get_subcommands();
  return chosen.empty() ? tool : *chosen.front();
}

// kiln's one-line message for a CLI11 parse error.
std::string message_for(const CLI::App& tool, const CLI::ParseError& e) {
  const CLI::App& cmd = command_of(tool);
  const std::string see = " (see `" + command_name(tool) + " --help`)";
  // Unknown arguments first: CLI11 reports the required option a misspelt one leaves missing before it.
  const std::vector<std::string> extra = cmd.remaining();
  if (!extra.empty()) {
    const std::string& a = extra.front();
    if (a.size() > 1 && a[0] == '-') return "unknown option " + bare_or_quoted(a.substr(0, a.find('='))) + see;
    return (&cmd == &tool ? "unknown command " : "unexpected argument ") + quote(a) + see;
  }
  if (dynamic_cast<const CLI::RequiredError*>(&e)) {
    for (const CLI::Option* o : cmd.get_options()) {
      if (o->get_required() && o->count() == 0) return "missing " + o->get_name() + " " + o->get_type_name() + see;
    }
    if (&cmd == &tool) return "missing command" + see;
  }
  if (dynamic_cast<const CLI::ArgumentMismatch*>(&e)) {
    if (const CLI::Option* o = option_in_message(cmd, e.what())) {
      return is_flag(o) ? o->get_name() + " takes no value"
                        : o->get_name() + " needs a value (" + o->get_type_name() + ")";
    }
  }
  return e.what();
}

}  // namespace

void configure_tool(CLI::App& tool) {
  tool.formatter(std::make_shared<KilnFormatter>());
  tool.set_help_flag("-h,--help", "this text");
  tool.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
}

CLI::App* add_command(CLI::App& tool, const std::string& name, const std::string& brief, const std::string& details) {
  CLI::App* cmd = tool.add_subcommand(name, brief);
  cmd->footer(details);  // CLI11 would copy the tool's footer (the exit codes) into the command's help
  return cmd;
}

CLI::Option* add_flag(CLI::App& cmd, const std::string& name, bool& target, const std::string& help) {
  return cmd.add_flag(name, target, help)->disable_flag_override();
}

CLI::Option* add_string(CLI::App& cmd, const std::string& name, const std::string& metavar, std::string& target,
                        const std::string& help) {
  return cmd.add_option(name, target, help)->type_name(metavar)->capture_default_str();
}

CLI::Option* add_int(CLI::App& cmd, const std::string& name, const std::string& metavar, std::int64_t& target,
                     const std::string& help) {
  return cmd.add_option(name, target, help)
      ->type_name(metavar)
      ->check(parses_as<std::int64_t>("an integer"))
      ->capture_default_str();
}

CLI::Option* add_double(CLI::App& cmd, const std::string& name, const std::string& metavar, double& target,
                        const std::string& help) {
  return cmd.add_option(name, target, help)
      ->type_name(metavar)
      ->check(parses_as<double>("a number"))
      ->capture_default_str();
}

CLI::Option* add_choice(CLI::App& cmd, const std::string& name, const std::vector<std::string>& choices,
                        std::string& target, const std::string& help) {
  const std::string metavar = joined(choices, "|");
  const CLI::Validator one_of(
      [choices, metavar](std::string& v) -> std::string {
        for (const std::string& c : choices) {
          if (c == v) return "";
        }
        return "expected one of " + metavar + ", got " + quote(v);
      },
      "");
  return cmd.add_option(name, target, help)->type_name(metavar)->check(one_of)->capture_default_str();
}

CLI::App* parse(CLI::App& tool, int argc, char** argv) {
  try {
    tool.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::fputs(tool.help().c_str(), stdout);  // CLI11 hands this to the command given, if any
    return nullptr;
  } catch (const CLI::CallForVersion& e) {
    std::printf("%s\n", e.what());
    return nullptr;
  } catch (const CLI::ParseError& e) {
    throw UsageError(message_for(tool, e));
  }
  const auto chosen = tool.get_subcommands();
  if (chosen.empty()) throw UsageError("missing command (see `" + tool.get_name() + " --help`)");
  return chosen.front();
}

std::string command_name(const CLI::App& tool) {
  const CLI::App& cmd = command_of(tool);
  return &cmd == &tool ? tool.get_name() : tool.get_name() + " " + cmd.get_name();
}

}  // namespace kiln::cli
