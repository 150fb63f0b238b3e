#include "cluster/control.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <deque>
#include <mutex>

#include "core/json_limits.h"

namespace weir::cluster {

using asio::use_awaitable;
using boost::system::error_code;
using namespace net;

ControlConnection::ControlConnection(tcp::socket socket, ControlOptions options)
    : opt_(std::move(options)), stream_(std::move(socket), opt_.tls), decoder_(kMaxControlPayload), buf_(64 * 1024),
      wake_(stream_.socket().get_executor()), watchdog_(stream_.socket().get_executor()) {
  wake_.expires_at(asio::steady_timer::time_point::max());
  error_code ec;
  auto ep = stream_.socket().remote_endpoint(ec);
  endpoint_ = ec ? "?" : ep.address().to_string() + ":" + std::to_string(ep.port());
  peerName_ = endpoint_;
}

void ControlConnection::close() {
  if (!open_) return;
  open_ = false;
  stream_.close();
  wake_.cancel();
  watchdog_.cancel();
}

void ControlConnection::armWatchdog() {
  watchdog_.expires_after(std::chrono::seconds(5));
  watchdog_.async_wait([self = shared_from_this()](const error_code& ec) {
    if (!ec) self->close();
  });
}

awaitable<std::string> ControlConnection::nextFrame() {
  for (;;) {
    while (bufPos_ < bufLen_) {
      bufPos_ += decoder_.feed(std::span<const std::uint8_t>(buf_.data() + bufPos_, bufLen_ - bufPos_));
      if (decoder_.state() == FrameDecoder::State::Frame) co_return "";
      if (decoder_.state() == FrameDecoder::State::Error) co_return "malformed frame " + decoder_.error().toString();
    }
    if (decoder_.state() == FrameDecoder::State::Frame) co_return "";
    error_code ec;
    const asio::mutable_buffer into = asio::buffer(buf_);
    const std::size_t n = co_await stream_.readSome(into, ec);
    if (ec) {
      peerHungUp_ = net::peerHungUp(ec);
      co_return readFailure(ec);
    }
    bufPos_ = 0;
    bufLen_ = n;
  }
}

awaitable<std::string> ControlConnection::writeFrame(const std::vector<std::uint8_t>& frame) {
  error_code ec;
  const asio::const_buffer bytes = asio::buffer(frame);
  co_await stream_.write(bytes, ec);
  if (ec) peerHungUp_ = net::peerHungUp(ec);
  co_return ec ? ec.message() : "";
}

awaitable<std::string> ControlConnection::serverHandshake() {
  armWatchdog();
  std::string err = co_await stream_.handshake(TlsRole::Server);
  bool reject = false;
  std::string rejectText;
  if (!err.empty()) {
    // A failed TLS handshake or a TLS peer on a plain listener: nothing it could read.
    // A plain peer on a TLS listener: read its HELLO (closing on unread bytes would reset
    // the connection before the peer reads why), then tell it in plain.
    if (stream_.plainPeer()) {
      std::string ignored = co_await nextFrame();
      reject = true;
      rejectText = kTlsRequiredText;
    }
  } else {
    err = co_await serverExchange();
    reject = !err.empty();
    rejectText = err;
  }
  watchdog_.cancel();
  if (reject) {
    const CloseReason why{2, rejectText.substr(0, 500)};
    const auto frame = makeFrame(FrameType::Reject, {}, encodeClose(why));
    co_await writeFrame(frame);
  }
  if (!err.empty()) close();
  decoder_.setMaxPayload(opt_.maxPayload);
  co_return err;
}

awaitable<std::string> ControlConnection::serverExchange() {
  std::string err = co_await nextFrame();
  if (!err.empty()) co_return err;
  if (decoder_.header().type != FrameType::Hello) co_return "expected HELLO";
  std::string perr;
  auto hello = parseHello(decoder_.payload(), perr);
  decoder_.next();
  if (!hello) co_return "bad HELLO: " + perr;
  if (hello->version != kProtocolVersion) co_return "protocol version " + std::to_string(hello->version) + " not supported";
  if (hello->clusterId != opt_.clusterId) co_return "cluster id '" + hello->clusterId + "' is not '" + opt_.clusterId + "'";
  peerName_ = hello->nodeName;
  Challenge ch;
  ch.nonce = randomNonce();
  ch.proof = serverProof(opt_.secret, opt_.clusterId, hello->nonce, ch.nonce);
  ch.nodeName = opt_.nodeName;
  const auto challenge = makeFrame(FrameType::Challenge, {}, encodeChallenge(ch));
  err = co_await writeFrame(challenge);
  if (!err.empty()) co_return err;
  err = co_await nextFrame();
  if (!err.empty()) co_return err;
  if (decoder_.header().type != FrameType::Auth) co_return "expected AUTH";
  auto auth = parseAuth(decoder_.payload(), perr);
  decoder_.next();
  if (!auth) co_return "bad AUTH: " + perr;
  if (!proofEquals(auth->proof, clientProof(opt_.secret, opt_.clusterId, hello->nonce, ch.nonce)))
    co_return "authentication failed (wrong cluster secret)";
  const auto welcome = makeFrame(FrameType::Welcome, {}, {});
  err = co_await writeFrame(welcome);
  co_return err;
}

awaitable<std::string> ControlConnection::clientHandshake() {
  armWatchdog();
  std::string err = co_await stream_.handshake(TlsRole::Client);
  if (!err.empty()) peerHungUp_ = stream_.hungUp();
  if (err.empty()) err = co_await clientExchange();
  watchdog_.cancel();
  if (!err.empty()) close();
  decoder_.setMaxPayload(opt_.maxPayload);
  co_return err;
}

awaitable<std::string> ControlConnection::clientExchange() {
  const Hello hello{kProtocolVersion, opt_.clusterId, opt_.nodeName, randomNonce()};
  const auto helloFrame = makeFrame(FrameType::Hello, {}, encodeHello(hello));
  std::string err = co_await writeFrame(helloFrame);
  if (!err.empty()) co_return err;
  std::string perr;
  for (int step = 0; step < 2; ++step) {
    err = co_await nextFrame();
    if (!err.empty()) co_return err;
    const FrameType t = decoder_.header().type;
    if (t == FrameType::Reject) {
      auto r = parseClose(decoder_.payload(), perr);
      co_return "refused: " + (r ? r->text : "bad REJECT");
    }
    if (step == 1) {
      if (t != FrameType::Welcome) co_return "expected WELCOME";
      decoder_.next();
      break;
    }
    if (t != FrameType::Challenge) co_return "expected CHALLENGE";
    auto ch = parseChallenge(decoder_.payload(), perr);
    decoder_.next();
    if (!ch) co_return "bad CHALLENGE: " + perr;
    if (!proofEquals(ch->proof, serverProof(opt_.secret, opt_.clusterId, hello.nonce, ch->nonce)))
      co_return "JobManager failed authentication (wrong cluster secret)";
    peerName_ = ch->nodeName;
    const Auth auth{clientProof(opt_.secret, opt_.clusterId, hello.nonce, ch->nonce)};
    const auto authFrame = makeFrame(FrameType::Auth, {}, encodeAuth(auth));
    err = co_await writeFrame(authFrame);
    if (!err.empty()) co_return err;
  }
  co_return "";
}

void ControlConnection::start() {
  asio::co_spawn(stream_.socket().get_executor(), [self = shared_from_this()] { return self->writeLoop(); }, asio::detached);
}

void ControlConnection::closeWhenSent() {
  closeWhenSent_ = true;
  wake_.cancel();
}

awaitable<void> ControlConnection::writeLoop() {
  while (open_) {
    if (queue_.empty()) {
      if (closeWhenSent_) {
        close();
        co_return;
      }
      error_code ec;
      co_await wake_.async_wait(asio::redirect_error(use_awaitable, ec));
      continue;
    }
    auto frame = std::move(queue_.front());
    queue_.pop_front();
    const std::string err = co_await writeFrame(frame);
    if (!err.empty()) {
      close();
      co_return;
    }
  }
}

void ControlConnection::send(const nlohmann::json& message) {
  if (!open_) return;
  const std::string text = dumpJson(message);  // user data (a failure's cause) need not be UTF-8
  queue_.push_back(makeFrame(FrameType::Control, {},
                             std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(text.data()), text.size())));
  wake_.cancel();
}

