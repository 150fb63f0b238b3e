// Whole jobs, end to end, through the same path as `weir run`: load, validate, plan, run on
// the local executor. Outputs are compared exactly (after sorting: parallel subtasks
// interleave) against results computed independently here, from the input files or the
// generator, with plain C++ loops.
//
//   samples/bid-stats.weir.json:   bids(csv) -> pricey(filter) -> euros(map) -> out(csv, p=1)
//   samples/nexmark-q1.weir.json:  bids(generator) -> euros(map) -> sampled(filter) -> out(jsonl, part files)
//   samples/top-bids.weir.json:    bids(generator, p=2) --hash(auction)--> per_auction(window 10 s) -> out(csv, p=1)
//
// The CLI itself is run as a process for its exit codes and messages.

#include <QtTest>

#include "job_harness.h"

#include <fstream>
#include <map>

#include "core/text.h"
#include "runtime/io/nexmark.h"
#include "runtime/local_executor.h"
#include "runtime/planner.h"

using namespace weir;
namespace fs = std::filesystem;

namespace {

const fs::path kSource = WEIR_SOURCE_DIR;
const QString kWeir = QStringLiteral(WEIR_BIN_DIR "/weir");

/// Copies a sample job and its data into `dir` so that outputs land there.
using test::copySample;

JobStatus runToEnd(const fs::path& job, const JobOverrides& overrides, JobMetrics* metrics = nullptr,
                   std::string* failure = nullptr) {
  return weir::test::runJobFile(job, overrides, metrics, failure);
}

/// The expected output of bid-stats, from data/bids.csv with plain C++: rows with five
/// fields and an integer price, price > 1000 and a channel; euros rounded to cents.
std::vector<std::string> expectedBidStats() {
  std::vector<std::string> rows;
  const auto lines = test::readLines(kSource / "samples/data/bids.csv");
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const auto f = test::split(lines[i], ',');
    if (f.size() != 5) continue;
    const auto price = parseInt64(f[2]);
    if (!price || *price <= 1000 || f[3].empty()) continue;
    std::string channel = f[3];
    for (char& c : channel) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    // price * 0.908 has at most three decimals and never ends in 5 (908 is even): cents
    // are exact in integers.
    const std::int64_t cents = (*price * 908 + 5) / 10;
    const std::string band = *price >= 5000 ? "high" : *price >= 2000 ? "mid" : "low";
    rows.push_back(f[0] + "," + channel + "," + formatDouble(static_cast<double>(cents) / 100) + "," + band +
                   "," + f[4]);
  }
  std::sort(rows.begin(), rows.end());
  return rows;
}

}  // namespace

class TestJobs : public QObject {
  Q_OBJECT

 private slots:
  void bidStatsExactOutput_data() {
    QTest::addColumn<int>("parallelism");
    QTest::newRow("p=1") << 1;
    QTest::newRow("p=4") << 4;
  }
  void bidStatsExactOutput() {
    QFETCH(int, parallelism);
    QTemporaryDir dir;
    const fs::path job = copySample(dir, "bid-stats.weir.json");
    JobOverrides o;
    o.parallelism = parallelism;
    JobMetrics m;
    QCOMPARE(runToEnd(job, o, &m), JobStatus::Finished);

    auto out = test::readLines(job.parent_path() / "out/pricey-bids.csv");
    QVERIFY(!out.empty());
    QCOMPARE(out.front(), std::string("auction,channel,price_eur,band,date_time"));
    out.erase(out.begin());
    std::sort(out.begin(), out.end());
    const auto expected = expectedBidStats();
    QCOMPARE(out.size(), expected.size());
    for (std::size_t i = 0; i < out.size(); ++i) QCOMPARE(out[i], expected[i]);

    // Three malformed rows: counted on the source and written with file, line and reason.
    QCOMPARE(m.deadLetters, std::int64_t(3));
    QCOMPARE(m.nodes[0].recordsOut, std::int64_t(1997));
    const auto dead = test::readLines(job.parent_path() / "out/bid-stats.dead-letters.jsonl");
    QCOMPARE(dead.size(), std::size_t(3));
    std::vector<std::int64_t> lineNumbers;
    for (const auto& d : dead) {
      const auto j = nlohmann::json::parse(d);
      QCOMPARE(j.at("node").get<std::string>(), std::string("bids"));
      QVERIFY(j.at("file").get<std::string>().ends_with("data/bids.csv"));
      QVERIFY(!j.at("reason").get<std::string>().empty());
      lineNumbers.push_back(j.at("line").get<std::int64_t>());
    }
    std::sort(lineNumbers.begin(), lineNumbers.end());
    QCOMPARE(lineNumbers, (std::vector<std::int64_t>{139, 1026, 1502}));
  }

