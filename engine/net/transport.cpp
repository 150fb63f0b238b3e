// Transport on Boost.Asio (see transport.h for the contract, docs/protocol.md for the
// wire). Boost 1.74 has no as_tuple; redirect_error(use_awaitable, ec) plays its part:
// expected failures (peer gone, timeouts) are error codes, never exceptions.
//
// Everything that touches a socket, a Session's queues or an OutputChannel's timer runs
// on the one network thread. Producer threads meet it in OutputChannel (a mutex and a
// condition variable) and through asio::post; consumer threads only post credits.

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange

#include "net/transport.h"

#include "net/accept_backoff.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <future>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>

#include "net/codec.h"
#include "net/tls_stream.h"

namespace weir::net {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr std::size_t kDataHeader = kFrameHeaderSize + 4;  // frame header + element count
constexpr std::int64_t kMaxCredit = 1 << 20;               // per channel, from a peer
constexpr std::size_t kMaxChannels = 1 << 16;              // per process, from peers
constexpr std::size_t kReadBuffer = 64 * 1024;
constexpr std::size_t kMaxWriteGather = 64;

std::int64_t nowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool isLoopback(const std::string& address) {
  error_code ec;
  auto a = asio::ip::make_address(address, ec);
  return !ec && a.is_loopback();
}

}  // namespace

class Session;

/// The state of one sending channel, shared by its writer (producer thread) and the
/// network thread. Every field under `mu` except `timer` (network thread only).
struct OutputChannel {
  explicit OutputChannel(ChannelKey id, asio::io_context& io, const TransportOptions& opt)
      : id(id), io(&io), opt(opt), timer(std::make_unique<asio::steady_timer>(io)) {}

  const ChannelKey id;
  asio::io_context* io;            // posts only while `failed` is empty (see shutdown)
  const TransportOptions opt;      // a copy: a writer may outlive its Transport

  std::mutex mu;
  std::condition_variable cv;
  std::int64_t credit = 0;         // elements this side may still encode
  std::int64_t initialCredit = 0;  // the first announcement (the receiver's capacity)
  std::int64_t totalCredit = 0;
  std::int64_t sent = 0;           // elements encoded
  std::uint64_t frames = 0;
  std::weak_ptr<Session> session;  // where credits came from: where frames go
  std::vector<std::uint8_t> pending;  // frame under construction (header space first)
  std::uint32_t pendingCount = 0;
  std::deque<std::vector<std::uint8_t>> ready;  // finished frames, in order
  SchemaEncoder schemas;
  bool timerArmed = false;
  bool canceled = false;
  bool hasWriter = false;
  std::string failed;              // non-empty: the connection is gone or the transport stopped

  std::unique_ptr<asio::steady_timer> timer;  // null once released (network thread)

  /// Patches the header of the frame under construction and queues it (mu held).
  void finishFrame(std::uint16_t flags = 0) {
    if (pendingCount == 0) return;
    writeFrameHeader(pending.data(), FrameHeader{FrameType::Data, flags, id,
                                                 static_cast<std::uint32_t>(pending.size() - kFrameHeaderSize)});
    std::memcpy(pending.data() + kFrameHeaderSize, &pendingCount, 4);
    ready.push_back(std::move(pending));
    pending = {};
    pendingCount = 0;
    ++frames;
  }
  void fail(const std::string& why) {  // mu held
    if (failed.empty()) failed = why;
    cv.notify_all();
  }
};

/// Gate channel -> (connection, channel id), for the gate's take listener.
struct GateRoute {
  std::mutex mu;
  bool dead = false;  // the Transport is gone, or the gate's attempt was released
  AttemptKey scope;   // the attempt whose gate this is
  std::vector<std::pair<std::weak_ptr<Session>, ChannelKey>> entries;
};

/// How many released attempts a Transport remembers, to drop their late frames quietly
/// (data and credits in flight when an attempt ended). Older ones are forgotten: by then
/// nothing of theirs is in flight (a producer sends only against credit, and credit stops
/// at the release).
constexpr std::size_t kReleasedAttemptsKept = 4096;

class Transport::Impl {
 public:
  explicit Impl(TransportOptions o) : opt(std::move(o)), work(asio::make_work_guard(*io)) {
    if (!opt.log) opt.log = [](std::string_view line) { std::cerr << line << '\n'; };
    if (opt.tls.enabled()) {  // before the thread: these throw NetworkError on bad files
      tlsServer = makeDaemonTlsContext(opt.tls, TlsRole::Server);
      tlsClient = makeDaemonTlsContext(opt.tls, TlsRole::Client);
    }
    thread = std::thread([this] {
      io->run();
      runReturned = true;
    });
  }
  ~Impl() { shutdown(); }

  void log(const std::string& line) const { opt.log("[weir.net " + opt.nodeName + "] " + line); }
  void shutdown();

  awaitable<void> acceptLoop(tcp::acceptor& acceptor);
  awaitable<void> serve(tcp::socket socket);
  void track(const std::shared_ptr<Session>& s);
  void opened(const std::shared_ptr<Session>& s);
  void closed(const std::shared_ptr<Session>& s, const std::string& reason);
  /// Credit for an output channel from `s`; an error text when the peer misbehaves.
  std::string credit(ChannelKey channel, std::uint32_t credits, const std::shared_ptr<Session>& s);
  std::shared_ptr<OutputChannel> output(ChannelKey channel, bool* overLimit);
  /// Network thread: was this attempt released here (its late frames are dropped)?
  bool released(const AttemptKey& a) const { return releasedSet.count(a) > 0; }
  void rememberReleased(const AttemptKey& a) {
    if (!releasedSet.insert(a).second) return;
    releasedOrder.push_back(a);
    if (releasedOrder.size() > kReleasedAttemptsKept) {
      releasedSet.erase(releasedOrder.front());
      releasedOrder.pop_front();
    }
  }

