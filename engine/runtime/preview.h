#pragma once
// Design-time preview: run a job in this process on the first records of each source and
// show what flows on every edge, without writing anything anywhere.
//
// previewJob validates the job (a job that does not validate is not run: its diagnostics
// are the result), then runs it with a LocalExecutor changed in these ways only:
//   - sources read at most `rowsPerSource` records each: a source runs as one subtask
//     (where the job's edges allow it) and ends after that many records, bounded or not
//     (a generator's rate is lifted; a followed file is read to its current end); ending
//     emits the maximum watermark as any bounded source does, so windows fire;
//   - sinks are replaced by a discard that only counts what reaches them (the records on
//     their incoming edges are in the edge results);
//   - dead letters are collected in memory and returned, never written;
//   - a filter's projection pushdown (planner.h) is not applied, so every edge carries the
//     schema the job declares;
//   - every edge's tap (runtime/tap.h) keeps the first `rowsPerEdge` records per producing
//     subtask (TapMode::First).
// It waits until the job ends or `timeout` passes (a socket source with too few records),
// then cancels it and returns what was seen (timedOut).
//
// Nothing touches the disk: sink factories are never called, the dead-letter file is
// neither created nor removed. Input files are only read. Thread-safe: each call has its
// own executor; it blocks the calling thread for the run (the workbench calls it off the
// GUI thread).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/job.h"
#include "runtime/registry.h"
#include "runtime/tap.h"
#include "runtime/task.h"

namespace weir {

struct PreviewOptions {
  int rowsPerSource = 100;
  int rowsPerEdge = 20;
  std::chrono::milliseconds timeout{10000};
  std::size_t maxStringBytes = 256;  // longer string values are cut (tap.h)
  std::size_t maxDeadLetters = 100;  // kept; all are counted
  const OperatorRegistry* registry = nullptr;  // null: OperatorRegistry::builtin()
};

struct PreviewEdge {
  int edge = 0;  // index into JobGraph::edges (file order)
  std::string from, fromPort, to, toPort;
  SchemaPtr schema;
  std::vector<TapRow> rows;  // the first records, in the order they were produced
  std::int64_t records = 0;  // every record that flowed on the edge
};

struct PreviewNode {
  std::string id, type;
  int parallelism = 1;  // as run (a source may run as one subtask)
  std::int64_t recordsIn = 0, recordsOut = 0, deadLetters = 0, lateRecords = 0;
};

struct PreviewResult {
  /// Validated and ran to its end (or to the timeout) without a failure.
  bool ok = false;
  Diagnostics diagnostics;                // the job did not validate: it was not run
  std::optional<SubtaskFailure> failure;  // the run failed: the operator, subtask, message
  std::string error;                      // any of the above as one line ("node: message"), or ""
  bool timedOut = false;
  std::vector<PreviewNode> nodes;  // JobGraph order
  std::vector<PreviewEdge> edges;  // JobGraph order
  std::vector<nlohmann::json> deadLetters;  // {"node","subtask","file","line","offset","reason","record"}
  std::int64_t deadLetterCount = 0;
};

PreviewResult previewJob(const JobGraph& job, const PreviewOptions& options = {});

/// The result as JSON (docs/api.md, "Preview"): {"ok", "error", "timed_out",
/// "diagnostics": [{node, path, message}], "nodes": [{id, type, parallelism, records_in,
/// records_out, dead_letters, late_records}], "edges": [{edge, from, from_port, to,
/// to_port, schema, rows, records}], "dead_letters": [...], "dead_letter_count"}; rows as
/// tapRowToJson.
nlohmann::json previewToJson(const PreviewResult& result);

}  // namespace weir
