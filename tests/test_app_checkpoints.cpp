// The workbench's checkpoint timeline (issue 14, item 5):
//
//   timelineFromTheApisShapes   bodies shaped as docs/api.md gives GET /v1/jobs/{id} and
//                               GET /v1/jobs/{id}/checkpoints: the summary line, one bar per
//                               checkpoint in id order (failed and in-progress ones marked),
//                               a restart placed before the first checkpoint after it, one
//                               checkpoint's per-subtask details, a node's part of the latest
//                               completed checkpoint (chained nodes share their vertex's);
//                               node figures only while the job runs; a job without a
//                               checkpoint object says so instead of zeros; clear() forgets
//   checkpointsOnTheLocalCluster  RunController runs a checkpointed job (p=2, a shuffle, 3
//                               TaskManagers) on real daemons: checkpoints complete and reach
//                               the timeline and the node cards; a TaskManager running part of
//                               the job is killed: the restart is on the timeline with its
//                               cause and the new attempt restored from a checkpoint; after a
//                               cancel no node figure and no in-progress checkpoint remains;
//                               the next run, without a checkpoint object, shows none of the
//                               previous run's checkpoints and says it takes none

#include <QtTest>

#include <signal.h>

#include <nlohmann/json.hpp>

#include "checkpoint_timeline.h"
#include "cluster/http_client.h"
#include "run_controller.h"

using nlohmann::json;

namespace {

// GET /v1/jobs/{id} as docs/api.md shows it: a chain `bids -> euros` (vertex "bids", p=2)
// and a vertex "out" (p=1), one restart.
json jobBody(const std::string& status, bool checkpointing = true) {
  return json::parse(R"J({"id":"782b2c1343fc6a9b","name":"q","status":")J" + status + R"J(","attempt":2,"restarts":1,
    "chains":[{"index":0,"id":"bids","name":"bids -> euros","nodes":["bids","euros"],"parallelism":2},
              {"index":1,"id":"out","name":"out","nodes":["out"],"parallelism":1}],
    "subtasks":[],"restart_strategy":"fixed_delay",
    "restart_history":[{"attempt":2,"time_ms":1000250,"cause":"TaskManager taskmanager-2 lost (connection lost: eof)","delay_ms":200}],
    "checkpointing":)J" + (checkpointing ? "true" : "false") + R"J(,"restored_from":12})J");
}

// GET /v1/jobs/{id}/checkpoints: 12 completed (attempt 1), 13 failed, 14 completed
// (attempt 2, after the restart), 15 in progress.
json checkpointsBody() {
  return json::parse(R"J({"job":"782b2c1343fc6a9b","settings":{"interval_ms":100,"mode":"exactly_once"},
    "counts":{"completed":2,"failed":1,"in_progress":1},
    "summary":{"duration_ms":{"min":8,"avg":24,"max":40},"bytes":{"min":5120,"avg":60416,"max":115712}},
    "latest":{"completed":null,"failed":null,"restored":{"id":12,"attempt":2}},
    "history":[
     {"id":13,"attempt":1,"kind":"checkpoint","status":"FAILED","triggered_ms":1000100,"ended_ms":1000200,
      "duration_ms":100,"bytes":0,"acknowledged":2,"total":3,"max_sync_ms":0,"max_async_ms":0,"max_alignment_ms":0,
      "failure":"the attempt ended","path":"","subtasks":[]},
     {"id":12,"attempt":1,"kind":"checkpoint","status":"COMPLETED","triggered_ms":1000000,"ended_ms":1000008,
      "duration_ms":8,"bytes":5120,"acknowledged":3,"total":3,"max_sync_ms":1,"max_async_ms":2,"max_alignment_ms":0,
      "failure":null,"path":"/d/chk-12","subtasks":[
       {"vertex":"bids","subtask":0,"bytes":1000,"sync_ms":1,"async_ms":2,"alignment_ms":0,"finished":false},
       {"vertex":"bids","subtask":1,"bytes":1120,"sync_ms":0,"async_ms":1,"alignment_ms":0,"finished":false},
       {"vertex":"out","subtask":0,"bytes":3000,"sync_ms":0,"async_ms":0,"alignment_ms":0,"finished":false}]},
     {"id":14,"attempt":2,"kind":"savepoint","status":"COMPLETED","triggered_ms":1000600,"ended_ms":1000640,
      "duration_ms":40,"bytes":115712,"acknowledged":3,"total":3,"max_sync_ms":3,"max_async_ms":9,"max_alignment_ms":6,
      "failure":null,"path":"/d/savepoint-14","subtasks":[
       {"vertex":"out","subtask":0,"bytes":712,"sync_ms":1,"async_ms":1,"alignment_ms":6,"finished":false},
       {"vertex":"bids","subtask":1,"bytes":60000,"sync_ms":3,"async_ms":9,"alignment_ms":0,"finished":false},
       {"vertex":"bids","subtask":0,"bytes":55000,"sync_ms":2,"async_ms":4,"alignment_ms":5,"finished":true}]},
     {"id":15,"attempt":2,"kind":"checkpoint","status":"IN_PROGRESS","triggered_ms":1000700,"ended_ms":null,
      "duration_ms":null,"bytes":0,"acknowledged":1,"total":3,"max_sync_ms":0,"max_async_ms":0,"max_alignment_ms":0,
      "failure":null,"path":"","subtasks":[]}]})J");
}