  TransportOptions opt;
  std::shared_ptr<asio::ssl::context> tlsServer, tlsClient;  // null without TLS
  // Shared with every Session: a Connection handle may outlive the Transport, and its
  // socket and timers must not outlive their io_context.
  std::shared_ptr<asio::io_context> io = std::make_shared<asio::io_context>();
  std::shared_ptr<std::atomic<bool>> alive = std::make_shared<std::atomic<bool>>(true);
  std::atomic<bool> runReturned{false};
  asio::executor_work_guard<asio::io_context::executor_type> work;
  std::thread thread;

  std::mutex mu;  // the maps below; never held while taking an OutputChannel's mu... except
                  // in closed/shutdown, which take them in this order (map, then channel)
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  std::set<std::shared_ptr<Session>> sessions;     // open (after the handshake)
  std::vector<std::weak_ptr<Session>> everySession;  // also those in their handshake
  std::unordered_map<ChannelKey, std::shared_ptr<OutputChannel>, ChannelKeyHash> outputs;
  std::map<InputGate*, std::shared_ptr<GateRoute>> routes;  // erased when their attempt is released
  // Network thread only: attempts released here, oldest first (kReleasedAttemptsKept).
  std::set<AttemptKey> releasedSet;
  std::deque<AttemptKey> releasedOrder;
  std::uint64_t droppedLateFrames = 0;  // network thread
  std::function<void(const ConnectionPtr&)> onConnection;
  std::function<void(const ConnectionPtr&, const std::string&)> onClosed;
  bool stopped = false;
};

// ---- Session ---------------------------------------------------------------------------

class Session final : public Connection, public std::enable_shared_from_this<Session> {
 public:
  Session(Transport::Impl& impl, tcp::socket socket, std::shared_ptr<asio::ssl::context> tls)
      : ioKeep_(impl.io), alive_(impl.alive), impl_(impl), stream_(std::move(socket), std::move(tls)),
        wake_(stream_.socket().get_executor()), watchdog_(stream_.socket().get_executor()),
        decoder_(kMaxControlPayload), buf_(kReadBuffer) {
    error_code ec;
    auto ep = stream_.socket().remote_endpoint(ec);
    endpoint_ = ec ? "?" : ep.address().to_string() + ":" + std::to_string(ep.port());
    stream_.socket().set_option(tcp::no_delay(true), ec);
    peerName_ = endpoint_;
  }

  // Connection
  const std::string& peerName() const override { return peerName_; }
  bool isOpen() const override { return open_.load(); }
  std::string closeReason() const override {
    std::lock_guard lock(reasonMu_);
    return closeReason_;
  }
  ConnectionStats stats() const override {
    ConnectionStats s;
    s.framesOut = framesOut_.load(std::memory_order_relaxed);
    s.framesIn = framesIn_.load(std::memory_order_relaxed);
    s.bytesOut = bytesOut_.load(std::memory_order_relaxed);
    s.bytesIn = bytesIn_.load(std::memory_order_relaxed);
    s.dataFramesOut = dataFramesOut_.load(std::memory_order_relaxed);
    return s;
  }
  void close(std::string reason) override {
    if (!alive_->load()) return;  // the Transport is gone, and with it the connection
    asio::post(stream_.socket().get_executor(), [self = shared_from_this(), reason = std::move(reason)] {
      self->closeOnThread(CloseCode::Normal, reason, true);
    });
  }

  /// Server side of the handshake; "" when the peer is in.
  awaitable<std::string> serverHandshake();
  /// Client side; "" when the server accepted us.
  awaitable<std::string> clientHandshake();
  /// Starts the read and write loops (after a handshake).
  void start() {
    decoder_.setMaxPayload(impl_.opt.maxFramePayload);
    open_ = true;
    asio::co_spawn(stream_.socket().get_executor(), [self = shared_from_this()] { return self->readLoop(); }, asio::detached);
    asio::co_spawn(stream_.socket().get_executor(), [self = shared_from_this()] { return self->writeLoop(); }, asio::detached);
  }

  /// Network thread: queues a frame for the one writer.
  void enqueue(std::vector<std::uint8_t> frame) {
    if (closing_) return;
    writeQueue_.push_back(std::move(frame));
    wake_.cancel();
  }
  /// Any thread: one more free slot for input `channel` (a gate's take listener).
  void creditLater(ChannelKey channel) {
    asio::post(stream_.socket().get_executor(), [self = shared_from_this(), channel] { self->grant(channel, 1); });
  }
  /// Network thread: registers an input and announces its first credit.
  void addInput(ChannelKey channel, InputGate* gate, int gateChannel) {
    if (closing_ || impl_.released(channel.scope())) return;  // released before this ran
    auto& in = inputs_[channel];
    in.gate = gate;
    in.gateChannel = gateChannel;
    grant(channel, static_cast<std::uint32_t>(gate->capacity()));
  }
  /// Network thread: forgets every input of a released attempt (its gates are about to go).
  void release(const AttemptKey& a) {
    std::erase_if(inputs_, [&](const auto& kv) { return kv.first.scope() == a; });
    std::erase_if(pendingCredits_, [&](const auto& kv) { return kv.first.scope() == a; });
  }
  void closeOnThread(CloseCode code, const std::string& reason, bool sendClose);
  /// "TLSv1.3, peer CN=..." or "plain" (network thread).
  std::string security() const { return stream_.describe(); }

 private:
  struct Input {
    InputGate* gate = nullptr;
    int gateChannel = 0;
    SchemaDecoder schemas;
    std::int64_t outstanding = 0;  // credits announced, not yet used by data
    bool canceled = false;         // the gate was canceled: drop what arrives
  };

  void grant(ChannelKey channel, std::uint32_t n) {
    if (closing_) return;
    auto it = inputs_.find(channel);
    if (it == inputs_.end() || it->second.canceled) return;
    it->second.outstanding += n;
    pendingCredits_[channel] += n;
    wake_.cancel();
  }

