#pragma once
// Taps: a bounded copy of the records flowing on one plan edge, for a person debugging a
// job: "what is on this edge right now" for a running job, and the first records of each
// edge for the design-time preview (runtime/preview.h).
//
// One EdgeTap per plan edge; JobTaps owns them for one deployment (a LocalExecutor, or
// the subtasks of one job on a TaskManager). Every producing subtask of an edge, chained
// edges included, offers each batch it sends into the edge:
//
//     if (tap && tap->enabled()) tap->offer(subtask, batch);
//
// so a disabled tap costs one relaxed atomic load per batch and nothing else (no copy,
// no clock read, no lock). An enabled tap keeps, per producing subtask, at most
// `rowsPerSubtask` rows:
//   TapMode::Sampled (live taps): a batch is copied while the subtask's ring is not full,
//     then at most once per `sampleIntervalMs`; its last rows replace the oldest ones, so
//     the ring holds recent records at a bounded cost whatever the record rate;
//   TapMode::First (preview): every row until the ring is full, then nothing more.
// Each copied row keeps its values, event time, row kind, producing subtask and capture
// time. Strings longer than `maxStringBytes` are cut at copy time (at a UTF-8 character
// boundary) and end with kTruncationMarker; malformed UTF-8 bytes become U+FFFD, so a
// row always serializes as JSON. A tap's memory is bounded by
// producers x rowsPerSubtask x fields x maxStringBytes.
//
// Threading: offer() runs on the producing subtask's thread; enable(), snapshot() and
// copies() on any thread. Each producer's ring has its own mutex, taken by offer() only
// while the tap is enabled, and by snapshot(). Enabling a disabled tap clears its rings,
// so a snapshot never shows rows from an earlier enable.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/batch.h"
#include "core/value.h"
#include "runtime/plan.h"

namespace weir {

enum class TapMode {
  Sampled,  // the latest rows, sampled (live taps)
  First,    // the first rows (preview)
};

struct TapOptions {
  TapMode mode = TapMode::Sampled;
  int rowsPerSubtask = 20;
  int sampleIntervalMs = 100;        // Sampled: at most one copy per interval once full
  std::size_t maxStringBytes = 256;  // longer strings are cut and marked
};

/// Ends a string value a tap cut short ("…", UTF-8).
inline constexpr std::string_view kTruncationMarker = "\u2026";

/// One copied record.
struct TapRow {
  std::vector<Value> values;          // in schema order
  std::int64_t eventTime = kNoTimestamp;  // when the record has none
  RowKind kind = RowKind::Insert;
  int subtask = 0;                     // the producing subtask
  std::int64_t capturedMs = 0;         // wall clock when copied (orders rows across processes)
  std::uint64_t seq = 0;               // capture order within one tap
};

/// What a tap holds at one moment: rows of every producing subtask, oldest first.
struct TapSample {
  int edge = 0;
  SchemaPtr schema;          // the edge's schema (the producer's output port)
  bool enabled = false;
  int subtasks = 0;          // producing subtasks attached to the tap (in this process)
  std::int64_t copies = 0;   // rows copied since the tap was created
  std::vector<TapRow> rows;
};

class EdgeTap {
 public:
  EdgeTap(int edge, SchemaPtr schema, int producers, TapOptions options);
  EdgeTap(const EdgeTap&) = delete;
  EdgeTap& operator=(const EdgeTap&) = delete;

  /// The producer side's check: one relaxed load.
  bool enabled() const { return enabled_.load(std::memory_order_relaxed); }
  /// Turns the tap on (clearing what an earlier enable kept) or off (keeping the rows).
  void enable(bool on);
  /// A producing subtask sends `batch` into the edge (its own thread; only when enabled()).
  void offer(int subtask, const RecordBatch& batch);
  /// A producing subtask is wired to this edge (deployment, before it runs).
  void attachProducer() { attached_.fetch_add(1, std::memory_order_relaxed); }

  /// The rows now held, ordered by capture (time, then order): the newest `maxRows` in
  /// Sampled mode, the first `maxRows` in First mode.
  TapSample snapshot(std::size_t maxRows = SIZE_MAX) const;
  /// Rows copied so far (tests: a disabled tap copies none).
  std::int64_t copies() const { return copies_.load(std::memory_order_relaxed); }
  const SchemaPtr& schema() const { return schema_; }
  int edge() const { return edge_; }

 private:
  struct Ring {
    std::mutex mu;
    std::vector<TapRow> rows;  // circular once full: `head` is the oldest
    std::size_t head = 0;
    std::int64_t lastCopyMs = 0;
  };

  int edge_;
  SchemaPtr schema_;
  TapOptions options_;
  std::atomic<bool> enabled_{false};
  std::atomic<int> attached_{0};
  std::atomic<std::int64_t> copies_{0};
  std::atomic<std::uint64_t> seq_{0};
  std::vector<std::unique_ptr<Ring>> rings_;  // by producing subtask index (fixed size)
};

/// One tap per plan edge of a job, all disabled at first.
class JobTaps {
 public:
  explicit JobTaps(const JobPlan& plan, TapOptions options = {});
  std::size_t size() const { return taps_.size(); }
  /// nullptr when `edge` is not a plan edge index.
  EdgeTap* edge(int edge);
  const EdgeTap* edge(int edge) const;

 private:
  std::vector<std::unique_ptr<EdgeTap>> taps_;
};

/// The schema of plan edge `edge` (its producer's output port).
SchemaPtr edgeSchema(const JobPlan& plan, int edge);

/// A value as JSON: int64 and double as numbers (NaN and infinities as the strings "nan",
/// "inf", "-inf", as JSON Lines), strings, booleans, timestamps as ISO-8601 strings, null.
nlohmann::json valueToJson(const Value& v);
/// [{"name", "type"}] of a schema.
nlohmann::json schemaToJson(const Schema& schema);
/// One row: {field: value..., "_event_time": ms | null, "_op": "+I" | "-U" | "+U" | "-D",
/// "_subtask": n}.
nlohmann::json tapRowToJson(const Schema& schema, const TapRow& row);
/// The API shape of a sample (docs/api.md, GET .../sample): {"edge", "enabled",
/// "schema": [{name, type}], "rows": [...], "subtasks": n}; at most `maxRows` rows (the
/// ones snapshot() ordered last). `withCaptureTime` adds "_at" (capture wall ms) to each
/// row, for the TaskManager -> JobManager merge.
nlohmann::json tapSampleToJson(const TapSample& sample, std::size_t maxRows = SIZE_MAX,
                               bool withCaptureTime = false);

}  // namespace weir
