// weir-bench: Nexmark-style queries on the engine, each beside a hand-written C++ loop
// that does the same work (generating the same bids with the same generator, then
// filtering and mapping them in a plain loop), run side by side in one invocation.
//
//   weir-bench [--events N] [--repeat R] [--query NAME]... [--parallelism P]
//
// Prints records/s per core for both and the ratio engine / hand-written. At parallelism
// P the engine's figure is divided by P (the hand loop is single-threaded), so the ratio
// compares work per core.
//
// Two queries compare the engine with itself instead: `window-batch` and `aggregate` run
// the same job in "mode": "streaming" and in "mode": "batch" over the same bounded
// generated bids and print both rates and the ratio batch / streaming (window: the rows
// out must be equal; aggregate: streaming emits the changelog, batch the final rows).
//
// Two run only when named and time unbounded jobs instead: `window-checkpointed` (the
// window job with a checkpoint every --checkpoint-interval-ms against none, interleaved
// pairs) and `checkpoint-state` (a keyed aggregate over --keys K distinct keys: size and
// duration of its checkpoints per K). bench/README.md, "Checkpoints".

#include <algorithm>
#include <array>
#include <chrono>
#include <unordered_map>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <sys/resource.h>
#include <unistd.h>

#include "core/catalog.h"
#include "core/validate.h"
#include "runtime/io/nexmark.h"
#include "runtime/local_executor.h"
#include "runtime/planner.h"

using namespace weir;

namespace {

/// The command line.
struct BenchOptions {
  std::int64_t events = 5'000'000;
  int repeat = 3, parallelism = 1;
  /// window-checkpointed, checkpoint-state: the checkpoint interval, and how long each run
  /// is measured (after a warm-up of kWarmupSeconds).
  std::int64_t checkpointIntervalMs = 1000;
  double seconds = 4;
  std::vector<std::int64_t> keys;  // checkpoint-state: distinct keys per run (default 10k, 100k, 1M)
};

struct Query {
  std::string name;
  std::string description;
  std::string nodes;  // JSON of the nodes between the generator and the discard sink
  /// The hand-written loop over one batch of generated bids; returns rows that pass.
  std::function<std::int64_t(const RecordBatch&)> loop;
  /// After the last batch: rows the loop still holds (windows not yet emitted).
  std::function<std::int64_t()> finish = [] { return std::int64_t{0}; };
  /// Instead of `nodes` and `loop`, for queries with more than one source: the job's
  /// "nodes" and "edges" members (the sink, named "sink", last) for `events` bids, and the
  /// whole hand-written run (generating its own input), returning the rows it produced.
  std::function<std::string(std::int64_t events)> graph;
  std::function<std::int64_t(std::int64_t events)> handRun;
  /// Records the query reads for `events` bids (more than `events` with a second source).
  std::function<std::int64_t(std::int64_t events)> recordsIn = [](std::int64_t e) { return e; };
  /// Compare the engine's batch mode with its streaming mode instead of a hand loop.
  bool batchVsStreaming = false;
  /// batchVsStreaming: both modes must give the same number of rows.
  bool sameRows = true;
  /// Instead of all the above: a query that runs its own comparison and prints it (the
  /// checkpoint queries); returns the exit status. Such queries run only when named.
  int (*own)(const BenchOptions&) = nullptr;
};

int runWindowCheckpointed(const BenchOptions& o);
int runCheckpointState(const BenchOptions& o);

// ---- join: bids with the auction they are for -------------------------------------------
// Auctions are generated with event_gap_us = 46/3 ms, so auction i's time is about where
// the bids referring to it are (the virtual stream has 3 auctions per 46 bids): a bid's
// auction is then created at most ~1.6 s before it (the hot auction of a block of 100) or a
// little after it (up to 10 ids ahead). The join keeps pairs with
// auction.time in [bid.time - 2000, bid.time + 500].
constexpr std::int64_t kAuctionGapUs = 1000 * 46 / 3;
constexpr std::int64_t kJoinLower = -2000, kJoinUpper = 500;
std::int64_t auctionsFor(std::int64_t bids) { return std::max<std::int64_t>(1, bids * 3 / 46); }

/// The two inputs of the hand-written joins: bids (side 0) and auctions (side 1)
/// generated in batches of 1024, handed out in event-time order of their batches.
struct JoinInput {
  NexmarkGenerator bids{NexmarkTable::Bid, {}};
  NexmarkGenerator auctions{NexmarkTable::Auction, [] {
                              NexmarkConfig ac;
                              ac.eventGapUs = kAuctionGapUs;
                              return ac;
                            }()};
  const NexmarkGenerator* gen[2] = {&bids, &auctions};
  std::int64_t total[2];
  std::int64_t next[2] = {0, 0};
  BatchBuilder in[2] = {BatchBuilder(bids.schema(), 1024), BatchBuilder(auctions.schema(), 1024)};