  /// Reads until the decoder holds a frame: "" then, else why the stream ended.
  awaitable<std::string> nextFrame();
  // GCC 12 destroys some temporaries inside co_await expressions twice: every argument
  // of a co_await here is a named local of the caller (hence the const reference).
  awaitable<void> writeRaw(const std::vector<std::uint8_t>& frame, error_code& ec) {
    const asio::const_buffer bytes = asio::buffer(frame);
    co_await stream_.write(bytes, ec);
    if (!ec) {
      framesOut_.fetch_add(1, std::memory_order_relaxed);
      bytesOut_.fetch_add(frame.size(), std::memory_order_relaxed);
    }
  }
  /// How a handshake ended: error "" when the peer is in; otherwise why, and whether to
  /// tell the peer (REJECT with code) before closing.
  struct Refusal {
    std::string error;
    bool sendReject = false;
    CloseCode code = CloseCode::ProtocolError;
    bool tlsText = false;  // the REJECT says TLS is required (to a plain peer)
  };
  awaitable<Refusal> serverExchange();
  awaitable<Refusal> clientExchange();
  void armWatchdog() {
    watchdog_.expires_after(impl_.opt.handshakeTimeout);
    watchdog_.async_wait([self = shared_from_this()](error_code ec) {
      if (ec) return;  // canceled: the handshake finished
      self->handshakeTimedOut_ = true;
      error_code ignored;
      self->stream_.socket().close(ignored);
    });
  }
  awaitable<void> readLoop();
  awaitable<void> writeLoop();
  /// A frame after the handshake; "" or why the connection must close (code set).
  std::string handle(const FrameHeader& h, std::span<const std::uint8_t> payload, CloseCode& code);
  void finalClose();

  std::shared_ptr<asio::io_context> ioKeep_;  // first: destroyed after the socket and timers
  std::shared_ptr<std::atomic<bool>> alive_;
  Transport::Impl& impl_;                     // used on the network thread only
  Stream stream_;                // TCP, or TLS over it
  asio::steady_timer wake_;      // the writer waits on it; cancel() wakes it
  asio::steady_timer watchdog_;  // handshake deadline, then the closing deadline
  FrameDecoder decoder_;
  std::vector<std::uint8_t> buf_;
  std::size_t bufPos_ = 0, bufLen_ = 0;
  std::string endpoint_;
  std::string peerName_;
  bool handshakeTimedOut_ = false;

  std::atomic<bool> open_{false};
  bool closing_ = false;  // network thread
  bool closed_ = false;
  mutable std::mutex reasonMu_;
  std::string closeReason_;

  std::deque<std::vector<std::uint8_t>> writeQueue_;
  std::map<ChannelKey, std::uint32_t> pendingCredits_;
  std::unordered_map<ChannelKey, Input, ChannelKeyHash> inputs_;

  std::atomic<std::uint64_t> framesOut_{0}, framesIn_{0}, bytesOut_{0}, bytesIn_{0}, dataFramesOut_{0};
};

awaitable<std::string> Session::nextFrame() {
  for (;;) {
    if (bufPos_ < bufLen_) {
      const std::size_t used = decoder_.feed({buf_.data() + bufPos_, bufLen_ - bufPos_});
      bufPos_ += used;
      bytesIn_.fetch_add(used, std::memory_order_relaxed);
      if (decoder_.state() == FrameDecoder::State::Frame) {
        framesIn_.fetch_add(1, std::memory_order_relaxed);
        co_return "";
      }
      if (decoder_.state() == FrameDecoder::State::Error) co_return "malformed frame " + decoder_.error().toString();
      continue;
    }
    error_code ec;
    const asio::mutable_buffer into = asio::buffer(buf_);
    const std::size_t n = co_await stream_.readSome(into, ec);
    if (ec) {
      if (handshakeTimedOut_) co_return "handshake timed out";
      co_return readFailure(ec);
    }
    bufPos_ = 0;
    bufLen_ = n;
  }
}

awaitable<std::string> Session::serverHandshake() {
  armWatchdog();
  Refusal r;
  std::string tlsErr = co_await stream_.handshake(TlsRole::Server);
  if (!tlsErr.empty()) {
    if (handshakeTimedOut_) tlsErr = "handshake timed out";
    r.error = tlsErr;
    if (stream_.plainPeer() && !handshakeTimedOut_) {
      // Read its HELLO first (closing on unread bytes would reset the connection before
      // the peer reads why), then tell it in plain.
      std::string ignored = co_await nextFrame();
      r.sendReject = true;
      r.code = CloseCode::AuthFailed;
      r.tlsText = true;
    }
  } else {
    r = co_await serverExchange();
  }
  if (r.sendReject) {
    const CloseReason why{static_cast<std::uint16_t>(r.code), r.tlsText ? std::string(kTlsRequiredText) : r.error};
    const auto frame = makeFrame(FrameType::Reject, {}, encodeClose(why));
    error_code ec;
    co_await writeRaw(frame, ec);
  }
  if (r.error.empty()) watchdog_.cancel();
  co_return r.error;
}

