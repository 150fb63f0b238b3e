#pragma once
// Test harness for whole jobs that end in a collecting sink: a job text (*.weir.json) is
// validated against the builtin catalog plus `test.collect` (a sink that keeps every row
// in memory as text, with its row kind, and every watermark it sees), planned and run on
// the LocalExecutor, exactly as `weir run` does.

#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "core/catalog.h"
#include "core/validate.h"
#include "runtime/local_executor.h"
#include "runtime/planner.h"

namespace weir::test {

struct Collected {
  std::mutex mu;
  std::vector<std::string> rows;                 // "op|f1|f2|..." in arrival order
  std::map<std::string, std::vector<std::string>> byNode;  // the same, per sink node
  std::map<int, std::vector<std::int64_t>> watermarks;  // per sink subtask
  std::int64_t lastWatermark(int subtask) {
    std::lock_guard lock(mu);
    auto& w = watermarks[subtask];
    return w.empty() ? INT64_MIN : w.back();
  }
  std::size_t size() {
    std::lock_guard lock(mu);
    return rows.size();
  }
  std::vector<std::string> sorted() {
    std::lock_guard lock(mu);
    auto r = rows;
    std::sort(r.begin(), r.end());
    return r;
  }
  std::vector<std::string> sorted(const std::string& node) {
    std::lock_guard lock(mu);
    auto r = byNode[node];
    std::sort(r.begin(), r.end());
    return r;
  }
};

/// A row as "op|v1|v2": integers and timestamps as integers, doubles in shortest form,
/// strings as they are, null as "null".
inline std::string rowText(const RecordBatch& b, std::size_t r) {
  std::string s(rowKindName(b.kind(r)));
  for (std::size_t c = 0; c < b.numColumns(); ++c) {
    s += '|';
    const Column& col = b.column(c);
    if (col.isNull(r)) s += "null";
    else if (col.type() == Type::Timestamp || col.type() == Type::Int64) s += std::to_string(col.int64(r));
    else if (col.type() == Type::String) s += col.str(r);
    else s += col.value(r).toString();
  }
  return s;
}

class CollectSink final : public Operator {
 public:
  CollectSink(const OperatorContext& ctx, Collected& c) : node_(ctx.nodeId), subtask_(ctx.subtask), c_(c) {}
  void processBatch(int, const RecordBatch& batch, Output&) override {
    std::lock_guard lock(c_.mu);
    auto& mine = c_.byNode[node_];
    for (std::size_t r = 0; r < batch.numRows(); ++r) {
      c_.rows.push_back(rowText(batch, r));
      mine.push_back(c_.rows.back());
    }
  }
  void processWatermark(Watermark wm, Output&) override {
    std::lock_guard lock(c_.mu);
    c_.watermarks[subtask_].push_back(wm.timestamp);
  }

