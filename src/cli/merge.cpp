#include "cli/merge.hpp"

#include <fstream>
#include <iostream>
#include <sstream>

#include "chaperon/export.hpp"

namespace chaperon::cli {

namespace {

run_results read_raw(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("merge: cannot read " + path);
  std::stringstream text;
  text << in.rdbuf();
  auto parsed = nlohmann::json::parse(text.str(), nullptr, false);
  auto results = parsed.is_discarded() ? std::nullopt : run_results::try_from_json(parsed);
  if (!results) {
    throw std::runtime_error("merge: " + path +
                             " is not raw results (write them with --format raw)");
  }
  return std::move(*results);
}

}  // namespace

void add_merge_options(CLI::App& app, merge_options& o) {
  app.add_option("results", o.inputs, "Raw results files (--format raw) to add up")
      ->required()
      ->check(CLI::ExistingFile);
  app.add_option("-f,--format", o.format, "Format of the merged results")
      ->check(CLI::IsMember(exporter_names(), CLI::ignore_case));
  app.add_option("-o,--output", o.output, "Write the merged results here (default: stdout)");
  app.add_option("--unit", o.unit, "Unit of exported values: ms (decimals) or us (integers)")
      ->check(CLI::IsMember({"ms", "us"}));
}

int merge(const merge_options& o) {
  run_results merged;
  for (const auto& path : o.inputs) merged.merge(read_raw(path));
  export_options exp;
  exp.format = find_exporter(o.format).name();
  exp.unit = o.unit == "us" ? time_unit::us : time_unit::ms;
  const exporter& format = find_exporter(exp.format);
  std::cerr << summary_table(merged, static_cast<double>(merged.duration_us) / 1e6);
  if (o.output.empty()) {
    std::cout << format.encode(merged, exp) << std::flush;
  } else {
    auto path = output_path_with_extension(o.output, format);
    format.write(merged, path, exp);
    std::cerr << "merged " << o.inputs.size() << " results: " << path.string() << "\n";
  }
  return merged.partial ? 3 : 0;
}

}  // namespace chaperon::cli
