#include <algorithm>
#include <cctype>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include "chaperon/export.hpp"
#include "export/builtin.hpp"

namespace chaperon {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool valid_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

bool valid_extension(std::string_view ext) {
  return !ext.empty() && ext.find_first_of("./\\") == std::string_view::npos;
}

// The built-in formats: one file, encoded by a function of the public API.
class function_exporter final : public exporter {
 public:
  using encoder = std::string (*)(const run_results&, const export_options&);
  function_exporter(std::string_view name, encoder encode, std::string_view extension = {})
      : name_(name), extension_(extension.empty() ? name : extension), encode_(encode) {}

  std::string_view name() const override { return name_; }
  std::string_view extension() const override { return extension_; }
  std::string encode(const run_results& results, const export_options& options) const override {
    return encode_(results, options);
  }

 private:
  std::string_view name_;
  std::string_view extension_;
  encoder encode_;
};

// Exporters are never removed, so references handed out stay valid. Built into the first use
// rather than by static registrars, which a static library's linker may drop.
class registry {
 public:
  registry() {
    add(std::make_unique<function_exporter>(export_format::csv, &export_csv));
    add(std::make_unique<function_exporter>(export_format::json, &export_json));
    add(std::make_unique<function_exporter>("raw", &export_raw, "json"));
    add(detail::make_html_report_exporter());
    add(detail::make_hdr_log_exporter());
  }

  void add(std::unique_ptr<const exporter> e) {
    if (!e) throw export_error("register_exporter: no exporter given");
    const std::lock_guard lock(mutex_);
    const std::string name(e->name());
    if (!valid_name(name))
      throw export_error("cannot register exporter '" + name +
                         "': a name is lower-case letters, digits, '-' and '_'");
    if (!valid_extension(e->extension()))
      throw export_error("cannot register exporter '" + name + "': bad file extension '" +
                         std::string(e->extension()) + "' (not empty, without '.', '/', '\\')");
    if (find_locked(name))
      throw export_error("cannot register exporter '" + name + "': that name is taken");
    exporters_.push_back(std::move(e));
  }

  const exporter* find(std::string_view name) const {
    const std::lock_guard lock(mutex_);
    return find_locked(lower(name));
  }

  std::vector<std::string> names() const {
    const std::lock_guard lock(mutex_);
    std::vector<std::string> out;
    for (const auto& e : exporters_) out.emplace_back(e->name());
    return out;
  }

 private:
  const exporter* find_locked(std::string_view lower_name) const {
    for (const auto& e : exporters_)
      if (e->name() == lower_name) return e.get();
    return nullptr;
  }

  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<const exporter>> exporters_;
};

registry& the_registry() {
  static registry r;
  return r;
}

}  // namespace

void exporter::write(const run_results& results, const std::filesystem::path& path,
                     const export_options& options) const {
  const auto content = encode(results, options);
  std::error_code ec;
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
  if (ec)
    throw export_error("cannot create folder " + path.parent_path().string() + ": " +
                       ec.message());
  std::ofstream out(path, std::ios::binary);
  out << content;
  out.close();
  if (!out) throw export_error("cannot write " + path.string());
}

void register_exporter(std::unique_ptr<const exporter> e) { the_registry().add(std::move(e)); }

const exporter& find_exporter(std::string_view name) {
  if (const auto* e = the_registry().find(name)) return *e;
  std::string known;
  for (const auto& n : exporter_names()) known += (known.empty() ? "" : ", ") + n;
  throw export_error("unknown export format '" + std::string(name) + "' (known: " + known + ")");
}

std::vector<std::string> exporter_names() { return the_registry().names(); }

std::string export_results(const run_results& results, const export_options& options) {
  return find_exporter(options.format).encode(results, options);
}

std::optional<std::string> parse_export_format(std::string_view name) {
  if (const auto* e = the_registry().find(name)) return std::string(e->name());
  return std::nullopt;
}

std::string_view extension(std::string_view format) { return find_exporter(format).extension(); }

}  // namespace chaperon
