#include "core/catalog.h"
#include "core/plugin.h"

// The specs below are designated initializers that name only the members they set.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include <algorithm>
#include <cctype>
#include <set>

#include "core/expr.h"

namespace weir {

using json = nlohmann::json;

std::string_view paramKindName(ParamKind k) {
  switch (k) {
    case ParamKind::Int: return "int";
    case ParamKind::Double: return "double";
    case ParamKind::Bool: return "bool";
    case ParamKind::String: return "string";
    case ParamKind::Enum: return "enum";
    case ParamKind::Path: return "path";
    case ParamKind::Expression: return "expression";
    case ParamKind::Timestamp: return "timestamp";
    case ParamKind::Field: return "field";
    case ParamKind::FieldList: return "field_list";
    case ParamKind::Schema: return "schema";
    case ParamKind::Object: return "object";
    case ParamKind::ObjectList: return "object_list";
    case ParamKind::Json: return "json";
  }
  return "?";
}

std::string_view categoryName(OperatorCategory c) {
  switch (c) {
    case OperatorCategory::Source: return "source";
    case OperatorCategory::Transform: return "transform";
    case OperatorCategory::Sink: return "sink";
  }
  return "?";
}

const json& SchemaDerivation::param(std::string_view name) const {
  static const json kNull;
  if (!params || !params->is_object()) return kNull;
  auto it = params->find(name);
  return it == params->end() ? kNull : *it;
}

const ParamSpec* OperatorSpec::param(std::string_view name) const {
  for (const ParamSpec& p : params)
    if (p.name == name) return &p;
  return nullptr;
}

int OperatorSpec::inputIndex(std::string_view port) const {
  for (std::size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i].name == port) return static_cast<int>(i);
  return -1;
}

int OperatorSpec::outputIndex(std::string_view port) const {
  for (std::size_t i = 0; i < outputs.size(); ++i)
    if (outputs[i].name == port) return static_cast<int>(i);
  return -1;
}

const KeyedInput* OperatorSpec::keyedInput(std::string_view port) const {
  for (const KeyedInput& k : keyed)
    if (k.port == port) return &k;
  return nullptr;
}

// ---- names -------------------------------------------------------------------------------

namespace {

std::size_t editDistance(std::string_view a, std::string_view b) {
  // Optimal string alignment distance (a swap of two neighbours counts as one edit).
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  auto lower = [](char c) { return std::tolower(static_cast<unsigned char>(c)); };
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
          lower(a[i - 2]) == lower(b[j - 1]))
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.size()][b.size()];
}

}  // namespace

std::optional<std::string> closestName(std::string_view word,
                                       const std::vector<std::string>& candidates) {
  std::optional<std::string> best;
  std::size_t bestDistance = 0;
  for (const std::string& c : candidates) {
    std::size_t dist = editDistance(word, c);
    // A likely typo: at most a third of the longer name differs (and at least one edit
    // is always allowed), or one is a prefix of the other ("source.fil", "size").
    std::size_t limit = std::max<std::size_t>(1, std::max(word.size(), c.size()) / 3);
    bool prefix = word.size() >= 3 && c.size() >= 3 &&
                  (c.starts_with(word) || word.starts_with(c));
    if (c == word || (dist > limit && !prefix)) continue;
    if (!best || dist < bestDistance) best = c, bestDistance = dist;
  }
  return best;
}

std::string didYouMean(std::string_view word, const std::vector<std::string>& candidates) {
  auto c = closestName(word, candidates);
  return c ? " (did you mean '" + *c + "'?)" : std::string();
}

// ---- schemas and shared derivation helpers -------------------------------------------------

SchemaPtr generatorSchema(std::string_view table) {
  static const SchemaPtr bid = makeSchema({{"auction", Type::Int64},
                                           {"bidder", Type::Int64},
                                           {"price", Type::Int64},
                                           {"channel", Type::String},
                                           {"url", Type::String},
                                           {"date_time", Type::Timestamp},
                                           {"extra", Type::String}});
  static const SchemaPtr auction = makeSchema({{"id", Type::Int64},
                                               {"item_name", Type::String},
                                               {"description", Type::String},
                                               {"initial_bid", Type::Int64},
                                               {"reserve", Type::Int64},
                                               {"date_time", Type::Timestamp},
                                               {"expires", Type::Timestamp},
                                               {"seller", Type::Int64},
                                               {"category", Type::Int64},
                                               {"extra", Type::String}});
  static const SchemaPtr person = makeSchema({{"id", Type::Int64},
                                              {"name", Type::String},
                                              {"email_address", Type::String},
                                              {"credit_card", Type::String},
                                              {"city", Type::String},
                                              {"state", Type::String},
                                              {"date_time", Type::Timestamp},
                                              {"extra", Type::String}});
  if (table == "bid") return bid;
  if (table == "auction") return auction;
  if (table == "person") return person;
  return nullptr;
}

