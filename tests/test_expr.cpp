// The expression language (core/expr.h, docs/expressions.md): parsing, precedence, types,
// SQL null semantics, casts, functions, error positions and messages, and evaluation over
// batches with nulls (including selectTrue's row indices).
//
// Most cases are data rows: an expression, its expected type, and the expected value of
// every row of the sample batch below, written as Value::toString() joined by ", ".
//
//   row  i                     j     d       s           b      t                          "my field"  we"ird
//   0    1                     2     1.5     'abc'       TRUE   2026-11-24T12:00:00.000Z   10          'x'
//   1    -7                    3     -2.25   'O''Reilly' FALSE  1970-01-01T00:00:00.000Z   20          'y'
//   2    NULL                  5     NULL    NULL        NULL   NULL                       30          NULL
//   3    0                     NULL  0       ''          TRUE   1969-12-31T23:59:59.999Z   NULL        'z'
//   4    9223372036854775807   1     1e+300  'héllo'     FALSE  1970-01-01T00:00:01.000Z   50          'w'
#include <QtTest>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "core/batch.h"
#include "core/expr.h"

using namespace weir;

namespace {

SchemaPtr sampleSchema() {
  return makeSchema({{"i", Type::Int64},
                     {"j", Type::Int64},
                     {"d", Type::Double},
                     {"s", Type::String},
                     {"b", Type::Bool},
                     {"t", Type::Timestamp},
                     {"my field", Type::Int64},
                     {"we\"ird", Type::String}});
}

RecordBatch sampleBatch() {
  const Value N = Value::null(Type::Int64);
  auto str = [](const char* s) { return Value::string(s); };
  BatchBuilder b(sampleSchema());
  const std::vector<std::vector<Value>> rows = {
      {Value::int64(1), Value::int64(2), Value::dbl(1.5), str("abc"), Value::boolean(true),
       Value::timestamp(1795521600000), Value::int64(10), str("x")},
      {Value::int64(-7), Value::int64(3), Value::dbl(-2.25), str("O'Reilly"), Value::boolean(false),
       Value::timestamp(0), Value::int64(20), str("y")},
      {N, Value::int64(5), Value::null(Type::Double), Value::null(Type::String),
       Value::null(Type::Bool), Value::null(Type::Timestamp), Value::int64(30), Value::null(Type::String)},
      {Value::int64(0), N, Value::dbl(0.0), str(""), Value::boolean(true), Value::timestamp(-1), N,
       str("z")},
      {Value::int64(INT64_MAX), Value::int64(1), Value::dbl(1e300), str("h\xC3\xA9llo"),
       Value::boolean(false), Value::timestamp(1000), Value::int64(50), str("w")},
  };
  for (const auto& r : rows) b.appendRow(r);
  return b.finish();
}

std::string render(const Column& c) {
  std::string s;
  for (std::size_t r = 0; r < c.size(); ++r) {
    if (r) s += ", ";
    s += c.value(r).toString();
  }
  return s;
}

std::unique_ptr<Expr> compileOrFail(const std::string& text, const Schema& schema) {
  CompiledExpr c = compileExpression(text, schema);
  if (!c) {
    qWarning("%s: %s", text.c_str(), c.error->toString().c_str());
    return nullptr;
  }
  return std::move(c.expr);
}

std::vector<std::uint32_t> select(const Expr& e, const RecordBatch& batch) {
  std::vector<std::uint32_t> rows;
  e.selectTrue(batch, rows);
  return rows;
}

}  // namespace

class TestExpr : public QObject {
  Q_OBJECT

 private slots:
  // ---- evaluation over the sample batch, field by field

