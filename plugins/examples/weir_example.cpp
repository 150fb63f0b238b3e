// weir_example: the example operator plugin (docs/plugins.md). Two functions:
//   mask_email     params {"field": NAME}: the input schema, with that string field masked
//                  ("alice@example.com" -> "a****@example.com"); a value without '@' is
//                  a bad record (dead letter); null stays null.
//   explode_words  params {"field": NAME, "as": "word"}: the input fields, then `as`
//                  (string); one output row per whitespace-separated word of the field,
//                  none for a null or blank value.
// Written in C++ behind the C ABI: every entry point catches everything, since an
// exception must never cross into the engine.

#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "weir_plugin.h"

namespace {

void fail(weir_error* err, const std::string& message) {
  std::snprintf(err->message, WEIR_ERROR_CAPACITY, "%s", message.c_str());
}

/// The string param `name` of the params JSON; "" with a message in err when missing.
bool stringParam(const char* paramsJson, const char* name, const char* fallback, std::string& value,
                 weir_error* err) {
  const auto j = nlohmann::json::parse(paramsJson, nullptr, false);
  if (!j.is_object()) return fail(err, "params must be an object"), false;
  auto it = j.find(name);
  if (it == j.end()) {
    if (fallback) return value = fallback, true;
    return fail(err, std::string("params.") + name + " is required"), false;
  }
  if (!it->is_string() || it->get<std::string>().empty())
    return fail(err, std::string("params.") + name + " must be a non-empty string"), false;
  value = it->get<std::string>();
  return true;
}

/// Index of the string field `name` in `input`, or -1 with a message in err.
int stringField(const weir_schema* input, const std::string& name, weir_error* err) {
  for (size_t i = 0; i < input->num_fields; ++i)
    if (name == input->fields[i].name) {
      if (input->fields[i].type != WEIR_STRING) return fail(err, "params.field: '" + name + "' is not a string"), -1;
      return static_cast<int>(i);
    }
  fail(err, "params.field: the input has no field '" + name + "'");
  return -1;
}

std::string_view cell(const weir_column& c, size_t row) {
  return {c.chars + c.offsets[row], c.offsets[row + 1] - c.offsets[row]};
}

// ---- mask_email ----

struct MaskState {
  int field = -1;
  size_t columns = 0;
  std::string buffer;
};

int maskSchema(const weir_schema* input, const char* params, const weir_schema_out* out, weir_error* err) {
  try {
    std::string field;
    if (!stringParam(params, "field", nullptr, field, err) || stringField(input, field, err) < 0) return 1;
    for (size_t i = 0; i < input->num_fields; ++i) out->add_field(out->host, input->fields[i].name, input->fields[i].type);
    return 0;
  } catch (...) {
    return fail(err, "mask_email: unexpected error"), 1;
  }
}

void* maskCreate(const weir_schema* input, const char* params, weir_error* err) {
  try {
    std::string field;
    if (!stringParam(params, "field", nullptr, field, err)) return nullptr;
    auto* s = new MaskState;
    s->field = stringField(input, field, err);
    s->columns = input->num_fields;
    if (s->field < 0) return delete s, nullptr;
    return s;
  } catch (...) {
    return fail(err, "mask_email: unexpected error"), nullptr;
  }
}

void maskDestroy(void* state) { delete static_cast<MaskState*>(state); }

int maskProcess(void* state, const weir_batch* batch, const weir_emitter* out, weir_error* err) {
  try {
    auto* s = static_cast<MaskState*>(state);
    const weir_column& c = batch->columns[s->field];
    for (uint32_t row = 0; row < batch->num_rows; ++row) {
      std::string_view v = cell(c, row);
      const bool present = c.validity[row] != 0;
      const size_t at = v.find('@');
      if (present && (at == std::string_view::npos || at == 0)) {
        out->reject(out->host, row, ("'" + std::string(v) + "' is not an email address").c_str());
        continue;
      }
      for (uint32_t col = 0; col < s->columns; ++col) {
        if (static_cast<int>(col) != s->field) {
          out->append_input(out->host, col, col, row);
        } else if (!present) {
          out->append_null(out->host, col);
        } else {
          s->buffer.assign(v.substr(0, 1));
          s->buffer.append(at - 1, '*');
          s->buffer.append(v.substr(at));
          out->append_string(out->host, col, s->buffer.data(), s->buffer.size());
        }
      }
      out->end_row(out->host, row);
    }
    return 0;
  } catch (...) {
    return fail(err, "mask_email: unexpected error"), 1;
  }
}

// ---- explode_words ----

struct ExplodeState {
  int field = -1;
  size_t columns = 0;
};

int explodeSchema(const weir_schema* input, const char* params, const weir_schema_out* out, weir_error* err) {
  try {
    std::string field, as;
    if (!stringParam(params, "field", nullptr, field, err) || stringField(input, field, err) < 0 ||
        !stringParam(params, "as", "word", as, err))
      return 1;
    for (size_t i = 0; i < input->num_fields; ++i) {
      if (as == input->fields[i].name) return fail(err, "params.as: the input already has a field '" + as + "'"), 1;
      out->add_field(out->host, input->fields[i].name, input->fields[i].type);
    }
    out->add_field(out->host, as.c_str(), WEIR_STRING);
    return 0;
  } catch (...) {
    return fail(err, "explode_words: unexpected error"), 1;
  }
}

void* explodeCreate(const weir_schema* input, const char* params, weir_error* err) {
  try {
    std::string field;
    if (!stringParam(params, "field", nullptr, field, err)) return nullptr;
    auto* s = new ExplodeState;
    s->field = stringField(input, field, err);
    s->columns = input->num_fields;
    if (s->field < 0) return delete s, nullptr;
    return s;
  } catch (...) {
    return fail(err, "explode_words: unexpected error"), nullptr;
  }
}

void explodeDestroy(void* state) { delete static_cast<ExplodeState*>(state); }

int explodeProcess(void* state, const weir_batch* batch, const weir_emitter* out, weir_error* err) {
  try {
    auto* s = static_cast<ExplodeState*>(state);
    const weir_column& c = batch->columns[s->field];
    const auto n = static_cast<uint32_t>(s->columns);
    for (uint32_t row = 0; row < batch->num_rows; ++row) {
      if (!c.validity[row]) continue;
      const std::string_view v = cell(c, row);
      size_t i = 0;
      while (i < v.size()) {
        while (i < v.size() && std::strchr(" \t\r\n", v[i]) && v[i]) ++i;
        size_t j = i;
        while (j < v.size() && !std::strchr(" \t\r\n", v[j])) ++j;
        if (j > i) {
          for (uint32_t col = 0; col < n; ++col) out->append_input(out->host, col, col, row);
          out->append_string(out->host, n, v.data() + i, j - i);
          out->end_row(out->host, row);
        }
        i = j;
      }
    }
    return 0;
  } catch (...) {
    return fail(err, "explode_words: unexpected error"), 1;
  }
}

const weir_function kFunctions[] = {
    {"mask_email",
     "Masks an email address: params {\"field\": NAME} (a string field). Output: the input "
     "schema, the field's local part replaced by its first letter and stars; a value "
     "without '@' is a bad record.",
     maskSchema, maskCreate, maskDestroy, maskProcess},
    {"explode_words",
     "One output row per whitespace-separated word of a string field: params {\"field\": "
     "NAME, \"as\": \"word\"}. Output: the input fields, then `as` (string).",
     explodeSchema, explodeCreate, explodeDestroy, explodeProcess},
};

const weir_plugin kPlugin = {WEIR_PLUGIN_ABI_VERSION, "weir_example", "1.0.0",
                             sizeof kFunctions / sizeof kFunctions[0], kFunctions};

}  // namespace

extern "C" WEIR_PLUGIN_EXPORT const weir_plugin* weir_plugin_v1(void) { return &kPlugin; }
