#pragma once
// The JobManager's metadata in SQLite (DIR/metadata.sqlite, WAL mode): submitted job
// versions (the job file), runs with their status transitions and times, TaskManagers
// seen, exceptions. Schema version 1 (table schema_version); migrations apply in order
// when a newer JobManager opens an older file. docs/operations.md lists the tables.
//
// Threading: one thread at a time (the JobManager's io thread). Write errors are logged
// and never stop the JobManager: the metadata records what happened, it does not decide it.

#include <cstdint>
#include <filesystem>
#include <string>

struct sqlite3;

namespace weir::cluster {

class Metadata {
 public:
  /// Opens or creates the database; throws std::runtime_error when it cannot.
  explicit Metadata(const std::filesystem::path& file);
  ~Metadata();
  Metadata(const Metadata&) = delete;
  Metadata& operator=(const Metadata&) = delete;

  void jobSubmitted(const std::string& jobId, const std::string& name, const std::string& jobFile,
                    const std::string& baseDir);
  void runStatus(const std::string& jobId, const std::string& status);
  void exception(const std::string& jobId, const std::string& message);
  void taskManagerSeen(const std::string& name, int slots, const std::string& dataAddress);
  void taskManagerLost(const std::string& name, const std::string& reason);
  int schemaVersion() const;

 private:
  void exec(const char* sql);
  void run(const char* sql, std::initializer_list<std::string> args);
  sqlite3* db_ = nullptr;
};

}  // namespace weir::cluster
