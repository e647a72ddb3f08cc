// TLS end to end: nginx and the node `ws` peer serve certificates this test makes with the
// openssl command (a CA, two CA-signed server certificates, one self-signed), and the engine
// verifies them against the config's ca_file, skips verification with `insecure`, fails
// verification by default, sends SNI for names, and keeps TLS connections alive.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <string>

#include <chaperon/chaperon.hpp>

#include "integration/process_fixture.hpp"
#include "integration/test_control_support.hpp"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using chaperon::json;
using chaperon::session;
using chaperon::task;
using chaperon::itest::nginx_server;
using chaperon::itest::process_options;
using chaperon::itest::temp_dir;
using chaperon::itest::ws_peer_server;
using chaperon::itest::control::count_of;
using chaperon::itest::control::key;
using chaperon::itest::control::seen;

// ---- certificates -------------------------------------------------------------------------------

// Runs openssl in `dir` with `args` (args[0] is a placeholder for the program); throws with its
// output when it fails.
void openssl(const fs::path& dir, std::vector<std::string> args) {
  auto program = chaperon::itest::find_program("openssl");
  if (!program) throw std::runtime_error("openssl is not installed");
  args[0] = program->string();
  auto r = chaperon::itest::run_command(process_options{args, dir}, 30s);
  if (r.exit_code != 0) {
    std::string line;
    for (const auto& a : args) line += a + " ";
    throw std::runtime_error("failed: " + line + "\n" + r.out + r.err);
  }
}

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

// A P-256 key and a certificate for `subject_alt_names` (openssl's syntax: "DNS:x,IP:y"), signed
// by ca.pem/ca.key in `dir`, or self-signed when `self_signed`. Writes <name>.pem and <name>.key.
void make_certificate(const fs::path& dir, const std::string& name, const std::string& sans,
                      bool self_signed) {
  const std::string ext = name + ".ext";
  write_file(dir / ext, "subjectAltName=" + sans +
                            "\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,"
                            "digitalSignature\nextendedKeyUsage=serverAuth\n");
  openssl(dir, {"", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-nodes", "-keyout", name + ".key", "-out", name + ".csr", "-subj",
                "/CN=" + name});
  if (self_signed) {
    openssl(dir, {"", "x509", "-req", "-in", name + ".csr", "-signkey", name + ".key", "-days",
                  "2", "-extfile", ext, "-out", name + ".pem"});
  } else {
    openssl(dir, {"", "x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                  "-CAcreateserial", "-days", "2", "-extfile", ext, "-out", name + ".pem"});
  }
}

void make_certificates(const fs::path& dir) {
  openssl(dir, {"", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj",
                "/CN=chaperon test CA", "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign"});
  // The default server of the TLS port: its address and a name.
  make_certificate(dir, "default", "DNS:tls.test,IP:127.0.0.1", false);
  // Chosen by SNI for "localhost" only: it does not name 127.0.0.1, so a handshake that got it
  // without sending the name would fail verification, and one that got the default certificate
  // for "localhost" would too.
  make_certificate(dir, "localhost", "DNS:localhost", false);
  make_certificate(dir, "self", "DNS:localhost,IP:127.0.0.1", true);
}

// @PORT@: plain, for the fixture's readiness check; @PORT1@: TLS with a server per name (SNI);
// @PORT2@: TLS with the self-signed certificate.
std::string nginx_config(const fs::path& certs) {
  const std::string c = certs.string();
  return R"(worker_processes 1;
pid @PREFIX@/nginx.pid;
error_log stderr warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path @PREFIX@/client_body;
    proxy_temp_path @PREFIX@/proxy;
    fastcgi_temp_path @PREFIX@/fastcgi;
    uwsgi_temp_path @PREFIX@/uwsgi;
    scgi_temp_path @PREFIX@/scgi;
    keepalive_requests 1000000;
    keepalive_timeout 300s;
    default_type text/plain;

    server {
        listen 127.0.0.1:@PORT@;
        location = /nginx_status { stub_status; }
    }
    server {
        listen 127.0.0.1:@PORT1@ ssl default_server;
        server_name tls.test;
        ssl_certificate )" + c + R"(/default.pem;
        ssl_certificate_key )" + c + R"(/default.key;
        # Which connection served the request, and its how-manyth request it was.
        location = /conn { return 200 "$connection $connection_requests\n"; }
        location / { return 200 "default sni=$ssl_server_name\n"; }
    }
    server {
        listen 127.0.0.1:@PORT1@ ssl;
        server_name localhost;
        ssl_certificate )" + c + R"(/localhost.pem;
        ssl_certificate_key )" + c + R"(/localhost.key;
        location / { return 200 "localhost sni=$ssl_server_name\n"; }
    }
    server {
        listen 127.0.0.1:@PORT2@ ssl;
        ssl_certificate )" + c + R"(/self.pem;
        ssl_certificate_key )" + c + R"(/self.key;
        location / { return 200 "self-signed\n"; }
    }
}
)";
}

