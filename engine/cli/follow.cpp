// weir status ID --follow: a live view of a running job, one row per operator, from the
// JobManager's WebSocket /v1/jobs/{id}/live (docs/api.md), refreshed once a second:
// records/s in and out (sum over the subtasks), busy and backpressured % (the most of any
// subtask), the lowest input watermark and its lag behind the JobManager's clock. On a
// terminal the block is redrawn in place; otherwise (a pipe, a file, a test) one block is
// printed per second, separated by a blank line. It ends with the job's final status line;
// exit 0 when the job finished or was canceled, 1 when it failed.

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <limits>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "cluster/http_client.h"

namespace weir::cli {

namespace {

using json = nlohmann::json;

/// 1500 -> "1.5 s", 90000 -> "1m30s", 200000000 -> "2d07h"
std::string duration(double ms) {
  char buf[32];
  const double s = ms / 1000;
  if (s < 60) std::snprintf(buf, sizeof buf, "%.1f s", s);
  else if (s < 3600) std::snprintf(buf, sizeof buf, "%dm%02ds", static_cast<int>(s / 60), static_cast<int>(s) % 60);
  else if (s < 86400) std::snprintf(buf, sizeof buf, "%dh%02dm", static_cast<int>(s / 3600), static_cast<int>(s / 60) % 60);
  else std::snprintf(buf, sizeof buf, "%dd%02dh", static_cast<int>(s / 86400), static_cast<int>(s / 3600) % 24);
  return buf;
}

/// Milliseconds since the epoch as "2026-05-01T10:00:00.000Z".
std::string isoTime(std::int64_t ms) {
  const std::time_t secs = static_cast<std::time_t>(std::floor(static_cast<double>(ms) / 1000));
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(((ms % 1000) + 1000) % 1000));
  return buf;
}

double number(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : 0.0;
}

}  // namespace

std::string liveView(const json& m, const std::string& jobName, double elapsedSeconds) {
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line, "%s  %s  %s  %.0f s\n", m.value("job", "").c_str(), jobName.c_str(),
                m.value("status", "").c_str(), elapsedSeconds);
  out += line;
  std::snprintf(line, sizeof line, "  %-20s %3s %11s %11s %6s %7s  %-24s %9s\n", "operator", "p", "in rec/s", "out rec/s",
                "busy", "backpr", "watermark", "lag");
  out += line;
  const auto now = m.value("time_ms", std::int64_t(0));
  for (const auto& v : m.value("vertices", json::array())) {
    const auto& wm = v.contains("watermark") ? v.at("watermark") : json();
    std::string watermark = "-", lag = "-";
    if (wm.is_number()) {
      const auto w = wm.get<std::int64_t>();
      if (w == std::numeric_limits<std::int64_t>::max()) {
        watermark = "end of input";  // the final watermark: every input has ended
      } else {
        watermark = isoTime(w);
        lag = duration(static_cast<double>(now - w));
      }
    }
    std::snprintf(line, sizeof line, "  %-20s %3d %11s %11s %5.0f%% %6.0f%%  %-24s %9s\n",
                  v.value("node", "").c_str(), v.value("parallelism", 0),
                  rate(number(v, "records_in_per_s")).c_str(), rate(number(v, "records_out_per_s")).c_str(),
                  number(v, "busy_ms_per_s_max") / 10.0, number(v, "backpressured_ms_per_s_max") / 10.0,
                  watermark.c_str(), lag.c_str());
    out += line;
  }
  return out;
}

int followStatus(const Args& a) {
  // The job's name (the live messages do not carry it) and whether it exists: 404 here
  // reads as it does without --follow.
  auto job = api(a, "GET", "/v1/jobs/" + cluster::urlEncode(a.job));
  if (!job) return kExitRefused;
  const std::string name = job->value("name", "");
  const bool tty = isatty(STDOUT_FILENO);
  cluster::WebSocketClient ws(a.jobmanager, "/v1/jobs/" + cluster::urlEncode(a.job) + "/live", secretOf(a),
                              std::chrono::seconds(30), a.tlsCa);
  const auto start = std::chrono::steady_clock::now();
  auto lastDrawn = start - std::chrono::seconds(2);
  int drawnLines = 0;  // lines of the block on the terminal, to redraw over
  json latest, final;
  auto draw = [&](const json& m) {
    const std::string block =
        liveView(m, name, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    if (tty) {
      if (drawnLines > 0) std::printf("\033[%dA\033[J", drawnLines);
      drawnLines = 0;
      for (char c : block) drawnLines += c == '\n';
      std::fputs(block.c_str(), stdout);
    } else {
      std::printf("%s%s", lastDrawn > start ? "\n" : "", block.c_str());
    }
    std::fflush(stdout);
    lastDrawn = std::chrono::steady_clock::now();
  };
  while (final.is_null()) {
    auto msg = ws.next(std::chrono::milliseconds(250));
    if (!msg) {
      if (ws.closed()) break;
    } else {
      auto j = json::parse(*msg, nullptr, false);
      if (!j.is_object()) continue;
      if (j.value("type", "") == "metrics") latest = std::move(j);
      else if (j.value("type", "") == "status") final = std::move(j);
    }
    if (!latest.is_null() && final.is_null() && std::chrono::steady_clock::now() - lastDrawn >= std::chrono::seconds(1)) {
      draw(latest);
      latest = json();
    }
  }
  ws.close();
  if (!latest.is_null()) draw(latest);  // the job's final figures
  if (final.is_null()) {
    // The connection ended without the job's end (the JobManager went away).
    std::fprintf(stderr, "weir status: the live connection ended before the job did: %s\n", ws.closeReason().c_str());
    return kExitFailed;
  }
  const std::string st = final.value("status", "");
  std::printf("%s  %s  %s", a.job.c_str(), final.value("name", name).c_str(), st.c_str());
  if (final.contains("failure")) std::printf("  failure: %s", final["failure"].get<std::string>().c_str());
  std::printf("\n");
  return st == "FAILED" ? kExitFailed : kExitOk;
}

}  // namespace weir::cli
