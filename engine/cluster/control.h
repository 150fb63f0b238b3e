#pragma once
// The control plane between the JobManager and its TaskManagers (docs/protocol.md,
// "Control plane"): the same frames and mutual HMAC handshake as the data plane
// (net/frame.h), then CONTROL frames, each carrying one JSON object with a "type".
//
// One ControlConnection per TaskManager, on the owning process's io_context (one thread):
// one reader (receive()) and one writer coroutine fed by a queue (send() from the io
// thread; one write in flight), as Asio's chat_server example does.
//
// With TLS (ControlOptions::tls), the TLS handshake comes first (both sides present a
// certificate of the cluster's CA; net/tls_stream.h), then the same HMAC handshake inside.
//
// This header includes Asio (and Asio SSL): only the daemons' .cpp files include it.

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cluster/limits.h"
#include "net/frame.h"
#include "net/tls_stream.h"

namespace weir::cluster {

namespace asio = boost::asio;
using asio::awaitable;
using asio::ip::tcp;

struct ControlOptions {
  std::string clusterId = "weir";
  std::string nodeName;
  std::string secret;
  std::uint32_t maxPayload = kMaxControlMessage;  // deploy messages carry a whole plan
  /// Null: plain TCP. Else a context of net::makeDaemonTlsContext for this side's role.
  std::shared_ptr<asio::ssl::context> tls;
};

class ControlConnection : public std::enable_shared_from_this<ControlConnection> {
 public:
  ControlConnection(tcp::socket socket, ControlOptions options);

  /// Runs the handshake (server or client side, 5 s deadline; TLS first when configured);
  /// "" when accepted, else why not. A TLS server tells a plain peer in a REJECT frame.
  awaitable<std::string> serverHandshake();
  awaitable<std::string> clientHandshake();
  /// Starts the writer coroutine (after the handshake).
  void start();

  /// The next control message; nullopt when the connection ended (`error` says why).
  awaitable<std::optional<nlohmann::json>> receive(std::string& error);
  /// Queues a message (io thread only).
  void send(const nlohmann::json& message);
  /// Closes the socket (pending reads end with an error); idempotent.
  void close();
  /// Closes the socket once every queued message is written (a refusal the peer should
  /// read); the writer must have been started.
  void closeWhenSent();
  bool isOpen() const { return open_; }
  /// The handshake or a read or write failed because the peer closed the connection: it
  /// went away (a JobManager dying as it accepted), rather than refused this side.
  bool peerHungUp() const { return peerHungUp_; }

  /// The peer's node name from the handshake; "host:port" of the socket.
  const std::string& peerName() const { return peerName_; }
  const std::string& endpoint() const { return endpoint_; }
  /// "TLSv1.3, peer CN=..." or "plain".
  std::string security() const { return stream_.describe(); }

 private:
  awaitable<std::string> nextFrame();
  awaitable<std::string> writeFrame(const std::vector<std::uint8_t>& frame);
  awaitable<void> writeLoop();
  awaitable<std::string> serverExchange();
  awaitable<std::string> clientExchange();
  void armWatchdog();

  ControlOptions opt_;
  net::Stream stream_;
  net::FrameDecoder decoder_;
  std::vector<std::uint8_t> buf_;
  std::size_t bufPos_ = 0, bufLen_ = 0;
  std::deque<std::vector<std::uint8_t>> queue_;
  asio::steady_timer wake_;
  asio::steady_timer watchdog_;
  bool open_ = true;
  bool closeWhenSent_ = false;
  bool peerHungUp_ = false;
  std::string peerName_;
  std::string endpoint_;
};

/// A structured log line on stderr: "2026-11-24T21:53:14.123Z level=info component=... msg=\"...\" k=v".
void logLine(const char* level, const std::string& component, const std::string& message,
             const nlohmann::json& fields = nlohmann::json::object());

/// How many of its last log lines a process keeps in memory (GET /v1/logs of the JobManager).
constexpr std::size_t kRecentLogLines = 1000;
/// The last `n` lines logLine wrote (at most kRecentLogLines), oldest first, without newlines.
std::vector<std::string> recentLogLines(std::size_t n);

}  // namespace weir::cluster
