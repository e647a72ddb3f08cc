// The second (and last) translation unit of the demo target that includes Beast: it holds the
// websocket headers so that server.cpp does not pay for them.
#include "demo/ws_session.hpp"

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/websocket.hpp>

#include "demo/channel_store.hpp"
#include "demo/request_stats.hpp"

namespace chaperon::demo {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

constexpr std::string_view ping_payload = "chaperon";
constexpr std::string_view pong_notice = "pong chaperon";
constexpr std::string_view farewell = "bye";
constexpr std::string_view farewell_reason = "done";
constexpr std::string_view server_name = "chaperon-demo";
// Bounds only the opening and the closing handshake: idle connections run no timer at all.
constexpr auto handshake_timeout = std::chrono::seconds(10);
constexpr std::size_t max_message_bytes = 16 * 1024 * 1024;
// Past this much unsent data an echo endpoint stops reading (the peer feels TCP backpressure)
// and a channel subscriber, which cannot slow the publishers down, is dropped.
constexpr std::size_t max_queued_bytes = 16 * 1024 * 1024;
// A read buffer grown by one large message is given back afterwards, so that thousands of
// idle connections stay small.
constexpr std::size_t kept_buffer_bytes = 16 * 1024;
// Compacting the send queue only once this many sent entries lead it keeps popping O(1).
constexpr std::size_t compact_after = 64;

enum class frame_kind { text, binary, ping, close };

struct frame {
  frame_kind kind = frame_kind::text;
  std::shared_ptr<const std::string> payload;  // null for ping and close