awaitable<Session::Refusal> Session::serverExchange() {
  const auto& opt = impl_.opt;
  std::string err = co_await nextFrame();
  if (!err.empty()) co_return Refusal{err};
  if (decoder_.header().type != FrameType::Hello)
    co_return Refusal{"expected HELLO, got " + std::string(frameTypeName(decoder_.header().type)), true};
  std::string perr;
  auto hello = parseHello(decoder_.payload(), perr);
  decoder_.next();
  if (!hello) co_return Refusal{"bad HELLO: " + perr, true};
  if (hello->version != kProtocolVersion)
    co_return Refusal{"protocol version " + std::to_string(hello->version) + " not supported (this side: " +
                          std::to_string(kProtocolVersion) + ")",
                      true, CloseCode::VersionMismatch};
  if (hello->clusterId != opt.clusterId)
    co_return Refusal{"cluster id '" + hello->clusterId + "' is not '" + opt.clusterId + "'", true,
                      CloseCode::ClusterMismatch};
  peerName_ = hello->nodeName + " (" + endpoint_ + ")";
  Challenge ch;
  ch.nonce = randomNonce();
  ch.proof = serverProof(opt.secret, opt.clusterId, hello->nonce, ch.nonce);
  ch.nodeName = opt.nodeName;
  error_code ec;
  const auto challenge = makeFrame(FrameType::Challenge, {}, encodeChallenge(ch));
  co_await writeRaw(challenge, ec);
  if (ec) co_return Refusal{"write failed: " + ec.message()};
  err = co_await nextFrame();
  if (!err.empty()) co_return Refusal{err};
  if (decoder_.header().type != FrameType::Auth)
    co_return Refusal{"expected AUTH, got " + std::string(frameTypeName(decoder_.header().type)), true,
                      CloseCode::AuthFailed};
  auto auth = parseAuth(decoder_.payload(), perr);
  decoder_.next();
  if (!auth) co_return Refusal{"bad AUTH: " + perr, true};
  if (!proofEquals(auth->proof, clientProof(opt.secret, opt.clusterId, hello->nonce, ch.nonce)))
    co_return Refusal{"authentication failed (wrong cluster secret)", true, CloseCode::AuthFailed};
  const auto welcome = makeFrame(FrameType::Welcome, {}, {});
  co_await writeRaw(welcome, ec);
  if (ec) co_return Refusal{"write failed: " + ec.message()};
  co_return Refusal{};
}

awaitable<std::string> Session::clientHandshake() {
  armWatchdog();
  std::string tlsErr = co_await stream_.handshake(TlsRole::Client);
  if (!tlsErr.empty()) co_return handshakeTimedOut_ ? "handshake timed out" : tlsErr;
  Refusal r = co_await clientExchange();
  if (r.sendReject) {
    const CloseReason why{static_cast<std::uint16_t>(r.code), r.error};
    const auto frame = makeFrame(FrameType::Reject, {}, encodeClose(why));
    error_code ec;
    co_await writeRaw(frame, ec);
  }
  if (r.error.empty()) watchdog_.cancel();
  co_return r.error;
}

awaitable<Session::Refusal> Session::clientExchange() {
  const auto& opt = impl_.opt;
  const Hello hello{kProtocolVersion, opt.clusterId, opt.nodeName, randomNonce()};
  error_code ec;
  const auto helloFrame = makeFrame(FrameType::Hello, {}, encodeHello(hello));
  co_await writeRaw(helloFrame, ec);
  if (ec) co_return Refusal{"write failed: " + ec.message()};
  std::string perr;
  for (int step = 0; step < 2; ++step) {
    std::string err = co_await nextFrame();
    if (!err.empty()) co_return Refusal{err};
    const FrameType t = decoder_.header().type;
    if (t == FrameType::Reject) {
      auto r = parseClose(decoder_.payload(), perr);
      co_return Refusal{"refused by " + peerName_ + ": " + (r ? r->text : "bad REJECT: " + perr)};
    }
    if (step == 1) {
      if (t != FrameType::Welcome) co_return Refusal{"expected WELCOME, got " + std::string(frameTypeName(t))};
      decoder_.next();
      break;
    }
    if (t != FrameType::Challenge) co_return Refusal{"expected CHALLENGE, got " + std::string(frameTypeName(t))};
    auto ch = parseChallenge(decoder_.payload(), perr);
    decoder_.next();
    if (!ch) co_return Refusal{"bad CHALLENGE: " + perr};
    if (!proofEquals(ch->proof, serverProof(opt.secret, opt.clusterId, hello.nonce, ch->nonce)))
      co_return Refusal{"server failed authentication (wrong cluster secret)", true, CloseCode::AuthFailed};
    peerName_ = ch->nodeName + " (" + endpoint_ + ")";
    const Auth auth{clientProof(opt.secret, opt.clusterId, hello.nonce, ch->nonce)};
    const auto authFrame = makeFrame(FrameType::Auth, {}, encodeAuth(auth));
    co_await writeRaw(authFrame, ec);
    if (ec) co_return Refusal{"write failed: " + ec.message()};
  }
  co_return Refusal{};
}

awaitable<void> Session::readLoop() {
  auto self = shared_from_this();
  while (!closing_) {
    std::string err = co_await nextFrame();
    if (closing_) break;
    if (!err.empty()) {
      const bool malformed = decoder_.state() == FrameDecoder::State::Error;
      closeOnThread(malformed ? CloseCode::ProtocolError : CloseCode::Normal, err, malformed);
      break;
    }
    CloseCode code = CloseCode::ProtocolError;
    err = handle(decoder_.header(), decoder_.payload(), code);
    const std::uint64_t at = decoder_.frameOffset();
    decoder_.next();
    if (!err.empty()) {
      closeOnThread(code, err + " (frame at stream byte " + std::to_string(at) + ")", true);
      break;
    }
  }
}

std::string Session::handle(const FrameHeader& h, std::span<const std::uint8_t> payload, CloseCode& code) {
  std::string perr;
  switch (h.type) {
    case FrameType::Data: {
      auto it = inputs_.find(h.channel);
      if (it == inputs_.end()) {
        // Data in flight when its attempt ended (the credit was given before): dropped.
        if (impl_.released(h.channel.scope())) {
          ++impl_.droppedLateFrames;
          return "";
        }
        return "DATA on channel " + h.channel.toString() + ", which has no receiver here";
      }
      Input& in = it->second;
      auto r = decodeDataPayload(payload, in.schemas);
      if (!r) return "DATA on channel " + h.channel.toString() + ": payload " + r.error().toString();
      auto& elements = r.value();
      if (static_cast<std::int64_t>(elements.size()) > in.outstanding) {
        code = CloseCode::CreditViolation;
        return "DATA on channel " + h.channel.toString() + ": " + std::to_string(elements.size()) +
               " elements with " + std::to_string(in.outstanding) + " credits";
      }
      in.outstanding -= static_cast<std::int64_t>(elements.size());
      if (in.canceled) return "";
      try {
        for (auto& e : elements) {
          if (!in.gate->tryPush(in.gateChannel, e)) {
            code = CloseCode::CreditViolation;
            return "DATA on channel " + h.channel.toString() + " found its queue full";
          }
        }
      } catch (const ChannelCanceled&) {
        in.canceled = true;  // the job is over here; drop the rest quietly
      }
      return "";
    }
    case FrameType::Credit: {
      auto n = parseCredit(payload, perr);
      if (!n) return "bad CREDIT: " + perr;
      return impl_.credit(h.channel, *n, shared_from_this());
    }
    case FrameType::Close: {
      auto r = parseClose(payload, perr);
      closeOnThread(CloseCode::Normal, "peer closed: " + (r ? r->text : "bad CLOSE: " + perr), false);
      return "";
    }
    case FrameType::Ping: return "";
    default: return std::string(frameTypeName(h.type)) + " after the handshake";
  }
}

