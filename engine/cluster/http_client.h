#pragma once
// A small blocking HTTP/1.1 client for the JobManager's API (the `weir` CLI, tests), and a
// blocking WebSocket client for its live endpoints (GET /v1/jobs/{id}/live; tests, the
// workbench), over TCP or TLS. Beast and Asio stay in http_client.cpp.

#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

namespace weir::cluster {

struct HttpResponse {
  int status = 0;
  std::string body;
};

/// `url` is "http://host:port" or "https://host:port" (a trailing slash is fine); `target`
/// "/v1/jobs?x=y". `token` non-empty: sent as "Authorization: Bearer TOKEN". Throws
/// std::runtime_error when the JobManager cannot be reached, or (https) when the TLS
/// handshake fails, saying why.
///
/// https:// (and wss:// below): the server's certificate must chain to `caFile` (PEM),
/// else to the file in the environment variable WEIR_TLS_CA, else to the system's CAs,
/// and carry the URL's host name or IP address (subjectAltName).
HttpResponse httpRequest(const std::string& url, const std::string& method, const std::string& target,
                         const std::string& body = "", const std::string& token = "", const std::string& caFile = "");

/// Percent-encodes a query parameter value.
std::string urlEncode(const std::string& s);

/// The server answered the WebSocket upgrade request with an HTTP status instead of
/// upgrading (401 wrong token, 404 unknown job, ...).
struct WebSocketRefused : std::runtime_error {
  WebSocketRefused(int status, std::string body);
  int status;
  std::string body;
};

/// A WebSocket connection to the JobManager that receives text messages.
///
/// Blocking, for one thread at a time (a test, or a worker thread of the workbench): the
/// constructor connects and upgrades, next() waits for the next message with a timeout.
/// While next() is not called nothing is read (a server that pings, as the JobManager
/// does, closes a client that leaves it unread for a minute). Pings are answered inside
/// next().
class WebSocketClient {
 public:
  /// Connects to `url` ("http://host:port", or "https://" / "wss://" for TLS, checked as
  /// httpRequest does with `caFile`) and upgrades `target` ("/v1/jobs/ID/live"), sending
  /// `token` as a bearer token when not empty. Waits at most `timeout` for all of it.
  /// Throws WebSocketRefused when the server answers with a status instead, and
  /// std::runtime_error when it cannot be reached or a handshake fails.
  WebSocketClient(const std::string& url, const std::string& target, const std::string& token = "",
                  std::chrono::milliseconds timeout = std::chrono::seconds(30), const std::string& caFile = "");
  ~WebSocketClient();
  WebSocketClient(const WebSocketClient&) = delete;
  WebSocketClient& operator=(const WebSocketClient&) = delete;

  /// The next text message, waiting at most `timeout`; nullopt when none arrived in time
  /// or the connection has ended (then closed() is true).
  std::optional<std::string> next(std::chrono::milliseconds timeout);
  /// Whether the connection has ended; closeCode() is the server's close code (1000:
  /// normal) or 0 when it ended without a close frame, closeReason() its reason or the
  /// error.
  bool closed() const;
  int closeCode() const;
  std::string closeReason() const;
  /// Sends a normal close and waits briefly for the server's; idempotent.
  void close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace weir::cluster
