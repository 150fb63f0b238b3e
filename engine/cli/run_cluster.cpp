// weir run JOB on an embedded local cluster of real processes: a weir-jobmanager and
// weir-taskmanager processes (cluster/local_cluster.h) in a temporary folder, the job
// submitted as `weir submit` does (base_dir: the job file's folder), followed through the
// WebSocket /v1/jobs/{id}/live to its end, then the cluster stopped and the folder removed.
//
// Slots: a job needs as many slots as its largest parallelism P (slot sharing: one slot
// holds one subtask of every chain). By default the cluster has ceil(P/2) TaskManagers, at
// most 4, each with ceil(P/N) slots: p=1 is one TaskManager with one slot, p=4 two with two
// slots (so a shuffle crosses processes), p=16 four with four. --taskmanagers N and
// --slots S choose otherwise.
//
// What the user sees is what the in-process runtime shows: the same progress line on a
// terminal, the same summary (figures from GET /v1/jobs/{id}/metrics), the same failure
// line (`node[subtask/p]: cause`, without the JobManager's " (on taskmanager-N)"), the same
// exit codes, and the dead letters in the job's one dead-letter file (the TaskManagers'
// per-process files are merged into it once they have stopped). Records of sink.stdout
// reach this program's stdout directly from the TaskManager (forwardStdout).
//
// `weir run job | head`: when stdout's reader goes away the cluster is stopped and `weir`
// dies of SIGPIPE, as the in-process runtime does (exit status 141 in a shell).
//
// Processes are never left behind: the cluster's destructor stops them (SIGTERM, SIGKILL
// after a grace), a second signal or the cancel grace stops them before exiting, and each
// gets SIGTERM from the kernel when this process dies however it dies (PR_SET_PDEATHSIG).
// The folder of a run killed with SIGKILL is removed by the next `weir run`.

#include <poll.h>
#include <unistd.h>

#include <csignal>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "cluster/daemon_args.h"
#include "cluster/http_client.h"
#include "cluster/local_cluster.h"

namespace weir::cli {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

/// The cluster of one run and its folder; stop() ends the processes and removes the folder
/// (unless it is kept), once.
class RunCluster {
 public:
  RunCluster(fs::path dir, bool keep) : dir_(std::move(dir)), keep_(keep) {}
  RunCluster(const RunCluster&) = delete;
  RunCluster& operator=(const RunCluster&) = delete;
  ~RunCluster() { stop(std::chrono::seconds(5)); }

  void start(const cluster::LocalClusterOptions& o) { cluster_.emplace(cluster::LocalCluster::start(o)); }
  const cluster::LocalCluster& get() const { return *cluster_; }
  const fs::path& dir() const { return dir_; }

  void stopProcesses(std::chrono::milliseconds grace) {
    if (cluster_) cluster_->stop(grace);
    cluster_.reset();
  }
  void stop(std::chrono::milliseconds grace) {
    stopProcesses(grace);
    if (dir_.empty()) return;
    std::error_code ec;
    if (!keep_) fs::remove_all(dir_, ec);
    dir_.clear();
  }

 private:
  fs::path dir_;
  bool keep_;
  std::optional<cluster::LocalCluster> cluster_;
};

constexpr const char* kKeptMarker = "KEPT";  // in a folder of --keep-cluster-dir

/// Whether `pid` is a process that has not ended (a zombie has ended).
bool running(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  const auto close = line.rfind(')');
  return close == std::string::npos || close + 2 >= line.size() || line[close + 2] != 'Z';
}

/// Removes the folders of earlier runs that could not remove their own (`weir` was killed
/// with SIGKILL): a weir-run-* folder whose JobManager (its ports file names the pid) has
/// ended and that was not kept on purpose. A folder without a ports file is left alone:
/// its run may be starting right now.
void sweepAbandonedRunDirs(const fs::path& base) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(base, ec)) {
    const std::string name = e.path().filename().string();
    if (!name.starts_with("weir-run-") || !e.is_directory(ec) || fs::exists(e.path() / kKeptMarker, ec)) continue;
    std::ifstream in(e.path() / "jobmanager.ports.json");
    const auto ports = json::parse(in, nullptr, false);
    if (!ports.is_object() || !ports.contains("pid") || !ports["pid"].is_number_integer()) continue;
    if (running(ports["pid"].get<pid_t>())) continue;
    fs::remove_all(e.path(), ec);
  }
}

