#pragma once
// Rows as snapshot bytes (runtime/state/snapshot_io.h byte order): what a sink keeps of the
// records it staged for a checkpoint (sink.sqlite keeps them in its operator state until
// the checkpoint's commit).
//
// Format: the schema (u32 fields, then per field str name, u8 type), u32 rows, then per row
// u8 row kind, i64 event time and per field u8 present (0: null) and the value: i64 for
// int64 and timestamp, f64 for double (bit for bit: -0.0 and NaN payloads survive), u8 for
// bool, str for string. readRows checks everything it reads and throws SnapshotError.

#include "core/batch.h"
#include "runtime/state/snapshot_io.h"

namespace weir {

/// Writes `schema` and every row of `batches` (each of that schema).
void writeRows(const Schema& schema, const std::vector<RecordBatch>& batches, ByteWriter& out);
/// Reads what writeRows wrote into one batch of `schema`; throws SnapshotError when the
/// bytes are bad or were written for another schema (field names and types).
RecordBatch readRows(const SchemaPtr& schema, ByteReader& in);

}  // namespace weir
