#pragma once
// The control plane between the JobManager and its TaskManagers (docs/protocol.md,
// "Control plane"): the same frames and mutual HMAC handshake as the data plane
// (net/frame.h), then CONTROL frames, each carrying one JSON object with a "type".
//
// One ControlConnection per TaskManager, on the owning process's io_context (one thread):
// one reader (receive()) and one writer coroutine fed by a queue (send() from the io
// thread; one write in flight), as Asio's chat_server example does.
//
// This header includes Asio: only the daemons' .cpp files include it.

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

#include "net/frame.h"

namespace weir::cluster {

namespace asio = boost::asio;
using asio::awaitable;
using asio::ip::tcp;

struct ControlOptions {
  std::string clusterId = "weir";
  std::string nodeName;
  std::string secret;
  std::uint32_t maxPayload = 16u << 20;  // deploy messages carry a whole plan
};

class ControlConnection : public std::enable_shared_from_this<ControlConnection> {
 public:
  ControlConnection(tcp::socket socket, ControlOptions options);

  /// Runs the handshake (server or client side, 5 s deadline); "" when accepted, else why not.
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
  bool isOpen() const { return open_; }

  /// The peer's node name from the handshake; "host:port" of the socket.
  const std::string& peerName() const { return peerName_; }
  const std::string& endpoint() const { return endpoint_; }

 private:
  awaitable<std::string> nextFrame();
  awaitable<std::string> writeFrame(const std::vector<std::uint8_t>& frame);
  awaitable<void> writeLoop();
  awaitable<std::string> serverExchange();
  awaitable<std::string> clientExchange();
  void armWatchdog();

  tcp::socket socket_;
  ControlOptions opt_;
  net::FrameDecoder decoder_;
  std::vector<std::uint8_t> buf_;
  std::size_t bufPos_ = 0, bufLen_ = 0;
  std::deque<std::vector<std::uint8_t>> queue_;
  asio::steady_timer wake_;
  asio::steady_timer watchdog_;
  bool open_ = true;
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
