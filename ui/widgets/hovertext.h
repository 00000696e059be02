// SPDX-License-Identifier: MIT
#pragma once

// Widget helpers for text that may not fit (textutil.h is text only, also built into the fuzzers without Widgets).

#include <QString>

class QAbstractItemView;
class QLabel;
class QWidget;

namespace outbox::ui {

// The width a line edit needs to show `text` whole (its placeholder), with its frame and clear button.
int fittingWidth(const QWidget *field, const QString &text);
// A cell of `view` whose text is cut ("…") shows the whole text when the pointer rests on it (unless the model
// gives a tooltip of its own).
void showCutTextOnHover(QAbstractItemView *view);
// The same for a one-line label that may be narrower than its text (when it has no tooltip of its own).
void showCutTextOnHover(QLabel *label);

} // namespace outbox::ui
