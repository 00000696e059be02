// SPDX-License-Identifier: MIT
#include "jsontext.h"

#include <QChar>

namespace outbox {

// Re-indents JSON text without parsing its values, so numbers keep every digit they were written with.
// Nesting deeper than 32 levels is left on one line.
QString indentJson(const QByteArray &json, int width, int baseDepth)
{
    QByteArray out;
    out.reserve(json.size() * 2);
    int depth = 0;
    bool inString = false;
    bool escaped = false;
    auto newline = [&](int level) {
        out += '\n';
        out += QByteArray((qBound(0, level, 32) + baseDepth) * width, ' ');
    };
    for (qsizetype i = 0; i < json.size(); ++i) {
        const char c = json.at(i);
        if (inString) {
            out += c;
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                inString = false;
            continue;
        }
        switch (c) {
        case '"':
            inString = true;
            out += c;
            break;
        case '{':
        case '[': {
            out += c;
            ++depth;
            // An empty object or array stays on one line.
            qsizetype j = i + 1;
            while (j < json.size() && QChar::isSpace(uchar(json.at(j))))
                ++j;
            if (j < json.size() && (json.at(j) == '}' || json.at(j) == ']')) {
                out += json.at(j);
                --depth;
                i = j;
            } else if (depth <= 32) {
                newline(depth);
            }
            break;
        }
        case '}':
        case ']':
            --depth;
            if (depth < 32)
                newline(depth);
            out += c;
            break;
        case ',':
            out += c;
            if (depth <= 32)
                newline(depth);
            break;
        case ':':
            out += ": ";
            break;
        case ' ':
        case '\t':
        case '\n':
        case '\r':
            break;
        default:
            out += c;
        }
    }
    return QString::fromUtf8(out);
}

QByteArray compactJson(const QByteArray &json)
{
    QByteArray out;
    out.reserve(json.size());
    bool inString = false, escaped = false;
    for (const char c : json) {
        if (inString) {
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                inString = false;
            out += c;
        } else if (c == '"') {
            inString = true;
            out += c;
        } else if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
            out += c;
        }
    }
    return out;
}

QByteArray escapeC1Controls(const QByteArray &json)
{
    // U+0080-U+009F in UTF-8: 0xC2 0x80-0x9F.
    if (!json.contains('\xc2'))
        return json;
    QByteArray out;
    out.reserve(json.size() + 16);
    for (qsizetype i = 0; i < json.size(); ++i) {
        const uchar c = uchar(json.at(i));
        if (c == 0xc2 && i + 1 < json.size() && uchar(json.at(i + 1)) >= 0x80 && uchar(json.at(i + 1)) <= 0x9f) {
            out += "\\u00" + QByteArray::number(uchar(json.at(i + 1)), 16);
            ++i;
        } else {
            out += char(c);
        }
    }
    return out;
}

} // namespace outbox