namespace {

std::vector<std::string> fieldNames(const Schema& s) {
  std::vector<std::string> names;
  for (const Field& f : s.fields()) names.push_back(f.name);
  return names;
}

std::string unknownField(std::string_view name, const Schema& s) {
  return "unknown field '" + std::string(name) + "'" + didYouMean(name, fieldNames(s));
}

/// A `schema` param (already checked by validation) as a Schema.
SchemaPtr schemaFromParam(const json& arr) {
  std::vector<Field> fields;
  if (arr.is_array()) {
    for (const json& f : arr) {
      auto type = parseType(f.value("type", ""));
      fields.push_back({f.value("name", ""), type.value_or(Type::String)});
    }
  }
  return makeSchema(std::move(fields));
}

/// The fields named by a field_list param, checked against `s`; reports unknown names.
/// Returns nullopt if any is unknown.
std::optional<std::vector<Field>> keyFields(SchemaDerivation& d, const std::string& param,
                                            const Schema& s) {
  std::vector<Field> fields;
  bool ok = true;
  const json& names = d.param(param);
  if (!names.is_array()) return fields;
  for (const json& n : names) {
    std::string name = n.get<std::string>();
    int i = s.indexOf(name);
    if (i < 0) {
      d.error(param, unknownField(name, s));
      ok = false;
    } else {
      fields.push_back(s.field(static_cast<std::size_t>(i)));
    }
  }
  if (!ok) return std::nullopt;
  return fields;
}

void checkDelimiter(SchemaDerivation& d) {
  const json& delim = d.param("delimiter");
  if (delim.is_string() && delim.get<std::string>().size() != 1)
    d.error("delimiter", "must be exactly one character");
}

/// The `timestamp` param of a source against its schema; sets props.eventTime.
void checkTimestampField(SchemaDerivation& d, const Schema& s, StreamProps& props) {
  const json& ts = d.param("timestamp");
  if (!ts.is_string()) return;
  std::string name = ts.get<std::string>();
  int i = s.indexOf(name);
  if (i < 0) {
    d.error("timestamp", unknownField(name, s));
    return;
  }
  Type t = s.field(static_cast<std::size_t>(i)).type;
  if (t != Type::Timestamp && t != Type::Int64) {
    d.error("timestamp", "field '" + name + "' is " + std::string(typeName(t)) +
                             "; event time must be a timestamp or int64 (milliseconds) field");
    return;
  }
  props.eventTime = true;
}

bool batchMode(const SchemaDerivation& d) { return d.job && d.job->mode == JobMode::Batch; }

const PortInput& singleInput(const SchemaDerivation& d, std::size_t port = 0) {
  return d.inputs.at(port).at(0);
}

/// Window and join need event time and an insert-only stream on `port`.
bool checkTimedInput(SchemaDerivation& d, const PortInput& in, std::string_view what,
                     std::string_view portLabel) {
  bool ok = true;
  std::string where = portLabel.empty() ? "its input" : "its " + std::string(portLabel) + " input";
  if (!in.props.eventTime) {
    d.error("", std::string(what) + " needs event time, but " + where +
                    " has none (give the source a `timestamp` field)");
    ok = false;
  }
  if (in.props.updates) {
    d.error("", std::string(what) + " cannot consume an update stream, but " + where +
                    " is one (the output of an aggregate)");
    ok = false;
  }
  return ok;
}

/// The result type of aggregate function `fn` over a field of type `t`; nullopt if `fn`
/// cannot take such a field.
std::optional<Type> aggregateType(std::string_view fn, Type t) {
  if (fn == "count" || fn == "count_distinct") return Type::Int64;
  if (fn == "sum") {
    if (!isNumeric(t)) return std::nullopt;
    return t;
  }
  if (fn == "avg") {
    if (!isNumeric(t)) return std::nullopt;
    return Type::Double;
  }
  return t;  // min, max, first, last
}

/// The `aggregates` param against input `in`; appends the result fields to `out`.
/// `taken` holds output names already used (keys, window bounds).
void deriveAggregates(SchemaDerivation& d, const Schema& in, std::vector<Field>& out,
                      std::set<std::string>& taken) {
  const json& aggs = d.param("aggregates");
  if (!aggs.is_array()) return;
  for (std::size_t i = 0; i < aggs.size(); ++i) {
    const json& a = aggs[i];
    std::string path = "aggregates[" + std::to_string(i) + "]";
    std::string name = a.value("name", "");
    std::string fn = a.value("fn", "");
    std::optional<Type> type;
    if (!a.contains("field")) {
      if (fn == "count") type = Type::Int64;
      else d.error(path + ".field", "missing; " + fn + " needs a field");
    } else {
      std::string field = a["field"].get<std::string>();
      int idx = in.indexOf(field);
      if (idx < 0) {
        d.error(path + ".field", unknownField(field, in));
      } else {
        Type t = in.field(static_cast<std::size_t>(idx)).type;
        type = aggregateType(fn, t);
        if (!type)
          d.error(path + ".field", fn + " needs a numeric field; '" + field + "' is " +
                                       std::string(typeName(t)));
      }
    }
    if (name.empty()) {
      d.error(path + ".name", "must not be empty");
    } else if (!taken.insert(name).second) {
      d.error(path + ".name", "duplicate output field '" + name + "'");
    } else if (type) {
      out.push_back({name, *type});
    }
  }
}

// ---- per-operator derivations --------------------------------------------------------------

void deriveFileSource(SchemaDerivation& d) {
  SchemaPtr schema = schemaFromParam(d.param("schema"));
  StreamProps props;
  props.bounded = !d.param("follow").get<bool>();
  checkDelimiter(d);
  checkTimestampField(d, *schema, props);
  if (batchMode(d) && !props.bounded)
    d.error("follow", "a batch job reads bounded sources only; follow makes this one unbounded");
  d.outputs = {schema};
  d.outputProps = {props};
}

void deriveSocketSource(SchemaDerivation& d) {
  SchemaPtr schema = schemaFromParam(d.param("schema"));
  StreamProps props;
  props.bounded = false;
  checkDelimiter(d);
  checkTimestampField(d, *schema, props);
  if (batchMode(d)) d.error("", "a batch job reads bounded sources only; a socket is unbounded");
  d.outputs = {schema};
  d.outputProps = {props};
}

void deriveGenerator(SchemaDerivation& d) {
  SchemaPtr schema = generatorSchema(d.param("table").get<std::string>());
  StreamProps props;
  props.eventTime = true;
  props.bounded = d.param("events").get<std::int64_t>() > 0;
  if (batchMode(d) && !props.bounded)
    d.error("events", "a batch job reads bounded sources only; events 0 means unbounded");
  d.outputs = {schema};
  d.outputProps = {props};
}

void deriveFilter(SchemaDerivation& d) {
  const PortInput& in = singleInput(d);
  CompiledExpr e = compileExpression(d.param("where").get<std::string>(), *in.schema);
  if (!e) {
    d.error("where", e.error ? e.error->toString() : "invalid expression");
  } else if (e.expr->type() != Type::Bool) {
    d.error("where", "must be a condition (bool), not " + std::string(typeName(e.expr->type())));
  }
  d.outputs = {in.schema};
  d.outputProps = {in.props};
}

void deriveMap(SchemaDerivation& d) {
  const PortInput& in = singleInput(d);
  bool keep = d.param("keep_input").get<bool>();
  std::vector<Field> out;
  std::set<std::string> taken;
  if (keep) {
    out = in.schema->fields();
    for (const Field& f : out) taken.insert(f.name);
  }
  const json& fields = d.param("fields");
  for (std::size_t i = 0; i < fields.size(); ++i) {
    std::string path = "fields[" + std::to_string(i) + "]";
    std::string name = fields[i].value("name", "");
    CompiledExpr e = compileExpression(fields[i].value("expr", ""), *in.schema);
    if (!e) d.error(path + ".expr", e.error ? e.error->toString() : "invalid expression");
    if (name.empty()) {
      d.error(path + ".name", "must not be empty");
    } else if (!taken.insert(name).second) {
      bool fromInput = keep && in.schema->indexOf(name) >= 0;
      d.error(path + ".name", "duplicate field name '" + name + "'" +
                                  (fromInput ? " (the input has it and keep_input is true)" : ""));
    } else if (e) {
      out.push_back({name, e.expr->type()});
    }
  }
  d.outputs = {makeSchema(std::move(out))};
  d.outputProps = {in.props};
}

/// The members a `window` object needs and may not have, by its type (window, join).
void checkWindowShape(SchemaDerivation& d, const json& w) {
  std::string type = w.value("type", "");
  auto need = [&](const char* member) {
    if (!w.contains(member))
      d.error(std::string("window.") + member, "missing; a " + type + " window needs it");
  };
  auto forbid = [&](const char* member, const char* usedBy) {
    if (w.contains(member))
      d.error(std::string("window.") + member,
              "only " + std::string(usedBy) + " windows take it, this one is " + type);
  };
  if (type == "tumbling") {
    need("size_ms");
    forbid("slide_ms", "sliding");
    forbid("gap_ms", "session");
  } else if (type == "sliding") {
    need("size_ms");
    need("slide_ms");
    forbid("gap_ms", "session");
  } else if (type == "session") {
    need("gap_ms");
    forbid("size_ms", "tumbling and sliding");
    forbid("slide_ms", "sliding");
  }
}

void deriveWindow(SchemaDerivation& d) {
  const PortInput& in = singleInput(d);
  const json& w = d.param("window");
  const bool processingTime = w.value("time", "event") == "processing";
  if (!processingTime) {
    checkTimedInput(d, in, "a window", "");
  } else if (in.props.updates) {
    d.error("", "a window cannot consume an update stream, but its input is one "
                "(the output of an aggregate)");
  }

  checkWindowShape(d, w);

  std::vector<Field> out;
  std::set<std::string> taken;
  if (auto keys = keyFields(d, "key", *in.schema)) {
    for (const Field& f : *keys) {
      out.push_back(f);
      taken.insert(f.name);
    }
  }
  for (const char* bound : {"window_start", "window_end"}) {
    if (!taken.insert(bound).second)
      d.error("key", "a key field may not be called '" + std::string(bound) + "'");
    out.push_back({bound, Type::Timestamp});
  }
  deriveAggregates(d, *in.schema, out, taken);

  const json& lateness = d.param("allowed_lateness_ms");
  if (processingTime && lateness.is_number_integer() && lateness.get<std::int64_t>() > 0)
    d.error("allowed_lateness_ms", "only event-time windows have late records");

  StreamProps props;
  props.eventTime = true;
  props.bounded = in.props.bounded;
  // Late records inside the allowed lateness update results already emitted.
  props.updates = !processingTime && lateness.is_number_integer() && lateness.get<std::int64_t>() > 0;
  d.outputs = {makeSchema(std::move(out)), in.schema};
  d.outputProps = {props, in.props};
}

void deriveWatermark(SchemaDerivation& d) {
  const PortInput& in = singleInput(d);
  if (in.props.updates)
    d.error("", "cannot re-time an update stream (the output of an aggregate)");
  StreamProps props = in.props;
  checkTimestampField(d, *in.schema, props);
  d.outputs = {in.schema};
  d.outputProps = {props};
}

void deriveAggregate(SchemaDerivation& d) {
  const PortInput& in = singleInput(d);
  if (in.props.updates)
    d.error("", "an aggregate cannot consume an update stream, but its input is one "
                "(the output of another aggregate)");
  std::vector<Field> out;
  std::set<std::string> taken;
  if (auto keys = keyFields(d, "key", *in.schema)) {
    for (const Field& f : *keys) {
      out.push_back(f);
      taken.insert(f.name);
    }
  }
  deriveAggregates(d, *in.schema, out, taken);
  StreamProps props = in.props;
  props.updates = true;
  d.outputs = {makeSchema(std::move(out))};
  d.outputProps = {props};
}

void deriveJoin(SchemaDerivation& d) {
  const PortInput& left = singleInput(d, 0);
  const PortInput& right = singleInput(d, 1);
  const json& window = d.param("window");
  const bool windowed = window.is_object();
  const char* what = windowed ? "a window join" : "an interval join";
  checkTimedInput(d, left, what, "left");
  checkTimedInput(d, right, what, "right");

  auto lk = keyFields(d, "left_key", *left.schema);
  auto rk = keyFields(d, "right_key", *right.schema);
  if (d.param("left_key").empty()) d.error("left_key", "needs at least one field");
  if (lk && rk) {
    if (lk->size() != rk->size()) {
      d.error("right_key", "has " + std::to_string(rk->size()) + " fields but left_key has " +
                               std::to_string(lk->size()));
    } else {
      for (std::size_t i = 0; i < lk->size(); ++i) {
        const Field& l = (*lk)[i];
        const Field& r = (*rk)[i];
        if (l.type != r.type)
          d.error("right_key", "field '" + r.name + "' is " + std::string(typeName(r.type)) +
                                   " but left_key's '" + l.name + "' is " +
                                   std::string(typeName(l.type)));
      }
    }
  }
  if (windowed) {
    for (const char* bound : {"lower_ms", "upper_ms"})
      if (!d.param(bound).is_null())
        d.error(bound, "a window join pairs records of the same window; it takes no lower_ms or upper_ms");
    checkWindowShape(d, window);
    if (window.value("time", "event") != "event")
      d.error("window.time", "a window join pairs records by event time only");
  } else if (d.param("lower_ms").is_null() || d.param("upper_ms").is_null()) {
    d.error(d.param("lower_ms").is_null() ? "lower_ms" : "upper_ms",
            "missing; an interval join needs lower_ms and upper_ms (or give window for a window join)");
  } else {
    auto lower = d.param("lower_ms").get<std::int64_t>();
    auto upper = d.param("upper_ms").get<std::int64_t>();
    if (lower > upper)
      d.error("upper_ms", "must be at least lower_ms (" + std::to_string(lower) + ")");
  }

  std::vector<Field> out = left.schema->fields();
  std::set<std::string> taken;
  for (const Field& f : out) taken.insert(f.name);
  for (const Field& f : right.schema->fields()) {
    std::string name = f.name;
    while (taken.count(name)) name = "right_" + name;
    taken.insert(name);
    out.push_back({name, f.type});
  }
  if (windowed)
    for (std::string name : {"window_start", "window_end"}) {
      while (taken.count(name)) name = "join_" + name;
      taken.insert(name);
      out.push_back({name, Type::Timestamp});
    }
  StreamProps props;
  props.eventTime = true;
  props.bounded = left.props.bounded && right.props.bounded;
  d.outputs = {makeSchema(std::move(out))};
  d.outputProps = {props};
}

/// Where two schemas first differ, in words ("field 2 is price:double, not price:int64").
std::string schemaDifference(const Schema& a, const Schema& b) {
  std::size_t n = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (a.field(i) == b.field(i)) continue;
    auto text = [](const Field& f) { return f.name + ":" + std::string(typeName(f.type)); };
    return "field " + std::to_string(i + 1) + " is " + text(a.field(i)) + ", not " +
           text(b.field(i));
  }
  return "it has " + std::to_string(a.size()) + (a.size() == 1 ? " field" : " fields") +
         ", not " + std::to_string(b.size());
}