  void rows_data() {
    QTest::addColumn<QString>("expr");
    QTest::addColumn<QString>("type");
    QTest::addColumn<QString>("expected");
    auto row = [](const char* name, const char* expr, const char* type, const char* expected) {
      QTest::newRow(name) << QString::fromUtf8(expr) << QString(type) << QString::fromUtf8(expected);
    };
    // fields, quoted names
    row("field", "i", "int64", "1, -7, NULL, 0, 9223372036854775807");
    row("quoted field", "\"my field\" + 1", "int64", "11, 21, 31, NULL, 51");
    row("quoted field escape", "\"we\"\"ird\"", "string", "'x', 'y', NULL, 'z', 'w'");
    // arithmetic: nulls propagate, overflow and division by zero are NULL
    row("add", "i + j", "int64", "3, -4, NULL, NULL, NULL");
    row("sub", "i - j", "int64", "-1, -10, NULL, NULL, 9223372036854775806");
    row("mul", "i * j", "int64", "2, -21, NULL, NULL, 9223372036854775807");
    row("mul overflow", "i * 2", "int64", "2, -14, NULL, 0, NULL");
    row("div truncates", "i / j", "int64", "0, -2, NULL, NULL, 9223372036854775807");
    row("div small", "j / i", "int64", "2, 0, NULL, NULL, 0");
    row("div by 2", "i / 2", "int64", "0, -3, NULL, 0, 4611686018427387903");
    row("mod by 4", "i % 4", "int64", "1, -3, NULL, 0, 3");
    row("div by -1", "i / -1", "int64", "-1, 7, NULL, 0, -9223372036854775807");
    row("mod by -3", "i % -3", "int64", "1, -1, NULL, 0, 1");
    row("mod sign of dividend", "i % j", "int64", "1, -1, NULL, NULL, 0");
    row("div by zero column", "j / (i - i)", "int64", "NULL, NULL, NULL, NULL, NULL");
    row("mod by zero", "j % 0", "int64", "NULL, NULL, NULL, NULL, NULL");
    row("negate", "-i", "int64", "-1, 7, NULL, 0, -9223372036854775807");
    row("int plus double", "i + d", "double", "2.5, -9.25, NULL, 0, 1e+300");
    row("double mul", "d * 2", "double", "3, -4.5, NULL, 0, 2e+300");
    row("double overflow is inf", "d * d * d", "double", "3.375, -11.390625, NULL, 0, inf");
    row("double div zero", "d / 0", "double", "NULL, NULL, NULL, NULL, NULL");
    row("double div zero double", "d / 0.0", "double", "NULL, NULL, NULL, NULL, NULL");
    row("double mod", "d % 1", "double", "0.5, -0.25, NULL, 0, 0");
    row("double negate", "-d", "double", "-1.5, 2.25, NULL, -0, -1e+300");
    // comparison
    row("gt", "i > 0", "bool", "TRUE, FALSE, NULL, FALSE, TRUE");
    row("eq expr", "i = j - 1", "bool", "TRUE, FALSE, NULL, NULL, FALSE");
    row("ne bang", "i != 0", "bool", "TRUE, TRUE, NULL, FALSE, TRUE");
    row("ne angle", "i <> 0", "bool", "TRUE, TRUE, NULL, FALSE, TRUE");
    row("ge promoted", "d >= i", "bool", "TRUE, TRUE, NULL, TRUE, TRUE");
    row("eq promoted", "d = i", "bool", "FALSE, FALSE, NULL, TRUE, FALSE");
    row("lt double", "d < 0", "bool", "FALSE, TRUE, NULL, FALSE, FALSE");
    row("le const left", "0 <= i", "bool", "TRUE, FALSE, NULL, TRUE, TRUE");
    row("string eq", "s = 'abc'", "bool", "TRUE, FALSE, NULL, FALSE, FALSE");
    row("string lt", "s < 'b'", "bool", "TRUE, TRUE, NULL, TRUE, FALSE");
    row("bool eq", "b = TRUE", "bool", "TRUE, FALSE, NULL, TRUE, FALSE");
    row("timestamp vs text", "t > '2000-01-01'", "bool", "TRUE, FALSE, NULL, FALSE, FALSE");
    row("text vs timestamp", "'1970-01-01' <= t", "bool", "TRUE, TRUE, NULL, FALSE, TRUE");
    // concatenation: non-strings in their text form
    row("concat", "s || '!'", "string", "'abc!', 'O''Reilly!', NULL, '!', 'héllo!'");
    row("concat int", "s || i", "string", "'abc1', 'O''Reilly-7', NULL, '0', 'héllo9223372036854775807'");
    row("concat double", "'d=' || d", "string", "'d=1.5', 'd=-2.25', NULL, 'd=0', 'd=1e+300'");
    row("concat timestamp", "'t=' || t", "string",
        "'t=2026-11-24T12:00:00.000Z', 't=1970-01-01T00:00:00.000Z', NULL, "
        "'t=1969-12-31T23:59:59.999Z', 't=1970-01-01T00:00:01.000Z'");
    row("concat bool", "b || ''", "string", "'true', 'false', NULL, 'true', 'false'");
    row("concat chain", "s || '-' || j", "string", "'abc-2', 'O''Reilly-3', NULL, NULL, 'héllo-1'");
    row("concat fn", "concat(s, '-', j)", "string", "'abc-2', 'O''Reilly-3', NULL, NULL, 'héllo-1'");
    // logic
    row("and", "b AND i > 0", "bool", "TRUE, FALSE, NULL, FALSE, FALSE");
    row("or", "b OR i > 0", "bool", "TRUE, FALSE, NULL, TRUE, TRUE");
    row("not", "NOT b", "bool", "FALSE, TRUE, NULL, FALSE, TRUE");
    row("and null literal", "b AND NULL", "bool", "NULL, FALSE, NULL, NULL, FALSE");
    row("or null literal", "b OR NULL", "bool", "TRUE, NULL, NULL, TRUE, NULL");
    row("is null", "b IS NULL", "bool", "FALSE, FALSE, TRUE, FALSE, FALSE");
    row("is not null", "s IS NOT NULL", "bool", "TRUE, TRUE, FALSE, TRUE, TRUE");
    row("is null expr", "i + j IS NULL", "bool", "FALSE, FALSE, TRUE, TRUE, TRUE");
    // IN
    row("in", "i IN (1, 0)", "bool", "TRUE, FALSE, NULL, TRUE, FALSE");
    row("in with null", "i IN (1, NULL)", "bool", "TRUE, NULL, NULL, NULL, NULL");
    row("not in with null", "i NOT IN (1, NULL)", "bool", "FALSE, NULL, NULL, NULL, NULL");
    row("not in", "i NOT IN (1, 2)", "bool", "FALSE, TRUE, NULL, TRUE, TRUE");
    row("in columns", "i IN (j, 0)", "bool", "FALSE, FALSE, NULL, TRUE, FALSE");
    row("in promoted", "i IN (1.0, 2.5)", "bool", "TRUE, FALSE, NULL, FALSE, FALSE");
    row("in double", "d IN (1, 0)", "bool", "FALSE, FALSE, NULL, TRUE, FALSE");
    row("in strings", "s IN ('abc', '')", "bool", "TRUE, FALSE, NULL, TRUE, FALSE");
    row("in many strings", "s IN ('a','b','c','d','e','f','g','h','i','abc')", "bool",
        "TRUE, FALSE, NULL, FALSE, FALSE");
    row("in many ints", "i IN (1,2,3,4,5,6,7,8,9,10,-7)", "bool", "TRUE, TRUE, NULL, FALSE, FALSE");
    row("in bool", "b IN (TRUE)", "bool", "TRUE, FALSE, NULL, TRUE, FALSE");
    row("in timestamps", "t IN ('1970-01-01', CAST(1000 AS timestamp))", "bool",
        "FALSE, TRUE, NULL, FALSE, TRUE");
    // BETWEEN
    row("between", "i BETWEEN 0 AND 1", "bool", "TRUE, FALSE, NULL, TRUE, FALSE");
    row("not between", "i NOT BETWEEN 0 AND 1", "bool", "FALSE, TRUE, NULL, FALSE, TRUE");
    row("between null bound", "i BETWEEN j AND 10", "bool", "FALSE, FALSE, NULL, NULL, FALSE");
    row("between false wins", "i BETWEEN 2 AND j", "bool", "FALSE, FALSE, NULL, FALSE, FALSE");
    row("between timestamps", "t BETWEEN '1970-01-01' AND '1970-01-01T00:00:01Z'", "bool",
        "FALSE, TRUE, NULL, FALSE, TRUE");
    // LIKE
    row("like prefix", "s LIKE 'a%'", "bool", "TRUE, FALSE, NULL, FALSE, FALSE");
    row("like contains", "s LIKE '%e%'", "bool", "FALSE, TRUE, NULL, FALSE, FALSE");
    row("like one utf8 char", "s LIKE 'h_llo'", "bool", "FALSE, FALSE, NULL, FALSE, TRUE");
    row("not like all", "s NOT LIKE '%'", "bool", "FALSE, FALSE, NULL, FALSE, FALSE");
    row("like column pattern", "s LIKE s", "bool", "TRUE, TRUE, NULL, TRUE, TRUE");
    // CASE, coalesce, if
    row("case searched", "CASE WHEN i > 0 THEN 'pos' WHEN i < 0 THEN 'neg' ELSE 'zero' END",
        "string", "'pos', 'neg', 'zero', 'zero', 'pos'");
    row("case no else", "CASE WHEN i > 0 THEN 'pos' END", "string", "'pos', NULL, NULL, NULL, 'pos'");
    row("case simple", "CASE i WHEN 1 THEN 'one' WHEN 0 THEN 'zero' ELSE 'other' END", "string",
        "'one', 'other', 'other', 'zero', 'other'");
    row("case unify", "CASE WHEN b THEN i ELSE d END", "double", "1, -2.25, NULL, 0, 1e+300");
    row("case first true wins", "CASE WHEN i >= 0 THEN 1 WHEN i >= 1 THEN 2 ELSE 3 END", "int64",
        "1, 3, 3, 1, 1");
    row("case bool result", "CASE WHEN b THEN i > 0 ELSE NULL END", "bool", "TRUE, NULL, NULL, FALSE, NULL");
    row("coalesce", "coalesce(j, i, -1)", "int64", "2, 3, 5, 0, 1");
    row("coalesce fields", "coalesce(i, j)", "int64", "1, -7, 5, 0, 9223372036854775807");
    row("coalesce all null row", "coalesce(\"my field\", j)", "int64", "10, 20, 30, NULL, 50");
    row("coalesce strings", "coalesce(s, 'none')", "string", "'abc', 'O''Reilly', 'none', '', 'héllo'");
    row("if", "if(b, s, 'no')", "string", "'abc', 'no', 'no', '', 'no'");
    // functions
    row("abs int", "abs(i)", "int64", "1, 7, NULL, 0, 9223372036854775807");
    row("abs double", "abs(d)", "double", "1.5, 2.25, NULL, 0, 1e+300");
    row("floor", "floor(d)", "double", "1, -3, NULL, 0, 1e+300");
    row("ceil", "ceil(d)", "double", "2, -2, NULL, 0, 1e+300");
    row("floor int", "floor(i)", "int64", "1, -7, NULL, 0, 9223372036854775807");
    row("round", "round(d)", "double", "2, -2, NULL, 0, 1e+300");
    row("round int tens", "round(i, -1)", "int64", "0, -10, NULL, 0, NULL");
    row("round digits column", "round(j * 45, -j)", "int64", "100, 0, 0, NULL, 50");
    row("lower", "lower(s)", "string", "'abc', 'o''reilly', NULL, '', 'héllo'");
    row("upper ascii only", "upper(s)", "string", "'ABC', 'O''REILLY', NULL, '', 'HéLLO'");
    row("length chars", "length(s)", "int64", "3, 8, NULL, 0, 5");
    row("substr from", "substr(s, 2)", "string", "'bc', '''Reilly', NULL, '', 'éllo'");
    row("substr for", "substr(s, 2, 2)", "string", "'bc', '''R', NULL, '', 'él'");
    row("substr zero start", "substr(s, 0, 2)", "string", "'a', 'O', NULL, '', 'h'");
    row("substr column start", "substr(s, j)", "string", "'bc', 'Reilly', NULL, NULL, 'héllo'");
    // casts
    row("cast int double", "CAST(i AS double)", "double", "1, -7, NULL, 0, 9223372036854775808");
    row("cast double int", "CAST(d AS int64)", "int64", "1, -2, NULL, 0, NULL");
    row("cast timestamp int", "CAST(t AS bigint)", "int64", "1795521600000, 0, NULL, -1, 1000");
    row("cast bool int", "CAST(b AS int)", "int64", "1, 0, NULL, 1, 0");
    row("cast int bool", "CAST(i AS boolean)", "bool", "TRUE, TRUE, NULL, FALSE, TRUE");
    row("cast int string", "CAST(i AS varchar)", "string", "'1', '-7', NULL, '0', '9223372036854775807'");
    row("cast string int", "CAST(s AS int64)", "int64", "NULL, NULL, NULL, NULL, NULL");
    row("cast round trip", "CAST(CAST(i AS string) AS int64) = i", "bool", "TRUE, TRUE, NULL, TRUE, TRUE");
    // timestamps
    row("timestamp plus ms", "t + 1000", "timestamp",
        "2026-11-24T12:00:01.000Z, 1970-01-01T00:00:01.000Z, NULL, 1970-01-01T00:00:00.999Z, "
        "1970-01-01T00:00:02.000Z");
    row("ms plus timestamp", "1 + t", "timestamp",
        "2026-11-24T12:00:00.001Z, 1970-01-01T00:00:00.001Z, NULL, 1970-01-01T00:00:00.000Z, "
        "1970-01-01T00:00:01.001Z");
    row("timestamp difference", "t - CAST(0 AS timestamp)", "int64", "1795521600000, 0, NULL, -1, 1000");
    row("timestamp minus self", "t - t", "int64", "0, 0, NULL, 0, 0");
  }

