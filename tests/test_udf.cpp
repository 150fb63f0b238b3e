// The udf operator with the example plugin (plugins/examples/weir_example.cpp):
//
//   events.csv --> src --> m (mask_email: email) --> w (explode_words: text) --+--> rows (collect)
//   (ts: event time)       | 'bob' -> dead letter                             +--> win (tumbling 10 s,
//                                                                                   count per word) --> counts
//
//   validationShowsPluginSchema   the plugin derives each udf node's schema
//   validationErrors              unknown function / plugin, ABI 2, params and schema
//                                 mismatch: exact texts, naming the node
//   jobFolderPlugin               a plugin in the job's plugins/ folder is found by name
//   outputsInProcess              exact rows at p=1 and p=3 (same result), event times
//                                 kept (the window sees them), 'bob' in the dead letters
//   rowKindsKept                  an update stream through mask_email keeps -U/+U
//   pluginErrorsFailTheJob        a misused emitter or a failed batch fails the job with
//                                 the node and the plugin's message (no crash)
//   shippingRefusesBadHash        installPlugins refuses bytes or a cache file that do not
//                                 hash to their name
//   shippedToTaskManagers         real processes: the plugin is only in the job's folder,
//                                 so the JobManager ships it; output equals in-process and
//                                 each TaskManager that ran a subtask caches <sha256>.so

#include <QtTest>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cluster/http_client.h"
#include "cluster/local_cluster.h"
#include "cluster/plugin_ship.h"
#include "core/plugin.h"
#include "job_harness.h"

using nlohmann::json;
using weir::test::Collected;
using weir::test::runText;
namespace fs = std::filesystem;

namespace {

const fs::path kPluginDir = fs::path(WEIR_BIN_DIR).parent_path() / "plugins";

std::string readAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// The files of `dir` whose names start with one of the prefixes.
std::vector<fs::path> filesIn(const fs::path& dir, const std::string& prefix, const std::string& other = "\n") {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.starts_with(prefix) || name.starts_with(other)) out.push_back(e.path());
  }
  return out;
}

json source() {
  return {{"id", "src"},
          {"type", "source.file"},
          {"params",
           {{"path", "events.csv"},
            {"format", "csv"},
            {"schema",
             {{{"name", "id"}, {"type", "int64"}},
              {{"name", "email"}, {"type", "string"}},
              {{"name", "text"}, {"type", "string"}},
              {{"name", "ts"}, {"type", "timestamp"}}}},
            {"timestamp", "ts"}}}};
}

/// The job of the diagram; `sinks` "collect" (test.collect) or "file" (jsonl into out/).
json wordsJob(const std::string& plugin, const std::string& sinks, int parallelism) {
  auto sink = [&](const std::string& id) -> json {
    if (sinks == "collect") return {{"id", id}, {"type", "test.collect"}};
    return {{"id", id}, {"type", "sink.file"}, {"params", {{"path", "out/" + id + ".jsonl"}, {"format", "jsonl"}}}};
  };
  return {{"weir", 1},
          {"name", "udf-words"},
          {"parallelism", parallelism},
          {"nodes",
           {source(),
            {{"id", "m"}, {"type", "udf"}, {"params", {{"plugin", plugin}, {"function", "mask_email"}, {"params", {{"field", "email"}}}}}},
            {{"id", "w"}, {"type", "udf"}, {"params", {{"plugin", plugin}, {"function", "explode_words"}, {"params", {{"field", "text"}}}}}},
            {{"id", "win"},
             {"type", "window"},
             {"params",
              {{"key", {"word"}},
               {"window", {{"type", "tumbling"}, {"size_ms", 10000}}},
               {"aggregates", {{{"name", "n"}, {"fn", "count"}}}}}}},
            sink("rows"),
            sink("counts")}},
          {"edges",
           {{{"from", "src"}, {"to", "m"}},
            {{"from", "m"}, {"to", "w"}},
            {{"from", "w"}, {"to", "rows"}},
            {{"from", "w"}, {"to", "win"}},
            {{"from", "win"}, {"to", "counts"}}}}};
}

/// "node: path: message" of every problem of a job text, validated against the job folder `dir`.
std::vector<std::string> problems(const json& job, const fs::path& dir, weir::ValidatedJob* out = nullptr) {
  weir::Diagnostics diags;
  auto g = weir::parseJob(job.dump(), "t.weir.json", diags);
  if (!g) return {"unparsable"};
  g->baseDir = dir;
  weir::ValidatedJob v = weir::validateJob(*g, weir::test::harnessCatalog(), diags);
  std::vector<std::string> lines;
  for (const auto& d : diags) lines.push_back(d.toString());
  if (out) *out = std::move(v);
  return lines;
}

