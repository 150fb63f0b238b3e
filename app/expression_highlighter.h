#pragma once
// ExpressionHighlighter: syntax colouring of the expression language (DESIGN.md §4) in a QML
// TextArea/TextEdit (its textDocument), plus a wavy underline under the span the engine's
// compile error points at. The colours are properties so the theme decides them.
//
//   TextArea { id: area; ExpressionHighlighter { document: area.textDocument; errorStart: ... } }

#include <QColor>
#include <QObject>
#include <QQuickTextDocument>
#include <QSyntaxHighlighter>
#include <QtQml/qqmlregistration.h>

#include <QPointer>

class ExpressionHighlighter : public QObject {
  Q_OBJECT
  QML_ELEMENT
  Q_PROPERTY(QQuickTextDocument* document READ document WRITE setDocument NOTIFY documentChanged FINAL)
  /// The error span in characters (start -1: none).
  Q_PROPERTY(int errorStart READ errorStart WRITE setErrorStart NOTIFY errorChanged FINAL)
  Q_PROPERTY(int errorLength READ errorLength WRITE setErrorLength NOTIFY errorChanged FINAL)
  Q_PROPERTY(QColor keywordColor MEMBER keywordColor_ NOTIFY colorsChanged FINAL)
  Q_PROPERTY(QColor stringColor MEMBER stringColor_ NOTIFY colorsChanged FINAL)
  Q_PROPERTY(QColor numberColor MEMBER numberColor_ NOTIFY colorsChanged FINAL)
  Q_PROPERTY(QColor functionColor MEMBER functionColor_ NOTIFY colorsChanged FINAL)
  Q_PROPERTY(QColor errorColor MEMBER errorColor_ NOTIFY colorsChanged FINAL)

 public:
  explicit ExpressionHighlighter(QObject* parent = nullptr);
  ~ExpressionHighlighter() override;

  QQuickTextDocument* document() const { return document_; }
  void setDocument(QQuickTextDocument* d);
  int errorStart() const { return errorStart_; }
  void setErrorStart(int s);
  int errorLength() const { return errorLength_; }
  void setErrorLength(int n);

  /// The token classes of `text` as [start, length, class] triples (class: keyword, string,
  /// number, function, field, operator); what the colouring uses, for tests.
  Q_INVOKABLE static QVariantList tokens(const QString& text);

 signals:
  void documentChanged();
  void errorChanged();
  void colorsChanged();

 private:
  class Impl;
  friend class Impl;
  void rehighlight();
  QQuickTextDocument* document_ = nullptr;
  QPointer<QSyntaxHighlighter> impl_;  // parented to the text document
  bool rehighlightQueued_ = false;
  int errorStart_ = -1;
  int errorLength_ = 0;
  QColor keywordColor_{"#7c3aed"};
  QColor stringColor_{"#15803d"};
  QColor numberColor_{"#b45309"};
  QColor functionColor_{"#1d4ed8"};
  QColor errorColor_{"#dc2626"};
};