  void rows() {
    QFETCH(QString, expr);
    QFETCH(QString, type);
    QFETCH(QString, expected);
    RecordBatch batch = sampleBatch();
    auto e = compileOrFail(expr.toStdString(), batch.schema());
    QVERIFY(e);
    QCOMPARE(QString::fromUtf8(typeName(e->type()).data()), type);
    ColumnPtr out = e->evaluate(batch);
    QCOMPARE(out->size(), batch.numRows());
    QCOMPARE(out->type(), e->type());
    QCOMPARE(QString::fromStdString(render(*out)), expected);
    std::size_t nulls = 0;
    for (std::size_t r = 0; r < out->size(); ++r) nulls += out->isNull(r);
    QCOMPARE(out->nullCount(), nulls);
  }

  // ---- expressions of literals only (folded at compile time): one value in every row

  void constants_data() {
    QTest::addColumn<QString>("expr");
    QTest::addColumn<QString>("type");
    QTest::addColumn<QString>("expected");
    auto row = [](const char* expr, const char* type, const char* expected) {
      QTest::newRow(expr) << QString::fromUtf8(expr) << QString(type) << QString::fromUtf8(expected);
    };
    // precedence and associativity
    row("1 + 2 * 3", "int64", "7");
    row("(1 + 2) * 3", "int64", "9");
    row("10 - 4 - 3", "int64", "3");
    row("2 * 3 % 4", "int64", "2");
    row("100 / 10 / 5", "int64", "2");
    row("-2 * 3", "int64", "-6");
    row("- (2 + 3)", "int64", "-5");
    row("- -3", "int64", "3");
    row("+4", "int64", "4");
    row("1 + 2 = 3", "bool", "TRUE");
    row("1 < 2 AND 2 < 3", "bool", "TRUE");
    row("TRUE OR FALSE AND FALSE", "bool", "TRUE");
    row("(TRUE OR FALSE) AND FALSE", "bool", "FALSE");
    row("NOT FALSE AND FALSE", "bool", "FALSE");
    row("NOT (FALSE AND FALSE)", "bool", "TRUE");
    row("NOT 1 = 2", "bool", "TRUE");
    row("NOT NOT TRUE", "bool", "TRUE");
    row("'a' || 'b' = 'ab'", "bool", "TRUE");
    row("1 + 2 || 3", "string", "'33'");
    row("2 + 3 BETWEEN 5 AND 6", "bool", "TRUE");
    row("1 BETWEEN 0 AND 2 AND FALSE", "bool", "FALSE");
    row("1 = 1 = TRUE", "bool", "TRUE");
    row("1 + 1 IS NULL", "bool", "FALSE");
    row("NOT 1 IN (2, 3)", "bool", "TRUE");
    // literals
    row("42", "int64", "42");
    row("3.5", "double", "3.5");
    row(".5", "double", "0.5");
    row("5.", "double", "5");
    row("1e3", "double", "1000");
    row("1.5E-3", "double", "0.0015");
    row("2e+2", "double", "200");
    row("-9223372036854775808", "int64", "-9223372036854775808");
    row("'it''s'", "string", "'it''s'");
    row("''", "string", "''");
    row("''''", "string", "''''");
    row("TRUE", "bool", "TRUE");
    row("false", "bool", "FALSE");
    row("tRuE", "bool", "TRUE");
    row("NULL", "bool", "NULL");
    row("nUlL iS nUlL", "bool", "TRUE");
    row("NULL IS NOT NULL", "bool", "FALSE");
    // null propagation and three-valued logic
    row("1 + NULL", "int64", "NULL");
    row("NULL + 1.5", "double", "NULL");
    row("-NULL", "int64", "NULL");
    row("NULL = NULL", "bool", "NULL");
    row("NULL = 1", "bool", "NULL");
    row("'a' = NULL", "bool", "NULL");
    row("NULL AND FALSE", "bool", "FALSE");
    row("FALSE AND NULL", "bool", "FALSE");
    row("NULL AND TRUE", "bool", "NULL");
    row("NULL OR TRUE", "bool", "TRUE");
    row("TRUE OR NULL", "bool", "TRUE");
    row("NULL OR FALSE", "bool", "NULL");
    row("NOT NULL", "bool", "NULL");
    row("'a' || NULL", "string", "NULL");
    row("NULL || NULL", "string", "NULL");
    // integer and double arithmetic
    row("7 / 2", "int64", "3");
    row("-7 / 2", "int64", "-3");
    row("7 % -2", "int64", "1");
    row("-7 % 2", "int64", "-1");
    row("7 / 0", "int64", "NULL");
    row("7 % 0", "int64", "NULL");
    row("7.0 / 0", "double", "NULL");
    row("0.0 / 0", "double", "NULL");
    row("7.5 % 0", "double", "NULL");
    row("7 / 2.0", "double", "3.5");
    row("7.5 % 2", "double", "1.5");
    row("0.1 + 0.2", "double", "0.30000000000000004");
    row("1 / 3.0", "double", "0.3333333333333333");
    // overflow is NULL
    row("9223372036854775807 + 1", "int64", "NULL");
    row("-9223372036854775808 - 1", "int64", "NULL");
    row("-9223372036854775808 / -1", "int64", "NULL");
    row("-9223372036854775808 % -1", "int64", "0");
    row("4611686018427387904 * 2", "int64", "NULL");
    row("4611686018427387904 * -2", "int64", "-9223372036854775808");
    row("-(-9223372036854775808)", "int64", "NULL");
    row("abs(-9223372036854775808)", "int64", "NULL");
    // casts
    row("CAST('42' AS int64)", "int64", "42");
    row("CAST('-42' AS integer)", "int64", "-42");
    row("CAST('x' AS int64)", "int64", "NULL");
    row("CAST(' 42' AS int)", "int64", "NULL");
    row("CAST('4.0' AS int)", "int64", "NULL");
    row("CAST('99999999999999999999' AS int64)", "int64", "NULL");
    row("CAST('2.5' AS double)", "double", "2.5");
    row("CAST('1e3' AS float)", "double", "1000");
    row("CAST('abc' AS double)", "double", "NULL");
    row("CAST('true' AS boolean)", "bool", "TRUE");
    row("CAST('FALSE' AS bool)", "bool", "FALSE");
    row("CAST('0' AS bool)", "bool", "FALSE");
    row("CAST('maybe' AS bool)", "bool", "NULL");
    row("CAST('2026-11-24T12:00:00Z' AS timestamp)", "timestamp", "2026-11-24T12:00:00.000Z");
    row("CAST('2026-11-24 13:00:00+01:00' AS timestamp)", "timestamp", "2026-11-24T12:00:00.000Z");
    row("CAST('1795521600000' AS timestamp)", "timestamp", "2026-11-24T12:00:00.000Z");
    row("CAST('nope' AS timestamp)", "timestamp", "NULL");
    row("CAST(2.9 AS int64)", "int64", "2");
    row("CAST(-2.9 AS bigint)", "int64", "-2");
    row("CAST(1e19 AS int64)", "int64", "NULL");
    row("CAST(-9.2233720368547758e18 AS int64)", "int64", "-9223372036854775808");
    row("CAST(9.2233720368547758e18 AS int64)", "int64", "NULL");
    row("CAST(CAST('nan' AS double) AS int64)", "int64", "NULL");
    row("CAST(TRUE AS int)", "int64", "1");
    row("CAST(FALSE AS integer)", "int64", "0");
    row("CAST(TRUE AS double)", "double", "1");
    row("CAST(TRUE AS varchar)", "string", "'true'");
    row("CAST(1000 AS timestamp)", "timestamp", "1970-01-01T00:00:01.000Z");
    row("CAST(1.5 AS timestamp)", "timestamp", "1970-01-01T00:00:00.001Z");
    row("CAST(CAST(1000 AS timestamp) AS int64)", "int64", "1000");
    row("CAST(CAST(1000 AS timestamp) AS double)", "double", "1000");
    row("CAST(CAST(1000 AS timestamp) AS text)", "string", "'1970-01-01T00:00:01.000Z'");
    row("CAST(1.5 AS string)", "string", "'1.5'");
    row("CAST(0.1 AS string)", "string", "'0.1'");
    row("CAST(1e20 AS string)", "string", "'1e+20'");
    row("CAST(3 AS real)", "double", "3");
    row("CAST(0 AS bool)", "bool", "FALSE");
    row("CAST(2 AS bool)", "bool", "TRUE");
    row("CAST(0.0 AS bool)", "bool", "FALSE");
    row("CAST(NULL AS string)", "string", "NULL");
    row("CAST('x' AS string)", "string", "'x'");
    row("cast(7 as DOUBLE)", "double", "7");
    // LIKE
    row("'abc' LIKE 'abc'", "bool", "TRUE");
    row("'abc' LIKE 'ab'", "bool", "FALSE");
    row("'abc' LIKE 'a%'", "bool", "TRUE");
    row("'abc' LIKE '%c'", "bool", "TRUE");
    row("'abc' LIKE '%b%'", "bool", "TRUE");
    row("'abc' LIKE 'a_c'", "bool", "TRUE");
    row("'abc' LIKE '_'", "bool", "FALSE");
    row("'abc' LIKE '%%'", "bool", "TRUE");
    row("'' LIKE '%'", "bool", "TRUE");
    row("'' LIKE '_'", "bool", "FALSE");
    row("'abcbc' LIKE 'a%bc'", "bool", "TRUE");
    row("'abcb' LIKE 'a%bc'", "bool", "FALSE");
    row("'mississippi' LIKE '%iss%ipp%'", "bool", "TRUE");
    row("'mississippi' LIKE 'm%s_s%i'", "bool", "TRUE");
    row("'ABC' LIKE 'abc'", "bool", "FALSE");
    row("'xyz' LIKE '%_z'", "bool", "TRUE");
    row("'z' LIKE '%_z'", "bool", "FALSE");
    row("'\xC3\xBC" "ber' LIKE '_ber'", "bool", "TRUE");
    row("'a%c' LIKE 'a!%c' ESCAPE '!'", "bool", "TRUE");
    row("'abc' LIKE 'a!%c' ESCAPE '!'", "bool", "FALSE");
    row("'a_c' LIKE 'a\\_c' ESCAPE '\\'", "bool", "TRUE");
    row("'abc' LIKE 'a\\_c' ESCAPE '\\'", "bool", "FALSE");
    row("'a' NOT LIKE 'b'", "bool", "TRUE");
    row("NULL LIKE 'a'", "bool", "NULL");
    row("'a' LIKE NULL", "bool", "NULL");
    // IN
    row("1 IN (1, 2)", "bool", "TRUE");
    row("3 IN (1, 2)", "bool", "FALSE");
    row("3 IN (1, NULL)", "bool", "NULL");
    row("1 IN (1, NULL)", "bool", "TRUE");
    row("NULL IN (1, 2)", "bool", "NULL");
    row("3 NOT IN (1, 2)", "bool", "TRUE");
    row("3 NOT IN (1, NULL)", "bool", "NULL");
    row("1 NOT IN (1, NULL)", "bool", "FALSE");
    row("'b' IN ('a', 'b')", "bool", "TRUE");
    row("1 IN (1.0)", "bool", "TRUE");
    row("1.5 IN (1, 2)", "bool", "FALSE");
    row("1 IN (0 + 1)", "bool", "TRUE");
    // BETWEEN
    row("2 BETWEEN 1 AND 3", "bool", "TRUE");
    row("2 BETWEEN 3 AND 1", "bool", "FALSE");
    row("2 NOT BETWEEN 3 AND 1", "bool", "TRUE");
    row("NULL BETWEEN 1 AND 2", "bool", "NULL");
    row("1 BETWEEN NULL AND 0", "bool", "FALSE");
    row("1 BETWEEN NULL AND 2", "bool", "NULL");
    row("1.5 BETWEEN 1 AND 2", "bool", "TRUE");
    row("'b' BETWEEN 'a' AND 'c'", "bool", "TRUE");
    // CASE
    row("CASE WHEN FALSE THEN 1 WHEN TRUE THEN 2 END", "int64", "2");
    row("CASE WHEN NULL THEN 1 ELSE 2 END", "int64", "2");
    row("CASE WHEN FALSE THEN 1 END", "int64", "NULL");
    row("CASE 2 WHEN 1 THEN 'a' WHEN 2 THEN 'b' END", "string", "'b'");
    row("CASE NULL WHEN NULL THEN 1 ELSE 0 END", "int64", "0");
    row("CASE WHEN TRUE THEN 1 ELSE 2.5 END", "double", "1");
    row("CASE WHEN TRUE THEN NULL ELSE 'x' END", "string", "NULL");
    row("case when true then 'a' else 'b' end", "string", "'a'");
    row("CASE 1.0 WHEN 1 THEN 'one' END", "string", "'one'");
    // functions
    row("abs(-3)", "int64", "3");
    row("abs(-2.5)", "double", "2.5");
    row("ABS(-1)", "int64", "1");
    row("floor(2.7)", "double", "2");
    row("floor(-2.5)", "double", "-3");
    row("ceil(2.1)", "double", "3");
    row("ceil(-2.1)", "double", "-2");
    row("floor(5)", "int64", "5");
    row("round(2.5)", "double", "3");
    row("round(-2.5)", "double", "-3");
    row("round(2.375, 2)", "double", "2.38");
    row("round(1234.5678, -2)", "double", "1200");
    row("round(1250, -2)", "int64", "1300");
    row("round(-1250, -2)", "int64", "-1300");
    row("round(1249, -2)", "int64", "1200");
    row("round(7, 2)", "int64", "7");
    row("round(5, -1)", "int64", "10");
    row("round(123, -19)", "int64", "0");
    row("round(9223372036854775807, -19)", "int64", "NULL");
    row("round(9223372036854775807, -1)", "int64", "NULL");
    row("round(1.5, NULL)", "double", "NULL");
    row("lower('ABC D\xC3\xA9" "f')", "string", "'abc d\xC3\xA9" "f'");
    row("upper('abc')", "string", "'ABC'");
    row("length('')", "int64", "0");
    row("length('it''s')", "int64", "4");
    row("length('\xE6\x97\xA5\xE6\x9C\xAC')", "int64", "2");
    row("substr('hello', 2, 3)", "string", "'ell'");
    row("substr('hello', 2)", "string", "'ello'");
    row("substr('hello', 0)", "string", "'hello'");
    row("substr('hello', -1, 3)", "string", "'h'");
    row("substr('hello', 10)", "string", "''");
    row("substr('hello', 2, 0)", "string", "''");
    row("substr('hello', 2, -1)", "string", "NULL");
    row("substr('hello', 5, 100)", "string", "'o'");
    row("substr('hello', 1, 9223372036854775807)", "string", "'hello'");
    row("substr('\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E', 2, 1)", "string", "'\xE6\x9C\xAC'");
    row("concat('a', 1, 2.5, TRUE)", "string", "'a12.5true'");
    row("concat('a', NULL)", "string", "NULL");
    row("concat('x')", "string", "'x'");
    row("concat(1)", "string", "'1'");
    row("1 || 2", "string", "'12'");
    row("'x' || 1e20", "string", "'x1e+20'");
    row("'' || 1.0", "string", "'1'");
    row("coalesce(NULL, 2)", "int64", "2");
    row("coalesce(NULL, NULL)", "bool", "NULL");
    row("coalesce(1, 2.5)", "double", "1");
    row("coalesce(NULL, 'x', 'y')", "string", "'x'");
    row("if(TRUE, 1, 2)", "int64", "1");
    row("if(FALSE, 1, 2)", "int64", "2");
    row("if(NULL, 1, 2)", "int64", "2");
    row("if(1 < 2, 'yes', 'no')", "string", "'yes'");
    row("IF(TRUE, 1, 2.5)", "double", "1");
    // timestamps
    row("CAST('2026-11-24T12:00:00Z' AS timestamp) + 1000", "timestamp", "2026-11-24T12:00:01.000Z");
    row("1000 + CAST(0 AS timestamp)", "timestamp", "1970-01-01T00:00:01.000Z");
    row("CAST(5000 AS timestamp) - CAST(2000 AS timestamp)", "int64", "3000");
    row("CAST(5000 AS timestamp) - 2000", "timestamp", "1970-01-01T00:00:03.000Z");
    row("CAST(0 AS timestamp) < '1970-01-01T00:00:00.001Z'", "bool", "TRUE");
    row("CAST(0 AS timestamp) = '1970-01-01'", "bool", "TRUE");
    row("CAST(9223372036854775807 AS timestamp) + 1", "timestamp", "NULL");
    row("CAST(0 AS timestamp) + NULL", "timestamp", "NULL");
    row("length(CAST(CAST(-9223372036854775808 AS timestamp) AS string)) > 20", "bool", "TRUE");
    row("CAST(CAST(-1 AS timestamp) AS string)", "string", "'1969-12-31T23:59:59.999Z'");
    row("NULL - CAST(0 AS timestamp)", "int64", "NULL");
    // strings with quotes
    row("'O''Reilly' = 'O' || '''' || 'Reilly'", "bool", "TRUE");
  }

