#pragma once
// Incremental HTTP/1.1 response parser without any I/O: the caller feeds the bytes it read and gets
// back whether a complete response is available. One parser is meant to live as long as a
// connection and to be reset() before each response, so that its buffers are reused.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace chaperon::net {

enum class parse_error {
  bad_status_line = 1,
  bad_version,
  bad_status_code,
  bad_header,
  header_too_large,
  too_many_headers,
  bad_content_length,
  bad_transfer_encoding,
  bad_chunk_size,
  bad_chunk,
  body_too_large,
  unexpected_eof,
};

const std::error_category& parse_error_category();
std::error_code make_error_code(parse_error e);

}  // namespace chaperon::net

template <>
struct std::is_error_code_enum<chaperon::net::parse_error> : std::true_type {};

namespace chaperon::net {

struct response_limits {
  // Status line, header lines and chunked trailers together, line endings included.
  std::size_t max_header_bytes = 64 * 1024;
  std::size_t max_headers = 128;
  // Decoded body bytes; enforced whether or not the body is stored.
  std::size_t max_body_bytes = 64 * 1024 * 1024;
};

struct response {
  int status = 0;
  std::string reason;
  // In order of arrival, names spelled as received. Trailers of a chunked body are not included.
  std::vector<std::pair<std::string, std::string>> headers;
  // Decoded body (chunk framing removed); stays empty when the body is not stored.
  std::string body;
  // Decoded body bytes seen, counted even when the body is not stored.
  std::size_t body_size = 0;
  // Whether the connection may carry another request after this response.
  bool keep_alive = true;
  int version_minor = 1;

  // Value of the first header with that name (case-insensitive), "" when absent.
  std::string_view header(std::string_view name) const;
};

class response_parser {
public:
  enum class status { need_more, done, error };

  explicit response_parser(response_limits limits = {});

  // Prepares for the next response on the connection. A response to HEAD has no body even when it
  // announces a Content-Length. With store_body == false the body is only counted, not copied.
  void reset(bool head_request = false, bool store_body = true);

  // Consumes a prefix of `data` and reports its length in `consumed`. Interim 1xx responses are
  // skipped (except 101, which is final because the connection changes protocol). After `done`,
  // the unconsumed bytes belong to whatever follows the response and stay with the caller.
  status feed(std::string_view data, std::size_t& consumed);

  // The peer closed the connection: completes a body delimited by the close, otherwise the
  // response is cut short (unexpected_eof).
  status feed_eof();

  // True while no byte of the current response has been consumed; a peer that closes a reused
  // connection at this point never started answering.
  bool idle() const noexcept { return state_ == state::status_line && !started_; }

  std::error_code error() const noexcept { return error_; }
  const response& get() const noexcept { return res_; }
  response& get() noexcept { return res_; }
  // Moves the response out; the parser needs a reset() before it is fed again.
  response release();

private:
  enum class state {
    status_line,
    header_line,
    body_fixed,
    body_until_close,
    chunk_size,
    chunk_data,
    chunk_data_cr,
    chunk_data_lf,
    trailer_line,
    done,
    failed,
  };
  enum class line_result { complete, incomplete, too_long };

  line_result take_line(std::string_view data, std::size_t& pos, std::size_t limit,
                        std::string_view& line, std::size_t& raw_size);
  status fail(parse_error e);
  bool reject(parse_error e) {
    fail(e);
    return false;
  }
  bool parse_status_line(std::string_view line);
  bool parse_header_line(std::string_view line);
  void note_framing_header(std::string_view name, std::string_view value);
  void parse_content_length(std::string_view value);
  void parse_transfer_encoding(std::string_view value);
  void parse_connection(std::string_view value);
  bool finish_headers();
  bool parse_chunk_size(std::string_view line);
  void start_message();
  void add_body(std::string_view bytes);
  std::size_t header_budget() const noexcept;

  void feed_head(std::string_view data, std::size_t& pos);
  void feed_chunked(std::string_view data, std::size_t& pos);

  response_limits limits_;
  response res_;
  // Strings of previous responses' headers, kept so that their capacity is reused.
  std::vector<std::pair<std::string, std::string>> spare_headers_;
  // A line split across feed() calls is collected here.
  std::string partial_;
  bool partial_done_ = false;

  state state_ = state::status_line;
  std::error_code error_;
  bool head_request_ = false;
  bool store_body_ = true;
  bool started_ = false;
  std::uint16_t headers_seen_ = 8;  // in the last response released (max_headers fits)

  std::size_t header_bytes_ = 0;
  std::size_t field_count_ = 0;
  std::uint64_t remaining_ = 0;

  // Framing information gathered from the headers of the current message.
  bool has_content_length_ = false;
  bool content_length_invalid_ = false;
  std::uint64_t content_length_ = 0;
  bool has_transfer_encoding_ = false;
  bool transfer_encoding_invalid_ = false;
  int chunked_count_ = 0;
  bool chunked_last_ = false;
  bool connection_close_ = false;
  bool connection_keep_alive_ = false;
};

}  // namespace chaperon::net
