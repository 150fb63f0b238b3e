// The `weir` command (DESIGN.md §2).
//
//   weir run JOB [--parallelism N] [--set node.param=value]... [--quiet] [--verbose]
//                [--in-process | --taskmanagers N --slots S --keep-cluster-dir]
//   weir validate JOB [--set ...] [--json]
//   weir catalog [--json]
//   weir submit JOB --jobmanager URL [--secret-file F] [--parallelism N] [--set ...]
//   weir status ID --jobmanager URL [--follow] [--json];  weir list;  weir cancel ID
//   weir cluster start [--taskmanagers N] [--slots S] [--data-dir D];  weir cluster stop|status
//   weir logs [jobmanager|taskmanager-N] [--lines N] [--follow] [--data-dir D];  weir logs --jobmanager URL
//
// Exit status: 0 when the job finished (or validated), 1 when it failed at run time,
// 2 when the job or the command line is refused, 128 + signal when interrupted (130 for
// SIGINT, 143 for SIGTERM). Records a sink prints go to stdout; progress, the summary and
// every message go to stderr, so `weir run job > out.csv` keeps the data clean.
//
// `weir run` runs the job on an embedded local cluster of real processes (run_cluster.cpp)
// unless --in-process or WEIR_RUN_IN_PROCESS=1 asks for the runtime inside this process
// (runInProcess below); both print the same progress, summary, messages and exit codes.

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "cluster/daemon_args.h"
#include "cluster/http_client.h"
#include "cluster/job_state.h"
#include "cluster/local_cluster.h"
#include "core/catalog.h"
#include "core/file_util.h"
#include "core/text.h"
#include "runtime/local_executor.h"
#include "runtime/watermarks.h"  // wallClockMs
#include "runtime/planner.h"
#include "runtime/preview.h"
#include "runtime/savepoint_check.h"

