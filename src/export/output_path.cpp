#include "chaperon/export.hpp"

#include <algorithm>
#include <cctype>
#include <string>

#include <fmt/format.h>

namespace chaperon {
namespace {

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

// "MyApp::LoadTest.Foo" -> MyApp/LoadTest/Foo. Splitting on '/' too (and dropping empty parts)
// keeps an odd name from escaping the results folder through an absolute path.
std::filesystem::path load_test_folders(std::string_view name) {
  std::filesystem::path out;
  std::string part;
  const auto flush = [&] {
    if (!part.empty()) out /= part;
    part.clear();
  };
  for (const char c : name) {
    if (c == '.' || c == '/' || c == '\\' || c == ':') {
      flush();
    } else {
      part += c;
    }
  }
  flush();
  return out;
}

// A tag names a file, never a folder.
std::string file_safe(std::string_view tag) {
  std::string out(tag);
  std::replace(out.begin(), out.end(), '/', '_');
  std::replace(out.begin(), out.end(), '\\', '_');
  return out;
}

std::string utc_date(std::chrono::system_clock::time_point now) {
  const std::chrono::year_month_day day{std::chrono::floor<std::chrono::days>(now)};
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(day.year()),
                     static_cast<unsigned>(day.month()), static_cast<unsigned>(day.day()));
}

}  // namespace

std::filesystem::path tagged_output_path(std::string_view load_test, std::string_view tag,
                                         const exporter& e,
                                         std::chrono::system_clock::time_point now) {
  const auto seconds = std::chrono::floor<std::chrono::seconds>(now.time_since_epoch()).count();
  const auto file = tag.empty() ? fmt::format("{}.{}", seconds, e.extension())
                                : fmt::format("{}-{}.{}", file_safe(tag), seconds, e.extension());
  return std::filesystem::path("results") / utc_date(now) / load_test_folders(load_test) / file;
}

std::filesystem::path tagged_output_path(std::string_view load_test, std::string_view tag,
                                         std::string_view format,
                                         std::chrono::system_clock::time_point now) {
  return tagged_output_path(load_test, tag, find_exporter(format), now);
}

std::filesystem::path output_path_with_extension(const std::filesystem::path& path,
                                                 const exporter& e) {
  const auto wanted = "." + std::string(e.extension());
  if (equal_ignoring_case(path.extension().string(), wanted)) return path;
  // A device or a pipe is written as named: "-o /dev/null" must not make /dev/null.json.
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (!ec && std::filesystem::exists(status) && !std::filesystem::is_regular_file(status) &&
      !std::filesystem::is_directory(status))
    return path;
  auto out = path;
  out += wanted;
  return out;
}

std::filesystem::path output_path_with_extension(const std::filesystem::path& path,
                                                 std::string_view format) {
  return output_path_with_extension(path, find_exporter(format));
}

}  // namespace chaperon
