// The transport over real loopback TCP, two endpoints in one process:
//
//   producer threads --NetworkChannelWriter--> [Transport A] ==TCP== [Transport B] --> InputGate --> consumer
//        (channels 1..4, and 100 the other way on the same connection)
//
// Exact delivery in order per channel, credit-based backpressure that stops only the
// channel whose receiver does not drain, batching by the flush timeout, refusal of a peer
// with the wrong secret before any data frame is read, and a malformed frame that closes
// only its own connection. With TLS (certificates made by `openssl`, tests/tls_certs.h):
// the same exact delivery, the secret still checked inside TLS, and a plain peer, a peer
// of another CA and a TLS peer of a plain listener refused with a reason, the listener
// serving on. Assertions are on counts and bounds, never on times (QTRY_*
// only waits for a condition, with a generous ceiling).

#include <QtTest>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "net/codec.h"
#include "net/frame.h"
#include "net/transport.h"
#include "tls_certs.h"

using namespace weir;
using namespace weir::net;

namespace {

/// Channel `n` of one attempt of one job (the tests' channels all belong to it).
ChannelKey ch(std::uint32_t n) { return {0xfeed, 1, n}; }

/// Waits (bounded) until the writer's first credit arrived, so a write will not block.
bool waitUntilCredited(const NetworkChannelWriter& w) {
  for (int i = 0; i < 1000; ++i) {
    if (w.credited()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

SchemaPtr recSchema() {
  static SchemaPtr s = makeSchema({{"channel", Type::Int64}, {"seq", Type::Int64}, {"text", Type::String}});
  return s;
}

RecordBatch makeBatch(std::int64_t channel, std::int64_t firstSeq, int rows) {
  BatchBuilder b(recSchema(), static_cast<std::size_t>(rows));
  for (int i = 0; i < rows; ++i) {
    b.column(0).appendInt64(channel);
    b.column(1).appendInt64(firstSeq + i);
    if (i % 7 == 3) b.column(2).appendNull();
    else b.column(2).appendString(std::string(static_cast<std::size_t>(i % 13), 'x'));
    b.endRow(firstSeq + i);
  }
  return b.finish();
}

TransportOptions opts(std::string name, std::string secret = "") {
  TransportOptions o;
  o.nodeName = std::move(name);
  o.secret = std::move(secret);
  o.log = [](std::string_view line) { qInfo("%.*s", static_cast<int>(line.size()), line.data()); };
  return o;
}

/// Log lines of a Transport, for checking the reasons it gives.
struct LogLines {
  std::mutex mu;
  std::vector<std::string> lines;
  bool contains(const std::string& text) {
    std::lock_guard lock(mu);
    for (const auto& l : lines)
      if (l.find(text) != std::string::npos) return true;
    return false;
  }
};

TransportOptions loggedOpts(std::string name, LogLines& log, TlsFiles tls = {}, std::string secret = "") {
  TransportOptions o = opts(std::move(name), std::move(secret));
  o.tls = std::move(tls);
  o.log = [&log](std::string_view line) {
    std::lock_guard lock(log.mu);
    log.lines.emplace_back(line);
  };
  return o;
}

/// What a consumer saw on each gate channel.
struct Seen {
  std::int64_t rows = 0;
  std::int64_t nextSeq = 0;
  bool inOrder = true;
  bool ended = false;
  int watermarks = 0;
};

/// Drains `gate` until every channel ended (or `stop`), checking per-channel order.
void consume(InputGate& gate, std::vector<Seen>& seen, const std::atomic<bool>& stop) {
  int ended = 0;
  while (ended < gate.numChannels() && !stop) {
    auto n = gate.next(std::chrono::milliseconds(50));
    if (!n) continue;
    Seen& s = seen[static_cast<std::size_t>(n->channel)];
    if (auto* b = std::get_if<RecordBatch>(&n->element)) {
      for (std::size_t r = 0; r < b->numRows(); ++r) {
        if (b->column(1).int64(r) != s.nextSeq || b->eventTime(r) != s.nextSeq) s.inOrder = false;
        ++s.nextSeq;
      }
      s.rows += static_cast<std::int64_t>(b->numRows());
    } else if (std::holds_alternative<Watermark>(n->element)) {
      ++s.watermarks;
    } else if (std::holds_alternative<EndOfPartition>(n->element)) {
      s.ended = true;
      ++ended;
    }
  }
}

/// A raw TCP client for protocol abuse (no Asio, no Transport).
class RawPeer {
 public:
  explicit RawPeer(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) qFatal("raw connect failed");
  }
  ~RawPeer() { ::close(fd_); }
  void send(const std::vector<std::uint8_t>& bytes) {
    std::size_t off = 0;
    while (off < bytes.size()) {
      const ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return;  // the server may have closed already
      off += static_cast<std::size_t>(n);
    }
  }
  /// The next frame (type, payload), or nullopt at EOF; waits up to 10 s.
  std::optional<std::pair<FrameType, std::vector<std::uint8_t>>> readFrame() {
    for (;;) {
      if (dec_.state() == FrameDecoder::State::Frame) {
        auto r = std::pair{dec_.header().type, std::vector<std::uint8_t>(dec_.payload().begin(), dec_.payload().end())};
        dec_.next();
        return r;
      }
      if (pos_ < len_) {
        pos_ += dec_.feed({buf_ + pos_, len_ - pos_});
        if (dec_.state() == FrameDecoder::State::Error) return std::nullopt;
        continue;
      }
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 10000) <= 0) return std::nullopt;
      const ssize_t n = ::recv(fd_, buf_, sizeof buf_, 0);
      if (n <= 0) return std::nullopt;
      pos_ = 0;
      len_ = static_cast<std::size_t>(n);
    }
  }
  /// Runs the client side of the handshake with `secret`; true when welcomed.
  bool handshake(const std::string& secret, std::string cluster = "weir") {
    Hello h{kProtocolVersion, cluster, "raw", randomNonce()};
    send(makeFrame(FrameType::Hello, {}, encodeHello(h)));
    auto f = readFrame();
    if (!f || f->first != FrameType::Challenge) return false;
    std::string err;
    auto ch = parseChallenge(f->second, err);
    send(makeFrame(FrameType::Auth, {}, encodeAuth({clientProof(secret, cluster, h.nonce, ch->nonce)})));
    f = readFrame();
    return f && f->first == FrameType::Welcome;
  }

 private:
  int fd_;
  FrameDecoder dec_{kDefaultMaxPayload};
  std::uint8_t buf_[65536];
  std::size_t pos_ = 0, len_ = 0;
};

}  // namespace

