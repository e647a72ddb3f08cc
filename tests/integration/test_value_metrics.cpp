// session::add_value end to end: sessions of a real run record sizes, and the CSV and the JSON
// written from the run's results show them as recorded (1500, not 1.500 ms).
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include <chaperon/chaperon.hpp>

#include "integration/test_control_support.hpp"

namespace {

using chaperon::json;
using chaperon::session;
using chaperon::task;
using chaperon::itest::control::run_scenario_test;

task<> record_sizes(session& s) {
  s.add_value("bytes", 1500);
  s.add_metric("wait", std::chrono::microseconds(1500));
  co_return;
}

// The CSV row whose label is `label`, split at commas.
std::vector<std::string> csv_row(const std::string& csv, const std::string& label) {
  std::istringstream in(csv);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(label + ",", 0) != 0) continue;
    std::vector<std::string> cells;
    std::istringstream fields(line);
    for (std::string c; std::getline(fields, c, ',');) cells.push_back(c);
    return cells;
  }
  return {};
}

TEST(ValueMetrics, AddValueIsExportedAsRecorded) {
  const auto r = run_scenario_test(chaperon::make_scenario("Sizes", &record_sizes),
                                   json::object(), {}, 3);
  ASSERT_EQ(r.sessions.completed, 3u);

  const auto csv = chaperon::export_csv(r);
  const auto bytes = csv_row(csv, " bytes");
  ASSERT_EQ(bytes.size(), 20u) << csv;  // label, count, max, mean, min, 15 percentiles
  EXPECT_EQ(bytes[1], "3");
  for (std::size_t i = 2; i < bytes.size(); ++i) EXPECT_EQ(bytes[i], "1500") << "column " << i;
  // A duration of the same number is still written in milliseconds.
  const auto wait = csv_row(csv, " wait");
  ASSERT_EQ(wait.size(), 20u) << csv;
  EXPECT_EQ(wait[2], "1.500");

  const auto exported = json::parse(chaperon::export_json(r));
  bool found = false;
  for (const auto& entry : exported) {
    if (entry.value("action", "") != "bytes") continue;
    found = true;
    EXPECT_EQ(entry.at("unit"), "value");
    EXPECT_EQ(entry.at("metrics").at("total_count"), 3);
    EXPECT_EQ(entry.at("metrics").at("max"), 1500);
    EXPECT_EQ(entry.at("metrics").at("percentile_50.0"), 1500);
  }
  EXPECT_TRUE(found) << exported.dump();

  // The raw form (what `chaperon merge` reads) keeps the unit.
  const auto back = chaperon::run_results::from_json(json::parse(chaperon::export_raw(r)));
  EXPECT_EQ(chaperon::export_csv(back), csv);
}

}  // namespace