  void badRecordFailsWhenTheJobSaysSo() {
    QTemporaryDir dir;
    const fs::path job = copySample(dir, "bid-stats.weir.json");
    JobOverrides o;
    o.parallelism = 1;
    o.sets = {"bids.on_bad_record=fail"};
    // An earlier result must survive a failed run (the sink writes FILE.inprogress and
    // renames it only when it finishes).
    fs::create_directories(job.parent_path() / "out");
    std::ofstream(job.parent_path() / "out/pricey-bids.csv") << "an earlier result\n";
    std::string failure;
    QCOMPARE(runToEnd(job, o, nullptr, &failure), JobStatus::Failed);
    QCOMPARE(test::readLines(job.parent_path() / "out/pricey-bids.csv"), std::vector<std::string>{"an earlier result"});
    QVERIFY(fs::exists(job.parent_path() / "out/pricey-bids.csv.inprogress"));
    QVERIFY2(failure.starts_with("bids[0/1]: bad record at "), failure.c_str());
    QVERIFY2(failure.find("bids.csv:139") != std::string::npos, failure.c_str());
  }

  void nexmarkSameResultAtAnyParallelism() {
    // Independent reference: the generator's rows, filtered and mapped by hand.
    std::vector<std::string> expected;
    {
      NexmarkGenerator gen(NexmarkTable::Bid, {});
      BatchBuilder b(gen.schema());
      gen.generate(0, 200000, 1, b);
      const RecordBatch batch = b.finish();
      for (std::size_t i = 0; i < batch.numRows(); ++i) {
        const std::int64_t auction = batch.column(0).int64(i);
        if (auction % 123 != 0) continue;
        // Written as the sink writes doubles (shortest round-trip form), then read back
        // the same way as the output, so that 511658.0 and 511658 compare equal.
        const std::string line = "{\"auction\":" + std::to_string(auction) +
                                 ",\"bidder\":" + std::to_string(batch.column(1).int64(i)) +
                                 ",\"price_eur\":" + formatDouble(static_cast<double>(batch.column(2).int64(i)) * 0.908) +
                                 ",\"date_time\":\"" + formatTimestamp(batch.column(5).int64(i)) + "\"}";
        expected.push_back(nlohmann::json::parse(line).dump());
      }
      std::sort(expected.begin(), expected.end());
    }
    QVERIFY(expected.size() > 100);
    for (int p : {1, 3, 4}) {
      QTemporaryDir dir;
      const fs::path job = copySample(dir, "nexmark-q1.weir.json");
      JobOverrides o;
      o.parallelism = p;
      QCOMPARE(runToEnd(job, o), JobStatus::Finished);
      std::vector<std::string> rows;
      for (const auto& e : fs::directory_iterator(job.parent_path() / "out")) {
        if (e.path().extension() != ".jsonl") continue;
        for (auto& line : test::readLines(e.path())) rows.push_back(nlohmann::json::parse(line).dump());
      }
      std::sort(rows.begin(), rows.end());
      QCOMPARE(rows.size(), expected.size());
      for (std::size_t i = 0; i < rows.size(); ++i)
        QVERIFY2(rows[i] == expected[i], qPrintable(QString("parallelism %1: %2 != %3").arg(p)
                                                        .arg(QString::fromStdString(rows[i]), QString::fromStdString(expected[i]))));
    }
  }

