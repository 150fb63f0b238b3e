// Keyed state and timers, without a job: key groups, the key dictionary, the four kinds of
// state on the heap backend (scoped to the current key and namespace), TTL with a fake
// clock, and timer order.
//
//   batch --hashKeys--> KeyDictionary --KeyId--> KeyedStateBackend { value, list, map,
//                                                 reducing } + TimerService<int64>

#include <QtTest>

#include <random>
#include <unordered_map>

#include "runtime/state/flat_index.h"

#include "runtime/partition.h"
#include "runtime/state/keyed_state.h"
#include "runtime/state/timers.h"

using namespace weir;

namespace {

RecordBatch keys(std::initializer_list<std::pair<std::int64_t, const char*>> rows) {
  static SchemaPtr s = makeSchema({{"id", Type::Int64}, {"name", Type::String}});
  BatchBuilder b(s);
  for (auto [id, name] : rows) {
    b.column(0).appendInt64(id);
    if (name) b.column(1).appendString(name);
    else b.column(1).appendNull();
    b.endRow();
  }
  return b.finish();
}

}  // namespace

class TestState : public QObject {
  Q_OBJECT

 private slots:
  void keyGroupRangesMatchPartitioning() {
    for (int p : {1, 2, 3, 4, 7, 128}) {
      int covered = 0;
      for (int k = 0; k < p; ++k) {
        const KeyGroupRange r = keyGroupRangeForSubtask(128, p, k);
        covered += r.size();
        for (int g = r.first; g < r.end; ++g) QCOMPARE(subtaskForKeyGroup(g, 128, p), k);
      }
      QCOMPARE(covered, 128);
    }
  }

  void dictionaryInternsAndForgets() {
    KeyDictionary d({Type::Int64, Type::String}, 128);
    const RecordBatch b = keys({{1, "a"}, {2, "a"}, {1, "a"}, {1, nullptr}, {2, "a"}});
    const int fields[] = {0, 1};
    std::vector<std::uint64_t> h;
    hashKeys(b, fields, h);
    std::vector<KeyId> ids;
    d.intern(b, fields, h, ids);
    QCOMPARE(ids[0], ids[2]);
    QCOMPARE(ids[1], ids[4]);
    QVERIFY(ids[0] != ids[1] && ids[0] != ids[3] && ids[1] != ids[3]);
    QCOMPARE(d.size(), std::size_t(3));
    QCOMPARE(d.keyGroup(ids[1]), keyGroupForHash(h[1], 128));
    // Values come back out as they went in, nulls included.
    auto idCol = std::make_shared<Column>(Type::Int64);
    auto nameCol = std::make_shared<Column>(Type::String);
    Column* cols[] = {idCol.get(), nameCol.get()};
    d.appendKey(ids[3], cols);
    d.appendKey(ids[1], cols);
    QCOMPARE(idCol->int64(0), std::int64_t(1));
    QVERIFY(nameCol->isNull(0));
    QCOMPARE(idCol->int64(1), std::int64_t(2));
    QCOMPARE(std::string(nameCol->str(1)), std::string("a"));
    // Keys without references are forgotten by sweep() and their ids reused.
    d.retain(ids[0]);
    d.sweep();
    QCOMPARE(d.size(), std::size_t(1));  // the retained one
    d.release(ids[0]);
    QCOMPARE(d.size(), std::size_t(1));  // ids stay valid until the next sweep
    d.sweep();
    QCOMPARE(d.size(), std::size_t(0));
    std::vector<KeyId> again;
    d.intern(b, fields, h, again);
    QCOMPARE(d.size(), std::size_t(3));
    QVERIFY(again[0] < 3 && again[1] < 3 && again[3] < 3);  // ids reused, not grown
  }

