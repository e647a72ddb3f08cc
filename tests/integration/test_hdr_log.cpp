// `--hdr-log` end to end: the CLI runs against the demo target and writes an HdrHistogram interval
// log, which hdr-histogram-js (an independent implementation, tests/peers/hdr) decodes. Per
// metric, its totals and percentiles must equal what the CSV says.
#include <gtest/gtest.h>

#include <bit>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "export/hdr_encoding.hpp"
#include "integration/process_fixture.hpp"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using namespace chaperon::itest;
using json = nlohmann::json;

fs::path peer_dir() { return fs::path(CHAPERON_SOURCE_DIR) / "tests" / "peers" / "hdr"; }

std::string describe(const command_result& r) {
  return fmt::format("exit {}{}\n--- stdout\n{}\n--- stderr\n{}", r.exit_code,
                     r.timed_out ? " (timed out)" : "", r.out, r.err);
}

// The CSV's rows by label, each as its columns (the label first).
std::vector<std::vector<std::string>> csv_rows(const std::string& csv) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(csv);
  std::string line;
  std::getline(in, line);  // the header
  while (std::getline(in, line)) {
    std::vector<std::string> cols;
    std::istringstream cells(line);
    for (std::string c; std::getline(cells, c, ',');) cols.push_back(c);
    rows.push_back(std::move(cols));
  }
  return rows;
}

// "12.345" ms -> 12345 us.
std::int64_t csv_us(const std::string& ms) { return std::llround(std::stod(ms) * 1000.0); }

// The counter of our layout (HdrHistogram's for 1 .. 2^36-1, 3 digits) that holds `v`: two
// values in the same counter are equal at the histogram's resolution.
std::int64_t counter_of(std::int64_t v) {
  const auto u = static_cast<std::uint64_t>(v);
  const int bucket = std::bit_width(u | 2047u) - 11;
  return ((std::int64_t{bucket} + 1) << 10) + static_cast<std::int64_t>(u >> bucket) - 1024;
}

// The CSV columns of the percentiles the peer reports.
struct percentile_column {
  const char* name;
  std::size_t column;
};
constexpr percentile_column percentile_columns[] = {
    {"50", 9}, {"90", 14}, {"99", 16}, {"99.9", 17}};

TEST(hdr_log, an_independent_decoder_reads_the_cli_log_as_the_csv_says) {
  const auto node = find_program("node", {"/usr/bin", "/usr/local/bin"});
  ASSERT_TRUE(node) << "node is not installed (scripts/setup.sh installs nodejs)";
  if (!fs::is_directory(peer_dir() / "node_modules" / "hdr-histogram-js"))
    GTEST_SKIP() << (peer_dir() / "node_modules").string()
                 << " is missing: run `npm ci` in tests/peers/hdr";

  demo_server demo;
  temp_dir dir;
  const auto csv_path = dir.path() / "r.csv";
  const auto log_path = dir.path() / "r.hlog";
  const double before_ms =
      std::chrono::duration<double, std::milli>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  const auto run =
      run_command(process_options{{CHAPERON_CLI_BINARY, "quick", demo.url() + "/", "-s", "4", "-d",
                                   "2s", "--interval", "500ms", "-o", (dir.path() / "r").string(),
                                   "--hdr-log", log_path.string(), "--no-progress"},
                                  {}},
                  60s);
  ASSERT_EQ(run.exit_code, 0) << describe(run);
  const auto decode = run_command(
      process_options{{node->string(), (peer_dir() / "decode_hlog.js").string(), log_path.string()},
                      {}},
      30s);
  ASSERT_EQ(decode.exit_code, 0) << describe(decode);
  const json tags = json::parse(decode.out);
  const auto rows = csv_rows(read_text_file(csv_path));
  ASSERT_FALSE(rows.empty());

  std::uint64_t requests = 0;
  for (const auto& row : rows) {
    ASSERT_EQ(row.size(), 20u);
    // Aggregated rows start with a space; the tag is the name without it.
    const std::string name = row[0].substr(row[0].starts_with(' ') ? 1 : 0);
    const std::string tag = chaperon::detail::hdr_log_tag(name);
    SCOPED_TRACE(tag);
    ASSERT_TRUE(tags.contains(tag)) << decode.out;
    const json& t = tags[tag];
    const auto count = std::stoull(row[1]);
    if (!name.starts_with("Error")) requests += count;
    EXPECT_EQ(t["total_count"].get<std::uint64_t>(), count);
    EXPECT_GE(t["intervals"].get<int>(), 4) << "2 s in 500 ms intervals";
    for (const auto& length : t["length_ms"]) EXPECT_LE(length.get<int>(), 500);
    EXPECT_EQ(t["length_ms"][0].get<int>(), 500) << "the second field is read as a length";
    EXPECT_NEAR(t["start_ms"].get<double>(), before_ms, 10e3)
        << "timestamps are seconds from BaseTime, the run's start";

    EXPECT_EQ(counter_of(t["min"].get<std::int64_t>()), counter_of(csv_us(row[4])));
    EXPECT_EQ(counter_of(t["max"].get<std::int64_t>()), counter_of(csv_us(row[2])));
    for (const auto& [p, column] : percentile_columns) {
      SCOPED_TRACE(p);
      const json& at = t["percentiles"][p];
      const std::int64_t ours = csv_us(row[column]);
      // Same rank, same counter; the library's own rule rounds the rank up where ours rounds to
      // the nearest, so where the ranks differ its value may be one rank higher.
      EXPECT_EQ(counter_of(at["value_at_nearest_rank"].get<std::int64_t>()), counter_of(ours));
      if (at["rank"] == at["nearest_rank"])
        EXPECT_EQ(counter_of(at["value"].get<std::int64_t>()), counter_of(ours));
      else
        EXPECT_GE(counter_of(at["value"].get<std::int64_t>()), counter_of(ours));
    }
  }
  EXPECT_GT(requests, 0u);
  ASSERT_TRUE(tags.contains("")) << "the untagged line of all requests";
  EXPECT_EQ(tags[""]["total_count"].get<std::uint64_t>(), requests);
}

}  // namespace