void deriveUnion(SchemaDerivation& d) {
  const std::vector<PortInput>& ins = d.inputs.at(0);
  const PortInput& first = ins.at(0);
  StreamProps props = first.props;
  for (std::size_t i = 1; i < ins.size(); ++i) {
    const PortInput& in = ins[i];
    std::string path = "edges[" + std::to_string(in.edge) + "]";
    std::string other = "edges[" + std::to_string(first.edge) + "]";
    if (!(*in.schema == *first.schema))
      d.error(path, "schema differs from " + other + "'s: " +
                        schemaDifference(*in.schema, *first.schema));
    if (in.props.eventTime != first.props.eventTime)
      d.error(path, std::string(in.props.eventTime ? "has" : "has no") + " event time but " +
                        other + (first.props.eventTime ? " has" : " has none"));
    props.updates = props.updates || in.props.updates;
    props.bounded = props.bounded && in.props.bounded;
  }
  d.outputs = {first.schema};
  d.outputProps = {props};
}

/// udf: loads the plugin (core/plugin.h) and asks the function for its output schema, so
/// that a job that does not fit the plugin is refused before it runs.
void deriveUdf(SchemaDerivation& d) {
  const PortInput& in = singleInput(d);
  const json& pluginParam = d.param("plugin");
  const json& functionParam = d.param("function");
  if (!pluginParam.is_string() || !functionParam.is_string()) return d.error("plugin", "must be a string");
  std::string error;
  const auto path = findPlugin(pluginParam.get<std::string>(), d.job ? d.job->baseDir : std::filesystem::path(), error);
  if (!path) return d.error("plugin", error);
  const auto lib = PluginLibrary::load(*path, error);
  if (!lib) return d.error("plugin", error);
  const std::string function = functionParam.get<std::string>();
  const weir_function* fn = lib->function(function);
  if (!fn)
    return d.error("function", "plugin " + lib->name() + " has no function '" + function + "'" +
                                   didYouMean(function, lib->functionNames()));
  SchemaPtr out = pluginOutputSchema(*fn, *in.schema, d.param("params"), error);
  if (!out) return d.error("params", lib->name() + "." + function + ": " + error);
  const json& schema = d.param("schema");
  if (schema.is_array()) {
    SchemaPtr expected = schemaFromParam(schema);
    if (!(*expected == *out))
      return d.error("schema", "the function's output is " + out->toString() + ", not " + expected->toString());
  }
  d.outputs = {out};
  d.outputProps = {in.props};
}

