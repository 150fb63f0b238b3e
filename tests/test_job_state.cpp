// The job state machine and restart strategies of cluster/job_state.h, alone (no
// processes): which transitions exist, and what each strategy decides for a sequence of
// failures at given times.

#include <QtTest>

#include "cluster/job_state.h"

using namespace weir::cluster;
using nlohmann::json;

class TestJobState final : public QObject {
  Q_OBJECT

 private slots:
  void transitionsFollowTheDiagram() {
    using S = JobState;
    QVERIFY(canTransition(S::Created, S::Running));
    QVERIFY(canTransition(S::Created, S::Canceled));
    QVERIFY(canTransition(S::Running, S::Failing));
    QVERIFY(canTransition(S::Running, S::Canceling));
    QVERIFY(canTransition(S::Running, S::Finished));
    QVERIFY(canTransition(S::Failing, S::Restarting));
    QVERIFY(canTransition(S::Failing, S::Failed));
    QVERIFY(canTransition(S::Restarting, S::Running));
    QVERIFY(canTransition(S::Restarting, S::Canceled));
    QVERIFY(canTransition(S::Canceling, S::Canceled));
    // Not without their intermediate state: a failure must let the attempt end first.
    QVERIFY(!canTransition(S::Running, S::Failed));
    QVERIFY(!canTransition(S::Running, S::Restarting));
    QVERIFY(!canTransition(S::Running, S::Canceled));
    QVERIFY(!canTransition(S::Failing, S::Running));
    QVERIFY(!canTransition(S::Canceling, S::Restarting));
    for (S end : {S::Finished, S::Failed, S::Canceled}) {
      QVERIFY(isTerminal(end));
      for (S to : {S::Created, S::Running, S::Restarting, S::Canceling, S::Failing, S::Finished, S::Failed,
                   S::Canceled})
        QVERIFY(!canTransition(end, to));
    }
    QCOMPARE(stateName(S::Restarting), std::string_view("RESTARTING"));
    QCOMPARE(*parseSubtaskState("CANCELED"), SubtaskState::Canceled);
    QVERIFY(!parseSubtaskState("canceled"));
    QVERIFY(!parseSubtaskState("DONE"));
  }

  void noneNeverRestarts() {
    RestartTracker t(RestartStrategy::fromJson({{"strategy", "none"}}));
    const auto d = t.onFailure(1000, 0);
    QVERIFY(!d.restart);
    QCOMPARE(d.reason, std::string("the restart strategy is none"));
    QCOMPARE(t.restarts(), 0);
  }

  void fixedDelayCountsAttempts() {
    RestartTracker t(RestartStrategy::fromJson({{"strategy", "fixed_delay"}, {"max_attempts", 2}, {"delay_ms", 250}}));
    for (int i = 0; i < 2; ++i) {
      const auto d = t.onFailure(1000 * (i + 1), 1000 * i);
      QVERIFY(d.restart);
      QCOMPARE(d.delayMs, std::int64_t{250});
    }
    const auto d = t.onFailure(5000, 4000);
    QVERIFY(!d.restart);
    QVERIFY2(d.reason.find("exhausted") != std::string::npos, d.reason.c_str());
    QVERIFY2(d.reason.find("2 restarts, 250 ms apart") != std::string::npos, d.reason.c_str());
    QCOMPARE(t.restarts(), 2);
  }

  void exponentialDelayGrowsCapsAndResets() {
    RestartTracker t(RestartStrategy::fromJson({{"strategy", "exponential_delay"},
                                                {"max_attempts", 10},
                                                {"delay_ms", 100},
                                                {"multiplier", 3.0},
                                                {"max_delay_ms", 1000},
                                                {"reset_after_ms", 60000}}));
    std::vector<std::int64_t> delays;
    std::int64_t now = 0;
    for (int i = 0; i < 5; ++i) {
      const auto d = t.onFailure(now + 10, now);  // each attempt fails 10 ms after it starts
      QVERIFY(d.restart);
      delays.push_back(d.delayMs);
      now += 10 + d.delayMs;
    }
    QCOMPARE(delays, (std::vector<std::int64_t>{100, 300, 900, 1000, 1000}));
    // An attempt that ran longer than reset_after_ms: the next wait starts over.
    const auto d = t.onFailure(now + 60000, now);
    QVERIFY(d.restart);
    QCOMPARE(d.delayMs, std::int64_t{100});
  }

  void exponentialDelayGivesUpAfterMaxAttempts() {
    RestartTracker t(RestartStrategy::fromJson(
        {{"strategy", "exponential_delay"}, {"max_attempts", 1}, {"delay_ms", 5}, {"multiplier", 2.0},
         {"max_delay_ms", 50}, {"reset_after_ms", 60000}}));
    QVERIFY(t.onFailure(10, 0).restart);
    QVERIFY(!t.onFailure(20, 15).restart);
  }

  void failureRateLooksAtTheInterval() {
    RestartTracker t(RestartStrategy::fromJson(
        {{"strategy", "failure_rate"}, {"max_attempts", 2}, {"interval_ms", 1000}, {"delay_ms", 10}}));
    QVERIFY(t.onFailure(0, 0).restart);
    QVERIFY(t.onFailure(500, 0).restart);
    // A third failure within 1000 ms of the first two: too many.
    auto d = t.onFailure(900, 0);
    QVERIFY(!d.restart);
    QVERIFY2(d.reason.find("more than 2 failures within 1000 ms") != std::string::npos, d.reason.c_str());

    RestartTracker u(RestartStrategy::fromJson(
        {{"strategy", "failure_rate"}, {"max_attempts", 2}, {"interval_ms", 1000}, {"delay_ms", 10}}));
    QVERIFY(u.onFailure(0, 0).restart);
    QVERIFY(u.onFailure(500, 0).restart);
    QVERIFY(u.onFailure(1600, 0).restart);  // the first two are older than the interval
    QCOMPARE(u.restarts(), 3);
  }
};

QTEST_GUILESS_MAIN(TestJobState)
#include "test_job_state.moc"
