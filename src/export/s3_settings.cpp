// The S3 target, settings from the environment, object keys and addressing: everything of the
// S3 export but the signing (s3_sigv4.cpp) and the network (s3_upload.cpp).
#include "chaperon/s3.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <stdexcept>

#include <fmt/format.h>

#include "export/s3_request.hpp"
#include "export/s3_sigv4.hpp"
#include "net/ascii.hpp"
#include "net/url.hpp"

namespace chaperon {
namespace {

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value ? std::string(value) : std::string();
}

bool valid_bucket(std::string_view bucket) {
  // S3's rules are stricter (3-63 characters, lower case); legacy buckets and other stores allow
  // upper case and '_', so only what cannot be a bucket name in any of them is refused here.
  return !bucket.empty() && bucket.size() <= 255 &&
         std::all_of(bucket.begin(), bucket.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
         });
}

std::string trim_slashes(std::string_view text) {
  while (!text.empty() && text.front() == '/') text.remove_prefix(1);
  while (!text.empty() && text.back() == '/') text.remove_suffix(1);
  return std::string(text);
}

// "bucket" or "bucket/prefix/..." (the part after "s3://").
s3_target split_bucket(std::string_view rest, std::string_view whole) {
  const auto slash = rest.find('/');
  s3_target target{std::string(rest.substr(0, slash)), {}};
  if (slash != std::string_view::npos) target.prefix = trim_slashes(rest.substr(slash + 1));
  if (!valid_bucket(target.bucket)) {
    throw std::invalid_argument(fmt::format(
        "S3 target \"{}\": \"{}\" is not a bucket name (letters, digits, '.', '-', '_')", whole,
        target.bucket));
  }
  return target;
}

}  // namespace

s3_target parse_s3_url(std::string_view url) {
  constexpr std::string_view scheme = "s3://";
  if (!net::iequals(url.substr(0, scheme.size()), scheme)) {
    throw std::invalid_argument(
        fmt::format("S3 target \"{}\" does not start with s3:// (expected s3://bucket/prefix)",
                    url));
  }
  return split_bucket(url.substr(scheme.size()), url);
}

std::optional<s3_target> s3_target_from(std::string_view flag_value) {
  std::string value(flag_value);
  if (value.empty()) value = env("S3_BUCKET");
  if (value.empty()) return std::nullopt;
  if (value.find("://") != std::string::npos) return parse_s3_url(value);
  return split_bucket(value, value);
}

s3_settings s3_settings_from_environment() {
  s3_settings settings;
  settings.access_key_id = env("AWS_ACCESS_KEY_ID");
  settings.secret_access_key = env("AWS_SECRET_ACCESS_KEY");
  settings.session_token = env("AWS_SESSION_TOKEN");
  std::vector<std::string> missing;
  if (settings.access_key_id.empty()) missing.emplace_back("AWS_ACCESS_KEY_ID");
  if (settings.secret_access_key.empty()) missing.emplace_back("AWS_SECRET_ACCESS_KEY");
  if (!missing.empty()) {
    throw std::runtime_error(fmt::format("S3 upload needs the credentials in {} (not set)",
                                         fmt::join(missing, " and ")));
  }
  if (auto region = env("AWS_REGION"); !region.empty()) {
    settings.region = region;
  } else if (auto fallback = env("AWS_DEFAULT_REGION"); !fallback.empty()) {
    settings.region = fallback;
  }
  settings.ca_file = env("AWS_CA_BUNDLE");
  settings.endpoint_url = env("AWS_ENDPOINT_URL_S3");
  if (settings.endpoint_url.empty()) settings.endpoint_url = env("AWS_ENDPOINT_URL");
  if (!settings.endpoint_url.empty()) {
    std::string why;
    const auto parsed = net::parse_url(settings.endpoint_url, &why);
    if (!parsed || (parsed->scheme != "http" && parsed->scheme != "https")) {
      throw std::runtime_error(fmt::format(
          "AWS_ENDPOINT_URL \"{}\" is not an http:// or https:// URL{}", settings.endpoint_url,
          why.empty() ? "" : ": " + why));
    }
  }
  return settings;
}

