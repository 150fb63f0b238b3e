/* weir_plugin.h: the plugin SDK of Weir's `udf` operator (docs/plugins.md).
 *
 * A plugin is a shared library exporting one C function, weir_plugin_v1(), which returns
 * a static table: the plugin's name and version and its functions. Only plain C types
 * cross the boundary (no C++ standard library types, no exceptions), so a plugin may be
 * written in C, C++ or anything that exports a C symbol, and built with another compiler.
 *
 * Contract of a function (weir_function), in the order the engine calls it:
 *   output_schema(input, params, out, err)
 *       at validation (`weir validate`, the workbench, job submission) and again when a
 *       subtask starts: add the output fields to `out` with out->add_field, or write a
 *       message to `err` and return nonzero ("no field 'email'"). Pure: no state.
 *   create(input, params, err) -> state
 *       once per subtask (parallel instance), before its first batch; NULL with a
 *       message in `err` refuses to start (the job fails naming the node). Functions that
 *       keep no state return any non-NULL pointer (e.g. a static one).
 *   process(state, batch, out, err)
 *       once per input batch: read the columns of `batch`, write output rows through `out`
 *       (append one value to every output column, then end_row naming the input row the
 *       output row comes from; 0..n output rows per input row). A bad input record is
 *       reported with out->reject(row, reason): it goes to the job's dead-letter file,
 *       naming the node, and the batch goes on. Returning nonzero with a message in
 *       `err` fails the job (use it for "cannot go on", not for one bad record).
 *   destroy(state)
 *       once per successful create, also after a failure.
 *
 * Threading: the calls on one state come from one thread at a time (the subtask's);
 * different states (subtasks) run on different threads at once, so global mutable data
 * needs a lock. output_schema may run on any thread.
 *
 * Memory: every pointer the engine passes is valid only during the call; copy what you
 * keep. Strings are UTF-8, not NUL-terminated where a length is given. The table and the
 * strings in it must stay valid while the library is loaded (make them static).
 *
 * Plugins run inside the engine's process: a crash (null dereference, abort, an escaping
 * C++ exception) ends the process with every subtask in it. Catch everything at the
 * boundary; load only plugins you trust.
 */
#ifndef WEIR_PLUGIN_H
#define WEIR_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The ABI version this header describes. The engine loads a plugin only when its table's
 * abi_version equals the engine's; a change of any struct below means a new version
 * (and a new entry point, weir_plugin_v2). */
#define WEIR_PLUGIN_ABI_VERSION 1

#if defined(_WIN32)
#define WEIR_PLUGIN_EXPORT __declspec(dllexport)
#else
#define WEIR_PLUGIN_EXPORT __attribute__((visibility("default")))
#endif

/* Field types, as the job file spells them (DESIGN.md §3). */
typedef enum weir_type {
  WEIR_INT64 = 0,
  WEIR_DOUBLE = 1,
  WEIR_STRING = 2,
  WEIR_BOOL = 3,
  WEIR_TIMESTAMP = 4 /* int64 milliseconds since the epoch, UTC */
} weir_type;

typedef struct weir_field {
  const char* name; /* NUL-terminated */
  int32_t type;     /* weir_type */
} weir_field;

typedef struct weir_schema {
  const weir_field* fields;
  size_t num_fields;
} weir_schema;

/* One column of a batch, mirroring the engine's own layout (no copy is made):
 *   validity   one byte per row, 1 = value present, 0 = null
 *   INT64, TIMESTAMP   ints[row]
 *   DOUBLE             doubles[row]
 *   BOOL               bools[row], 0 or 1
 *   STRING             chars + offsets[row], length offsets[row + 1] - offsets[row]
 * The arrays of other types are NULL. A null row still has a slot (zero or empty). */
typedef struct weir_column {
  int32_t type; /* weir_type */
  const uint8_t* validity;
  const int64_t* ints;
  const double* doubles;
  const uint8_t* bools;
  const uint32_t* offsets;
  const char* chars;
} weir_column;

typedef struct weir_batch {
  size_t num_rows;
  size_t num_columns; /* as the input schema */
  const weir_column* columns;
} weir_batch;

/* Where output_schema puts the output fields (in order). */
typedef struct weir_schema_out {
  void* host;
  void (*add_field)(void* host, const char* name, int32_t type);
} weir_schema_out;

/* Where process writes its output rows. Per row: exactly one append_* per output column,
 * in any order, then end_row. Appending a value of the wrong type, or ending a row with a
 * column missing, fails the job with a message naming the column. The output row gets
 * the event time and row kind of `input_row` (docs/plugins.md, "Event time and row
 * kinds"). */
typedef struct weir_emitter {
  void* host;
  void (*append_null)(void* host, uint32_t column);
  void (*append_int64)(void* host, uint32_t column, int64_t value); /* INT64 and TIMESTAMP */
  void (*append_double)(void* host, uint32_t column, double value);
  void (*append_bool)(void* host, uint32_t column, int value);
  void (*append_string)(void* host, uint32_t column, const char* data, size_t length);
  /* Copies row `input_row` of input column `input_column` (same type) into `column`. */
  void (*append_input)(void* host, uint32_t column, uint32_t input_column, uint32_t input_row);
  void (*end_row)(void* host, uint32_t input_row);
  /* Input row `input_row` is a bad record: written to the dead-letter file. */
  void (*reject)(void* host, uint32_t input_row, const char* reason);
} weir_emitter;

/* An error message, written by the plugin (truncate to fit). */
#define WEIR_ERROR_CAPACITY 512
typedef struct weir_error {
  char message[WEIR_ERROR_CAPACITY];
} weir_error;

typedef struct weir_function {
  const char* name; /* as the job's `function` param names it */
  const char* doc;  /* one paragraph: what it does, its params, its output */
  /* params_json: the node's `params` object as JSON text ("{}" when absent). */
  int (*output_schema)(const weir_schema* input, const char* params_json,
                       const weir_schema_out* out, weir_error* err);
  void* (*create)(const weir_schema* input, const char* params_json, weir_error* err);
  void (*destroy)(void* state);
  int (*process)(void* state, const weir_batch* batch, const weir_emitter* out,
                 weir_error* err);
} weir_function;

typedef struct weir_plugin {
  uint32_t abi_version; /* WEIR_PLUGIN_ABI_VERSION */
  const char* name;     /* "weir_example" */
  const char* version;  /* the plugin's own version, "1.0.0" */
  size_t num_functions;
  const weir_function* functions;
} weir_plugin;

/* The one symbol the engine looks up. */
typedef const weir_plugin* (*weir_plugin_entry)(void);
#define WEIR_PLUGIN_ENTRY "weir_plugin_v1"

#ifdef __cplusplus
}
#endif

#endif /* WEIR_PLUGIN_H */