// ---- scenarios ----------------------------------------------------------------------------------

// GETs every URL of config `urls` and reports what came back.
task<> get_each(session& s) {
  for (const auto& url : s.config_as<json>("urls")) {
    auto r = co_await s.get(url.get<std::string>());
    seen().add(url.get<std::string>(),
               {{"error", to_string(r.error)}, {"status", r.status}, {"body", r.body}});
  }
}

// `k` GETs of /conn, reporting nginx's connection number and request count of each.
task<> get_conn_k_times(session& s) {
  const int k = s.config_as<int>("k");
  json bodies = json::array();
  for (int i = 0; i < k; ++i) {
    auto r = co_await s.get("/conn");
    bodies.push_back(r.body);
  }
  seen().add("conn", bodies);
}

task<> wss_echo(session& s) {
  auto c = co_await s.ws_connect("/ws/echo");
  json report{{"connect", to_string(c.error)}, {"status", c.status}};
  if (c.ok()) {
    co_await s.ws_send("over tls");
    auto m = co_await s.ws_recv();
    report["echo"] = m.message.data;
    report["recv"] = to_string(m.error);
    co_await s.ws_close();
  }
  seen().add("wss", report);
}

// ---- fixture ------------------------------------------------------------------------------------

class Tls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    peers_.start([](const fs::path& binary) {
      certs_ = std::make_unique<temp_dir>();
      make_certificates(certs_->path());
      return std::make_unique<nginx_server>(binary, nginx_config(certs_->path()), 2);
    });
    nginx_ = peers_.nginx.get();
  }
  static void TearDownTestSuite() {
    peers_.nginx.reset();
    certs_.reset();
  }
  void SetUp() override {
    if (!peers_.skip_reason.empty()) GTEST_SKIP() << peers_.skip_reason;
    ASSERT_TRUE(peers_.setup_error.empty()) << peers_.setup_error;
  }

  static std::string https(const std::string& host, std::uint16_t port,
                           const std::string& path = "/") {
    return "https://" + host + ":" + std::to_string(port) + path;
  }
  static std::uint16_t sni_port() { return nginx_->extra_port(1); }
  static std::uint16_t self_signed_port() { return nginx_->extra_port(2); }
  static std::string ca_file() { return (certs_->path() / "ca.pem").string(); }

  static chaperon::run_results get_each_url(std::vector<std::string> urls, json config) {
    config["urls"] = urls;
    return chaperon::itest::control::run_scenario_test(
        chaperon::make_scenario("Tls", get_each), std::move(config));
  }

  static inline std::unique_ptr<temp_dir> certs_;
  static inline chaperon::itest::nginx_suite peers_;
  static inline nginx_server* nginx_ = nullptr;
};

json reply(const std::string& body) { return {{"error", ""}, {"status", 200}, {"body", body}}; }
json tls_failure() { return {{"error", "tls"}, {"status", 0}, {"body", ""}}; }

TEST_F(Tls, VerifiesAgainstTheCaFileAndSendsNoSniForAnAddress) {
  const auto url = https("127.0.0.1", sni_port());
  auto results = get_each_url({url}, {{"ca_file", ca_file()}});

  // An address is no server name: nginx saw none and answered from its default server.
  EXPECT_EQ(seen().only(url), reply("default sni=\n"));
  EXPECT_EQ(count_of(results, key("get", url)), 1u);
  EXPECT_EQ(results.error_count(), 0u);
}

TEST_F(Tls, SniSelectsTheCertificateOfTheName) {
  const auto url = https("localhost", sni_port());
  auto results = get_each_url({url}, {{"ca_file", ca_file()}});

  // Verified against the certificate that names only localhost: nginx chose it by SNI.
  EXPECT_EQ(seen().only(url), reply("localhost sni=localhost\n"));
  EXPECT_EQ(results.error_count(), 0u);
}

TEST_F(Tls, VerificationFailsByDefaultAsAnErrorTlsMetric) {
  const auto signed_by_test_ca = https("127.0.0.1", sni_port());
  const auto self_signed = https("127.0.0.1", self_signed_port());
  auto results = get_each_url({signed_by_test_ca, self_signed}, json::object());

  // Neither certificate chains to a CA the system trusts.
  EXPECT_EQ(seen().only(signed_by_test_ca), tls_failure());
  EXPECT_EQ(seen().only(self_signed), tls_failure());
  const auto k = key("get", signed_by_test_ca, "tls");
  EXPECT_EQ(k.name(), "Error tls get(" + signed_by_test_ca + ")");
  EXPECT_EQ(count_of(results, k), 1u);
  EXPECT_EQ(count_of(results, key("get", self_signed, "tls")), 1u);
  EXPECT_EQ(count_of(results, key("get", signed_by_test_ca)), 0u);
  EXPECT_EQ(results.sessions.completed, 1u);
}

