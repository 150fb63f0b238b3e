#include <utility>

#include "cluster/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <cstdlib>
#include <stdexcept>

#include "net/tls_stream.h"

namespace weir::cluster {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;
namespace ssl = asio::ssl;
using asio::ip::tcp;

namespace {

struct Url {
  bool tls = false;
  std::string host, port;
};

Url splitUrl(const std::string& url) {
  Url u;
  std::string rest = url;
  for (const auto& [scheme, tls] : {std::pair{"http://", false}, std::pair{"ws://", false}, std::pair{"https://", true},
                                    std::pair{"wss://", true}}) {
    const std::string prefix = scheme;
    if (rest.rfind(prefix, 0) == 0) {
      rest = rest.substr(prefix.size());
      u.tls = tls;
      break;
    }
  }
  if (rest.find("://") != std::string::npos)
    throw std::runtime_error("only http://, https://, ws:// and wss:// URLs are supported: " + url);
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  const auto colon = rest.rfind(':');
  u.host = colon == std::string::npos ? rest : rest.substr(0, colon);
  u.port = colon == std::string::npos ? "8081" : rest.substr(colon + 1);
  return u;
}

/// The CA file for https:// and wss://: the caller's, else WEIR_TLS_CA, else "" (the
/// system's CAs).
std::string caFileFor(const std::string& caFile) {
  if (!caFile.empty()) return caFile;
  const char* env = std::getenv("WEIR_TLS_CA");
  return env ? env : "";
}

template <typename Stream>
HttpResponse exchange(Stream& stream, const Url& u, const std::string& method, const std::string& target,
                      const std::string& body, const std::string& token) {
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, u.host);
  req.set(http::field::user_agent, "weir");
  if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
  if (!body.empty() || method == "POST") {
    req.set(http::field::content_type, "application/json");
    req.body() = body;
    req.prepare_payload();
  }
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64u << 20);
  http::read(stream, buffer, parser);
  beast::error_code ec;
  beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_both, ec);
  auto res = parser.release();
  return {static_cast<int>(res.result_int()), res.body()};
}

}  // namespace

HttpResponse httpRequest(const std::string& url, const std::string& method, const std::string& target,
                         const std::string& body, const std::string& token, const std::string& caFile) {
  const Url u = splitUrl(url);
  try {
    asio::io_context io;
    tcp::resolver resolver(io);
    const auto endpoints = resolver.resolve(u.host, u.port);
    if (!u.tls) {
      beast::tcp_stream stream(io);
      stream.connect(endpoints);
      return exchange(stream, u, method, target, body, token);
    }
    const auto ctx = net::makeApiClientTlsContext(caFileFor(caFile));
    beast::ssl_stream<beast::tcp_stream> stream(io, *ctx);
    net::expectServerName(stream.native_handle(), u.host);
    beast::get_lowest_layer(stream).connect(endpoints);
    beast::error_code ec;
    stream.handshake(ssl::stream_base::client, ec);
    if (ec)
      throw std::runtime_error("TLS handshake with the JobManager at " + url +
                               " failed: " + net::tlsFailure(ec, stream.native_handle()));
    return exchange(stream, u, method, target, body, token);
  } catch (const boost::system::system_error& e) {
    throw std::runtime_error("cannot reach the JobManager at " + url + ": " + e.code().message());
  }
}

std::string urlEncode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/') out += static_cast<char>(c);
    else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// WebSocketClient: asynchronous operations on a private io_context, run by the calling
// thread until they complete or a deadline passes (so every wait has a timeout).

namespace websocket = beast::websocket;

WebSocketRefused::WebSocketRefused(int s, std::string b)
    : std::runtime_error("the server refused the WebSocket upgrade with status " + std::to_string(s) +
                         (b.empty() ? "" : ": " + b)),
      status(s), body(std::move(b)) {}

struct WebSocketClient::Impl {
  asio::io_context io;
  std::shared_ptr<ssl::context> ctx;  // wss:// only
  std::optional<websocket::stream<beast::tcp_stream>> plain;
  std::optional<websocket::stream<beast::ssl_stream<beast::tcp_stream>>> tls;
  beast::flat_buffer buffer;
  bool reading = false;
  bool ended = false;
  std::optional<std::string> message;
  std::string error;

  /// Calls f with the WebSocket stream, whichever it is.
  template <typename F>
  decltype(auto) visit(F&& f) {
    return tls ? f(*tls) : f(*plain);
  }

  /// Runs handlers until `done()` or `deadline`; false on timeout.
  template <typename Done>
  bool runUntil(Done done, std::chrono::steady_clock::time_point deadline) {
    while (!done()) {
      if (io.stopped()) io.restart();
      if (io.run_one_until(deadline) == 0) return done();
    }
    return true;
  }