json udfJob(const json& udfParams) {
  return {{"weir", 1},
          {"name", "one"},
          {"nodes", {source(), {{"id", "m"}, {"type", "udf"}, {"params", udfParams}}, {{"id", "out"}, {"type", "sink.discard"}}}},
          {"edges", {{{"from", "src"}, {"to", "m"}}, {{"from", "m"}, {"to", "out"}}}}};
}

}  // namespace

class TestUdf : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;
  fs::path dir_;

 private slots:
  void initTestCase() {
    ::unsetenv("WEIR_PLUGIN_PATH");
    dir_ = tmp_.path().toStdString();
    std::ofstream(dir_ / "events.csv") << "id,email,text,ts\n"
                                          "1,alice@example.com,hello world,1000\n"
                                          "2,bob,good morning,2000\n"
                                          "3,carol@example.org,hello again  world,11000\n"
                                          "4,,,12000\n";
    QVERIFY(fs::exists(kPluginDir / "libweir_example.so"));
  }

  void validationShowsPluginSchema() {
    weir::ValidatedJob v;
    QCOMPARE(problems(wordsJob("weir_example", "collect", 1), dir_, &v), std::vector<std::string>{});
    QCOMPARE(v.node("m")->outputSchemas.at(0)->toString(), std::string("id:int64, email:string, text:string, ts:timestamp"));
    QCOMPARE(v.node("w")->outputSchemas.at(0)->toString(),
             std::string("id:int64, email:string, text:string, ts:timestamp, word:string"));
    QVERIFY(v.node("w")->outputProps.at(0).eventTime);
  }

  void validationErrors() {
    auto one = [&](json params) { return problems(udfJob(params), dir_); };
    using L = std::vector<std::string>;
    QCOMPARE(one({{"plugin", "weir_example"}, {"function", "mask"}, {"params", {{"field", "email"}}}}),
             L{"m: function: plugin weir_example has no function 'mask' (did you mean 'mask_email'?)"});
    QCOMPARE(one({{"plugin", "weir_example"}, {"function", "upper"}}),
             L{"m: function: plugin weir_example has no function 'upper'"});
    const std::string exe = fs::read_symlink("/proc/self/exe").parent_path().string();
    QCOMPARE(one({{"plugin", "nope"}, {"function", "f"}}),
             L{"m: plugin: no plugin named 'nope' (looked for libnope.so and nope.so in " + (dir_ / "plugins").string() +
               ", " + (fs::path(exe).parent_path() / "plugins").string() + ", " + exe + "/plugins)"});
    QCOMPARE(one({{"plugin", "lib/missing.so"}, {"function", "f"}}),
             L{"m: plugin: no plugin library at " + (dir_ / "lib/missing.so").string()});
    const std::string abi2 = (kPluginDir / "libweir_test_abi2.so").string();
    QCOMPARE(one({{"plugin", abi2}, {"function", "f"}}),
             L{"m: plugin: " + abi2 + " was built for plugin ABI 2; this engine loads ABI 1 (rebuild it against this weir_plugin.h)"});
    QCOMPARE(one({{"plugin", "weir_example"}, {"function", "mask_email"}}),
             L{"m: params: weir_example.mask_email: params.field is required"});
    QCOMPARE(one({{"plugin", "weir_example"}, {"function", "mask_email"}, {"params", {{"field", "id"}}}}),
             L{"m: params: weir_example.mask_email: params.field: 'id' is not a string"});
    QCOMPARE(one({{"plugin", "weir_example"}, {"function", "mask_email"}, {"params", {{"field", "email"}}},
                  {"schema", {{{"name", "email"}, {"type", "string"}}}}}),
             L{"m: schema: the function's output is id:int64, email:string, text:string, ts:timestamp, not email:string"});
  }

  void jobFolderPlugin() {
    const fs::path job = dir_ / "folder";
    fs::create_directories(job / "plugins");
    fs::copy_file(kPluginDir / "libweir_example.so", job / "plugins" / "mine.so");
    std::ofstream(job / "events.csv") << readAll(dir_ / "events.csv");
    QCOMPARE(problems(udfJob({{"plugin", "mine"}, {"function", "mask_email"}, {"params", {{"field", "email"}}}}), job),
             std::vector<std::string>{});
    QCOMPARE(problems(udfJob({{"plugin", "plugins/mine.so"}, {"function", "mask_email"}, {"params", {{"field", "email"}}}}), job),
             std::vector<std::string>{});
  }

  void outputsInProcess_data() {
    QTest::addColumn<int>("parallelism");
    QTest::newRow("p1") << 1;
    QTest::newRow("p3") << 3;
  }
  void outputsInProcess() {
    QFETCH(int, parallelism);
    const fs::path dl = dir_ / "udf-words.dead-letters.jsonl";
    fs::remove(dl);
    Collected c;
    std::string failure;
    QCOMPARE(runText(wordsJob("weir_example", "collect", parallelism).dump(), dir_, c, {}, &failure),
             std::string("FINISHED"));
    QCOMPARE(c.sorted("rows"), (std::vector<std::string>{
                                   "+I|1|a****@example.com|hello world|1000|hello",
                                   "+I|1|a****@example.com|hello world|1000|world",
                                   "+I|3|c****@example.org|hello again  world|11000|again",
                                   "+I|3|c****@example.org|hello again  world|11000|hello",
                                   "+I|3|c****@example.org|hello again  world|11000|world",
                               }));
    // Event time is each output row's input row's: the words land in the windows of their records.
    QCOMPARE(c.sorted("counts"), (std::vector<std::string>{
                                     "+I|again|10000|20000|1",
                                     "+I|hello|0|10000|1",
                                     "+I|hello|10000|20000|1",
                                     "+I|world|0|10000|1",
                                     "+I|world|10000|20000|1",
                                 }));
    const json bad = json::parse(readAll(dl));
    QCOMPARE(bad["node"].get<std::string>(), std::string("m"));
    QCOMPARE(bad["reason"].get<std::string>(), std::string("weir_example.mask_email: 'bob' is not an email address"));
    QCOMPARE(json::parse(bad["record"].get<std::string>()),
             json({{"id", 2}, {"email", "bob"}, {"text", "good morning"}, {"ts", "1970-01-01T00:00:02.000Z"}}));
  }

  void rowKindsKept() {
    const json job{{"weir", 1},
                   {"name", "kinds"},
                   {"nodes",
                    {source(),
                     {{"id", "per_email"}, {"type", "aggregate"}, {"params", {{"key", {"email"}}, {"aggregates", {{{"name", "n"}, {"fn", "count"}}}}}}},
                     {{"id", "m"}, {"type", "udf"}, {"params", {{"plugin", "weir_example"}, {"function", "mask_email"}, {"params", {{"field", "email"}}}}}},
                     {{"id", "out"}, {"type", "test.collect"}}}},
                   {"edges", {{{"from", "src"}, {"to", "per_email"}}, {{"from", "per_email"}, {"to", "m"}}, {{"from", "m"}, {"to", "out"}}}}};
    std::ofstream(dir_ / "events.csv", std::ios::app) << "5,alice@example.com,x,13000\n";
    Collected c;
    const std::string status = runText(job.dump(), dir_, c);
    std::ofstream(dir_ / "events.csv") << "id,email,text,ts\n"
                                          "1,alice@example.com,hello world,1000\n"
                                          "2,bob,good morning,2000\n"
                                          "3,carol@example.org,hello again  world,11000\n"
                                          "4,,,12000\n";
    QCOMPARE(status, std::string("FINISHED"));
    std::vector<std::string> rows;
    {
      std::lock_guard lock(c.mu);
      rows = c.rows;
    }
    std::vector<std::string> alice;
    for (const auto& r : rows)
      if (r.find("a****@example.com") != std::string::npos) alice.push_back(r);
    QCOMPARE(alice, (std::vector<std::string>{"+I|a****@example.com|1", "-U|a****@example.com|1", "+U|a****@example.com|2"}));
  }

  void pluginErrorsFailTheJob_data() {
    QTest::addColumn<QString>("function");
    QTest::addColumn<QString>("failure");
    QTest::newRow("emitter misused") << "wrong_type"
                                     << "m[0/1]: weir_test_misuse.wrong_type: emitter misused: an int64 into column 0 ('s', string)";
    QTest::newRow("batch failed") << "give_up" << "m[0/1]: weir_test_misuse.give_up: cannot go on";
  }
  void pluginErrorsFailTheJob() {
    QFETCH(QString, function);
    QFETCH(QString, failure);
    json job = udfJob({{"plugin", "weir_test_misuse"}, {"function", function.toStdString()}});
    Collected c;
    std::string got;
    QCOMPARE(runText(job.dump(), dir_, c, {}, &got), std::string("FAILED"));
    QCOMPARE(QString::fromStdString(got), failure);
  }

  void shippingRefusesBadHash() {
    const fs::path cache = dir_ / "cache";
    const std::string bytes = readAll(kPluginDir / "libweir_example.so");
    const std::string sha = weir::cluster::sha256Hex(bytes);
    QCOMPARE(weir::cluster::sha256Hex("abc"), std::string("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    weir::cluster::PluginBlob blob{sha, "libweir_example.so", bytes};
    json shipped = json::array({weir::cluster::pluginToJson(blob)});
    const std::string wrong(64, 'a');
    shipped[0]["sha256"] = wrong;
    weir::JobPlan plan;
    weir::PlanNode n;
    n.id = "m";
    n.type = "udf";
    n.params = {{"plugin", "weir_example"}, {"_plugin_sha256", wrong}};
    plan.nodes.push_back(n);
    try {
      weir::cluster::installPlugins(plan, shipped, cache);
      QFAIL("a mismatching hash was accepted");
    } catch (const std::runtime_error& e) {
      QCOMPARE(std::string(e.what()), "plugin libweir_example.so: the bytes received hash to " + sha + ", not " + wrong +
                                          "; refusing to load it");
    }
    // Right bytes: stored by hash and used; a cache file that no longer matches is refused.
    shipped[0]["sha256"] = sha;
    plan.nodes[0].params["_plugin_sha256"] = sha;
    weir::cluster::installPlugins(plan, shipped, cache);
    QCOMPARE(plan.nodes[0].params["_library"].get<std::string>(), (cache / (sha + ".so")).string());
    QCOMPARE(weir::cluster::cachedPluginHashes(cache), std::vector<std::string>{sha});
    std::ofstream(cache / (sha + ".so"), std::ios::app) << "tampered";
    try {
      weir::cluster::installPlugins(plan, json::array(), cache);
      QFAIL("a tampered cache file was accepted");
    } catch (const std::runtime_error& e) {
      QVERIFY2(std::string(e.what()).starts_with("m: plugin weir_example: the cached " + (cache / (sha + ".so")).string() +
                                                 " hashes to "),
               e.what());
    }
  }

  void shippedToTaskManagers() {
    // The plugin exists only in the job's plugins/ folder under an unusual name: no
    // TaskManager finds it by itself, so it must travel with the deployment.
    const fs::path job = dir_ / "shipjob";
    fs::create_directories(job / "plugins");
    fs::create_directories(job / "out");
    fs::copy_file(kPluginDir / "libweir_example.so", job / "plugins" / "libshipped_example.so");
    std::ofstream(job / "events.csv") << readAll(dir_ / "events.csv");
    const std::string sha = weir::cluster::sha256Hex(readAll(job / "plugins" / "libshipped_example.so"));

    weir::cluster::LocalClusterOptions o;
    o.taskManagers = 2;
    o.slotsPerTaskManager = 2;
    o.dataDir = dir_ / "cluster";
    o.binDir = WEIR_BIN_DIR;
    auto cluster = weir::cluster::LocalCluster::start(o);
    const auto r = weir::cluster::httpRequest(cluster.url(), "POST",
                                              "/v1/jobs?base_dir=" + weir::cluster::urlEncode(job.string()),
                                              wordsJob("shipped_example", "file", 3).dump());
    QVERIFY2(r.status == 201, r.body.c_str());
    const std::string id = json::parse(r.body)["id"];
    json status;
    QTRY_VERIFY_WITH_TIMEOUT(
        (status = json::parse(weir::cluster::httpRequest(cluster.url(), "GET", "/v1/jobs/" + id).body),
         status["status"] == "FINISHED" || status["status"] == "FAILED"),
        60000);
    QVERIFY2(status["status"] == "FINISHED", status.dump().c_str());
    std::set<std::string> placed;
    for (const auto& s : status["subtasks"]) placed.insert(s["taskmanager"].get<std::string>());
    QCOMPARE(placed.size(), std::size_t{2});
    for (const std::string& tm : placed) {
      const fs::path cached = dir_ / "cluster" / tm / "plugin-cache" / (sha + ".so");
      QVERIFY2(fs::exists(cached), cached.c_str());
      QCOMPARE(weir::cluster::sha256Hex(readAll(cached)), sha);
    }

    // The same job in process, with the plugin from build/plugins.
    const fs::path local = dir_ / "local";
    fs::create_directories(local / "out");
    std::ofstream(local / "events.csv") << readAll(dir_ / "events.csv");
    Collected c;
    QCOMPARE(runText(wordsJob("weir_example", "file", 3).dump(), local, c), std::string("FINISHED"));
    const auto expected = weir::test::sortedFileLines(filesIn(local / "out", "rows-", "counts-"));
    QCOMPARE(expected.size(), std::size_t{10});
    QCOMPARE(weir::test::sortedFileLines(filesIn(job / "out", "rows-", "counts-")), expected);
    // The dead letter, in the file of the TaskManager that ran m's subtask.
    const auto bad = weir::test::sortedFileLines(filesIn(job / "out", "udf-words.dead-letters."));
    QCOMPARE(bad.size(), std::size_t{1});
    QCOMPARE(json::parse(bad[0])["reason"].get<std::string>(), std::string("weir_example.mask_email: 'bob' is not an email address"));
  }
};

QTEST_GUILESS_MAIN(TestUdf)
#include "test_udf.moc"
