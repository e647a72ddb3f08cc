#include "integration/process_fixture.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>

namespace chaperon::itest {

namespace fs = std::filesystem;
using steady = std::chrono::steady_clock;

namespace {

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

void close_fd(int& fd) noexcept {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

// Close-on-exec on both ends, so that no other child inherits them and keeps them open.
void make_pipe(int (&fds)[2]) {
  if (::pipe2(fds, O_CLOEXEC) != 0) throw_errno("pipe2");
}

class socket_guard {
 public:
  socket_guard() : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    if (fd_ < 0) throw_errno("socket");
  }
  ~socket_guard() { close_fd(fd_); }
  socket_guard(const socket_guard&) = delete;
  socket_guard& operator=(const socket_guard&) = delete;
  int fd() const noexcept { return fd_; }

 private:
  int fd_;
};

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

void set_io_timeout(int fd, std::chrono::milliseconds timeout) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

int decode_wait_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// Runs in the forked child, where only async-signal-safe calls are allowed until exec. A failure
// is reported to the parent as the errno value on `report` (close-on-exec, so a successful exec
// closes it without writing).
[[noreturn]] void exec_child(char* const* argv, const char* cwd, int in, int out, int err,
                             int report) {
  ::setpgid(0, 0);
  ::dup2(in, STDIN_FILENO);
  ::dup2(out, STDOUT_FILENO);
  ::dup2(err, STDERR_FILENO);
  if (*cwd == '\0' || ::chdir(cwd) == 0) ::execv(argv[0], argv);
  const int e = errno;
  (void)!::write(report, &e, sizeof e);
  ::_exit(127);
}

}  // namespace

// ---- temp_dir -----------------------------------------------------------------------------------

temp_dir::temp_dir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base && *base ? base : "/tmp") + "/chaperon-it-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) throw_errno("mkdtemp " + pattern);
  path_ = pattern;
}

temp_dir::~temp_dir() {
  std::error_code ignored;
  fs::remove_all(path_, ignored);
}

// ---- child_process ------------------------------------------------------------------------------

child_process::child_process(const process_options& options) {
  if (options.argv.empty()) throw std::invalid_argument("child_process: empty argv");
  // Everything the child needs is prepared before fork.
  std::vector<char*> argv;
  for (const auto& a : options.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const std::string cwd = options.cwd.string();
  int out[2], err[2], exec_report[2], wake[2];
  make_pipe(out);
  make_pipe(err);
  make_pipe(exec_report);
  make_pipe(wake);
  const int null_in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_in < 0) throw_errno("open /dev/null");

  pid_ = ::fork();
  if (pid_ < 0) throw_errno("fork");
  if (pid_ == 0) exec_child(argv.data(), cwd.c_str(), null_in, out[1], err[1], exec_report[1]);
  // Both sides set the group, so that a stop right after the fork cannot miss the child.
  ::setpgid(pid_, pid_);
  ::close(null_in);
  ::close(out[1]);
  ::close(err[1]);
  ::close(exec_report[1]);
  int child_errno = 0;
  const auto n = ::read(exec_report[0], &child_errno, sizeof child_errno);
  ::close(exec_report[0]);
  out_fd_ = out[0];
  err_fd_ = err[0];
  wake_read_ = wake[0];
  wake_write_ = wake[1];
  if (n == static_cast<ssize_t>(sizeof child_errno)) {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    close_fds();
    throw std::system_error(child_errno, std::generic_category(),
                            "cannot start " + options.argv[0]);
  }
  // Through syscall(): glibc 2.36 declares pidfd_open without C linkage for C++.
  pid_fd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
  if (pid_fd_ < 0) {
    const int e = errno;
    ::kill(-pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    close_fds();
    throw std::system_error(e, std::generic_category(), "pidfd_open");
  }
  reader_ = std::thread([this] { reader_loop(); });
}

child_process::~child_process() {
  stop();
  if (reader_.joinable()) {
    const char byte = 0;
    (void)!::write(wake_write_, &byte, 1);
    reader_.join();
  }
  close_fds();
}

void child_process::close_fds() noexcept {
  close_fd(out_fd_);
  close_fd(err_fd_);
  close_fd(pid_fd_);
  close_fd(wake_read_);
  close_fd(wake_write_);
}

void child_process::on_exit_event() {
  // The leader is a zombie until waitpid, so its id (and the group id) cannot be reused yet:
  // whatever is left in the group is ours to end.
  ::kill(-pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  std::lock_guard lock(mutex_);
  exit_status_ = decode_wait_status(status);
}

void child_process::reader_loop() {
  char buffer[8192];
  bool reaped = false;
  for (;;) {
    bool out_open, err_open;
    {
      std::lock_guard lock(mutex_);
      out_open = !out_closed_;
      err_open = !err_closed_;
    }
    if (!out_open && !err_open && reaped) return;
    pollfd fds[4] = {{out_open ? out_fd_ : -1, POLLIN, 0},
                     {err_open ? err_fd_ : -1, POLLIN, 0},
                     {reaped ? -1 : pid_fd_, POLLIN, 0},
                     {wake_read_, POLLIN, 0}};
    if (::poll(fds, 4, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[3].revents != 0) return;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].revents == 0) continue;
      const auto n = ::read(fds[i].fd, buffer, sizeof buffer);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      std::lock_guard lock(mutex_);
      if (n > 0) {
        (i == 0 ? out_ : err_).append(buffer, static_cast<std::size_t>(n));
      } else {
        (i == 0 ? out_closed_ : err_closed_) = true;
      }
    }
    if (fds[2].revents != 0) {
      on_exit_event();
      reaped = true;
    }
    changed_.notify_all();
  }
}

