// SPDX-License-Identifier: MIT
#include "jsonhighlighter.h"

#include "tones.h"

#include <QColor>
#include <QTextCharFormat>

namespace outbox::ui {

void JsonHighlighter::highlightBlock(const QString &text)
{
    if (text.size() > 10000) // a very long line: not worth colouring
        return;
    QTextCharFormat key, string, number, literal;
    key.setForeground(toneColour(Tone::JsonKey));
    string.setForeground(toneColour(Tone::JsonString));
    number.setForeground(toneColour(Tone::JsonNumber));
    literal.setForeground(toneColour(Tone::JsonLiteral));
    const qsizetype n = text.size();
    for (qsizetype i = 0; i < n;) {
        const QChar c = text.at(i);
        if (c == QLatin1Char('"')) {
            qsizetype j = i + 1;
            while (j < n && text.at(j) != QLatin1Char('"'))
                j += text.at(j) == QLatin1Char('\\') ? 2 : 1;
            j = qMin(j + 1, n);
            qsizetype k = j;
            while (k < n && text.at(k).isSpace())
                ++k;
            setFormat(int(i), int(j - i), k < n && text.at(k) == QLatin1Char(':') ? key : string);
            i = j;
        } else if (c.isDigit() || c == QLatin1Char('-')) {
            qsizetype j = i + 1;
            while (j < n && (text.at(j).isDigit() || QStringLiteral(".eE+-").contains(text.at(j))))
                ++j;
            setFormat(int(i), int(j - i), number);
            i = j;
        } else if (c.isLetter()) {
            qsizetype j = i;
            while (j < n && text.at(j).isLetter())
                ++j;
            const QStringView word = QStringView(text).mid(i, j - i);
            if (word == QLatin1String("true") || word == QLatin1String("false") || word == QLatin1String("null"))
                setFormat(int(i), int(j - i), literal);
            i = j;
        } else {
            ++i;
        }
    }
}

} // namespace outbox::ui