/// A fresh folder under $TMPDIR (or /tmp) for the cluster's data and logs.
fs::path makeRunDir() {
  std::error_code ec;
  fs::path base = fs::temp_directory_path(ec);
  if (ec) base = "/tmp";
  sweepAbandonedRunDirs(base);
  std::string templ = (base / "weir-run-XXXXXX").string();
  if (!::mkdtemp(templ.data())) throw std::runtime_error("cannot create a folder in " + base.string());
  return templ;
}

/// The progress figures of a /v1/jobs/{id}/live `metrics` message: node counters from
/// `vertices` (plan order), dead letters from `subtasks`.
JobMetrics metricsFromLive(const json& m) {
  JobMetrics out;
  for (const auto& v : m.value("vertices", json::array())) {
    NodeMetrics n;
    n.id = v.value("node", "");
    n.recordsIn = v.value("records_in", std::int64_t(0));
    n.recordsOut = v.value("records_out", std::int64_t(0));
    out.nodes.push_back(std::move(n));
  }
  for (const auto& s : m.value("subtasks", json::array())) out.deadLetters += s.value("dead_letters", std::int64_t(0));
  return out;
}

/// Appends the TaskManagers' dead-letter files ("<stem>.<taskmanager name><ext>" beside the
/// job's) to the job's own file, in TaskManager order, and removes them.
void mergeDeadLetters(const fs::path& jobFile, const std::vector<cluster::ClusterProcess>& processes) {
  for (const auto& p : processes) {
    if (p.role != "taskmanager") continue;
    fs::path part = jobFile;
    part.replace_filename(jobFile.stem().string() + "." + p.name + jobFile.extension().string());
    std::ifstream in(part, std::ios::binary);
    if (!in) continue;
    {
      std::ofstream out(jobFile, std::ios::binary | std::ios::app);
      out << in.rdbuf();
    }
    in.close();
    std::error_code ec;
    fs::remove(part, ec);
  }
}

/// Whether stdout is a pipe whose reader has gone (`weir run job | head`): the in-process
/// runtime dies of SIGPIPE there, and so does `weir run` once its cluster is stopped.
bool stdoutReaderGone() {
  pollfd p{STDOUT_FILENO, POLLOUT, 0};
  return ::poll(&p, 1, 0) == 1 && (p.revents & POLLERR) != 0;
}

[[noreturn]] void dieOfSigpipe() {
  std::signal(SIGPIPE, SIG_DFL);
  std::raise(SIGPIPE);
  _exit(128 + SIGPIPE);
}

}  // namespace