class TestNetTransport final : public QObject {
  Q_OBJECT

  QTemporaryDir tmp_;
  TestCertificates certs_;

  TlsFiles nodeTls() const { return {certs_.node.toStdString(), certs_.nodeKey.toStdString(), certs_.ca.toStdString()}; }

  /// Sends `batches` batches of `rows` rows on channel 7 from `from` to `to` over `conn`
  /// (a connection of `to`), and checks they all arrive in order.
  void exchange(Transport& from, Transport& to, const ConnectionPtr& conn, int batches, int rows) {
    InputGate gate(1, 4);
    to.addInput(conn, ch(7), gate, 0);
    auto w = from.openOutput(ch(7));
    std::thread producer([&] {
      for (int i = 0; i < batches; ++i) w->write(makeBatch(0, std::int64_t{i} * rows, rows));
      w->write(EndOfPartition{});
    });
    std::atomic<bool> stop{false};
    std::vector<Seen> seen(1);
    consume(gate, seen, stop);
    producer.join();
    QVERIFY(seen[0].inOrder);
    QVERIFY(seen[0].ended);
    QCOMPARE(seen[0].rows, std::int64_t{batches} * rows);
  }

 private slots:
  void initTestCase() {
    QVERIFY(tmp_.isValid());
    QVERIFY2(certs_.make(tmp_.path()), qPrintable(certs_.error));
  }

  /// Both sides with TLS and a secret: every element arrives, in order, through frames
  /// larger than a TLS record; the peer's certificate is named in the log; a wrong
  /// secret is still refused inside TLS.
  void tlsCarriesEveryElement() {
    LogLines logA, logB, logC;
    Transport a(loggedOpts("tm-a", logA, nodeTls(), "s3cret")), b(loggedOpts("tm-b", logB, nodeTls(), "s3cret"));
    const std::uint16_t port = a.listen();
    ConnectionPtr conn = b.connect("127.0.0.1", port);
    QVERIFY(conn->isOpen());
    exchange(a, b, conn, 300, 500);  // ~30 KB batches: frames span several TLS records
    QVERIFY(conn->stats().bytesIn > 1'000'000);
    QVERIFY(logA.contains("over TLSv1.3, peer CN=weir node"));
    Transport c(loggedOpts("tm-c", logC, nodeTls(), "wrong"));
    try {
      c.connect("127.0.0.1", port);
      QFAIL("a wrong secret was accepted under TLS");
    } catch (const NetworkError& e) {
      QVERIFY2(std::string(e.what()).find("secret") != std::string::npos, e.what());
    }
  }

