#include "expression_highlighter.h"

#include <QSet>
#include <QTextDocument>

namespace {

const QSet<QString> kKeywords = {"AND", "OR", "NOT", "IS", "NULL", "IN", "BETWEEN", "LIKE", "CASE",
                                 "WHEN", "THEN", "ELSE", "END", "CAST", "AS", "TRUE", "FALSE"};
const QSet<QString> kFunctions = {"abs", "floor", "ceil", "round", "lower", "upper", "length",
                                  "substr", "concat", "coalesce", "if"};

struct Token {
  int start, length;
  const char* kind;
};

std::vector<Token> lex(const QString& t) {
  std::vector<Token> out;
  const int n = static_cast<int>(t.size());
  int i = 0;
  while (i < n) {
    QChar c = t[i];
    if (c.isSpace()) {
      ++i;
    } else if (c == '\'' || c == '"') {  // 'text' with '' for a quote; "quoted name"
      int j = i + 1;
      while (j < n) {
        if (t[j] == c) {
          if (j + 1 < n && t[j + 1] == c) {
            j += 2;
            continue;
          }
          ++j;
          break;
        }
        ++j;
      }
      out.push_back({i, j - i, c == '\'' ? "string" : "field"});
      i = j;
    } else if (c.isDigit() || (c == '.' && i + 1 < n && t[i + 1].isDigit())) {
      int j = i;
      while (j < n && (t[j].isDigit() || t[j] == '.' || t[j] == 'e' || t[j] == 'E')) ++j;
      out.push_back({i, j - i, "number"});
      i = j;
    } else if (c.isLetter() || c == '_') {
      int j = i;
      while (j < n && (t[j].isLetterOrNumber() || t[j] == '_')) ++j;
      const QString word = t.mid(i, j - i);
      int k = j;
      while (k < n && t[k].isSpace()) ++k;
      const char* kind = kKeywords.contains(word.toUpper())                               ? "keyword"
                         : (k < n && t[k] == '(' && kFunctions.contains(word.toLower())) ? "function"
                                                                                          : "field";
      out.push_back({i, j - i, kind});
      i = j;
    } else {
      out.push_back({i, 1, "operator"});
      ++i;
    }
  }
  return out;
}

}  // namespace

class ExpressionHighlighter::Impl : public QSyntaxHighlighter {
 public:
  Impl(ExpressionHighlighter* owner, QTextDocument* doc) : QSyntaxHighlighter(doc), owner_(owner) {}

 protected:
  void highlightBlock(const QString& text) override {
    const int base = currentBlock().position();
    for (const Token& t : lex(text)) {
      QTextCharFormat f;
      const QString kind = QString::fromLatin1(t.kind);
      if (kind == "keyword") {
        f.setForeground(owner_->keywordColor_);
        f.setFontWeight(QFont::DemiBold);
      } else if (kind == "string") {
        f.setForeground(owner_->stringColor_);
      } else if (kind == "number") {
        f.setForeground(owner_->numberColor_);
      } else if (kind == "function") {
        f.setForeground(owner_->functionColor_);
      } else {
        continue;
      }
      setFormat(t.start, t.length, f);
    }
    const int es = owner_->errorStart_ - base, el = std::max(1, owner_->errorLength_);
    if (owner_->errorStart_ >= 0 && es < text.size() + 1 && es + el > 0) {
      const int from = std::max(0, es);
      const int len = std::min<int>(static_cast<int>(text.size()), es + el) - from;
      for (int i = from; i < from + std::max(len, 0); ++i) {
        // Qt Quick's text draws a plain underline and backgrounds, not waves: mark the span
        // with both.
        QTextCharFormat f = format(i);
        f.setFontUnderline(true);
        f.setUnderlineColor(owner_->errorColor_);
        f.setForeground(owner_->errorColor_);
        QColor bg = owner_->errorColor_;
        bg.setAlpha(40);
        f.setBackground(bg);
        setFormat(i, 1, f);
      }
    }
  }

 private:
  ExpressionHighlighter* owner_;
};

ExpressionHighlighter::ExpressionHighlighter(QObject* parent) : QObject(parent) {
  connect(this, &ExpressionHighlighter::colorsChanged, this, &ExpressionHighlighter::rehighlight);
}

ExpressionHighlighter::~ExpressionHighlighter() { delete impl_.data(); }

void ExpressionHighlighter::setDocument(QQuickTextDocument* d) {
  if (d == document_) return;
  document_ = d;
  delete impl_.data();
  impl_ = nullptr;
  if (d && d->textDocument()) impl_ = new Impl(this, d->textDocument());
  emit documentChanged();
}

void ExpressionHighlighter::setErrorStart(int s) {
  if (s == errorStart_) return;
  errorStart_ = s;
  emit errorChanged();
  rehighlight();
}

void ExpressionHighlighter::setErrorLength(int n) {
  if (n == errorLength_) return;
  errorLength_ = n;
  emit errorChanged();
  rehighlight();
}

void ExpressionHighlighter::rehighlight() {
  // Later, once: re-formatting the document from inside a binding that reacts to its text
  // would loop (the text item reports the formatting as a change).
  if (rehighlightQueued_) return;
  rehighlightQueued_ = true;
  QMetaObject::invokeMethod(this, [this] {
    rehighlightQueued_ = false;
    if (impl_) impl_->rehighlight();
  }, Qt::QueuedConnection);
}

QVariantList ExpressionHighlighter::tokens(const QString& text) {
  QVariantList out;
  for (const Token& t : lex(text)) out << QVariant(QVariantList{t.start, t.length, QString::fromLatin1(t.kind)});
  return out;
}
