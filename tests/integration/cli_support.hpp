#pragma once
// The chaperon binary under test against the demo target, and readers of what it writes: shared
// by the command-line tests (test_cli.cpp, test_config_keys.cpp).

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "integration/process_fixture.hpp"

namespace chaperon::itest {

inline constexpr auto cli_command_timeout = std::chrono::seconds(60);

inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The columns of the CSV row whose label is `label`; empty when there is none.
inline std::vector<std::string> csv_row(const std::string& csv, const std::string& label) {
  for (const auto& line : lines_of(csv)) {
    if (!line.starts_with(label + ",")) continue;
    std::vector<std::string> cols;
    std::istringstream in(line);
    for (std::string col; std::getline(in, col, ',');) cols.push_back(col);
    return cols;
  }
  return {};
}

// The total_count of the row labelled `label`, 0 when there is none.
inline std::uint64_t row_count(const std::string& csv, const std::string& label) {
  auto cols = csv_row(csv, label);
  return cols.size() < 2 ? 0 : std::stoull(cols[1]);
}

inline std::size_t occurrences(std::string_view text, std::string_view what) {
  std::size_t n = 0;
  for (auto pos = text.find(what); pos != std::string_view::npos; pos = text.find(what, pos + 1))
    ++n;
  return n;
}

inline std::string describe(const command_result& r) {
  return fmt::format("exit {}{}\n--- stdout\n{}\n--- stderr\n{}", r.exit_code,
                     r.timed_out ? " (timed out)" : "", r.out, r.err);
}

// A test suite with the demo target up for all its tests and the chaperon binary to run.
class cli_test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    try {
      demo_ = std::make_unique<demo_server>();
    } catch (const std::exception& e) {
      setup_error_ = e.what();
    }
  }
  static void TearDownTestSuite() { demo_.reset(); }
  void SetUp() override { ASSERT_TRUE(setup_error_.empty()) << setup_error_; }

  static command_result cli(std::vector<std::string> args, std::filesystem::path cwd = {}) {
    args.insert(args.begin(), CHAPERON_CLI_BINARY);
    return run_command(process_options{std::move(args), std::move(cwd)}, cli_command_timeout);
  }

  static inline std::unique_ptr<demo_server> demo_;
  static inline std::string setup_error_;
};

}  // namespace chaperon::itest