  /// Mixed configurations and a foreign CA: refused with a reason on the listener's side
  /// (and, for a plain peer, on the peer's); the listener keeps accepting good peers.
  void tlsMismatchRefused() {
    LogLines logTls, logPlain, logPeer;
    Transport tlsSide(loggedOpts("tls-side", logTls, nodeTls()));
    Transport plainSide(loggedOpts("plain-side", logPlain));
    const std::uint16_t tlsPort = tlsSide.listen(), plainPort = plainSide.listen();

    Transport plainPeer(loggedOpts("plain-peer", logPeer));
    try {
      plainPeer.connect("127.0.0.1", tlsPort);
      QFAIL("a plain peer was accepted by a TLS listener");
    } catch (const NetworkError& e) {
      QVERIFY2(std::string(e.what()).find("TLS is required") != std::string::npos, e.what());
    }
    QTRY_VERIFY_WITH_TIMEOUT(logTls.contains("TLS is required here"), 10000);

    Transport tlsPeer(loggedOpts("tls-peer", logPeer, nodeTls()));
    QVERIFY_EXCEPTION_THROWN(tlsPeer.connect("127.0.0.1", plainPort), NetworkError);
    QTRY_VERIFY_WITH_TIMEOUT(logPlain.contains("started a TLS handshake, but TLS is off here"), 10000);

    Transport rogue(loggedOpts("rogue", logPeer, {certs_.rogue.toStdString(), certs_.rogueKey.toStdString(),
                                                   certs_.ca.toStdString()}));
    QVERIFY_EXCEPTION_THROWN(rogue.connect("127.0.0.1", tlsPort), NetworkError);
    QTRY_VERIFY_WITH_TIMEOUT(logTls.contains("certificate verify failed"), 10000);
    Transport distrusting(loggedOpts("distrusting", logPeer, {certs_.node.toStdString(),
                                                               certs_.nodeKey.toStdString(),
                                                               certs_.otherCa.toStdString()}));
    try {
      distrusting.connect("127.0.0.1", tlsPort);
      QFAIL("a peer trusting another CA accepted the listener");
    } catch (const NetworkError& e) {
      QVERIFY2(std::string(e.what()).find("certificate verify failed") != std::string::npos, e.what());
    }

    ConnectionPtr good = tlsPeer.connect("127.0.0.1", tlsPort);
    QVERIFY(good->isOpen());
    exchange(tlsSide, tlsPeer, good, 20, 10);
  }

  void badTlsFilesThrow() {
    TlsFiles missingKey = nodeTls();
    missingKey.key = (tmp_.path() + "/nope.key").toStdString();
    try {
      TransportOptions o = opts("bad");
      o.tls = missingKey;
      Transport broken(o);
      QFAIL("a missing key file was accepted");
    } catch (const NetworkError& e) {
      QVERIFY2(std::string(e.what()).find("--tls-key") != std::string::npos, e.what());
    }
    TransportOptions o = opts("bad");
    o.tls = nodeTls();
    o.tls.key = certs_.rogueKey.toStdString();  // not the certificate's key
    QVERIFY_EXCEPTION_THROWN(Transport{o}, NetworkError);
    QCOMPARE(QString::fromStdString(checkTlsFiles({certs_.node.toStdString(), "", ""})).contains("--tls-ca"), true);
    QVERIFY(checkTlsFiles(nodeTls()).empty());
    QVERIFY(checkTlsFiles({}).empty());
  }

