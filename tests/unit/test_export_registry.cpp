// The exporter interface and its registry: built-in formats by name, unknown names, a format
// added from outside.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <unistd.h>

#include "chaperon/export.hpp"

namespace chaperon {
namespace {

namespace fs = std::filesystem;

run_results one_metric() {
  run_results r;
  r.metrics[{"", "get", "http://h/x", ""}].record(1500);
  return r;
}

// A third format whose extension differs from its name, as an HdrHistogram log's would.
class count_exporter final : public exporter {
 public:
  std::string_view name() const override { return "count-test"; }
  std::string_view extension() const override { return "cnt"; }
  std::string encode(const run_results& results, const export_options&) const override {
    return fmt::format("{} requests\n", results.total_requests());
  }
};

void register_count_exporter_once() {
  static const bool registered = [] {
    register_exporter(std::make_unique<count_exporter>());
    return true;
  }();
  (void)registered;
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const export_error& e) {
    return e.what();
  }
  return "(no export_error)";
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

TEST(exporter_registry, built_in_formats_are_found_by_name_in_any_case) {
  const auto& csv = find_exporter("csv");
  EXPECT_EQ(csv.name(), "csv");
  EXPECT_EQ(csv.extension(), "csv");
  EXPECT_EQ(&find_exporter("CSV"), &csv);
  EXPECT_EQ(find_exporter("Json").extension(), "json");
  const auto names = exporter_names();
  ASSERT_GE(names.size(), 2u);
  EXPECT_EQ(names[0], "csv");
  EXPECT_EQ(names[1], "json");
}

TEST(exporter_registry, built_in_exporters_encode_as_the_functions_do) {
  const auto r = one_metric();
  export_options options;
  options.unit = time_unit::us;
  EXPECT_EQ(find_exporter("csv").encode(r, options), export_csv(r, options));
  EXPECT_EQ(find_exporter("json").encode(r, options), export_json(r, options));
  options.format = "JSON";
  EXPECT_EQ(export_results(r, options), export_json(r, options));
}

TEST(exporter_registry, an_unknown_format_is_an_error_listing_the_known_ones) {
  const auto message = message_of([] { find_exporter("xml"); });
  EXPECT_EQ(message.rfind("unknown export format 'xml' (known: csv, json", 0), 0u) << message;
  // Never a silent fallback to CSV.
  export_options options;
  options.format = "xml";
  EXPECT_NE(message_of([&] { export_results(one_metric(), options); }).find("'xml'"),
            std::string::npos);
  const auto now = std::chrono::system_clock::now();
  EXPECT_THROW(tagged_output_path("T", "", "xml", now), export_error);
  EXPECT_THROW(output_path_with_extension("out", "xml"), export_error);
  EXPECT_THROW(extension("xml"), export_error);
  EXPECT_THROW(find_exporter(""), export_error);
}

TEST(exporter_registry, a_registered_exporter_is_found_and_names_its_files) {
  register_count_exporter_once();
  const auto& e = find_exporter("Count-Test");
  EXPECT_EQ(e.name(), "count-test");
  EXPECT_EQ(exporter_names().back(), "count-test");

  export_options options;
  options.format = "count-test";
  EXPECT_EQ(export_results(one_metric(), options), "1 requests\n");
  EXPECT_EQ(parse_export_format("COUNT-TEST"), "count-test");

  const std::chrono::system_clock::time_point now{std::chrono::seconds{1'709'683'199}};
  EXPECT_EQ(tagged_output_path("T", "v1", e, now),
            fs::path("results/2024-03-05/T/v1-1709683199.cnt"));
  EXPECT_EQ(tagged_output_path("T", "v1", "count-test", now), tagged_output_path("T", "v1", e, now));
  EXPECT_EQ(output_path_with_extension("out/m", e), fs::path("out/m.cnt"));
  EXPECT_EQ(output_path_with_extension("out/m.CNT", "count-test"), fs::path("out/m.CNT"));
}

TEST(exporter_registry, registration_rejects_taken_and_malformed_names) {
  register_count_exporter_once();
  const auto taken = message_of([] { register_exporter(std::make_unique<count_exporter>()); });
  EXPECT_NE(taken.find("'count-test'"), std::string::npos) << taken;
  EXPECT_NE(taken.find("taken"), std::string::npos) << taken;

  struct named final : exporter {
    named(std::string name, std::string ext) : name_(std::move(name)), ext_(std::move(ext)) {}
    std::string_view name() const override { return name_; }
    std::string_view extension() const override { return ext_; }
    std::string encode(const run_results&, const export_options&) const override { return {}; }
    std::string name_, ext_;
  };
  for (const auto& [name, ext] : std::vector<std::pair<std::string, std::string>>{
           {"CSV", "csv"}, {"", "x"}, {"has space", "x"}, {"ok-name", ""}, {"ok-name", ".x"},
           {"ok-name", "a/b"}}) {
    EXPECT_THROW(register_exporter(std::make_unique<named>(name, ext)), export_error)
        << name << " / " << ext;
  }
  EXPECT_THROW(register_exporter(nullptr), export_error);
  EXPECT_THROW(find_exporter("ok-name"), export_error);
}

TEST(exporter_registry, write_creates_folders_and_names_the_file_it_cannot_write) {
  const auto dir = fs::temp_directory_path() / fmt::format("chaperon-export-{}", ::getpid());
  fs::remove_all(dir);
  const auto path = dir / "a" / "b" / "m.csv";
  const auto r = one_metric();
  find_exporter("csv").write(r, path, {});
  EXPECT_EQ(read_file(path), export_csv(r));

  // A folder where the file should be: the error names the path.
  const auto blocked = dir / "blocked.json";
  fs::create_directories(blocked);
  const auto message = message_of([&] { find_exporter("json").write(r, blocked, {}); });
  EXPECT_NE(message.find(blocked.string()), std::string::npos) << message;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace chaperon