std::string s3_object_key(const s3_target& target, const std::filesystem::path& local_file) {
  const auto normal = local_file.lexically_normal();
  std::string relative;
  const bool escapes = std::any_of(normal.begin(), normal.end(),
                                   [](const std::filesystem::path& part) { return part == ".."; });
  if (normal.is_absolute() || escapes) {
    relative = normal.filename().generic_string();
  } else {
    for (const auto& part : normal) {
      if (part.empty() || part == ".") continue;
      if (!relative.empty()) relative += '/';
      relative += part.generic_string();
    }
  }
  return target.prefix.empty() ? relative : target.prefix + '/' + relative;
}

std::vector<std::string> s3_upload_files(const s3_settings& settings, const s3_target& target,
                                         const std::vector<std::filesystem::path>& local_files) {
  std::vector<std::string> urls;
  for (const auto& file : local_files) {
    const auto key = s3_object_key(target, file);
    s3_upload_file(settings, target, key, file);
    urls.push_back(fmt::format("s3://{}/{}", target.bucket, key));
  }
  return urls;
}

namespace s3_detail {

object_location locate_object(const s3_settings& settings, const s3_target& target,
                              std::string_view key) {
  object_location where;
  if (settings.endpoint_url.empty()) {
    const bool dotted = target.bucket.find('.') != std::string::npos;
    where.host = dotted ? fmt::format("s3.{}.amazonaws.com", settings.region)
                        : fmt::format("{}.s3.{}.amazonaws.com", target.bucket, settings.region);
    where.host_header = where.host;
    where.path = dotted ? fmt::format("/{}/{}", target.bucket, key) : fmt::format("/{}", key);
  } else {
    std::string why;
    const auto endpoint = net::parse_url(settings.endpoint_url, &why);
    if (!endpoint || (endpoint->scheme != "http" && endpoint->scheme != "https")) {
      throw std::invalid_argument(fmt::format("S3 endpoint \"{}\" is not an http(s) URL{}",
                                              settings.endpoint_url,
                                              why.empty() ? "" : ": " + why));
    }
    where.tls = endpoint->tls();
    where.host = endpoint->host;
    where.port = endpoint->port;
    where.host_header = endpoint->host_header();
    const auto base = trim_slashes(net::strip_query(endpoint->target));
    where.path = base.empty() ? fmt::format("/{}/{}", target.bucket, key)
                              : fmt::format("/{}/{}/{}", base, target.bucket, key);
  }
  where.target = sigv4::uri_encode(where.path, true);
  return where;
}

std::string content_type_for(std::string_view key) {
  const auto ends_with = [&](std::string_view suffix) {
    return key.size() >= suffix.size() &&
           net::iequals(key.substr(key.size() - suffix.size()), suffix);
  };
  if (ends_with(".csv")) return "text/csv";
  if (ends_with(".json")) return "application/json";
  return "application/octet-stream";
}

std::string describe_error_body(std::string_view body) {
  const auto element = [&](std::string_view name) -> std::string {
    const auto open = fmt::format("<{}>", name);
    const auto close = fmt::format("</{}>", name);
    const auto start = body.find(open);
    if (start == std::string_view::npos) return {};
    const auto from = start + open.size();
    const auto end = body.find(close, from);
    if (end == std::string_view::npos) return {};
    return std::string(body.substr(from, end - from));
  };
  const auto code = element("Code");
  const auto message = element("Message");
  if (!code.empty() || !message.empty()) {
    return message.empty() ? code : code.empty() ? message : code + ": " + message;
  }
  constexpr std::size_t limit = 300;
  std::string text(body.substr(0, limit));
  std::replace(text.begin(), text.end(), '\n', ' ');
  std::replace(text.begin(), text.end(), '\r', ' ');
  return body.size() > limit ? text + "..." : text;
}

}  // namespace s3_detail
}  // namespace chaperon