  [[nodiscard]] std::size_t size() const { return payload ? payload->size() : 0; }
};

std::shared_ptr<const std::string> shared_text(std::string_view text) {
  return std::make_shared<const std::string>(text);
}

// One upgraded connection. Every handler runs on the socket's strand, so members need no lock;
// only deliver() is called from elsewhere, and it just posts to that strand.
class ws_session final : public channel_subscriber,
                         public std::enable_shared_from_this<ws_session> {
 public:
  ws_session(tcp::socket socket, ws_route route, router& routes)
      : ws_(std::move(socket)),
        executor_(ws_.get_executor()),
        routes_(routes),
        endpoint_(route.endpoint),
        channel_(std::move(route.channel)),
        greeting_(std::move(route.greeting)) {}

  ~ws_session() override {
    if (counted_open_) routes_.counters().ws_closed();
  }

  ws_session(const ws_session&) = delete;
  ws_session& operator=(const ws_session&) = delete;

  void start(http::request<http::string_body> upgrade) {
    configure();
    if (endpoint_ == ws_endpoint::channel) {
      auto error = channel_error::none;
      subscription_ = routes_.channels().subscribe(channel_, weak_from_this(), error);
      // Only when the channel limit is reached; the upgrade was already promised, so the
      // connection is simply dropped.
      if (!subscription_.active()) return close_socket();
    }
    queue_initial_frames();
    // Counted before the 101 goes out, so that a client that saw it also sees the count.
    routes_.counters().ws_opened();
    counted_open_ = true;
    upgrade_.emplace(std::move(upgrade));
    ws_.async_accept(*upgrade_,
                     beast::bind_front_handler(&ws_session::on_accept, shared_from_this()));
  }

  void deliver(channel_message_ptr message) override {
    asio::post(executor_, [self = shared_from_this(), message = std::move(message)]() mutable {
      self->on_live(std::move(message));
    });
  }

 private:
  void configure() {
    ws_.auto_fragment(false);  // one message, one frame: simpler for clients under test
    ws_.read_message_max(max_message_bytes);
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = handshake_timeout;
    timeouts.idle_timeout = websocket::stream_base::none();
    timeouts.keep_alive_pings = false;
    ws_.set_option(timeouts);
    ws_.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& res) { res.set(http::field::server, server_name); }));
    if (endpoint_ == ws_endpoint::ping) {
      // Beast calls this from inside a read, i.e. on the strand; `this` outlives the stream.
      ws_.control_callback([this](websocket::frame_type kind, beast::string_view payload) {
        on_control(kind, payload);
      });
    }
  }

  void queue_initial_frames() {
    switch (endpoint_) {
      case ws_endpoint::headers:
        enqueue({frame_kind::text, std::make_shared<const std::string>(std::move(greeting_))});
        break;
      case ws_endpoint::ping:
        enqueue({frame_kind::ping, nullptr});
        break;
      case ws_endpoint::close:
        enqueue({frame_kind::text, shared_text(farewell)});
        enqueue({frame_kind::close, nullptr});
        break;
      default:
        break;
    }
  }

  void on_accept(beast::error_code ec) {
    upgrade_.reset();
    if (ec) return finish();
    accepted_ = true;
    read();
    pump();
  }

  void read() {
    read_paused_ = false;
    ws_.async_read(buffer_, beast::bind_front_handler(&ws_session::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec) return finish();
    routes_.counters().ws_message_in();
    handle_message();
    buffer_.consume(buffer_.size());
    if (buffer_.capacity() > kept_buffer_bytes) buffer_.shrink_to_fit();
    // /ws/drop reads no further: the connection goes once its one echo is written.
    if (finished_ || drop_after_echo_) return;
    if (queued_bytes_ > max_queued_bytes) {
      read_paused_ = true;
      return;
    }
    read();
  }

  void handle_message() {
    switch (endpoint_) {
      case ws_endpoint::echo:
      case ws_endpoint::headers:
      case ws_endpoint::ping:
        return enqueue(echo_of_message());
      case ws_endpoint::drop:
        drop_after_echo_ = true;
        return enqueue(echo_of_message());
      case ws_endpoint::channel:
        if (ws_.got_text()) {
          const auto text = beast::buffers_to_string(buffer_.data());
          if (const auto after = parse_replay_request(text)) replay(*after);
        }
        return;
      default:
        return;  // silent and close never answer
    }
  }

  frame echo_of_message() const {
    return {ws_.got_text() ? frame_kind::text : frame_kind::binary,
            std::make_shared<const std::string>(beast::buffers_to_string(buffer_.data()))};
  }

  void on_control(websocket::frame_type kind, beast::string_view payload) {
    // Only a pong to our own ping counts; a ping from the peer (even with the same payload)
    // is answered by Beast and must not trigger the notice.
    if (kind != websocket::frame_type::pong || pong_seen_ || payload != ping_payload) return;
    pong_seen_ = true;
    // Posted: starting a write from inside Beast's read operation is not something it promises
    // to support.
    asio::post(executor_, [self = shared_from_this()] {
      self->enqueue({frame_kind::text, shared_text(pong_notice)});
    });
  }

  void on_live(channel_message_ptr message) {
    if (finished_ || !cursor_.admit_live(message->sequence)) return;
    enqueue(channel_frame(std::move(message)));
    if (queued_bytes_ > max_queued_bytes) drop();
  }

  void replay(std::uint64_t after) {
    for (auto& message : cursor_.admit_replay(routes_.channels().since(channel_, after))) {
      enqueue(channel_frame(std::move(message)));
    }
    if (queued_bytes_ > max_queued_bytes) drop();
  }

  static frame channel_frame(channel_message_ptr message) {
    // Aliasing: the frame shares the stored message instead of copying its document.
    const auto* document = &message->document;
    return {frame_kind::text, std::shared_ptr<const std::string>(std::move(message), document)};
  }

  void enqueue(frame next) {
    if (finished_) return;
    queued_bytes_ += next.size();
    queue_.push_back(std::move(next));
    pump();
  }

  // Starts writing the next queued frame unless a write is under way; Beast allows only one.
  void pump() {
    if (!accepted_ || writing_ || finished_ || head_ == queue_.size()) return;
    writing_ = true;
    const auto& next = queue_[head_];
    auto done = [self = shared_from_this()](beast::error_code ec, std::size_t = 0) {
      self->on_written(ec);
    };
    switch (next.kind) {
      case frame_kind::text:
      case frame_kind::binary:
        ws_.text(next.kind == frame_kind::text);
        // Counted as the write starts, so that a peer holding the message also sees the count.
        routes_.counters().ws_message_out();
        return ws_.async_write(asio::buffer(*next.payload), std::move(done));
      case frame_kind::ping:
        return ws_.async_ping(websocket::ping_data(ping_payload.data(), ping_payload.size()),
                              std::move(done));
      case frame_kind::close:
        return ws_.async_close(
            websocket::close_reason(websocket::close_code::normal, farewell_reason),
            std::move(done));
    }
  }

  void on_written(beast::error_code ec) {
    writing_ = false;
    const auto kind = queue_[head_].kind;
    pop_sent();
    if (ec) return finish();
    // After a close frame Beast finishes the closing handshake through the pending read.
    if (kind == frame_kind::close) return;
    if (drop_after_echo_ && (kind == frame_kind::text || kind == frame_kind::binary)) {
      return drop();
    }
    if (read_paused_ && queued_bytes_ <= max_queued_bytes / 2) read();
    pump();
  }

  void pop_sent() {
    queued_bytes_ -= queue_[head_].size();
    queue_[head_].payload.reset();
    if (++head_ == queue_.size()) {
      queue_.clear();
      head_ = 0;
      if (queue_.capacity() > compact_after) queue_.shrink_to_fit();
    } else if (head_ >= compact_after && head_ * 2 >= queue_.size()) {
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
  }

  // Ends the connection without a closing handshake.
  void drop() {
    beast::error_code ignored;
    ws_.next_layer().shutdown(tcp::socket::shutdown_both, ignored);
    finish();
  }

  void finish() {
    if (finished_) return;
    finished_ = true;
    subscription_.reset();
    if (counted_open_) {
      routes_.counters().ws_closed();
      counted_open_ = false;
    }
    close_socket();
  }

  void close_socket() {
    beast::error_code ignored;
    ws_.next_layer().close(ignored);
  }

  websocket::stream<tcp::socket> ws_;
  asio::any_io_executor executor_;  // the strand; a copy so that deliver() needs no stream access
  router& routes_;
  ws_endpoint endpoint_;
  std::string channel_;
  std::string greeting_;
  std::optional<http::request<http::string_body>> upgrade_;  // alive until the accept completes
  beast::flat_buffer buffer_;
  channel_subscription subscription_;
  channel_cursor cursor_;
  std::vector<frame> queue_;  // [head_, end) waits; queue_[head_] is being written when writing_
  std::size_t head_ = 0;
  std::size_t queued_bytes_ = 0;
  bool accepted_ = false;
  bool writing_ = false;
  bool read_paused_ = false;
  bool drop_after_echo_ = false;
  bool pong_seen_ = false;
  bool finished_ = false;
  bool counted_open_ = false;
};

}  // namespace

bool is_websocket_upgrade(const http::request<http::string_body>& req) {
  return websocket::is_upgrade(req);
}

void start_ws_session(tcp::socket socket, http::request<http::string_body> upgrade, ws_route route,
                      router& routes) {
  std::make_shared<ws_session>(std::move(socket), std::move(route), routes)
      ->start(std::move(upgrade));
}

}  // namespace chaperon::demo
