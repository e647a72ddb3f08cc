#pragma once
// Real peers for the integration tests: child processes with captured output, the demo target
// and nginx on ephemeral 127.0.0.1 ports, and a tiny blocking HTTP client that reads their
// counters without going through the engine under test.
//
// Every wait here is bounded and event driven (output arrives, the process exits, a connect
// succeeds); nothing sleeps to guess when a peer is ready.

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace chaperon::itest {

using namespace std::chrono_literals;

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it on destruction.
class temp_dir {
 public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

struct process_options {
  std::vector<std::string> argv;  // argv[0] is the program's path
  std::filesystem::path cwd;      // empty: the test's own working directory
};

// A child process in its own process group, with stdout and stderr captured by a background
// reader. Destruction stops the whole group and reaps it.
class child_process {
 public:
  // Throws std::system_error when the program cannot be started.
  explicit child_process(const process_options& options);
  ~child_process();
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  pid_t pid() const noexcept { return pid_; }

  // The first complete stdout line for which `match` is true, waiting at most `timeout`;
  // nullopt when the time runs out or the process exits first.
  std::optional<std::string> wait_for_line(const std::function<bool(std::string_view)>& match,
                                           std::chrono::milliseconds timeout);
  // Returns when new output arrives, the process exits, or `timeout` passes, whichever is first.
  void wait_for_activity(std::chrono::milliseconds timeout);
  // The exit status (a signal N is reported as 128 + N), or nullopt while it still runs after
  // `timeout`.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  bool exited() const;

  // SIGTERM to the group, then SIGKILL when it has not exited after `grace`; always reaps.
  void stop(std::chrono::milliseconds grace = 5s);

  std::string stdout_text() const;
  std::string stderr_text() const;
  // Waits (bounded) until both output pipes are closed, so that the texts are complete.
  bool wait_output_closed(std::chrono::milliseconds timeout);

 private:
  void reader_loop();
  void on_exit_event();
  void close_fds() noexcept;

  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  int pid_fd_ = -1;
  int wake_read_ = -1;
  int wake_write_ = -1;

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::string out_;
  std::string err_;
  std::size_t out_scanned_ = 0;  // stdout bytes already offered to wait_for_line
  bool out_closed_ = false;
  bool err_closed_ = false;
  std::optional<int> exit_status_;
  std::thread reader_;
};

struct command_result {
  int exit_code = -1;
  std::string out;
  std::string err;
  bool timed_out = false;
};

// Runs a program to completion (killed after `timeout`) and returns its status and output.
command_result run_command(const process_options& options, std::chrono::milliseconds timeout);

// A 127.0.0.1 port that was free a moment ago (bound to port 0, then released).
std::uint16_t free_tcp_port();
// Whether a TCP connection to 127.0.0.1:port succeeds right now.
bool can_connect(std::uint16_t port);

struct http_reply {
  int status = 0;  // 0: no valid response (connection failed, timed out, malformed)
  std::string body;
};

// One HTTP/1.0 request on a fresh connection to 127.0.0.1:port, bounded by `timeout`.
http_reply http_request(std::uint16_t port, std::string_view method, std::string_view target,
                        std::string_view body = {}, std::chrono::milliseconds timeout = 5s);

// The first executable `name` in PATH or in `extra_dirs`, or nullopt.
std::optional<std::filesystem::path> find_program(std::string_view name,
                                                  const std::vector<std::filesystem::path>&
                                                      extra_dirs = {});

// The bundled demo target on an ephemeral port.
class demo_server {
 public:
  // `extra_args` follow "--port 0" on its command line (e.g. the truth-mode flags). Throws
  // std::runtime_error (with the program's output) when it does not come up in time.
  explicit demo_server(std::vector<std::string> extra_args = {});

  std::uint16_t port() const noexcept { return port_; }
  std::string url() const;  // "http://127.0.0.1:<port>"

  // GET /stats: {"requests": n, "by_path": {"/x": n, ...}}.
  nlohmann::json stats() const;
  // The count for one path in /stats (0 when it has not been requested).
  std::uint64_t path_count(const std::string& path) const;
  void reset_stats() const;

 private:
  std::unique_ptr<child_process> process_;
  std::uint16_t port_ = 0;
};

// tests/peers/ws_server.js (the npm `ws` package under node) on an ephemeral port: the demo
// target's WebSocket endpoints and channels, served by an unrelated implementation.
class ws_peer_server {
 public:
  // Whether node and tests/peers/node_modules/ws are there (scripts/setup.sh installs both).
  static bool available();
  // Why the peer cannot run ("" when it can), naming what is missing and how to get it.
  static std::string unavailable_reason();

  // Throws std::runtime_error (with node's output) when it is unavailable or does not come up.
  ws_peer_server();
  // The same peer over TLS (tests/peers/wss_server.js) with this certificate chain and key (PEM):
  // url() is then "https://127.0.0.1:<port>" and stats() is not available.
  ws_peer_server(const std::filesystem::path& cert_file, const std::filesystem::path& key_file);

  std::uint16_t port() const noexcept { return port_; }
  std::string url() const;  // "http://127.0.0.1:<port>"

  // GET /stats: {"requests", "by_path", "ws_messages_in", "ws_messages_out", "ws_open"}.
  nlohmann::json stats() const;

 private:
  std::unique_ptr<child_process> process_;
  std::uint16_t port_ = 0;
  bool tls_ = false;
};

// nginx's own counters from its stub_status page.
struct nginx_counters {
  std::uint64_t accepts = 0;
  std::uint64_t handled = 0;
  std::uint64_t requests = 0;
};

// nginx with tests/fixtures/nginx.conf.in on an ephemeral port, its files in a temp dir.
class nginx_server {
 public:
  // The nginx program from PATH or /usr/sbin, or nullopt when it is not installed.
  static std::optional<std::filesystem::path> find_binary();

  // Throws std::runtime_error (with nginx's output) when it does not come up.
  explicit nginx_server(const std::filesystem::path& binary);
  // nginx with another config template: besides @PORT@ (which must serve /nginx_status over plain
  // HTTP, the readiness check) and @PREFIX@, it gets `extra_ports` more free ports as @PORT1@,
  // @PORT2@, ... (e.g. for TLS listeners).
  nginx_server(const std::filesystem::path& binary, std::string config_template,
               std::size_t extra_ports);
  ~nginx_server();

  std::uint16_t port() const noexcept { return port_; }
  std::string url() const;
  // The i-th extra port (1-based, as in the template).
  std::uint16_t extra_port(std::size_t i) const { return extra_ports_.at(i - 1); }

  // Read through a request of its own, which counts as one accepted connection and one request.
  nginx_counters counters() const;

 private:
  bool try_start(const std::filesystem::path& binary, std::uint16_t port);
  void start(const std::filesystem::path& binary, std::size_t extra_ports);

  std::unique_ptr<temp_dir> dir_;
  std::unique_ptr<child_process> process_;
  std::uint16_t port_ = 0;
  std::vector<std::uint16_t> extra_ports_;
  std::string template_;
  std::string last_output_;
};

// The peers of a test suite, started once by its SetUpTestSuite: nginx when it is installed, and
// whatever else `more` starts. A missing nginx is a reason to skip; any exception on the way is
// kept as the setup error, for SetUp to fail each test with.
struct nginx_suite {
  std::unique_ptr<nginx_server> nginx;
  std::string skip_reason;
  std::string setup_error;

  // `make` starts nginx from its binary (default: the standard test config).
  void start(
      const std::function<std::unique_ptr<nginx_server>(const std::filesystem::path&)>& make = {},
      const std::function<void()>& more = {});
};

// Fills in the config template: every "@PORT@" and "@PREFIX@" is replaced.
std::string render_nginx_config(std::string_view template_text, std::uint16_t port,
                                const std::filesystem::path& prefix);

// The whole content of a file; throws std::runtime_error when it cannot be read.
std::string read_text_file(const std::filesystem::path& path);

}  // namespace chaperon::itest