int runOnLocalCluster(const Args& a, JobPlan plan) {
  installSignalHandlers(3);  // the second signal is handled below, the third ends the process at once
  int needed = 1;
  for (const auto& n : plan.nodes) needed = std::max(needed, n.parallelism);
  const int taskManagers = a.taskManagers.value_or(std::min(4, (needed + 1) / 2));
  const int slots = a.slots.value_or((needed + taskManagers - 1) / taskManagers);
  if (taskManagers * slots < needed) {
    std::fprintf(stderr, "weir run: %d TaskManager%s with %d slot%s are too few: job %s needs %d slots "
                 "(its largest parallelism)\n", taskManagers, taskManagers == 1 ? "" : "s", slots,
                 slots == 1 ? "" : "s", plan.name.c_str(), needed);
    return kExitRefused;
  }
  Diagnostics diags;
  const auto text = jobTextToSubmit(a, diags);
  if (!text) {
    printDiagnostics(diags, a.job);
    return kExitRefused;
  }

  const auto startingAt = Clock::now();
  RunCluster run(makeRunDir(), a.keepClusterDir);
  cluster::LocalClusterOptions o;
  o.taskManagers = taskManagers;
  o.slotsPerTaskManager = slots;
  o.dataDir = run.dir();
  o.secretFile = a.secretFile;
  o.dieWithParent = true;
  o.forwardStdout = true;  // sink.stdout's records go straight to our stdout
  o.newSession = true;     // a Ctrl-C reaches only us; we cancel the job and stop them
  try {
    run.start(o);
  } catch (const std::exception& e) {
    // LocalCluster's messages start with what failed ("cannot start the local cluster: ...",
    // "jobmanager ended while starting (log ...)").
    const std::string what = e.what();
    std::fprintf(stderr, "weir: %s%s\nweir: (weir run --in-process runs the job without a cluster)\n",
                 what.starts_with("cannot start") ? "" : "cannot start the local cluster: ", what.c_str());
    return kExitFailed;
  }
  const cluster::LocalCluster& c = run.get();
  if (a.verbose) {
    std::fprintf(stderr, "weir: local cluster started in %.2f s in %s, API %s:\n",
                 std::chrono::duration<double>(Clock::now() - startingAt).count(), run.dir().c_str(), c.url().c_str());
    for (const auto& p : c.processes())
      std::fprintf(stderr, "weir:   %s pid %d\n", p.name.c_str(), static_cast<int>(p.pid));
  }
  Args to = a;
  to.jobmanager = c.url();
  const std::string token = secretOf(to);
  const auto processes = c.processes();

  // A stale dead-letter file of an earlier run must not pass for this run's (as in process).
  std::error_code ec;
  fs::remove(plan.deadLetterPath, ec);
  const auto start = Clock::now();
  auto submitted = api(to, "POST", submitTarget(a), *text);
  if (!submitted) return kExitRefused;
  const std::string id = submitted->value("id", "");
  const std::string jobPath = "/v1/jobs/" + cluster::urlEncode(id);

  const bool live = !a.quiet && isatty(STDERR_FILENO);
  ProgressLine progress(start);
  std::unique_ptr<cluster::WebSocketClient> ws;
  try {
    ws = std::make_unique<cluster::WebSocketClient>(c.url(), jobPath + "/live", token, std::chrono::seconds(10));
  } catch (const std::exception&) {
    ws.reset();  // followed by polling GET /v1/jobs/{id} below
  }
  std::string status, failure;
  bool interrupted = false;
  Clock::time_point canceledAt, lastPoll;
  auto ended = [&] { return status == "FINISHED" || status == "FAILED" || status == "CANCELED"; };
  auto exitNow = [&](const char* why) {
    progress.clear();
    if (why) std::fprintf(stderr, "\nweir: job %s %s; exiting\n", plan.name.c_str(), why);
    run.stop(std::chrono::milliseconds(500));
    std::fflush(stdout);
    _exit(128 + lastSignal());
  };
  while (!ended()) {
    const int signals = signalsReceived();
    if (signals >= 1 && !interrupted) {
      interrupted = true;
      canceledAt = Clock::now();
      try {
        cluster::httpRequest(c.url(), "POST", jobPath + "/cancel", "", token);
      } catch (const std::exception&) {
        // the JobManager is gone: noticed below
      }
    }
    if (signals >= 2) exitNow(nullptr);
    if (stdoutReaderGone()) {
      progress.clear();
      run.stop(std::chrono::milliseconds(500));
      dieOfSigpipe();
    }
    if (interrupted && Clock::now() - canceledAt > kCancelGrace) exitNow("did not stop within 5 s of the signal");
    if (ws) {
      auto msg = ws->next(std::chrono::milliseconds(200));
      if (msg) {
        const auto j = json::parse(*msg, nullptr, false);
        if (!j.is_object()) continue;
        if (j.value("type", "") == "metrics" && live) progress.update(plan, metricsFromLive(j));
        if (j.value("type", "") == "status") {
          status = j.value("status", "");
          failure = j.value("failure", "");
        }
      } else if (ws->closed()) {
        ws.reset();  // ended without the job's status: ask for it below
      }
      continue;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (Clock::now() - lastPoll < std::chrono::milliseconds(200)) continue;
    lastPoll = Clock::now();
    try {
      const auto r = cluster::httpRequest(c.url(), "GET", jobPath, "", token);
      const auto j = json::parse(r.body, nullptr, false);
      if (r.status == 200 && j.is_object()) {
        status = j.value("status", "");
        failure = j.value("failure", "");
      }
      if (live && !ended()) {
        const auto m = cluster::httpRequest(c.url(), "GET", jobPath + "/metrics", "", token);
        if (m.status == 200) progress.update(plan, metricsFromApi(json::parse(m.body, nullptr, false)));
      }
    } catch (const std::exception& e) {
      progress.clear();
      const auto& jm = processes.front();
      std::fprintf(stderr, "weir: the local cluster's JobManager does not answer (%s); its log %s ends:\n%s", e.what(),
                   jm.log.c_str(), cluster::logTail(jm.log).c_str());
      return kExitFailed;
    }
  }
  ws.reset();
  progress.clear();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  JobMetrics metrics;
  try {
    const auto m = cluster::httpRequest(c.url(), "GET", jobPath + "/metrics", "", token);
    if (m.status == 200) metrics = metricsFromApi(json::parse(m.body, nullptr, false));
  } catch (const std::exception&) {
    // no figures: the summary shows zeros
  }
  // The processes end before the summary: every record they print is out, and their
  // dead-letter files are closed and can be merged.
  run.stopProcesses(std::chrono::seconds(5));
  mergeDeadLetters(plan.deadLetterPath, processes);
  if (stdoutReaderGone()) {  // the job may have failed of it (its TaskManager died of SIGPIPE)
    run.stop(std::chrono::seconds(1));
    dieOfSigpipe();
  }
  // The JobManager names the TaskManager of a failed subtask; on this one machine the
  // message reads as the in-process runtime's.
  for (const auto& p : processes) {
    const std::string on = " (on " + p.name + ")";
    if (failure.size() > on.size() && failure.compare(failure.size() - on.size(), on.size(), on) == 0)
      failure.erase(failure.size() - on.size());
  }
  if (!a.quiet) {
    char where[200];
    std::snprintf(where, sizeof where, "ran on a local cluster: a JobManager and %d TaskManager%s with %d slot%s each "
                  "(%zu processes, all ended)", taskManagers, taskManagers == 1 ? "" : "s", slots, slots == 1 ? "" : "s",
                  processes.size());
    printSummary(plan, metrics, status, seconds, plan.deadLetterPath, where);
  }
  if (a.keepClusterDir) {
    std::ofstream(run.dir() / kKeptMarker) << "kept by weir run --keep-cluster-dir\n";
    std::fprintf(stderr, "weir: the cluster's folder (logs, metadata) is kept: %s\n", run.dir().c_str());
  }
  run.stop(std::chrono::seconds(5));
  if (status == "FINISHED") return kExitOk;
  if (status == "FAILED") {
    std::fprintf(stderr, "weir: job %s failed: %s\n", plan.name.c_str(), failure.empty() ? "unknown cause" : failure.c_str());
    return kExitFailed;
  }
  std::fprintf(stderr, "weir: job %s was canceled\n", plan.name.c_str());
  return interrupted ? 128 + lastSignal() : kExitFailed;
}

}  // namespace weir::cli
