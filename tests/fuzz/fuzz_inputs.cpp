// Fuzz body for what the daemons and the CLI read from outside besides frames (issue 18,
// docs/security.md): the first byte chooses what the rest is fed to.
//   0 mod 4: a job file: parseJob (the one bounded JSON parse), then validateJob and the
//            job written back (jobToJson), which must parse again.
//   1 mod 4: a control message: parseJsonBounded, then what a TaskManager does with a
//            deploy's plan (planFromJson) and the JobManager with a register
//            (registerProblem); errors are values or exceptions, never a crash.
//   2 mod 4: a CSV file, 3 mod 4: a JSON Lines file, read with a buffer size taken from the
//            input and a small record bound: the reader ends, at the file's end, and every
//            line that is not blank is a row or a dead letter.
// Any crash, sanitizer report or failed check is a bug.

#include "fuzz_target.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "cluster/control_messages.h"
#include "cluster/plan_json.h"
#include "core/job.h"
#include "core/json_limits.h"
#include "core/validate.h"
#include "runtime/io/reader.h"

namespace weir::fuzz {

const char* const kTargetName = "fuzz_inputs";

namespace {

void check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "fuzz_inputs: check failed: %s\n", what);
  std::abort();
}

void job(std::string_view text) {
  Diagnostics diags;
  auto graph = parseJob(text, "fuzz", diags);
  if (!graph) return;
  Diagnostics more;
  (void)validateJob(*graph, more);
  const std::string back = formatJob(*graph);
  Diagnostics again;
  check(parseJob(back, "fuzz", again).has_value(), "a parsed job written back parses again");
}

void control(std::string_view text) {
  const nlohmann::json j = parseJsonBounded(text);
  if (j.is_discarded() || !j.is_object()) return;
  (void)dumpJson(j);
  (void)cluster::registerProblem(j);
  if (auto plan = j.find("plan"); plan != j.end()) {
    try {
      (void)cluster::planFromJson(*plan);
    } catch (const std::exception&) {
    }
  }
}

/// One memory file reused by every run (the readers take a path).
const std::string& memoryFile() {
  static const std::string path = [] {
    const int fd = ::memfd_create("fuzz_inputs", 0);
    check(fd >= 0, "memfd_create");
    return "/proc/self/fd/" + std::to_string(fd);
  }();
  return path;
}

void read(FileFormat format, std::string_view bytes, std::size_t bufferBytes) {
  const std::string& path = memoryFile();
  std::FILE* f = std::fopen(path.c_str(), "w");
  check(f != nullptr, "open the memory file");
  std::fwrite(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
  auto schema = makeSchema({{"id", Type::Int64}, {"name", Type::String}, {"price", Type::Double},
                            {"ts", Type::Timestamp}});
  ReaderOptions o;
  o.bufferBytes = bufferBytes;
  o.maxRecordBytes = 4096;
  o.header = !bytes.empty() && (bytes[0] & 1);
  std::size_t rows = 0, dead = 0;
  try {
    auto reader = makeReader(format, schema, FileSplit{path, 0, static_cast<std::int64_t>(bytes.size()), 0, 0}, o,
                             [&](const DeadLetter&) { ++dead; });
    BatchBuilder b(schema);
    std::size_t calls = 0;
    while (reader->read(b, 64) != ReadStatus::End) {
      rows += b.finish().numRows();
      check(++calls <= bytes.size() + 2, "the reader ends");
    }
    rows += b.finish().numRows();
    check(reader->position().offset == static_cast<std::int64_t>(bytes.size()), "the reader ends at the end");
  } catch (const JobError&) {
    return;  // a record longer than the bound without a line end in it
  }
  // Every record read is a row or a dead letter; records never outnumber the line ends + 1.
  std::size_t lineEnds = 0;
  for (std::size_t i = 0; i < bytes.size(); ++i)
    lineEnds += bytes[i] == '\n' || (bytes[i] == '\r' && (i + 1 == bytes.size() || bytes[i + 1] != '\n'));
  check(rows + dead <= lineEnds + 1, "no more records than lines");
}

}  // namespace

void runOne(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0: job(rest); break;
    case 1: control(rest); break;
    case 2: read(FileFormat::Csv, rest, 1 + data[0] / 4); break;
    case 3: read(FileFormat::Jsonl, rest, 1 + data[0] / 4); break;
  }
}

std::vector<std::vector<std::uint8_t>> seeds() {
  auto seed = [](std::uint8_t kind, std::string_view text) {
    std::vector<std::uint8_t> s{kind};
    s.insert(s.end(), text.begin(), text.end());
    return s;
  };
  return {
      seed(0, R"({"weir": 1, "name": "j", "parallelism": 2, "nodes": [
        {"id": "g", "type": "source.generator", "params": {"table": "bid", "events": 10}, "ui": {"x": 1}},
        {"id": "f", "type": "filter", "params": {"where": "price > 10 and channel = 'x'"}},
        {"id": "w", "type": "window", "params": {"key": ["auction"], "window": {"type": "tumbling", "size_ms": 1000},
          "aggregates": [{"name": "n", "fn": "count"}]}},
        {"id": "o", "type": "sink.discard"}],
        "edges": [{"from": "g", "to": "f"}, {"from": "f", "to": "w"}, {"from": "w", "to": "o"}]})"),
      seed(0, R"({"weir": 1, "x": [[[[[[{"a": {"b": [1, 2, {"c": null}]}}]]]]]], "nodes": []})"),
      seed(1, R"({"type": "register", "name": "tm-1", "slots": 2, "data_host": "127.0.0.1", "data_port": 7000,
        "plugin_hashes": ["ab"]})"),
      seed(1, R"({"type": "deploy", "job": "j", "plan": {"name": "j", "batch_mode": false, "base_dir": "/tmp",
        "dead_letter_path": "/tmp/d", "max_parallelism": 128, "nodes": [{"id": "g", "type": "source.generator",
        "params": {}, "parallelism": 1, "fail_on_bad_record": false, "inputs": [],
        "outputs": [{"port": "out", "schema": [{"name": "a", "type": "int64"}]}]}], "edges": []}})"),
      seed(1, R"({"type": "metrics", "job": "j", "at_ms": 1.5, "subtasks": [{"chain": 0, "subtask": 0}]})"),
      seed(2 + 4 * 3, "id,name,price,ts\n1,\"a,b\",1.5,2026-01-01T00:00:00Z\r\n2,\"x\"\"y\",,5\r3,\"open\n4,z,2.5,7\n"),
      seed(1 + 2 + 4 * 20, "1,a,1.5,1\r\n\r\n2,\"b\nc\",2,2\n3,c,x,3"),
      seed(3 + 4 * 5, "{\"id\": 1, \"name\": \"a\\u00e9\", \"price\": 1.5, \"ts\": 3}\n\r\n{\"id\": \"x\"}\r{\"id\": 2, "
                      "\"extra\": {\"n\": [1, {\"m\": 2}]}}\n{broken\n"),
  };
}

}  // namespace weir::fuzz