std::optional<std::string> child_process::wait_for_line(
    const std::function<bool(std::string_view)>& match, std::chrono::milliseconds timeout) {
  const auto deadline = steady::now() + timeout;
  std::unique_lock lock(mutex_);
  for (;;) {
    for (auto nl = out_.find('\n', out_scanned_); nl != std::string::npos;
         nl = out_.find('\n', out_scanned_)) {
      std::string line = out_.substr(out_scanned_, nl - out_scanned_);
      out_scanned_ = nl + 1;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (match(line)) return line;
    }
    if (exit_status_ && out_closed_) return std::nullopt;
    if (changed_.wait_until(lock, deadline) == std::cv_status::timeout &&
        out_.find('\n', out_scanned_) == std::string::npos) {
      return std::nullopt;
    }
  }
}

void child_process::wait_for_activity(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  const auto out_size = out_.size();
  const auto err_size = err_.size();
  const bool was_exited = exit_status_.has_value();
  changed_.wait_for(lock, timeout, [&] {
    return out_.size() != out_size || err_.size() != err_size ||
           exit_status_.has_value() != was_exited;
  });
}

std::optional<int> child_process::wait_exit(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, timeout, [&] { return exit_status_.has_value(); });
  return exit_status_;
}

bool child_process::exited() const {
  std::lock_guard lock(mutex_);
  return exit_status_.has_value();
}

void child_process::stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0 || !reader_.joinable() || exited()) return;
  ::kill(-pid_, SIGTERM);
  if (wait_exit(grace)) return;
  ::kill(-pid_, SIGKILL);
  ::kill(pid_, SIGKILL);
  wait_exit(30s);
}

bool child_process::wait_output_closed(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return out_closed_ && err_closed_; });
}

std::string child_process::stdout_text() const {
  std::lock_guard lock(mutex_);
  return out_;
}

std::string child_process::stderr_text() const {
  std::lock_guard lock(mutex_);
  return err_;
}

command_result run_command(const process_options& options, std::chrono::milliseconds timeout) {
  child_process p(options);
  command_result r;
  auto status = p.wait_exit(timeout);
  if (!status) {
    r.timed_out = true;
    p.stop(2s);
    status = p.wait_exit(30s);
  }
  p.wait_output_closed(5s);
  r.exit_code = status.value_or(-1);
  r.out = p.stdout_text();
  r.err = p.stderr_text();
  return r;
}

