// Text from files and callers, made safe for one-line messages: quoted with control and non-ASCII bytes
// escaped, long strings and long lists cut, so that a hostile file cannot produce a multi-megabyte or
// terminal-corrupting error message.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace kiln {

// `s` in single quotes; control and non-ASCII bytes as \xNN, quotes and backslashes escaped; at most
// 64 characters shown, then "... (N characters)".
std::string quote(std::string_view s);

// `s` as is when it is short (at most 64 characters) printable ASCII, else quote(s): for text that is
// already validated (numbers as written) and reads better bare.
std::string bare_or_quoted(std::string_view s);

// "a, b, c, ... and 19990 more": at most `max_items` items (each through quote() when `quoted`).
std::string join_bounded(const std::vector<std::string>& items, bool quoted, std::size_t max_items = 10);

}  // namespace kiln
