#pragma once
// Edits as undo commands. An EditCommand is a list of primitive steps on the job graph
// (insert/remove/replace a node or an edge, replace the job's own fields); redo applies
// them in order, undo applies their inverses in reverse order. An EditBuilder records the
// steps of one edit against a scratch copy of the graph, so each step's row is right for
// the state it is applied to.

#include <QString>
#include <QUndoCommand>

#include <vector>

#include "core/job.h"

class JobDocument;

namespace wb {

struct EditStep {
  enum Kind { InsertNode, RemoveNode, ReplaceNode, InsertEdge, RemoveEdge, ReplaceEdge, ReplaceJobFields };
  Kind kind = ReplaceNode;
  int row = -1;
  weir::JobNode node, oldNode;   // Insert: node; Remove: oldNode; Replace: both
  weir::JobEdge edge, oldEdge;
  int edgeId = 0;
  weir::JobGraph fields, oldFields;  // ReplaceJobFields: the job without nodes and edges
};

/// The job-level fields of `job` (everything but nodes and edges).
weir::JobGraph jobFields(const weir::JobGraph& job);
/// Copies the job-level fields of `from` into `to`, keeping to's nodes and edges.
void setJobFields(weir::JobGraph& to, const weir::JobGraph& from);

class EditBuilder {
 public:
  explicit EditBuilder(JobDocument& doc);

  /// row -1: at the end. Returns the row.
  int insertNode(int row, weir::JobNode n);
  void removeNode(int row);
  void replaceNode(int row, weir::JobNode n);
  /// id 0: a new edge id. Returns the row.
  int insertEdge(int row, weir::JobEdge e, int id = 0);
  void removeEdge(int row);
  void replaceEdge(int row, weir::JobEdge e);
  void replaceFields(const weir::JobGraph& fields);

  const std::vector<weir::JobNode>& nodes() const { return nodes_; }
  const std::vector<weir::JobEdge>& edges() const { return edges_; }
  bool empty() const { return steps_.empty(); }
  std::vector<EditStep> take() { return std::move(steps_); }

 private:
  JobDocument& doc_;
  std::vector<weir::JobNode> nodes_;
  std::vector<weir::JobEdge> edges_;
  std::vector<int> edgeIds_;
  std::vector<EditStep> steps_;
};

class EditCommand : public QUndoCommand {
 public:
  /// `mergeKey` non-empty: consecutive commands with the same key (one param edited step
  /// by step, a node nudged) merge into one undo step.
  EditCommand(JobDocument* doc, const QString& text, std::vector<EditStep> steps,
              QString mergeKey = {});
  void redo() override;
  void undo() override;
  int id() const override { return mergeKey_.isEmpty() ? -1 : 1; }
  bool mergeWith(const QUndoCommand* other) override;

 private:
  JobDocument* doc_;
  std::vector<EditStep> steps_;
  QString mergeKey_;
};

}  // namespace wb
