#pragma once
// AWS Signature Version 4 for requests sent with the signature in the Authorization header
// (docs.aws.amazon.com, "Signature Version 4 signing process" and, for S3, "Authenticating
// Requests: Using the Authorization Header"). No I/O: the uploader builds a request, signs it here
// and sends the headers this adds. Tested against AWS's published test vectors
// (tests/unit/test_sigv4.cpp).

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace chaperon::sigv4 {

using header_list = std::vector<std::pair<std::string, std::string>>;

struct credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // "" when the credentials are not temporary
};

struct scope {
  std::string region;   // "us-east-1"
  std::string service;  // "s3"
  std::chrono::system_clock::time_point time;
};

struct request {
  std::string method;  // "PUT"
  // The path as a client means it, not yet percent-encoded ("/bucket/a b.csv"). It is encoded
  // exactly once, '/' kept: S3 neither normalises paths nor encodes them twice.
  std::string path;
  // Query parameters, decoded; order does not matter.
  header_list query;
  // Every header sent, Host included, in the order sent; all of them are signed. sign() appends
  // the ones it adds.
  header_list headers;
  // Lower-case hex SHA-256 of the body, or a literal such as "UNSIGNED-PAYLOAD".
  std::string payload_hash;
};

struct signature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signed_headers;  // "host;x-amz-content-sha256;x-amz-date"
  std::string signature;       // 64 hex digits
  std::string authorization;   // the Authorization header's value
};

// Adds to `req.headers` X-Amz-Date, X-Amz-Security-Token (when the credentials carry a session
// token) and, with `add_content_sha256` (which S3 requires), X-Amz-Content-Sha256 with
// `req.payload_hash`; then signs every header and adds Authorization.
signature sign(request& req, const credentials& creds, const scope& where,
               bool add_content_sha256);

// The steps, for tests and error messages.
std::string canonical_request(const request& req, std::string* signed_headers = nullptr);
std::string string_to_sign(const scope& where, std::string_view canonical_request);
// HMAC chain "AWS4" + secret -> date -> region -> service -> "aws4_request" (raw bytes).
std::string signing_key(std::string_view secret_access_key, const scope& where);

// "20150830T123600Z" and "20150830", UTC.
std::string amz_date(std::chrono::system_clock::time_point time);
std::string amz_day(std::chrono::system_clock::time_point time);

// Percent-encodes every byte but A-Z a-z 0-9 - . _ ~ (and '/' when `keep_slash`), upper-case hex.
std::string uri_encode(std::string_view text, bool keep_slash);

std::string sha256_hex(std::string_view data);
// Raw 32-byte HMAC-SHA256.
std::string hmac_sha256(std::string_view key, std::string_view data);
std::string to_hex(std::string_view bytes);

}  // namespace chaperon::sigv4