  void endWith(const beast::error_code& ec) {
    ended = true;
    if (ec == websocket::error::closed) error = visit([](auto& ws) { return std::string(ws.reason().reason.c_str()); });
    else error = ec.message();
  }
};

WebSocketClient::WebSocketClient(const std::string& url, const std::string& target, const std::string& token,
                                 std::chrono::milliseconds timeout, const std::string& caFile)
    : impl_(std::make_unique<Impl>()) {
  const Url u = splitUrl(url);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  Impl& d = *impl_;
  if (u.tls) {
    d.ctx = net::makeApiClientTlsContext(caFileFor(caFile));
    d.tls.emplace(d.io, *d.ctx);
    net::expectServerName(d.tls->next_layer().native_handle(), u.host);
  } else {
    d.plain.emplace(d.io);
  }
  tcp::resolver resolver(d.io);
  bool done = false;
  beast::error_code ec;
  resolver.async_resolve(u.host, u.port, [&](const beast::error_code& e, tcp::resolver::results_type results) {
    if (e) {
      ec = e;
      done = true;
      return;
    }
    d.visit([&](auto& ws) {
      beast::get_lowest_layer(ws).async_connect(results, [&](const beast::error_code& e2, const tcp::endpoint&) {
        ec = e2;
        done = true;
      });
    });
  });
  if (!d.runUntil([&] { return done; }, deadline)) throw std::runtime_error("cannot reach " + url + ": timed out");
  if (ec) throw std::runtime_error("cannot reach " + url + ": " + ec.message());

  if (d.tls) {
    done = false;
    d.tls->next_layer().async_handshake(ssl::stream_base::client, [&](const beast::error_code& e) {
      ec = e;
      done = true;
    });
    if (!d.runUntil([&] { return done; }, deadline)) throw std::runtime_error("TLS handshake with " + url + " timed out");
    if (ec)
      throw std::runtime_error("TLS handshake with " + url + " failed: " +
                               net::tlsFailure(ec, d.tls->next_layer().native_handle()));
  }

  websocket::response_type res;
  done = false;
  d.visit([&](auto& ws) {
    if (!token.empty())
      ws.set_option(websocket::stream_base::decorator(
          [token](websocket::request_type& req) { req.set(http::field::authorization, "Bearer " + token); }));
    ws.read_message_max(64u << 20);
    ws.async_handshake(res, u.host + ":" + u.port, target, [&](const beast::error_code& e) {
      ec = e;
      done = true;
    });
  });
  if (!d.runUntil([&] { return done; }, deadline)) throw std::runtime_error("WebSocket handshake with " + url + " timed out");
  if (ec == websocket::error::upgrade_declined) throw WebSocketRefused(static_cast<int>(res.result_int()), res.body());
  if (ec) throw std::runtime_error("WebSocket handshake with " + url + " failed: " + ec.message());
}

WebSocketClient::~WebSocketClient() {
  try {
    close();
  } catch (...) {
    // Closing is a courtesy; the socket goes with the io_context either way.
  }
}

std::optional<std::string> WebSocketClient::next(std::chrono::milliseconds timeout) {
  Impl& d = *impl_;
  if (d.ended) return std::nullopt;
  if (!d.reading) {
    d.reading = true;
    d.visit([&d](auto& ws) {
      ws.async_read(d.buffer, [&d](const beast::error_code& ec, std::size_t) {
        d.reading = false;
        if (ec) {
          d.endWith(ec);
          return;
        }
        d.message = beast::buffers_to_string(d.buffer.data());
        d.buffer.consume(d.buffer.size());
      });
    });
  }
  // A read left pending by a timeout goes on in the next call.
  d.runUntil([&] { return d.message.has_value() || d.ended; }, std::chrono::steady_clock::now() + timeout);
  std::optional<std::string> m = std::move(d.message);
  d.message.reset();
  return m;
}

bool WebSocketClient::closed() const { return impl_->ended; }

int WebSocketClient::closeCode() const {
  if (!impl_->ended) return 0;
  return impl_->visit([](auto& ws) { return static_cast<int>(ws.reason().code); });
}

std::string WebSocketClient::closeReason() const { return impl_->error; }

void WebSocketClient::close() {
  Impl& d = *impl_;
  if (d.ended) return;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  bool done = false;
  d.visit([&](auto& ws) { ws.async_close(websocket::close_code::normal, [&](const beast::error_code&) { done = true; }); });
  d.runUntil([&] { return done; }, deadline);
  // The server's close frame arrives on the pending read, if there is one.
  d.runUntil([&] { return !d.reading; }, deadline);
  d.ended = true;
  beast::error_code ec;
  d.visit([&](auto& ws) { beast::get_lowest_layer(ws).socket().close(ec); });
}

}  // namespace weir::cluster