awaitable<void> Session::writeLoop() {
  auto self = shared_from_this();
  std::vector<std::uint8_t> credits;
  std::vector<std::vector<std::uint8_t>> batch;
  std::vector<asio::const_buffer> buffers;
  while (!closed_) {
    if (writeQueue_.empty() && pendingCredits_.empty()) {
      if (closing_) break;
      wake_.expires_at(asio::steady_timer::time_point::max());
      error_code ec;
      co_await wake_.async_wait(asio::redirect_error(use_awaitable, ec));
      continue;
    }
    credits.clear();
    batch.clear();
    buffers.clear();
    for (const auto& [ch, n] : pendingCredits_) {
      auto f = makeFrame(FrameType::Credit, ch, encodeCredit(n));
      credits.insert(credits.end(), f.begin(), f.end());
    }
    std::uint64_t frames = pendingCredits_.size(), data = 0;
    pendingCredits_.clear();
    if (!credits.empty()) buffers.push_back(asio::buffer(credits));
    while (!writeQueue_.empty() && batch.size() < kMaxWriteGather) {
      batch.push_back(std::move(writeQueue_.front()));
      writeQueue_.pop_front();
      buffers.push_back(asio::buffer(batch.back()));
      ++frames;
      ++data;
    }
    error_code ec;
    const std::size_t n = co_await stream_.write(buffers, ec);
    if (ec) {
      closeOnThread(CloseCode::Normal, "write failed: " + ec.message(), false);
      break;
    }
    framesOut_.fetch_add(frames, std::memory_order_relaxed);
    dataFramesOut_.fetch_add(data, std::memory_order_relaxed);
    bytesOut_.fetch_add(n, std::memory_order_relaxed);
  }
  if (closing_) finalClose();
}

void Session::closeOnThread(CloseCode code, const std::string& reason, bool sendClose) {
  if (closing_) return;
  closing_ = true;
  {
    std::lock_guard lock(reasonMu_);
    closeReason_ = reason;
  }
  impl_.log("connection " + peerName_ + " closed: " + reason);
  if (sendClose && open_) {
    // Best effort: whatever is queued, then the reason; the watchdog ends a peer that
    // does not read.
    writeQueue_.push_back(makeFrame(FrameType::Close, ChannelKey{}, encodeClose({static_cast<std::uint16_t>(code), reason})));
    wake_.cancel();
    watchdog_.expires_after(std::chrono::seconds(2));
    watchdog_.async_wait([self = shared_from_this()](error_code ec) {
      if (!ec) self->finalClose();
    });
    return;
  }
  finalClose();
}

void Session::finalClose() {
  if (closed_) return;
  closed_ = true;
  closing_ = true;
  const bool wasOpen = open_.exchange(false);
  stream_.close();
  wake_.cancel();
  watchdog_.cancel();
  writeQueue_.clear();
  if (wasOpen) impl_.closed(shared_from_this(), closeReason());
}

// ---- frames of an output channel, on the network thread ---------------------------------

namespace {

/// Hands an output channel's finished frames to its connection, in order.
void drainReady(const std::shared_ptr<OutputChannel>& st) {
  std::deque<std::vector<std::uint8_t>> frames;
  std::shared_ptr<Session> s;
  {
    std::lock_guard lock(st->mu);
    frames.swap(st->ready);
    s = st->session.lock();
    if (!frames.empty() && (!s || !s->isOpen())) {
      st->fail("channel " + st->id.toString() + ": connection closed" +
               (s ? " (" + s->closeReason() + ")" : ""));
      return;
    }
  }
  for (auto& f : frames) s->enqueue(std::move(f));
}

void armFlushTimer(const std::shared_ptr<OutputChannel>& st, std::chrono::milliseconds timeout) {
  if (!st->timer) return;  // released
  st->timer->expires_after(timeout);
  st->timer->async_wait([st](error_code ec) {
    if (ec) return;
    {
      std::lock_guard lock(st->mu);
      st->timerArmed = false;
      st->finishFrame(kDataFlush);
    }
    drainReady(st);
  });
}

/// Producer thread, mu held: queue the frame under construction and have the network
/// thread send it.
void flushLocked(const std::shared_ptr<OutputChannel>& st) {
  if (st->pendingCount == 0 || !st->failed.empty()) return;
  st->finishFrame();
  asio::post(*st->io, [st] { drainReady(st); });
}

}  // namespace

// ---- Transport::Impl --------------------------------------------------------------------

awaitable<void> Transport::Impl::acceptLoop(tcp::acceptor& acceptor) {
  AcceptBackoff backoff;
  for (;;) {
    error_code ec;
    tcp::socket socket = co_await acceptor.async_accept(asio::redirect_error(use_awaitable, ec));
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) {
      co_await backoff.failed(ec, [this](const std::string& m) { log(m); });
      continue;
    }
    backoff.succeeded();
    asio::co_spawn(*io, serve(std::move(socket)), asio::detached);
  }
}

void Transport::Impl::track(const std::shared_ptr<Session>& s) {
  std::lock_guard lock(mu);
  std::erase_if(everySession, [](const std::weak_ptr<Session>& w) { return w.expired(); });
  everySession.push_back(s);
}