  /// 4 channels A -> B and one B -> A on one connection; every element arrives once, in
  /// order; queues never exceed their capacity.
  void fourChannelsExactInOrder() {
    std::mutex mu;
    ConnectionPtr accepted;
    Transport a(opts("tm-a")), b(opts("tm-b"));
    a.setOnConnection([&](const ConnectionPtr& c) {
      std::lock_guard lock(mu);
      accepted = c;
    });
    const std::uint16_t port = a.listen();
    ConnectionPtr conn = b.connect("127.0.0.1", port);
    QVERIFY(conn->isOpen());
    QTRY_VERIFY_WITH_TIMEOUT([&] { std::lock_guard lock(mu); return accepted != nullptr; }(), 10000);

    constexpr int kChannels = 4, kBatches = 500, kRows = 37;
    InputGate gateB(kChannels, 4);
    for (int c = 0; c < kChannels; ++c) b.addInput(conn, ch(static_cast<std::uint32_t>(c + 1)), gateB, c);
    InputGate gateA(1, 3);
    a.addInput(accepted, ch(100), gateA, 0);

    std::vector<std::unique_ptr<NetworkChannelWriter>> writers;
    for (int c = 0; c < kChannels; ++c) writers.push_back(a.openOutput(ch(static_cast<std::uint32_t>(c + 1))));
    auto reverse = b.openOutput(ch(100));

    std::atomic<bool> stop{false};
    std::vector<Seen> seenB(kChannels), seenA(1);
    std::thread consumerB([&] { consume(gateB, seenB, stop); });
    std::thread consumerA([&] { consume(gateA, seenA, stop); });
    std::vector<std::thread> producers;
    for (int c = 0; c < kChannels; ++c) {
      producers.emplace_back([&, c] {
        auto& w = *writers[static_cast<std::size_t>(c)];
        for (int i = 0; i < kBatches; ++i) {
          w.write(makeBatch(c, std::int64_t{i} * kRows, kRows));
          if (i % 10 == 9) w.write(Watermark{std::int64_t{i} * kRows});
        }
        w.write(EndOfPartition{});
      });
    }
    producers.emplace_back([&] {
      for (int i = 0; i < 100; ++i) reverse->write(makeBatch(9, std::int64_t{i} * 5, 5));
      reverse->write(EndOfPartition{});
    });
    for (auto& t : producers) t.join();
    consumerB.join();
    consumerA.join();

    for (int c = 0; c < kChannels; ++c) {
      const Seen& s = seenB[static_cast<std::size_t>(c)];
      QVERIFY(s.inOrder);
      QVERIFY(s.ended);
      QCOMPARE(s.rows, std::int64_t{kBatches} * kRows);
      QCOMPARE(s.watermarks, kBatches / 10);
    }
    QVERIFY(seenA[0].inOrder);
    QCOMPARE(seenA[0].rows, 500);
    QVERIFY(gateB.maxQueuedSeen() <= gateB.capacity());
    QVERIFY(gateA.maxQueuedSeen() <= gateA.capacity());
    QVERIFY(conn->stats().framesIn > 0);
  }

  /// Channel 1's receiver never drains: its producer stops after `capacity` elements;
  /// channels 2..4 on the same connection complete. Then draining channel 1 lets its
  /// producer complete too.
  void creditStopsOnlyTheSlowChannel() {
    Transport a(opts("tm-a")), b(opts("tm-b"));
    const std::uint16_t port = a.listen();
    ConnectionPtr conn = b.connect("127.0.0.1", port);
    constexpr int kCapacity = 2, kElements = 200;
    InputGate slow(1, kCapacity), fast(3, kCapacity);
    b.addInput(conn, ch(1), slow, 0);
    for (int c = 0; c < 3; ++c) b.addInput(conn, ch(static_cast<std::uint32_t>(c + 2)), fast, c);

    std::vector<std::unique_ptr<NetworkChannelWriter>> writers;
    for (std::uint32_t c = 1; c <= 4; ++c) writers.push_back(a.openOutput(ch(c)));
    std::vector<std::atomic<int>> written(4);
    std::vector<std::thread> producers;
    for (int c = 0; c < 4; ++c) {
      producers.emplace_back([&, c] {
        auto& w = *writers[static_cast<std::size_t>(c)];
        for (int i = 0; i < kElements; ++i) {
          w.write(makeBatch(c, i * 10, 10));
          ++written[static_cast<std::size_t>(c)];
        }
        w.write(EndOfPartition{});
        ++written[static_cast<std::size_t>(c)];
      });
    }
    std::atomic<bool> stop{false};
    std::vector<Seen> seenFast(3);
    std::thread consumer([&] { consume(fast, seenFast, stop); });
    consumer.join();  // returns only when channels 2..4 all ended
    for (const auto& s : seenFast) {
      QVERIFY(s.inOrder);
      QCOMPARE(s.rows, kElements * 10);
    }
    for (int c = 1; c < 4; ++c) QCOMPARE(written[static_cast<std::size_t>(c)].load(), kElements + 1);
    // The slow channel: exactly its credit went out, all of it is queued, no more.
    QTRY_COMPARE_WITH_TIMEOUT(slow.queued(), kCapacity, 10000);
    QCOMPARE(written[0].load(), kCapacity);
    QVERIFY(writers[0]->usage() >= 0.99);
    QCOMPARE(slow.maxQueuedSeen(), kCapacity);

    std::vector<Seen> seenSlow(1);
    std::thread drain([&] { consume(slow, seenSlow, stop); });
    drain.join();
    for (auto& t : producers) t.join();
    QVERIFY(seenSlow[0].inOrder);
    QCOMPARE(seenSlow[0].rows, kElements * 10);
    QCOMPARE(written[0].load(), kElements + 1);
    QVERIFY(slow.maxQueuedSeen() <= kCapacity);
    QVERIFY(fast.maxQueuedSeen() <= kCapacity);
  }

