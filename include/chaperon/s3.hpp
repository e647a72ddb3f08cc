// Uploading result files to Amazon S3 or an S3-compatible store (the original's Export.S3).
//
// Typical use, after the result file and its config file were written locally:
//   if (auto target = chaperon::s3_target_from(flag_value)) {     // --s3 or $S3_BUCKET
//     auto settings = chaperon::s3_settings_from_environment();  // AWS_* variables
//     chaperon::s3_upload_files(settings, *target, {output, config});
//   }
// Requests are signed with AWS Signature Version 4 and carry the SHA-256 of the body.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chaperon {

// s3://bucket/prefix
struct s3_target {
  std::string bucket;
  std::string prefix;  // without leading or trailing '/'; "" for the bucket's root
};

// Parses "s3://bucket", "s3://bucket/" or "s3://bucket/some/prefix/". Throws
// std::invalid_argument naming the URL when the scheme is not s3:// or the bucket name is empty
// or has characters no bucket name has (anything but letters, digits, '.', '-' and '_').
s3_target parse_s3_url(std::string_view url);

// The target from a --s3 value when it is not empty, else from $S3_BUCKET (as the original):
// either an s3:// URL or a bare bucket name, optionally followed by "/prefix". nullopt when
// both are empty. Throws std::invalid_argument as parse_s3_url does.
std::optional<s3_target> s3_target_from(std::string_view flag_value);

struct s3_settings {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // "" unless the credentials are temporary
  std::string region = "us-east-1";
  // "" for AWS itself: https://<bucket>.s3.<region>.amazonaws.com/<key> (virtual-hosted style;
  // path style for bucket names with dots, which TLS wildcard certificates do not cover).
  // Otherwise an http:// or https:// URL (host, optional port and path) of an S3-compatible
  // store, addressed path style: <endpoint>/<bucket>/<key>.
  std::string endpoint_url;
  // A PEM file of CA certificates trusted for https besides the system's (a store with a
  // certificate of its own); "" for the system's only.
  std::string ca_file;
  // Bounds each upload: connecting, sending and reading the response together.
  std::chrono::milliseconds timeout{std::chrono::seconds(60)};
};

// From AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN (optional), AWS_REGION (or
// AWS_DEFAULT_REGION; default us-east-1), AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL (optional) and
// AWS_CA_BUNDLE (optional).
// Throws std::runtime_error naming the variables that are missing or malformed.
s3_settings s3_settings_from_environment();

// The object key for a local file: the target's prefix, '/', and the file's path as given
// ("results/2024-05-01/MyTest/tag-1714550400.csv"), with '/' separators, "." parts dropped. An
// absolute path, or one that leaves its folder through "..", contributes only its file name.
std::string s3_object_key(const s3_target& target, const std::filesystem::path& local_file);

// PUTs the file's bytes as object `key` (the whole key, prefix included) of the target's bucket,
// with a Content-Type from the file's extension (.csv, .json, else binary). Throws
// std::runtime_error naming the file, bucket and key, with the server's status, error code and
// message (or the connection failure) when the upload does not succeed.
void s3_upload_file(const s3_settings& settings, const s3_target& target, const std::string& key,
                    const std::filesystem::path& local_file);

// Uploads each file under s3_object_key(target, file), in order, and returns their
// s3://bucket/key URLs. Stops at the first failure with s3_upload_file's exception; files are
// never removed or changed.
std::vector<std::string> s3_upload_files(const s3_settings& settings, const s3_target& target,
                                         const std::vector<std::filesystem::path>& local_files);

}  // namespace chaperon
