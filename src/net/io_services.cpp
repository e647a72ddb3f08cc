#include "net/io_services.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>
#include <mutex>
#include <optional>

#include "net/name_lookup.hpp"

namespace chaperon::net {

namespace asio = boost::asio;

// Where the lookup thread delivers its answers: the shard's event loop, while its io_services
// lives. `io` is read by the lookup thread (under the mutex); `owner` only on the engine thread.
struct io_services::lookup_mailbox {
  std::mutex mutex;
  asio::io_context* io = nullptr;
  io_services* owner = nullptr;
};

io_services::io_services(asio::io_context& io)
    : io_(io), sweep_timer_(io), mailbox_(std::make_shared<lookup_mailbox>()) {
  mailbox_->io = &io;
  mailbox_->owner = this;
}

io_services::~io_services() {
  std::lock_guard lock(mailbox_->mutex);
  mailbox_->io = nullptr;
  mailbox_->owner = nullptr;
}

asio::ssl::context& io_services::tls_context(bool verify, const std::string& ca_file) {
  if (!verify) {
    if (!insecure_ctx_) {
      insecure_ctx_ = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
      insecure_ctx_->set_verify_mode(asio::ssl::verify_none);
    }
    return *insecure_ctx_;
  }
  auto& slot = verify_ctx_[ca_file];
  if (!slot) {
    slot = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
    boost::system::error_code ignored;  // a CA file that does not load: no CA, every check fails
    if (ca_file.empty()) {
      slot->set_default_verify_paths(ignored);
    } else {
      slot->load_verify_file(ca_file, ignored);
    }
    slot->set_verify_mode(asio::ssl::verify_peer);
  }
  return *slot;
}

std::unique_ptr<io_services::tls_stream> io_services::tls_client(client_socket& socket,
                                                                const std::string& host,
                                                                bool verify,
                                                                const std::string& ca_file) {
  auto tls = std::make_unique<tls_stream>(socket, tls_context(verify, ca_file));
  boost::system::error_code not_ip;
  asio::ip::make_address(host, not_ip);
  if (not_ip) SSL_set_tlsext_host_name(tls->native_handle(), host.c_str());
  if (verify) tls->set_verify_callback(asio::ssl::host_name_verification(host));
  return tls;
}

namespace {

io_services::endpoints to_endpoints(const lookup_result& r) {
  io_services::endpoints out;
  for (const auto& a : r.addresses) {
    asio::ip::tcp::endpoint e;
    const auto size = a.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
    std::memcpy(e.data(), &a, size);
    e.resize(size);
    out.push_back(e);
  }
  return out;
}

}  // namespace

std::uint64_t io_services::resolve(const std::string& host, std::uint16_t port,
                                   resolve_handler done) {
  // A numeric address (the usual loopback target) needs no lookup and no cache.
  boost::system::error_code not_ip;
  auto address = asio::ip::make_address(host, not_ip);
  if (!not_ip) {
    done({}, endpoints{asio::ip::tcp::endpoint{address, port}});
    return 0;
  }
  auto key = host + ":" + std::to_string(port);
  auto& entry = lookups_[key];
  if (!entry.in_flight && !entry.found.empty() &&
      std::chrono::steady_clock::now() < entry.expires) {
    done({}, entry.found);
    return 0;
  }
  const auto ticket = next_ticket_++;
  entry.waiters.emplace_back(ticket, std::move(done));
  if (entry.in_flight) return ticket;
  entry.in_flight = true;
  lookup_async(host, port, [box = mailbox_, key](lookup_result r) {
    std::lock_guard lock(box->mutex);
    if (!box->io) return;
    asio::post(*box->io, [box, key, r = std::move(r)] {
      if (box->owner) box->owner->on_lookup(key, r.error, to_endpoints(r));
    });
  });
  return ticket;
}

void io_services::on_lookup(const std::string& key, const std::error_code& ec, endpoints found) {
  auto& entry = lookups_[key];
  entry.in_flight = false;
  if (!ec) {
    entry.found = found;
    entry.expires = std::chrono::steady_clock::now() + dns_ttl;
  }
  // A handler may resume a session, which may end and forget the tickets of other connections
  // still in this list: forget_resolve clears them here too, and cleared ones are skipped.
  completing_ = std::exchange(entry.waiters, {});
  const std::error_code error = ec ? ec : std::make_error_code(std::errc::host_unreachable);
  for (auto& [ticket, handler] : completing_) {
    if (!handler) continue;
    auto run = std::exchange(handler, {});
    run(found.empty() ? error : std::error_code{}, found);
  }
  completing_.clear();
}

void io_services::forget_resolve(std::uint64_t ticket) noexcept {
  if (ticket == 0) return;
  for (auto& [t, handler] : completing_) {
    if (t == ticket) handler = nullptr;
  }
  for (auto& [key, entry] : lookups_) {
    std::erase_if(entry.waiters, [ticket](const auto& w) { return w.first == ticket; });
  }
}

namespace {

struct connect_attempt : std::enable_shared_from_this<connect_attempt> {
  client_socket& socket;
  std::vector<asio::ip::tcp::endpoint> endpoints;
  std::optional<asio::ip::address> source;
  io_services::connect_handler done;
  std::size_t next = 0;

