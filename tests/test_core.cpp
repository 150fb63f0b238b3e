// Core data model: text forms of timestamps and doubles, columns, batches.
#include <QtTest>

#include "core/batch.h"
#include "core/text.h"

using namespace weir;

class TestCore : public QObject {
  Q_OBJECT
 private slots:
  void timestampRoundTrip() {
    QCOMPARE(formatTimestamp(0), std::string("1970-01-01T00:00:00.000Z"));
    QCOMPARE(formatTimestamp(-1), std::string("1969-12-31T23:59:59.999Z"));
    QCOMPARE(*parseTimestamp("2026-11-24T12:00:00.000Z"), std::int64_t(1795521600000));
    QCOMPARE(formatTimestamp(1795521600000), std::string("2026-11-24T12:00:00.000Z"));
    QCOMPARE(*parseTimestamp("2026-11-24T13:00:00+01:00"), std::int64_t(1795521600000));
    QCOMPARE(*parseTimestamp("1795521600000"), std::int64_t(1795521600000));
    QVERIFY(!parseTimestamp("2026-13-01"));
    QVERIFY(!parseTimestamp("yesterday"));
  }
  void doublesShortest() {
    QCOMPARE(formatDouble(0.1), std::string("0.1"));
    QCOMPARE(formatDouble(3.0), std::string("3"));
    QCOMPARE(*parseDouble("2.5"), 2.5);
    QVERIFY(!parseDouble("2.5x"));
  }
  void batchSelectKeepsNullsAndTime() {
    auto schema = makeSchema({{"a", Type::Int64}, {"s", Type::String}});
    BatchBuilder b(schema);
    for (int i = 0; i < 5; ++i) {
      if (i == 2) b.column(0).appendNull(); else b.column(0).appendInt64(i);
      b.column(1).appendString(std::string(i, 'x'));
      b.endRow(1000 + i);
    }
    RecordBatch batch = b.finish();
    std::vector<std::uint32_t> rows{4, 2, 0};
    RecordBatch sel = batch.select(rows);
    QCOMPARE(sel.numRows(), std::size_t(3));
    QCOMPARE(sel.column(0).int64(0), std::int64_t(4));
    QVERIFY(sel.column(0).isNull(1));
    QCOMPARE(sel.column(0).nullCount(), std::size_t(1));
    QCOMPARE(sel.column(1).str(0), std::string_view("xxxx"));
    QCOMPARE(sel.eventTime(1), std::int64_t(1002));
  }
};

QTEST_APPLESS_MAIN(TestCore)
#include "test_core.moc"
