// WebSocket connections of the demo target. The HTTP connection (server.cpp) reads the upgrade
// request, asks the router for the endpoint and hands the socket over here; Beast's websocket
// headers stay inside ws_session.cpp.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "demo/routes.hpp"

namespace chaperon::demo {

// True for a request asking to become a WebSocket (RFC 6455 section 4.2.1).
[[nodiscard]] bool is_websocket_upgrade(
    const boost::beast::http::request<boost::beast::http::string_body>& req);

// Completes the upgrade on `socket` (whose executor must be a strand or otherwise serialise its
// handlers) and serves `route` until the connection ends. The session owns itself; `routes`
// must outlive every session.
void start_ws_session(boost::asio::ip::tcp::socket socket,
                      boost::beast::http::request<boost::beast::http::string_body> upgrade,
                      ws_route route, router& routes);

}  // namespace chaperon::demo
