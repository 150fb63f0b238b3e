// The wire codec and the frame layer without sockets: every element kind round trips
// (nulls, strings, empty batches, event times, row kinds, schema ids), and the decoders
// refuse truncated, oversized and garbage input with an offset and a reason, including a
// randomized mutation run (run it under the asan preset as well).

#include <QtTest>

#include <cstring>
#include <random>

#include "net/codec.h"
#include "net/frame.h"

using namespace weir;
using namespace weir::net;

namespace {

SchemaPtr allTypes() {
  static SchemaPtr s = makeSchema({{"i", Type::Int64}, {"d", Type::Double}, {"s", Type::String},
                                   {"b", Type::Bool}, {"t", Type::Timestamp}});
  return s;
}

/// Rows with every type, nulls in every column at different rows, strings of several
/// lengths (empty too); event times and row kinds when asked.
RecordBatch sample(std::size_t rows, bool eventTime, bool kinds) {
  BatchBuilder b(allTypes(), rows);
  for (std::size_t r = 0; r < rows; ++r) {
    const auto i = static_cast<std::int64_t>(r);
    std::vector<Value> v{r % 5 == 1 ? Value::null(Type::Int64) : Value::int64(i * 1000003 - 7),
                         r % 5 == 2 ? Value::null(Type::Double) : Value::dbl(static_cast<double>(i) / 3.0),
                         r % 5 == 3 ? Value::null(Type::String) : Value::string(std::string(r % 7, char('a' + r % 26))),
                         r % 5 == 4 ? Value::null(Type::Bool) : Value::boolean(r % 2 == 0),
                         r % 5 == 0 ? Value::null(Type::Timestamp) : Value::timestamp(1700000000000 + i)};
    b.appendRow(v, eventTime ? 1000 + i : kNoTimestamp,
                kinds ? static_cast<RowKind>(r % 4) : RowKind::Insert);
  }
  return b.finish();
}

StreamElement roundTrip(const StreamElement& e) {
  auto bytes = encodeStandalone(e);
  SchemaDecoder table;
  auto r = decodeElement(bytes, table);
  if (!r) qFatal("decode failed: %s", r.error().toString().c_str());
  if (r.value().second != bytes.size()) qFatal("decode used %zu of %zu bytes", r.value().second, bytes.size());
  return std::move(r.value().first);
}

}  // namespace

class TestNetCodec final : public QObject {
  Q_OBJECT

 private slots:
  void batchesRoundTrip_data() {
    QTest::addColumn<int>("rows");
    QTest::addColumn<bool>("eventTime");
    QTest::addColumn<bool>("kinds");
    QTest::newRow("empty") << 0 << false << false;
    QTest::newRow("one") << 1 << false << false;
    QTest::newRow("nulls+strings") << 37 << false << false;
    QTest::newRow("event time") << 100 << true << false;
    QTest::newRow("row kinds") << 100 << false << true;
    QTest::newRow("both") << 1024 << true << true;
  }
  void batchesRoundTrip() {
    QFETCH(int, rows);
    QFETCH(bool, eventTime);
    QFETCH(bool, kinds);
    const RecordBatch in = sample(static_cast<std::size_t>(rows), eventTime, kinds);
    const StreamElement out = roundTrip(in);
    QVERIFY(sameElement(in, out));
    const auto& b = std::get<RecordBatch>(out);
    QCOMPARE(b.numRows(), std::size_t(rows));
    QCOMPARE(b.hasEventTime(), eventTime && rows > 0);
    QCOMPARE(b.hasKinds(), kinds && rows > 1);
    for (std::size_t c = 0; c < b.numColumns(); ++c) QCOMPARE(b.column(c).nullCount(), in.column(c).nullCount());
    if (rows > 3) {
      QVERIFY(b.column(2).isNull(3));
      QCOMPARE(b.column(2).str(2), std::string_view("cc"));
      QCOMPARE(b.column(2).str(0), std::string_view(""));
    }
  }

  void specialValuesRoundTrip() {
    auto schema = makeSchema({{"d", Type::Double}, {"s", Type::String}, {"i", Type::Int64}});
    BatchBuilder b(schema);
    const double specials[] = {0.0, -0.0, std::numeric_limits<double>::quiet_NaN(),
                               std::numeric_limits<double>::infinity(), 1e-308};
    const std::string bin("a\0b\xff", 4);
    for (double d : specials) {
      std::vector<Value> row{Value::dbl(d), Value::string(bin), Value::int64(INT64_MIN)};
      b.appendRow(row);
    }
    const RecordBatch in = b.finish();
    QVERIFY(sameElement(in, roundTrip(in)));
    // A schema with no fields.
    const RecordBatch none(makeSchema({}), {}, 0);
    QVERIFY(sameElement(none, roundTrip(none)));
  }

