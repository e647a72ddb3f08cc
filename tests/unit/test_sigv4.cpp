// AWS Signature Version 4 against AWS's published vectors, and the S3 export's addressing rules.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

#include "chaperon/s3.hpp"
#include "export/s3_request.hpp"
#include "export/s3_sigv4.hpp"

namespace {

using namespace chaperon;
using namespace std::chrono;

struct suite_case {
  const char* name;
  const char* request;  // request.txt: request line, headers, blank line, body
  const char* session_token;
  bool sign_body;
  const char* canonical_request;
  const char* string_to_sign;
  const char* signature;
};

constexpr suite_case suite[] = {
#include "data/sigv4/aws_sig_v4_test_suite.inc"
};

std::string percent_decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

std::string_view next_line(std::string_view& text) {
  const auto end = text.find('\n');
  const auto line = text.substr(0, end);
  text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
  return line;
}

// request.txt as a request to sign: the path and query as written, decoded; headers as written.
sigv4::request parse_request_txt(std::string_view text, std::string& body) {
  sigv4::request req;
  const auto request_line = next_line(text);
  const auto method_end = request_line.find(' ');
  const auto target_end = request_line.rfind(' ');
  req.method = std::string(request_line.substr(0, method_end));
  const auto target = request_line.substr(method_end + 1, target_end - method_end - 1);
  const auto question = target.find('?');
  req.path = percent_decode(target.substr(0, question));
  if (question != std::string_view::npos) {
    auto query = target.substr(question + 1);
    while (!query.empty()) {
      const auto amp = query.find('&');
      const auto pair = query.substr(0, amp);
      query.remove_prefix(amp == std::string_view::npos ? query.size() : amp + 1);
      const auto eq = pair.find('=');
      const auto value = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
      req.query.emplace_back(percent_decode(pair.substr(0, eq)), percent_decode(value));
    }
  }
  for (auto line = next_line(text); !line.empty(); line = next_line(text)) {
    const auto colon = line.find(':');
    req.headers.emplace_back(std::string(line.substr(0, colon)),
                             std::string(line.substr(colon + 1)));
  }
  body = std::string(text);
  return req;
}

sys_seconds utc(int y, unsigned m, unsigned d, int hh, int mm, int ss) {
  return sys_days{year{y} / month{m} / day{d}} + std::chrono::hours{hh} + std::chrono::minutes{mm} +
         std::chrono::seconds{ss};
}

const sigv4::credentials suite_credentials{"AKIDEXAMPLE",
                                           "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
const sigv4::scope suite_scope{"us-east-1", "service", utc(2015, 8, 30, 12, 36, 0)};

class S3SigV4Suite : public testing::TestWithParam<suite_case> {};

TEST_P(S3SigV4Suite, matches_canonical_request_string_to_sign_and_signature) {
  const auto& c = GetParam();
  std::string body;
  auto req = parse_request_txt(c.request, body);
  req.payload_hash = sigv4::sha256_hex(body);
  auto creds = suite_credentials;
  creds.session_token = c.session_token;
  const auto signed_request = sigv4::sign(req, creds, suite_scope, c.sign_body);
  EXPECT_EQ(signed_request.canonical_request, c.canonical_request);
  EXPECT_EQ(signed_request.string_to_sign, c.string_to_sign);
  EXPECT_EQ(signed_request.signature, c.signature);
  EXPECT_EQ(req.headers.back().first, "Authorization");
  EXPECT_EQ(req.headers.back().second,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            "SignedHeaders=" + signed_request.signed_headers + ", Signature=" + c.signature);
}

INSTANTIATE_TEST_SUITE_P(sigv4, S3SigV4Suite, testing::ValuesIn(suite),
                         [](const testing::TestParamInfo<suite_case>& info) {
                           std::string name = info.param.name;
                           for (auto& ch : name) {
                             if (ch == '-') ch = '_';
                           }
                           return name;
                         });

// The 2015 suite's own post-x-www-form-urlencoded (docs.aws.amazon.com, "Signature Version 4
// test suite"): Content-Type signed, the body hashed but no x-amz-content-sha256 header.
TEST(S3SigV4, original_suite_post_x_www_form_urlencoded) {
  sigv4::request req{"POST", "/", {},
                     {{"Content-Type", "application/x-www-form-urlencoded"},
                      {"Host", "example.amazonaws.com"}},
                     sigv4::sha256_hex("Param1=value1")};
  EXPECT_EQ(req.payload_hash, "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e");
  const auto s = sigv4::sign(req, suite_credentials, suite_scope, false);
  EXPECT_EQ(s.signed_headers, "content-type;host;x-amz-date");
  EXPECT_EQ(s.signature, "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a");
}

// The S3 examples of docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
// ("Signature Calculations for the Authorization Header: Transferring Payload in a Single Chunk"):
// bucket examplebucket, 24 May 2013, the documentation's example keys.
const sigv4::credentials s3_doc_credentials{"AKIAIOSFODNN7EXAMPLE",
                                            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
const sigv4::scope s3_doc_scope{"us-east-1", "s3", utc(2013, 5, 24, 0, 0, 0)};
constexpr const char* empty_sha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

std::string last_line(const std::string& text) { return text.substr(text.rfind('\n') + 1); }

TEST(S3SigV4Doc, get_object_with_range) {
  sigv4::request req{"GET", "/test.txt", {},
                     {{"Host", "examplebucket.s3.amazonaws.com"}, {"Range", "bytes=0-9"}},
                     empty_sha256};
  const auto s = sigv4::sign(req, s3_doc_credentials, s3_doc_scope, true);
  EXPECT_EQ(s.canonical_request,
            "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
            "x-amz-content-sha256:" + std::string(empty_sha256) +
                "\nx-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n" +
                empty_sha256);
  EXPECT_EQ(last_line(s.string_to_sign),
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(s.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(S3SigV4Doc, put_object_encodes_the_key_once) {
  const std::string payload = "Welcome to Amazon S3.";
  sigv4::request req{"PUT", "/test$file.text", {},
                     {{"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                      {"Host", "examplebucket.s3.amazonaws.com"},
                      {"x-amz-storage-class", "REDUCED_REDUNDANCY"}},
                     sigv4::sha256_hex(payload)};
  EXPECT_EQ(req.payload_hash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  const auto s = sigv4::sign(req, s3_doc_credentials, s3_doc_scope, true);
  EXPECT_EQ(s.canonical_request.substr(0, s.canonical_request.find('\n', 4)),
            "PUT\n/test%24file.text");
  EXPECT_EQ(s.signed_headers, "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class");
  EXPECT_EQ(last_line(s.string_to_sign),
            "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d");
  EXPECT_EQ(s.signature, "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(S3SigV4Doc, get_bucket_lifecycle_and_list_objects) {
  sigv4::request lifecycle{"GET", "/", {{"lifecycle", ""}},
                           {{"Host", "examplebucket.s3.amazonaws.com"}}, empty_sha256};
  EXPECT_EQ(sigv4::sign(lifecycle, s3_doc_credentials, s3_doc_scope, true).signature,
            "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
  // Parameters given out of order: the canonical query sorts them.
  sigv4::request list{"GET", "/", {{"prefix", "J"}, {"max-keys", "2"}},
                      {{"Host", "examplebucket.s3.amazonaws.com"}}, empty_sha256};
  const auto s = sigv4::sign(list, s3_doc_credentials, s3_doc_scope, true);
  EXPECT_NE(s.canonical_request.find("\nmax-keys=2&prefix=J\n"), std::string::npos);
  EXPECT_EQ(s.signature, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(S3SigV4, session_token_is_sent_and_signed) {
  sigv4::request req{"PUT", "/k", {}, {{"Host", "h"}}, empty_sha256};
  auto creds = s3_doc_credentials;
  creds.session_token = "token/with+chars=";
  const auto s = sigv4::sign(req, creds, s3_doc_scope, true);
  EXPECT_EQ(s.signed_headers, "host;x-amz-content-sha256;x-amz-date;x-amz-security-token");
  EXPECT_NE(s.canonical_request.find("\nx-amz-security-token:token/with+chars=\n"),
            std::string::npos);
}

TEST(S3SigV4, encoding_and_dates) {
  EXPECT_EQ(sigv4::uri_encode("/a b/é$~-._/x+y", true), "/a%20b/%C3%A9%24~-._/x%2By");
  EXPECT_EQ(sigv4::uri_encode("a/b", false), "a%2Fb");
  EXPECT_EQ(sigv4::amz_date(utc(2015, 8, 30, 12, 36, 0) + std::chrono::milliseconds(999)), "20150830T123600Z");
  EXPECT_EQ(sigv4::amz_day(utc(2024, 2, 29, 23, 59, 59)), "20240229");
}

// ---- the S3 target, keys and addressing ----------------------------------------------------

TEST(S3Target, parses_s3_urls) {
  auto t = parse_s3_url("s3://my-bucket/load/tests/");
  EXPECT_EQ(t.bucket, "my-bucket");
  EXPECT_EQ(t.prefix, "load/tests");
  t = parse_s3_url("S3://b");
  EXPECT_EQ(t.bucket, "b");
  EXPECT_EQ(t.prefix, "");
  EXPECT_THROW(parse_s3_url("http://b/x"), std::invalid_argument);
  EXPECT_THROW(parse_s3_url("s3:///x"), std::invalid_argument);
  try {
    parse_s3_url("s3://bad bucket/x");
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("\"bad bucket\""), std::string::npos) << e.what();
  }
}

TEST(S3Target, flag_first_then_S3_BUCKET) {
  ::setenv("S3_BUCKET", "env-bucket/runs", 1);
  auto t = s3_target_from("");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->bucket, "env-bucket");
  EXPECT_EQ(t->prefix, "runs");
  t = s3_target_from("s3://flag-bucket");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->bucket, "flag-bucket");
  ::unsetenv("S3_BUCKET");
  EXPECT_FALSE(s3_target_from(""));
}

TEST(S3Target, object_key_is_the_relative_path_under_the_prefix) {
  const s3_target t{"b", "runs"};
  EXPECT_EQ(s3_object_key(t, "results/2024-05-01/My/Test/tag-1714550400.csv"),
            "runs/results/2024-05-01/My/Test/tag-1714550400.csv");
  EXPECT_EQ(s3_object_key(t, "./out/x.csv.config.json"), "runs/out/x.csv.config.json");
  EXPECT_EQ(s3_object_key({"b", ""}, "x.json"), "x.json");
  EXPECT_EQ(s3_object_key(t, "/tmp/abs/x.csv"), "runs/x.csv");
  EXPECT_EQ(s3_object_key(t, "../up/x.csv"), "runs/x.csv");
}

TEST(S3Settings, credentials_are_required_and_named) {
  ::unsetenv("AWS_ACCESS_KEY_ID");
  ::unsetenv("AWS_SECRET_ACCESS_KEY");
  try {
    s3_settings_from_environment();
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("AWS_ACCESS_KEY_ID"), std::string::npos) << what;
    EXPECT_NE(what.find("AWS_SECRET_ACCESS_KEY"), std::string::npos) << what;
  }
  ::setenv("AWS_ACCESS_KEY_ID", "id", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
  ::setenv("AWS_REGION", "eu-west-3", 1);
  ::setenv("AWS_ENDPOINT_URL", "ftp://x", 1);
  EXPECT_THROW(s3_settings_from_environment(), std::runtime_error);
  ::setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9000", 1);
  ::setenv("AWS_CA_BUNDLE", "/etc/store-ca.pem", 1);
  const auto s = s3_settings_from_environment();
  EXPECT_EQ(s.region, "eu-west-3");
  EXPECT_EQ(s.endpoint_url, "http://127.0.0.1:9000");
  EXPECT_EQ(s.ca_file, "/etc/store-ca.pem");
  for (const char* name : {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION",
                           "AWS_ENDPOINT_URL", "AWS_CA_BUNDLE"}) {
    ::unsetenv(name);
  }
}

TEST(S3Addressing, virtual_hosted_for_aws_path_style_for_endpoints) {
  s3_settings aws;
  aws.region = "eu-west-1";
  auto where = s3_detail::locate_object(aws, {"results", ""}, "a b/x.csv");
  EXPECT_TRUE(where.tls);
  EXPECT_EQ(where.port, 443);
  EXPECT_EQ(where.host_header, "results.s3.eu-west-1.amazonaws.com");
  EXPECT_EQ(where.path, "/a b/x.csv");
  EXPECT_EQ(where.target, "/a%20b/x.csv");

  where = s3_detail::locate_object(aws, {"my.dotted.bucket", ""}, "x.csv");
  EXPECT_EQ(where.host_header, "s3.eu-west-1.amazonaws.com");
  EXPECT_EQ(where.path, "/my.dotted.bucket/x.csv");

  s3_settings local;
  local.endpoint_url = "http://127.0.0.1:4568";
  where = s3_detail::locate_object(local, {"b", "p"}, "p/r$1.json");
  EXPECT_FALSE(where.tls);
  EXPECT_EQ(where.host, "127.0.0.1");
  EXPECT_EQ(where.port, 4568);
  EXPECT_EQ(where.host_header, "127.0.0.1:4568");
  EXPECT_EQ(where.target, "/b/p/r%241.json");

  local.endpoint_url = "https://store.example:443/base/";
  where = s3_detail::locate_object(local, {"b", ""}, "k");
  EXPECT_TRUE(where.tls);
  EXPECT_EQ(where.host_header, "store.example");
  EXPECT_EQ(where.path, "/base/b/k");
}

TEST(S3Addressing, content_types_and_error_bodies) {
  EXPECT_EQ(s3_detail::content_type_for("a/b.CSV"), "text/csv");
  EXPECT_EQ(s3_detail::content_type_for("a/b.csv.config.json"), "application/json");
  EXPECT_EQ(s3_detail::content_type_for("a/b"), "application/octet-stream");
  EXPECT_EQ(s3_detail::describe_error_body(
                "<?xml version=\"1.0\"?><Error><Code>NoSuchBucket</Code><Message>The specified "
                "bucket does not exist</Message><BucketName>b</BucketName></Error>"),
            "NoSuchBucket: The specified bucket does not exist");
  EXPECT_EQ(s3_detail::describe_error_body("plain\ntext"), "plain text");
}

}  // namespace
