#pragma once
// Per-shard network services shared by the connections of that shard's sessions: the
// io_context, TLS contexts, a resolver cache and the deadline sweeper. Owned by one thread.

#include <chrono>
#include <functional>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>

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

class io_services {
 public:
  static constexpr std::chrono::milliseconds sweep_period{5};

  explicit io_services(boost::asio::io_context& io);
  ~io_services();
  io_services(const io_services&) = delete;
  io_services& operator=(const io_services&) = delete;

  boost::asio::io_context& io() noexcept { return io_; }
  boost::asio::ssl::context& tls_context(bool verify);
  // A TLS client stream over `socket` for `host`: SNI when the host is a name, and the host name
  // checked against the certificate when `verify`.
  using tls_stream = boost::asio::ssl::stream<boost::asio::ip::tcp::socket&>;
  std::unique_ptr<tls_stream> tls_client(boost::asio::ip::tcp::socket& socket,
                                         const std::string& host, bool verify);

  // Resolves host:port (numeric addresses without a lookup; names once per shard, then cached).
  std::vector<boost::asio::ip::tcp::endpoint> resolve(const std::string& host, std::uint16_t port,
                                                      std::error_code& ec);

  // Sends queued here go out together after the completions of the current batch have run, as
  // wrk does: the server then wakes once for a burst of requests instead of once per request,
  // which is most of the kernel time a sender pays on loopback.
  // Opens `socket` and connects it to the first endpoint that accepts, binding it first to the
  // next of `sources` (round-robin over this shard's connections) when given: one source
  // address allows only ~28k connections to one target port, several allow more.
  using connect_handler = std::function<void(const boost::system::error_code&)>;
  void connect(boost::asio::ip::tcp::socket& socket,
               std::vector<boost::asio::ip::tcp::endpoint> endpoints,
               const std::vector<std::string>* sources, connect_handler done);

  void defer_send(deferred_sender& s);
  void forget_send(deferred_sender& s) noexcept;

  // A read buffer shared by the connections of this shard. Idle WebSockets wait for readiness
  // and then read into it, so that thousands of them hold no read buffer of their own. Whatever
  // reads into it must consume the bytes before returning to the event loop.
  std::vector<char>& scratch();

  // HTTP read buffers (read_buffer_size bytes), lent for the length of an exchange's reads: a
  // session in think time or between requests holds none. The pool keeps what it got back, so it
  // never holds more than the most exchanges that were reading at once.
  static constexpr std::size_t read_buffer_size = 16 * 1024;
  std::unique_ptr<char[]> take_read_buffer();
  void give_read_buffer(std::unique_ptr<char[]> buffer) noexcept;

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
  std::unique_ptr<boost::asio::ssl::context> verify_ctx_;
  std::unique_ptr<boost::asio::ssl::context> insecure_ctx_;
  std::map<std::string, std::vector<boost::asio::ip::tcp::endpoint>> resolved_;
  std::size_t next_source_ = 0;
  std::vector<char> scratch_;
  std::vector<std::unique_ptr<char[]>> read_buffers_;
  std::vector<deferred_sender*> sends_;
  std::vector<deferred_sender*> flushing_;
  bool flush_posted_ = false;
};

}  // namespace chaperon::net