  explicit JoinInput(std::int64_t events) : total{events, auctionsFor(events)} {}
  bool done() const { return next[0] >= total[0] && next[1] >= total[1]; }
  /// The side whose next batch starts earlier in event time.
  int nextSide() const {
    return next[0] >= total[0] ? 1 : next[1] >= total[1] ? 0 : (gen[0]->dateTime(next[0]) <= gen[1]->dateTime(next[1]) ? 0 : 1);
  }
  std::shared_ptr<const RecordBatch> nextBatch(int side) {
    const std::int64_t count = std::min<std::int64_t>(1024, total[side] - next[side]);
    gen[side]->generate(next[side], count, 1, in[side]);
    next[side] += count;
    return std::make_shared<const RecordBatch>(in[side].finish());
  }
  /// The time of side `side`'s next record (INT64_MAX once it has ended).
  std::int64_t horizon(int side) const { return next[side] >= total[side] ? INT64_MAX : gen[side]->dateTime(next[side]); }
};

/// The join by hand: both tables generated in batches of 1024 and consumed in event-time
/// order of their batches; per side a hash map auction id -> the records buffered for it
/// (time, batch, row), in time order; each record is matched against the other side's
/// buffer (binary search on time), every pair materialized as an output row (all 17
/// columns appended, as the engine does), then buffered itself. A record is dropped once no
/// record still to come from the other side can match it.
struct JoinLoop {
  struct Entry {
    std::int64_t t;
    std::shared_ptr<const RecordBatch> batch;
    std::uint32_t row;
  };
  using Buffers = std::unordered_map<std::int64_t, std::deque<Entry>>;

  static SchemaPtr outputSchema() {
    std::vector<Field> fields = nexmarkSchema(NexmarkTable::Bid)->fields();
    for (Field f : nexmarkSchema(NexmarkTable::Auction)->fields()) {
      while (std::any_of(fields.begin(), fields.end(), [&](const Field& g) { return g.name == f.name; }))
        f.name = "right_" + f.name;
      fields.push_back(f);
    }
    return makeSchema(std::move(fields));
  }

  std::int64_t run(std::int64_t events) {
    JoinInput input(events);
    BatchBuilder out(outputSchema(), 1024);
    const std::size_t leftWidth = input.bids.schema()->size();
    Buffers buffers[2];
    std::int64_t rows = 0, batches = 0;
    while (!input.done()) {
      const int side = input.nextSide();
      auto batch = input.nextBatch(side);
      const auto keys = batch->column(0).ints();  // bid.auction, auction.id
      // The earliest time the other side can still bring.
      const int other = 1 - side;
      for (std::size_t r = 0; r < batch->numRows(); ++r) {
        const std::int64_t t = batch->eventTime(r);
        // Partner times: auction in [t + lower, t + upper] for a bid, bid in
        // [t - upper, t - lower] for an auction.
        const std::int64_t from = side == 0 ? t + kJoinLower : t - kJoinUpper;
        const std::int64_t to = side == 0 ? t + kJoinUpper : t - kJoinLower;
        auto it = buffers[other].find(keys[r]);
        if (it != buffers[other].end()) {
          auto& q = it->second;
          auto p = std::lower_bound(q.begin(), q.end(), from, [](const Entry& e, std::int64_t v) { return e.t < v; });
          for (; p != q.end() && p->t <= to; ++p) {
            const RecordBatch& l = side == 0 ? *batch : *p->batch;
            const RecordBatch& rt = side == 0 ? *p->batch : *batch;
            const std::size_t lr = side == 0 ? r : p->row, rr = side == 0 ? p->row : r;
            for (std::size_t c = 0; c < leftWidth; ++c) out.column(c).appendFrom(l.column(c), lr);
            for (std::size_t c = 0; c < rt.numColumns(); ++c) out.column(leftWidth + c).appendFrom(rt.column(c), rr);
            out.endRow(std::max(t, p->t));
            if (out.numRows() >= 1024) rows += static_cast<std::int64_t>(out.finish().numRows());
          }
        }
        buffers[side][keys[r]].push_back(Entry{t, batch, static_cast<std::uint32_t>(r)});
      }
      // Every 16 batches: drop what nothing to come can match (bids up to the next
      // auction's time - upper, auctions up to the next bid's time + lower).
      if (++batches % 16 == 0) {
        for (int s : {0, 1}) {
          const int o = 1 - s;
          const std::int64_t horizon = input.horizon(o);
          const std::int64_t keepFrom = s == 0 ? horizon - kJoinUpper : horizon + kJoinLower;
          for (auto b = buffers[s].begin(); b != buffers[s].end();) {
            auto& q = b->second;
            while (!q.empty() && q.front().t < keepFrom) q.pop_front();
            b = q.empty() ? buffers[s].erase(b) : std::next(b);
          }
        }
      }
    }
    rows += static_cast<std::int64_t>(out.finish().numRows());
    return rows;
  }
};

/// The window join by hand: bids and auctions of the same auction id in the same tumbling
/// 10 s window, generated and consumed as JoinLoop does; per side a hash map (auction id,
/// window start) -> the records of that pane in arrival order; a window's panes are
/// joined (every bid with every auction, each pair materialized as a 19-column row, as the
/// engine does) once neither side can bring a record for it any more.
struct WindowJoinLoop {
  static constexpr std::int64_t kSize = 10000;
  struct Entry {
    std::shared_ptr<const RecordBatch> batch;
    std::uint32_t row;
  };
  struct PaneHash {
    std::size_t operator()(const std::pair<std::int64_t, std::int64_t>& k) const {
      return std::hash<std::int64_t>()(k.first * 31 + k.second);
    }
  };
  struct Pane {
    std::vector<Entry> sides[2];
  };

