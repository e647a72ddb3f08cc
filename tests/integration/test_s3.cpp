// The S3 export end to end against a real S3-compatible server: npm s3rver
// (tests/peers/s3/s3_server.js) on 127.0.0.1 with a temporary directory. s3rver 3.7 checks the
// access key and the form of a V4 Authorization header but not the signature itself; the
// signature is proven by the published vectors in tests/unit/test_sigv4.cpp.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <chaperon/s3.hpp>

#include "integration/process_fixture.hpp"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using chaperon::s3_settings;
using chaperon::s3_target;
using chaperon::itest::child_process;
using chaperon::itest::temp_dir;

const fs::path peer_dir = fs::path(CHAPERON_SOURCE_DIR) / "tests" / "peers" / "s3";
constexpr std::string_view ready_line = "s3-peer listening on ";

std::optional<fs::path> find_node() {
  return chaperon::itest::find_program("node", {"/usr/bin", "/usr/local/bin"});
}

std::string peer_unavailable_reason() {
  if (!find_node()) return "node is not installed (scripts/setup.sh installs nodejs)";
  const auto module = peer_dir / "node_modules" / "s3rver";
  if (!fs::is_directory(module)) {
    return module.string() + " is missing (run npm ci in tests/peers/s3)";
  }
  return {};
}

struct tls_files {
  fs::path key;
  fs::path cert;
};

// s3rver with one bucket, "results", storing under a temporary directory; https with `tls`.
class s3_peer {
 public:
  explicit s3_peer(const std::optional<tls_files>& tls = std::nullopt) {
    std::vector<std::string> argv{find_node()->string(), (peer_dir / "s3_server.js").string(),
                                  "--directory", store_.path().string(), "--bucket", "results"};
    if (tls) {
      argv.insert(argv.end(), {"--key", tls->key.string(), "--cert", tls->cert.string()});
    }
    process_ = std::make_unique<child_process>(chaperon::itest::process_options{argv, {}});
    const auto line = process_->wait_for_line(
        [](std::string_view l) { return l.starts_with(ready_line); }, 20s);
    if (!line) {
      process_->stop(2s);
      process_->wait_output_closed(5s);
      throw std::runtime_error("s3_server.js did not report a port; stdout: " +
                               process_->stdout_text() + " stderr: " + process_->stderr_text());
    }
    url_ = line->substr(ready_line.size());
    port_ = static_cast<std::uint16_t>(std::stoi(url_.substr(url_.rfind(':') + 1)));
  }

  std::uint16_t port() const noexcept { return port_; }

  // The credentials s3rver knows, and its address as an S3-compatible endpoint.
  s3_settings settings() const {
    s3_settings s;
    s.access_key_id = "S3RVER";
    s.secret_access_key = "S3RVER";
    s.region = "us-east-1";
    s.endpoint_url = url_;
    s.timeout = 10s;
    return s;
  }

  // Where s3rver 3.7 keeps an object's bytes (its filesystem store's layout), for objects that
  // were sent over https, which http_request does not speak.
  fs::path stored_object(const std::string& bucket, const std::string& key) const {
    auto path = store_.path() / bucket / key;
    return path.parent_path() / (path.filename().string() + "._S3rver_object");
  }

  // The object's bytes through s3rver's own GET (path style, anonymous).
  chaperon::itest::http_reply get(const std::string& bucket, const std::string& key) const {
    return chaperon::itest::http_request(port_, "GET", "/" + bucket + "/" + key);
  }

 private:
  temp_dir store_;
  std::unique_ptr<child_process> process_;
  std::string url_;  // "http://127.0.0.1:<port>"
  std::uint16_t port_ = 0;
};