  void constants() {
    QFETCH(QString, expr);
    QFETCH(QString, type);
    QFETCH(QString, expected);
    RecordBatch batch = sampleBatch();
    auto e = compileOrFail(expr.toStdString(), batch.schema());
    QVERIFY(e);
    QCOMPARE(QString::fromUtf8(typeName(e->type()).data()), type);
    ColumnPtr out = e->evaluate(batch);
    QCOMPARE(out->size(), batch.numRows());
    QCOMPARE(out->type(), e->type());
    for (std::size_t r = 0; r < out->size(); ++r)
      QCOMPARE(QString::fromStdString(out->value(r).toString()), expected);
  }

  // ---- three-valued logic tables over columns (no folding)

  void logicTables_data() {
    QTest::addColumn<QString>("expr");
    QTest::addColumn<QString>("expected");
    // rows: (p, q) = (T,T) (T,F) (T,N) (F,T) (F,F) (F,N) (N,T) (N,F) (N,N)
    QTest::newRow("and") << "p AND q" << "TRUE, FALSE, NULL, FALSE, FALSE, FALSE, NULL, FALSE, NULL";
    QTest::newRow("or") << "p OR q" << "TRUE, TRUE, TRUE, TRUE, FALSE, NULL, TRUE, NULL, NULL";
    QTest::newRow("not") << "NOT p" << "FALSE, FALSE, FALSE, TRUE, TRUE, TRUE, NULL, NULL, NULL";
    QTest::newRow("not and") << "NOT (p AND q)" << "FALSE, TRUE, NULL, TRUE, TRUE, TRUE, NULL, TRUE, NULL";
    QTest::newRow("eq") << "p = q" << "TRUE, FALSE, NULL, FALSE, TRUE, NULL, NULL, NULL, NULL";
    QTest::newRow("is null") << "p IS NULL" << "FALSE, FALSE, FALSE, FALSE, FALSE, FALSE, TRUE, TRUE, TRUE";
    QTest::newRow("in") << "p IN (q)" << "TRUE, FALSE, NULL, FALSE, TRUE, NULL, NULL, NULL, NULL";
    QTest::newRow("in list null") << "p IN (TRUE, NULL)" << "TRUE, TRUE, TRUE, NULL, NULL, NULL, NULL, NULL, NULL";
    QTest::newRow("case") << "CASE WHEN p THEN 1 WHEN q THEN 2 ELSE 3 END" << "1, 1, 1, 2, 3, 3, 2, 3, 3";
    QTest::newRow("coalesce") << "coalesce(p, q)" << "TRUE, TRUE, TRUE, FALSE, FALSE, FALSE, TRUE, FALSE, NULL";
    QTest::newRow("if") << "if(p, 'y', 'n')" << "'y', 'y', 'y', 'n', 'n', 'n', 'n', 'n', 'n'";
  }