awaitable<std::optional<nlohmann::json>> ControlConnection::receive(std::string& error) {
  for (;;) {
    if (!open_) {
      if (error.empty()) error = "connection closed";
      co_return std::nullopt;
    }
    std::string err = co_await nextFrame();
    if (!err.empty()) {
      error = open_ ? err : "connection closed";
      close();
      co_return std::nullopt;
    }
    const auto h = decoder_.header();
    if (h.type == FrameType::Ping) {
      decoder_.next();
      continue;
    }
    if (h.type == FrameType::Close) {
      std::string perr;
      auto r = parseClose(decoder_.payload(), perr);
      error = "closed by peer: " + (r ? r->text : perr);
      close();
      co_return std::nullopt;
    }
    if (h.type != FrameType::Control) {
      error = "unexpected " + std::string(frameTypeName(h.type)) + " frame on the control connection";
      close();
      co_return std::nullopt;
    }
    auto p = decoder_.payload();
    std::string why;
    auto j = parseJsonBounded(std::string_view(reinterpret_cast<const char*>(p.data()), p.size()), &why,
                              kMaxControlJsonDepth);
    decoder_.next();
    if (j.is_discarded() || !j.is_object() || !j.contains("type") || !j["type"].is_string()) {
      error = "malformed control message (" + (why.empty() ? "not a JSON object with a type" : why) + ")";
      close();
      co_return std::nullopt;
    }
    co_return j;
  }
}

namespace {
std::mutex gRecentMu;
std::deque<std::string> gRecent;  // the last kRecentLogLines lines, without their newline
}  // namespace

std::vector<std::string> recentLogLines(std::size_t n) {
  std::lock_guard lock(gRecentMu);
  n = std::min(n, gRecent.size());
  return {gRecent.end() - static_cast<std::ptrdiff_t>(n), gRecent.end()};
}

void logLine(const char* level, const std::string& component, const std::string& message,
             const nlohmann::json& fields) {
  const auto now = std::chrono::system_clock::now();
  const auto t = std::chrono::system_clock::to_time_t(now);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char ts[64];
  std::snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  std::string line = std::string(ts) + " level=" + level + " component=" + component +
                     " msg=" + dumpJson(message);
  for (auto it = fields.begin(); it != fields.end(); ++it) line += " " + it.key() + "=" + dumpJson(it.value());
  {
    std::lock_guard lock(gRecentMu);
    gRecent.push_back(line);
    if (gRecent.size() > kRecentLogLines) gRecent.pop_front();
  }
  line += "\n";
  std::fputs(line.c_str(), stderr);
}

}  // namespace weir::cluster
