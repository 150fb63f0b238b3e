// Fuzz body: the first byte chooses what the rest is fed to.
//   even: a byte stream of frames, fed to a FrameDecoder in chunks whose sizes come from
//         the input itself; every complete frame goes to the parser of its type (data
//         payloads to the codec, with one schema table per channel, as a connection does).
//   odd:  one element for the codec; when it decodes, it must re-encode and decode to
//         the same element (round trip).
// Any crash, sanitizer report or assertion is a bug; errors returned as values are fine.

#include "fuzz_net.h"
#include "fuzz_target.h"

#include <cstdlib>
#include <map>
#include <span>

#include "net/codec.h"
#include "net/frame.h"

namespace weir::net::fuzz {

namespace {

void parseFrame(const FrameHeader& h, std::span<const std::uint8_t> payload,
                std::map<ChannelKey, SchemaDecoder>& tables) {
  std::string error;
  switch (h.type) {
    case FrameType::Hello: (void)parseHello(payload, error); break;
    case FrameType::Challenge: (void)parseChallenge(payload, error); break;
    case FrameType::Auth: (void)parseAuth(payload, error); break;
    case FrameType::Credit: (void)parseCredit(payload, error); break;
    case FrameType::Close:
    case FrameType::Reject: (void)parseClose(payload, error); break;
    case FrameType::Data: {
      if (tables.size() >= 64 && !tables.count(h.channel)) return;  // as a connection bounds channels
      auto r = decodeDataPayload(payload, tables[h.channel]);
      if (r) {
        for (const auto& e : r.value()) {
          if (const auto* b = std::get_if<RecordBatch>(&e)) (void)b->byteSize();
        }
      }
      break;
    }
    case FrameType::Welcome:
    case FrameType::Ping: break;
  }
}

void roundTrip(std::span<const std::uint8_t> bytes) {
  SchemaDecoder table;
  auto r = decodeElement(bytes, table);
  if (!r) return;
  const StreamElement& e = r.value().first;
  if (r.value().second > bytes.size()) std::abort();
  std::vector<std::uint8_t> again;
  encodeElement(e, 0, true, again);
  if (again.size() != encodedSize(e, true)) std::abort();
  SchemaDecoder table2;
  auto back = decodeElement(again, table2);
  if (!back || back.value().second != again.size() || !sameElement(e, back.value().first)) std::abort();
}

}  // namespace

void runOne(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return;
  const std::uint8_t mode = data[0];
  std::span<const std::uint8_t> in(data + 1, size - 1);
  if (mode & 1) return roundTrip(in);
  // Small limit so that the fuzzer reaches the oversized-frame path easily.
  FrameDecoder dec((mode & 2) ? 4096 : kDefaultMaxPayload);
  std::map<ChannelKey, SchemaDecoder> tables;
  std::size_t chunk = 1 + (mode >> 2);  // 1..64 bytes per feed
  while (!in.empty()) {
    const std::size_t n = std::min(chunk, in.size());
    auto piece = in.first(n);
    in = in.subspan(n);
    while (!piece.empty()) {
      const std::size_t used = dec.feed(piece);
      piece = piece.subspan(used);
      if (dec.state() == FrameDecoder::State::Frame) {
        parseFrame(dec.header(), dec.payload(), tables);
        dec.next();
      } else if (dec.state() == FrameDecoder::State::Error) {
        return;
      } else if (used == 0) {
        std::abort();  // NeedMore must consume what it is given
      }
    }
  }
}

std::vector<std::vector<std::uint8_t>> seeds() {
  std::vector<std::vector<std::uint8_t>> out;
  auto schema = makeSchema({{"auction", Type::Int64}, {"price", Type::Double}, {"url", Type::String},
                            {"ok", Type::Bool}, {"at", Type::Timestamp}});
  BatchBuilder bb(schema);
  for (int i = 0; i < 5; ++i) {
    std::vector<Value> row{Value::int64(i), i == 2 ? Value::null(Type::Double) : Value::dbl(i * 1.5),
                           i == 3 ? Value::null(Type::String) : Value::string(std::string(i, 'x')),
                           Value::boolean(i % 2 == 0), Value::timestamp(1000 + i)};
    bb.appendRow(row, 1000 + i, i == 4 ? RowKind::Delete : RowKind::Insert);
  }
  const std::vector<StreamElement> elements{bb.finish(), Watermark{42}, WatermarkStatus{true},
                                            CheckpointBarrier{7, 99}, EndOfPartition{}};
  std::vector<std::uint8_t> stream{0x00};
  Hello hello{kProtocolVersion, "weir", "tm-1", randomNonce()};
  for (auto f : {makeFrame(FrameType::Hello, {}, encodeHello(hello)),
                 makeFrame(FrameType::Credit, ChannelKey{0, 0, 3}, encodeCredit(4)),
                 makeFrame(FrameType::Close, {}, encodeClose({1, "bye"}))})
    stream.insert(stream.end(), f.begin(), f.end());
  std::vector<std::uint8_t> payload;
  encodeDataPayloadHeader(payload, static_cast<std::uint32_t>(elements.size()));
  SchemaEncoder enc;
  for (const auto& e : elements) {
    std::uint32_t id = 0;
    bool inl = false;
    if (const auto* b = std::get_if<RecordBatch>(&e)) std::tie(id, inl) = *enc.idOf(b->schemaPtr());
    encodeElement(e, id, inl, payload);
    std::vector<std::uint8_t> single{0x01};
    auto bytes = encodeStandalone(e);
    single.insert(single.end(), bytes.begin(), bytes.end());
    out.push_back(std::move(single));
  }
  auto data = makeFrame(FrameType::Data, ChannelKey{0, 0, 3}, payload);
  stream.insert(stream.end(), data.begin(), data.end());
  out.push_back(stream);
  stream[0] = 0x02 | (7 << 2);  // small limit, 8-byte chunks
  out.push_back(stream);
  return out;
}

}  // namespace weir::net::fuzz

namespace weir::fuzz {
const char* const kTargetName = "fuzz_net";
void runOne(const std::uint8_t* data, std::size_t size) { net::fuzz::runOne(data, size); }
std::vector<std::vector<std::uint8_t>> seeds() { return net::fuzz::seeds(); }
}  // namespace weir::fuzz