json httpGet(const QString& url, const std::string& target) {
  const auto r = weir::cluster::httpRequest(url.toStdString(), "GET", target, "", "", "");
  return json::parse(r.body, nullptr, false);
}

QString checkpointedJob(const QString& name, const QString& out, bool checkpoint) {
  json j{{"weir", 1},
         {"name", name.toStdString()},
         {"parallelism", 2},
         {"restart", {{"strategy", "fixed_delay"}, {"max_attempts", 3}, {"delay_ms", 200}}},
         {"nodes",
          {{{"id", "bids"}, {"type", "source.generator"}, {"params", {{"table", "bid"}, {"events", 0}, {"rate", 2000}}}},
           {{"id", "per_auction"},
            {"type", "aggregate"},
            {"params", {{"key", {"auction"}}, {"aggregates", {{{"fn", "count"}, {"name", "n"}}}}}}},
           {{"id", "out"}, {"type", "sink.discard"}, {"parallelism", 1}}}},
         {"edges", {{{"from", "bids"}, {"to", "per_auction"}}, {{"from", "per_auction"}, {"to", "out"}}}}};
  if (checkpoint) j["checkpoint"] = {{"interval_ms", 300}};
  Q_UNUSED(out);
  return QString::fromStdString(j.dump());
}

}  // namespace