  connect_attempt(client_socket& s, std::vector<asio::ip::tcp::endpoint> e,
                  std::optional<asio::ip::address> src, io_services::connect_handler d)
      : socket(s), endpoints(std::move(e)), source(src), done(std::move(d)) {}

  void try_next(boost::system::error_code last) {
    boost::system::error_code ec;
    socket.close(ec);
    if (next == endpoints.size()) {
      done(last ? last : asio::error::host_not_found);
      return;
    }
    const auto& target = endpoints[next++];
    socket.open(target.protocol(), ec);
    if (!ec && source && source->is_v4() == target.address().is_v4()) {
#ifdef IP_BIND_ADDRESS_NO_PORT
      // The port is picked at connect time, per destination, so a source address is not limited
      // to ~28k connections overall but per target.
      int on = 1;
      ::setsockopt(socket.native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &on, sizeof on);
#endif
      socket.bind(asio::ip::tcp::endpoint(*source, 0), ec);
    }
    if (ec) {
      try_next(ec);
      return;
    }
    socket.async_connect(target, [self = shared_from_this()](const boost::system::error_code& e) {
      if (e && e != asio::error::operation_aborted && self->next < self->endpoints.size()) {
        self->try_next(e);
      } else {
        self->done(e);
      }
    });
  }
};

}  // namespace

void io_services::connect(client_socket& socket,
                          std::vector<asio::ip::tcp::endpoint> endpoints,
                          const std::vector<std::string>* sources, connect_handler done) {
  std::optional<asio::ip::address> source;
  if (sources && !sources->empty()) {
    const std::string& text = (*sources)[next_source_++ % sources->size()];
    boost::system::error_code ec;
    auto address = asio::ip::make_address(text, ec);
    if (!ec) source = address;
  }
  auto attempt = std::make_shared<connect_attempt>(socket, std::move(endpoints), source,
                                                   std::move(done));
  attempt->try_next({});
}

void io_services::defer_send(deferred_sender& s) {
  sends_.push_back(&s);
  if (flush_posted_) return;
  flush_posted_ = true;
  asio::post(io_, [this] {
    flush_posted_ = false;
    flushing_.swap(sends_);
    for (std::size_t i = 0; i < flushing_.size(); ++i) {
      if (flushing_[i]) flushing_[i]->flush_send();
    }
    flushing_.clear();
  });
}

void io_services::forget_send(deferred_sender& s) noexcept {
  for (auto& p : sends_) {
    if (p == &s) p = nullptr;
  }
  for (auto& p : flushing_) {
    if (p == &s) p = nullptr;
  }
}

std::unique_ptr<char[]> io_services::take_read_buffer(bool large) {
  auto& pool = read_buffers_[large ? 1 : 0];
  if (pool.empty()) return std::make_unique_for_overwrite<char[]>(read_buffer_size(large));
  auto buffer = std::move(pool.back());
  pool.pop_back();
  return buffer;
}

void io_services::give_read_buffer(std::unique_ptr<char[]> buffer, bool large) noexcept {
  try {
    read_buffers_[large ? 1 : 0].push_back(std::move(buffer));
  } catch (...) {
    // Out of memory for the pool's own vector: the buffer is freed instead.
  }
}

std::vector<char>& io_services::scratch() {
  if (scratch_.empty()) scratch_.resize(64 * 1024);
  return scratch_;
}

void io_services::arm(deadline_hook& hook, std::chrono::steady_clock::time_point deadline) {
  hook.deadline_ = deadline;
  if (!hook.linked_) {
    hook.prev_ = nullptr;
    hook.next_ = head_;
    if (head_) head_->prev_ = &hook;
    head_ = &hook;
    hook.linked_ = true;
  }
  if (!sweeping_ && !shut_down_) schedule_sweep();
}

void io_services::disarm(deadline_hook& hook) noexcept {
  if (!hook.linked_) return;
  if (hook.prev_) hook.prev_->next_ = hook.next_;
  else head_ = hook.next_;
  if (hook.next_) hook.next_->prev_ = hook.prev_;
  hook.prev_ = hook.next_ = nullptr;
  hook.linked_ = false;
}

void io_services::shutdown() {
  shut_down_ = true;
  sweep_timer_.cancel();
}

void io_services::schedule_sweep() {
  sweeping_ = true;
  sweep_timer_.expires_after(sweep_period);
  sweep_timer_.async_wait([this](const boost::system::error_code& ec) {
    sweeping_ = false;
    if (ec || shut_down_) return;
    sweep();
    if (head_) schedule_sweep();
  });
}

void io_services::sweep() {
  auto now = std::chrono::steady_clock::now();
  // Collect first: on_deadline() may arm or disarm other hooks.
  std::vector<deadline_hook*> expired;
  for (auto* h = head_; h; h = h->next_) {
    if (h->deadline_ <= now) expired.push_back(h);
  }
  for (auto* h : expired) {
    disarm(*h);
    h->on_deadline();
  }
}

}  // namespace chaperon::net
