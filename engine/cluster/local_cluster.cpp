#include "cluster/local_cluster.h"

#include <csignal>
#include <deque>
#include <fstream>
#include <stdexcept>
#include <thread>

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cluster/daemon_args.h"
#include "cluster/http_client.h"

namespace weir::cluster {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

fs::path programDir() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::current_path() : exe.parent_path();
}

std::string logTail(const fs::path& file, int lines) {
  std::ifstream in(file);
  std::deque<std::string> last;
  for (std::string line; std::getline(in, line);) {
    last.push_back(line);
    if (static_cast<int>(last.size()) > lines) last.pop_front();
  }
  std::string out;
  for (const auto& l : last) out += "  " + l + "\n";
  return out;
}

namespace {

bool processAlive(pid_t pid) {
  if (pid <= 0) return false;
  int status = 0;
  const pid_t r = ::waitpid(pid, &status, WNOHANG);
  if (r == pid) return false;     // our child, and it just ended (now reaped)
  if (r == 0) return true;        // our child, still running
  if (::kill(pid, 0) != 0) return false;  // not our child (ECHILD): ask the kernel
  // A zombie (ended, not yet reaped by its new parent) has ended: state Z after "(name) ".
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  const auto close = line.rfind(')');
  return !(close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'Z');
}

/// fork + exec with stdout/stderr to `log` (stdout inherited when forwardStdout). Every
/// allocation happens before fork: the child only calls async-signal-safe functions.
pid_t spawn(const fs::path& program, const std::vector<std::string>& args, const fs::path& log,
            const LocalClusterOptions& o) {
  std::vector<std::string> all{program.string()};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot open log file " + log.string());
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fd);
    throw std::runtime_error("cannot start " + program.string() + ": fork failed");
  }
  if (pid == 0) {
    if (o.newSession) ::setsid();
    if (o.dieWithParent) {
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (::getppid() != parent) _exit(1);  // the parent is already gone
    }
    const int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, 0);
    if (!o.forwardStdout) ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::execv(argv[0], argv.data());
    const char msg[] = "exec failed\n";
    [[maybe_unused]] auto n = ::write(2, msg, sizeof msg - 1);
    _exit(127);
  }
  ::close(fd);
  return pid;
}

}  // namespace