void write_file(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

// Runs the test body in `dir`, as the CLI runs in the folder its results/ are written to.
class working_directory {
 public:
  explicit working_directory(const fs::path& dir) : saved_(fs::current_path()) {
    fs::current_path(dir);
  }
  ~working_directory() { fs::current_path(saved_); }

 private:
  fs::path saved_;
};

// The message of the exception `upload` throws ("" when it does not throw).
template <class Upload>
std::string failure_of(Upload&& upload) {
  try {
    upload();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return {};
}

class S3Export : public testing::Test {
 protected:
  void SetUp() override {
    if (const auto why = peer_unavailable_reason(); !why.empty()) {
      GTEST_SKIP() << "the s3rver peer cannot run: " << why;
    }
    peer_ = std::make_unique<s3_peer>();
  }

  std::unique_ptr<s3_peer> peer_;
  temp_dir local_;
};

TEST_F(S3Export, result_and_config_files_arrive_under_their_relative_keys) {
  const std::string csv =
      "session_action_name,total_count,max\n get(http://127.0.0.1/a b?q=1),3,1.5\n";
  std::string json = "{\"config\":{\"name\":\"caf\xc3\xa9\"}}";
  json += std::string("\0\x01\xff", 3);  // bytes that a text round trip would mangle
  const fs::path result = "results/2026-11-29/My/Load/tag $1-1764400000.csv";
  const fs::path config = "results/2026-11-29/My/Load/tag $1-1764400000.csv.config.json";
  write_file(local_.path() / result, csv);
  write_file(local_.path() / config, json);

  working_directory in(local_.path());
  const auto urls =
      chaperon::s3_upload_files(peer_->settings(), {"results", "runs/ci"}, {result, config});

  ASSERT_EQ(urls.size(), 2u);
  EXPECT_EQ(urls[0], "s3://results/runs/ci/" + result.generic_string());
  EXPECT_EQ(urls[1], "s3://results/runs/ci/" + config.generic_string());
  const std::string sent_as = "runs/ci/results/2026-11-29/My/Load/tag%20%241-1764400000.csv";
  const auto got_csv = peer_->get("results", sent_as);
  EXPECT_EQ(got_csv.status, 200);
  EXPECT_EQ(got_csv.body, csv);
  const auto got_json = peer_->get("results", sent_as + ".config.json");
  EXPECT_EQ(got_json.status, 200);
  EXPECT_EQ(got_json.body, json);
}

TEST_F(S3Export, settings_from_the_environment_reach_the_endpoint) {
  const auto expected = peer_->settings();
  ::setenv("AWS_ACCESS_KEY_ID", expected.access_key_id.c_str(), 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", expected.secret_access_key.c_str(), 1);
  ::setenv("AWS_SESSION_TOKEN", "temporary-token", 1);
  ::setenv("AWS_ENDPOINT_URL", expected.endpoint_url.c_str(), 1);
  ::setenv("S3_BUCKET", "results", 1);
  const auto settings = chaperon::s3_settings_from_environment();
  const auto target = chaperon::s3_target_from("");
  for (const char* name : {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                           "AWS_ENDPOINT_URL", "S3_BUCKET"}) {
    ::unsetenv(name);
  }
  ASSERT_TRUE(target);
  write_file(local_.path() / "one.json", "[1]");

  chaperon::s3_upload_file(settings, *target, "one.json", local_.path() / "one.json");

  const auto got = peer_->get("results", "one.json");
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(got.body, "[1]");
}

TEST_F(S3Export, missing_bucket_names_bucket_key_and_server_message) {
  const auto file = local_.path() / "r.csv";
  write_file(file, "x\n");
  const auto message = failure_of([&] {
    chaperon::s3_upload_file(peer_->settings(), {"no-such-bucket", ""}, "p/r.csv", file);
  });
  EXPECT_NE(message.find("bucket \"no-such-bucket\""), std::string::npos) << message;
  EXPECT_NE(message.find("key \"p/r.csv\""), std::string::npos) << message;
  EXPECT_NE(message.find("HTTP 404"), std::string::npos) << message;
  EXPECT_NE(message.find("NoSuchBucket: The specified bucket does not exist"), std::string::npos)
      << message;
  EXPECT_TRUE(fs::exists(file));  // the local file is never touched
}

TEST_F(S3Export, unknown_access_key_is_the_servers_refusal) {
  const auto file = local_.path() / "r.csv";
  write_file(file, "x\n");
  auto settings = peer_->settings();
  settings.access_key_id = "AKIDNOTKNOWN";
  const auto message = failure_of(
      [&] { chaperon::s3_upload_file(settings, {"results", ""}, "r.csv", file); });
  EXPECT_NE(message.find("bucket \"results\", key \"r.csv\""), std::string::npos) << message;
  EXPECT_NE(message.find("HTTP 403"), std::string::npos) << message;
  EXPECT_NE(message.find("InvalidAccessKeyId"), std::string::npos) << message;
  EXPECT_EQ(peer_->get("results", "r.csv").status, 404);
}

TEST_F(S3Export, unreachable_endpoint_and_unreadable_file_are_named) {
  auto settings = peer_->settings();
  settings.endpoint_url = "http://127.0.0.1:" + std::to_string(chaperon::itest::free_tcp_port());
  const auto file = local_.path() / "r.csv";
  write_file(file, "x\n");
  auto message = failure_of(
      [&] { chaperon::s3_upload_file(settings, {"results", ""}, "r.csv", file); });
  EXPECT_NE(message.find("bucket \"results\", key \"r.csv\""), std::string::npos) << message;
  EXPECT_NE(message.find("connecting failed"), std::string::npos) << message;

  message = failure_of([&] {
    chaperon::s3_upload_file(peer_->settings(), {"results", ""}, "gone.csv",
                             local_.path() / "gone.csv");
  });
  EXPECT_NE(message.find("gone.csv"), std::string::npos) << message;
  EXPECT_NE(message.find("cannot read the file"), std::string::npos) << message;
}

// A CA and a certificate for 127.0.0.1 signed by it, made with the openssl program.
std::optional<tls_files> make_certificates(const fs::path& dir, std::string& why) {
  const auto openssl = chaperon::itest::find_program("openssl");
  if (!openssl) {
    why = "openssl is not installed";
    return std::nullopt;
  }
  write_file(dir / "san.cnf", "subjectAltName=IP:127.0.0.1\n");
  const std::vector<std::vector<std::string>> steps{
      {"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
       "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=chaperon test CA"},
      {"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
       "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"},
      {"x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
       "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "san.cnf"}};
  for (const auto& step : steps) {
    std::vector<std::string> argv{openssl->string()};
    argv.insert(argv.end(), step.begin(), step.end());
    const auto r = chaperon::itest::run_command({argv, dir}, 30s);
    if (r.exit_code != 0) {
      why = "openssl " + step.front() + " failed: " + r.err;
      return std::nullopt;
    }
  }
  return tls_files{dir / "server.key", dir / "server.pem"};
}

// https: the certificate is verified against a CA given as ca_file (AWS_CA_BUNDLE), and an
// upload without that CA fails in the handshake.
TEST_F(S3Export, https_endpoint_with_its_own_ca) {
  temp_dir certs;
  std::string why;
  const auto tls = make_certificates(certs.path(), why);
  ASSERT_TRUE(tls) << why;
  s3_peer secure(tls);
  auto settings = secure.settings();
  ASSERT_EQ(settings.endpoint_url.rfind("https://127.0.0.1:", 0), 0u) << settings.endpoint_url;
  const auto file = local_.path() / "secure.csv";
  write_file(file, "a,b\n1,2\n");

  const auto refused = failure_of(
      [&] { chaperon::s3_upload_file(settings, {"results", ""}, "secure.csv", file); });
  EXPECT_NE(refused.find("TLS handshake failed"), std::string::npos) << refused;
  EXPECT_NE(refused.find("key \"secure.csv\""), std::string::npos) << refused;

  settings.ca_file = (certs.path() / "ca.pem").string();
  chaperon::s3_upload_file(settings, {"results", ""}, "secure.csv", file);
  EXPECT_EQ(chaperon::itest::read_text_file(secure.stored_object("results", "secure.csv")),
            "a,b\n1,2\n");
}

// A listener that never accepts: the connection completes in the kernel's backlog and the
// request is never answered.
TEST_F(S3Export, silent_server_times_out) {
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(listener, 4), 0);
  socklen_t length = sizeof address;
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length), 0);

  auto settings = peer_->settings();
  settings.endpoint_url = "http://127.0.0.1:" + std::to_string(ntohs(address.sin_port));
  settings.timeout = 300ms;
  const auto file = local_.path() / "r.csv";
  write_file(file, "x\n");
  const auto started = std::chrono::steady_clock::now();
  const auto message = failure_of(
      [&] { chaperon::s3_upload_file(settings, {"results", ""}, "r.csv", file); });
  const auto took = std::chrono::steady_clock::now() - started;
  ::close(listener);
  EXPECT_NE(message.find("reading the response timed out"), std::string::npos) << message;
  EXPECT_NE(message.find("key \"r.csv\""), std::string::npos) << message;
  EXPECT_LT(took, 5s);
}

}  // namespace

namespace {

// The CLI end to end: a run against the demo target, its results written locally and uploaded
// under the same relative keys; a failed upload keeps the local files and fails the command.
TEST_F(S3Export, cli_uploads_the_results_it_writes) {
  chaperon::itest::demo_server demo;
  const auto settings = peer_->settings();
  ::setenv("AWS_ACCESS_KEY_ID", settings.access_key_id.c_str(), 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", settings.secret_access_key.c_str(), 1);
  ::setenv("AWS_ENDPOINT_URL", settings.endpoint_url.c_str(), 1);
  auto run = [&](const std::string& s3_url) {
    return chaperon::itest::run_command(
        {{CHAPERON_CLI_BINARY, "quick", demo.url() + "/", "-s", "2", "-d", "200ms",
          "--no-progress", "-o", "out/quick", "--s3", s3_url},
         local_.path()},
        60s);
  };
  const auto ok = run("s3://results/ci");
  const auto written = chaperon::itest::read_text_file(local_.path() / "out/quick.csv");
  const auto missing = run("s3://no-such-bucket/ci");
  for (const char* name : {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL"}) {
    ::unsetenv(name);
  }

  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.out.find("uploaded: s3://results/ci/out/quick.csv"), std::string::npos) << ok.out;
  const auto csv = peer_->get("results", "ci/out/quick.csv");
  ASSERT_EQ(csv.status, 200);
  EXPECT_EQ(csv.body, written);
  EXPECT_EQ(peer_->get("results", "ci/out/quick.config.json").status, 200);

  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("no-such-bucket"), std::string::npos) << missing.err;
  EXPECT_NE(missing.err.find("the local files are kept"), std::string::npos) << missing.err;
  EXPECT_TRUE(fs::exists(local_.path() / "out/quick.csv"));
}

}  // namespace