  void eventsRoundTrip() {
    const std::vector<StreamElement> events{Watermark{INT64_MIN}, Watermark{1234567}, WatermarkStatus{true},
                                            WatermarkStatus{false}, CheckpointBarrier{42, -9},
                                            EndOfPartition{}, EndOfData{}};
    for (const auto& e : events) {
      QCOMPARE(encodeStandalone(e).size(), encodedSize(e, false));
      QVERIFY(sameElement(roundTrip(e), e));
    }
  }

  /// The second batch of a schema on a channel refers to it by id; both decode.
  void schemaIdsAndDataPayload() {
    SchemaEncoder enc;
    std::vector<std::uint8_t> payload;
    const std::vector<StreamElement> elements{sample(10, true, false), Watermark{5}, sample(3, false, true),
                                              EndOfPartition{}};
    encodeDataPayloadHeader(payload, static_cast<std::uint32_t>(elements.size()));
    std::vector<bool> inlined;
    for (const auto& e : elements) {
      std::uint32_t id = 0;
      bool inl = false;
      if (const auto* b = std::get_if<RecordBatch>(&e)) std::tie(id, inl) = *enc.idOf(b->schemaPtr());
      if (std::holds_alternative<RecordBatch>(e)) inlined.push_back(inl);
      encodeElement(e, id, inl, payload);
    }
    QCOMPARE(inlined, (std::vector<bool>{true, false}));
    SchemaDecoder dec;
    auto r = decodeDataPayload(payload, dec);
    QVERIFY2(r.ok(), r.ok() ? "" : r.error().toString().c_str());
    QCOMPARE(r.value().size(), elements.size());
    for (std::size_t i = 0; i < elements.size(); ++i) QVERIFY(sameElement(elements[i], r.value()[i]));
    // The same schema pointer on the receiving side for both batches.
    QCOMPARE(std::get<RecordBatch>(r.value()[0]).schemaPtr(), std::get<RecordBatch>(r.value()[2]).schemaPtr());
    // Without the first element's inline schema, the id is unknown.
    SchemaDecoder fresh;
    auto bytes = encodeStandalone(sample(2, false, false));
    bytes[1] &= static_cast<std::uint8_t>(~4);  // clear the inline-schema flag
    auto bad = decodeElement(bytes, fresh);
    QVERIFY(!bad.ok());
    QVERIFY(bad.error().reason.find("unknown schema id") != std::string::npos);
  }