  /// Small elements share frames: with a long flush timeout, 50 watermarks and the end
  /// of partition (which flushes) travel in one frame; with a short one, a lone
  /// watermark arrives without any flush call.
  void batchingAndFlushTimeout() {
    auto ao = opts("tm-a");
    ao.flushTimeout = std::chrono::hours(1);
    Transport a(ao), b(opts("tm-b"));
    ConnectionPtr conn = b.connect("127.0.0.1", a.listen());
    InputGate gate(1, 64);
    b.addInput(conn, ch(7), gate, 0);
    auto w = a.openOutput(ch(7));
    for (int i = 0; i < 50; ++i) w->write(Watermark{i});
    w->write(EndOfPartition{});
    std::atomic<bool> stop{false};
    std::vector<Seen> seen(1);
    consume(gate, seen, stop);
    QCOMPARE(seen[0].watermarks, 50);
    QCOMPARE(w->framesSent(), std::uint64_t{1});

    auto co = opts("tm-c");
    co.flushTimeout = std::chrono::milliseconds(2);
    Transport c(co);
    ConnectionPtr conn2 = b.connect("127.0.0.1", c.listen());
    InputGate gate2(1, 4);
    b.addInput(conn2, ch(8), gate2, 0);
    auto w2 = c.openOutput(ch(8));
    w2->write(Watermark{5});
    // No flush call, no end of partition: only the timer sends it (next waits up to 10 s).
    std::optional<InputGate::Next> got = gate2.next(std::chrono::seconds(10));
    QVERIFY(got.has_value());
    QCOMPARE(std::get<Watermark>(got->element).timestamp, 5);
    QCOMPARE(w2->framesSent(), std::uint64_t{1});
  }