LocalCluster LocalCluster::start(const LocalClusterOptions& o, std::chrono::milliseconds timeout) {
  const fs::path bin = o.binDir.empty() ? programDir() : o.binDir;
  for (const char* name : {"weir-jobmanager", "weir-taskmanager"})
    if (::access((bin / name).c_str(), X_OK) != 0)
      throw std::runtime_error("cannot start the local cluster: " + (bin / name).string() + " is not an executable");
  LocalCluster c;
  c.dataDir_ = fs::absolute(o.dataDir.empty() ? fs::path("weir-data") : o.dataDir);
  fs::create_directories(c.dataDir_ / "logs");
  const fs::path portsFile = c.dataDir_ / "jobmanager.ports.json";
  fs::remove(portsFile);
  const auto deadline = Clock::now() + timeout;

  auto fail = [&](const ClusterProcess& p, const std::string& what) {
    const std::string tail = logTail(p.log);
    c.stop(std::chrono::seconds(2));
    throw std::runtime_error(p.name + " " + what + " (log " + p.log.string() + ")" +
                             (tail.empty() ? "" : ":\n" + tail));
  };
  auto common = [&](std::vector<std::string> args) {
    if (!o.secretFile.empty()) args.insert(args.end(), {"--secret-file", fs::absolute(o.secretFile).string()});
    if (!o.tlsCert.empty())
      args.insert(args.end(), {"--tls-cert", fs::absolute(o.tlsCert).string(), "--tls-key",
                               fs::absolute(o.tlsKey).string(), "--tls-ca", fs::absolute(o.tlsCa).string()});
    return args;
  };

  std::vector<std::string> jmArgs{"--bind",     "127.0.0.1",
                                  "--rpc-port", std::to_string(o.rpcPort),
                                  "--api-port", std::to_string(o.apiPort),
                                  "--data-dir", c.dataDir_.string(),
                                  "--ports-file", portsFile.string()};
  if (o.heartbeatTimeoutMs > 0) jmArgs.insert(jmArgs.end(), {"--heartbeat-timeout-ms", std::to_string(o.heartbeatTimeoutMs)});
  ClusterProcess jm{"jobmanager", "jobmanager", 0, c.dataDir_ / "logs" / "jobmanager.log"};
  jm.pid = spawn(bin / "weir-jobmanager", common(jmArgs), jm.log, o);
  c.processes_.push_back(jm);

  nlohmann::json ports;
  for (;;) {
    std::ifstream in(portsFile);
    if (in) {
      ports = nlohmann::json::parse(in, nullptr, false);
      if (ports.is_object()) break;
    }
    if (!processAlive(jm.pid)) fail(jm, "ended while starting");
    if (Clock::now() > deadline) fail(jm, "did not start listening in time");
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  c.rpcPort_ = ports.at("rpc_port").get<int>();
  if (!o.tlsCa.empty()) c.tlsCa_ = fs::absolute(o.tlsCa);
  c.url_ = std::string(o.tlsCert.empty() ? "http" : "https") + "://127.0.0.1:" +
           std::to_string(ports.at("api_port").get<int>());

  for (int i = 1; i <= o.taskManagers; ++i) {
    ClusterProcess tm{"taskmanager", "taskmanager-" + std::to_string(i), 0,
                      c.dataDir_ / "logs" / ("taskmanager-" + std::to_string(i) + ".log")};
    tm.pid = spawn(bin / "weir-taskmanager",
                   common({"--jobmanager", "127.0.0.1:" + std::to_string(c.rpcPort_), "--slots", std::to_string(o.slotsPerTaskManager),
                           "--bind", o.taskManagerHosts.empty() ? std::string("127.0.0.1")
                                                                  : o.taskManagerHosts[(i - 1) % o.taskManagerHosts.size()],
                           "--name", tm.name, "--data-dir", (c.dataDir_ / tm.name).string()}),
                   tm.log, o);
    c.processes_.push_back(tm);
  }

  const std::string token = clusterSecret(o.secretFile);
  for (;;) {
    for (const auto& p : c.processes_)
      if (!processAlive(p.pid)) fail(p, "ended while the cluster was starting");
    try {
      const auto r = httpRequest(c.url_, "GET", "/v1/overview", "", token, o.tlsCa);
      const auto j = nlohmann::json::parse(r.body, nullptr, false);
      if (r.status == 200 && j.is_object() && j.value("taskmanagers", 0) >= o.taskManagers) break;
    } catch (const std::exception&) {
      // not answering yet
    }
    if (Clock::now() > deadline) fail(c.processes_.back(), "did not register with the JobManager in time");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return c;
}

LocalCluster LocalCluster::fromJson(const nlohmann::json& j) {
  LocalCluster c;
  c.owned_ = false;
  c.url_ = j.at("url").get<std::string>();
  c.rpcPort_ = j.value("rpc_port", 0);
  c.dataDir_ = j.value("data_dir", "");
  c.tlsCa_ = j.value("tls_ca", "");
  for (const auto& p : j.at("processes"))
    c.processes_.push_back({p.at("role").get<std::string>(), p.at("name").get<std::string>(), p.at("pid").get<pid_t>(),
                            p.value("log", "")});
  return c;
}

nlohmann::json LocalCluster::toJson() const {
  nlohmann::json procs = nlohmann::json::array();
  for (const auto& p : processes_)
    procs.push_back({{"role", p.role}, {"name", p.name}, {"pid", p.pid}, {"log", p.log.string()}});
  return {{"url", url_}, {"rpc_port", rpcPort_}, {"data_dir", dataDir_.string()},
          {"tls_ca", tlsCa_.string()}, {"processes", procs}};
}

LocalCluster::LocalCluster(LocalCluster&& o) noexcept
    : url_(std::move(o.url_)), rpcPort_(o.rpcPort_), dataDir_(std::move(o.dataDir_)), tlsCa_(std::move(o.tlsCa_)),
      processes_(std::move(o.processes_)), owned_(o.owned_) {
  o.processes_.clear();
  o.owned_ = false;
}

LocalCluster& LocalCluster::operator=(LocalCluster&& o) noexcept {
  if (this != &o) {
    if (owned_) stop();
    url_ = std::move(o.url_);
    rpcPort_ = o.rpcPort_;
    dataDir_ = std::move(o.dataDir_);
    tlsCa_ = std::move(o.tlsCa_);
    processes_ = std::move(o.processes_);
    owned_ = o.owned_;
    o.processes_.clear();
    o.owned_ = false;
  }
  return *this;
}

LocalCluster::~LocalCluster() {
  if (owned_) stop();
}

int LocalCluster::alive() const {
  int n = 0;
  for (const auto& p : processes_) n += processAlive(p.pid);
  return n;
}

bool LocalCluster::stop(std::chrono::milliseconds grace) {
  bool clean = true;
  // TaskManagers first, so the JobManager sees them leave rather than lose them.
  for (const char* role : {"taskmanager", "jobmanager"}) {
    std::vector<pid_t> group;
    for (const auto& p : processes_)
      if (p.role == role && processAlive(p.pid)) {
        ::kill(p.pid, SIGTERM);
        group.push_back(p.pid);
      }
    const auto deadline = Clock::now() + grace;
    for (;;) {
      bool any = false;
      for (pid_t pid : group) any = any || processAlive(pid);
      if (!any) break;
      if (Clock::now() > deadline) {
        clean = false;
        for (pid_t pid : group)
          if (processAlive(pid)) ::kill(pid, SIGKILL);
        for (pid_t pid : group) ::waitpid(pid, nullptr, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  return clean;
}

}  // namespace weir::cluster