  static SchemaPtr outputSchema() {
    std::vector<Field> fields = JoinLoop::outputSchema()->fields();
    fields.push_back({"window_start", Type::Timestamp});
    fields.push_back({"window_end", Type::Timestamp});
    return makeSchema(std::move(fields));
  }

  std::int64_t run(std::int64_t events) {
    JoinInput input(events);
    BatchBuilder out(outputSchema(), 1024);
    const std::size_t leftWidth = input.bids.schema()->size(), rightWidth = input.auctions.schema()->size();
    std::map<std::int64_t, std::unordered_map<std::int64_t, Pane>> windows;  // start -> auction -> pane
    std::int64_t rows = 0;
    auto fire = [&](std::int64_t start, std::unordered_map<std::int64_t, Pane>& panes) {
      for (auto& [id, pane] : panes)
        for (const Entry& l : pane.sides[0])
          for (const Entry& r : pane.sides[1]) {
            for (std::size_t c = 0; c < leftWidth; ++c) out.column(c).appendFrom(l.batch->column(c), l.row);
            for (std::size_t c = 0; c < rightWidth; ++c)
              out.column(leftWidth + c).appendFrom(r.batch->column(c), r.row);
            out.column(leftWidth + rightWidth).appendInt64(start);
            out.column(leftWidth + rightWidth + 1).appendInt64(start + kSize);
            out.endRow(start + kSize - 1);
            if (out.numRows() >= 1024) rows += static_cast<std::int64_t>(out.finish().numRows());
          }
    };
    while (!input.done()) {
      const int side = input.nextSide();
      auto batch = input.nextBatch(side);
      const auto keys = batch->column(0).ints();  // bid.auction, auction.id
      for (std::size_t r = 0; r < batch->numRows(); ++r) {
        const std::int64_t t = batch->eventTime(r);
        windows[t - t % kSize][keys[r]].sides[side].push_back(Entry{batch, static_cast<std::uint32_t>(r)});
      }
      // Windows that end before both sides' next record fire (as the watermark would).
      const std::int64_t horizon = std::min(input.horizon(0), input.horizon(1));
      while (!windows.empty() && windows.begin()->first + kSize <= horizon) {
        fire(windows.begin()->first, windows.begin()->second);
        windows.erase(windows.begin());
      }
    }
    for (auto& [start, panes] : windows) fire(start, panes);
    rows += static_cast<std::int64_t>(out.finish().numRows());
    return rows;
  }
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

/// The window query's node: tumbling 10 s windows per auction, count and max price.
const std::string kWindowNodes = R"({"id": "w", "type": "window", "params": {"key": ["auction"],
    "window": {"type": "tumbling", "size_ms": 10000},
    "aggregates": [{"name": "bids", "fn": "count"}, {"name": "top", "fn": "max", "field": "price"}]}},)";

