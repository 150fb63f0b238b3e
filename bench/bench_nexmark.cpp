// weir-bench: Nexmark-style queries on the engine, each beside a hand-written C++ loop
// that does the same work (generating the same bids with the same generator, then
// filtering and mapping them in a plain loop), run side by side in one invocation.
//
//   weir-bench [--events N] [--repeat R] [--query NAME]... [--parallelism P]
//
// Prints records/s per core for both and the ratio engine / hand-written. At parallelism
// P the engine's figure is divided by P (the hand loop is single-threaded), so the ratio
// compares work per core.

#include <algorithm>
#include <array>
#include <chrono>
#include <unordered_map>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "core/catalog.h"
#include "core/validate.h"
#include "runtime/io/nexmark.h"
#include "runtime/local_executor.h"
#include "runtime/planner.h"

using namespace weir;

namespace {

struct Query {
  std::string name;
  std::string description;
  std::string nodes;  // JSON of the nodes between the generator and the discard sink
  /// The hand-written loop over one batch of generated bids; returns rows that pass.
  std::function<std::int64_t(const RecordBatch&)> loop;
  /// After the last batch: rows the loop still holds (windows not yet emitted).
  std::function<std::int64_t()> finish = [] { return std::int64_t{0}; };
};

/// Tumbling 10 s windows per auction by hand: a hash map (auction, window start) ->
/// {count, max price}; windows are emitted (copied out as a result row would be) once the
/// bids' time (in order, as generated) has passed their end.
struct WindowLoop {
  struct Agg {
    std::int64_t count = 0, max = INT64_MIN;
  };
  struct KeyHash {
    std::size_t operator()(const std::pair<std::int64_t, std::int64_t>& k) const {
      return std::hash<std::int64_t>()(k.first * 31 + k.second);
    }
  };
  std::unordered_map<std::pair<std::int64_t, std::int64_t>, Agg, KeyHash> open;
  std::vector<std::array<std::int64_t, 5>> out;
  std::int64_t emit(std::int64_t before) {
    std::int64_t n = 0;
    for (auto it = open.begin(); it != open.end();) {
      if (it->first.second + 10000 <= before) {
        out.push_back({it->first.first, it->first.second, it->first.second + 10000, it->second.count, it->second.max});
        it = open.erase(it);
        ++n;
      } else {
        ++it;
      }
    }
    out.clear();
    return n;
  }
  std::int64_t batch(const RecordBatch& b) {
    const auto auction = b.column(0).ints(), price = b.column(2).ints(), dt = b.column(5).ints();
    std::int64_t maxT = INT64_MIN;
    for (std::size_t i = 0; i < b.numRows(); ++i) {
      const std::int64_t t = dt[i];
      Agg& a = open[{auction[i], t - t % 10000}];
      ++a.count;
      a.max = std::max(a.max, price[i]);
      maxT = std::max(maxT, t);
    }
    // A window closes when the time passes its end (as the watermark does, bound 0).
    if (maxT / 10000 != lastWindow_) {
      lastWindow_ = maxT / 10000;
      return emit(maxT - maxT % 10000);
    }
    return 0;
  }
  std::int64_t finish() {
    const std::int64_t n = emit(INT64_MAX);
    lastWindow_ = INT64_MIN;
    return n;
  }
  std::int64_t lastWindow_ = INT64_MIN;
};

/// Output columns of the filter+map loop, reused across batches as an engine would.
struct MapOut {
  std::vector<std::int64_t> auction, bidder, dateTime;
  std::vector<double> priceEur;
};

std::vector<Query> queries() {
  static MapOut out;
  static WindowLoop window;
  return {
      {"passthrough", "generator -> discard",
       "",
       [](const RecordBatch& b) { return static_cast<std::int64_t>(b.numRows()); }},
      {"filter-map", "generator -> filter(price > 1000 AND auction % 2 = 0) -> map(4 fields, price * 0.908) -> discard",
       R"({"id": "f", "type": "filter", "params": {"where": "price > 1000 AND auction % 2 = 0"}},
          {"id": "m", "type": "map", "params": {"fields": [
            {"name": "auction", "expr": "auction"}, {"name": "bidder", "expr": "bidder"},
            {"name": "price_eur", "expr": "price * 0.908"}, {"name": "date_time", "expr": "date_time"}]}},)",
       [](const RecordBatch& b) {
         const auto auction = b.column(0).ints(), bidder = b.column(1).ints(), price = b.column(2).ints(),
                    dt = b.column(5).ints();
         const auto va = b.column(0).validity(), vp = b.column(2).validity();
         out.auction.clear();
         out.bidder.clear();
         out.priceEur.clear();
         out.dateTime.clear();
         for (std::size_t i = 0; i < b.numRows(); ++i) {
           if (!vp[i] || !va[i] || price[i] <= 1000 || auction[i] % 2 != 0) continue;
           out.auction.push_back(auction[i]);
           out.bidder.push_back(bidder[i]);
           out.priceEur.push_back(static_cast<double>(price[i]) * 0.908);
           out.dateTime.push_back(dt[i]);
         }
         return static_cast<std::int64_t>(out.auction.size());
       }},
      {"window", "generator -> window(tumbling 10 s per auction: count, max price) -> discard",
       R"({"id": "w", "type": "window", "params": {"key": ["auction"],
            "window": {"type": "tumbling", "size_ms": 10000},
            "aggregates": [{"name": "bids", "fn": "count"}, {"name": "top", "fn": "max", "field": "price"}]}},)",
       [](const RecordBatch& b) { return window.batch(b); },
       [] { return window.finish(); }},
  };
}

