#pragma once
// Pieces of the `weir` command shared by its source files: the parsed command line, exit
// codes, signal handling, and the progress line and summary that `weir run` prints the
// same way whichever runtime ran the job (main.cpp: in this process; run_cluster.cpp: on an
// embedded local cluster of real processes; follow.cpp: `weir status --follow`).
//
// Output contract: records a sink prints go to stdout; progress, the summary and every
// message go to stderr, so `weir run job > out.csv` keeps the data clean.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "runtime/local_executor.h"
#include "runtime/planner.h"

namespace weir::cli {

constexpr int kExitOk = 0, kExitFailed = 1, kExitRefused = 2;  // 128 + signal when interrupted

struct Args {
  std::string command;
  std::string job;          // the job file, job id, or the word after `cluster` / `logs`
  std::string extra;        // `weir logs X`: the process name
  JobOverrides overrides;
  bool json = false;
  bool quiet = false;
  bool verbose = false;
  bool follow = false;
  bool inProcess = false;   // weir run --in-process (or WEIR_RUN_IN_PROCESS=1)
  bool keepClusterDir = false;
  std::string jobmanager;
  std::string secretFile;
  std::string tlsCa;        // --tls-ca: the CA an https:// JobManager's certificate must chain to
  std::string tlsCert, tlsKey;  // weir cluster start: TLS for the daemons (with --tls-ca)
  int rows = 0;             // weir preview --rows; 0: the default
  std::optional<int> taskManagers;  // weir cluster start (default 2), weir run (default: see run_cluster.cpp)
  std::optional<int> slots;
  int apiPort = 0;
  int lines = 40;           // weir logs --lines
  std::string dataDir;
  std::string fromSavepoint;            // run/submit --from-savepoint PATH
  bool allowNonRestoredState = false;   // --allow-non-restored-state
  bool savepoint = false;               // weir stop ID --savepoint
  std::string savepointPath;            // weir savepoint check JOB SAVEPOINT
};

// ---- signals ----------------------------------------------------------------------------
// The first SIGINT/SIGTERM cancels the job; a second one, or a job that has not stopped
// within kCancelGrace after the first, ends the process (a subtask can be stuck where
// cancellation cannot reach it, e.g. writing to a pipe nobody reads).
constexpr auto kCancelGrace = std::chrono::seconds(5);
/// Installs the handler. The handler itself ends the process (_exit(128 + signal)) at the
/// `exitAt`-th signal: 2 for the in-process runtime; 3 on a local cluster, whose run loop
/// handles the second one itself so that it can stop the cluster's processes first.
void installSignalHandlers(int exitAt);
int signalsReceived();
int lastSignal();

// ---- formatting -------------------------------------------------------------------------
/// 1234567 -> "1,234,567"
std::string grouped(std::int64_t n);
/// 1234567.0 -> "1.23M"
std::string rate(double perSecond);

/// Records that left the sources and that reached the sinks.
std::pair<std::int64_t, std::int64_t> endToEnd(const JobPlan& plan, const JobMetrics& m);

/// The progress line of a running job on a terminal (redrawn in place with \r).
class ProgressLine {
 public:
  explicit ProgressLine(std::chrono::steady_clock::time_point start) : start_(start), last_(start) {}
  void update(const JobPlan& plan, const JobMetrics& m);
  void clear();

 private:
  std::chrono::steady_clock::time_point start_, last_;
  std::int64_t lastIn_ = 0, lastOut_ = 0;
  bool drawn_ = false;
};

/// The table of operators and the closing lines: status, records read and written, dead
/// letters, late records per node, where the run happened (`where`, one line, may be
/// empty), and where each sink.file's output went.
void printSummary(const JobPlan& plan, const JobMetrics& m, const std::string& status, double seconds,
                  const std::filesystem::path& deadLetterPath, const std::string& where);

/// The job's problems, as `weir run` refuses it.
void printDiagnostics(const Diagnostics& diags, const std::string& file);

// ---- the JobManager's API (docs/api.md) -------------------------------------------------
std::string secretOf(const Args& a);
/// The response body as JSON; prints the error and returns nullopt when status >= 300.
std::optional<nlohmann::json> api(const Args& a, const std::string& method, const std::string& target,
                                  const std::string& body = "");
/// The node totals of GET /v1/jobs/{id}/metrics (its `nodes`) as JobMetrics.
JobMetrics metricsFromApi(const nlohmann::json& metrics);

/// The job file's text as submitted: the file itself, or, with --set overrides, the file
/// rewritten with them applied (the same applyOverrides as `weir run --in-process`).
/// nullopt with the problems in `diags` when it cannot be read or an override is wrong.
std::optional<std::string> jobTextToSubmit(const Args& a, Diagnostics& diags);
/// POST /v1/jobs?base_dir=<the job file's folder>[&parallelism=N]
std::string submitTarget(const Args& a);

// ---- commands ---------------------------------------------------------------------------
/// weir run on an embedded local cluster (run_cluster.cpp).
int runOnLocalCluster(const Args& a, JobPlan plan);
/// weir status ID --follow: the live per-operator view (follow.cpp).
int followStatus(const Args& a);
/// The live view's lines for one `metrics` message of /v1/jobs/{id}/live (follow.cpp).
std::string liveView(const nlohmann::json& metrics, const std::string& jobName, double elapsedSeconds);

}  // namespace weir::cli