class TestAppCheckpoints : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;

 private slots:
  void timelineFromTheApisShapes() {
    CheckpointTimeline t;
    QCOMPARE(t.summaryText(), QString());  // nothing known: nothing said
    QVERIFY(!t.applyJob(json::array()));
    QVERIFY(!t.applyCheckpoints(json{{"counts", json::object()}}));
    QSignalSpy updated(&t, &CheckpointTimeline::updated);
    QVERIFY(t.applyJob(jobBody("RUNNING")));
    QVERIFY(t.applyCheckpoints(checkpointsBody()));
    QCOMPARE(updated.count(), 2);
    QVERIFY(t.running());
    QCOMPARE(t.completed(), 2);
    QCOMPARE(t.failed(), 1);
    QCOMPARE(t.inProgress(), 1);
    QCOMPARE(t.maxDurationMs(), 100.0);
    QCOMPARE(t.summaryText(), QString("2 completed · 1 failed · 1 in progress · duration 8 ms / 24 ms / 40 ms · "
                                      "size 5.0 KB / 59.0 KB / 113.0 KB (min / avg / max) · restored from 12 · "
                                      "1 restart"));

    const QVariantList bars = t.bars();
    QCOMPARE(bars.size(), 4);
    QCOMPARE(bars[0].toMap()["id"].toLongLong(), 12LL);  // in id order
    QCOMPARE(bars[0].toMap()["label"].toString(), QString("#12 · 8 ms · 5.0 KB · align 0 ms"));
    QCOMPARE(bars[1].toMap()["status"].toString(), QString("FAILED"));
    QCOMPARE(bars[1].toMap()["label"].toString(), QString("#13 · 100 ms · failed: the attempt ended"));
    QCOMPARE(bars[2].toMap()["label"].toString(), QString("#14 savepoint · 40 ms · 113.0 KB · align 6 ms"));
    QCOMPARE(bars[3].toMap()["durationMs"].toLongLong(), -1LL);
    QCOMPARE(bars[3].toMap()["label"].toString(), QString("#15 · in progress (1/3)"));

    const QVariantList restarts = t.restarts();
    QCOMPARE(restarts.size(), 1);
    QCOMPARE(restarts[0].toMap()["before"].toInt(), 2);  // after 13 (1000100), before 14 (1000600)
    QCOMPARE(restarts[0].toMap()["cause"].toString(), QString("TaskManager taskmanager-2 lost (connection lost: eof)"));
    QCOMPARE(restarts[0].toMap()["delayMs"].toLongLong(), 200LL);

    const QVariantMap c14 = t.checkpoint(14);
    QCOMPARE(c14["path"].toString(), QString("/d/savepoint-14"));
    QCOMPARE(c14["endedMs"].toLongLong(), 1000640LL);
    const QVariantList subs = c14["subtasks"].toList();
    QCOMPARE(subs.size(), 3);
    QCOMPARE(subs[0].toMap()["vertex"].toString(), QString("bids"));  // by vertex, then subtask
    QCOMPARE(subs[0].toMap()["subtask"].toInt(), 0);
    QCOMPARE(subs[0].toMap()["alignmentMs"].toLongLong(), 5LL);
    QVERIFY(subs[0].toMap()["finished"].toBool());
    QCOMPARE(subs[2].toMap()["vertex"].toString(), QString("out"));
    QVERIFY(t.checkpoint(99).isEmpty());

    // Nodes: the latest completed checkpoint (14), over the subtasks of their vertex.
    const QVariantMap euros = t.node("euros");  // chained into vertex "bids"
    QCOMPARE(euros, t.node("bids"));
    QCOMPARE(euros["checkpoint"].toLongLong(), 14LL);
    QCOMPARE(euros["bytes"].toLongLong(), 115000LL);
    QCOMPARE(euros["durationMs"].toLongLong(), 12LL);   // subtask 1: 3 + 9
    QCOMPARE(euros["alignmentMs"].toLongLong(), 5LL);
    QCOMPARE(euros["slowestSubtask"].toInt(), 1);       // 12 ms against 0's 11
    QCOMPARE(euros["text"].toString(), QString("chk 14 · 112.3 KB · 12 ms · align 5 ms · slowest #1"));
    QCOMPARE(t.node("out")["text"].toString(), QString("chk 14 · 712 B · 2 ms · align 6 ms · slowest #0"));
    QVERIFY(t.node("nope").isEmpty());

    // Once the job has ended, the cards show no checkpoint figures; the timeline stays.
    QVERIFY(t.applyJob(jobBody("CANCELED")));
    QVERIFY(!t.running());
    QVERIFY(t.node("bids").isEmpty());
    QCOMPARE(t.bars().size(), 4);

    // A job without a checkpoint object: said so, not zeros.
    CheckpointTimeline none;
    QVERIFY(none.applyJob(jobBody("RUNNING", false)));
    QCOMPARE(none.summaryText(), QString("no checkpoints (the job has no checkpoint object)"));
    QVERIFY(none.node("bids").isEmpty());
    QVERIFY(none.bars().isEmpty());
    // Checkpointing, none yet.
    CheckpointTimeline fresh;
    QVERIFY(fresh.applyJob(json::parse(R"J({"id":"a","status":"RUNNING","checkpointing":true,"restart_history":[],
                                           "restored_from":null,"chains":[]})J")));
    QVERIFY(fresh.applyCheckpoints(json::parse(R"J({"job":"a","counts":{"completed":0,"failed":0,"in_progress":0},
        "summary":{"duration_ms":null,"bytes":null},"latest":{"completed":null,"failed":null,"restored":null},"history":[]})J")));
    QCOMPARE(fresh.summaryText(), QString("no checkpoint yet"));

    t.clear();
    QCOMPARE(t.summaryText(), QString());
    QVERIFY(t.bars().isEmpty());
    QVERIFY(t.restarts().isEmpty());
    QVERIFY(t.node("bids").isEmpty());
  }

  void checkpointsOnTheLocalCluster() {
    RunController run;
    run.setProperty("dataDir", tmp_.filePath("cluster"));
    run.setProperty("taskManagers", 3);
    run.setProperty("pollIntervalMs", 200);
    CheckpointTimeline* t = run.checkpoints();
    run.runText(checkpointedJob("checkpointed", tmp_.filePath("c.csv"), true), tmp_.path());
    QTRY_VERIFY_WITH_TIMEOUT(run.jobStatus() == "RUNNING", 30000);
    QTRY_VERIFY_WITH_TIMEOUT(t->completed() >= 2 && !t->node("per_auction").isEmpty(), 30000);
    QVERIFY(t->checkpointing());
    QVERIFY2(t->summaryText().contains(" completed · ") && t->summaryText().contains("(min / avg / max)"),
             qPrintable(t->summaryText()));
    // Every subtask of the three vertices took part: bids 2, per_auction 2, out 1.
    const QVariantMap node = t->node("per_auction");
    const QVariantMap latest = t->checkpoint(node["checkpoint"].toLongLong());
    QCOMPARE(latest["status"].toString(), QString("COMPLETED"));
    QCOMPARE(latest["subtasks"].toList().size(), 5);
    qint64 bytes = 0;
    for (const QVariant& s : latest["subtasks"].toList())
      if (s.toMap()["vertex"] == "per_auction") bytes += s.toMap()["bytes"].toLongLong();
    QCOMPARE(node["bytes"].toLongLong(), bytes);
    QVERIFY(bytes > 0);  // the counts per auction are state

    // Kill a TaskManager that runs part of the job: the job restarts from a checkpoint.
    const json job = httpGet(run.clusterUrl(), "/v1/jobs/" + run.jobId().toStdString());
    const QString victim = QString::fromStdString(job["subtasks"][0].value("taskmanager", ""));
    const int index = run.logNames().indexOf(victim);
    QVERIFY2(index > 0, qPrintable(victim));
    QCOMPARE(::kill(run.processIds()[index], SIGKILL), 0);
    QTRY_VERIFY_WITH_TIMEOUT(t->restarts().size() == 1 && run.jobStatus() == "RUNNING", 60000);
    const QVariantMap restart = t->restarts()[0].toMap();
    QVERIFY2(restart["cause"].toString().contains(victim), qPrintable(restart["cause"].toString()));
    QCOMPARE(restart["attempt"].toInt(), 2);
    QTRY_VERIFY_WITH_TIMEOUT(t->summaryText().contains("restored from "), 30000);
    QVERIFY(t->summaryText().endsWith("1 restart"));
    QTRY_VERIFY_WITH_TIMEOUT(t->bars().last().toMap()["attempt"].toInt() == 2, 30000);
    qInfo() << "after the restart:" << t->summaryText() << restart["cause"].toString();

    QSignalSpy ended(&run, &RunController::jobEnded);
    run.cancel();
    QTRY_VERIFY_WITH_TIMEOUT(ended.count() == 1, 30000);
    QTRY_VERIFY_WITH_TIMEOUT(!t->running(), 30000);
    QTRY_COMPARE_WITH_TIMEOUT(t->inProgress(), 0, 30000);
    QVERIFY(t->node("per_auction").isEmpty());
    QVERIFY(t->node("bids").isEmpty());
    const int kept = t->bars().size();
    qInfo() << "after the cancel:" << t->summaryText();
    QVERIFY(kept >= 3);  // the past run's timeline stays

    run.runText(checkpointedJob("plain", tmp_.filePath("p.csv"), false), tmp_.path());
    QVERIFY(t->bars().isEmpty());  // forgotten as the run starts
    QTRY_VERIFY_WITH_TIMEOUT(run.jobStatus() == "RUNNING" && t->known(), 30000);
    QCOMPARE(t->summaryText(), QString("no checkpoints (the job has no checkpoint object)"));
    QVERIFY(t->bars().isEmpty());
    QVERIFY(t->restarts().isEmpty());
    run.cancel();
    QTRY_VERIFY_WITH_TIMEOUT(ended.count() == 2, 30000);
  }
};

QTEST_MAIN(TestAppCheckpoints)
#include "test_app_checkpoints.moc"