void deriveSink(SchemaDerivation& d) {
  d.outputs.clear();
  d.outputProps.clear();
}

/// sink.sqlite: the key fields exist; an update stream needs them (its changes are applied
/// to the rows they identify).
void deriveSqliteSink(SchemaDerivation& d) {
  const PortInput& in = singleInput(d);
  const auto keys = keyFields(d, "key", *in.schema);
  if (in.props.updates && keys && keys->empty())
    d.error("key", "the input is an update stream (each result replaces an earlier one): name "
                   "the fields that identify a row, e.g. the aggregate's key, or a window's key "
                   "with window_start");
  const json& table = d.param("table");
  if (table.is_string()) {
    const std::string name = table.get<std::string>();
    if (name.empty()) d.error("table", "must not be empty");
    else if (name.size() >= 7 && std::equal(name.begin(), name.begin() + 7, "sqlite_",
                                            [](char a, char b) { return std::tolower(a) == b; }))
      d.error("table", "names starting with sqlite_ are reserved by SQLite");
  }
  deriveSink(d);
}

// ---- param specs -----------------------------------------------------------------------------

ParamSpec formatParam(bool required, std::string doc) {
  ParamSpec p{.name = "format", .kind = ParamKind::Enum, .required = required, .doc = std::move(doc),
              .enumValues = {"csv", "jsonl"}};
  if (!required) p.defaultValue = "csv";
  return p;
}

ParamSpec schemaParam() {
  return {.name = "schema", .kind = ParamKind::Schema, .required = true,
          .doc = "The fields of each record, in order: [{\"name\": ..., \"type\": ...}] with "
                 "types int64, double, string, bool, timestamp. Names must be unique."};
}

ParamSpec timestampParam() {
  return {.name = "timestamp", .kind = ParamKind::Field,
          .doc = "The field that holds each record's event time (a timestamp field, or an "
                 "int64 field of milliseconds since the epoch). Without it records have no "
                 "event time, and windows and joins cannot use them."};
}

ParamSpec watermarkParam() {
  return {.name = "watermark", .kind = ParamKind::Object, .defaultValue = json::object(),
          .doc = "How the watermark follows the event times: largest time seen - "
                 "max_out_of_orderness_ms - 1 (used with timestamp).",
          .children = {
              {.name = "max_out_of_orderness_ms", .kind = ParamKind::Int, .defaultValue = 0,
               .doc = "How late a record may arrive, in event time, behind the largest "
                      "timestamp seen: the watermark trails that timestamp by this much.",
               .min = 0},
              {.name = "idle_timeout_ms", .kind = ParamKind::Int, .defaultValue = 0,
               .doc = "A subtask that has read nothing for this long is marked idle, so it "
                      "does not hold back the watermark downstream; 0: never.",
               .min = 0},
              {.name = "interval_ms", .kind = ParamKind::Int, .defaultValue = 0,
               .doc = "Least processing time between two watermarks (Flink's "
                      "autoWatermarkInterval): a risen watermark waits until this long "
                      "after the last one. 0: after every batch that raises it, so it never "
                      "trails the data by more than a batch and which records are late "
                      "does not depend on timing. The end of the input always emits the "
                      "final watermark.",
               .min = 0},
          }};
}

