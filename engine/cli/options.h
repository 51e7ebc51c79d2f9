// The kiln tool's command line, on CLI11: one CLI::App for `kiln` with a subcommand per command, kiln's
// help layout and kiln's one-line messages.
//
// What kiln changes in CLI11 2.1.2, and why:
//  - help: "usage: kiln run --model DIR --output FILE [options]" first, then each option with its
//    metavar and "(default: X)" or "(required)" (CLI11 alone prints "TEXT:{a,b}=x REQUIRED");
//  - values: an integer out of range (CLI11 saturates it to INT64_MAX) and an empty number (CLI11 reads
//    "" as 0) are errors; every bad value reads "--batch: expected an integer, got '7x'";
//  - errors are thrown as kiln::UsageError, one line naming the option or argument, never exit():
//    CLI11's own wording ("The following argument was not expected: --bogus", "--model is required",
//    which CLI11 reports before the misspelt option that caused it) is rewritten by parse();
//  - a repeated option: the last one wins (CLI11's default is an error), as with argparse.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

namespace kiln::cli {

// Sets kiln's help layout, -h/--help ("this text") and last-one-wins on `tool` (the `kiln` app).
// Call before add_command: CLI11 copies these settings into each subcommand when it is added.
void configure_tool(CLI::App& tool);

// Adds a command to the tool. `brief` is its line in `kiln --help` and heads `kiln NAME --help`;
// `details` (may be empty) follows its options there.
CLI::App* add_command(CLI::App& tool, const std::string& name, const std::string& brief, const std::string& details);

// Options with kiln's value checks. `name` is spelt with its dashes ("--batch"); each option shows
// `metavar` and the target's current value as its default ("none" for an empty string; ->default_str()
// says what an empty one means). The returned option takes CLI11's modifiers (->required(), ->check()).
CLI::Option* add_flag(CLI::App& cmd, const std::string& name, bool& target, const std::string& help);
CLI::Option* add_string(CLI::App& cmd, const std::string& name, const std::string& metavar, std::string& target,
                        const std::string& help);
CLI::Option* add_int(CLI::App& cmd, const std::string& name, const std::string& metavar, std::int64_t& target,
                     const std::string& help);
CLI::Option* add_double(CLI::App& cmd, const std::string& name, const std::string& metavar, double& target,
                        const std::string& help);
// A string restricted to `choices`, shown as "a|b|c".
CLI::Option* add_choice(CLI::App& cmd, const std::string& name, const std::vector<std::string>& choices,
                        std::string& target, const std::string& help);

// Parses argv[1..argc). Returns the command given, or nullptr when --help or --version was given (its
// text is then printed on stdout). Throws UsageError, one line naming the option or argument (without
// the command: command_name() says which it was).
CLI::App* parse(CLI::App& tool, int argc, char** argv);

// "kiln run" once `run` was seen on the command line, else "kiln": the prefix of error messages.
std::string command_name(const CLI::App& tool);

}  // namespace kiln::cli