namespace weir::cli {

// ---- signals ----------------------------------------------------------------------------

namespace {
std::atomic<int> gSignals{0};
std::atomic<int> gLastSignal{0};
std::atomic<int> gExitAt{2};
extern "C" void onSignal(int sig) {
  gLastSignal.store(sig);
  if (gSignals.fetch_add(1) + 1 >= gExitAt.load()) _exit(128 + sig);
}
}  // namespace

void installSignalHandlers(int exitAt) {
  gExitAt.store(exitAt);
  std::signal(SIGINT, onSignal);
  std::signal(SIGTERM, onSignal);
}
int signalsReceived() { return gSignals.load(); }
int lastSignal() { return gLastSignal.load(); }

// ---- formatting -------------------------------------------------------------------------

std::string grouped(std::int64_t n) {
  std::string s = std::to_string(n < 0 ? -n : n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<std::size_t>(i), ",");
  return n < 0 ? "-" + s : s;
}

std::string rate(double perSecond) {
  char buf[32];
  if (perSecond >= 1e6) std::snprintf(buf, sizeof buf, "%.2fM", perSecond / 1e6);
  else if (perSecond >= 1e3) std::snprintf(buf, sizeof buf, "%.1fk", perSecond / 1e3);
  else std::snprintf(buf, sizeof buf, "%.0f", perSecond);
  return buf;
}

std::pair<std::int64_t, std::int64_t> endToEnd(const JobPlan& plan, const JobMetrics& m) {
  std::int64_t in = 0, out = 0;
  for (std::size_t i = 0; i < plan.nodes.size() && i < m.nodes.size(); ++i) {
    if (plan.nodes[i].inputPorts.empty()) in += m.nodes[i].recordsOut;
    if (plan.nodes[i].outputPorts.empty()) out += m.nodes[i].recordsIn;
  }
  return {in, out};
}

void ProgressLine::update(const JobPlan& plan, const JobMetrics& m) {
  const auto now = std::chrono::steady_clock::now();
  const auto [in, out] = endToEnd(plan, m);
  const double dt = std::max(1e-3, std::chrono::duration<double>(now - last_).count());
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  std::fprintf(stderr, "\r\033[K%7.1fs  in %s rec/s  out %s rec/s  read %s  written %s  dead letters %s", elapsed,
               rate(static_cast<double>(in - lastIn_) / dt).c_str(), rate(static_cast<double>(out - lastOut_) / dt).c_str(),
               grouped(in).c_str(), grouped(out).c_str(), grouped(m.deadLetters).c_str());
  lastIn_ = in;
  lastOut_ = out;
  last_ = now;
  drawn_ = true;
}

void ProgressLine::clear() {
  if (drawn_) std::fprintf(stderr, "\r\033[K");
  drawn_ = false;
}

void printSummary(const JobPlan& plan, const JobMetrics& m, const std::string& status, double seconds,
                  const std::filesystem::path& deadLetterPath, const std::string& where) {
  std::fprintf(stderr, "\n%-20s %-16s %3s %14s %14s %8s\n", "operator", "type", "p", "records in", "records out",
               "dead");
  for (std::size_t i = 0; i < m.nodes.size() && i < plan.nodes.size(); ++i) {
    const auto& n = m.nodes[i];
    const bool source = plan.nodes[i].inputPorts.empty();
    const bool sink = plan.nodes[i].outputPorts.empty();
    std::fprintf(stderr, "%-20s %-16s %3d %14s %14s %8s\n", n.id.c_str(), n.type.c_str(), n.parallelism,
                 source ? "-" : grouped(n.recordsIn).c_str(), sink ? "-" : grouped(n.recordsOut).c_str(),
                 grouped(n.deadLetters).c_str());
  }
  const auto [in, out] = endToEnd(plan, m);
  // Only a finished run commits its output (a file sink renames FILE.inprogress into place):
  // what reached the sinks of a failed or canceled run was not written.
  std::fprintf(stderr, "\n%s in %.3f s: %s records read (%s/s), %s %s", status.c_str(), seconds,
               grouped(in).c_str(), rate(seconds > 0 ? static_cast<double>(in) / seconds : 0).c_str(),
               grouped(out).c_str(), status == "FINISHED" ? "written" : "reached the sinks, none committed");
  if (m.deadLetters > 0)
    std::fprintf(stderr, ", %s malformed record%s in %s", grouped(m.deadLetters).c_str(), m.deadLetters == 1 ? "" : "s",
                 deadLetterPath.string().c_str());
  // Late records per node that counted them: a window sends them to its `late` port, a
  // join drops them.
  std::int64_t late = 0;
  std::string lateByNode;
  for (const auto& n : m.nodes) {
    if (n.lateRecords <= 0) continue;
    late += n.lateRecords;
    lateByNode += (lateByNode.empty() ? "" : ", ") + grouped(n.lateRecords) + " at " + n.id;
    if (n.type == "window") lateByNode += " (see the window's `late` port)";
    else if (n.type == "join") lateByNode += " (dropped by the join)";
  }
  if (late > 0)
    std::fprintf(stderr, ", %s record%s too late: %s", grouped(late).c_str(), late == 1 ? "" : "s", lateByNode.c_str());
  std::fprintf(stderr, "\n");
  if (!where.empty()) std::fprintf(stderr, "%s\n", where.c_str());
  // Where the output went: the sinks' paths, resolved.
  for (const auto& n : plan.nodes) {
    if (n.type != "sink.file") continue;
    std::filesystem::path p = n.params.value("path", "");
    if (p.is_relative()) p = plan.baseDir / p;
    if (n.parallelism == 1) std::fprintf(stderr, "output of %s: %s\n", n.id.c_str(), p.lexically_normal().string().c_str());
    else
      std::fprintf(stderr, "output of %s: %s (one part file per subtask: %s-0%s ... %s-%d%s)\n", n.id.c_str(),
                   p.parent_path().lexically_normal().string().c_str(), p.stem().string().c_str(),
                   p.extension().string().c_str(), p.stem().string().c_str(), n.parallelism - 1,
                   p.extension().string().c_str());
  }
}

void printDiagnostics(const Diagnostics& diags, const std::string& file) {
  for (const auto& d : diags) std::fprintf(stderr, "%s\n", d.toString().c_str());
  std::fprintf(stderr, "%s: %zu problem%s; the job was not run\n", file.c_str(), diags.size(),
               diags.size() == 1 ? "" : "s");
}

// ---- the JobManager's API ---------------------------------------------------------------

std::string secretOf(const Args& a) { return cluster::clusterSecret(a.secretFile); }

std::optional<nlohmann::json> api(const Args& a, const std::string& method, const std::string& target,
                                  const std::string& body) {
  const auto r = cluster::httpRequest(a.jobmanager, method, target, body, secretOf(a), a.tlsCa);
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (r.status >= 300) {
    std::fprintf(stderr, "weir %s: %d: %s\n", a.command.c_str(), r.status,
                 j.is_object() && j.contains("error") ? j["error"].get<std::string>().c_str() : r.body.c_str());
    if (j.is_object() && j.contains("problems"))
      for (const auto& p : j["problems"]) std::fprintf(stderr, "  %s\n", p.get<std::string>().c_str());
    return std::nullopt;
  }
  return j;
}

JobMetrics metricsFromApi(const nlohmann::json& metrics) {
  JobMetrics m;
  if (!metrics.is_object() || !metrics.contains("nodes")) return m;
  for (const auto& n : metrics.at("nodes")) {
    NodeMetrics nm;
    nm.id = n.value("id", "");
    nm.type = n.value("type", "");
    nm.parallelism = n.value("parallelism", 1);
    nm.recordsIn = n.value("records_in", std::int64_t(0));
    nm.recordsOut = n.value("records_out", std::int64_t(0));
    nm.bytesIn = n.value("bytes_in", std::int64_t(0));
    nm.bytesOut = n.value("bytes_out", std::int64_t(0));
    nm.deadLetters = n.value("dead_letters", std::int64_t(0));
    nm.lateRecords = n.value("late_records", std::int64_t(0));
    m.deadLetters += nm.deadLetters;
    m.nodes.push_back(std::move(nm));
  }
  return m;
}

std::optional<std::string> jobTextToSubmit(const Args& a, Diagnostics& diags) {
  if (a.overrides.sets.empty()) {
    std::ifstream in(a.job, std::ios::binary);
    if (!in) {
      diags.push_back({"job", "", a.job + ": cannot open: " + std::strerror(errno)});
      return std::nullopt;
    }
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  // --set: the file with the overrides applied, written back as a job file (jobToJson
  // keeps the meaning: parsing the text again gives the same JobGraph). The parallelism
  // travels as the query parameter, as without --set.
  auto graph = loadJobFile(a.job, diags);
  if (!graph) return std::nullopt;
  JobOverrides sets;
  sets.sets = a.overrides.sets;
  applyOverrides(*graph, sets, diags);
  if (!diags.empty()) return std::nullopt;
  return formatJob(*graph);
}

std::string submitTarget(const Args& a) {
  const auto base = std::filesystem::absolute(a.job).parent_path().lexically_normal();
  std::string target = "/v1/jobs?base_dir=" + cluster::urlEncode(base.string());
  if (a.overrides.parallelism) target += "&parallelism=" + std::to_string(*a.overrides.parallelism);
  if (!a.fromSavepoint.empty()) target += "&from_savepoint=" + cluster::urlEncode(a.fromSavepoint);
  if (a.allowNonRestoredState) target += "&allow_non_restored_state=true";
  return target;
}

namespace {

void usage(std::FILE* to) {
  std::fputs(
      "usage: weir run JOB [--parallelism N] [--set node.param=value]... [--quiet]\n"
      "                    [--verbose] [--in-process | --taskmanagers N --slots S --keep-cluster-dir]\n"
      "       weir validate JOB [--parallelism N] [--set node.param=value]...\n"
      "       weir preview JOB [--rows N] [--parallelism N] [--set node.param=value]... [--json]\n"
      "       weir catalog [--json]\n"
      "       weir submit JOB --jobmanager URL [--secret-file F] [--tls-ca F] [--parallelism N] [--set ...]\n"
      "       weir status ID --jobmanager URL [--follow] [--json]\n"
      "       weir list --jobmanager URL;  weir cancel ID --jobmanager URL\n"
      "       weir checkpoints ID --jobmanager URL [--json]\n"
      "       weir savepoint ID --jobmanager URL;  weir stop ID --savepoint --jobmanager URL\n"
      "       weir savepoint check JOB SAVEPOINT [--parallelism N] [--allow-non-restored-state]\n"
      "       (run and submit take --from-savepoint PATH [--allow-non-restored-state])\n"
      "       weir cluster start [--taskmanagers N] [--slots S] [--data-dir D] [--api-port P]\n"
      "                          [--secret-file F] [--tls-cert F --tls-key F --tls-ca F]\n"
      "       weir cluster stop|status [--data-dir D]\n"
      "       weir logs [jobmanager|taskmanager-N] [--lines N] [--follow] [--data-dir D]\n"
      "       weir logs --jobmanager URL [--lines N]\n"
      "\n"
      "  run       validate JOB, run it on an embedded local cluster (a weir-jobmanager and\n"
      "            weir-taskmanager processes, ended when the job ends; enough slots for the\n"
      "            job: ceil(P/2) TaskManagers, at most 4, for the largest parallelism P),\n"
      "            print progress and a summary; exit 0 when it finished, 1 failed, 2 refused,\n"
      "            130 interrupted.  --in-process (or env WEIR_RUN_IN_PROCESS=1): run it in\n"
      "            this process instead.  --keep-cluster-dir: keep the cluster's folder (logs)\n"
      "  validate  check JOB completely; print every problem as 'node: param: message'\n"
      "  preview   run JOB in this process on the first 100 records of each source (or N),\n"
      "            writing nothing; print the first N (10) records of every edge as a table\n"
      "  catalog   list the operators (--json: ports and params, as the workbench reads them)\n"
      "  submit    send JOB to a JobManager (relative paths resolve against JOB's folder);\n"
      "            prints the job id\n"
      "  status    a job's status and subtasks; --follow: a live view per operator (records/s,\n"
      "            busy and backpressured %, watermark and its lag), once a second until the\n"
      "            job ends.  list: every job; cancel: stop a job.  URL: http://host:port (env\n"
      "            WEIR_JOBMANAGER; default: the local cluster of `weir cluster start`, if one runs);\n"
      "            https://host:port checks the JobManager's certificate against --tls-ca F\n"
      "            (env WEIR_TLS_CA; default: the system's CAs)\n"
      "  checkpoints  a job's checkpoints: counts, duration and size (min/avg/max), and each\n"
      "            checkpoint with its status, duration, size and failure\n"
      "  savepoint a savepoint of a running job (waits for it, prints its folder); stop --savepoint:\n"
      "            a savepoint, then the job is canceled (its sinks published up to the savepoint);\n"
      "            savepoint check: which node's state a savepoint restores into JOB, node by node\n"
      "  cluster   start a JobManager and N TaskManagers (default 2 x 2 slots) in the\n"
      "            background on loopback ports, logs in D/logs; stop ends them; status\n"
      "            lists them.  D: env WEIR_CLUSTER_DIR or ~/.local/state/weir/cluster\n"
      "  logs      the last N lines (default 40) of a daemon's log of that local cluster\n"
      "            (default: jobmanager); --follow: keep printing new lines.  With\n"
      "            --jobmanager URL (or WEIR_JOBMANAGER): that JobManager's recent lines\n",
      to);
}

/// Where `weir cluster start` keeps its JobManager's data, logs and the state file.
std::filesystem::path clusterDir(const Args& a) {
  if (!a.dataDir.empty()) return std::filesystem::absolute(a.dataDir);
  if (const char* d = std::getenv("WEIR_CLUSTER_DIR")) return std::filesystem::absolute(d);
  if (const char* x = std::getenv("XDG_STATE_HOME"); x && *x) return std::filesystem::path(x) / "weir" / "cluster";
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home ? home : ".") / ".local" / "state" / "weir" / "cluster";
}

std::filesystem::path clusterStateFile(const Args& a) { return clusterDir(a) / "cluster.json"; }

/// The cluster `weir cluster start` left running, if its state file names live processes.
std::optional<cluster::LocalCluster> runningLocalCluster(const Args& a) {
  std::ifstream in(clusterStateFile(a));
  if (!in) return std::nullopt;
  const auto j = nlohmann::json::parse(in, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  try {
    auto c = cluster::LocalCluster::fromJson(j);
    if (c.alive() == 0) return std::nullopt;
    return c;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

/// Parses argv; on error prints why and returns false.
bool parseArgs(int argc, char** argv, Args& a) {
  if (argc < 2) return false;
  a.command = argv[1];
  if (a.command == "--help" || a.command == "-h" || a.command == "help") {
    usage(stdout);
    std::exit(kExitOk);
  }
  if (const char* e = std::getenv("WEIR_RUN_IN_PROCESS"); e && std::string(e) == "1") a.inProcess = true;
  for (int i = 2; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](const char* flag) -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "weir: %s needs a value\n", flag);
        return nullptr;
      }
      return argv[++i];
    };
    if (arg == "--parallelism" || arg == "-p") {
      const char* v = value("--parallelism");
      if (!v) return false;
      auto n = parseInt64(v);
      if (!n || *n < 1 || *n > kMaxParallelism) {
        std::fprintf(stderr, "weir: --parallelism must be a whole number from 1 to %d, not '%s'\n", kMaxParallelism, v);
        return false;
      }
      a.overrides.parallelism = static_cast<int>(*n);
    } else if (arg == "--set") {
      const char* v = value("--set");
      if (!v) return false;
      a.overrides.sets.emplace_back(v);
    } else if (arg == "--json") {
      a.json = true;
    } else if (arg == "--jobmanager") {
      const char* v = value("--jobmanager");
      if (!v) return false;
      a.jobmanager = v;
    } else if (arg == "--secret-file") {
      const char* v = value("--secret-file");
      if (!v) return false;
      a.secretFile = v;
    } else if (arg == "--tls-ca" || arg == "--tls-cert" || arg == "--tls-key") {
      const char* v = value(arg.c_str());
      if (!v) return false;
      (arg == "--tls-ca" ? a.tlsCa : arg == "--tls-cert" ? a.tlsCert : a.tlsKey) = v;
    } else if (arg == "--taskmanagers" || arg == "--slots" || arg == "--api-port" || arg == "--lines" || arg == "-n") {
      const char* v = value(arg.c_str());
      if (!v) return false;
      auto n = parseInt64(v);
      const bool lines = arg == "--lines" || arg == "-n";
      const int lo = arg == "--api-port" || lines ? 0 : 1, hi = arg == "--api-port" ? 65535 : lines ? 1000000 : 64;
      if (!n || *n < lo || *n > hi) {
        std::fprintf(stderr, "weir: %s must be a whole number from %d to %d, not '%s'\n", arg.c_str(), lo, hi, v);
        return false;
      }
      if (arg == "--taskmanagers") a.taskManagers = static_cast<int>(*n);
      else if (arg == "--slots") a.slots = static_cast<int>(*n);
      else if (lines) a.lines = static_cast<int>(*n);
      else a.apiPort = static_cast<int>(*n);
    } else if (arg == "--rows") {
      const char* v = value("--rows");
      if (!v) return false;
      auto n = parseInt64(v);
      if (!n || *n < 1 || *n > 100000) {
        std::fprintf(stderr, "weir: --rows must be a whole number from 1 to 100000, not '%s'\n", v);
        return false;
      }
      a.rows = static_cast<int>(*n);
    } else if (arg == "--data-dir") {
      const char* v = value("--data-dir");
      if (!v) return false;
      a.dataDir = v;
    } else if (arg == "--follow" || arg == "-f") {
      a.follow = true;
    } else if (arg == "--quiet" || arg == "-q") {
      a.quiet = true;
    } else if (arg == "--verbose" || arg == "-v") {
      a.verbose = true;
    } else if (arg == "--in-process") {
      a.inProcess = true;
    } else if (arg == "--keep-cluster-dir") {
      a.keepClusterDir = true;
    } else if (arg == "--from-savepoint") {
      const char* v = value("--from-savepoint");
      if (!v) return false;
      a.fromSavepoint = std::filesystem::absolute(v).lexically_normal().string();
    } else if (arg == "--allow-non-restored-state") {
      a.allowNonRestoredState = true;
    } else if (arg == "--savepoint") {
      a.savepoint = true;
    } else if (arg == "--help" || arg == "-h") {
      usage(stdout);
      std::exit(kExitOk);
    } else if (!arg.empty() && arg[0] == '-') {
      std::fprintf(stderr, "weir: unknown option %s\n", arg.c_str());
      return false;
    } else if (a.job.empty()) {
      a.job = arg;
    } else if (a.command == "savepoint" && a.job == "check" && a.extra.empty()) {
      a.extra = arg;  // the job file
    } else if (a.command == "savepoint" && a.job == "check" && a.savepointPath.empty()) {
      a.savepointPath = arg;
    } else {
      std::fprintf(stderr, "weir: unexpected argument %s\n", arg.c_str());
      return false;
    }
  }
  if ((a.command == "catalog" || a.command == "list") && !a.job.empty()) {
    std::fprintf(stderr, "weir %s: unexpected argument %s\n", a.command.c_str(), a.job.c_str());
    return false;
  }
  if (a.command == "logs" && a.jobmanager.empty())
    if (const char* env = std::getenv("WEIR_JOBMANAGER")) a.jobmanager = env;
  const bool savepointCheck = a.command == "savepoint" && a.job == "check";
  if (savepointCheck && (a.extra.empty() || a.savepointPath.empty())) {
    std::fprintf(stderr, "weir savepoint check: which job file and which savepoint? (weir savepoint check JOB SAVEPOINT)\n");
    return false;
  }
  if ((a.command == "submit" || a.command == "status" || a.command == "list" || a.command == "cancel" ||
       a.command == "checkpoints" || a.command == "stop" || (a.command == "savepoint" && !savepointCheck)) &&
      a.jobmanager.empty()) {
    if (const char* env = std::getenv("WEIR_JOBMANAGER")) a.jobmanager = env;
    else if (auto local = runningLocalCluster(a)) {
      a.jobmanager = local->url();
      if (a.tlsCa.empty()) a.tlsCa = local->tlsCa().string();  // a TLS cluster: its own CA
    }
    else {
      std::fprintf(stderr, "weir %s: --jobmanager URL is required (or start a local cluster: weir cluster start)\n",
                   a.command.c_str());
      return false;
    }
  }
  if ((a.command == "submit" || a.command == "status" || a.command == "cancel" || a.command == "checkpoints" ||
       a.command == "savepoint" || a.command == "stop") &&
      a.job.empty()) {
    std::fprintf(stderr, "weir %s: which %s?\n", a.command.c_str(), a.command == "submit" ? "job file" : "job id");
    return false;
  }
  if (a.command == "cluster" && a.job != "start" && a.job != "stop" && a.job != "status") {
    std::fprintf(stderr, "weir cluster: start, stop or status?\n");
    return false;
  }
  if ((a.command == "run" || a.command == "validate" || a.command == "preview") && a.job.empty()) {
    std::fprintf(stderr, "weir %s: which job? (weir %s JOB)\n", a.command.c_str(), a.command.c_str());
    return false;
  }
  return true;
}

int runAttemptInProcess(const Args& a, const JobPlan& plan, const std::filesystem::path& checkpointDir);

/// weir run --in-process: the job on a LocalExecutor in this process; a failed attempt is
/// followed by another as the job's restart strategy says, from the latest completed
/// checkpoint of this run when the job takes checkpoints, else from the sources (as in
/// the cluster: docs/fault-tolerance.md). A run's checkpoints live in
/// <job folder>/.weir-checkpoints/<name>/run-<pid> and go when the run ends.
int runInProcess(const Args& a, JobPlan plan) {
  installSignalHandlers(2);
  weir::cluster::RestartTracker restarts(weir::cluster::RestartStrategy::fromJson(plan.restart));
  std::filesystem::path checkpoints;
  if (plan.checkpointing())
    checkpoints = plan.baseDir / ".weir-checkpoints" / plan.name / ("run-" + std::to_string(::getpid()));
  struct Cleanup {
    std::filesystem::path dir;
    ~Cleanup() {
      std::error_code ec;
      if (dir.empty()) return;
      std::filesystem::remove_all(dir, ec);
      // .weir-checkpoints/<name> and .weir-checkpoints go too when nothing else is there.
      std::filesystem::remove(dir.parent_path(), ec);
      std::filesystem::remove(dir.parent_path().parent_path(), ec);
    }
  } cleanup{checkpoints};
  for (int attempt = 1;; ++attempt) {
    const std::int64_t startedMs = wallClockMs();
    const int code = runAttemptInProcess(a, plan, checkpoints);
    if (code != kExitFailed || signalsReceived() > 0) return code;
    const auto d = restarts.onFailure(wallClockMs(), startedMs);
    if (!d.restart) {
      if (attempt > 1) std::fprintf(stderr, "weir: no restart: %s\n", d.reason.c_str());
      return code;
    }
    std::fprintf(stderr, "weir: restarting %s in %lld ms (attempt %d)\n", plan.name.c_str(),
                 static_cast<long long>(d.delayMs), attempt + 1);
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(d.delayMs);
    while (std::chrono::steady_clock::now() < until) {
      if (signalsReceived() > 0) return 128 + lastSignal();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
}

/// One attempt of `weir run --in-process`.
int runAttemptInProcess(const Args& a, const JobPlan& plan, const std::filesystem::path& checkpointDir) {
  const bool live = !a.quiet && isatty(STDERR_FILENO);
  const auto start = std::chrono::steady_clock::now();
  if (a.verbose) std::fprintf(stderr, "weir: running %s in this process (--in-process)\n", plan.name.c_str());
  ExecutorOptions options;
  options.checkpointDir = checkpointDir;
  if (!checkpointDir.empty()) {
    std::optional<std::filesystem::path> latest = latestCompletedCheckpoint(checkpointDir);
    if (!latest && !a.fromSavepoint.empty()) latest = a.fromSavepoint;  // before this run's first checkpoint
    if (latest) {
      options.restore = std::make_shared<RestoreSource>(RestoreSource{*latest, readCheckpointMetadata(*latest)});
      if (!a.quiet)
        std::fprintf(stderr, "weir: restoring %s from %s %lld\n", plan.name.c_str(),
                     options.restore->metadata.kind.c_str(), static_cast<long long>(options.restore->metadata.id));
    }
  }
  LocalExecutor job(plan, options);
  job.start();
  ProgressLine progress(start);
  bool interrupted = false;
  std::chrono::steady_clock::time_point canceledAt;
  while (!job.waitFor(std::chrono::milliseconds(live ? 500 : 200))) {
    if (signalsReceived() > 0 && !interrupted) {
      interrupted = true;
      canceledAt = std::chrono::steady_clock::now();
      job.cancel();
    }
    if (interrupted && std::chrono::steady_clock::now() - canceledAt > kCancelGrace) {
      std::fprintf(stderr, "\nweir: job %s did not stop within %lld s of the signal; exiting\n",
                   job.plan().name.c_str(), static_cast<long long>(kCancelGrace.count()));
      _exit(128 + lastSignal());
    }
    if (live) progress.update(job.plan(), job.metrics());
  }
  job.wait();
  progress.clear();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!a.quiet)
    printSummary(job.plan(), job.metrics(), std::string(jobStatusName(job.status())), seconds,
                 job.deadLetterPath(), a.verbose ? "ran in this process (--in-process)" : "");
  switch (job.status()) {
    case JobStatus::Finished: return kExitOk;
    case JobStatus::Failed:
      std::fprintf(stderr, "weir: job %s failed: %s\n", job.plan().name.c_str(),
                   job.failure() ? job.failure()->toString().c_str() : "unknown cause");
      return kExitFailed;
    default:
      std::fprintf(stderr, "weir: job %s was canceled\n", job.plan().name.c_str());
      return interrupted ? 128 + lastSignal() : kExitFailed;
  }
}

int runJob(const Args& a) {
  // Validated here, before any process starts: a refused job prints the same problems
  // whichever runtime would have run it.
  Diagnostics diags;
  auto plan = prepareJob(a.job, a.overrides, diags);
  if (!plan) {
    printDiagnostics(diags, a.job);
    return kExitRefused;
  }
  if (a.inProcess && !a.fromSavepoint.empty()) {
    // The savepoint must fit, node by node (the JobManager checks the same on submit).
    try {
      if (!plan->checkpointing()) throw std::runtime_error("the job takes no checkpoints: add a checkpoint object to restore state");
      const SavepointReport report = checkSavepoint(*plan, readCheckpointMetadata(a.fromSavepoint), a.allowNonRestoredState);
      if (!report.restorable) {
        std::fputs(report.toString().c_str(), stderr);
        std::fprintf(stderr, "weir run: %s cannot start from %s (see above)\n", a.job.c_str(), a.fromSavepoint.c_str());
        return kExitRefused;
      }
    } catch (const std::exception& e) {
      std::fprintf(stderr, "weir run: cannot restore from %s: %s\n", a.fromSavepoint.c_str(), e.what());
      return kExitRefused;
    }
  }
  if (a.inProcess) return runInProcess(a, std::move(*plan));
  return runOnLocalCluster(a, std::move(*plan));
}

int validate(const Args& a) {
  Diagnostics diags;
  auto plan = prepareJob(a.job, a.overrides, diags);
  if (!plan) {
    for (const auto& d : diags) std::fprintf(stderr, "%s\n", d.toString().c_str());
    std::fprintf(stderr, "%s: %zu problem%s\n", a.job.c_str(), diags.size(), diags.size() == 1 ? "" : "s");
    return kExitRefused;
  }
  std::printf("%s: valid: %zu operators, %zu edges\n", a.job.c_str(), plan->nodes.size(), plan->edges.size());
  for (const auto& n : plan->nodes) {
    std::printf("  %-20s %-16s p=%d", n.id.c_str(), n.type.c_str(), n.parallelism);
    if (!n.outputSchemas.empty()) std::printf("  -> %s", n.outputSchemas[0]->toString().c_str());
    std::printf("\n");
  }
  return kExitOk;
}

/// weir preview: previewJob (runtime/preview.h), then per edge a table of its first rows.
int preview(const Args& a) {
  Diagnostics diags;
  auto job = loadJobFile(a.job, diags);
  if (job) applyOverrides(*job, a.overrides, diags);
  if (!job || !diags.empty()) {
    for (const auto& d : diags) std::fprintf(stderr, "%s\n", d.toString().c_str());
    return kExitRefused;
  }
  PreviewOptions o;
  o.rowsPerEdge = a.rows > 0 ? a.rows : 10;
  o.rowsPerSource = std::max(100, o.rowsPerEdge);
  const PreviewResult r = previewJob(*job, o);
  if (a.json) {
    std::printf("%s\n", previewToJson(r).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    auto cell = [](const Value& v) {
      std::string s = v.isNull() ? "null" : v.type() == Type::String ? v.asString() : v.toString();
      if (s.size() > 32) {
        s.resize(31);
        s += '~';
      }
      return s;
    };
    for (const auto& e : r.edges) {
      std::printf("%s.%s -> %s.%s: %lld records%s\n", e.from.c_str(), e.fromPort.c_str(), e.to.c_str(), e.toPort.c_str(),
                  static_cast<long long>(e.records),
                  e.rows.size() < static_cast<std::size_t>(e.records) ? (", first " + std::to_string(e.rows.size())).c_str() : "");
      if (e.rows.empty() || !e.schema) continue;
      std::vector<std::vector<std::string>> table(1);
      table[0].push_back("op");
      for (const auto& f : e.schema->fields()) table[0].push_back(f.name);
      for (const auto& row : e.rows) {
        std::vector<std::string> line{std::string(rowKindName(row.kind))};
        for (const auto& v : row.values) line.push_back(cell(v));
        table.push_back(std::move(line));
      }
      std::vector<std::size_t> width(table[0].size(), 0);
      for (const auto& line : table)
        for (std::size_t c = 0; c < line.size() && c < width.size(); ++c) width[c] = std::max(width[c], line[c].size());
      for (const auto& line : table) {
        std::string out = " ";
        for (std::size_t c = 0; c < line.size() && c < width.size(); ++c)
          out += " " + line[c] + std::string(width[c] - line[c].size(), ' ');
        while (!out.empty() && out.back() == ' ') out.pop_back();
        std::printf("%s\n", out.c_str());
      }
    }
    for (const auto& n : r.nodes)
      if (n.deadLetters > 0) std::fprintf(stderr, "%s: %lld dead letters\n", n.id.c_str(), static_cast<long long>(n.deadLetters));
    if (r.timedOut) std::fprintf(stderr, "preview: stopped after %lld ms\n", static_cast<long long>(o.timeout.count()));
  }
  if (!r.diagnostics.empty()) {
    if (!a.json)
      for (const auto& d : r.diagnostics) std::fprintf(stderr, "%s\n", d.toString().c_str());
    return kExitRefused;
  }
  if (!r.ok) {
    if (!a.json) std::fprintf(stderr, "%s\n", r.error.c_str());
    return kExitFailed;
  }
  return kExitOk;
}

int catalog(const Args& a) {
  if (a.json) {
    std::printf("%s\n", catalogToJson().dump(2).c_str());
    return kExitOk;
  }
  for (const auto& op : Catalog::builtin().operators())
    std::printf("%-18s %-10s %-22s %s\n", op.type.c_str(), std::string(categoryName(op.category)).c_str(),
                op.title.c_str(),
                OperatorRegistry::builtin().find(op.type) ? "" : "(validates; runs in a later version)");
  return kExitOk;
}

// ---- cluster commands (the JobManager's HTTP API, docs/api.md) ------------------------

int submit(const Args& a) {
  Diagnostics diags;
  const auto text = jobTextToSubmit(a, diags);
  if (!text) {
    for (const auto& d : diags) std::fprintf(stderr, "weir submit: %s\n", d.toString().c_str());
    return kExitRefused;
  }
  auto j = api(a, "POST", submitTarget(a), *text);
  if (!j) return kExitRefused;
  std::printf("%s\n", (*j)["id"].get<std::string>().c_str());
  return kExitOk;
}

void printJob(const nlohmann::json& j) {
  std::printf("%s  %s  %s", j.value("id", "").c_str(), j.value("name", "").c_str(), j.value("status", "").c_str());
  if (j.contains("failure")) std::printf("  failure: %s", j["failure"].get<std::string>().c_str());
  if (j.contains("waiting_reason")) std::printf("  (%s)", j["waiting_reason"].get<std::string>().c_str());
  std::printf("\n");
}

int status(const Args& a) {
  // --follow on the JSON output, or a follow that cannot use the WebSocket: the status
  // again every 500 ms, printed when it changes.
  if (a.follow && !a.json) return followStatus(a);
  std::string last;
  for (;;) {
    auto j = api(a, "GET", "/v1/jobs/" + cluster::urlEncode(a.job));
    if (!j) return kExitRefused;
    const std::string st = j->value("status", "");
    if (a.json) {
      std::printf("%s\n", j->dump(2).c_str());
    } else if (!a.follow || st != last) {
      printJob(*j);
      if (j->contains("subtasks"))
        for (const auto& s : (*j)["subtasks"]) {
          const auto& chain = (*j)["chains"][s.value("chain", 0)];
          std::printf("  %-40s %2d/%-2d %-28s %s%s%s\n", chain.value("name", "").c_str(), s.value("subtask", 0),
                      chain.value("parallelism", 1), s.value("taskmanager", "").c_str(), s.value("state", "").c_str(),
                      s.contains("cause") ? ": " : "", s.value("cause", "").c_str());
        }
    }
    std::fflush(stdout);
    last = st;
    const bool ended = st == "FINISHED" || st == "FAILED" || st == "CANCELED";
    if (!a.follow || ended) return st == "FAILED" ? kExitFailed : kExitOk;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
}

int list(const Args& a) {
  auto j = api(a, "GET", "/v1/jobs");
  if (!j) return kExitRefused;
  if (a.json) std::printf("%s\n", j->dump(2).c_str());
  else
    for (const auto& job : (*j)["jobs"]) printJob(job);
  return kExitOk;
}

/// weir checkpoints ID: GET /v1/jobs/{id}/checkpoints as a table (or --json).
int checkpoints(const Args& a) {
  auto j = api(a, "GET", "/v1/jobs/" + cluster::urlEncode(a.job) + "/checkpoints");
  if (!j) return kExitRefused;
  if (a.json) {
    std::printf("%s\n", j->dump(2).c_str());
    return kExitOk;
  }
  const auto& counts = (*j)["counts"];
  std::printf("completed %d  failed %d  in progress %d\n", counts.value("completed", 0), counts.value("failed", 0),
              counts.value("in_progress", 0));
  const auto& sum = (*j)["summary"];
  if (sum["duration_ms"].is_object())
    std::printf("duration ms min/avg/max %lld/%lld/%lld  size bytes min/avg/max %lld/%lld/%lld\n",
                sum["duration_ms"].value("min", 0LL), sum["duration_ms"].value("avg", 0LL),
                sum["duration_ms"].value("max", 0LL), sum["bytes"].value("min", 0LL), sum["bytes"].value("avg", 0LL),
                sum["bytes"].value("max", 0LL));
  if ((*j)["latest"]["restored"].is_object())
    std::printf("restored from checkpoint %lld\n", (*j)["latest"]["restored"].value("id", 0LL));
  std::printf("%6s %7s %-11s %10s %12s  %s\n", "id", "attempt", "status", "duration", "bytes", "failure");
  for (const auto& h : (*j)["history"]) {
    const std::string duration = h["duration_ms"].is_number() ? std::to_string(h["duration_ms"].get<long long>()) + " ms" : "-";
    std::printf("%6lld %7d %-11s %10s %12lld  %s\n", h.value("id", 0LL), h.value("attempt", 0),
                h.value("status", "").c_str(), duration.c_str(), h.value("bytes", 0LL),
                h["failure"].is_string() ? h["failure"].get<std::string>().c_str() : "");
  }
  return kExitOk;
}

/// Waits until checkpoint `id` of job `job` has ended; its history entry (null: the
/// JobManager could not be asked).
std::optional<nlohmann::json> awaitCheckpoint(const Args& a, std::int64_t id) {
  for (;;) {
    auto j = api(a, "GET", "/v1/jobs/" + cluster::urlEncode(a.job) + "/checkpoints");
    if (!j) return std::nullopt;
    for (const auto& h : (*j)["history"])
      if (h.value("id", std::int64_t{-1}) == id && h.value("status", "") != "IN_PROGRESS") return h;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

/// weir savepoint ID / weir stop ID --savepoint.
int savepointCommand(const Args& a) {
  const bool stop = a.command == "stop";
  if (stop && !a.savepoint) {
    std::fprintf(stderr, "weir stop: only --savepoint is supported (weir cancel stops a job without one)\n");
    return kExitRefused;
  }
  auto j = api(a, "POST", "/v1/jobs/" + cluster::urlEncode(a.job) + (stop ? "/stop" : "/savepoints"),
               stop ? R"({"savepoint": true})" : "");
  if (!j) return kExitRefused;
  const std::int64_t id = j->value("savepoint", std::int64_t{-1});
  auto h = awaitCheckpoint(a, id);
  if (!h) return kExitRefused;
  if (h->value("status", "") != "COMPLETED") {
    std::fprintf(stderr, "weir %s: savepoint %lld failed: %s\n", a.command.c_str(), static_cast<long long>(id),
                 (*h)["failure"].is_string() ? (*h)["failure"].get<std::string>().c_str() : "unknown cause");
    return kExitFailed;
  }
  std::printf("%s\n", h->value("path", "").c_str());
  return kExitOk;
}

/// weir savepoint check JOB SAVEPOINT: the report of runtime/savepoint_check.h; exit 0 when
/// the job can start from it, 2 when not.
int savepointCheck(const Args& a) {
  Diagnostics diags;
  auto plan = prepareJob(a.extra, a.overrides, diags);
  if (!plan) {
    printDiagnostics(diags, a.extra);
    return kExitRefused;
  }
  CheckpointMetadata meta;
  try {
    meta = readCheckpointMetadata(a.savepointPath);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "weir savepoint check: %s\n", e.what());
    return kExitRefused;
  }
  const SavepointReport report = checkSavepoint(*plan, meta, a.allowNonRestoredState);
  std::fputs(report.toString().c_str(), stdout);
  if (!report.restorable) {
    std::fprintf(stderr, "weir savepoint check: %s cannot start from %s (see above)\n", a.extra.c_str(),
                 a.savepointPath.c_str());
    return kExitRefused;
  }
  return kExitOk;
}

int cancelJob(const Args& a) {
  auto j = api(a, "POST", "/v1/jobs/" + cluster::urlEncode(a.job) + "/cancel");
  if (!j) return kExitRefused;
  printJob(*j);
  return kExitOk;
}

// ---- weir cluster start/stop/status ----------------------------------------------------

int clusterStart(const Args& a) {
  if (auto running = runningLocalCluster(a)) {
    std::fprintf(stderr, "weir cluster start: a local cluster is already running at %s (weir cluster stop ends it)\n",
                 running->url().c_str());
    return kExitRefused;
  }
  cluster::LocalClusterOptions o;
  o.taskManagers = a.taskManagers.value_or(2);
  o.slotsPerTaskManager = a.slots.value_or(2);
  o.dataDir = clusterDir(a);
  o.apiPort = a.apiPort;
  o.secretFile = a.secretFile;
  if (!a.tlsCert.empty() || !a.tlsKey.empty()) {
    if (a.tlsCert.empty() || a.tlsKey.empty() || a.tlsCa.empty()) {
      std::fprintf(stderr, "weir cluster start: TLS needs all of --tls-cert, --tls-key and --tls-ca\n");
      return kExitRefused;
    }
    o.tlsCert = a.tlsCert;
    o.tlsKey = a.tlsKey;
    o.tlsCa = a.tlsCa;
  }
  o.dieWithParent = false;  // the cluster outlives this command
  auto c = cluster::LocalCluster::start(o);
  c.detach();
  writeFileAtomically(clusterStateFile(a), c.toJson().dump(2) + "\n");
  std::printf("%s\n", c.url().c_str());
  std::fprintf(stderr, "weir: local cluster started: a JobManager and %d TaskManagers with %d slots each\n"
               "      API %s, logs in %s\n"
               "      weir submit JOB  /  weir list  /  weir logs  /  weir cluster stop\n",
               o.taskManagers, o.slotsPerTaskManager, c.url().c_str(), (c.dataDir() / "logs").c_str());
  return kExitOk;
}

int clusterStop(const Args& a) {
  auto c = runningLocalCluster(a);
  std::error_code ec;
  if (!c) {
    std::filesystem::remove(clusterStateFile(a), ec);
    std::fprintf(stderr, "weir cluster stop: no local cluster is running (%s)\n", clusterDir(a).c_str());
    return kExitOk;
  }
  const int n = c->alive();
  const bool clean = c->stop();
  std::filesystem::remove(clusterStateFile(a), ec);
  std::fprintf(stderr, "weir: stopped the local cluster at %s (%d processes%s)\n", c->url().c_str(), n,
               clean ? "" : "; some had to be killed");
  return kExitOk;
}

int clusterStatus(const Args& a) {
  auto c = runningLocalCluster(a);
  if (!c) {
    std::fprintf(stderr, "weir cluster status: no local cluster is running (%s)\n", clusterDir(a).c_str());
    return kExitFailed;
  }
  std::printf("%s\n", c->url().c_str());
  for (const auto& p : c->processes())
    std::printf("  %-16s pid %-8d %-8s %s\n", p.name.c_str(), static_cast<int>(p.pid),
                ::kill(p.pid, 0) == 0 ? "running" : "ended", p.log.c_str());
  return kExitOk;
}

int clusterCommand(const Args& a) {
  if (a.job == "start") return clusterStart(a);
  if (a.job == "stop") return clusterStop(a);
  return clusterStatus(a);
}

// ---- weir logs ---------------------------------------------------------------------------

/// The tail of a daemon's log of the cluster `weir cluster start` started: the state file
/// names each process and its log (the state file stays after the processes ended, until
/// `weir cluster stop`, so the logs of a crashed cluster can still be read).
int logs(const Args& a) {
  const std::string name = a.job.empty() ? "jobmanager" : a.job;
  if (!a.jobmanager.empty()) {
    // A JobManager anywhere serves its own recent lines (GET /v1/logs); a TaskManager's
    // log is a file on its machine.
    if (name != "jobmanager") {
      std::fprintf(stderr, "weir logs: --jobmanager serves the JobManager's own log only; read %s's log file "
                   "on its machine\n", name.c_str());
      return kExitRefused;
    }
    if (a.follow) {
      std::fprintf(stderr, "weir logs: --follow reads the log files of a local cluster, not --jobmanager\n");
      return kExitRefused;
    }
    auto j = api(a, "GET", "/v1/logs?lines=" + std::to_string(a.lines));
    if (!j) return kExitRefused;
    for (const auto& l : j->value("lines", nlohmann::json::array())) std::printf("%s\n", l.get<std::string>().c_str());
    return kExitOk;
  }
  std::ifstream in(clusterStateFile(a));
  const auto j = in ? nlohmann::json::parse(in, nullptr, false) : nlohmann::json();
  if (!j.is_object() || !j.contains("processes")) {
    std::fprintf(stderr, "weir logs: no local cluster in %s (weir cluster start starts one)\n", clusterDir(a).c_str());
    return kExitFailed;
  }
  std::filesystem::path log;
  std::string names;
  for (const auto& p : j.at("processes")) {
    const std::string n = p.value("name", "");
    names += (names.empty() ? "" : ", ") + n;
    if (n == name) log = p.value("log", "");
  }
  if (log.empty()) {
    std::fprintf(stderr, "weir logs: no process '%s' in the local cluster (%s)\n", name.c_str(), names.c_str());
    return kExitRefused;
  }
  std::ifstream file(log, std::ios::binary);
  if (!file) {
    std::fprintf(stderr, "weir logs: cannot read %s\n", log.c_str());
    return kExitFailed;
  }
  // The last N lines: read the whole file (logs of a local cluster are small) keeping a ring.
  std::vector<std::string> ring(static_cast<std::size_t>(std::max(a.lines, 0)));
  std::size_t count = 0;
  for (std::string line; std::getline(file, line);) {
    if (!ring.empty()) ring[count % ring.size()] = std::move(line);
    ++count;
  }
  const std::size_t shown = std::min(count, ring.size());
  for (std::size_t i = count - shown; i < count; ++i) std::printf("%s\n", ring[i % ring.size()].c_str());
  std::fflush(stdout);
  if (!a.follow) return kExitOk;
  // --follow: what is appended from here on, until interrupted.
  installSignalHandlers(1);
  file.clear();
  for (;;) {
    std::string line;
    if (std::getline(file, line)) {
      if (file.eof()) {  // a partial line: wait for its end
        file.clear();
        file.seekg(-static_cast<std::streamoff>(line.size()), std::ios::cur);
      } else {
        std::printf("%s\n", line.c_str());
        std::fflush(stdout);
        continue;
      }
    } else {
      file.clear();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

}  // namespace
}  // namespace weir::cli

int main(int argc, char** argv) {
  using namespace weir::cli;
  Args a;
  if (!parseArgs(argc, argv, a)) {
    usage(stderr);
    return kExitRefused;
  }
  try {
    if (a.command == "run") return runJob(a);
    if (a.command == "validate") return validate(a);
    if (a.command == "preview") return preview(a);
    if (a.command == "catalog") return catalog(a);
    if (a.command == "submit") return submit(a);
    if (a.command == "status") return status(a);
    if (a.command == "list") return list(a);
    if (a.command == "cancel") return cancelJob(a);
    if (a.command == "checkpoints") return checkpoints(a);
    if (a.command == "savepoint" && a.job == "check") return savepointCheck(a);
    if (a.command == "savepoint" || a.command == "stop") return savepointCommand(a);
    if (a.command == "cluster") return clusterCommand(a);
    if (a.command == "logs") return logs(a);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "weir: %s\n", e.what());
    return kExitFailed;
  }
  std::fprintf(stderr, "weir: unknown command '%s'\n", a.command.c_str());
  usage(stderr);
  return kExitRefused;
}