TEST_F(Tls, TheCaFileTrustsOnlyItsOwnCertificates) {
  const auto self_signed = https("127.0.0.1", self_signed_port());
  auto results = get_each_url({self_signed}, {{"ca_file", ca_file()}});
  EXPECT_EQ(seen().only(self_signed), tls_failure());
  EXPECT_EQ(count_of(results, key("get", self_signed, "tls")), 1u);
}

TEST_F(Tls, InsecureAcceptsASelfSignedCertificate) {
  const auto self_signed = https("127.0.0.1", self_signed_port());
  const auto by_name = https("localhost", self_signed_port());
  auto results = get_each_url({self_signed, by_name}, {{"insecure", true}});
  EXPECT_EQ(seen().only(self_signed), reply("self-signed\n"));
  EXPECT_EQ(seen().only(by_name), reply("self-signed\n"));
  EXPECT_EQ(results.error_count(), 0u);
}

TEST_F(Tls, KeepAliveReusesOneTlsConnectionPerSession) {
  constexpr std::size_t sessions = 3;
  constexpr int k = 10;
  const auto base = https("127.0.0.1", sni_port(), "");
  auto results = chaperon::itest::control::run_scenario_test(
      chaperon::make_scenario("TlsKeepAlive", get_conn_k_times),
      {{"base_url", base}, {"ca_file", ca_file()}, {"k", k}}, {}, sessions);

  auto reports = seen().take("conn");
  ASSERT_EQ(reports.size(), sessions);
  std::set<std::string> connections;
  for (const auto& bodies : reports) {
    ASSERT_EQ(bodies.size(), static_cast<std::size_t>(k));
    // "<connection> <requests on it>": one connection, its 1st to k-th request.
    const auto first = bodies[0].get<std::string>();
    const auto connection = first.substr(0, first.find(' '));
    for (int i = 0; i < k; ++i) {
      EXPECT_EQ(bodies[i], connection + " " + std::to_string(i + 1) + "\n");
    }
    connections.insert(connection);
  }
  EXPECT_EQ(connections.size(), sessions);
  EXPECT_EQ(count_of(results, key("get", base + "/conn")), sessions * k);
}

TEST_F(Tls, WssAgainstTheNodeWsPeer) {
  if (!ws_peer_server::available()) GTEST_SKIP() << ws_peer_server::unavailable_reason();
  ws_peer_server peer(certs_->path() / "default.pem", certs_->path() / "default.key");
  ASSERT_EQ(peer.url().substr(0, 8), "https://");
  auto results = chaperon::itest::control::run_scenario_test(
      chaperon::make_scenario("Wss", wss_echo), {{"base_url", peer.url()}, {"ca_file", ca_file()}});

  EXPECT_EQ(seen().only("wss"),
            (json{{"connect", ""}, {"status", 101}, {"echo", "over tls"}, {"recv", ""}}));
  const auto url = "wss://127.0.0.1:" + std::to_string(peer.port()) + "/ws/echo";
  EXPECT_EQ(count_of(results, key("ws_connect", url)), 1u);
  EXPECT_EQ(results.error_count(), 0u);
}

TEST_F(Tls, WssVerificationFailsWithoutTheCa) {
  if (!ws_peer_server::available()) GTEST_SKIP() << ws_peer_server::unavailable_reason();
  ws_peer_server peer(certs_->path() / "default.pem", certs_->path() / "default.key");
  auto results = chaperon::itest::control::run_scenario_test(
      chaperon::make_scenario("Wss", wss_echo), {{"base_url", peer.url()}});
  EXPECT_EQ(seen().only("wss")["connect"], "tls");
  const auto url = "wss://127.0.0.1:" + std::to_string(peer.port()) + "/ws/echo";
  EXPECT_EQ(count_of(results, key("ws_connect", url, "tls")), 1u);
}

TEST_F(Tls, AnUnreadableCaFileIsAConfigErrorNamingTheKey) {
  const auto missing = (certs_->path() / "missing.pem").string();
  auto results = get_each_url({https("127.0.0.1", sni_port())}, {{"ca_file", missing}});
  EXPECT_EQ(results.sessions.failed, 1u);
  EXPECT_EQ(results.total_requests(), 0u);
}

}  // namespace