 private:
  std::string node_;
  int subtask_;
  Collected& c_;
};

/// The lines of a text file, without their newlines (none after a final newline; none at
/// all for a missing file).
inline std::vector<std::string> readLines(const std::filesystem::path& p) {
  std::vector<std::string> lines;
  std::ifstream in(p);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

/// `s` cut at every `sep`: "a,,b" -> {"a", "", "b"}, "a," -> {"a", ""}, "" -> {""}.
inline std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      parts.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  parts.push_back(cur);
  return parts;
}

/// Every line of every file in `files`, sorted (outputs of parallel sinks compared as sets).
inline std::vector<std::string> sortedFileLines(const std::vector<std::filesystem::path>& files) {
  std::vector<std::string> lines;
  for (const auto& f : files)
    for (auto& l : readLines(f)) lines.push_back(std::move(l));
  std::sort(lines.begin(), lines.end());
  return lines;
}

inline const Catalog& harnessCatalog() {
  static const Catalog c = [] {
    Catalog c = Catalog::builtin();
    OperatorSpec sink;
    sink.type = "test.collect";
    sink.category = OperatorCategory::Sink;
    sink.title = "Collect (test)";
    sink.inputs = {PortSpec{"in", "rows", true, false}};
    sink.derive = [](SchemaDerivation& d) {
      d.outputs.clear();
      d.outputProps.clear();
    };
    c.add(std::move(sink));
    return c;
  }();
  return c;
}

inline OperatorRegistry harnessRegistry(Collected& c) {
  OperatorRegistry r = OperatorRegistry::builtin();
  r.add("test.collect", [&c](const OperatorContext& ctx) { return std::make_unique<CollectSink>(ctx, c); });
  return r;
}

/// Validates and plans a job text whose relative paths resolve against `baseDir`.
inline std::optional<JobPlan> planText(const std::string& text, const std::filesystem::path& baseDir,
                                       const JobOverrides& overrides = {}) {
  Diagnostics diags;
  auto job = parseJob(text, (baseDir / "test.weir.json").string(), diags);
  if (!job) {
    for (const auto& d : diags) qWarning("%s", d.toString().c_str());
    return std::nullopt;
  }
  job->baseDir = baseDir;
  applyOverrides(*job, overrides, diags);
  const ValidatedJob v = validateJob(*job, harnessCatalog(), diags);
  if (!v.ok || !diags.empty()) {
    for (const auto& d : diags) qWarning("%s", d.toString().c_str());
    return std::nullopt;
  }
  return planJob(*job, v);
}

/// Runs a job text to its end; returns the final status ("FINISHED", ...), or "INVALID".
inline std::string runText(const std::string& text, const std::filesystem::path& baseDir, Collected& c,
                           const JobOverrides& overrides = {}, std::string* failure = nullptr,
                           JobMetrics* metrics = nullptr) {
  auto plan = planText(text, baseDir, overrides);
  if (!plan) return "INVALID";
  const OperatorRegistry registry = harnessRegistry(c);
  LocalExecutor ex(std::move(*plan), {}, registry);
  ex.start();
  ex.wait();
  if (failure && ex.failure()) *failure = ex.failure()->toString();
  if (metrics) *metrics = ex.metrics();
  return std::string(jobStatusName(ex.status()));
}

/// Runs a job file to its end through prepareJob + LocalExecutor with the builtin
/// operators, exactly as `weir run` does. CREATED when the job is refused (its problems
/// are printed as warnings).
inline JobStatus runJobFile(const std::filesystem::path& job, const JobOverrides& overrides,
                            JobMetrics* metrics = nullptr, std::string* failure = nullptr) {
  Diagnostics diags;
  auto plan = prepareJob(job, overrides, diags);
  if (!plan) {
    for (const auto& d : diags) qWarning("%s", d.toString().c_str());
    return JobStatus::Created;
  }
  LocalExecutor ex(std::move(*plan));
  ex.start();
  ex.wait();
  if (metrics) *metrics = ex.metrics();
  if (ex.failure()) {
    if (failure) *failure = ex.failure()->toString();
    else qWarning("%s", ex.failure()->toString().c_str());
  }
  return ex.status();
}

/// Copies samples/<job> and samples/data into `dir` (as samples/ lays them out), so a
/// sample runs there with its outputs in the temporary folder; the job's path there.
inline std::filesystem::path copySample(const QTemporaryDir& dir, const std::string& job) {
  namespace fs = std::filesystem;
  const fs::path source = WEIR_SOURCE_DIR;
  const fs::path to = dir.path().toStdString();
  fs::copy(source / "samples" / job, to / job);
  fs::create_directories(to / "data");
  fs::copy(source / "samples/data", to / "data", fs::copy_options::recursive | fs::copy_options::skip_existing);
  return to / job;
}

/// Collects what an operator driven directly emits: rowText@eventTime per row, and the
/// watermarks.
class VectorOutput final : public Output {
 public:
  void collect(int, RecordBatch batch) override {
    for (std::size_t r = 0; r < batch.numRows(); ++r)
      rows.push_back(rowText(batch, r) + "@" + std::to_string(batch.eventTime(r)));
  }
  void emitWatermark(Watermark wm) override { watermarks.push_back(wm.timestamp); }
  std::vector<std::string> rows;
  std::vector<std::int64_t> watermarks;
};

}  // namespace weir::test