std::vector<Query> queries() {
  static MapOut out;
  static WindowLoop window;
  Query windowBatch{"window-batch", "window (as `window`) in batch mode vs the same job streaming",
                    kWindowNodes,
                    nullptr};
  windowBatch.batchVsStreaming = true;
  Query aggregate{"aggregate", "aggregate per auction (count, max price, sum price), batch vs streaming",
                  R"({"id": "a", "type": "aggregate", "params": {"key": ["auction"],
                       "aggregates": [{"name": "bids", "fn": "count"}, {"name": "top", "fn": "max", "field": "price"},
                                      {"name": "total", "fn": "sum", "field": "price"}]}},)",
                  nullptr};
  aggregate.batchVsStreaming = true;
  aggregate.sameRows = false;
  Query join{"join", "bids join auctions on auction = id, auction time in [bid time - 2 s, bid time + 0.5 s]", "",
             nullptr};
  // Bids join auctions (bid.auction = auction.id), with these join params.
  auto joinGraph = [](std::int64_t events, const std::string& joinParams) {
    return R"("nodes": [
      {"id": "bids", "type": "source.generator", "params": {"table": "bid", "events": )" + std::to_string(events) + R"(}},
      {"id": "auctions", "type": "source.generator", "params": {"table": "auction", "events": )" +
           std::to_string(auctionsFor(events)) + R"(, "event_gap_us": )" + std::to_string(kAuctionGapUs) + R"(}},
      {"id": "j", "type": "join", "params": {"left_key": ["auction"], "right_key": ["id"], )" + joinParams + R"(}},
      {"id": "sink", "type": "sink.discard"}],
      "edges": [{"from": "bids", "to": "j", "to_port": "left"}, {"from": "auctions", "to": "j", "to_port": "right"},
                {"from": "j", "to": "sink"}])";
  };
  join.graph = [joinGraph](std::int64_t events) {
    return joinGraph(events, "\"lower_ms\": " + std::to_string(kJoinLower) + ", \"upper_ms\": " + std::to_string(kJoinUpper));
  };
  join.handRun = [](std::int64_t events) { return JoinLoop().run(events); };
  join.recordsIn = [](std::int64_t events) { return events + auctionsFor(events); };
  Query windowJoin{"window-join", "bids join auctions on auction = id in the same tumbling 10 s window", "", nullptr};
  windowJoin.graph = [joinGraph](std::int64_t events) {
    return joinGraph(events, R"("window": {"type": "tumbling", "size_ms": 10000})");
  };
  windowJoin.handRun = [](std::int64_t events) { return WindowJoinLoop().run(events); };
  windowJoin.recordsIn = join.recordsIn;
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
       kWindowNodes,
       [](const RecordBatch& b) { return window.batch(b); },
       [] { return window.finish(); }},
      windowBatch,
      aggregate,
      join,
      windowJoin,
      {.name = "window-checkpointed",
       .description = "window with a checkpoint every --checkpoint-interval-ms vs without, unbounded input, timed runs",
       .own = runWindowCheckpointed},
      {.name = "checkpoint-state",
       .description = "aggregate over K distinct keys with checkpoints: size and duration of the checkpoints per K",
       .own = runCheckpointState},
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

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n == 0 ? 0 : n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct EngineRun {
  double seconds = 0;
  std::int64_t rows = 0;  // records into the sink
  /// Busy time (task.h's time accounting) of the subtasks downstream of the sources: the
  /// work of the operators under test, apart from generating the input.
  double downstreamBusyMs = 0;
  double sourceBusyMs = 0;  // and of the sources'
};

/// The text of query `q`'s job: its sources (`events` bids each; 0: unbounded) or the
/// replay source, its nodes and a discard sink; `extra` goes into the job's object as is
/// (a `"checkpoint": {...},` member, say).
std::string jobText(const Query& q, std::int64_t events, int parallelism, bool replay, bool batchMode,
                    const std::string& extra = "") {
  const std::string head = R"({"weir": 1, "name": "bench-)" + q.name + R"(", "mode": ")" +
                           (batchMode ? std::string("batch") : std::string("streaming")) + R"(", "parallelism": )" +
                           std::to_string(parallelism) + ", " + extra;
  return q.graph ? head + q.graph(events) + "}"
                 : head + R"("nodes": [
      {"id": "bids", "type": ")" + (replay ? std::string("bench.replay") : std::string("source.generator")) +
                       R"(", "params": )" + (replay ? std::string("{}") : R"({"table": "bid", "events": )" +
                       std::to_string(events) + R"(, "seed": 42})") + R"(},
      )" + q.nodes + R"(
      {"id": "sink", "type": "sink.discard"}], "edges": []})";
}

/// Parses, validates (with the bench catalog) and plans a job of query `q`.
JobPlan planBench(const Query& q, const std::string& text) {
  Diagnostics diags;
  auto job = parseJob(text, "bench", diags);
  if (!job) throw std::runtime_error("bench job does not parse");
  // Chain the nodes in order.
  if (!q.graph)
    for (std::size_t i = 0; i + 1 < job->nodes.size(); ++i)
      job->edges.push_back(JobEdge{job->nodes[i].id, "out", job->nodes[i + 1].id, "in", Partition::Auto});
  const ValidatedJob v = validateJob(*job, benchCatalog(), diags);
  if (!v.ok) {
    for (auto& d : diags) std::fprintf(stderr, "%s\n", d.toString().c_str());
    throw std::runtime_error("bench job is invalid");
  }
  return planJob(*job, v);
}