ParamSpec delimiterParam() {
  return {.name = "delimiter", .kind = ParamKind::String, .defaultValue = ",",
          .doc = "CSV field separator: exactly one character."};
}

ParamSpec batchSizeParam() {
  return {.name = "batch_size", .kind = ParamKind::Int, .defaultValue = 1024,
          .doc = "Most records per batch the source emits.", .min = 1, .max = 1 << 20};
}

ParamSpec onBadRecordParam() {
  return {.name = "on_bad_record", .kind = ParamKind::Enum,
          .doc = "What to do with a record that cannot be read, overriding the job's "
                 "on_bad_record: skip (write it to the dead-letter file and count it) or fail "
                 "(end the job).",
          .enumValues = {"skip", "fail"}};
}

ParamSpec keyParam(std::string doc) {
  return {.name = "key", .kind = ParamKind::FieldList, .defaultValue = json::array(),
          .doc = std::move(doc)};
}

/// The members of a `window` object that give its shape (window, join): type, size_ms,
/// slide_ms, gap_ms; `typeDoc` explains the types for that operator.
std::vector<ParamSpec> windowShapeParams(std::string typeDoc) {
  return {
      {.name = "type", .kind = ParamKind::Enum, .required = true, .doc = std::move(typeDoc),
       .enumValues = {"tumbling", "sliding", "session"}},
      {.name = "size_ms", .kind = ParamKind::Int, .doc = "Window length (tumbling, sliding).", .min = 1},
      {.name = "slide_ms", .kind = ParamKind::Int, .doc = "Distance between window starts (sliding).", .min = 1},
      {.name = "gap_ms", .kind = ParamKind::Int, .doc = "Inactivity that ends a session (session).", .min = 1},
  };
}

ParamSpec aggregatesParam() {
  return {.name = "aggregates", .kind = ParamKind::ObjectList, .required = true,
          .doc = "The results to compute, each a named output field.",
          .children = {
              {.name = "name", .kind = ParamKind::String, .required = true,
               .doc = "The output field's name."},
              {.name = "fn", .kind = ParamKind::Enum, .required = true,
               .doc = "count (int64; of the field's non-null values when a field is given, "
                      "else of records), sum (int64 of int64, double of double), min, max, "
                      "first, last (the field's type), avg (double), count_distinct (int64).",
               .enumValues = {"count", "sum", "min", "max", "avg", "first", "last",
                              "count_distinct"}},
              {.name = "field", .kind = ParamKind::Field,
               .doc = "The input field aggregated; required except for count."},
          }};
}

PortSpec inPort(std::string doc = "The records to process.") {
  return {.name = "in", .doc = std::move(doc)};
}
PortSpec outPort(std::string doc) { return {.name = "out", .doc = std::move(doc)}; }