  /// FlatIndex against std::unordered_map under random inserts and erases, with a hash
  /// that puts many keys on the same few homes so probe runs wrap around and overlap
  /// (where backward-shift deletion can go wrong).
  void flatIndexMatchesAMapUnderChurn() {
    struct Crowded {
      std::size_t operator()(std::uint64_t k) const { return static_cast<std::size_t>(k % 7) * 5 + 13; }
    };
    using Index = FlatIndex<std::uint64_t, Crowded>;
    Index index;
    std::unordered_map<std::uint64_t, std::uint32_t> model;
    std::mt19937_64 rng(3);
    for (int step = 0; step < 200000; ++step) {
      const std::uint64_t k = rng() % 300;
      if (rng() % 3 == 0) {
        QCOMPARE(index.erase(k), model.erase(k) == 1);
      } else {
        const auto v = static_cast<std::uint32_t>(rng() % 1000);
        const auto [at, added] = index.tryEmplace(k, v);
        const auto [it, modelAdded] = model.try_emplace(k, v);
        QCOMPARE(added, modelAdded);
        QCOMPARE(*at, it->second);
      }
      if (step % 997 == 0) {
        QCOMPARE(index.size(), model.size());
        for (std::uint64_t q = 0; q < 300; ++q) {
          const auto it = model.find(q);
          QCOMPARE(index.find(q), it == model.end() ? Index::kNone : it->second);
        }
      }
    }
  }

  void stateIsScopedToKeyAndNamespace() {
    KeyedStateBackend be({0, 128}, 128, {Type::Int64, Type::String});
    const RecordBatch b = keys({{1, "a"}, {2, "b"}});
    const int fields[] = {0, 1};
    std::vector<std::uint64_t> h;
    hashKeys(b, fields, h);
    std::vector<KeyId> ids;
    be.keys().intern(b, fields, h, ids);

    auto& value = be.valueState<std::int64_t>({"v"});
    auto& list = be.listState<std::string>({"l"});
    auto& map = be.mapState<std::string, int>({"m"});
    auto& sum = be.reducingState<std::int64_t>({"s"}, [](auto a, auto b) { return a + b; });
    QCOMPARE(&be.valueState<std::int64_t>({"v"}), &value);  // one handle per name

    be.setCurrentKey(ids[0]);
    QVERIFY(!value.value());
    value.update(10);
    list.add("x");
    list.add("y");
    map.put("k", 1);
    sum.add(5);
    sum.add(7);
    value.setNamespace(99);
    value.update(11);
    value.setNamespace(0);

    be.setCurrentKey(ids[1]);
    QVERIFY(!value.value());
    QVERIFY(list.get().empty());
    QVERIFY(!map.get("k"));
    QVERIFY(!sum.get());
    value.update(20);

    be.setCurrentKey(ids[0]);
    QCOMPARE(*value.value(), std::int64_t(10));
    value.setNamespace(99);
    QCOMPARE(*value.value(), std::int64_t(11));
    value.setNamespace(0);
    QCOMPARE(list.get(), (std::vector<std::string>{"x", "y"}));
    QCOMPARE(*map.get("k"), 1);
    QCOMPARE(*sum.get(), std::int64_t(12));
    QCOMPARE(be.numEntries(), std::size_t(6));
    // Entries hold their keys; clearing everything forgets them.
    QCOMPARE(be.keys().size(), std::size_t(2));
    value.clear();
    value.setNamespace(99);
    value.clear();
    list.clear();
    map.remove("k");
    sum.clear();
    be.keys().sweep();
    QCOMPARE(be.keys().size(), std::size_t(1));
    QCOMPARE(be.numEntries(), std::size_t(1));
    // Per key group: the one entry left is under key 2's group.
    const int g = be.keys().keyGroup(ids[1]);
    QCOMPARE(be.tables().at("v")->sizeOfGroup(g), std::size_t(1));
    be.tables().at("v")->clearGroup(g);
    be.keys().sweep();
    QCOMPARE(be.numEntries(), std::size_t(0));
    QCOMPARE(be.keys().size(), std::size_t(0));
  }

  void ttlExpiresUnwrittenEntries() {
    KeyedStateBackend be({0, 128}, 128, {Type::Int64});
    std::int64_t now = 1000;
    be.setClock([&] { return now; });
    const KeyId k = be.keys().intern("k", 42);
    be.setCurrentKey(k);
    auto& v = be.valueState<int>({"v", StateTtl{100}});
    v.update(1);
    now = 1099;
    QVERIFY(v.value());
    now = 1100;
    QVERIFY(!v.value());  // expired on read
    v.update(2);
    now = 1300;
    be.expire(now);       // expired by a sweep
    QCOMPARE(be.numEntries(), std::size_t(0));
    be.keys().sweep();
    QCOMPARE(be.keys().size(), std::size_t(0));
  }