/// Runs the query on the engine; returns seconds and the records that reached the sink.
EngineRun runEngine(const Query& q, std::int64_t events, int parallelism, bool replay, bool batchMode = false) {
  LocalExecutor ex(planBench(q, jobText(q, events, parallelism, replay, batchMode)), {}, benchRegistry());
  const auto t0 = std::chrono::steady_clock::now();
  ex.start();
  ex.wait();
  const auto t1 = std::chrono::steady_clock::now();
  if (ex.status() != JobStatus::Finished) throw std::runtime_error("bench job did not finish");
  const JobMetrics m = ex.metrics();
  EngineRun run{seconds(t0, t1), m.nodes.back().recordsIn, 0, 0};
  for (const SubtaskMetricsView& st : m.subtasks) {
    if (st.operators.empty()) continue;
    const bool source = st.operators.front().type.rfind("source.", 0) == 0 || st.operators.front().type == "bench.replay";
    (source ? run.sourceBusyMs : run.downstreamBusyMs) += st.busyMs;
  }
  return run;
}

/// The same work by hand: generate batches of 1024 bids, run the loop on each.
std::pair<double, std::int64_t> runLoop(const Query& q, std::int64_t events, bool replay) {
  if (q.handRun) {
    const auto t0 = std::chrono::steady_clock::now();
    const std::int64_t rows = q.handRun(events);
    return {seconds(t0, std::chrono::steady_clock::now()), rows};
  }
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


// ---- checkpoints: their cost to the window query, and their size and duration against
// the size of the state ------------------------------------------------------------------
//
// Both run unbounded jobs for a fixed time, because a bounded job with checkpoints waits
// at its end for a checkpoint that covers it (docs/fault-tolerance.md, "Subtasks that
// finish"): up to an interval of idle time that is not the cost of checkpointing.

constexpr double kWarmupSeconds = 1;

/// A folder for one run's checkpoints, deleted with it.
struct ScratchDir {
  std::filesystem::path path;
  ScratchDir() {
    static int n = 0;
    path = std::filesystem::temp_directory_path() /
           ("weir-bench-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

struct TimedRun {
  double rate = 0;             // records/s into the measured node, after the warm-up
  double cpuNsPerRecord = 0;   // the process's CPU time (user + system, every thread) per such record
  std::int64_t records = 0;    // into that node, the whole run
  std::vector<CheckpointRecord> checkpoints;
};

std::int64_t recordsInto(const JobMetrics& m, const std::string& node) {
  for (const NodeMetrics& n : m.nodes)
    if (n.id == node) return n.recordsIn;
  throw std::runtime_error("no node " + node);
}

/// CPU time of this process so far (every thread, user and system).
double processCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto sec = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return sec(u.ru_utime) + sec(u.ru_stime);
}

/// Runs `plan` (unbounded) for kWarmupSeconds + `seconds`, then cancels it.
TimedRun runFor(JobPlan plan, const std::string& node, double seconds) {
  ScratchDir dir;
  ExecutorOptions options;
  options.checkpointDir = dir.path;
  LocalExecutor ex(std::move(plan), options, benchRegistry());
  ex.start();
  std::this_thread::sleep_for(std::chrono::duration<double>(kWarmupSeconds));
  const std::int64_t n0 = recordsInto(ex.metrics(), node);
  const auto t0 = std::chrono::steady_clock::now();
  const double cpu0 = processCpuSeconds();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  const std::int64_t n1 = recordsInto(ex.metrics(), node);
  const auto t1 = std::chrono::steady_clock::now();
  const double cpu1 = processCpuSeconds();
  if (ex.status() != JobStatus::Running) throw std::runtime_error("bench job stopped running");
  ex.cancel();
  ex.wait();
  return {static_cast<double>(n1 - n0) / std::chrono::duration<double>(t1 - t0).count(),
          1e9 * (cpu1 - cpu0) / static_cast<double>(std::max<std::int64_t>(1, n1 - n0)), n1, ex.checkpoints()};
}

std::string checkpointMember(std::int64_t intervalMs) {
  return R"("checkpoint": {"interval_ms": )" + std::to_string(intervalMs) + "}, ";
}

std::int64_t durationMs(const CheckpointRecord& r) { return r.endedAt - r.triggeredAt; }

std::vector<CheckpointRecord> completed(const std::vector<CheckpointRecord>& all) {
  std::vector<CheckpointRecord> done;
  for (const CheckpointRecord& r : all)
    if (r.status == CheckpointStatus::Completed) done.push_back(r);
  return done;
}

/// The window query over unbounded generated bids, without checkpoints and with one every
/// `checkpointIntervalMs`, interleaved run by run; prints both rates and their ratio.
int runWindowCheckpointed(const BenchOptions& o) {
  const Query q{.name = "window-checkpointed", .nodes = kWindowNodes};
  std::printf("window-checkpointed: generator (unbounded) --hash--> window (tumbling 10 s per auction: count, max) "
              "-> discard, parallelism %d;\n  %d pairs of runs (without checkpoints and with one every %lld ms, in "
              "turn first), each %.0f s warm-up + %.1f s measured;\n  rate = records into the window per second\n",
              o.parallelism, o.repeat, static_cast<long long>(o.checkpointIntervalMs), kWarmupSeconds, o.seconds);
  double best[2] = {0, 0}, bestCpu[2] = {1e300, 1e300};
  std::vector<double> pairRatios, pairCpuRatios, durations, syncs, aligns;
  std::vector<CheckpointRecord> done;
  int failed = 0;
  for (int r = 0; r < o.repeat; ++r) {
    TimedRun runs[2];
    // Interleaved, and in turn which goes first (the first run of a process pays for
    // growing the heap): none, checkpointed, checkpointed, none, ...
    for (int i = 0; i < 2; ++i) {
      const int c = r % 2 ? 1 - i : i;
      runs[c] = runFor(planBench(q, jobText(q, 0, o.parallelism, false, false,
                                            c ? checkpointMember(o.checkpointIntervalMs) : "")),
                       "w", o.seconds);
      best[c] = std::max(best[c], runs[c].rate);
      bestCpu[c] = std::min(bestCpu[c], runs[c].cpuNsPerRecord);
    }
    const auto cps = completed(runs[1].checkpoints);
    failed += static_cast<int>(runs[1].checkpoints.size() - cps.size());
    for (const CheckpointRecord& c : cps) {
      durations.push_back(static_cast<double>(durationMs(c)));
      syncs.push_back(static_cast<double>(c.maxSyncMs));
      aligns.push_back(static_cast<double>(c.maxAlignmentMs));
      done.push_back(c);
    }
    pairRatios.push_back(runs[1].rate / runs[0].rate);
    pairCpuRatios.push_back(runs[1].cpuNsPerRecord / runs[0].cpuNsPerRecord);
    std::printf("  pair %d: none %10.0f rec/s %5.0f CPU ns/rec, checkpointed %10.0f rec/s %5.0f CPU ns/rec: rate "
                "%5.1f%%, CPU %5.1f%%  (%zu checkpoints)\n",
                r + 1, runs[0].rate, runs[0].cpuNsPerRecord, runs[1].rate, runs[1].cpuNsPerRecord,
                100.0 * pairRatios.back(), 100.0 * pairCpuRatios.back(), cps.size());
  }
  std::printf("  best: none %.0f rec/s/core, checkpointed %.0f rec/s/core: %.1f%%\n", best[0] / o.parallelism,
              best[1] / o.parallelism, 100.0 * best[1] / best[0]);
  std::printf("  median over the pairs of checkpointed rate / rate without: %.1f%% (target: at least 90%%)\n",
              100.0 * median(pairRatios));
  std::printf("  CPU time per record (the process's, every thread), best: none %.0f ns, checkpointed %.0f ns; median "
              "over the pairs of checkpointed / none: %.1f%%\n",
              bestCpu[0], bestCpu[1], 100.0 * median(pairCpuRatios));
  if (!done.empty())
    std::printf("  checkpoints: %zu completed, %d not; duration median %.0f ms, max %.0f ms; max sync part %.0f ms; "
                "max alignment %.0f ms; state of the last %lld bytes\n",
                done.size(), failed, median(durations), *std::max_element(durations.begin(), durations.end()),
                *std::max_element(syncs.begin(), syncs.end()), *std::max_element(aligns.begin(), aligns.end()),
                static_cast<long long>(done.back().bytes));
  return done.empty() ? 1 : 0;
}

/// A keyed aggregate over K distinct keys (k = the bid's event time in ms modulo K: the
/// generator's bids are 1 ms apart, so the first K bids bring every key once), with a
/// checkpoint every `checkpointIntervalMs`; per K prints the last completed checkpoint's
/// state bytes, its duration (trigger to completion) and the parts of it.
int runCheckpointState(const BenchOptions& o) {
  const std::vector<std::int64_t> keys = o.keys.empty() ? std::vector<std::int64_t>{10'000, 100'000, 1'000'000} : o.keys;
  std::printf("checkpoint-state: generator (unbounded) -> map (k = date_time ms %% K, price) --hash(k)--> aggregate "
              "(per k: count, sum price) -> discard,\n  parallelism %d, a checkpoint every %lld ms, each K run %.0f s "
              "+ %.1f s; the last completed checkpoint's figures, then the max over the run's\n",
              o.parallelism, static_cast<long long>(o.checkpointIntervalMs), kWarmupSeconds, o.seconds);
  std::printf("  %d pairs of runs per K, without checkpoints and with (in turn first); rate: records/s into the "
              "aggregate after the warm-up,\n  best of the runs with checkpoints and of those without; ratio: median "
              "over the pairs of with / without\n",
              o.repeat);
  std::printf("%9s %11s %11s %7s %10s %5s %12s %7s %9s %8s %8s %8s %9s %8s\n", "keys", "rate", "rate none", "ratio",
              "records in", "done", "state bytes", "B/key", "dur. ms", "sync ms", "async ms", "align ms",
              "max dur.", "max sync");
  int status = 0;
  for (const std::int64_t k : keys) {
    const Query q{.name = "checkpoint-state",
                  .nodes = R"({"id": "m", "type": "map", "params": {"fields": [
                     {"name": "k", "expr": "CAST(date_time AS int64) % )" + std::to_string(k) + R"("},
                     {"name": "price", "expr": "price"}]}},
                   {"id": "a", "type": "aggregate", "params": {"key": ["k"], "aggregates": [
                     {"name": "bids", "fn": "count"}, {"name": "total", "fn": "sum", "field": "price"}]}},)"};
    // Pairs of runs without and with checkpoints, interleaved as in window-checkpointed;
    // the checkpoint figures are those of the last run with checkpoints.
    double best[2] = {0, 0};
    std::vector<double> pairRatios;
    TimedRun run;
    for (int r = 0; r < o.repeat; ++r) {
      double rate[2] = {0, 0};
      for (int i = 0; i < 2; ++i) {
        const int c = r % 2 ? 1 - i : i;
        TimedRun t = runFor(planBench(q, jobText(q, 0, o.parallelism, false, false,
                                                 c ? checkpointMember(o.checkpointIntervalMs) : "")),
                            "a", o.seconds);
        rate[c] = t.rate;
        best[c] = std::max(best[c], t.rate);
        if (c) run = std::move(t);
      }
      pairRatios.push_back(rate[1] / rate[0]);
    }
    const auto done = completed(run.checkpoints);
    if (done.empty()) {
      std::printf("%9lld %11s %11s %7s %10lld   no completed checkpoint\n", static_cast<long long>(k), "", "", "",
                  static_cast<long long>(run.records));
      status = 1;
      continue;
    }
    const CheckpointRecord& last = done.back();
    std::int64_t maxDuration = 0, maxSync = 0;
    for (const CheckpointRecord& c : done) {
      maxDuration = std::max(maxDuration, durationMs(c));
      maxSync = std::max(maxSync, c.maxSyncMs);
    }
    std::printf("%9lld %11.0f %11.0f %6.1f%% %10lld %5zu %12lld %7.1f %9lld %8lld %8lld %8lld %9lld %8lld%s\n",
                static_cast<long long>(k), best[1], best[0], 100.0 * median(pairRatios),
                static_cast<long long>(run.records), done.size(), static_cast<long long>(last.bytes),
                static_cast<double>(last.bytes) / static_cast<double>(k), static_cast<long long>(durationMs(last)),
                static_cast<long long>(last.maxSyncMs), static_cast<long long>(last.maxAsyncMs),
                static_cast<long long>(last.maxAlignmentMs), static_cast<long long>(maxDuration),
                static_cast<long long>(maxSync),
                run.records < k ? "  (fewer records than keys: not every key is in the state)" : "");
  }
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  BenchOptions o;
  std::vector<std::string> only;
  std::string input = "both";  // generated | replayed | both
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--events") && i + 1 < argc) o.events = std::atoll(argv[++i]);
    else if (!std::strcmp(argv[i], "--repeat") && i + 1 < argc) o.repeat = std::max(1, std::atoi(argv[++i]));
    else if (!std::strcmp(argv[i], "--parallelism") && i + 1 < argc) o.parallelism = std::max(1, std::atoi(argv[++i]));
    else if (!std::strcmp(argv[i], "--query") && i + 1 < argc) only.emplace_back(argv[++i]);
    else if (!std::strcmp(argv[i], "--input") && i + 1 < argc) input = argv[++i];
    else if (!std::strcmp(argv[i], "--checkpoint-interval-ms") && i + 1 < argc)
      o.checkpointIntervalMs = std::max<std::int64_t>(1, std::atoll(argv[++i]));
    else if (!std::strcmp(argv[i], "--seconds") && i + 1 < argc) o.seconds = std::max(0.1, std::atof(argv[++i]));
    else if (!std::strcmp(argv[i], "--keys") && i + 1 < argc) o.keys.push_back(std::max<std::int64_t>(1, std::atoll(argv[++i])));
    else {
      std::fprintf(stderr, "usage: weir-bench [--events N] [--repeat R] [--parallelism P] [--query NAME]... "
                           "[--input generated|replayed|both]\n"
                           "                  [--checkpoint-interval-ms MS] [--seconds S] [--keys K]...\n"
                           "  window-checkpointed and checkpoint-state run only when named with --query\n");
      return 2;
    }
  }
  const std::int64_t events = o.events;
  const int repeat = o.repeat, parallelism = o.parallelism;
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
      const bool named = std::find(only.begin(), only.end(), q.name) != only.end();
      if (!only.empty() && !named) continue;
      if (q.own) {
        if (named && !replay) {
          std::printf("\n");
          status |= q.own(o);
        }
        continue;
      }
      // Replayed batches carry no event time (and repeat their times when looped): the
      // event-time queries, and those with their own sources, run on generated input only.
      if (replay && (q.name == "window" || q.batchVsStreaming || q.graph)) continue;
      const std::int64_t total = replay ? replayEvents : q.recordsIn(events);
      if (q.batchVsStreaming) {
        double best[2] = {1e300, 1e300}, bestBusy[2] = {1e300, 1e300}, bestSource[2] = {1e300, 1e300};
        std::int64_t rows[2] = {0, 0};
        // Per pair of neighbouring runs, batch's rate / streaming's: noise that lasts
        // longer than a pair (a busy neighbour) hits both sides alike.
        std::vector<double> pairRatios, pairBusyRatios;
        for (int r = 0; r < repeat; ++r) {
          EngineRun runs[2];
          for (int m = 0; m < 2; ++m) {  // interleaved: streaming, batch, streaming, ...
            runs[m] = runEngine(q, events, parallelism, false, m == 1);
            best[m] = std::min(best[m], runs[m].seconds);
            bestBusy[m] = std::min(bestBusy[m], runs[m].downstreamBusyMs);
            bestSource[m] = std::min(bestSource[m], runs[m].sourceBusyMs);
            rows[m] = runs[m].rows;
          }
          pairRatios.push_back(runs[0].seconds / runs[1].seconds);
          pairBusyRatios.push_back(runs[1].downstreamBusyMs / runs[0].downstreamBusyMs);
        }
        const double rate[2] = {static_cast<double>(total) / best[0] / parallelism,
                                static_cast<double>(total) / best[1] / parallelism};
        const bool mismatch = q.sameRows && rows[0] != rows[1];
        std::printf("%-12s %-9s %18.0f %18.0f %7.1f%% %12lld%s\n", q.name.c_str(), "generated", rate[1], rate[0],
                    100.0 * rate[1] / rate[0], static_cast<long long>(rows[1]),
                    mismatch ? "  MISMATCH with streaming" : "");
        std::printf("%-12s %-9s   (batch rec/s/core, streaming rec/s/core, batch/streaming; streaming rows out: %lld)\n",
                    "", "", static_cast<long long>(rows[0]));
        std::printf("%-12s %-9s   median over the %d pairs of runs: batch rate / streaming rate %.1f%%\n", "", "",
                    repeat, 100.0 * median(pairRatios));
        // The pipeline's rate is the generator's (the busier thread); the operator's own
        // cost is its subtasks' busy time.
        std::printf("%-12s %-9s   operator busy (best): batch %.0f ms, streaming %.0f ms; batch's busy time / "
                    "streaming's, median over the pairs: %.1f%%\n",
                    "", "", bestBusy[1], bestBusy[0], 100.0 * median(pairBusyRatios));
        std::printf("%-12s %-9s   source busy (best): batch %.0f ms, streaming %.0f ms\n", "", "", bestSource[1],
                    bestSource[0]);
        if (mismatch) status = 1;
        continue;
      }
      double bestEngine = 1e300, bestLoop = 1e300;
      std::int64_t engineRows = 0, loopRows = 0;
      // Interleave the two so that machine noise hits both alike.
      for (int r = 0; r < repeat; ++r) {
        const EngineRun run = runEngine(q, events, parallelism, replay);
        const double te = run.seconds;
        const std::int64_t ne = run.rows;
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