  /// Tumbling 10 s windows per auction (count, max price), at parallelism 1 and 4, against
  /// a plain loop over the same generated bids.
  void topBidsExactOutput() {
    std::vector<std::string> expected;
    {
      NexmarkGenerator gen(NexmarkTable::Bid, {});
      BatchBuilder b(gen.schema());
      gen.generate(0, 100000, 1, b);
      const RecordBatch batch = b.finish();
      std::map<std::pair<std::int64_t, std::int64_t>, std::pair<std::int64_t, std::int64_t>> windows;
      for (std::size_t i = 0; i < batch.numRows(); ++i) {
        const std::int64_t t = batch.column(5).int64(i);
        auto& w = windows[{batch.column(0).int64(i), t - t % 10000}];
        ++w.first;
        w.second = std::max(w.second, batch.column(2).int64(i));
      }
      for (const auto& [k, v] : windows)
        expected.push_back(std::to_string(k.first) + "," + formatTimestamp(k.second) + "," +
                           formatTimestamp(k.second + 10000) + "," + std::to_string(v.first) + "," +
                           std::to_string(v.second));
      std::sort(expected.begin(), expected.end());
    }
    for (int p : {1, 4}) {
      QTemporaryDir dir;
      const fs::path job = copySample(dir, "top-bids.weir.json");
      JobOverrides o;
      o.parallelism = p;
      QCOMPARE(runToEnd(job, o), JobStatus::Finished);
      auto out = test::readLines(job.parent_path() / "out/top-bids.csv");
      QVERIFY(!out.empty());
      QCOMPARE(out.front(), std::string("auction,window_start,window_end,bids,top"));
      out.erase(out.begin());
      std::sort(out.begin(), out.end());
      QCOMPARE(out.size(), expected.size());
      for (std::size_t i = 0; i < out.size(); ++i) QCOMPARE(out[i], expected[i]);
    }
  }

  void cliRunsAJobAndSummarizes() {
    QTemporaryDir dir;
    const fs::path job = copySample(dir, "bid-stats.weir.json");
    QProcess weir;
    weir.start(kWeir, {"run", QString::fromStdString(job.string()), "--parallelism", "3"});
    QVERIFY(weir.waitForFinished(60000));
    const QString out = weir.readAllStandardError();  // the summary; stdout is for records
    QCOMPARE(weir.exitCode(), 0);
    QVERIFY2(out.contains("FINISHED in"), qPrintable(out));
    QVERIFY2(out.contains("1,997 records read"), qPrintable(out));
    QVERIFY2(out.contains("3 malformed records"), qPrintable(out));
    QVERIFY(fs::exists(job.parent_path() / "out/pricey-bids.csv"));
  }

  void cliRefusesABrokenJobListingEveryError() {
    QTemporaryDir dir;
    const fs::path job = fs::path(dir.path().toStdString()) / "broken.weir.json";
    std::ofstream(job) << R"({"weir": 1, "name": "broken", "nodes": [
      {"id": "src", "type": "source.generator", "params": {"table": "bid", "events": 10}},
      {"id": "f", "type": "filter", "params": {"where": "prize > 10"}},
      {"id": "m", "type": "mapp", "params": {}},
      {"id": "out", "type": "sink.stdout"}],
      "edges": [{"from": "src", "to": "f"}, {"from": "f", "to": "out"}, {"from": "m", "to": "out"}]})";
    QProcess weir;
    weir.start(kWeir, {"run", QString::fromStdString(job.string())});
    QVERIFY(weir.waitForFinished(60000));
    const QString err = weir.readAllStandardError();
    QCOMPARE(weir.exitCode(), 2);
    QVERIFY2(err.contains("f: where: at 0: unknown field 'prize'"), qPrintable(err));
    QVERIFY2(err.contains("m: type: unknown operator type 'mapp' (did you mean 'map'?)"), qPrintable(err));
    QVERIFY2(err.contains("the job was not run"), qPrintable(err));
  }

  void cliSetOverridesAParam() {
    QTemporaryDir dir;
    const fs::path job = copySample(dir, "nexmark-q1.weir.json");
    QProcess weir;
    weir.start(kWeir, {"run", QString::fromStdString(job.string()), "--parallelism", "1", "--set",
                       "bids.events=1000", "--set", "out.path=out/small.jsonl"});
    QVERIFY(weir.waitForFinished(60000));
    QCOMPARE(weir.exitCode(), 0);
    QVERIFY2(QString(weir.readAllStandardError()).contains("1,000 records read"), "summary");
    QVERIFY(fs::exists(job.parent_path() / "out/small.jsonl"));
  }
};

QTEST_GUILESS_MAIN(TestJobs)
#include "test_jobs.moc"