awaitable<void> Transport::Impl::serve(tcp::socket socket) {
  auto s = std::make_shared<Session>(*this, std::move(socket), tlsServer);
  track(s);
  std::string err = co_await s->serverHandshake();
  if (!err.empty()) {
    log("refused connection from " + s->peerName() + ": " + err);
    s->closeOnThread(CloseCode::AuthFailed, err, false);
    co_return;
  }
  opened(s);
  if (onConnection) onConnection(s);
}

void Transport::Impl::opened(const std::shared_ptr<Session>& s) {
  {
    std::lock_guard lock(mu);
    if (stopped) return;
    sessions.insert(s);
  }
  log("connected to " + s->peerName() + (tlsServer ? " over " + s->security() : ""));
  s->start();
}

void Transport::Impl::closed(const std::shared_ptr<Session>& s, const std::string& reason) {
  std::vector<std::shared_ptr<OutputChannel>> bound;
  {
    std::lock_guard lock(mu);
    sessions.erase(s);
    for (auto& [id, st] : outputs) bound.push_back(st);
  }
  for (auto& st : bound) {
    std::lock_guard lock(st->mu);
    if (st->session.lock() == s)
      st->fail("channel " + st->id.toString() + ": connection to " + s->peerName() + " closed: " + reason);
  }
  bool stopping;
  {
    std::lock_guard lock(mu);
    stopping = stopped;
  }
  if (onClosed && !stopping) onClosed(s, reason);  // never from ~Transport
}

std::shared_ptr<OutputChannel> Transport::Impl::output(ChannelKey channel, bool* overLimit) {
  std::lock_guard lock(mu);
  auto it = outputs.find(channel);
  if (it != outputs.end()) return it->second;
  if (outputs.size() >= kMaxChannels) {
    if (overLimit) *overLimit = true;
    return nullptr;
  }
  auto st = std::make_shared<OutputChannel>(channel, *io, opt);
  if (stopped) st->failed = "transport stopped";
  outputs.emplace(channel, st);
  return st;
}

std::string Transport::Impl::credit(ChannelKey channel, std::uint32_t credits, const std::shared_ptr<Session>& s) {
  if (released(channel.scope())) return "";  // the producer's attempt ended here: nothing to send
  bool over = false;
  auto st = output(channel, &over);
  if (!st) return "CREDIT for more than " + std::to_string(kMaxChannels) + " channels";
  std::lock_guard lock(st->mu);
  if (st->credit + credits > kMaxCredit)
    return "CREDIT of channel " + channel.toString() + " beyond " + std::to_string(kMaxCredit);
  st->session = s;
  if (st->initialCredit == 0) st->initialCredit = credits;
  st->credit += credits;
  st->totalCredit += credits;
  st->cv.notify_all();
  return "";
}

