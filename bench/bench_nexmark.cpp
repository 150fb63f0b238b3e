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
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

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
};

/// Output columns of the filter+map loop, reused across batches as an engine would.
struct MapOut {
  std::vector<std::int64_t> auction, bidder, dateTime;
  std::vector<double> priceEur;
};

std::vector<Query> queries() {
  static MapOut out;
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
  };
}

double seconds(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

/// Runs the query on the engine; returns seconds and the records that reached the sink.
std::pair<double, std::int64_t> runEngine(const Query& q, std::int64_t events, int parallelism) {
  const std::string text = R"({"weir": 1, "name": "bench-)" + q.name + R"(", "parallelism": )" +
                           std::to_string(parallelism) + R"(, "nodes": [
      {"id": "bids", "type": "source.generator", "params": {"table": "bid", "events": )" +
                           std::to_string(events) + R"(, "seed": 42}},
      )" + q.nodes + R"(
      {"id": "sink", "type": "sink.discard"}], "edges": []})";
  Diagnostics diags;
  auto job = parseJob(text, "bench", diags);
  if (!job) throw std::runtime_error("bench job does not parse");
  // Chain the nodes in order.
  for (std::size_t i = 0; i + 1 < job->nodes.size(); ++i)
    job->edges.push_back(JobEdge{job->nodes[i].id, "out", job->nodes[i + 1].id, "in", Partition::Auto});
  const ValidatedJob v = validateJob(*job, diags);
  if (!v.ok) {
    for (auto& d : diags) std::fprintf(stderr, "%s\n", d.toString().c_str());
    throw std::runtime_error("bench job is invalid");
  }
  LocalExecutor ex(planJob(*job, v));
  const auto t0 = std::chrono::steady_clock::now();
  ex.start();
  ex.wait();
  const auto t1 = std::chrono::steady_clock::now();
  if (ex.status() != JobStatus::Finished) throw std::runtime_error("bench job did not finish");
  return {seconds(t0, t1), ex.metrics().nodes.back().recordsIn};
}

/// The same work by hand: generate batches of 1024 bids, run the loop on each.
std::pair<double, std::int64_t> runLoop(const Query& q, std::int64_t events) {
  NexmarkGenerator gen(NexmarkTable::Bid, {});
  BatchBuilder builder(gen.schema(), 1024);
  std::int64_t passed = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (std::int64_t first = 0; first < events; first += 1024) {
    gen.generate(first, std::min<std::int64_t>(1024, events - first), 1, builder);
    passed += q.loop(builder.finish());
  }
  const auto t1 = std::chrono::steady_clock::now();
  return {seconds(t0, t1), passed};
}

}  // namespace

int main(int argc, char** argv) {
  std::int64_t events = 5'000'000;
  int repeat = 3, parallelism = 1;
  std::vector<std::string> only;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--events") && i + 1 < argc) events = std::atoll(argv[++i]);
    else if (!std::strcmp(argv[i], "--repeat") && i + 1 < argc) repeat = std::max(1, std::atoi(argv[++i]));
    else if (!std::strcmp(argv[i], "--parallelism") && i + 1 < argc) parallelism = std::max(1, std::atoi(argv[++i]));
    else if (!std::strcmp(argv[i], "--query") && i + 1 < argc) only.emplace_back(argv[++i]);
    else {
      std::fprintf(stderr, "usage: weir-bench [--events N] [--repeat R] [--parallelism P] [--query NAME]...\n");
      return 2;
    }
  }
  std::printf("weir-bench: %lld bids, best of %d runs, engine parallelism %d\n\n",
              static_cast<long long>(events), repeat, parallelism);
  std::printf("%-12s %18s %18s %8s %12s\n", "query", "engine rec/s/core", "hand rec/s", "ratio", "rows out");
  int status = 0;
  for (const Query& q : queries()) {
    if (!only.empty() && std::find(only.begin(), only.end(), q.name) == only.end()) continue;
    double bestEngine = 1e300, bestLoop = 1e300;
    std::int64_t engineRows = 0, loopRows = 0;
    // Interleave the two so that machine noise hits both alike.
    for (int r = 0; r < repeat; ++r) {
      auto [te, ne] = runEngine(q, events, parallelism);
      auto [tl, nl] = runLoop(q, events);
      bestEngine = std::min(bestEngine, te);
      bestLoop = std::min(bestLoop, tl);
      engineRows = ne;
      loopRows = nl;
    }
    const double engineRate = static_cast<double>(events) / bestEngine / parallelism;
    const double loopRate = static_cast<double>(events) / bestLoop;
    std::printf("%-12s %18.0f %18.0f %7.1f%% %12lld%s\n", q.name.c_str(), engineRate, loopRate,
                100.0 * engineRate / loopRate, static_cast<long long>(engineRows),
                engineRows == loopRows ? "" : "  MISMATCH with the hand-written loop");
    if (engineRows != loopRows) status = 1;
  }
  return status;
}