/// Pre-generated bids, replayed by the bench.replay source and by the hand loop, so that
/// the comparison measures the runtime and the expressions without the generator's cost.
std::vector<RecordBatch> gReplay;
int gReplayLoops = 1;

class ReplaySource final : public SourceOperator {
 public:
  explicit ReplaySource(const OperatorContext& ctx) : next_(static_cast<std::size_t>(ctx.subtask)), stride_(static_cast<std::size_t>(ctx.parallelism)) {}
  SourceStatus emitNext(Output& out) override {
    if (next_ >= gReplay.size()) {
      if (++loop_ >= gReplayLoops) return SourceStatus::EndOfInput;
      next_ -= gReplay.size();
    }
    out.collect(0, gReplay[next_]);
    next_ += stride_;
    return SourceStatus::MoreAvailable;
  }

 private:
  std::size_t next_, stride_;
  int loop_ = 0;
};

const Catalog& benchCatalog() {
  static const Catalog c = [] {
    Catalog c = Catalog::builtin();
    OperatorSpec replay;
    replay.type = "bench.replay";
    replay.category = OperatorCategory::Source;
    replay.title = "Replay (bench)";
    replay.outputs = {PortSpec{"out", "the bids", true, false}};
    replay.derive = [](SchemaDerivation& d) {
      d.outputs = {nexmarkSchema(NexmarkTable::Bid)};
      d.outputProps = {StreamProps{}};
    };
    c.add(std::move(replay));
    return c;
  }();
  return c;
}

const OperatorRegistry& benchRegistry() {
  static const OperatorRegistry r = [] {
    OperatorRegistry r = OperatorRegistry::builtin();
    r.add("bench.replay", [](const OperatorContext& ctx) { return std::make_unique<ReplaySource>(ctx); });
    return r;
  }();
  return r;
}

double seconds(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

/// Runs the query on the engine; returns seconds and the records that reached the sink.
std::pair<double, std::int64_t> runEngine(const Query& q, std::int64_t events, int parallelism, bool replay) {
  const std::string text = R"({"weir": 1, "name": "bench-)" + q.name + R"(", "parallelism": )" +
                           std::to_string(parallelism) + R"(, "nodes": [
      {"id": "bids", "type": ")" + (replay ? std::string("bench.replay") : std::string("source.generator")) +
                           R"(", "params": )" + (replay ? std::string("{}") : R"({"table": "bid", "events": )" +
                           std::to_string(events) + R"(, "seed": 42})") + R"(},
      )" + q.nodes + R"(
      {"id": "sink", "type": "sink.discard"}], "edges": []})";
  Diagnostics diags;
  auto job = parseJob(text, "bench", diags);
  if (!job) throw std::runtime_error("bench job does not parse");
  // Chain the nodes in order.
  for (std::size_t i = 0; i + 1 < job->nodes.size(); ++i)
    job->edges.push_back(JobEdge{job->nodes[i].id, "out", job->nodes[i + 1].id, "in", Partition::Auto});
  const ValidatedJob v = validateJob(*job, benchCatalog(), diags);
  if (!v.ok) {
    for (auto& d : diags) std::fprintf(stderr, "%s\n", d.toString().c_str());
    throw std::runtime_error("bench job is invalid");
  }
  LocalExecutor ex(planJob(*job, v), {}, benchRegistry());
  const auto t0 = std::chrono::steady_clock::now();
  ex.start();
  ex.wait();
  const auto t1 = std::chrono::steady_clock::now();
  if (ex.status() != JobStatus::Finished) throw std::runtime_error("bench job did not finish");
  return {seconds(t0, t1), ex.metrics().nodes.back().recordsIn};
}

/// The same work by hand: generate batches of 1024 bids, run the loop on each.
std::pair<double, std::int64_t> runLoop(const Query& q, std::int64_t events, bool replay) {
  if (replay) {
    std::int64_t passed = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (int l = 0; l < gReplayLoops; ++l)
      for (const auto& b : gReplay) passed += q.loop(b);
    passed += q.finish();
    return {seconds(t0, std::chrono::steady_clock::now()), passed};
  }
  NexmarkGenerator gen(NexmarkTable::Bid, {});
  BatchBuilder builder(gen.schema(), 1024);
  std::int64_t passed = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (std::int64_t first = 0; first < events; first += 1024) {
    gen.generate(first, std::min<std::int64_t>(1024, events - first), 1, builder);
    passed += q.loop(builder.finish());
  }
  passed += q.finish();
  const auto t1 = std::chrono::steady_clock::now();
  return {seconds(t0, t1), passed};
}

}  // namespace

