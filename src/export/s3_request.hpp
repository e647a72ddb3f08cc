#pragma once
// Where an S3 object request goes and what path it signs: the part of the uploader that needs no
// network, kept apart so that unit tests can check the addressing rules.

#include <cstdint>
#include <string>
#include <string_view>

#include "chaperon/s3.hpp"

namespace chaperon::s3_detail {

struct object_location {
  bool tls = true;
  std::string host;         // to connect to (no brackets for IPv6)
  std::uint16_t port = 443;
  std::string host_header;  // host, with ":port" when not the scheme's default; signed as sent
  std::string path;         // decoded ("/bucket/a b.csv"), as sigv4::request::path wants it
  std::string target;       // the same path percent-encoded once, as sent on the request line
};

// Virtual-hosted style for AWS (path style when the bucket name has a dot); path style under
// the endpoint's own path for an S3-compatible endpoint. Throws std::invalid_argument naming
// settings.endpoint_url when it is not an http(s) URL.
object_location locate_object(const s3_settings& settings, const s3_target& target,
                              std::string_view key);

// "text/csv", "application/json" or "application/octet-stream", by the key's extension.
std::string content_type_for(std::string_view key);

// The Code and Message of an S3 XML error body ("NoSuchBucket: The specified bucket does not
// exist"), or the body itself, shortened, when it is not one.
std::string describe_error_body(std::string_view body);

}  // namespace chaperon::s3_detail