void Transport::Impl::shutdown() {
  std::vector<std::shared_ptr<OutputChannel>> outs;
  std::vector<std::shared_ptr<GateRoute>> rs;
  {
    std::lock_guard lock(mu);
    if (stopped) return;
    stopped = true;
    for (auto& [id, st] : outputs) outs.push_back(st);
    for (auto& [g, r] : routes) rs.push_back(r);
  }
  // No consumer thread posts credits from here on, no producer posts frames.
  for (auto& r : rs) {
    std::lock_guard lock(r->mu);
    r->dead = true;
    r->entries.clear();
  }
  for (auto& st : outs) {
    std::lock_guard lock(st->mu);
    st->fail("channel " + st->id.toString() + ": transport stopped");
  }
  std::promise<void> done;
  asio::post(*io, [this, &done] {
    for (auto& a : acceptors) {
      error_code ec;
      a->close(ec);
    }
    std::vector<std::shared_ptr<Session>> all;
    {
      std::lock_guard lock(mu);
      for (auto& w : everySession)
        if (auto s = w.lock()) all.push_back(std::move(s));
    }
    for (auto& s : all) s->closeOnThread(CloseCode::Shutdown, "transport stopped", false);
    std::lock_guard lock(mu);
    for (auto& st : outputs) st.second->timer->cancel();
    done.set_value();
  });
  done.get_future().wait();
  alive->store(false);
  // Every socket is closed and every timer canceled: the loops finish and run() returns
  // by itself, so no coroutine frame (holding a Session) stays behind. A peer operation
  // that does not finish within 2 s is abandoned.
  work.reset();
  for (int i = 0; i < 2000 && !runReturned; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (!runReturned) io->stop();
  if (thread.joinable()) thread.join();
  // Timers die while their io_context is alive (writers may outlive the Transport).
  std::lock_guard lock(mu);
  for (auto& [id, st] : outputs) st->timer.reset();
  sessions.clear();
  routes.clear();
}

// ---- NetworkChannelWriter ----------------------------------------------------------------

NetworkChannelWriter::NetworkChannelWriter(std::shared_ptr<OutputChannel> state, ChannelKey id)
    : state_(std::move(state)), id_(id) {}

NetworkChannelWriter::~NetworkChannelWriter() {
  std::lock_guard lock(state_->mu);
  flushLocked(state_);
  state_->hasWriter = false;
}

std::int64_t NetworkChannelWriter::write(StreamElement element) {
  auto* batch = std::get_if<RecordBatch>(&element);
  if (batch && batch->numRows() > 1 &&
      kDataHeader + encodedSize(element, true) > state_->opt.maxFramePayload + kFrameHeaderSize) {
    // Too big for one frame: halves, each its own element (and credit).
    const std::size_t n = batch->numRows(), half = n / 2;
    std::vector<std::uint32_t> rows(n);
    for (std::size_t i = 0; i < n; ++i) rows[i] = static_cast<std::uint32_t>(i);
    RecordBatch first = batch->select(std::span(rows).first(half));
    RecordBatch second = batch->select(std::span(rows).subspan(half));
    const std::int64_t a = write(std::move(first));
    return a + write(std::move(second));
  }
  return writeOne(std::move(element));
}

std::int64_t NetworkChannelWriter::writeOne(StreamElement element) {
  OutputChannel& st = *state_;
  std::unique_lock lock(st.mu);
  std::int64_t blockedNs = 0;
  if (st.credit == 0 && !st.canceled && st.failed.empty()) {
    flushLocked(state_);  // no more will fit until the receiver frees slots: send what we have
    const std::int64_t start = nowNs();
    st.cv.wait(lock, [&] { return st.credit > 0 || st.canceled || !st.failed.empty(); });
    blockedNs = nowNs() - start;
  }
  if (st.canceled) throw ChannelCanceled{};
  if (!st.failed.empty()) throw NetworkError(st.failed);

  std::uint32_t schemaId = 0;
  bool inlineSchema = false;
  if (const auto* b = std::get_if<RecordBatch>(&element)) {
    auto id = st.schemas.idOf(b->schemaPtr());
    if (!id) throw NetworkError("channel " + id_.toString() + ": more than " + std::to_string(kMaxSchemas) +
                                " schemas");
    std::tie(schemaId, inlineSchema) = *id;
  }
  const std::size_t size = encodedSize(element, inlineSchema);
  const std::size_t limit = st.opt.maxFramePayload + kFrameHeaderSize;
  if (kDataHeader + size > limit)
    throw NetworkError("channel " + id_.toString() + ": an element of " + std::to_string(size) +
                       " bytes exceeds the frame limit of " + std::to_string(st.opt.maxFramePayload));
  if (st.pendingCount > 0 && st.pending.size() + size > limit) flushLocked(state_);
  if (st.pendingCount == 0) {
    st.pending.reserve(std::max(st.opt.flushBytes, kDataHeader + size));
    st.pending.resize(kDataHeader);
  }
  encodeElement(element, schemaId, inlineSchema, st.pending);
  ++st.pendingCount;
  --st.credit;
  ++st.sent;
  const bool urgent = std::holds_alternative<CheckpointBarrier>(element) ||
                      std::holds_alternative<EndOfPartition>(element) || std::holds_alternative<EndOfData>(element);
  if (urgent || st.pending.size() >= st.opt.flushBytes) {
    flushLocked(state_);
  } else if (!st.timerArmed) {
    st.timerArmed = true;
    asio::post(*st.io, [s = state_, t = st.opt.flushTimeout] { armFlushTimer(s, t); });
  }
  return blockedNs;
}

double NetworkChannelWriter::usage() const {
  std::lock_guard lock(state_->mu);
  if (state_->initialCredit == 0) return 0;
  const double inUse = static_cast<double>(state_->sent - (state_->totalCredit - state_->initialCredit));
  return std::clamp(inUse / static_cast<double>(state_->initialCredit), 0.0, 1.0);
}

void NetworkChannelWriter::flush() {
  std::lock_guard lock(state_->mu);
  flushLocked(state_);
}

void NetworkChannelWriter::cancel() {
  std::lock_guard lock(state_->mu);
  state_->canceled = true;
  state_->cv.notify_all();
}

bool NetworkChannelWriter::credited() const {
  std::lock_guard lock(state_->mu);
  return state_->totalCredit > 0;
}

std::uint64_t NetworkChannelWriter::framesSent() const {
  std::lock_guard lock(state_->mu);
  return state_->frames;
}

// ---- Transport ------------------------------------------------------------------------

Transport::Transport(TransportOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {
  if (impl_->opt.clusterId.size() > kMaxNameSize) throw NetworkError("cluster id longer than 255 bytes");
}

Transport::~Transport() { impl_->shutdown(); }

const TransportOptions& Transport::options() const { return impl_->opt; }

std::uint16_t Transport::listen(const std::string& address, std::uint16_t port) {
  if (!isLoopback(address) && impl_->opt.secret.empty())
    throw NetworkError("refusing to listen on " + address + " without a cluster secret (loopback only)");
  error_code ec;
  auto addr = asio::ip::make_address(address, ec);
  if (ec) throw NetworkError("bad listen address '" + address + "': " + ec.message());
  auto acceptor = std::make_unique<tcp::acceptor>(*impl_->io);
  const tcp::endpoint ep(addr, port);
  acceptor->open(ep.protocol(), ec);
  if (!ec) acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor->bind(ep, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw NetworkError("cannot listen on " + address + ":" + std::to_string(port) + ": " + ec.message());
  const std::uint16_t bound = acceptor->local_endpoint().port();
  tcp::acceptor& ref = *acceptor;
  {
    std::lock_guard lock(impl_->mu);
    impl_->acceptors.push_back(std::move(acceptor));
  }
  asio::co_spawn(*impl_->io, impl_->acceptLoop(ref), asio::detached);
  impl_->log("listening on " + address + ":" + std::to_string(bound));
  return bound;
}

ConnectionPtr Transport::connect(const std::string& host, std::uint16_t port) {
  std::promise<std::shared_ptr<Session>> promise;
  auto future = promise.get_future();
  Impl* impl = impl_.get();
  asio::co_spawn(
      *impl->io,
      [impl, host, port, &promise]() -> awaitable<void> {
        error_code ec;
        tcp::resolver resolver(*impl->io);
        const std::string service = std::to_string(port);  // named: see writeRaw
        auto results = co_await resolver.async_resolve(host, service, asio::redirect_error(use_awaitable, ec));
        if (ec) {
          promise.set_exception(std::make_exception_ptr(NetworkError("cannot resolve " + host + ": " + ec.message())));
          co_return;
        }
        tcp::socket socket(*impl->io);
        co_await asio::async_connect(socket, results, asio::redirect_error(use_awaitable, ec));
        if (ec) {
          promise.set_exception(std::make_exception_ptr(
              NetworkError("cannot connect to " + host + ":" + std::to_string(port) + ": " + ec.message())));
          co_return;
        }
        auto s = std::make_shared<Session>(*impl, std::move(socket), impl->tlsClient);
        impl->track(s);
        std::string err;
        try {
          err = co_await s->clientHandshake();
        } catch (const std::exception& e) {
          err = e.what();
        }
        if (!err.empty()) {
          s->closeOnThread(CloseCode::AuthFailed, err, false);
          promise.set_exception(std::make_exception_ptr(NetworkError(
              "handshake with " + host + ":" + std::to_string(port) + " failed: " + err)));
          co_return;
        }
        impl->opened(s);
        promise.set_value(s);
      },
      asio::detached);
  return future.get();
}

void Transport::setOnConnection(std::function<void(const ConnectionPtr&)> f) {
  std::lock_guard lock(impl_->mu);
  impl_->onConnection = std::move(f);
}

void Transport::setOnClosed(std::function<void(const ConnectionPtr&, const std::string&)> f) {
  std::lock_guard lock(impl_->mu);
  impl_->onClosed = std::move(f);
}

void Transport::addInput(const ConnectionPtr& connection, ChannelKey channel, InputGate& gate, int gateChannel) {
  auto s = std::dynamic_pointer_cast<Session>(connection);
  if (!s) throw NetworkError("addInput: not a connection of this transport");
  std::shared_ptr<GateRoute> route;
  bool fresh = false;
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->stopped) throw NetworkError("transport stopped");
    auto& r = impl_->routes[&gate];
    if (!r) {
      r = std::make_shared<GateRoute>();
      r->scope = channel.scope();
      r->entries.resize(static_cast<std::size_t>(gate.numChannels()));
      fresh = true;
    }
    route = r;
  }
  {
    std::lock_guard lock(route->mu);
    route->entries.at(static_cast<std::size_t>(gateChannel)) = {s, channel};
  }
  if (fresh) {
    gate.setOnTake([route](int ch) {
      std::lock_guard lock(route->mu);  // held while posting: shutdown waits for it
      if (route->dead || ch < 0 || static_cast<std::size_t>(ch) >= route->entries.size()) return;
      const auto& [weak, id] = route->entries[static_cast<std::size_t>(ch)];
      if (auto session = weak.lock()) session->creditLater(id);
    });
  }
  asio::post(*impl_->io, [s, channel, g = &gate, gateChannel] { s->addInput(channel, g, gateChannel); });
}

std::unique_ptr<NetworkChannelWriter> Transport::openOutput(ChannelKey channel) {
  auto st = impl_->output(channel, nullptr);
  if (!st) throw NetworkError("too many channels");
  std::lock_guard lock(st->mu);
  if (st->hasWriter) throw NetworkError("channel " + channel.toString() + " already has a writer");
  st->hasWriter = true;
  return std::unique_ptr<NetworkChannelWriter>(new NetworkChannelWriter(st, channel));
}

void Transport::release(AttemptKey attempt) {
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->stopped) return;
  }
  // All on the network thread, so that no CREDIT handled there can re-create an output of
  // the attempt between forgetting it and remembering the attempt as released; and after
  // every frame its producers posted before they stopped: what a finished producer still
  // holds (its last frame, with the end of partition) goes out before its channel is
  // forgotten. Sessions forget its inputs (their gates may be freed once this returns);
  // its late frames are dropped from now on; its timers end.
  std::promise<void> done;
  asio::post(*impl_->io, [this, attempt, &done] {
    impl_->rememberReleased(attempt);
    std::vector<std::shared_ptr<OutputChannel>> outs;
    std::vector<std::shared_ptr<GateRoute>> rs;
    std::vector<std::shared_ptr<Session>> open;
    {
      std::lock_guard lock(impl_->mu);
      for (auto it = impl_->outputs.begin(); it != impl_->outputs.end();) {
        if (it->first.scope() == attempt) {
          outs.push_back(it->second);
          it = impl_->outputs.erase(it);
        } else {
          ++it;
        }
      }
      for (auto it = impl_->routes.begin(); it != impl_->routes.end();) {
        if (it->second->scope == attempt) {
          rs.push_back(it->second);
          it = impl_->routes.erase(it);
        } else {
          ++it;
        }
      }
      open.assign(impl_->sessions.begin(), impl_->sessions.end());
    }
    for (auto& r : rs) {  // the gates' take listeners grant no more credit
      std::lock_guard lock(r->mu);
      r->dead = true;
      r->entries.clear();
    }
    for (auto& st : outs) {
      std::deque<std::vector<std::uint8_t>> frames;
      std::shared_ptr<Session> s;
      {
        std::lock_guard lock(st->mu);
        if (st->failed.empty() && !st->canceled) {
          st->finishFrame();
          frames.swap(st->ready);
          s = st->session.lock();
        }
        st->fail("channel " + st->id.toString() + ": attempt released");
        st->ready.clear();
        st->pending.clear();
        st->pendingCount = 0;
      }
      if (s && s->isOpen())
        for (auto& f : frames) s->enqueue(std::move(f));
      if (st->timer) {
        st->timer->cancel();
        st->timer.reset();
      }
    }
    for (auto& s : open) s->release(attempt);
    done.set_value();
  });
  done.get_future().wait();
}

std::size_t Transport::releaseAllBut(const std::set<AttemptKey>& keep) {
  std::set<AttemptKey> stale;
  {
    std::lock_guard lock(impl_->mu);
    for (const auto& [key, st] : impl_->outputs)
      if (!keep.count(key.scope())) stale.insert(key.scope());
    for (const auto& [gate, r] : impl_->routes)
      if (!keep.count(r->scope)) stale.insert(r->scope);
  }
  for (const auto& a : stale) release(a);
  return stale.size();
}

TransportCounts Transport::counts() const {
  TransportCounts c;
  std::lock_guard lock(impl_->mu);
  c.outputs = impl_->outputs.size();
  std::set<AttemptKey> scopes;
  for (const auto& [key, st] : impl_->outputs) scopes.insert(key.scope());
  for (const auto& [gate, r] : impl_->routes) {
    std::lock_guard rl(r->mu);
    for (const auto& e : r->entries)
      if (!e.first.expired()) ++c.inputs;
    scopes.insert(r->scope);
  }
  c.attempts = scopes.size();
  return c;
}

}  // namespace weir::net