  /// Writing into an expired list or map (not read or swept since it expired) starts from
  /// empty: the expired contents never come back.
  void ttlWriteIntoExpiredEntryStartsEmpty() {
    KeyedStateBackend be({0, 128}, 128, {Type::Int64});
    std::int64_t now = 1000;
    be.setClock([&] { return now; });
    const KeyId k = be.keys().intern("k", 42);
    be.setCurrentKey(k);
    auto& list = be.listState<int>({"l", StateTtl{100}});
    auto& map = be.mapState<std::string, int>({"m", StateTtl{100}});
    list.add(1);
    list.add(2);
    map.put("old", 1);
    now = 1100;  // both expired, neither read
    list.add(3);
    map.put("new", 2);
    QCOMPARE(list.get(), (std::vector<int>{3}));
    QVERIFY(!map.contains("old"));
    QCOMPARE(*map.get("new"), 2);
    std::size_t entries = 0;
    map.forEach([&](const std::string&, const int&) { ++entries; });
    QCOMPARE(entries, std::size_t(1));
    // The entry's write time is fresh and its key is held once.
    now = 1199;
    QCOMPARE(list.get(), (std::vector<int>{3}));
    list.clear();
    map.clear();
    be.keys().sweep();
    QCOMPARE(be.keys().size(), std::size_t(0));
  }

  /// Timers fire in time order, ties in key-hash order (never in KeyId order: ids depend
  /// on arrival); a duplicate is one timer, a deleted one never fires, one registered
  /// already due fires in the same advance; a timer holds its key until it fires.
  void timersFireInTimeOrderOnce() {
    KeyedStateBackend be(KeyGroupRange{0, 128}, 128, {Type::Int64, Type::String});
    KeyDictionary& dict = be.keys();
    auto& timers = be.table<TimerService<std::int64_t>>(
        "timers", [&dict] { return std::make_unique<TimerService<std::int64_t>>(dict); });
    const std::vector<KeyId> k = dict.internRows(keys({{0, "a"}, {1, "b"}, {2, "c"}, {3, "d"}, {4, "e"}}),
                                                 std::vector<int>{0, 1});
    std::vector<std::string> fired;
    timers.registerEventTimeTimer(k[2], 0, 30);
    timers.registerEventTimeTimer(k[1], 5, 10);
    timers.registerEventTimeTimer(k[1], 5, 10);  // duplicate: one timer
    timers.registerEventTimeTimer(k[0], 0, 10);
    timers.registerEventTimeTimer(k[3], 0, 40);
    timers.deleteEventTimeTimer(k[3], 0, 40);
    QCOMPARE(timers.size(), std::size_t(3));
    auto name = [&](KeyId id) {
      for (std::size_t i = 0; i < k.size(); ++i)
        if (k[i] == id) return std::to_string(i);
      return std::string("?");
    };
    auto record = [&](const auto& t) {
      fired.push_back(std::to_string(t.time) + ":" + name(t.key));
      if (t.key == k[2]) timers.registerEventTimeTimer(k[4], 0, 25);  // already due: fires now
    };
    timers.advanceWatermark(9, record);
    QVERIFY(fired.empty());
    timers.advanceWatermark(30, record);
    const bool zeroFirst = dict.hash(k[0]) < dict.hash(k[1]);
    QCOMPARE(fired, (std::vector<std::string>{zeroFirst ? "10:0" : "10:1", zeroFirst ? "10:1" : "10:0", "30:2", "25:4"}));
    QCOMPARE(timers.numEventTimeTimers(), std::size_t(0));
    timers.registerProcessingTimeTimer(k[1], 0, 500);
    QCOMPARE(timers.nextProcessingTime(), std::int64_t(500));
    timers.advanceProcessingTime(499, record);
    QCOMPARE(fired.size(), std::size_t(4));
    timers.advanceProcessingTime(500, record);
    QCOMPARE(fired.back(), std::string("500:1"));
    QCOMPARE(timers.nextProcessingTime(), INT64_MAX);
    dict.sweep();  // every timer fired: no key is held any more
    QCOMPARE(dict.size(), std::size_t(0));
  }
};

QTEST_APPLESS_MAIN(TestState)
#include "test_state.moc"
