#include "cli/export_results.hpp"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <vector>

#include <CLI/CLI.hpp>

#include "chaperon/export.hpp"
#include "chaperon/thresholds.hpp"

namespace chaperon::cli {

namespace {

namespace fs = std::filesystem;

void write_file(const fs::path& path, const std::string& content) {
  if (path.has_parent_path()) fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out << content;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

// results.csv -> results.config.json
fs::path beside(const fs::path& output, std::string_view suffix) {
  fs::path p = output;
  p.replace_extension();
  p += suffix;
  return p;
}

// out.csv -> out-<id>.csv; unchanged without an id.
fs::path with_id(const fs::path& path, const std::string& id) {
  if (id.empty()) return path;
  fs::path p = path;
  p.replace_filename(path.stem().string() + "-" + id + path.extension().string());
  return p;
}

// The extra files asked for beside the results (--report, --hdr-log), in their formats.
std::vector<fs::path> write_extras(const common_options& o, const results_export& what,
                                   const export_options& exp) {
  std::vector<fs::path> written;
  auto extra = [&](const std::string& path, std::string_view format) {
    if (path.empty()) return;
    const exporter& e = find_exporter(format);
    fs::path p = with_id(output_path_with_extension(path, e), what.id);
    e.write(what.results, p, exp);
    written.push_back(p);
  };
  extra(o.report, "html");
  extra(o.hdr_log, "hdr-log");
  return written;
}

// Uploads the files written; the local files stay whatever happens. False when it failed.
bool upload(const s3_upload& s3, const std::vector<fs::path>& files) {
  try {
    for (const auto& url : s3_upload_files(s3.settings, s3.target, files))
      std::cout << "uploaded: " << url << "\n";
    return true;
  } catch (const std::exception& e) {
    std::cerr << "chaperon: " << e.what() << "\nchaperon: the local files are kept:";
    for (const auto& f : files) std::cerr << " " << f.string();
    std::cerr << "\n";
    return false;
  }
}

}  // namespace

std::optional<s3_upload> s3_upload_of(const common_options& o) {
  auto target = s3_target_from(o.s3);
  if (!target) return std::nullopt;
  if (o.output == "-")
    throw CLI::ValidationError("--s3", "uploads result files: use it without --output -");
  return s3_upload{*target, s3_settings_from_environment()};
}

json config_report(const load_test& ran, const json& runtime, const run_results& results) {
  json entries = json::array();
  for (const auto& e : ran.entries()) {
    entries.push_back({{"scenario", e.scenario_name()},
                       {"count", e.count},
                       {"session_name", e.session_name},
                       {"config", ran.entry_config(e, runtime)}});
  }
  return {{"load_test", ran.name()},
          {"default_config", ran.default_config()},
          {"runtime_config", runtime},
          {"entries", entries},
          {"partial", results.partial},
          {"thresholds", thresholds_json(results)},
          {"generator",
           {{"saturated", results.generator.saturated()},
            {"saturation", results.generator.saturation},
            {"max_thread_cpu", results.generator.max_thread_cpu}}}};
}

bool export_results(const results_export& what, const common_options& o,
                    const std::optional<s3_upload>& s3) {
  export_options exp = make_export_options(o);
  const exporter& format = find_exporter(exp.format);
  exp.series = what.series;
  exp.run_info = &what.info;
  const auto& results = what.results;
  double secs = static_cast<double>(results.duration_us) / 1e6;
  std::string summary = summary_table(results, secs);
  if (o.output == "-") {
    std::cerr << summary;
    std::cout << format.encode(results, exp) << std::flush;
    for (const auto& extra : write_extras(o, what, exp))
      std::cerr << "written: " << extra.string() << "\n";
    return true;
  }
  const std::string& base = what.tag.empty() ? o.tag : what.tag;
  const std::string tag = what.id.empty() ? base : base + "-" + what.id;
  fs::path path = o.output.empty() ? tagged_output_path(what.load_test, tag, format,
                                                        std::chrono::system_clock::now())
                                   : with_id(output_path_with_extension(o.output, format), what.id);
  format.write(results, path, exp);
  const auto config_path = beside(path, ".config.json");
  write_file(config_path, what.info.dump(2) + "\n");
  std::vector<fs::path> files{path, config_path};
  std::cout << summary << "results: " << path.string() << "\n";
  for (const auto& extra : write_extras(o, what, exp)) {
    std::cout << "written: " << extra.string() << "\n";
    files.push_back(extra);
  }
  std::cout << std::flush;
  return s3 ? upload(*s3, files) : true;
}

}  // namespace chaperon::cli