  /// Every strict prefix of a valid encoding is refused (truncation), never read past.
  void truncatedElementsRefused() {
    const std::vector<StreamElement> elements{sample(50, true, true), Watermark{1}, CheckpointBarrier{1, 2}};
    for (const auto& e : elements) {
      const auto bytes = encodeStandalone(e);
      for (std::size_t n = 0; n < bytes.size(); ++n) {
        // A copy of exactly n bytes, so ASan catches any read beyond.
        std::vector<std::uint8_t> prefix(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
        SchemaDecoder table;
        auto r = decodeElement(prefix, table);
        QVERIFY2(!r.ok(), qPrintable(QString("prefix of %1 bytes decoded").arg(n)));
        QVERIFY(r.error().offset <= n);
        QVERIFY(!r.error().reason.empty());
      }
    }
  }

  void corruptFieldsRefusedWithReason() {
    const auto good = encodeStandalone(sample(4, false, false));
    auto expectError = [&](std::vector<std::uint8_t> bytes, const char* needle) {
      SchemaDecoder t;
      auto r = decodeElement(bytes, t);
      QVERIFY2(!r.ok(), needle);
      QVERIFY2(r.error().reason.find(needle) != std::string::npos, qPrintable(QString::fromStdString(
                                                                      r.error().toString())));
    };
    auto b = good;
    b[0] = 99;
    expectError(b, "unknown element kind");
    b = good;
    b[1] = 0x80;
    expectError(b, "unknown batch flags");
    // Row count far beyond what the bytes hold: refused, nothing huge allocated.
    const std::size_t rowsAt = 1 + 1 + 4 + 2 + (1 + 2 + 1) * 5;  // kind flags id | count | fields "i".."t"
    b = good;
    const std::uint32_t huge = 0x00ffffff;
    std::memcpy(b.data() + rowsAt, &huge, 4);
    expectError(b, "truncated");
    const std::uint32_t tooMany = kMaxRows + 1;
    std::memcpy(b.data() + rowsAt, &tooMany, 4);
    expectError(b, "limit");
    b = good;
    b[rowsAt + 4] = 9;  // column count
    expectError(b, "columns, schema has 5");
    b = good;
    b[rowsAt + 6] = static_cast<std::uint8_t>(Type::String);  // first column's type tag
    expectError(b, "schema says int64");
    SchemaDecoder t;
    auto w = encodeStandalone(WatermarkStatus{true});
    w[1] = 2;
    QVERIFY(!decodeElement(w, t).ok());
  }

  void frameHeaderChecks() {
    const ChannelKey key{0x0123456789abcdefull, 3, 7};
    auto frame = makeFrame(FrameType::Credit, key, encodeCredit(3));
    QCOMPARE(frame.size(), kFrameHeaderSize + 4);
    FrameDecoder dec;
    QCOMPARE(dec.feed(frame), frame.size());
    QCOMPARE(dec.state(), FrameDecoder::State::Frame);
    QVERIFY(dec.header().channel == key);
    QCOMPARE(dec.header().channel.toString(), std::string("0123456789abcdef/3/7"));
    // The byte layout of docs/protocol.md: job u64 at 8, attempt u32 at 16, channel at 20.
    QCOMPARE(int(frame[8]), 0xef);
    QCOMPARE(int(frame[15]), 0x01);
    QCOMPARE(int(frame[16]), 3);
    QCOMPARE(int(frame[20]), 7);
    QCOMPARE(int(frame[24]), 4);
    std::string err;
    QCOMPARE(*parseCredit(dec.payload(), err), 3u);

    auto refuse = [](std::vector<std::uint8_t> bytes, std::uint32_t max, const char* needle) {
      FrameDecoder d(max);
      d.feed(bytes);
      QCOMPARE(d.state(), FrameDecoder::State::Error);
      QVERIFY2(d.error().reason.find(needle) != std::string::npos, d.error().reason.c_str());
    };
    auto f = frame;
    f[0] = 'X';
    refuse(f, kDefaultMaxPayload, "bad magic");
    f = frame;
    f[4] = 1;  // version 1 had a 16-byte header without job and attempt
    refuse(f, kDefaultMaxPayload, "protocol version");
    f = frame;
    f[5] = 77;
    refuse(f, kDefaultMaxPayload, "unknown frame type");
    f = frame;
    f[6] = 1;
    refuse(f, kDefaultMaxPayload, "flags");
    // Oversized: refused from the header alone, before any payload byte arrives.
    std::vector<std::uint8_t> head(kFrameHeaderSize);
    writeFrameHeader(head.data(), FrameHeader{FrameType::Data, 0, ChannelKey{0, 0, 1}, 5000});
    refuse(head, 4096, "exceeds the limit of 4096");
    writeFrameHeader(head.data(), FrameHeader{FrameType::Data, 0, ChannelKey{0, 0, 1}, 0xffffffffu});
    refuse(head, kHardMaxPayload, "exceeds");
    writeFrameHeader(head.data(), FrameHeader{FrameType::Hello, 0, ChannelKey{0, 0, 0}, 2000});
    refuse(head, kDefaultMaxPayload, "exceeds the limit of 1024");
  }

  void decoderIsIncremental() {
    std::vector<std::uint8_t> stream;
    std::vector<std::uint32_t> channels;
    for (std::uint32_t c = 0; c < 20; ++c) {
      std::vector<std::uint8_t> payload;
      encodeDataPayloadHeader(payload, 1);
      encodeElement(Watermark{c}, 0, false, payload);
      const ChannelKey key{c * 1000003ull, c / 2, c};
      auto f = c % 3 ? makeFrame(FrameType::Data, key, payload) : makeFrame(FrameType::Ping, key, {});
      stream.insert(stream.end(), f.begin(), f.end());
      channels.push_back(c);
    }
    for (std::size_t chunk : {std::size_t(1), std::size_t(3), std::size_t(16), std::size_t(17), stream.size()}) {
      FrameDecoder dec;
      std::vector<std::uint32_t> seen;
      std::span<const std::uint8_t> in(stream);
      while (!in.empty()) {
        auto piece = in.first(std::min(chunk, in.size()));
        in = in.subspan(piece.size());
        while (!piece.empty()) {
          piece = piece.subspan(dec.feed(piece));
          QVERIFY(dec.state() != FrameDecoder::State::Error);
          if (dec.state() == FrameDecoder::State::Frame) {
            QCOMPARE(dec.header().channel.job, dec.header().channel.channel * 1000003ull);
            seen.push_back(dec.header().channel.channel);
            if (dec.header().type == FrameType::Data) {
              SchemaDecoder t;
              auto r = decodeDataPayload(dec.payload(), t);
              QVERIFY(r.ok());
              QVERIFY(std::get<Watermark>(r.value()[0]).timestamp == dec.header().channel.channel);
            }
            dec.next();
          }
        }
      }
      QCOMPARE(seen, channels);
    }
  }

  void handshakePayloads() {
    Hello h{kProtocolVersion, "cluster-a", "tm-3", randomNonce()};
    std::string err;
    auto back = parseHello(encodeHello(h), err);
    QVERIFY(back);
    QCOMPARE(back->clusterId, h.clusterId);
    QCOMPARE(back->nodeName, h.nodeName);
    QVERIFY(back->nonce == h.nonce);
    auto bytes = encodeHello(h);
    bytes.pop_back();
    QVERIFY(!parseHello(bytes, err));
    QVERIFY(err.find("truncated nonce") != std::string::npos);
    bytes = encodeHello(h);
    bytes.push_back(0);
    err.clear();
    QVERIFY(!parseHello(bytes, err));
    QVERIFY(err.find("trailing") != std::string::npos);
    err.clear();
    QVERIFY(!parseCredit(encodeCredit(0), err));

    const Nonce c = randomNonce(), s = randomNonce();
    QVERIFY(c != s);
    QVERIFY(proofEquals(clientProof("secret", "x", c, s), clientProof("secret", "x", c, s)));
    QVERIFY(!proofEquals(clientProof("secret", "x", c, s), clientProof("Secret", "x", c, s)));
    QVERIFY(!proofEquals(clientProof("secret", "x", c, s), clientProof("secret", "y", c, s)));
    // A server proof cannot be replayed as a client proof (domain separation).
    QVERIFY(!proofEquals(clientProof("secret", "x", c, s), serverProof("secret", "x", c, s)));
  }

  /// Random mutations of valid frames and elements: every outcome is a value, never a
  /// crash (tests/fuzz runs the same idea with libFuzzer and more iterations).
  void randomMutationsNeverCrash() {
    std::mt19937_64 rng(12345);
    std::vector<std::uint8_t> stream;
    SchemaEncoder enc;
    std::vector<std::uint8_t> payload;
    encodeDataPayloadHeader(payload, 3);
    const std::vector<StreamElement> els{sample(20, true, true), Watermark{3}, sample(5, false, false)};
    for (const auto& e : els) {
      auto [id, inl] = *enc.idOf(std::get_if<RecordBatch>(&e) ? std::get<RecordBatch>(e).schemaPtr() : allTypes());
      encodeElement(e, id, std::holds_alternative<RecordBatch>(e) && inl, payload);
    }
    auto frame = makeFrame(FrameType::Data, ChannelKey{0, 0, 1}, payload);
    int decodedOk = 0, refused = 0;
    for (int it = 0; it < 20000; ++it) {
      auto b = frame;
      const int edits = 1 + static_cast<int>(rng() % 6);
      for (int k = 0; k < edits; ++k) {
        const std::size_t pos = rng() % b.size();
        switch (rng() % 4) {
          case 0: b[pos] ^= static_cast<std::uint8_t>(1u << (rng() % 8)); break;
          case 1: b[pos] = static_cast<std::uint8_t>(rng()); break;
          case 2: b.resize(pos); break;
          case 3: b.insert(b.begin() + static_cast<std::ptrdiff_t>(pos), static_cast<std::uint8_t>(rng())); break;
        }
        if (b.empty()) b.push_back(0);
      }
      FrameDecoder dec(1 << 16);
      std::span<const std::uint8_t> in(b);
      in = in.subspan(dec.feed(in));
      if (dec.state() == FrameDecoder::State::Frame && dec.header().type == FrameType::Data) {
        SchemaDecoder t;
        auto r = decodeDataPayload(dec.payload(), t);
        r.ok() ? ++decodedOk : ++refused;
      } else {
        ++refused;
      }
    }
    QVERIFY(refused > 0);
    qInfo("mutations: %d decoded, %d refused", decodedOk, refused);
  }
};

QTEST_GUILESS_MAIN(TestNetCodec)
#include "test_net_codec.moc"