  void logicTables() {
    QFETCH(QString, expr);
    QFETCH(QString, expected);
    auto schema = makeSchema({{"p", Type::Bool}, {"q", Type::Bool}});
    BatchBuilder b(schema);
    const Value T = Value::boolean(true), F = Value::boolean(false), N = Value::null(Type::Bool);
    for (const Value& p : {T, F, N})
      for (const Value& q : {T, F, N}) b.appendRow(std::vector<Value>{p, q});
    RecordBatch batch = b.finish();
    auto e = compileOrFail(expr.toStdString(), *schema);
    QVERIFY(e);
    QCOMPARE(QString::fromStdString(render(*e->evaluate(batch))), expected);
  }

  // ---- LIKE patterns, with the pattern constant and per row

  void likePatterns_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("pattern");
    QTest::addColumn<bool>("matches");
    auto row = [](const char* text, const char* pattern, bool m) {
      QTest::newRow((std::string(text) + " LIKE " + pattern).c_str())
          << QString::fromUtf8(text) << QString::fromUtf8(pattern) << m;
    };
    row("", "", true);
    row("", "%", true);
    row("", "_", false);
    row("a", "", false);
    row("abc", "abc", true);
    row("abc", "abcd", false);
    row("abc", "a%", true);
    row("abc", "b%", false);
    row("abc", "%c", true);
    row("abc", "%b", false);
    row("abc", "%b%", true);
    row("abc", "%d%", false);
    row("abc", "___", true);
    row("abc", "__", false);
    row("abc", "a__", true);
    row("abc", "_b_", true);
    row("abc", "%_", true);
    row("abc", "%%%", true);
    row("aaa", "a%a%a", true);
    row("aa", "a%a%a", false);
    row("abcabc", "%abc", true);
    row("ababc", "%abc", true);
    row("abcbcd", "a%bcd", true);
    row("abcbcx", "a%bcd", false);
    row("100%", "100!%", true);
    row("1000", "100!%", false);
    row("a_b", "a!_b", true);
    row("axb", "a!_b", false);
    row("a!b", "a!!b", true);
    row("\xC3\xA9t\xC3\xA9", "_t_", true);
    row("\xC3\xA9t\xC3\xA9", "%t%", true);
    row("\xC3\xA9t\xC3\xA9", "__t__", false);
    row("\xE6\x97\xA5\xE6\x9C\xAC", "_\xE6\x9C\xAC", true);
    row("\xE6\x97\xA5\xE6\x9C\xAC", "%_", true);
  }

  void likePatterns() {
    QFETCH(QString, text);
    QFETCH(QString, pattern);
    QFETCH(bool, matches);
    auto schema = makeSchema({{"s", Type::String}, {"p", Type::String}});
    BatchBuilder b(schema);
    b.appendRow(std::vector<Value>{Value::string(text.toStdString()), Value::string(pattern.toStdString())});
    RecordBatch batch = b.finish();
    const Value want = Value::boolean(matches);
    auto perRow = compileOrFail("s LIKE p ESCAPE '!'", *schema);
    QVERIFY(perRow);
    QCOMPARE(perRow->evaluate(batch)->value(0), want);
    std::string quoted = "'";
    for (char c : pattern.toStdString()) quoted += c == '\'' ? std::string("''") : std::string(1, c);
    quoted += "'";
    auto constant = compileOrFail("s LIKE " + quoted + " ESCAPE '!'", *schema);
    QVERIFY(constant);
    QCOMPARE(constant->evaluate(batch)->value(0), want);
  }

  // ---- errors: offset and message

  void errors_data() {
    QTest::addColumn<QString>("expr");
    QTest::addColumn<int>("offset");
    QTest::addColumn<QString>("message");
    auto row = [](const char* expr, int offset, const char* message) {
      QTest::newRow(expr) << QString::fromUtf8(expr) << offset << QString::fromUtf8(message);
    };
    // names
    row("prize > 5", 0, "unknown field 'prize' (fields: auction, price, name, flag, ts, score)");
    row("price > 5 AND Price < 9", 14,
        "unknown field 'Price' (did you mean 'price'? field names are case-sensitive)");
    row("\"\" = 1", 0, "empty quoted name");
    row("foo(price)", 0,
        "unknown function 'foo' (functions: abs, ceil, coalesce, concat, floor, if, length, lower, "
        "round, substr, upper)");
    // lexical
    row("name = 'abc", 7, "unterminated string literal");
    row("\"price > 5", 0, "unterminated quoted name");
    row("price # 5", 6, "unexpected character '#'");
    row("price == 5", 6, "'==' is not an operator; use '='");
    row("price | 5", 6, "unexpected character '|' (use '||' to concatenate)");
    row("price > 12abc", 8, "invalid number '12abc'");
    row("price > 1e", 8, "invalid number '1e'");
    row("99999999999999999999", 0, "integer literal 99999999999999999999 is out of range for int64");
    row("1e999", 0, "number 1e999 is out of range for double");
    // syntax
    row("", 0, "expected an expression but found end of expression");
    row("   ", 3, "expected an expression but found end of expression");
    row("price > ", 8, "expected an expression but found end of expression");
    row("(price + 1", 10, "expected ')' but found end of expression");
    row("price > 5 6", 10, "expected end of expression but found '6'");
    row("price > 5)", 9, "expected end of expression but found ')'");
    row("price AND", 9, "expected an expression but found end of expression");
    row("price = AND", 8, "expected an expression but found 'AND'");
    row("abs(1,)", 6, "expected an expression but found ')'");
    row("abs(1 2)", 6, "expected ',' or ')' but found '2'");
    row("price IN (1 2)", 12, "expected ',' or ')' but found '2'");
    row("price IN 1", 9, "expected '(' but found '1'");
    row("price IS 5", 9, "expected NULL but found '5'");
    row("price NOT 5", 10, "expected IN, BETWEEN or LIKE after NOT but found '5'");
    row("price BETWEEN 1 OR 2", 16, "expected AND but found 'OR'");
    row("CASE WHEN flag THEN 1", 21, "expected WHEN, ELSE or END but found end of expression");
    row("CASE WHEN flag THEN 1 ELSE 2", 28, "expected END but found end of expression");
    row("CASE flag THEN 1 END", 10, "expected WHEN but found 'THEN'");
    row("CASE END", 5, "expected WHEN but found 'END'");
    row("CASE WHEN flag 1 END", 15, "expected THEN but found '1'");
    row("CAST(price, double)", 10, "expected AS but found ','");
    row("CAST(price AS 5)", 14, "expected a type name but found '5'");
    row("CAST(price AS money)", 14,
        "unknown type 'money' in CAST (types: int64, double, string, bool, timestamp)");
    row("name = 'a' 'b'", 11, "expected end of expression but found string 'b'");
    // types
    row("name = 5", 5, "cannot compare string with int64");
    row("5 = name", 2, "cannot compare int64 with string");
    row("flag < 1", 5, "cannot compare bool with int64");
    row("ts > 5", 3, "cannot compare timestamp with int64");
    row("ts > 'yesterday'", 5, "'yesterday' is not a valid timestamp");
    row("name + 1", 5, "cannot apply + to string and int64");
    row("flag * NULL", 5, "cannot apply * to bool and NULL");
    row("ts + ts", 3, "cannot apply + to timestamp and timestamp");
    row("ts - 5.5", 3, "cannot apply - to timestamp and double");
    row("5 - ts", 2, "cannot apply - to int64 and timestamp");
    row("-name", 0, "unary - needs a number, got string");
    row("price AND flag", 0, "AND needs bool operands, got int64");
    row("flag OR name", 8, "OR needs bool operands, got string");
    row("NOT price", 4, "NOT needs a bool operand, got int64");
    row("price IN (1, 'a')", 13, "cannot compare int64 with string");
    row("price BETWEEN 1 AND 'z'", 20, "cannot compare int64 with string");
    row("price LIKE 'a%'", 0, "LIKE needs string operands, got int64");
    row("name LIKE 5", 10, "LIKE needs string operands, got int64");
    row("name LIKE 'a' ESCAPE 'ab'", 21, "ESCAPE needs a single character string");
    row("CAST(flag AS timestamp)", 0, "cannot cast bool to timestamp");
    row("CAST(ts AS bool)", 0, "cannot cast timestamp to bool");
    row("CASE WHEN flag THEN 'a' ELSE 1 END", 29, "CASE branches have incompatible types string and int64");
    row("CASE WHEN price THEN 1 END", 10, "WHEN condition must be bool, got int64");
    row("CASE price WHEN 'a' THEN 1 END", 16, "cannot compare int64 with string");
    // functions
    row("substr(name)", 0, "function substr takes 2 or 3 arguments");
    row("abs(1, 2)", 0, "function abs takes 1 argument");
    row("round()", 0, "function round takes 1 or 2 arguments");
    row("concat()", 0, "function concat takes at least 1 argument");
    row("coalesce()", 0, "function coalesce takes at least 1 argument");
    row("if(flag, 1)", 0, "function if takes 3 arguments");
    row("abs(name)", 4, "argument 1 of abs must be a number, got string");
    row("lower(price)", 6, "argument 1 of lower must be a string, got int64");
    row("substr(name, '1')", 13, "argument 2 of substr must be int64, got string");
    row("round(score, 1.5)", 13, "argument 2 of round must be int64, got double");
    row("if(price, 1, 2)", 3, "argument 1 of if must be bool, got int64");
    row("if(flag, 1, 'x')", 12, "arguments of if have incompatible types int64 and string");
    row("coalesce(price, name)", 16, "arguments of coalesce have incompatible types int64 and string");
    // syntax is checked before names and types; then the leftmost problem is reported
    row("nope + 'x' + (", 14, "expected an expression but found end of expression");
    row("nope + 'x' + nada", 0, "unknown field 'nope' (fields: auction, price, name, flag, ts, score)");
    row("price + 'x' + nada", 6, "cannot apply + to int64 and string");
  }

  void errors() {
    QFETCH(QString, expr);
    QFETCH(int, offset);
    QFETCH(QString, message);
    auto schema = makeSchema({{"auction", Type::Int64}, {"price", Type::Int64}, {"name", Type::String},
                              {"flag", Type::Bool}, {"ts", Type::Timestamp}, {"score", Type::Double}});
    CompiledExpr c = compileExpression(expr.toStdString(), *schema);
    QVERIFY(!c);
    QVERIFY(c.error);
    QCOMPARE(QString::fromStdString(c.error->message), message);
    QCOMPARE(static_cast<int>(c.error->offset), offset);
  }

  void errorText() {
    auto schema = makeSchema({{"auction", Type::Int64}, {"price", Type::Int64}});
    CompiledExpr c = compileExpression("price > 5 AND prize < 9", *schema);
    QVERIFY(!c);
    QCOMPARE(c.error->toString(), std::string("at 14: unknown field 'prize' (fields: auction, price)"));
  }

  void nestingLimit() {
    auto schema = makeSchema({{"a", Type::Int64}});
    std::string deep = std::string(150, '(') + "a" + std::string(150, ')');
    QVERIFY(compileExpression(deep, *schema));
    std::string tooDeep = std::string(5000, '(') + "a" + std::string(5000, ')');
    CompiledExpr c = compileExpression(tooDeep, *schema);
    QVERIFY(!c);
    QCOMPARE(c.error->message, std::string("expression is nested too deeply"));
    CompiledExpr negs = compileExpression(std::string(5000, '-') + "a", *schema);
    QVERIFY(!negs);
    QCOMPARE(negs.error->message, std::string("expression is nested too deeply"));
    std::string nots;
    for (int k = 0; k < 5000; ++k) nots += "NOT ";
    CompiledExpr notc = compileExpression(nots + "a > 0", *schema);
    QVERIFY(!notc);
    QCOMPARE(notc.error->message, std::string("expression is nested too deeply"));
    // Long flat chains: fine up to the height limit, refused beyond it, never a crash.
    std::string sum = "a";
    for (int k = 0; k < 500; ++k) sum += " + a";
    auto e = compileExpression(sum, *schema);
    QVERIFY(e);
    std::string longSum = "a";
    for (int k = 0; k < 100000; ++k) longSum += " + a";
    CompiledExpr tall = compileExpression(longSum, *schema);
    QVERIFY(!tall);
    QCOMPARE(tall.error->message, std::string("expression is nested too deeply"));
    // A long IN list with a column is flat, whatever its length.
    std::string in = "a IN (a";
    for (int k = 0; k < 5000; ++k) in += ", a + " + std::to_string(k);
    QVERIFY(compileExpression(in + ")", *schema));
  }

  // ---- selectTrue: exact row indices

  void selectTrue_data() {
    QTest::addColumn<QString>("expr");
    QTest::addColumn<QList<int>>("rows");
    QTest::newRow("comparison") << "i > 0" << QList<int>{0, 4};
    QTest::newRow("bool field") << "b" << QList<int>{0, 3};
    QTest::newRow("null is not true") << "i IN (1, NULL)" << QList<int>{0};
    QTest::newRow("and") << "b AND i >= 0" << QList<int>{0, 3};
    QTest::newRow("and string") << "i >= 0 AND s = ''" << QList<int>{3};
    QTest::newRow("not") << "NOT b" << QList<int>{1, 4};
    QTest::newRow("is null") << "s IS NULL" << QList<int>{2};
    QTest::newRow("true") << "TRUE" << QList<int>{0, 1, 2, 3, 4};
    QTest::newRow("false") << "FALSE" << QList<int>{};
    QTest::newRow("null") << "NULL" << QList<int>{};
    QTest::newRow("like") << "s LIKE '%l%'" << QList<int>{1, 4};
    QTest::newRow("between") << "j BETWEEN 2 AND 5" << QList<int>{0, 1, 2};
    QTest::newRow("or null") << "i > 0 OR j > 2" << QList<int>{0, 1, 2, 4};
    QTest::newRow("case") << "CASE WHEN i IS NULL THEN TRUE ELSE i < 0 END" << QList<int>{1, 2};
  }

  void selectTrue() {
    QFETCH(QString, expr);
    QFETCH(QList<int>, rows);
    RecordBatch batch = sampleBatch();
    auto e = compileOrFail(expr.toStdString(), batch.schema());
    QVERIFY(e);
    std::vector<std::uint32_t> want(rows.begin(), rows.end());
    QCOMPARE(select(*e, batch), want);
    // Appends after what the vector already holds.
    std::vector<std::uint32_t> got{99};
    e->selectTrue(batch, got);
    want.insert(want.begin(), 99);
    QCOMPARE(got, want);
  }

  void selectTrueOfNonBoolSelectsNothing() {
    RecordBatch batch = sampleBatch();
    auto e = compileOrFail("i", batch.schema());
    QVERIFY(e);
    QVERIFY(select(*e, batch).empty());
  }

  // ---- evaluation properties

  void fieldReferenceSharesColumn() {
    RecordBatch batch = sampleBatch();
    auto e = compileOrFail("s", batch.schema());
    QVERIFY(e);
    QCOMPARE(e->evaluate(batch).get(), batch.columnPtr(3).get());
    QCOMPARE(e->text(), std::string("s"));
    QCOMPARE(e->type(), Type::String);
  }

  void nullSlotsHoldZero() {
    RecordBatch batch = sampleBatch();
    for (const char* text : {"i + 1", "i * 2", "j / (i - i)", "CAST(s AS int64)", "t + 1", "abs(i)"}) {
      auto e = compileOrFail(text, batch.schema());
      QVERIFY(e);
      ColumnPtr c = e->evaluate(batch);
      for (std::size_t r = 0; r < c->size(); ++r)
        if (c->isNull(r)) QCOMPARE(c->ints()[r], std::int64_t(0));
    }
    for (const char* text : {"d * 2", "d / 0", "round(d, 1)"}) {
      auto e = compileOrFail(text, batch.schema());
      ColumnPtr c = e->evaluate(batch);
      for (std::size_t r = 0; r < c->size(); ++r)
        if (c->isNull(r)) QCOMPARE(c->doubles()[r], 0.0);
    }
    for (const char* text : {"i > 0", "b AND i > 0", "NOT b", "i IN (1, NULL)", "s LIKE 'a%'"}) {
      auto e = compileOrFail(text, batch.schema());
      ColumnPtr c = e->evaluate(batch);
      for (std::size_t r = 0; r < c->size(); ++r)
        if (c->isNull(r)) QCOMPARE(int(c->bools()[r]), 0);
    }
    auto e = compileOrFail("s || 'x'", batch.schema());
    QCOMPARE(e->evaluate(batch)->str(2), std::string_view());
  }

  void emptyBatch() {
    auto schema = sampleSchema();
    RecordBatch batch = BatchBuilder(schema).finish();
    for (const char* text : {"i + j > 3 AND s LIKE 'a%'", "coalesce(i, j)", "CASE WHEN b THEN s END",
                             "42", "i IN (1, 2)", "concat(s, i)", "substr(s, 1, 2)"}) {
      auto e = compileOrFail(text, *schema);
      QVERIFY(e);
      QCOMPARE(e->evaluate(batch)->size(), std::size_t(0));
      QVERIFY(select(*e, batch).empty());
    }
  }

  void compileOnceEvaluateMany() {
    RecordBatch batch = sampleBatch();
    auto e = compileOrFail("CASE WHEN i > 0 THEN s || '+' ELSE lower(s) END", batch.schema());
    QVERIFY(e);
    const std::string first = render(*e->evaluate(batch));
    for (int k = 0; k < 3; ++k) QCOMPARE(render(*e->evaluate(batch)), first);
  }

  // x / d and x % d for a column x and a constant d (a separate fast path) against C++.
  void divideByConstant() {
    auto schema = makeSchema({{"x", Type::Int64}});
    BatchBuilder b(schema);
    const std::vector<std::int64_t> xs = {INT64_MIN, INT64_MIN + 1, -1025, -9, -8, -7, -1, 0,
                                          1, 7, 8, 9, 1025, INT64_MAX};
    for (std::int64_t x : xs) b.appendRow(std::vector<Value>{Value::int64(x)});
    b.appendRow(std::vector<Value>{Value::null(Type::Int64)});
    RecordBatch batch = b.finish();
    for (std::int64_t d : {std::int64_t(1), std::int64_t(2), std::int64_t(8), std::int64_t(1024),
                           std::int64_t(1) << 62, std::int64_t(3), std::int64_t(10), std::int64_t(-1),
                           std::int64_t(-2), std::int64_t(-8), INT64_MIN, std::int64_t(0)}) {
      auto div = compileOrFail("x / " + std::to_string(d), *schema);
      auto mod = compileOrFail("x % " + std::to_string(d), *schema);
      QVERIFY(div && mod);
      ColumnPtr q = div->evaluate(batch), r = mod->evaluate(batch);
      for (std::size_t i = 0; i < xs.size(); ++i) {
        const std::int64_t x = xs[i];
        const QByteArray what = QByteArray::number(qlonglong(x)) + " by " + QByteArray::number(qlonglong(d));
        if (d == 0) {
          QVERIFY2(q->isNull(i) && r->isNull(i), what);
        } else if (d == -1) {
          QVERIFY2(x == INT64_MIN ? q->isNull(i) : q->int64(i) == -x, what);
          QVERIFY2(!r->isNull(i) && r->int64(i) == 0, what);
        } else {
          QVERIFY2(!q->isNull(i) && q->int64(i) == x / d, what);
          QVERIFY2(!r->isNull(i) && r->int64(i) == x % d, what);
        }
      }
      QVERIFY(q->isNull(xs.size()) && r->isNull(xs.size()));
    }
  }

  // Large batches with random nulls against a row-at-a-time reference.
  void largeBatchMatchesReference() {
    auto schema = makeSchema({{"auction", Type::Int64}, {"price", Type::Int64},
                              {"channel", Type::String}, {"rate", Type::Double}});
    std::uint64_t seed = 42;
    auto next = [&] {
      seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
      return seed >> 33;
    };
    BatchBuilder b(schema);
    const int n = 10000;
    for (int r = 0; r < n; ++r) {
      if (next() % 10 == 0) b.column(0).appendNull(); else b.column(0).appendInt64(next() % 1000);
      if (next() % 10 == 0) b.column(1).appendNull(); else b.column(1).appendInt64(next() % 5000);
      static const char* const kChannels[] = {"web", "mobile", "api", "partner"};
      if (next() % 10 == 0) b.column(2).appendNull(); else b.column(2).appendString(kChannels[next() % 4]);
      if (next() % 10 == 0) b.column(3).appendNull(); else b.column(3).appendDouble((next() % 1000) / 7.0);
      b.endRow();
    }
    RecordBatch batch = b.finish();
    const Column& auction = batch.column(0);
    const Column& price = batch.column(1);
    const Column& channel = batch.column(2);

    auto filter = compileOrFail("price > 1000 AND auction % 2 = 0", *schema);
    QVERIFY(filter);
    std::vector<std::uint32_t> want;
    for (int r = 0; r < n; ++r)
      if (!price.isNull(r) && price.int64(r) > 1000 && !auction.isNull(r) && auction.int64(r) % 2 == 0)
        want.push_back(static_cast<std::uint32_t>(r));
    QCOMPARE(select(*filter, batch), want);

    auto filter2 = compileOrFail("channel IN ('web', 'api') OR price < 100", *schema);
    QVERIFY(filter2);
    want.clear();
    for (int r = 0; r < n; ++r) {
      const bool inList = !channel.isNull(r) && (channel.str(r) == "web" || channel.str(r) == "api");
      const bool cheap = !price.isNull(r) && price.int64(r) < 100;
      if (inList || cheap) want.push_back(static_cast<std::uint32_t>(r));
    }
    QCOMPARE(select(*filter2, batch), want);

    auto map = compileOrFail("price * 2 + coalesce(auction, -1)", *schema);
    QVERIFY(map);
    ColumnPtr out = map->evaluate(batch);
    for (int r = 0; r < n; ++r) {
      if (price.isNull(r)) {
        QVERIFY(out->isNull(r));
      } else {
        const std::int64_t a = auction.isNull(r) ? -1 : auction.int64(r);
        QCOMPARE(out->int64(r), price.int64(r) * 2 + a);
      }
    }
  }
};

QTEST_APPLESS_MAIN(TestExpr)
#include "test_expr.moc"
