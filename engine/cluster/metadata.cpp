#include "cluster/metadata.h"

#include <sqlite3.h>

#include <chrono>
#include <stdexcept>

#include "cluster/control.h"

namespace weir::cluster {
namespace {

constexpr int kSchemaVersion = 1;

std::int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Migration i brings the schema from version i to i+1.
const char* const kMigrations[] = {
    R"(CREATE TABLE jobs (id TEXT PRIMARY KEY, name TEXT NOT NULL, submitted_ms INTEGER NOT NULL,
                          base_dir TEXT NOT NULL);
       CREATE TABLE job_versions (job_id TEXT NOT NULL REFERENCES jobs(id), version INTEGER NOT NULL,
                                  job_file TEXT NOT NULL, created_ms INTEGER NOT NULL,
                                  PRIMARY KEY (job_id, version));
       CREATE TABLE runs (job_id TEXT NOT NULL REFERENCES jobs(id), run INTEGER NOT NULL, status TEXT NOT NULL,
                          started_ms INTEGER, ended_ms INTEGER, PRIMARY KEY (job_id, run));
       CREATE TABLE run_transitions (job_id TEXT NOT NULL, run INTEGER NOT NULL, status TEXT NOT NULL,
                                     at_ms INTEGER NOT NULL);
       CREATE TABLE taskmanagers (name TEXT PRIMARY KEY, slots INTEGER NOT NULL, data_address TEXT NOT NULL,
                                  first_seen_ms INTEGER NOT NULL, last_seen_ms INTEGER NOT NULL,
                                  lost_ms INTEGER, lost_reason TEXT);
       CREATE TABLE exceptions (job_id TEXT NOT NULL, run INTEGER NOT NULL, at_ms INTEGER NOT NULL,
                                message TEXT NOT NULL);)",
};

}  // namespace

Metadata::Metadata(const std::filesystem::path& file) {
  std::filesystem::create_directories(file.parent_path());
  if (sqlite3_open(file.c_str(), &db_) != SQLITE_OK) {
    std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw std::runtime_error("cannot open " + file.string() + ": " + why);
  }
  sqlite3_busy_timeout(db_, 2000);
  exec("PRAGMA journal_mode=WAL");
  exec("PRAGMA synchronous=NORMAL");
  exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
  int v = schemaVersion();
  if (v > kSchemaVersion)
    throw std::runtime_error(file.string() + " has schema version " + std::to_string(v) +
                             ", newer than this JobManager's " + std::to_string(kSchemaVersion));
  for (; v < kSchemaVersion; ++v) {
    exec("BEGIN");
    exec(kMigrations[v]);
    exec("DELETE FROM schema_version");
    run("INSERT INTO schema_version (version) VALUES (?)", {std::to_string(v + 1)});
    exec("COMMIT");
  }
}

Metadata::~Metadata() { sqlite3_close(db_); }

int Metadata::schemaVersion() const {
  sqlite3_stmt* st = nullptr;
  int v = 0;
  if (sqlite3_prepare_v2(db_, "SELECT version FROM schema_version", -1, &st, nullptr) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    v = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  return v;
}

void Metadata::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string why = err ? err : "?";
    sqlite3_free(err);
    throw std::runtime_error("metadata: " + why);
  }
}

void Metadata::run(const char* sql, std::initializer_list<std::string> args) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_, sql, -1, &st, nullptr) != SQLITE_OK) {
    logLine("error", "metadata", sqlite3_errmsg(db_));
    return;
  }
  int i = 1;
  for (const auto& a : args) sqlite3_bind_text(st, i++, a.c_str(), static_cast<int>(a.size()), SQLITE_TRANSIENT);
  if (sqlite3_step(st) != SQLITE_DONE) logLine("error", "metadata", sqlite3_errmsg(db_));
  sqlite3_finalize(st);
}

void Metadata::jobSubmitted(const std::string& jobId, const std::string& name, const std::string& jobFile,
                            const std::string& baseDir) {
  const std::string now = std::to_string(nowMs());
  run("INSERT INTO jobs (id, name, submitted_ms, base_dir) VALUES (?, ?, ?, ?)", {jobId, name, now, baseDir});
  run("INSERT INTO job_versions (job_id, version, job_file, created_ms) VALUES (?, 1, ?, ?)", {jobId, jobFile, now});
  run("INSERT INTO runs (job_id, run, status) VALUES (?, 1, 'CREATED')", {jobId});
  run("INSERT INTO run_transitions (job_id, run, status, at_ms) VALUES (?, 1, 'CREATED', ?)", {jobId, now});
}

void Metadata::runStatus(const std::string& jobId, const std::string& status) {
  const std::string now = std::to_string(nowMs());
  run("INSERT INTO run_transitions (job_id, run, status, at_ms) VALUES (?, 1, ?, ?)", {jobId, status, now});
  if (status == "RUNNING")
    run("UPDATE runs SET status = ?, started_ms = ? WHERE job_id = ? AND run = 1", {status, now, jobId});
  else if (status == "FINISHED" || status == "FAILED" || status == "CANCELED")
    run("UPDATE runs SET status = ?, ended_ms = ? WHERE job_id = ? AND run = 1", {status, now, jobId});
  else
    run("UPDATE runs SET status = ? WHERE job_id = ? AND run = 1", {status, jobId});
}

void Metadata::exception(const std::string& jobId, const std::string& message) {
  run("INSERT INTO exceptions (job_id, run, at_ms, message) VALUES (?, 1, ?, ?)",
      {jobId, std::to_string(nowMs()), message});
}

void Metadata::taskManagerSeen(const std::string& name, int slots, const std::string& dataAddress) {
  const std::string now = std::to_string(nowMs());
  run("INSERT INTO taskmanagers (name, slots, data_address, first_seen_ms, last_seen_ms) VALUES (?, ?, ?, ?, ?) "
      "ON CONFLICT(name) DO UPDATE SET slots = excluded.slots, data_address = excluded.data_address, "
      "last_seen_ms = excluded.last_seen_ms, lost_ms = NULL, lost_reason = NULL",
      {name, std::to_string(slots), dataAddress, now, now});
}

void Metadata::taskManagerLost(const std::string& name, const std::string& reason) {
  run("UPDATE taskmanagers SET lost_ms = ?, lost_reason = ? WHERE name = ?", {std::to_string(nowMs()), reason, name});
}

}  // namespace weir::cluster
