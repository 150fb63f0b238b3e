#include "edit_command.h"

#include "job_document.h"

namespace wb {

weir::JobGraph jobFields(const weir::JobGraph& job) {
  weir::JobGraph f;
  setJobFields(f, job);
  return f;
}

void setJobFields(weir::JobGraph& to, const weir::JobGraph& from) {
  to.version = from.version;
  to.name = from.name;
  to.description = from.description;
  to.mode = from.mode;
  to.parallelism = from.parallelism;
  to.onBadRecord = from.onBadRecord;
  to.deadLetter = from.deadLetter;
  to.checkpoint = from.checkpoint;
  to.restart = from.restart;
  to.unread = from.unread;
  to.present = from.present;
  to.baseDir = from.baseDir;
}

EditBuilder::EditBuilder(JobDocument& doc)
    : doc_(doc), nodes_(doc.job().nodes), edges_(doc.job().edges), edgeIds_(doc.edgeIdList()) {}

int EditBuilder::insertNode(int row, weir::JobNode n) {
  if (row < 0 || row > static_cast<int>(nodes_.size())) row = static_cast<int>(nodes_.size());
  EditStep s;
  s.kind = EditStep::InsertNode;
  s.row = row;
  s.node = n;
  nodes_.insert(nodes_.begin() + row, std::move(n));
  steps_.push_back(std::move(s));
  return row;
}

void EditBuilder::removeNode(int row) {
  EditStep s;
  s.kind = EditStep::RemoveNode;
  s.row = row;
  s.oldNode = nodes_.at(static_cast<std::size_t>(row));
  nodes_.erase(nodes_.begin() + row);
  steps_.push_back(std::move(s));
}

void EditBuilder::replaceNode(int row, weir::JobNode n) {
  weir::JobNode& cur = nodes_.at(static_cast<std::size_t>(row));
  if (cur == n) return;
  EditStep s;
  s.kind = EditStep::ReplaceNode;
  s.row = row;
  s.oldNode = cur;
  s.node = n;
  cur = std::move(n);
  steps_.push_back(std::move(s));
}

int EditBuilder::insertEdge(int row, weir::JobEdge e, int id) {
  if (row < 0 || row > static_cast<int>(edges_.size())) row = static_cast<int>(edges_.size());
  if (id == 0) id = doc_.allocateEdgeId();
  EditStep s;
  s.kind = EditStep::InsertEdge;
  s.row = row;
  s.edge = e;
  s.edgeId = id;
  edges_.insert(edges_.begin() + row, std::move(e));
  edgeIds_.insert(edgeIds_.begin() + row, id);
  steps_.push_back(std::move(s));
  return row;
}

void EditBuilder::removeEdge(int row) {
  EditStep s;
  s.kind = EditStep::RemoveEdge;
  s.row = row;
  s.oldEdge = edges_.at(static_cast<std::size_t>(row));
  s.edgeId = edgeIds_.at(static_cast<std::size_t>(row));
  edges_.erase(edges_.begin() + row);
  edgeIds_.erase(edgeIds_.begin() + row);
  steps_.push_back(std::move(s));
}

void EditBuilder::replaceEdge(int row, weir::JobEdge e) {
  weir::JobEdge& cur = edges_.at(static_cast<std::size_t>(row));
  if (cur == e) return;
  EditStep s;
  s.kind = EditStep::ReplaceEdge;
  s.row = row;
  s.oldEdge = cur;
  s.edge = e;
  s.edgeId = edgeIds_.at(static_cast<std::size_t>(row));
  cur = std::move(e);
  steps_.push_back(std::move(s));
}

void EditBuilder::replaceFields(const weir::JobGraph& fields) {
  EditStep s;
  s.kind = EditStep::ReplaceJobFields;
  s.oldFields = jobFields(doc_.job());
  s.fields = jobFields(fields);
  steps_.push_back(std::move(s));
}

EditCommand::EditCommand(JobDocument* doc, const QString& text, std::vector<EditStep> steps,
                         QString mergeKey)
    : QUndoCommand(text), doc_(doc), steps_(std::move(steps)), mergeKey_(std::move(mergeKey)) {}

void EditCommand::redo() {
  for (const EditStep& s : steps_) doc_->apply(s, true);
  doc_->afterEdit();
}

void EditCommand::undo() {
  for (auto it = steps_.rbegin(); it != steps_.rend(); ++it) doc_->apply(*it, false);
  doc_->afterEdit();
}

bool EditCommand::mergeWith(const QUndoCommand* other) {
  const auto* o = static_cast<const EditCommand*>(other);
  if (o->mergeKey_ != mergeKey_ || steps_.size() != 1 || o->steps_.size() != 1) return false;
  EditStep& mine = steps_.front();
  const EditStep& theirs = o->steps_.front();
  if (mine.kind == EditStep::ReplaceJobFields && theirs.kind == EditStep::ReplaceJobFields) {
    mine.fields = theirs.fields;
    return true;
  }
  if (mine.kind != EditStep::ReplaceNode || theirs.kind != EditStep::ReplaceNode ||
      mine.row != theirs.row)
    return false;
  mine.node = theirs.node;
  return true;
}

}  // namespace wb
