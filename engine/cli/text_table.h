// Rows of text cells printed in aligned columns, each as wide as its widest cell, for `kiln inspect`.
#pragma once

#include <string>
#include <vector>

namespace kiln::cli {

class TextTable {
 public:
  explicit TextTable(std::vector<std::string> header) : rows_{std::move(header)} {}
  // A row with fewer cells than the header leaves the rest empty.
  void add_row(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
  // The header and every row, columns two spaces apart; no trailing spaces.
  std::string str() const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace kiln::cli
