// The job-graph layer: *.weir.json parsing and writing, the operator catalog, validation.
//
// Golden files (DuckDB-style declarative tests): every tests/data/jobs/bad/NAME.weir.json
// has NAME.expected holding exactly the diagnostics it must produce, one per line. Run
// with WEIR_UPDATE_GOLDEN=1 to rewrite the .expected files from the current output (then
// read the diff: that is the review).
//
// The multi-node job checked in detail (tests/data/jobs/nexmark-join.weir.json):
//
//   bids (generator, p4) ──left──┐
//                                ├─> joined (join, p4) ─> euros (map) ─> per_category (window)
//   auctions (generator, p2) ─right┘                                       │ out        │ late
//                                                                          v            v
//                                                                   print (stdout, p1)  late (sink.file)
#include <QtTest>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "core/catalog.h"
#include "core/job.h"
#include "core/validate.h"

using namespace weir;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

fs::path jobsDir() { return fs::path(WEIR_SOURCE_DIR) / "tests" / "data" / "jobs"; }

std::string readText(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

/// Every diagnostic of a job file as text lines: parse errors, or validation's.
std::vector<std::string> diagnose(const fs::path& p) {
  Diagnostics diags;
  auto job = parseJob(readText(p), p.filename().string(), diags);
  if (job) validateJob(*job, diags);
  std::vector<std::string> lines;
  for (const Diagnostic& d : diags) lines.push_back(d.toString());
  return lines;
}

std::vector<std::string> validationLines(const JobGraph& job) {
  Diagnostics diags;
  validateJob(job, diags);
  std::vector<std::string> lines;
  for (const Diagnostic& d : diags) lines.push_back(d.toString());
  return lines;
}

JobGraph parseOrFail(std::string_view text) {
  Diagnostics diags;
  auto job = parseJob(text, "test.weir.json", diags);
  if (!job) qFatal("parse failed: %s", diags.empty() ? "?" : diags[0].toString().c_str());
  return *job;
}

/// Every *.weir.json under samples/ and tests/data/jobs/ (recursively).
std::vector<fs::path> allJobFiles() {
  std::vector<fs::path> files;
  for (const fs::path& root : {fs::path(WEIR_SOURCE_DIR) / "samples", jobsDir()}) {
    if (!fs::exists(root)) continue;
    for (const auto& entry : fs::recursive_directory_iterator(root)) {
      std::string name = entry.path().filename().string();
      if (entry.is_regular_file() && name.ends_with(".weir.json")) files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

QByteArray q(const std::string& s) { return QByteArray::fromStdString(s); }

// ---- documentation generated from the catalog ------------------------------------------------
// docs/operators.md and docs/job-format.md hold blocks between
//   <!-- BEGIN catalog NAME -->  and  <!-- END catalog NAME -->
// whose text must be exactly what these functions make from catalogToJson();
// WEIR_UPDATE_GOLDEN=1 rewrites them in place.

std::string cell(std::string text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += "\\|";
    else if (c == '\n') out += ' ';
    else out += c;
  }
  return out;
}

std::string numberText(const json& n) {
  double d = n.get<double>();
  if (d == static_cast<double>(static_cast<long long>(d))) return std::to_string(static_cast<long long>(d));
  return n.dump();
}

void paramRows(const json& params, const std::string& prefix, std::string& out) {
  for (const json& p : params) {
    std::string name = prefix + p["name"].get<std::string>();
    std::string kind = p["kind"];
    if (p.contains("enum")) {
      kind += ": ";
      for (std::size_t i = 0; i < p["enum"].size(); ++i)
        kind += (i ? ", " : "") + p["enum"][i].get<std::string>();
    }
    if (p.contains("min") && p.contains("max"))
      kind += ", " + numberText(p["min"]) + " to " + numberText(p["max"]);
    else if (p.contains("min"))
      kind += ", >= " + numberText(p["min"]);
    else if (p.contains("max"))
      kind += ", <= " + numberText(p["max"]);
    std::string def;
    if (p["required"].get<bool>()) def = "required";
    else if (p.contains("default") && p["default"].is_object() && p["default"].empty() &&
             p.contains("children"))
      def = "(defaults below)";
    else if (p.contains("default")) def = "`" + p["default"].dump() + "`";
    else def = "(none)";
    out += "| `" + name + "` | " + cell(kind) + " | " + cell(def) + " | " +
           cell(p["doc"].get<std::string>()) + " |\n";
    if (p.contains("children"))
      paramRows(p["children"], name + (p["kind"] == "object_list" ? "[]." : "."), out);
  }
}

std::string paramsTable(const json& params) {
  if (params.empty()) return "No params.\n";
  std::string out = "| param | kind | default | description |\n|---|---|---|---|\n";
  paramRows(params, "", out);
  return out;
}

std::string portsText(const json& ports, bool input) {
  if (ports.empty()) return "none";
  std::string out;
  for (std::size_t i = 0; i < ports.size(); ++i) {
    const json& p = ports[i];
    out += (i ? "; " : "") + std::string("`") + p["name"].get<std::string>() + "`: " +
           p["doc"].get<std::string>();
    if (input && p["multiple"].get<bool>()) out += " (any number of edges)";
    if (!p["required"].get<bool>()) out += " (may stay unconnected)";
  }
  return out;
}

std::string operatorBlock(const json& op) {
  std::string out = "### `" + op["type"].get<std::string>() + "`: " +
                    op["title"].get<std::string>() + "\n\n" + op["doc"].get<std::string>() +
                    "\n\n";
  out += "- Category: " + op["category"].get<std::string>() + "\n";
  out += "- Inputs: " + portsText(op["inputs"], true) + "\n";
  out += "- Outputs: " + portsText(op["outputs"], false) + "\n";
  for (const json& k : op["keyed"])
    out += "- Keyed: input `" + k["port"].get<std::string>() + "` is hash-partitioned on `" +
           k["param"].get<std::string>() + "`\n";
  if (op["max_parallelism"].get<int>() > 0)
    out += "- Parallelism: at most " + std::to_string(op["max_parallelism"].get<int>()) + "\n";
  out += "- Output schema: " + op["output_doc"].get<std::string>() + "\n\n";
  out += paramsTable(op["params"]);
  return out;
}

/// The generated blocks a doc file must contain, by name.
std::map<std::string, std::string> catalogBlocks() {
  json c = catalogToJson();
  std::map<std::string, std::string> blocks;
  for (const json& op : c["operators"]) blocks[op["type"].get<std::string>()] = operatorBlock(op);
  blocks["job.checkpoint"] = paramsTable(c["job"]["checkpoint"]);
  blocks["job.restart"] = paramsTable(c["job"]["restart"]);
  return blocks;
}

/// Checks (or, with WEIR_UPDATE_GOLDEN, rewrites) the generated blocks of a doc file;
/// returns the names of the blocks it holds.
std::set<std::string> syncDocBlocks(const fs::path& file) {
  std::string text = readText(file);
  auto blocks = catalogBlocks();
  std::set<std::string> seen;
  const std::string begin = "<!-- BEGIN catalog ", end = "<!-- END catalog ";
  std::size_t pos = 0;
  bool changed = false;
  while ((pos = text.find(begin, pos)) != std::string::npos) {
    std::size_t nameEnd = text.find(" -->", pos);
    std::string name = text.substr(pos + begin.size(), nameEnd - pos - begin.size());
    std::size_t bodyStart = text.find('\n', nameEnd) + 1;
    std::size_t bodyEnd = text.find(end + name + " -->", bodyStart);
    if (bodyEnd == std::string::npos) qFatal("%s: block %s has no END", file.c_str(), name.c_str());
    seen.insert(name);
    auto it = blocks.find(name);
    if (it == blocks.end()) qFatal("%s: block %s is not in the catalog", file.c_str(), name.c_str());
    std::string body = text.substr(bodyStart, bodyEnd - bodyStart);
    std::string want = it->second;
    if (body != want) {
      if (!std::getenv("WEIR_UPDATE_GOLDEN"))
        qFatal("%s: block %s is out of date with the catalog; run test_job with "
               "WEIR_UPDATE_GOLDEN=1. It should be:\n%s", file.c_str(), name.c_str(), want.c_str());
      text.replace(bodyStart, bodyEnd - bodyStart, want);
      changed = true;
    }
    pos = bodyStart;
  }
  if (changed) std::ofstream(file, std::ios::binary) << text;
  return seen;
}

}  // namespace

class TestJob : public QObject {
  Q_OBJECT
 private slots:
  // ---- parsing and writing ---------------------------------------------------------------

  void parseReadsEveryField() {
    JobGraph job = parseOrFail(readText(jobsDir() / "nexmark-join.weir.json"));
    QCOMPARE(job.version, 1);
    QCOMPARE(job.name, std::string("nexmark-join"));
    QVERIFY(job.description.starts_with("Bids joined"));
    QCOMPARE(job.mode, JobMode::Streaming);
    QCOMPARE(job.parallelism, 4);
    QCOMPARE(job.onBadRecord, std::string("fail"));
    QCOMPARE(job.deadLetter, std::string("dead/nexmark.jsonl"));
    QVERIFY(job.checkpoint.is_null());
    QCOMPARE(job.nodes.size(), std::size_t(7));
    QCOMPARE(job.edges.size(), std::size_t(6));
    const JobNode* auctions = job.node("auctions");
    QVERIFY(auctions);
    QCOMPARE(auctions->type, std::string("source.generator"));
    QCOMPARE(*auctions->parallelism, 2);
    QCOMPARE(auctions->params["seed"].get<int>(), 7);
    QVERIFY(!job.node("bids")->parallelism);
    QCOMPARE(job.node("joined")->description, std::string("bid.auction = auction.id"));
    QCOMPARE(job.edges[0].toPort, std::string("left"));
    QCOMPARE(job.edges[2].fromPort, std::string("out"));
    QCOMPARE(job.edges[2].toPort, std::string("in"));
    QCOMPARE(job.edges[5].fromPort, std::string("late"));
    QCOMPARE(job.edges[5].partition, Partition::Rebalance);
    QCOMPARE(job.edges[0].partition, Partition::Auto);
    QVERIFY(job.unread.empty());
  }

  void loadJobFileSetsBaseDir() {
    Diagnostics diags;
    auto job = loadJobFile(jobsDir() / "bid-stats.weir.json", diags);
    QVERIFY(job);
    QVERIFY(diags.empty());
    QCOMPARE(job->baseDir, fs::absolute(jobsDir()));
    QCOMPARE(job->node("bids")->ui["x"].get<int>(), 40);

    auto missing = loadJobFile(jobsDir() / "no-such.weir.json", diags);
    QVERIFY(!missing);
    QCOMPARE(diags.size(), std::size_t(1));
    QCOMPARE(diags[0].node, std::string("job"));
    QVERIFY(diags[0].message.find("no-such.weir.json: cannot open") != std::string::npos);
  }

  void malformedJsonGivesLineAndColumn() {
    Diagnostics diags;
    QVERIFY(!parseJob("{\n  \"weir\": 1,\n  \"name\" \"x\"\n}", "a.weir.json", diags));
    QCOMPARE(diags.size(), std::size_t(1));
    QCOMPARE(diags[0].toString(),
             std::string("job: a.weir.json:3:10: syntax error while parsing object separator - "
                         "unexpected string literal; expected ':'"));
    // Columns count characters, not bytes.
    diags.clear();
    QVERIFY(!parseJob("{\"name\": \"ÿÿ\", x}", "b.weir.json", diags));
    QCOMPARE(diags[0].message.substr(0, 16), std::string("b.weir.json:1:16"));
    diags.clear();
    QVERIFY(!parseJob("", "c.weir.json", diags));
    QVERIFY(diags[0].message.starts_with("c.weir.json:1:1: "));
  }

  void unreadMembersAreKeptAndWrittenBack() {
    JobGraph job = parseOrFail(R"({"weir": 1, "mode": "fast", "foo": [1],
      "nodes": [{"id": "a", "type": "sink.discard", "colour": "red", "parallelism": "2"}],
      "edges": [{"from": "a", "to": "b", "partition": "hash", "weight": 3}]})");
    QCOMPARE(job.mode, JobMode::Streaming);
    QCOMPARE(job.unread, json::parse(R"({"mode": "fast", "foo": [1]})"));
    QCOMPARE(job.nodes[0].unread, json::parse(R"({"colour": "red", "parallelism": "2"})"));
    QVERIFY(!job.nodes[0].parallelism);
    QCOMPARE(job.edges[0].unread, json::parse(R"({"partition": "hash", "weight": 3})"));
    json written = jobToJson(job);
    QCOMPARE(written["mode"], json("fast"));
    QCOMPARE(written["foo"], json::parse("[1]"));
    QCOMPARE(written["nodes"][0]["colour"], json("red"));
    QCOMPARE(written["nodes"][0]["parallelism"], json("2"));
    QCOMPARE(written["edges"][0]["partition"], json("hash"));
    QCOMPARE(written["edges"][0]["weight"], json(3));
  }

  void writerOmitsDefaultsNotGiven() {
    JobGraph job = parseOrFail(R"({"weir": 1, "mode": "streaming", "nodes": [
      {"id": "g", "type": "source.generator", "params": {"table": "bid"}},
      {"id": "o", "type": "sink.discard"}],
      "edges": [{"from": "g", "from_port": "out", "to": "o"}]})");
    json j = jobToJson(job);
    QCOMPARE(j["mode"], json("streaming"));  // given explicitly: kept
    QVERIFY(!j.contains("parallelism"));
    QVERIFY(!j.contains("on_bad_record"));
    QVERIFY(!j.contains("checkpoint"));
    QCOMPARE(j["edges"][0], json::parse(R"({"from": "g", "from_port": "out", "to": "o"})"));
    QVERIFY(!j["nodes"][1].contains("params"));

    // A job built in code (the workbench) writes what differs from the defaults.
    JobGraph built;
    built.name = "built";
    built.parallelism = 3;
    built.nodes.push_back({.id = "g", .type = "source.generator",
                           .params = {{"table", "bid"}, {"events", 10}}});
    built.nodes.push_back({.id = "o", .type = "sink.stdout", .parallelism = 1});
    built.edges.push_back({.from = "g", .to = "o", .partition = Partition::Rebalance});
    QCOMPARE(formatJob(built),
             std::string("{\n"
                         "  \"weir\": 1,\n"
                         "  \"name\": \"built\",\n"
                         "  \"parallelism\": 3,\n"
                         "  \"nodes\": [\n"
                         "    {\"id\": \"g\", \"type\": \"source.generator\", \"params\": "
                         "{\"events\": 10, \"table\": \"bid\"}},\n"
                         "    {\"id\": \"o\", \"type\": \"sink.stdout\", \"parallelism\": 1}\n"
                         "  ],\n"
                         "  \"edges\": [{\"from\": \"g\", \"to\": \"o\", \"partition\": "
                         "\"rebalance\"}]\n"
                         "}\n"));
    QVERIFY(validationLines(built).empty());
  }

  void roundTripEveryJobFile() {
    auto files = allJobFiles();
    QVERIFY(files.size() >= 10);
    int parsed = 0;
    for (const fs::path& p : files) {
      Diagnostics diags;
      auto job = parseJob(readText(p), p.filename().string(), diags);
      if (!job) continue;  // the malformed ones
      ++parsed;
      std::string text = formatJob(*job);
      auto again = parseJob(text, "written.weir.json", diags);
      QVERIFY2(again, q(p.string() + ": written text does not parse:\n" + text));
      QVERIFY2(*again == *job, q(p.string() + ": round trip changed the job:\n" + text));
      QCOMPARE(formatJob(*again), text);
      auto viaJson = parseJob(jobToJson(*job).dump(), "j", diags);
      QVERIFY(viaJson && *viaJson == *job);
      // Writing loses nothing the file said (members may be reordered).
      QVERIFY2(json::parse(text) == json::parse(readText(p)), q(p.string()));
    }
    QVERIFY(parsed >= 10);
  }

  // ---- validation: golden files ------------------------------------------------------------

  void goldenDiagnostics_data() {
    QTest::addColumn<QString>("path");
    for (const auto& entry : fs::directory_iterator(jobsDir() / "bad")) {
      std::string name = entry.path().filename().string();
      if (name.ends_with(".weir.json"))
        QTest::newRow(name.c_str()) << QString::fromStdString(entry.path().string());
    }
  }

  void goldenDiagnostics() {
    QFETCH(QString, path);
    fs::path jobFile = path.toStdString();
    fs::path expectedFile = jobFile;
    expectedFile.replace_filename(jobFile.filename().string().substr(
                                      0, jobFile.filename().string().size() - 10) +
                                  ".expected");
    std::vector<std::string> actual = diagnose(jobFile);
    std::string actualText;
    for (const std::string& line : actual) actualText += line + "\n";
    if (std::getenv("WEIR_UPDATE_GOLDEN")) {
      std::ofstream(expectedFile, std::ios::binary) << actualText;
      QSKIP("golden file rewritten");
    }
    QVERIFY2(fs::exists(expectedFile), q(expectedFile.string() + " is missing"));
    QVERIFY2(!actual.empty(), "a bad job must produce diagnostics");
    QCOMPARE(actualText, readText(expectedFile));
  }

  void goodJobsHaveNoDiagnostics() {
    for (const auto& entry : fs::directory_iterator(jobsDir())) {
      if (!entry.path().filename().string().ends_with(".weir.json")) continue;
      auto lines = diagnose(entry.path());
      std::string all;
      for (const auto& l : lines) all += l + "\n";
      QVERIFY2(lines.empty(), q(entry.path().filename().string() + ":\n" + all));
    }
  }

  void severalErrorsAreAllListedInFileOrder() {
    auto lines = diagnose(jobsDir() / "bad" / "several-errors.weir.json");
    QCOMPARE(lines, (std::vector<std::string>{
        "job: checkpoint.interval_ms: must be at least 1, not 0",
        "bids: edges[5].to: source.file 'bids' has no inputs",
        "pricey: where: at 0: unknown field 'prize' (fields: auction, bidder, price, date_time)",
        "per_auction: window.slide: unknown param (did you mean 'slide_ms'?)",
        "per_auction: aggregates[1].fn: 'maximum' is not one of count, sum, min, max, avg, "
        "first, last, count_distinct (did you mean 'max'?)",
        "cheap: colour: unknown field",
        "out: format: missing required param",
        "cheap_out: type: unknown operator type 'sink.csv'",
    }));
  }

  // A broken node whose output is its input (a filter, a watermark) does not hide the
  // problems downstream: the filter's output schema is its input's even when its condition
  // is broken, so the aggregate's bad key and the map's type error are reported too.
  void problemsDownstreamOfABrokenFilterAreReported() {
    JobGraph job = parseOrFail(R"({"weir": 1, "name": "t", "nodes": [
      {"id": "bids", "type": "source.generator", "params": {"table": "bid", "events": 10}},
      {"id": "pricey", "type": "filter", "params": {"where": "prize > 10"}},
      {"id": "typed", "type": "map", "params": {"fields": [{"name": "p", "expr": "price + 'x'"}]}},
      {"id": "per", "type": "aggregate", "params": {"key": ["auctoin"], "aggregates": [{"fn": "count", "name": "n"}]}},
      {"id": "out", "type": "sink.discard"}, {"id": "out2", "type": "sink.discard"}],
      "edges": [{"from": "bids", "to": "pricey"}, {"from": "pricey", "to": "typed"},
                {"from": "pricey", "to": "per"}, {"from": "per", "to": "out"}, {"from": "typed", "to": "out2"}]})");
    Diagnostics diags;
    ValidatedJob v = validateJob(job, diags);
    std::vector<std::string> lines;
    for (const Diagnostic& d : diags) lines.push_back(d.toString());
    QCOMPARE(lines.size(), std::size_t{3});
    QVERIFY2(lines[0].starts_with("pricey: where: at 0: unknown field 'prize'"), lines[0].c_str());
    QVERIFY2(lines[1].starts_with("typed: fields[0].expr: "), lines[1].c_str());
    QVERIFY2(lines[2].starts_with("per: key"), lines[2].c_str());
    QVERIFY2(lines[2].find("auctoin") != std::string::npos, lines[2].c_str());
    const ValidatedNode* pricey = v.node("pricey");
    QVERIFY(pricey && pricey->outputSchemas.at(0));
    QCOMPARE(pricey->outputSchemas[0]->toString(), v.node("bids")->outputSchemas.at(0)->toString());
    QVERIFY(!v.ok);
  }

  void diagnosticText() {
    QCOMPARE((Diagnostic{"pricey", "where", "at 6: unknown field 'prize'"}.toString()),
             std::string("pricey: where: at 6: unknown field 'prize'"));
    QCOMPARE((Diagnostic{"lonely", "", "input port 'in' is not connected"}.toString()),
             std::string("lonely: input port 'in' is not connected"));
  }

  // ---- validation: results -----------------------------------------------------------------

  void schemaPropagation() {
    Diagnostics diags;
    JobGraph job = parseOrFail(readText(jobsDir() / "nexmark-join.weir.json"));
    ValidatedJob v = validateJob(job, diags);
    QVERIFY(diags.empty());
    QVERIFY(v.ok);

    auto out = [&](const char* id, int port = 0) {
      const ValidatedNode* n = v.node(id);
      return n && n->outputSchemas.at(port) ? n->outputSchemas[port]->toString() : "?";
    };
    const std::string bid =
        "auction:int64, bidder:int64, price:int64, channel:string, url:string, "
        "date_time:timestamp, extra:string";
    const std::string joined =
        bid + ", id:int64, item_name:string, description:string, initial_bid:int64, "
              "reserve:int64, right_date_time:timestamp, expires:timestamp, seller:int64, "
              "category:int64, right_extra:string";
    QCOMPARE(out("bids"), bid);
    QCOMPARE(out("joined"), joined);
    QCOMPARE(out("euros"), joined + ", price_eur:double, tag:string");
    QCOMPARE(out("per_category"),
             std::string("category:int64, window_start:timestamp, window_end:timestamp, "
                         "n:int64, total:int64, avg_eur:double, sellers:int64, "
                         "last_item:string"));
    QCOMPARE(out("per_category", 1), out("euros"));
    const ValidatedNode* join = v.node("joined");
    QCOMPARE(join->inputPorts, (std::vector<std::string>{"left", "right"}));
    QCOMPARE(join->inputSchemas[0]->toString(), bid);
    QCOMPARE(join->inputSchemas[1]->toString(), generatorSchema("auction")->toString());
    QVERIFY(v.node("print")->outputSchemas.empty());
    QVERIFY(v.node("per_category")->outputProps[0].eventTime);
    QVERIFY(v.node("bids")->outputProps[0].bounded);

    // Parallelism: the job's, a node's own, or capped by the operator (stdout runs as one).
    QCOMPARE(v.node("bids")->parallelism, 4);
    QCOMPARE(v.node("auctions")->parallelism, 2);
    QCOMPARE(v.node("print")->parallelism, 1);
    QVERIFY(v.node("bids")->failOnBadRecord);  // the job says fail

    // Partitioning: hash into keyed ports, with the key fields; forward or rebalance.
    auto edge = [&](std::size_t i) { return v.edges.at(i); };
    QCOMPARE(edge(0).partition, Partition::Hash);
    QCOMPARE(edge(0).keyFields, std::vector<std::string>{"auction"});
    QCOMPARE(edge(1).partition, Partition::Hash);
    QCOMPARE(edge(1).keyFields, std::vector<std::string>{"id"});
    QCOMPARE(edge(2).partition, Partition::Forward);
    QCOMPARE(edge(3).partition, Partition::Hash);
    QCOMPARE(edge(3).keyFields, std::vector<std::string>{"category"});
    QCOMPARE(edge(4).partition, Partition::Rebalance);  // 4 -> 1
    QCOMPARE(edge(5).partition, Partition::Rebalance);  // asked for
    QCOMPARE(edge(5).fromPortIndex, 1);
    QCOMPARE(edge(5).schema->toString(), out("euros"));
    QCOMPARE(v.node("per_category")->outputEdges[1], std::vector<std::size_t>{5});

    // Normalized params: defaults filled in, nested ones too.
    QCOMPARE(v.node("bids")->params["seed"], json(42));
    QCOMPARE(v.node("bids")->params["base_time"], json("2026-01-01T00:00:00Z"));
    QCOMPARE(v.node("per_category")->params["allowed_lateness_ms"], json(5000));
    QCOMPARE(v.node("print")->params["format"], json("csv"));
    QVERIFY(!v.node("print")->params.contains("nothing"));
    QVERIFY(v.checkpoint.is_null());
    QCOMPARE(v.restart["strategy"], json("none"));

    // Topological order: each node after its inputs, ties in file order.
    std::vector<std::string> order;
    for (std::size_t i : v.order) order.push_back(v.nodes[i].id);
    QCOMPARE(order, (std::vector<std::string>{"bids", "auctions", "joined", "euros",
                                              "per_category", "print", "late"}));
  }

  void nestedDefaultsAndJobObjects() {
    Diagnostics diags;
    JobGraph job = parseOrFail(readText(jobsDir() / "bid-stats.weir.json"));
    ValidatedJob v = validateJob(job, diags);
    QVERIFY(v.ok);
    QVERIFY(v.checkpoint.is_null());
    QCOMPARE(v.node("bids")->params["watermark"],
             json::parse(R"({"max_out_of_orderness_ms": 0, "idle_timeout_ms": 0,
                             "interval_ms": 0})"));
    QCOMPARE(v.node("bids")->params["follow"], json(false));
    QCOMPARE(v.node("bids")->params["batch_size"], json(1024));
    QVERIFY(!v.node("bids")->failOnBadRecord);
    QCOMPARE(v.restart["strategy"], json("exponential_delay"));
    QCOMPARE(v.restart["max_attempts"], json(10));
    QCOMPARE(v.restart["reset_after_ms"], json(3600000));
    QCOMPARE(v.node("out")->inputSchemas[0]->toString(),
             std::string("auction:int64, window_start:timestamp, window_end:timestamp, "
                         "bids:int64, top:int64"));
    // A checkpoint object: its defaults filled in.
    job.checkpoint = {{"interval_ms", 1000}};
    Diagnostics accepted;
    v = validateJob(job, accepted);
    QVERIFY(v.ok);
    QVERIFY(accepted.empty());
    QCOMPARE(v.checkpoint["mode"], json("exactly_once"));
    QCOMPARE(v.checkpoint["timeout_ms"], json(600000));
    QCOMPARE(v.checkpoint["retained"], json(3));
    // A batch job takes none (as in Flink).
    job.mode = JobMode::Batch;
    Diagnostics refused;
    v = validateJob(job, refused);
    QVERIFY(!v.ok);
    QCOMPARE(refused.size(), std::size_t{1});
    QCOMPARE(refused[0].toString(),
             std::string("job: checkpoint: a batch job takes no checkpoints (a failed batch job restarts whole by "
                         "its restart strategy): remove the checkpoint object, or run the job in streaming mode"));
  }

  /// Whatever the parallelism, the same schemas; hash stays hash, and an automatic edge is
  /// forward exactly when both ends have the same parallelism.
  void randomParallelismKeepsSchemas() {
    JobGraph base = parseOrFail(readText(jobsDir() / "all-operators.weir.json"));
    Diagnostics diags;
    ValidatedJob reference = validateJob(base, diags);
    QVERIFY(reference.ok);
    std::mt19937 rng(7);
    for (int round = 0; round < 20; ++round) {
      JobGraph job = base;
      job.parallelism = 1 + static_cast<int>(rng() % 8);
      for (JobNode& n : job.nodes) {
        if (n.type == "source.socket" || n.type.starts_with("sink.s")) continue;
        if (rng() % 2) n.parallelism = 1 + static_cast<int>(rng() % 8);
      }
      for (JobEdge& e : job.edges)
        if (e.partition == Partition::Forward) e.partition = Partition::Auto;
      ValidatedJob v = validateJob(job, diags);
      QVERIFY2(v.ok, q(diags.empty() ? "" : diags[0].toString()));
      for (std::size_t i = 0; i < v.nodes.size(); ++i) {
        QCOMPARE(v.nodes[i].outputSchemas.size(), reference.nodes[i].outputSchemas.size());
        for (std::size_t p = 0; p < v.nodes[i].outputSchemas.size(); ++p)
          QCOMPARE(*v.nodes[i].outputSchemas[p], *reference.nodes[i].outputSchemas[p]);
      }
      for (std::size_t e = 0; e < v.edges.size(); ++e) {
        const ValidatedEdge& ve = v.edges[e];
        if (reference.edges[e].partition == Partition::Hash) {
          QCOMPARE(ve.partition, Partition::Hash);
        } else if (job.edges[e].partition == Partition::Auto) {
          bool same = v.nodes[ve.fromNode].parallelism == v.nodes[ve.toNode].parallelism;
          QCOMPARE(ve.partition, same ? Partition::Forward : Partition::Rebalance);
        }
      }
    }
  }

  void pluginTypesValidateThroughACatalogCopy() {
    Catalog catalog = Catalog::builtin();
    catalog.add({.type = "plugin.double_price",
                 .category = OperatorCategory::Transform,
                 .title = "Double the price",
                 .doc = "Test plugin.",
                 .inputs = {{.name = "in", .doc = "records"}},
                 .outputs = {{.name = "out", .doc = "records"}},
                 .params = {{.name = "factor", .kind = ParamKind::Int, .defaultValue = 2,
                             .doc = "factor", .min = 1}}});
    JobGraph job = parseOrFail(R"({"weir": 1, "nodes": [
      {"id": "g", "type": "source.generator", "params": {"table": "bid", "events": 5}},
      {"id": "d", "type": "plugin.double_price", "params": {"factor": 0}},
      {"id": "o", "type": "sink.discard"}],
      "edges": [{"from": "g", "to": "d"}, {"from": "d", "to": "o"}]})");
    Diagnostics diags;
    validateJob(job, catalog, diags);
    QCOMPARE(diags.size(), std::size_t(1));
    QCOMPARE(diags[0].toString(), std::string("d: factor: must be at least 1, not 0"));
    diags.clear();
    job.nodes[1].params["factor"] = 3;
    ValidatedJob v = validateJob(job, catalog, diags);
    QVERIFY(v.ok);
    QCOMPARE(*v.node("d")->outputSchemas[0], *generatorSchema("bid"));  // passed through
    diags.clear();
    validateJob(job, diags);  // the built-in catalog does not know the type
    QCOMPARE(diags[0].toString(),
             std::string("d: type: unknown operator type 'plugin.double_price'"));
  }

  void checkParamsForEditors() {
    std::vector<std::string> problems;
    json normalized = checkParams(
        Catalog::builtin().find("window")->params,
        json::parse(R"({"window": {"type": "tumbling", "size_ms": 5}, "aggregates": []})"), "",
        [&](std::string path, std::string message) { problems.push_back(path + ": " + message); });
    QVERIFY(problems.empty());
    QCOMPARE(normalized["key"], json::array());
    QCOMPARE(normalized["allowed_lateness_ms"], json(0));
  }

  // ---- catalog ---------------------------------------------------------------------------

  void catalogJsonHasEveryOperator() {
    json c = catalogToJson();
    QCOMPARE(c["weir"], json(1));
    std::vector<std::string> types;
    for (const json& op : c["operators"]) types.push_back(op["type"]);
    QCOMPARE(types, (std::vector<std::string>{
        "source.file", "source.generator", "source.socket", "filter", "map", "window",
        "aggregate", "join", "union", "udf", "watermark", "sink.file", "sink.stdout", "sink.discard",
        "sink.sqlite"}));
    std::set<std::string> kinds = {"int", "double", "bool", "string", "enum", "path",
                                   "expression", "timestamp", "field", "field_list", "schema",
                                   "object", "object_list", "json"};
    for (const json& op : c["operators"]) {
      std::string type = op["type"];
      for (const char* key : {"category", "title", "doc", "output_doc", "inputs", "outputs",
                              "keyed", "params", "max_parallelism"})
        QVERIFY2(op.contains(key), q(type + " lacks " + key));
      QVERIFY2(!op["doc"].get<std::string>().empty(), q(type));
      std::string category = op["category"];
      QCOMPARE(op["inputs"].empty(), category == "source");
      QCOMPARE(op["outputs"].empty(), category == "sink");
      std::function<void(const json&)> checkParam = [&](const json& p) {
        QVERIFY2(kinds.count(p["kind"]), q(type + "." + p["name"].get<std::string>()));
        QVERIFY(p["required"].is_boolean());
        QVERIFY2(!p["doc"].get<std::string>().empty(), q(type + "." + p["name"].get<std::string>()));
        if (p["kind"] == "enum") QVERIFY(!p["enum"].empty());
        if (p.contains("children"))
          for (const json& child : p["children"]) checkParam(child);
      };
      for (const json& p : op["params"]) checkParam(p);
    }
    const json& window = c["operators"][5];
    QCOMPARE(window["outputs"][1]["name"], json("late"));
    QCOMPARE(window["outputs"][1]["required"], json(false));
    QCOMPARE(window["keyed"], json::parse(R"([{"port": "in", "param": "key"}])"));
    const json& shape = window["params"][1];
    QCOMPARE(shape["name"], json("window"));
    QCOMPARE(shape["kind"], json("object"));
    QCOMPARE(shape["children"][0]["enum"], json::parse(R"(["tumbling", "sliding", "session"])"));
    QCOMPARE(window["params"][2]["children"][1]["enum"].size(), std::size_t(8));
    const json& join = c["operators"][7];
    QCOMPARE(join["inputs"][0]["name"], json("left"));
    QCOMPARE(join["inputs"][1]["name"], json("right"));
    QCOMPARE(c["operators"][8]["inputs"][0]["multiple"], json(true));
    const json& file = c["operators"][0];
    QCOMPARE(file["params"][2], json::parse(R"({"name": "header", "kind": "bool",
      "required": false, "default": true,
      "doc": "CSV: the file starts with a header line naming the columns."})"));
    QCOMPARE(c["operators"][12]["max_parallelism"], json(1));
    QVERIFY(c["job"]["checkpoint"].is_array());
    QVERIFY(c["job"]["restart"].is_array());
  }

  void docsMatchTheCatalog() {
    auto operators = syncDocBlocks(fs::path(WEIR_SOURCE_DIR) / "docs" / "operators.md");
    for (const OperatorSpec& spec : Catalog::builtin().operators())
      QVERIFY2(operators.count(spec.type), q("docs/operators.md lacks " + spec.type));
    auto job = syncDocBlocks(fs::path(WEIR_SOURCE_DIR) / "docs" / "job-format.md");
    QVERIFY(job.count("job.checkpoint") && job.count("job.restart"));
  }

  void generatorSchemas() {
    QCOMPARE(generatorSchema("person")->toString(),
             std::string("id:int64, name:string, email_address:string, credit_card:string, "
                         "city:string, state:string, date_time:timestamp, extra:string"));
    QCOMPARE(generatorSchema("auction")->size(), std::size_t(10));
    QVERIFY(!generatorSchema("bids"));
  }

  void closestNames() {
    std::vector<std::string> types;
    for (const OperatorSpec& s : Catalog::builtin().operators()) types.push_back(s.type);
    QCOMPARE(*closestName("source.fil", types), std::string("source.file"));
    QCOMPARE(*closestName("Filter", types), std::string("filter"));
    QCOMPARE(*closestName("agregate", types), std::string("aggregate"));
    QCOMPARE(*closestName("wnidow", types), std::string("window"));
    QVERIFY(!closestName("frobnicate", types));
    QVERIFY(!closestName("filter", types));  // exact: no suggestion
    QCOMPARE(didYouMean("x", {"y"}), std::string(" (did you mean 'y'?)"));
  }
};

QTEST_APPLESS_MAIN(TestJob)
#include "test_job.moc"
