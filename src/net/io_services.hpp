#pragma once
// Per-shard network services shared by the connections of that shard's sessions: the
// io_context, TLS contexts, the host name cache and the deadline sweeper. Owned by one thread.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <system_error>
#include <unordered_map>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>

#include "net/connect_gate.hpp"

namespace chaperon::net {

// Something with a deadline: the sweeper calls on_deadline() once it has passed.
// Request timeouts are checked by one periodic sweep per shard instead of one timer per request,
// which keeps the per-request cost to two pointer writes; their resolution is the sweep period.
class deadline_hook {
 public:
  virtual void on_deadline() = 0;

 protected:
  ~deadline_hook() = default;

 private:
  friend class io_services;
  deadline_hook* prev_ = nullptr;
  deadline_hook* next_ = nullptr;
  bool linked_ = false;
  std::chrono::steady_clock::time_point deadline_{};
};

// A connection with bytes to send at the end of the current event-loop batch.
class deferred_sender {
 public:
  virtual void flush_send() = 0;

 protected:
  ~deferred_sender() = default;
};

// The sockets of client connections name the io_context's executor rather than the polymorphic
// any_io_executor: an idle connection keeps one socket and one pending wait, and each of them
// would otherwise carry a 56-byte type-erased executor (88 -> 40 bytes a socket, 144 -> 96 an
// operation).
using client_socket =
    boost::asio::basic_stream_socket<boost::asio::ip::tcp, boost::asio::io_context::executor_type>;

class io_services {
 public:
  static constexpr std::chrono::milliseconds sweep_period{5};

  explicit io_services(boost::asio::io_context& io);
  ~io_services();
  io_services(const io_services&) = delete;
  io_services& operator=(const io_services&) = delete;

  boost::asio::io_context& io() noexcept { return io_; }
  // The TLS client context for a verification mode: without verification; against the system's
  // trusted CAs (`ca_file` empty); or against the CAs in `ca_file` alone. One context each, made
  // on first use. A CA file that does not load leaves its context without CAs, so that every
  // handshake with it fails as `tls`.
  boost::asio::ssl::context& tls_context(bool verify, const std::string& ca_file = {});
  // A TLS client stream over `socket` for `host`: SNI when the host is a name, and the host name
  // checked against the certificate when `verify`.
  using tls_stream = boost::asio::ssl::stream<client_socket&>;
  std::unique_ptr<tls_stream> tls_client(client_socket& socket,
                                         const std::string& host, bool verify,
                                         const std::string& ca_file = {});

  // How long a looked-up host name is reused before it is looked up again.
  static constexpr std::chrono::seconds dns_ttl{60};
  using endpoints = std::vector<boost::asio::ip::tcp::endpoint>;
  using resolve_handler = std::function<void(const std::error_code&, const endpoints&)>;
  // Resolves host:port and calls `done` with the addresses, or with the error when the name did
  // not resolve. A numeric address and a cached name (younger than dns_ttl) call `done` at once,
  // inside this call, and always with success; a name to look up goes to the lookup thread
  // (net/name_lookup.hpp) and `done` runs later from the event loop. Connections that ask for
  // the same name while it is being looked up share that one lookup. Returns a ticket for
  // forget_resolve while `done` is pending, 0 once it has run.
  std::uint64_t resolve(const std::string& host, std::uint16_t port, resolve_handler done);
  // Drops a pending `done` (its connection gave up waiting or is going away): it will not run.
  void forget_resolve(std::uint64_t ticket) noexcept;

  // Sends queued here go out together after the completions of the current batch have run, as
  // wrk does: the server then wakes once for a burst of requests instead of once per request,
  // which is most of the kernel time a sender pays on loopback.
  // Opens `socket` and connects it to the first endpoint that accepts, binding it first to the
  // next of `sources` (round-robin over this shard's connections) when given: one source
  // address allows only ~28k connections to one target port, several allow more.
  using connect_handler = std::function<void(const boost::system::error_code&)>;
  void connect(client_socket& socket,
               std::vector<boost::asio::ip::tcp::endpoint> endpoints,
               const std::vector<std::string>* sources, connect_handler done);

  void defer_send(deferred_sender& s);
  void forget_send(deferred_sender& s) noexcept;

  // A read buffer shared by the connections of this shard. Idle WebSockets wait for readiness
  // and then read into it, so that thousands of them hold no read buffer of their own. Whatever
  // reads into it must consume the bytes before returning to the event loop.
  std::vector<char>& scratch();

  // HTTP read buffers, lent for the length of an exchange's reads: a session in think time or
  // between requests holds none. A connection starts with small ones; once a read fills a small
  // one it reads through large ones. Sessions that all wait for small responses at the same
  // moment (a synchronised burst) then hold 1 KiB each, not 16. The pools keep what they got
  // back, so they never hold more than the most exchanges that were reading at once.
  static constexpr std::size_t small_read_size = 1024;
  static constexpr std::size_t large_read_size = 16 * 1024;
  static constexpr std::size_t read_buffer_size(bool large) noexcept {
    return large ? large_read_size : small_read_size;
  }
  std::unique_ptr<char[]> take_read_buffer(bool large);
  void give_read_buffer(std::unique_ptr<char[]> buffer, bool large) noexcept;

  // The WebSocket connects of this shard wait here for a place (config ws.max_connecting).
  connect_gate& ws_connects() noexcept { return ws_connects_; }

  void arm(deadline_hook& hook, std::chrono::steady_clock::time_point deadline);
  void disarm(deadline_hook& hook) noexcept;
  // Stops the sweeper so that the io_context can run out of work.
  void shutdown();

 private:
  void schedule_sweep();
  void sweep();

  boost::asio::io_context& io_;
  boost::asio::steady_timer sweep_timer_;
  bool sweeping_ = false;
  bool shut_down_ = false;
  deadline_hook* head_ = nullptr;
  struct lookup_entry {
    endpoints found;
    std::chrono::steady_clock::time_point expires{};
    bool in_flight = false;
    std::vector<std::pair<std::uint64_t, resolve_handler>> waiters;
  };
  struct lookup_mailbox;
  void on_lookup(const std::string& key, const std::error_code& ec, endpoints found);

  std::unique_ptr<boost::asio::ssl::context> insecure_ctx_;
  std::map<std::string, std::unique_ptr<boost::asio::ssl::context>> verify_ctx_;  // by CA file
  std::unordered_map<std::string, lookup_entry> lookups_;  // by "host:port"
  std::vector<std::pair<std::uint64_t, resolve_handler>> completing_;
  std::uint64_t next_ticket_ = 1;
  std::shared_ptr<lookup_mailbox> mailbox_;
  std::size_t next_source_ = 0;
  std::vector<char> scratch_;
  std::vector<std::unique_ptr<char[]>> read_buffers_[2];  // small, large
  std::vector<deferred_sender*> sends_;
  std::vector<deferred_sender*> flushing_;
  bool flush_posted_ = false;
  connect_gate ws_connects_;
};

}  // namespace chaperon::net