  /// An attempt's channels end together: after release, data still in flight for it is
  /// dropped without closing the connection (other attempts on it flow on), the same
  /// channel index of the next attempt is a channel of its own, writers of the released
  /// attempt fail, and nothing of either attempt is left once both are released.
  void releaseEndsAnAttempt() {
    auto ao = opts("tm-a");
    ao.flushTimeout = std::chrono::hours(1);  // only a flush, a full frame or the release sends
    Transport a(ao), b(opts("tm-b"));
    ConnectionPtr conn = b.connect("127.0.0.1", a.listen());
    const ChannelKey first{0xabc, 1, 0}, second{0xabc, 2, 0};
    InputGate gate1(1, 4);
    b.addInput(conn, first, gate1, 0);
    auto w1 = a.openOutput(first);
    for (int i = 0; i < 3; ++i) w1->write(Watermark{i});
    w1->flush();
    for (int i = 0; i < 3; ++i) {
      auto got = gate1.next(std::chrono::seconds(10));
      QVERIFY(got.has_value());
      QCOMPARE(std::get<Watermark>(got->element).timestamp, i);
    }
    QCOMPARE(b.counts().inputs, std::size_t{1});
    b.release(first.scope());  // the consumer's attempt ended first
    QCOMPARE(b.counts().inputs, std::size_t{0});
    w1->write(Watermark{99});  // late: its credit was given before the release
    w1->flush();

    InputGate gate2(1, 4);
    b.addInput(conn, second, gate2, 0);
    auto w2 = a.openOutput(second);  // same index, next attempt: no "already has a writer"
    w2->write(Watermark{7});
    w2->write(EndOfPartition{});
    auto got = gate2.next(std::chrono::seconds(10));
    QVERIFY(got.has_value());
    QCOMPARE(std::get<Watermark>(got->element).timestamp, 7);
    QVERIFY2(conn->isOpen(), conn->closeReason().c_str());
    QVERIFY(!gate1.next(std::chrono::milliseconds(200)).has_value());  // the late one was dropped

    QCOMPARE(a.counts().attempts, std::size_t{2});
    a.release(first.scope());
    try {
      w1->write(Watermark{100});
      QFAIL("a writer of a released attempt wrote");
    } catch (const NetworkError& e) {
      QVERIFY2(QString(e.what()).contains("released"), e.what());
    }
    // What a producer wrote before its attempt was released still reaches the consumer (its
    // last frame, often with the end of partition, may not have been sent yet).
    const ChannelKey third{0xabc, 3, 0};
    InputGate gate3(1, 4);
    b.addInput(conn, third, gate3, 0);
    auto w3 = a.openOutput(third);
    QVERIFY(waitUntilCredited(*w3));
    w3->write(Watermark{5});  // stays in the frame under construction: no flush
    a.release(third.scope());
    got = gate3.next(std::chrono::seconds(10));
    QVERIFY2(got.has_value(), "the last frame of a released attempt was dropped");
    QCOMPARE(std::get<Watermark>(got->element).timestamp, 5);
    b.release(third.scope());

    a.release(second.scope());
    b.release(second.scope());
    QCOMPARE(a.counts().outputs, std::size_t{0});
    QCOMPARE(a.counts().attempts, std::size_t{0});
    QCOMPARE(b.counts().inputs, std::size_t{0});
    QCOMPARE(b.counts().attempts, std::size_t{0});
    QVERIFY(conn->isOpen());
  }

  /// A writer blocked without credit is woken by cancel(); writers fail with a reason
  /// when their connection goes.
  void cancelAndConnectionLoss() {
    Transport a(opts("tm-a"));
    auto b = std::make_unique<Transport>(opts("tm-b"));
    ConnectionPtr conn = b->connect("127.0.0.1", a.listen());
    InputGate gate(1, 1);
    b->addInput(conn, ch(3), gate, 0);
    auto w = a.openOutput(ch(3));
    w->write(Watermark{1});  // uses the only credit
    std::atomic<int> outcome{0};
    std::thread t([&] {
      try {
        w->write(Watermark{2});
        outcome = 1;
      } catch (const ChannelCanceled&) {
        outcome = 2;
      }
    });
    w->cancel();
    t.join();
    QCOMPARE(outcome.load(), 2);

    auto w2 = a.openOutput(ch(4));
    InputGate gate2(1, 1);
    b->addInput(conn, ch(4), gate2, 0);
    w2->write(Watermark{1});
    std::thread t2([&] {
      try {
        w2->write(Watermark{2});
        outcome = 3;
      } catch (const NetworkError& e) {
        outcome = QString(e.what()).contains("closed") ? 4 : 5;
      }
    });
    b.reset();  // the receiving process goes away
    t2.join();
    QCOMPARE(outcome.load(), 4);
  }