Catalog makeBuiltin() {
  Catalog c;
  const char* bidCols =
      "bid: auction, bidder, price (int64), channel, url (string), date_time (timestamp), "
      "extra (string); auction: id, item_name, description, initial_bid, reserve, date_time "
      "(timestamp), expires (timestamp), seller, category, extra; person: id, name, "
      "email_address, credit_card, city, state, date_time (timestamp), extra. Ids, prices, "
      "seller and category are int64, the rest strings.";

  c.add({.type = "source.file",
         .category = OperatorCategory::Source,
         .title = "File source",
         .doc = "Reads records from a CSV or JSON Lines file, or from every file a glob "
                "matches. An empty CSV cell is null; timestamps may be integer milliseconds "
                "or ISO-8601. A record that cannot be read goes to the dead-letter file (or "
                "ends the job, per on_bad_record). With follow, the source keeps reading new "
                "lines as they are appended and never ends.",
         .outputDoc = "The declared schema.",
         .outputs = {outPort("The records read, with the declared schema.")},
         .params = {
             {.name = "path", .kind = ParamKind::Path, .required = true,
              .doc = "The file, or a glob (*, ?) matching several; relative to the job "
                     "file's folder."},
             formatParam(true, "csv or jsonl (one JSON object per line)."),
             {.name = "header", .kind = ParamKind::Bool, .defaultValue = true,
              .doc = "CSV: the file starts with a header line naming the columns."},
             delimiterParam(),
             schemaParam(),
             timestampParam(),
             watermarkParam(),
             {.name = "follow", .kind = ParamKind::Bool, .defaultValue = false,
              .doc = "Keep reading lines appended to the file (tail -f): the source never "
                     "ends."},
             batchSizeParam(),
             onBadRecordParam(),
         },
         .derive = deriveFileSource});

  c.add({.type = "source.generator",
         .category = OperatorCategory::Source,
         .title = "Nexmark generator",
         .doc = "Generates Nexmark-style auction data: bids, auctions or people. The records "
                "are the same for the same seed whatever the parallelism; event times start "
                "at base_time, advance by event_gap_us per event and are in order.",
         .outputDoc = std::string("The table's columns: ") + bidCols,
         .outputs = {outPort("The generated records.")},
         .params = {
             {.name = "table", .kind = ParamKind::Enum, .required = true,
              .doc = "Which records to generate.", .enumValues = {"bid", "auction", "person"}},
             {.name = "events", .kind = ParamKind::Int, .defaultValue = 0,
              .doc = "How many records in all subtasks together; 0: unbounded.", .min = 0},
             {.name = "rate", .kind = ParamKind::Double, .defaultValue = 0,
              .doc = "Records per second over all subtasks; 0: as fast as possible.",
              .min = 0},
             {.name = "seed", .kind = ParamKind::Int, .defaultValue = 42,
              .doc = "Seed of the pseudo-random values."},
             {.name = "base_time", .kind = ParamKind::Timestamp,
              .defaultValue = "2026-01-01T00:00:00Z",
              .doc = "Event time of the first record."},
             {.name = "event_gap_us", .kind = ParamKind::Int, .defaultValue = 1000,
              .doc = "Event-time distance between consecutive records, in microseconds.",
              .min = 0},
             batchSizeParam(),
             watermarkParam(),
         },
         .derive = deriveGenerator});

  c.add({.type = "source.socket",
         .category = OperatorCategory::Source,
         .title = "Socket source",
         .doc = "Connects to a TCP server and reads CSV lines (no header) or JSON Lines from "
                "it until the connection closes; unbounded, so streaming jobs only. Runs as "
                "one subtask.",
         .outputDoc = "The declared schema.",
         .outputs = {outPort("The records read, with the declared schema.")},
         .params = {
             {.name = "host", .kind = ParamKind::String, .defaultValue = "127.0.0.1",
              .doc = "The server's host name or address."},
             {.name = "port", .kind = ParamKind::Int, .required = true,
              .doc = "The server's TCP port.", .min = 1, .max = 65535},
             formatParam(true, "csv (fields in schema order) or jsonl."),
             delimiterParam(),
             schemaParam(),
             timestampParam(),
             watermarkParam(),
             onBadRecordParam(),
         },
         .maxParallelism = 1,
         .derive = deriveSocketSource});

  c.add({.type = "filter",
         .category = OperatorCategory::Transform,
         .title = "Filter",
         .doc = "Keeps the records for which a condition is TRUE (not FALSE, not NULL).",
         .outputDoc = "The input schema.",
         .inputs = {inPort()},
         .outputs = {outPort("The records kept.")},
         .params = {
             {.name = "where", .kind = ParamKind::Expression, .required = true,
              .doc = "A bool expression over the input fields, e.g. price > 1000."},
         },
         .derive = deriveFilter});

  c.add({.type = "map",
         .category = OperatorCategory::Transform,
         .title = "Map",
         .doc = "Computes new fields from each record's fields, one output record per input "
                "record; the event time is kept.",
         .outputDoc = "The input's fields if keep_input, then the computed fields, each with "
                      "its expression's type. Names must be unique.",
         .inputs = {inPort()},
         .outputs = {outPort("The records with the computed fields.")},
         .params = {
             {.name = "fields", .kind = ParamKind::ObjectList, .required = true,
              .doc = "The output fields, in order.",
              .children = {
                  {.name = "name", .kind = ParamKind::String, .required = true,
                   .doc = "The field's name."},
                  {.name = "expr", .kind = ParamKind::Expression, .required = true,
                   .doc = "Its value: an expression over the input fields."},
              }},
             {.name = "keep_input", .kind = ParamKind::Bool, .defaultValue = false,
              .doc = "Output the input's fields first, then the computed ones."},
         },
         .derive = deriveMap});

  c.add({.type = "window",
         .category = OperatorCategory::Transform,
         .title = "Window",
         .doc = "Groups records by key into event-time windows (tumbling, sliding or session) "
                "and emits one result per key and window when the watermark passes the "
                "window's end. A late record within allowed_lateness_ms updates its window's "
                "result (emitted again as an update: -U old, +U new); records later than "
                "that go to the `late` port. Needs event time on its input, unless "
                "window.time is processing.",
         .outputDoc = "The key fields, window_start and window_end (timestamp), then the "
                      "aggregates; each result's event time is window_end - 1. An update "
                      "stream when allowed_lateness_ms > 0. Port late: the input schema.",
         .inputs = {inPort("The records to group; hash-partitioned on the key.")},
         .outputs = {outPort("One record per key and window."),
                     {.name = "late", .doc = "Records that arrived after their window closed.",
                      .required = false}},
         .keyed = {{"in", "key"}},
         .params = {
             keyParam("The fields to group by; empty: one group (one subtask gets all)."),
             {.name = "window", .kind = ParamKind::Object, .required = true,
              .doc = "The window's shape.",
              .children = [] {
                auto shape = windowShapeParams("tumbling (fixed, back to back: size_ms), sliding (size_ms, every "
                                               "slide_ms) or session (ends after gap_ms without records).");
                shape.push_back({.name = "time", .kind = ParamKind::Enum, .defaultValue = "event",
                                 .doc = "event (windows follow the records' event time and fire on the "
                                        "watermark) or processing (the machine's clock at arrival; fire "
                                        "on the clock; no lateness, no late records).",
                                 .enumValues = {"event", "processing"}});
                return shape;
              }()},
             aggregatesParam(),
             {.name = "allowed_lateness_ms", .kind = ParamKind::Int, .defaultValue = 0,
              .doc = "How long after the watermark passed a window's end late records still "
                     "update it (the result is emitted again).",
              .min = 0},
         },
         .derive = deriveWindow});

  c.add({.type = "aggregate",
         .category = OperatorCategory::Transform,
         .title = "Aggregate",
         .doc = "Keeps running aggregates per key with no window, emitting an update stream: "
                "each input record retracts the key's previous result and emits the new one.",
         .outputDoc = "The key fields, then the aggregates; an update stream.",
         .inputs = {inPort("The records to aggregate; hash-partitioned on the key.")},
         .outputs = {outPort("The updated result of each key, as an update stream.")},
         .keyed = {{"in", "key"}},
         .params = {
             keyParam("The fields to group by; empty: one group (one subtask gets all)."),
             aggregatesParam(),
         },
         .derive = deriveAggregate});

  c.add({.type = "join",
         .category = OperatorCategory::Transform,
         .title = "Join",
         .doc = "Interval join (lower_ms, upper_ms): joins each left record with the right "
                "records of equal key whose event time lies in [left time + lower_ms, left "
                "time + upper_ms]. Window join (window): joins the left and right records of "
                "equal key that fall in the same tumbling, sliding or session window, once the "
                "watermark passes the window's end. Needs event time on both inputs.",
         .outputDoc = "The left fields, then the right fields; a right field whose name is "
                      "taken is renamed right_<name> (repeatedly, until unique). A window join "
                      "adds window_start and window_end (timestamp; join_<name> if taken); its "
                      "rows' event time is window_end - 1.",
         .inputs = {{.name = "left", .doc = "Left records; hash-partitioned on left_key."},
                    {.name = "right", .doc = "Right records; hash-partitioned on right_key."}},
         .outputs = {outPort("One record per matching left and right pair.")},
         .keyed = {{"left", "left_key"}, {"right", "right_key"}},
         .params = {
             {.name = "left_key", .kind = ParamKind::FieldList, .required = true,
              .doc = "Key fields of the left input."},
             {.name = "right_key", .kind = ParamKind::FieldList, .required = true,
              .doc = "Key fields of the right input: as many as left_key, of the same types."},
             {.name = "lower_ms", .kind = ParamKind::Int,
              .doc = "Interval join: lower bound of right time minus left time (may be "
                     "negative)."},
             {.name = "upper_ms", .kind = ParamKind::Int,
              .doc = "Interval join: upper bound of right time minus left time; at least "
                     "lower_ms."},
             {.name = "window", .kind = ParamKind::Object,
              .doc = "Window join, instead of lower_ms and upper_ms: the windows whose records "
                     "are paired.",
              .children = windowShapeParams(
                  "tumbling (fixed, back to back: size_ms), sliding (size_ms, every slide_ms; a pair "
                  "in several windows is joined in each) or session (ends after gap_ms without a "
                  "record of the key on either side).")},
         },
         .derive = deriveJoin});

  c.add({.type = "union",
         .category = OperatorCategory::Transform,
         .title = "Union",
         .doc = "Merges any number of inputs with the same schema into one stream.",
         .outputDoc = "The common schema of the inputs (names and types must match).",
         .inputs = {{.name = "in", .doc = "Any number of edges, all of the same schema.",
                     .multiple = true}},
         .outputs = {outPort("Every input record.")},
         .derive = deriveUnion});

  c.add({.type = "udf",
         .category = OperatorCategory::Transform,
         .title = "Plugin function",
         .doc = "Runs a function from an operator plugin (a shared library, docs/plugins.md) on "
                "each batch: 0..n output rows per input record, each with the event time and "
                "row kind of the record it came from.",
         .outputDoc = "Declared by the plugin's function from the input schema and params "
                      "(shown by `weir validate`).",
         .inputs = {inPort()},
         .outputs = {outPort("What the function returns.")},
         .params = {
             {.name = "plugin", .kind = ParamKind::String, .required = true,
              .doc = "The plugin: a name, found as lib<name>.so or <name>.so in the job's plugins/ "
                     "folder, $WEIR_PLUGIN_PATH or the plugins folder beside the programs; or a "
                     "path to the library (relative to the job's folder)."},
             {.name = "function", .kind = ParamKind::String, .required = true,
              .doc = "The function's name inside the plugin."},
             {.name = "params", .kind = ParamKind::Json, .defaultValue = json::object(),
              .doc = "Passed to the function as they are."},
             {.name = "schema", .kind = ParamKind::Schema,
              .doc = "The output schema the job expects; when given, validation checks that "
                     "the function's matches it."},
         },
         .derive = deriveUdf});

  c.add({.type = "watermark",
         .category = OperatorCategory::Transform,
         .title = "Watermarks",
         .doc = "Re-assigns event time mid-graph: each record's event time becomes the value "
                "of `timestamp`, and watermarks are generated anew from those times "
                "(bounded out-of-orderness, idleness) instead of passed on from upstream; "
                "only the end of the input (the maximum watermark) passes through. A record "
                "whose timestamp is null goes to the dead-letter file.",
         .outputDoc = "The input schema, with event time.",
         .inputs = {inPort()},
         .outputs = {outPort("The records, re-timed.")},
         .params = {
             {.name = "timestamp", .kind = ParamKind::Field, .required = true,
              .doc = "The field that holds each record's new event time (a timestamp field, "
                     "or an int64 field of milliseconds since the epoch)."},
             watermarkParam(),
         },
         .derive = deriveWatermark});

  c.add({.type = "sink.file",
         .category = OperatorCategory::Sink,
         .title = "File sink",
         .doc = "Writes records to a CSV or JSON Lines file: timestamps as ISO-8601 UTC with "
                "milliseconds, doubles in shortest round-trip form, null as an empty cell.",
         .outputDoc = "None.",
         .inputs = {inPort("The records to write.")},
         .params = {
             {.name = "path", .kind = ParamKind::Path, .required = true,
              .doc = "The file to write; relative to the job file's folder."},
             formatParam(true, "csv or jsonl."),
             {.name = "header", .kind = ParamKind::Bool, .defaultValue = true,
              .doc = "CSV: write a header line with the field names."},
         },
         .derive = deriveSink});

  c.add({.type = "sink.stdout",
         .category = OperatorCategory::Sink,
         .title = "Print",
         .doc = "Prints records to the standard output of the process running it (for "
                "`weir run`, the terminal). Runs as one subtask.",
         .outputDoc = "None.",
         .inputs = {inPort("The records to print.")},
         .params = {
             formatParam(false, "csv or jsonl."),
             {.name = "header", .kind = ParamKind::Bool, .defaultValue = true,
              .doc = "CSV: print a header line first."},
             {.name = "limit", .kind = ParamKind::Int,
              .doc = "Print at most this many records (absent: all).", .min = 0},
         },
         .maxParallelism = 1,
         .derive = deriveSink});

  c.add({.type = "sink.discard",
         .category = OperatorCategory::Sink,
         .title = "Discard",
         .doc = "Consumes and drops every record (benchmarks, or a branch kept for later). "
                "`throttle_records_per_s` makes it slow on purpose, a test and load-shaping "
                "aid: it sleeps so that each subtask takes at most that many records per "
                "second, which backpressures its producers.",
         .outputDoc = "None.",
         .inputs = {inPort("The records to drop.")},
         .params = {
             {.name = "throttle_records_per_s", .kind = ParamKind::Int, .defaultValue = 0,
              .doc = "Records per second each subtask takes at most (sleeping in the sink); "
                     "0: no limit.",
              .min = 0},
         },
         .derive = deriveSink});

  c.add({.type = "sink.sqlite",
         .category = OperatorCategory::Sink,
         .title = "SQLite sink",
         .doc = "Writes records into a table of a SQLite database file, creating the file and "
                "the table (columns of the input schema; timestamps as ISO-8601 text) when "
                "they do not exist, one transaction per batch. Without key every record is "
                "inserted. With key (required for an update stream such as an aggregate's) "
                "the table holds one row per key: +I and +U replace the key's row or insert "
                "it, -U and -D delete it, so the table ends with the final results. Runs as "
                "one subtask (SQLite has a single writer).",
         .outputDoc = "None.",
         .inputs = {inPort("The records to write.")},
         .params = {
             {.name = "path", .kind = ParamKind::Path, .required = true,
              .doc = "The database file; relative to the job file's folder."},
             {.name = "table", .kind = ParamKind::String, .required = true,
              .doc = "The table's name."},
             keyParam("The fields that identify a row (the table's primary key when the sink "
                      "creates it): rows are upserted and deleted by them. Empty: plain inserts "
                      "(not allowed for an update stream)."),
         },
         .maxParallelism = 1,
         .derive = deriveSqliteSink});
  return c;
}