int main(int argc, char** argv) {
  std::int64_t events = 5'000'000;
  int repeat = 3, parallelism = 1;
  std::vector<std::string> only;
  std::string input = "both";  // generated | replayed | both
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--events") && i + 1 < argc) events = std::atoll(argv[++i]);
    else if (!std::strcmp(argv[i], "--repeat") && i + 1 < argc) repeat = std::max(1, std::atoi(argv[++i]));
    else if (!std::strcmp(argv[i], "--parallelism") && i + 1 < argc) parallelism = std::max(1, std::atoi(argv[++i]));
    else if (!std::strcmp(argv[i], "--query") && i + 1 < argc) only.emplace_back(argv[++i]);
    else if (!std::strcmp(argv[i], "--input") && i + 1 < argc) input = argv[++i];
    else {
      std::fprintf(stderr, "usage: weir-bench [--events N] [--repeat R] [--parallelism P] [--query NAME]... "
                           "[--input generated|replayed|both]\n");
      return 2;
    }
  }
  std::printf("weir-bench: %lld bids, best of %d runs, engine parallelism %d\n", static_cast<long long>(events),
              repeat, parallelism);
  std::printf("  generated: the bids are generated as part of the work (source.generator / the generator API)\n");
  std::printf("  replayed:  1M bids generated once, then replayed from memory (runtime + expressions only)\n\n");
  std::printf("%-12s %-9s %18s %18s %8s %12s\n", "query", "input", "engine rec/s/core", "hand rec/s", "ratio",
              "rows out");
  {
    // The replay set: 1M bids (or fewer), replayed enough times to make `events` rows.
    const std::int64_t n = std::min<std::int64_t>(events, 1'000'000);
    NexmarkGenerator gen(NexmarkTable::Bid, {});
    BatchBuilder builder(gen.schema(), 1024);
    for (std::int64_t first = 0; first < n; first += 1024) {
      gen.generate(first, std::min<std::int64_t>(1024, n - first), 1, builder);
      gReplay.push_back(builder.finish());
    }
    gReplayLoops = static_cast<int>(std::max<std::int64_t>(1, events / n));
  }
  const std::int64_t replayEvents = gReplayLoops * std::min<std::int64_t>(events, 1'000'000);
  int status = 0;
  for (bool replay : {false, true}) {
    if (input != "both" && (input == "replayed") != replay) continue;
    for (const Query& q : queries()) {
      if (!only.empty() && std::find(only.begin(), only.end(), q.name) == only.end()) continue;
      // Replayed batches carry no event time (and repeat their times when looped): the
      // event-time query runs on generated input only.
      if (replay && q.name == "window") continue;
      const std::int64_t total = replay ? replayEvents : events;
      double bestEngine = 1e300, bestLoop = 1e300;
      std::int64_t engineRows = 0, loopRows = 0;
      // Interleave the two so that machine noise hits both alike.
      for (int r = 0; r < repeat; ++r) {
        auto [te, ne] = runEngine(q, events, parallelism, replay);
        // The hand loop runs on a thread of its own, as each engine subtask does (same
        // allocator arena conditions: the replay set lives in the main thread's).
        std::pair<double, std::int64_t> loop;
        std::thread([&] { loop = runLoop(q, events, replay); }).join();
        auto [tl, nl] = loop;
        bestEngine = std::min(bestEngine, te);
        bestLoop = std::min(bestLoop, tl);
        engineRows = ne;
        loopRows = nl;
      }
      const double engineRate = static_cast<double>(total) / bestEngine / parallelism;
      const double loopRate = static_cast<double>(total) / bestLoop;
      // Passthrough over replayed batches: the hand loop touches nothing, so there is no
      // work to compare; the engine's figure is its per-batch overhead.
      const bool comparable = !(replay && q.name == "passthrough");
      char ratio[16] = "     n/a";
      if (comparable) std::snprintf(ratio, sizeof ratio, "%7.1f%%", 100.0 * engineRate / loopRate);
      std::printf("%-12s %-9s %18.0f %18s %8s %12lld%s\n", q.name.c_str(), replay ? "replayed" : "generated",
                  engineRate, comparable ? std::to_string(static_cast<long long>(loopRate)).c_str() : "-", ratio,
                  static_cast<long long>(engineRows),
                  engineRows == loopRows ? "" : "  MISMATCH with the hand-written loop");
      if (engineRows != loopRows) status = 1;
    }
  }
  return status;
}
