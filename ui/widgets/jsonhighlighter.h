// SPDX-License-Identifier: MIT
#pragma once

#include <QSyntaxHighlighter>

namespace outbox::ui {

// Colours JSON: keys, strings, numbers, true/false/null. Harmless on text that is not JSON.
class JsonHighlighter : public QSyntaxHighlighter
{
public:
    using QSyntaxHighlighter::QSyntaxHighlighter;

protected:
    void highlightBlock(const QString &text) override;
};

} // namespace outbox::ui