json portToJson(const PortSpec& p, bool input) {
  json j = {{"name", p.name}, {"doc", p.doc}, {"required", p.required}};
  if (input) j["multiple"] = p.multiple;
  return j;
}

}  // namespace

json paramSpecToJson(const ParamSpec& p) {
  json j = {{"name", p.name}, {"kind", paramKindName(p.kind)}, {"required", p.required},
            {"doc", p.doc}};
  if (!p.defaultValue.is_null()) j["default"] = p.defaultValue;
  if (!p.enumValues.empty()) j["enum"] = p.enumValues;
  if (p.min) j["min"] = *p.min;
  if (p.max) j["max"] = *p.max;
  if (p.kind == ParamKind::Object || p.kind == ParamKind::ObjectList) {
    json children = json::array();
    for (const ParamSpec& c : p.children) children.push_back(paramSpecToJson(c));
    j["children"] = std::move(children);
  }
  return j;
}

const std::vector<ParamSpec>& checkpointParams() {
  static const std::vector<ParamSpec> params = {
      {.name = "interval_ms", .kind = ParamKind::Int, .required = true,
       .doc = "Time between the starts of two checkpoints.", .min = 1},
      {.name = "mode", .kind = ParamKind::Enum, .defaultValue = "exactly_once",
       .doc = "exactly_once (aligned barriers) or at_least_once (no alignment).",
       .enumValues = {"exactly_once", "at_least_once"}},
      {.name = "timeout_ms", .kind = ParamKind::Int, .defaultValue = 600000,
       .doc = "A checkpoint not complete after this long is aborted.", .min = 1},
      {.name = "min_pause_ms", .kind = ParamKind::Int, .defaultValue = 0,
       .doc = "Least time between the end of one checkpoint and the start of the next.",
       .min = 0},
      {.name = "max_concurrent", .kind = ParamKind::Int, .defaultValue = 1,
       .doc = "Most checkpoints in progress at once.", .min = 1},
      {.name = "retained", .kind = ParamKind::Int, .defaultValue = 3,
       .doc = "How many completed checkpoints are kept.", .min = 1},
  };
  return params;
}