// ---- sockets --------------------------------------------------------------------------------------

std::uint16_t free_tcp_port() {
  socket_guard s;
  auto addr = loopback(0);
  if (::bind(s.fd(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) throw_errno("bind");
  socklen_t len = sizeof addr;
  if (::getsockname(s.fd(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    throw_errno("getsockname");
  }
  return ntohs(addr.sin_port);
}

bool can_connect(std::uint16_t port) {
  socket_guard s;
  set_io_timeout(s.fd(), 2s);
  auto addr = loopback(port);
  return ::connect(s.fd(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
}

http_reply http_request(std::uint16_t port, std::string_view method, std::string_view target,
                        std::string_view body, std::chrono::milliseconds timeout) {
  const auto deadline = steady::now() + timeout;
  socket_guard s;
  set_io_timeout(s.fd(), timeout);
  auto addr = loopback(port);
  if (::connect(s.fd(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return {};
  // HTTP/1.0 keeps the reply simple: no chunked body, and the server closes when done.
  std::ostringstream req;
  req << method << ' ' << target << " HTTP/1.0\r\nHost: 127.0.0.1:" << port
      << "\r\nContent-Length: " << body.size() << "\r\n\r\n"
      << body;
  const std::string text = req.str();
  std::size_t sent = 0;
  while (sent < text.size()) {
    const auto n = ::send(s.fd(), text.data() + sent, text.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return {};
    sent += static_cast<std::size_t>(n);
  }
  std::string raw;
  char buffer[8192];
  for (;;) {
    if (steady::now() > deadline) return {};
    const auto n = ::recv(s.fd(), buffer, sizeof buffer, 0);
    if (n < 0) return {};
    if (n == 0) break;
    raw.append(buffer, static_cast<std::size_t>(n));
  }
  const auto head_end = raw.find("\r\n\r\n");
  if (!raw.starts_with("HTTP/1.") || head_end == std::string::npos || raw.size() < 12) return {};
  http_reply reply;
  reply.status = std::atoi(raw.substr(9, 3).c_str());
  reply.body = raw.substr(head_end + 4);
  return reply;
}

// ---- programs -------------------------------------------------------------------------------------

std::optional<fs::path> find_program(std::string_view name, const std::vector<fs::path>& extra_dirs) {
  std::vector<fs::path> dirs;
  if (const char* path = std::getenv("PATH")) {
    std::stringstream in(path);
    std::string dir;
    while (std::getline(in, dir, ':')) {
      if (!dir.empty()) dirs.emplace_back(dir);
    }
  }
  dirs.insert(dirs.end(), extra_dirs.begin(), extra_dirs.end());
  for (const auto& d : dirs) {
    const auto candidate = d / name;
    if (::access(candidate.c_str(), X_OK) == 0 && !fs::is_directory(candidate)) return candidate;
  }
  return std::nullopt;
}

namespace {

// The port announced by a line "<ready><port>", waiting at most `timeout`; throws with the
// program's output when the line does not come.
std::uint16_t wait_for_port(child_process& process, std::string_view ready,
                            std::string_view program, std::chrono::milliseconds timeout) {
  auto line = process.wait_for_line([&](std::string_view l) { return l.starts_with(ready); },
                                    timeout);
  if (!line) {
    process.stop(2s);
    process.wait_output_closed(5s);
    throw std::runtime_error(std::string(program) + " did not report a port; stdout: " +
                             process.stdout_text() + " stderr: " + process.stderr_text());
  }
  return static_cast<std::uint16_t>(std::stoi(line->substr(ready.size())));
}

std::string loopback_url(std::uint16_t port) { return "http://127.0.0.1:" + std::to_string(port); }

nlohmann::json get_stats(std::uint16_t port) {
  auto reply = http_request(port, "GET", "/stats");
  if (reply.status != 200) throw std::runtime_error("GET /stats failed");
  return nlohmann::json::parse(reply.body);
}

}  // namespace

// ---- demo_server ----------------------------------------------------------------------------------

demo_server::demo_server(std::vector<std::string> extra_args) {
  std::vector<std::string> argv{CHAPERON_DEMO_BINARY, "--port", "0"};
  argv.insert(argv.end(), std::make_move_iterator(extra_args.begin()),
              std::make_move_iterator(extra_args.end()));
  process_ = std::make_unique<child_process>(process_options{std::move(argv), {}});
  port_ = wait_for_port(*process_, "chaperon-demo listening on http://127.0.0.1:",
                        "chaperon-demo", 15s);
}

std::string demo_server::url() const { return loopback_url(port_); }

nlohmann::json demo_server::stats() const { return get_stats(port_); }

std::uint64_t demo_server::path_count(const std::string& path) const {
  auto s = stats();
  const auto& by_path = s.at("by_path");
  auto it = by_path.find(path);
  return it == by_path.end() ? 0 : it->get<std::uint64_t>();
}

void demo_server::reset_stats() const {
  if (http_request(port_, "POST", "/stats/reset").status != 200) {
    throw std::runtime_error("POST /stats/reset failed");
  }
}

// ---- ws_peer_server -------------------------------------------------------------------------------

namespace {

fs::path peers_dir() { return fs::path(CHAPERON_SOURCE_DIR) / "tests" / "peers"; }

std::optional<fs::path> find_node() {
  return find_program("node", {"/usr/bin", "/usr/local/bin"});
}

}  // namespace

std::string ws_peer_server::unavailable_reason() {
  if (!find_node()) return "node is not installed (scripts/setup.sh installs nodejs)";
  const auto module = peers_dir() / "node_modules" / "ws";
  if (!fs::is_directory(module)) {
    return module.string() + " is missing (scripts/setup.sh runs npm ci in tests/peers)";
  }
  return {};
}

bool ws_peer_server::available() { return unavailable_reason().empty(); }

ws_peer_server::ws_peer_server() {
  if (const auto why = unavailable_reason(); !why.empty()) {
    throw std::runtime_error("the ws peer cannot run: " + why);
  }
  process_ = std::make_unique<child_process>(process_options{
      {find_node()->string(), (peers_dir() / "ws_server.js").string(), "--port", "0"}, {}});
  port_ = wait_for_port(*process_, "ws-peer listening on http://127.0.0.1:", "ws_server.js", 15s);
}

ws_peer_server::ws_peer_server(const fs::path& cert_file, const fs::path& key_file) : tls_(true) {
  if (const auto why = unavailable_reason(); !why.empty()) {
    throw std::runtime_error("the ws peer cannot run: " + why);
  }
  process_ = std::make_unique<child_process>(process_options{
      {find_node()->string(), (peers_dir() / "wss_server.js").string(), "--cert",
       cert_file.string(), "--key", key_file.string(), "--port", "0"},
      {}});
  port_ = wait_for_port(*process_, "ws-peer listening on https://127.0.0.1:", "wss_server.js", 15s);
}

std::string ws_peer_server::url() const {
  return tls_ ? "https://127.0.0.1:" + std::to_string(port_) : loopback_url(port_);
}

nlohmann::json ws_peer_server::stats() const { return get_stats(port_); }

// ---- nginx ----------------------------------------------------------------------------------------

std::optional<fs::path> nginx_server::find_binary() {
  return find_program("nginx", {"/usr/sbin", "/usr/local/sbin"});
}

nginx_server::nginx_server(const fs::path& binary)
    : dir_(std::make_unique<temp_dir>()),
      template_(read_text_file(fs::path(CHAPERON_SOURCE_DIR) / "tests/fixtures/nginx.conf.in")) {
  start(binary, 0);
}

nginx_server::nginx_server(const fs::path& binary, std::string config_template,
                           std::size_t extra_ports)
    : dir_(std::make_unique<temp_dir>()), template_(std::move(config_template)) {
  start(binary, extra_ports);
}

void nginx_server::start(const fs::path& binary, std::size_t extra_ports) {
  // Another process may take the port between our probe and nginx's bind: try a few.
  for (int attempt = 0; attempt < 8; ++attempt) {
    const auto port = free_tcp_port();
    extra_ports_.clear();
    for (std::size_t i = 0; i < extra_ports; ++i) extra_ports_.push_back(free_tcp_port());
    if (try_start(binary, port)) {
      port_ = port;
      return;
    }
  }
  throw std::runtime_error("nginx did not start; last output: " + last_output_);
}

nginx_server::~nginx_server() { process_.reset(); }

bool nginx_server::try_start(const fs::path& binary, std::uint16_t port) {
  const auto prefix = dir_->path();
  const auto conf = prefix / "nginx.conf";
  {
    std::ofstream out(conf);
    std::string text = template_;
    for (std::size_t i = 1; i <= extra_ports_.size(); ++i) {
      const std::string name = "@PORT" + std::to_string(i) + "@";
      for (auto pos = text.find(name); pos != std::string::npos; pos = text.find(name, pos)) {
        text.replace(pos, name.size(), std::to_string(extra_ports_[i - 1]));
      }
    }
    out << render_nginx_config(text, port, prefix);
    if (!out) throw std::runtime_error("cannot write " + conf.string());
  }
  process_ = std::make_unique<child_process>(process_options{
      {binary.string(), "-p", prefix.string() + "/", "-c", conf.string(), "-e", "stderr", "-g",
       "daemon off;"},
      {}});
  const auto deadline = steady::now() + 15s;
  while (steady::now() < deadline) {
    // The port might belong to someone else: only nginx's own status page proves it is ours.
    if (can_connect(port) &&
        http_request(port, "GET", "/nginx_status").body.starts_with("Active connections")) {
      return true;
    }
    const auto err = process_->stderr_text();
    // nginx retries a failed bind for seconds before it gives up; a fresh port is quicker.
    if (process_->exited() || err.find("bind()") != std::string::npos) break;
    process_->wait_for_activity(20ms);
  }
  last_output_ = process_->stderr_text();
  process_.reset();
  return false;
}

std::string nginx_server::url() const { return loopback_url(port_); }

nginx_counters nginx_server::counters() const {
  auto reply = http_request(port_, "GET", "/nginx_status");
  if (reply.status != 200) throw std::runtime_error("GET /nginx_status failed");
  // "Active connections: 1 \nserver accepts handled requests\n 16 16 31 \nReading: ..."
  std::istringstream in(reply.body);
  std::string line;
  std::getline(in, line);
  std::getline(in, line);
  nginx_counters c;
  if (!(in >> c.accepts >> c.handled >> c.requests)) {
    throw std::runtime_error("unexpected stub_status page: " + reply.body);
  }
  return c;
}

void nginx_suite::start(
    const std::function<std::unique_ptr<nginx_server>(const fs::path&)>& make,
    const std::function<void()>& more) {
  auto binary = nginx_server::find_binary();
  if (!binary) {
    skip_reason = "nginx is not installed (Debian: nginx-light)";
    return;
  }
  try {
    nginx = make ? make(*binary) : std::make_unique<nginx_server>(*binary);
    if (more) more();
  } catch (const std::exception& e) {
    setup_error = e.what();
  }
}

std::string render_nginx_config(std::string_view template_text, std::uint16_t port,
                                const fs::path& prefix) {
  std::string out(template_text);
  auto replace_all = [&out](std::string_view from, const std::string& to) {
    for (auto pos = out.find(from); pos != std::string::npos; pos = out.find(from, pos + to.size())) {
      out.replace(pos, from.size(), to);
    }
  };
  replace_all("@PORT@", std::to_string(port));
  replace_all("@PREFIX@", prefix.string());
  return out;
}

std::string read_text_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace chaperon::itest