  /// The wrong secret is refused by the handshake, both through a Transport and from a
  /// raw socket that sends a DATA frame right after its bad AUTH: the server answers
  /// REJECT and closes without reading it; no connection is ever announced.
  void wrongSecretRefused() {
    std::atomic<int> accepted{0};
    Transport server(opts("jm", "right secret"));
    server.setOnConnection([&](const ConnectionPtr&) { ++accepted; });
    const std::uint16_t port = server.listen();

    Transport wrong(opts("intruder", "wrong secret"));
    bool refused = false;
    try {
      wrong.connect("127.0.0.1", port);
    } catch (const NetworkError& e) {
      refused = QString(e.what()).contains("authentication");
    }
    QVERIFY(refused);

    Transport noSecret(opts("anonymous"));
    QVERIFY_THROWS_EXCEPTION(NetworkError, noSecret.connect("127.0.0.1", port));

    RawPeer raw(port);
    Hello h{kProtocolVersion, "weir", "raw", randomNonce()};
    raw.send(makeFrame(FrameType::Hello, {}, encodeHello(h)));
    auto f = raw.readFrame();
    QVERIFY(f && f->first == FrameType::Challenge);
    std::vector<std::uint8_t> bytes = makeFrame(FrameType::Auth, {}, encodeAuth({Proof{}}));
    std::vector<std::uint8_t> payload;
    encodeDataPayloadHeader(payload, 1);
    encodeElement(Watermark{1}, 0, false, payload);
    auto data = makeFrame(FrameType::Data, ChannelKey{0, 0, 1}, payload);
    bytes.insert(bytes.end(), data.begin(), data.end());
    raw.send(bytes);
    f = raw.readFrame();
    QVERIFY(f && f->first == FrameType::Reject);
    std::string err;
    auto reason = parseClose(f->second, err);
    QVERIFY(reason && reason->text.find("authentication failed") != std::string::npos);
    QVERIFY(!raw.readFrame());  // closed

    // The right secret gets in; a Transport refuses a non-loopback listener without one.
    Transport right(opts("tm", "right secret"));
    QVERIFY(right.connect("127.0.0.1", port)->isOpen());
    QTRY_COMPARE_WITH_TIMEOUT(accepted.load(), 1, 10000);
    Transport open(opts("open"));
    QVERIFY_THROWS_EXCEPTION(NetworkError, open.listen("0.0.0.0", 0));
  }

  /// Garbage, an oversized header and data beyond credit each close their own connection
  /// (with a CLOSE frame giving the reason); a channel on another connection to the same
  /// server keeps flowing.
  void malformedFrameClosesOnlyThatConnection() {
    std::mutex mu;  // before the transports: their callbacks use these until they stop
    std::vector<std::string> closedReasons;
    auto so = opts("server");
    so.maxFramePayload = 1 << 16;
    Transport server(so), client(opts("client"));
    server.setOnClosed([&](const ConnectionPtr&, const std::string& why) {
      std::lock_guard lock(mu);
      closedReasons.push_back(why);
    });
    const std::uint16_t port = server.listen();
    ConnectionPtr good = client.connect("127.0.0.1", port);
    InputGate gate(1, 4);
    client.addInput(good, ch(5), gate, 0);
    auto w = server.openOutput(ch(5));
    std::atomic<bool> stop{false};
    std::vector<Seen> seen(1);
    std::thread consumer([&] { consume(gate, seen, stop); });
    for (int i = 0; i < 20; ++i) w->write(makeBatch(0, i * 3, 3));

    struct Abuse {
      const char* name;
      std::vector<std::uint8_t> bytes;
      const char* reason;
    };
    std::vector<std::uint8_t> oversized(kFrameHeaderSize);
    writeFrameHeader(oversized.data(), FrameHeader{FrameType::Data, 0, ChannelKey{0, 0, 1}, (1u << 16) + 1});
    std::vector<std::uint8_t> payload;
    encodeDataPayloadHeader(payload, 1);
    encodeElement(Watermark{1}, 0, false, payload);
    const std::vector<Abuse> abuses{
        {"garbage", std::vector<std::uint8_t>(64, 0xAB), "bad magic"},
        {"oversized", oversized, "exceeds the limit"},
        {"no receiver", makeFrame(FrameType::Data, ChannelKey{0, 0, 77}, payload), "no receiver"},
        {"handshake again", makeFrame(FrameType::Hello, {}, {}), "after the handshake"},
    };
    for (const auto& abuse : abuses) {
      RawPeer raw(port);
      QVERIFY(raw.handshake(""));
      raw.send(abuse.bytes);
      auto f = raw.readFrame();
      QVERIFY2(f && f->first == FrameType::Close, abuse.name);
      std::string err;
      auto r = parseClose(f->second, err);
      QVERIFY2(r && r->text.find(abuse.reason) != std::string::npos, r ? r->text.c_str() : abuse.name);
      QVERIFY(!raw.readFrame());
    }
    QTRY_COMPARE_WITH_TIMEOUT([&] { std::lock_guard lock(mu); return closedReasons.size(); }(),
                              abuses.size(), 10000);
    QVERIFY(good->isOpen());
    for (int i = 20; i < 40; ++i) w->write(makeBatch(0, i * 3, 3));
    w->write(EndOfPartition{});
    consumer.join();
    QVERIFY(seen[0].inOrder);
    QCOMPARE(seen[0].rows, 120);
  }
};

QTEST_GUILESS_MAIN(TestNetTransport)
#include "test_net_transport.moc"