const std::vector<ParamSpec>& restartParams() {
  static const std::vector<ParamSpec> params = {
      {.name = "strategy", .kind = ParamKind::Enum, .defaultValue = "fixed_delay",
       .doc = "none (a failure fails the job), fixed_delay (wait delay_ms between attempts), "
              "exponential_delay (start at delay_ms, multiply by multiplier up to "
              "max_delay_ms) or failure_rate (fail when more than max_attempts failures "
              "happen within interval_ms).",
       .enumValues = {"none", "fixed_delay", "exponential_delay", "failure_rate"}},
      {.name = "max_attempts", .kind = ParamKind::Int, .defaultValue = 3,
       .doc = "Restarts before the job fails (failure_rate: failures per interval_ms).",
       .min = 0},
      {.name = "delay_ms", .kind = ParamKind::Int, .defaultValue = 1000,
       .doc = "Wait before a restart (exponential_delay: the first wait).", .min = 0},
      {.name = "max_delay_ms", .kind = ParamKind::Int, .defaultValue = 60000,
       .doc = "exponential_delay: the longest wait.", .min = 0},
      {.name = "multiplier", .kind = ParamKind::Double, .defaultValue = 2.0,
       .doc = "exponential_delay: factor between successive waits.", .min = 1},
      {.name = "interval_ms", .kind = ParamKind::Int, .defaultValue = 60000,
       .doc = "failure_rate: the measuring interval.", .min = 1},
      {.name = "reset_after_ms", .kind = ParamKind::Int, .defaultValue = 3600000,
       .doc = "exponential_delay: after the job ran this long without a failure, the wait "
              "and the count start over.",
       .min = 1},
  };
  return params;
}

const Catalog& Catalog::builtin() {
  static const Catalog catalog = makeBuiltin();
  return catalog;
}

void Catalog::add(OperatorSpec spec) {
  for (OperatorSpec& s : operators_) {
    if (s.type == spec.type) {
      s = std::move(spec);
      return;
    }
  }
  operators_.push_back(std::move(spec));
}

const OperatorSpec* Catalog::find(std::string_view type) const {
  for (const OperatorSpec& s : operators_)
    if (s.type == type) return &s;
  return nullptr;
}

json Catalog::toJson() const {
  json ops = json::array();
  for (const OperatorSpec& s : operators_) {
    json inputs = json::array(), outputs = json::array(), keyed = json::array(),
         params = json::array();
    for (const PortSpec& p : s.inputs) inputs.push_back(portToJson(p, true));
    for (const PortSpec& p : s.outputs) outputs.push_back(portToJson(p, false));
    for (const KeyedInput& k : s.keyed) keyed.push_back({{"port", k.port}, {"param", k.param}});
    for (const ParamSpec& p : s.params) params.push_back(paramSpecToJson(p));
    ops.push_back({{"type", s.type},
                   {"category", categoryName(s.category)},
                   {"title", s.title},
                   {"doc", s.doc},
                   {"output_doc", s.outputDoc},
                   {"inputs", std::move(inputs)},
                   {"outputs", std::move(outputs)},
                   {"keyed", std::move(keyed)},
                   {"max_parallelism", s.maxParallelism},
                   {"params", std::move(params)}});
  }
  json checkpoint = json::array(), restart = json::array();
  for (const ParamSpec& p : checkpointParams()) checkpoint.push_back(paramSpecToJson(p));
  for (const ParamSpec& p : restartParams()) restart.push_back(paramSpecToJson(p));
  return {{"weir", 1},
          {"operators", std::move(ops)},
          {"job", {{"checkpoint", std::move(checkpoint)}, {"restart", std::move(restart)}}}};
}

json catalogToJson() { return Catalog::builtin().toJson(); }

}  // namespace weir
