// weir-bench-net: throughput of network channels over loopback TCP, with Nexmark bids.
//
//   weir-bench-net [--batches N] [--batch-rows R] [--channels C] [--capacity Q]
//
// Pre-generates bid batches, then C producer threads each write N of them (round robin
// over the pre-generated ones) through a NetworkChannelWriter of Transport A to an
// InputGate behind Transport B, drained by one consumer thread; both Transports in this
// process, each with its network thread. Prints records/s and MB/s of encoded column
// data (RecordBatch::byteSize) and of bytes on the wire, and the codec's speed alone.

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "net/codec.h"
#include "net/transport.h"
#include "runtime/io/nexmark.h"

using namespace weir;
using namespace weir::net;

namespace {
ChannelKey ch(std::uint32_t n) { return {1, 1, n}; }
}  // namespace

int main(int argc, char** argv) {
  int batches = 20000, rows = 1024, channels = 1, capacity = 8;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    const int v = std::atoi(argv[i + 1]);
    if (a == "--batches") batches = v;
    else if (a == "--batch-rows") rows = v;
    else if (a == "--channels") channels = v;
    else if (a == "--capacity") capacity = v;
  }
  std::vector<RecordBatch> bids;
  const NexmarkGenerator gen(NexmarkTable::Bid, {});
  for (int b = 0; b < 64; ++b) {
    BatchBuilder builder(gen.schema(), static_cast<std::size_t>(rows));
    gen.generate(std::int64_t{b} * rows, rows, 1, builder);
    bids.push_back(builder.finish());
  }
  std::size_t dataBytes = 0;
  for (const auto& b : bids) dataBytes += b.byteSize();
  const double bytesPerBatch = static_cast<double>(dataBytes) / static_cast<double>(bids.size());

  // The codec alone: encode + decode on one thread.
  {
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::uint8_t> buf;
    std::size_t wire = 0;
    SchemaDecoder dec;
    SchemaEncoder enc;
    const int n = 2000;
    for (int i = 0; i < n; ++i) {
      buf.clear();
      const auto& b = bids[static_cast<std::size_t>(i) % bids.size()];
      auto [id, inl] = *enc.idOf(b.schemaPtr());
      encodeElement(b, id, inl, buf);
      wire += buf.size();
      auto r = decodeElement(buf, dec);
      if (!r) return 1;
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("codec (encode+decode, 1 thread): %.2f M records/s, %.0f MB/s of wire bytes\n",
                n * static_cast<double>(rows) / s / 1e6, static_cast<double>(wire) / s / 1e6);
  }

  TransportOptions oa, ob;
  oa.nodeName = "bench-a";
  ob.nodeName = "bench-b";
  oa.log = ob.log = [](std::string_view) {};
  Transport a(oa), b(ob);
  ConnectionPtr conn = b.connect("127.0.0.1", a.listen());
  InputGate gate(channels, capacity);
  std::vector<std::unique_ptr<NetworkChannelWriter>> writers;
  for (int c = 0; c < channels; ++c) {
    b.addInput(conn, ch(static_cast<std::uint32_t>(c)), gate, c);
    writers.push_back(a.openOutput(ch(static_cast<std::uint32_t>(c))));
  }
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> producers;
  std::vector<std::int64_t> blocked(static_cast<std::size_t>(channels), 0);
  for (int c = 0; c < channels; ++c) {
    producers.emplace_back([&, c] {
      for (int i = 0; i < batches; ++i)
        blocked[static_cast<std::size_t>(c)] +=
            writers[static_cast<std::size_t>(c)]->write(bids[static_cast<std::size_t>(i) % bids.size()]);
      writers[static_cast<std::size_t>(c)]->write(EndOfPartition{});
    });
  }
  std::int64_t received = 0;
  int ended = 0;
  while (ended < channels) {
    auto n = gate.next(std::chrono::seconds(10));
    if (!n) {
      std::fprintf(stderr, "stalled\n");
      return 1;
    }
    if (auto* rb = std::get_if<RecordBatch>(&n->element)) received += static_cast<std::int64_t>(rb->numRows());
    else if (std::holds_alternative<EndOfPartition>(n->element)) ++ended;
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (auto& t : producers) t.join();
  const auto st = conn->stats();
  std::int64_t blockedNs = 0;
  for (auto v : blocked) blockedNs += v;
  std::printf("loopback: %d channel(s), capacity %d, %d batches of %d bids each\n", channels, capacity, batches,
              rows);
  std::printf("  %.2f M records/s, %.0f MB/s of column data, %.0f MB/s on the wire, %.1f KB per data frame\n",
              static_cast<double>(received) / s / 1e6,
              static_cast<double>(channels) * batches * bytesPerBatch / s / 1e6,
              static_cast<double>(st.bytesIn) / s / 1e6,
              static_cast<double>(st.bytesIn) / std::max<double>(1, static_cast<double>(st.framesIn)) / 1e3);
  std::printf("  producers blocked on credit %.0f%% of the time\n", 100.0 * static_cast<double>(blockedNs) / 1e9 / s /
                                                                        channels);
  return received == std::int64_t{channels} * batches * rows ? 0 : 1;
}
